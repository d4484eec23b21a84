"""Write the knowledge graph's content files (seeded, reproducible).

``python -m knowledge_graph.data.generate`` writes ``incident_types.json``, ``places.json``,
``resources.json``, ``protocols.json`` and ``cases.jsonl`` beside this file. Cases are composed
from the authored scenarios in :mod:`knowledge_graph.data.variants`; the same seed gives
byte-identical files, and the committed files are what the graph loads.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from knowledge_graph.data.reference import ADJACENCY, INCIDENT_TYPES, PLACES, PROTOCOLS, RESOURCES, SRC_GAZ
from knowledge_graph.data.variants import VARIANTS

DATA_DIR = Path(__file__).resolve().parent
SEED = 20240611
CASES_PER_TYPE = 26
ABBR = {"road_closure": "rc", "traffic_accident": "ta", "hazmat_spill": "hz", "flooding": "fl", "vehicle_fire": "vf",
        "severe_weather": "sw", "power_outage": "po", "cold_chain_failure": "cc"}

CARGO = [("steel coils", "钢卷"), ("bottled water", "瓶装水"), ("timber", "木材"), ("bagged cement", "袋装水泥"),
         ("household appliances", "家电"), ("scrap paper bales", "废纸包")]
DEBRIS = [("wooden pallets", "木托盘"), ("gravel", "碎石"), ("cardboard boxes", "纸箱"), ("steel pipes", "钢管"), ("tyres", "轮胎")]
CALLERS = [("Reported by a passing truck driver.", "过往货车司机报警。"),
           ("Spotted on CCTV by the traffic control centre.", "交通指挥中心通过监控发现。"),
           ("Called in by a highway patrol.", "高速巡逻队上报。"),
           ("Reported through the 110/122 hotline by a member of the public.", "市民拨打110/122报警。"),
           ("Raised by the fleet's telematics alarm.", "车队车载监控报警。")]
WEATHER = [("dry", "晴"), ("light rain", "小雨"), ("overcast", "阴天"), ("windy", "有风"), ("hot and humid", "闷热")]
TEMP = {"vaccine_excursion": (11, 19), "road_icing": (-4, -1), "heat_wave": (37, 41), "cold_store_compressor": (-9, -3),
        "multi_drop_doors": (7, 12)}


def _slots(rng: random.Random, key: str) -> dict[str, Any]:
    cargo = rng.choice(CARGO)
    debris = rng.choice(DEBRIS)
    hh, mi = rng.randint(0, 23), rng.choice(range(0, 60, 5))
    lo, hi = TEMP.get(key, (5, 9))
    vol = rng.choice([10, 15, 20, 25, 30])
    return {
        "tod": f"{hh:02d}:{mi:02d}", "cars": rng.randint(3, 9), "lanes": rng.randint(2, 3), "inj": rng.randint(1, 6),
        "km": rng.choice([1, 2, 3, 5]), "clear": rng.randrange(25, 240, 5), "queue": round(rng.uniform(0.8, 9.0), 1),
        "cargo_en": cargo[0], "cargo_zh": cargo[1], "debris_en": debris[0], "debris_zh": debris[1],
        "m": rng.choice([2, 3, 4, 6, 15, 30, 60, 120, 350, 800]), "resp": rng.randint(8, 35), "pax": rng.randint(18, 52),
        "amb": rng.randint(3, 8), "mm": rng.randint(0, 59), "days": rng.randint(2, 9), "late": rng.randint(4, 60),
        "vol": vol, "leak": round(rng.uniform(0.3, 4.0), 1), "cyl": rng.randint(4, 12), "stop": rng.randrange(20, 150, 5),
        "rain": rng.randint(45, 110), "depth": rng.randint(25, 70), "stalled": rng.randint(1, 6), "pipe": rng.choice([300, 500, 800, 1000]),
        "water": rng.randint(10, 40), "queued": rng.randint(12, 80), "vis": rng.choice([30, 40, 60, 80, 120, 150]),
        "gust": rng.randint(9, 12), "n": rng.randint(2, 14), "hours": rng.randint(2, 9), "temp": rng.randint(lo, hi),
        "snow": rng.randint(8, 25), "sig": rng.randint(6, 30), "pts": rng.randint(2, 5), "mins": rng.randint(40, 180),
        "disc": rng.randint(0, 30), "rooms": rng.randint(3, 8), "stops": rng.randint(12, 28),
    }


def _fill(template: str, slots: dict[str, Any]) -> str:
    return template.format(**slots)


def build_cases(seed: int = SEED) -> list[dict[str, Any]]:
    """Compose ``CASES_PER_TYPE`` cases per incident type, round-robin over that type's scenarios."""
    rng = random.Random(seed)
    places = {p["id"]: p for p in PLACES}
    by_kind: dict[str, list[str]] = {}
    for p in PLACES:
        by_kind.setdefault(p["kind"], []).append(p["id"])
    cases: list[dict[str, Any]] = []
    start = date(2019, 1, 1)
    seen: set[str] = set()
    for itype in ABBR:
        variants = [v for v in VARIANTS if v["type"] == itype]
        for i in range(CASES_PER_TYPE):
            v = variants[i % len(variants)]
            pool = [pid for k in v["kinds"] for pid in by_kind.get(k, [])]
            place = places[rng.choice(pool)]
            s = _slots(rng, v["key"])
            prep = {"road": "on", "ramp": "on", "bridge": "on", "site": "at"}.get(place["kind"], "in")
            names = {"en": place["name_en"], "zh": place["name_zh"], "on_en": f"{prep} {place['name_en']}",
                     "near_en": f"near {place['name_en']}"}
            s.update(names)
            while _fill(v["summary"][0], s) in seen:  # redraw the numbers so that no two cases read the same
                s = {**_slots(rng, v["key"]), **names}
            seen.add(_fill(v["summary"][0], s))
            caller = rng.choice(CALLERS)
            weather = rng.choice(WEATHER) if itype not in ("severe_weather", "flooding") else None
            acts = list(v["actions"])
            if len(acts) > 3 and rng.random() < 0.5:
                acts.pop(rng.randrange(1, len(acts)))
            lessons = rng.sample(v["lessons"], k=min(len(v["lessons"]), rng.choice([1, 2])))
            summary_en = _fill(v["summary"][0], s) + " " + caller[0]
            summary_zh = _fill(v["summary"][1], s) + caller[1]
            if weather:
                summary_en += f" Weather: {weather[0]}."
                summary_zh += f"天气：{weather[1]}。"
            day = start + timedelta(days=rng.randint(0, 6 * 365))
            cases.append({
                "id": f"case-{ABBR[itype]}-{i + 1:03d}", "incident_type": itype, "scenario": v["key"], "date": day.isoformat(),
                "place": place["id"], "protocol": v["protocol"], "resources": v["resources"],
                "title_en": _fill(v["title"][0], s), "title_zh": _fill(v["title"][1], s),
                "summary_en": summary_en, "summary_zh": summary_zh,
                "actions_en": [_fill(a[0], s) for a in acts], "actions_zh": [_fill(a[1], s) for a in acts],
                "outcome_en": _fill(v["outcome"][0], s), "outcome_zh": _fill(v["outcome"][1], s),
                "lessons_en": [x[0] for x in lessons], "lessons_zh": [x[1] for x in lessons],
                "source": f"Synthetic composite case (Diaodu case base), grounded in {v['basis']}; not a record of a real event",
            })
    return cases


def build_places() -> list[dict[str, Any]]:
    """Places with their source and adjacency lists (undirected, sorted)."""
    adj: dict[str, set[str]] = {p["id"]: set() for p in PLACES}
    for a, b in ADJACENCY:
        adj[a].add(b)
        adj[b].add(a)
    return [{**p, "adjacent": sorted(adj[p["id"]]), "source": SRC_GAZ} for p in PLACES]


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _dump_lines(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def main(out: Path = DATA_DIR) -> None:
    """Write every content file under ``out``."""
    step_no = 0
    protocols = []
    for p in PROTOCOLS:
        steps = []
        for n, s in enumerate(p["steps"], start=1):
            step_no += 1
            steps.append({"id": f"{p['id']}-s{n}", "order": n, **s})
        protocols.append({**p, "steps": steps})
    _dump(out / "incident_types.json", INCIDENT_TYPES)
    _dump(out / "places.json", build_places())
    _dump(out / "resources.json", RESOURCES)
    _dump(out / "protocols.json", protocols)
    _dump_lines(out / "cases.jsonl", build_cases())


if __name__ == "__main__":
    main()
