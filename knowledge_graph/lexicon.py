"""A bilingual keyword lexicon for inferring the incident type of a dispatcher's message.

MiniLM understands little Chinese, so the type of a Chinese query comes mostly from these
cue words (plus the vote of the retrieved cases). English cues match whole words (with a
simple prefix rule so "leak" covers "leaking"); Chinese cues match as substrings.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

# type -> (English cues, Chinese cues); a cue may carry a weight as "word:2".
LEXICON: dict[str, tuple[list[str], list[str]]] = {
    "traffic_accident": (
        ["crash", "collision", "collided", "accident", "rear-end", "pile-up", "pileup", "shunt", "knocked", "hit:0.5",
         "injured:0.5", "hurt:0.5", "overturn", "overturned", "tipped", "rolled", "jackknife", "guardrail", "barrier:0.5",
         "pedestrian", "wreck", "casualties", "ambulances:0.5", "slid:0.5"],
        ["事故", "追尾", "相撞", "撞", "侧翻", "翻车", "翻了", "受伤:0.5", "伤员:0.5", "护栏:0.5", "行人", "碰撞", "刮蹭"]),
    "road_closure": (
        ["closure:0.5", "roadworks", "road works", "works", "resurfacing", "repaving", "milling", "maintenance", "marathon",
         "race", "parade", "event:0.5", "sinkhole", "caved", "collapse", "collapsed", "hole", "debris", "pallets", "gravel",
         "fell off", "dropped", "joint", "expansion joint", "coned off:0.5"],
        ["封路:0.5", "封道:0.5", "施工", "养护", "铣刨", "重铺", "马拉松", "比赛", "管制:0.5", "塌陷", "塌", "大坑", "散落",
         "掉了", "伸缩缝", "接缝", "托盘", "碎石"]),
    "hazmat_spill": (
        ["hazmat", "chemical", "chemicals", "tanker", "leak:0.7", "leaking:0.7", "spill:0.7", "fumes", "fuming", "toxic",
         "chlorine", "ammonia", "acid", "sulphuric", "sulfuric", "lpg", "propane", "petrol", "gasoline", "fuel:0.7",
         "placard", "cylinder", "cylinders", "corrosive", "gas:0.7", "smell", "hissing", "evacuate:0.5", "un number"],
        ["危化", "危险品", "化学品", "泄漏", "漏气", "漏油", "罐车", "槽车", "液氯", "氯气", "液氨", "氨气", "氨", "硫酸",
         "酸", "液化气", "液化石油气", "汽油", "有毒", "刺激", "气味", "钢瓶", "冒白烟", "中和", "疏散:0.5"]),
    "flooding": (
        ["flood", "flooded", "flooding", "water:0.5", "underpass", "waterlogged", "waterlogging", "inundated", "pump:0.7",
         "pumps:0.7", "drain", "drains", "downpour", "rainstorm", "tide", "surge", "overtopped", "water main", "pipe burst",
         "burst", "submerged", "deep water", "stalled:0.5"],
        ["积水", "内涝", "淹", "涝", "下立交", "下穿", "涉水", "泵房", "排水", "雨水口", "暴雨", "大潮", "潮水", "防汛",
         "爆管", "水管", "冒水", "熄火:0.5"]),
    "vehicle_fire": (
        ["fire", "burning", "flames", "flame", "smoke", "smoking", "ablaze", "caught fire", "on fire", "battery:0.7",
         "bonnet", "engine fire", "re-ignite", "flaring"],
        ["起火", "着火", "冒烟", "火", "燃烧", "烧", "自燃", "电池", "复燃", "冒火"]),
    "severe_weather": (
        ["fog", "foggy", "visibility", "typhoon", "wind", "winds", "gust", "gusts", "storm:0.5", "ice", "icy", "iced",
         "black ice", "freezing", "snow", "blizzard", "heat", "hot", "degrees:0.5", "heatwave", "hail", "trees down"],
        ["雾", "能见度", "台风", "大风", "阵风", "结冰", "冰", "冻雨", "雪", "暴雪", "高温", "天热", "太热", "四十度", "倒树", "树倒"]),
    "power_outage": (
        ["power", "outage", "blackout", "blacked out", "electricity", "substation", "generator", "lights out",
         "traffic lights", "signals", "dark", "no power", "mains", "toll", "etc"],
        ["停电", "断电", "没电", "供电", "变电站", "发电", "信号灯", "红绿灯", "灯全灭", "收费站", "ETC", "电力"]),
    "cold_chain_failure": (
        ["reefer", "reefers", "refrigerated", "fridge", "temperature", "vaccine", "vaccines", "frozen", "chilled",
         "cold store", "cold-store", "freezer", "logger", "compressor", "seafood", "fish", "produce", "degrees:0.5",
         "cold chain", "excursion"],
        ["冷藏", "冷链", "疫苗", "温度", "超温", "厢温", "库温", "冻品", "速冻", "冷库", "冷鲜", "生鲜", "冰鲜", "海鲜",
         "冷机", "压缩机", "制冷"]),
}


def _parse(cue: str) -> tuple[str, float]:
    word, _, weight = cue.rpartition(":") if re.search(r":[0-9.]+$", cue) else (cue, "", "1")
    return word.lower(), float(weight)


_COMPILED: dict[str, list[tuple[re.Pattern[str] | str, float]]] = {}
for _t, (_en, _zh) in LEXICON.items():
    pats: list[tuple[re.Pattern[str] | str, float]] = []
    for cue in _en:
        w, wt = _parse(cue)
        pats.append((re.compile(r"\b" + re.escape(w) + r"\w{0,3}\b"), wt))
    for cue in _zh:
        w, wt = _parse(cue)
        pats.append((w, wt))
    _COMPILED[_t] = pats


def infer_type_scores(text: str) -> dict[str, float]:
    """Cue-word scores per incident type, normalised to sum to 1 (empty when no cue matches)."""
    low = text.lower()
    scores: dict[str, float] = {}
    for itype, pats in _COMPILED.items():
        s = 0.0
        for pat, wt in pats:
            if (pat in low) if isinstance(pat, str) else pat.search(low):
                s += wt
        if s:
            scores[itype] = s
    total = sum(scores.values())
    return {t: v / total for t, v in scores.items()} if total else {}


def place_names() -> list[str]:
    """Every name of the graph's places (English, Chinese and aliases), longest first, for grounding locations."""
    return list(_place_names())


@functools.cache
def _place_names() -> tuple[str, ...]:
    path = Path(__file__).resolve().parent / "data" / "places.json"
    names: list[str] = []
    for place in json.loads(path.read_text(encoding="utf-8")):
        names += [place.get("name_en") or "", place.get("name_zh") or "", *place.get("aliases", [])]
    return tuple(sorted((n for n in names if n), key=len, reverse=True))
