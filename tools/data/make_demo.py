"""Generate the demo routing datasets (seeded): ``python -m tools.data.make_demo``.

- ``demo-city.json`` (vrptw): a depot in a logistics park and 120 named shops in six districts of
  a river city, demand in kg, time windows as clock times, service minutes, a fleet of 14 vans,
  named roads (English and Chinese, polylines in km) so later tools can close a road or name a place.
- ``demo-small.json`` (cvrp): 20 customers, for quick tests and the README's first run.

The files are committed; this script documents how they were made and regenerates them exactly.
Each customer sits on one line of the JSON file, so a loader error can name that line.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

DISTRICTS = [
    # name, Chinese name, centre (km), spread (km)
    ("Old Town", "老城区", (9.0, 9.0), 1.6),
    ("Riverside", "滨江区", (12.5, 5.0), 1.8),
    ("University Park", "大学城", (4.0, 13.0), 1.5),
    ("Harbour", "港区", (17.5, 3.5), 1.6),
    ("Tech Park", "高新区", (15.0, 12.5), 1.8),
    ("West Hills", "西山区", (3.0, 5.5), 1.7),
]

ROADS = [
    # id, name, Chinese name, polyline (km)
    ("R1", "Ring Road", "环城路", [(5.0, 5.0), (13.0, 4.0), (14.5, 9.5), (12.0, 14.0), (5.5, 13.5), (4.0, 9.0), (5.0, 5.0)]),
    ("R2", "Zhongshan Road", "中山路", [(2.0, 9.0), (9.0, 9.0), (18.0, 9.5)]),
    ("R3", "Jiefang Road", "解放路", [(9.0, 1.0), (9.0, 9.0), (9.5, 16.0)]),
    ("R4", "Riverside Avenue", "滨江大道", [(1.0, 3.0), (7.0, 4.2), (12.5, 5.0), (19.5, 2.5)]),
    ("R5", "Harbour Expressway", "港口快速路", [(19.0, 9.0), (18.0, 5.0), (17.5, 3.5), (17.0, 0.5)]),
    ("R6", "University Road", "大学路", [(1.5, 15.0), (4.0, 13.0), (9.0, 9.0)]),
    ("R7", "Science Avenue", "科技大道", [(9.5, 12.0), (15.0, 12.5), (19.0, 14.0)]),
    ("R8", "Xishan Road", "西山路", [(0.5, 6.5), (3.0, 5.5), (6.0, 7.0), (9.0, 9.0)]),
    ("R9", "Second Bridge", "二桥", [(11.0, 7.5), (12.5, 5.0), (13.5, 2.0)]),
    ("R10", "Renmin Road", "人民路", [(7.0, 11.5), (9.0, 9.0), (12.0, 6.5)]),
]

BUSINESSES = [
    ("Supermarket", "超市", (80, 220)), ("Fresh Market", "生鲜店", (60, 180)), ("Pharmacy", "药房", (10, 40)),
    ("Café", "咖啡馆", (10, 35)), ("Restaurant", "餐厅", (30, 90)), ("Bakery", "面包房", (15, 50)),
    ("Convenience Store", "便利店", (20, 70)), ("Hotel", "酒店", (50, 150)), ("Hospital Canteen", "医院食堂", (60, 160)),
    ("School Canteen", "学校食堂", (50, 140)), ("Office Pantry", "办公室茶水间", (10, 30)), ("Tea House", "茶馆", (10, 40)),
]
BRANDS = ["Hualian", "Yonghui", "Lianhua", "Jinxin", "Dongfang", "Xinhua", "Huamei", "Baixing", "Kaiyuan", "Mingzhu",
          "Tianhong", "Fuli", "Longxiang", "Ruyi", "Jiahe", "Hengda"]
WINDOWS = [("08:00", "10:00"), ("08:30", "11:00"), ("09:00", "12:00"), ("10:00", "12:00"), ("11:00", "13:30"),
           ("13:00", "15:00"), ("13:30", "16:30"), ("14:00", "17:00"), ("15:00", "18:00"), ("08:00", "17:00"),
           ("09:00", "16:00"), ("07:30", "09:30")]


def _nearest_road(x: float, y: float) -> tuple[str, float, float]:
    """(road name, distance to it, position along it in km) of the closest road."""
    best = ("", math.inf, 0.0)
    for _, name, _, pts in ROADS:
        along = 0.0
        for (ax, ay), (bx, by) in zip(pts[:-1], pts[1:], strict=True):
            dx, dy = bx - ax, by - ay
            seg = math.hypot(dx, dy)
            t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (seg * seg)))
            d = math.hypot(x - ax - t * dx, y - ay - t * dy)
            if d < best[1]:
                best = (name, d, along + t * seg)
            along += seg
    return best


def city(n: int = 120, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    customers = []
    used_names: set[str] = set()
    for cid in range(1, n + 1):
        dname, dzh, (cx, cy), spread = DISTRICTS[int(rng.choice(len(DISTRICTS), p=[0.24, 0.18, 0.14, 0.12, 0.18, 0.14]))]
        x = float(np.clip(rng.normal(cx, spread), 0.3, 19.7))
        y = float(np.clip(rng.normal(cy, spread), 0.3, 15.7))
        bname, bzh, (lo, hi) = BUSINESSES[int(rng.integers(len(BUSINESSES)))]
        brand = BRANDS[int(rng.integers(len(BRANDS)))]
        name = f"{brand} {bname}"
        k = 2
        while name in used_names:
            name = f"{brand} {bname} No.{k}"
            k += 1
        used_names.add(name)
        road, _, along = _nearest_road(x, y)
        a, b = WINDOWS[int(rng.integers(len(WINDOWS)))]
        customers.append({
            "id": cid, "name": name, "name_zh": f"{bzh}", "district": dname, "road": road,
            "address": f"{int(along * 100) + int(rng.integers(1, 9))} {road}",
            "x": round(x, 3), "y": round(y, 3), "demand": int(rng.integers(lo, hi + 1)),
            "window": [a, b], "service_min": int(rng.choice([5, 8, 10, 12, 15, 20])),
        })
    return {
        "name": "demo-city",
        "kind": "vrptw",
        "description": "A day of deliveries from the Beigang logistics park to 120 shops in a river city "
                       "(fictional, seeded; python -m tools.data.make_demo).",
        "city": "Jiangcheng (江城)",
        "units": {"distance": "km", "time": "min", "demand": "kg"},
        "coordinates": "km on a 20 x 16 km grid (x east, y north)",
        "speed_kmh": 30,
        "detour_factor": 1.3,
        "shift": {"start": "07:00", "end": "19:00"},
        "depot": {"name": "Beigang Logistics Park", "name_zh": "北港物流园", "x": 10.5, "y": 0.8,
                  "district": "Riverside", "road": "Jiefang Road"},
        "fleet": {"vehicles": 14, "capacity": 800, "names": [f"Van {i:02d}" for i in range(1, 15)]},
        "districts": [{"name": d, "name_zh": zh, "center": list(c), "radius_km": s} for d, zh, c, s in DISTRICTS],
        "roads": [{"id": rid, "name": name, "name_zh": zh, "points": [list(p) for p in pts]}
                  for rid, name, zh, pts in ROADS],
        "customers": customers,
    }


def small(n: int = 20, seed: int = 3) -> dict:
    rng = np.random.default_rng(seed)
    customers = []
    for cid in range(1, n + 1):
        dname, _, (cx, cy), spread = DISTRICTS[int(rng.integers(len(DISTRICTS)))]
        x = float(np.clip(rng.normal(cx, spread), 0.3, 19.7))
        y = float(np.clip(rng.normal(cy, spread), 0.3, 15.7))
        customers.append({"id": cid, "name": f"Shop {cid}", "district": dname, "x": round(x, 3), "y": round(y, 3),
                          "demand": int(rng.integers(5, 41))})
    return {
        "name": "demo-small", "kind": "cvrp",
        "description": "20 shops and one depot, capacities only (quick tests and first runs).",
        "units": {"distance": "km", "demand": "crates"}, "detour_factor": 1.3,
        "depot": {"name": "Beigang Logistics Park", "x": 10.5, "y": 0.8, "district": "Riverside"},
        "fleet": {"vehicles": 4, "capacity": 150},
        "districts": [{"name": d, "name_zh": zh, "center": list(c), "radius_km": s} for d, zh, c, s in DISTRICTS],
        "customers": customers,
    }


def dump(data: dict) -> str:
    """JSON with one customer per line (so loader errors can name the line)."""
    head = {k: v for k, v in data.items() if k != "customers"}
    text = json.dumps(head, ensure_ascii=False, indent=2)[:-2]
    lines = ",\n".join("    " + json.dumps(c, ensure_ascii=False) for c in data["customers"])
    return f'{text},\n  "customers": [\n{lines}\n  ]\n}}\n'


def main() -> None:
    for data in (city(), small()):
        (HERE / f"{data['name']}.json").write_text(dump(data), encoding="utf-8")


if __name__ == "__main__":
    main()
