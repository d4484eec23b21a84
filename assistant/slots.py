"""Slots the user's words state unambiguously ("26 trucks", "truck 4", "under 30 seconds", "9号订单").

Part of grounding, not of the model: after the model has chosen a tool and its arguments,
an argument that the user's words fix beyond doubt is set to what the user said (the model
may have dropped or miscopied it). Only patterns with exactly one value count; anything
ambiguous is left to the model and, failing that, to a clarifying question.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.numbers import to_digits

_VEH = r"(?:trucks?|vans?|vehicles?|rigs?|lorr(?:y|ies)|cars?|drivers?|fleet)"
_NUM = r"(\d+)"


def _one(values: list[float]) -> float | None:
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def _find(patterns: list[str], text: str, scale: float = 1.0) -> list[float]:
    vals: list[float] = []
    for pat in patterns:
        vals += [float(m.group(1)) * scale for m in re.finditer(pat, text, re.IGNORECASE)]
    return vals


def stated_slots(tool: str, args: dict[str, Any], user_text: str) -> dict[str, Any]:
    """Arguments of ``tool`` that ``user_text`` states unambiguously."""
    t = to_digits(user_text)
    out: dict[str, Any] = {}
    count = _one(_find([_NUM + r"\s*" + _VEH, r"fleet of\s*" + _NUM, r"with\s*" + _NUM + r"\b(?!\s*(?:s|sec|seconds?|min|minutes?|kg|%))",
                        _NUM + r"\s*(?:辆|台|部)"], t))
    seconds = _one(_find([_NUM + r"\s*(?:s|secs?|seconds?|秒)\b", _NUM + r"\s*秒"], t)
                   + _find([_NUM + r"\s*(?:mins?|minutes?)\b", _NUM + r"\s*分钟"], t, 60.0)
                   + _find([_NUM + r"\s*(?:h|hrs?|hours?)\b", _NUM + r"\s*(?:小时|个小时)"], t, 3600.0))
    minutes = _one(_find([_NUM + r"\s*(?:mins?|minutes?)\b", _NUM + r"\s*分钟"], t)
                   + _find([_NUM + r"\s*(?:h|hrs?|hours?)\b", _NUM + r"\s*(?:小时|个小时)"], t, 60.0))
    capacity = _one(_find([r"capacity(?: of)?\s*" + _NUM, _NUM + r"\s*(?:kg|kilos?|公斤|千克)", r"载重\s*" + _NUM,
                           r"容量\s*" + _NUM], t))
    vehicle = _one(_find([r"\bthe\s*" + _NUM + r"(?:st|nd|rd|th)?\s*" + _VEH, r"\b" + _VEH + r"\s*(?:#|no\.?|number)?\s*" + _NUM, r"\bv0*" + _NUM + r"\b",
                          _NUM + r"\s*号(?:车|货车)", r"第\s*" + _NUM + r"\s*(?:辆|台|号)", r"(?:车|货车)\s*" + _NUM + r"(?!\d)(?!\s*(?:点|:|分|小时|辆|台|公斤|千克|kg))"], t))
    order_vals = _find([r"\border(?:s)?\s*(?:#|no\.?|number)?\s*" + _NUM, _NUM + r"\s*号\s*(?:订)?单", r"订单\s*" + _NUM], t)
    orders_list = _order_list(t)

    if tool == "plan_routes":
        _put(out, "num_vehicles", count)
        _put(out, "time_limit_s", seconds)
        _put(out, "vehicle_capacity", capacity)
    elif tool == "schedule_jobs":
        _put(out, "time_limit_s", seconds)
        _put(out, "rollouts", _one(_find([_NUM + r"\s*(?:rollouts?|samples?|次采样|条轨迹)"], t)))
    elif tool == "replan":
        event = args.get("event")
        if event in ("vehicle_breakdown", "traffic_delay"):
            _put(out, "vehicle", vehicle)
        if event == "traffic_delay":
            _put(out, "minutes", minutes)
        if event in ("new_orders", "cancel_orders"):
            # "new drops just arrived: 88, 91, 93": without the word "order", the bare numbers are the orders
            listed = orders_list or _bare_numbers(t)
            if listed:
                out["orders"] = listed
        at = _clock(t)
        if at:
            out["at"] = at
    elif tool == "explain_plan":
        question = args.get("question")
        if question in ("why_vehicle", "why_late", "what_if_move"):
            _put(out, "order", _one(order_vals))
        if question in ("what_if_move", "why_vehicle"):
            _put(out, "vehicle", vehicle)
        if question == "what_if_fleet":
            # the question is about a fleet size: a lone number in it is that size ("what if we had 20?")
            lone = _one(_find([r"(?<![\d:.])" + _NUM + r"(?![\d:.])"], t))
            _put(out, "num_vehicles", count if count is not None else lone)
    elif tool == "search_emergency_cases":
        _put(out, "k", _one(_find([r"top\s*" + _NUM, _NUM + r"\s*(?:similar\s*)?(?:cases|incidents|examples)", _NUM + r"\s*(?:个|条)(?:类似)?(?:案例|事故)"], t)))
    return out


def _put(out: dict[str, Any], key: str, value: float | None) -> None:
    if value is not None:
        out[key] = int(value) if float(value).is_integer() else value


def _order_list(t: str) -> list[int]:
    m = re.search(r"orders?\s*(?:#|no\.?|numbers?)?\s*(\d+(?:\s*(?:,|and|&|、|和|及|与)\s*#?\d+)*)", t, re.IGNORECASE) or \
        re.search(r"订单\s*(\d+(?:\s*(?:,|，|、|和|及|与)\s*\d+)*)", t) or \
        re.search(r"(\d+(?:\s*(?:,|，|、|和|及|与)\s*\d+)*)\s*号订单", t)
    return [int(x) for x in re.findall(r"\d+", m.group(1))] if m else []


def _bare_numbers(t: str) -> list[int]:
    """Integers in ``t`` that are not a clock time, a duration, a quantity or a vehicle's number."""
    t = re.sub(r"(?<!\d)\d{1,2}:\d{2}(?!\d)|\d{1,2}\s*点(?:\s*半|\s*\d{1,2}\s*分?)?|\b\d{1,2}\s*(?:am|pm)\b", " ", t, flags=re.IGNORECASE)
    t = re.sub(_VEH + r"\s*(?:#|no\.?|number)?\s*\d+|\d+\s*号?(?:车|货车)|(?:车|货车)\s*\d+", " ", t, flags=re.IGNORECASE)
    t = re.sub(r"\d+\s*(?:(?:s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?|kg|km)(?![A-Za-z])|%|秒|分钟|小时|公斤|公里|辆|台|个)", " ", t,
               flags=re.IGNORECASE)
    t = re.sub(r"\d+\s+(?:new\s+|more\s+|extra\s+)?(?:orders|drops|stops|deliveries|jobs)", " ", t, flags=re.IGNORECASE)
    return [int(x) for x in re.findall(r"(?<![\d.])\d+(?![\d.])", t)]


def _clock(t: str) -> str | None:
    """The one clock time in ``t`` ("10:30", "2:40 pm", "十点半", "下午两点四十"), else None."""
    hits = set()
    for h, m, ap in re.findall(r"(?<!\d)([01]?\d|2[0-3]):([0-5]\d)(?!\d)\s*(am|pm)?", t, re.IGNORECASE):
        hits.add(f"{_24h(int(h), ap.lower() == 'pm'):02d}:{int(m):02d}")
    for pm, h, half, mins in re.findall(r"(下午|晚上|傍晚)?\s*(?<!\d)([01]?\d|2[0-3])\s*点\s*(半)?(?:\s*(\d{1,2})\s*分?)?", t):
        hits.add(f"{_24h(int(h), bool(pm)):02d}:{30 if half else int(mins or 0):02d}")
    for h, ap in re.findall(r"(?<![\d:])(1[0-2]|0?[1-9])\s*(am|pm)\b", t, re.IGNORECASE):
        hits.add(f"{_24h(int(h), ap.lower() == 'pm'):02d}:00")
    return hits.pop() if len(hits) == 1 else None


def _24h(hour: int, pm: bool) -> int:
    return hour + 12 if pm and hour < 12 else hour


# Cue words for the enumerated arguments, English and Chinese. A value counts as stated when
# one of its cues is in the user's words; "none" cues (negations) are checked before "gnn"
# ones because "without the GNN" contains "GNN".
_ENUM_CUES: dict[tuple[str, str], dict[str, list[str]]] = {
    ("plan_routes", "objective"): {
        "vehicles": [r"few(?:est|er)?\s+(?:\w+\s+)?(?:trucks?|vans?|vehicles?|lorr(?:y|ies)|rigs?|cars?)",
                     r"(?:min(?:imi[sz]e|imum|imal)?|smallest|least|lowest)\s+(?:the\s+)?(?:number of\s+)?(?:trucks?|vans?|vehicles?|fleet|lorr)",
                     r"smallest fleet", r"fleet size", r"as few", r"number of (?:trucks|vans|vehicles)",
                     r"少(?:用|派|开|出)", r"车(?:辆)?(?:数)?(?:最少|越少|尽量少)", r"最少的车", r"车队规模", r"用车最少", r"派车最少"],
        "lateness": [r"\blate(?:ness)?\b", r"on[- ]time", r"punctual", r"delay", r"time[- ]windows?", r"\bwait",
                     r"迟到", r"准时", r"按时", r"晚点", r"延误", r"时间窗", r"超时", r"等太久", r"时效"],
        "balance": [r"balanc", r"\beven(?:ly)?\b", r"\bfair", r"same amount", r"equal", r"similar (?:length|amount|work)",
                    r"均衡", r"平均", r"差不多", r"均匀", r"平衡"],
        "distance": [r"distance", r"mileage", r"\bkm\b", r"kilomet", r"shortest", r"short(?:er)? (?:routes|driving|trips)",
                     r"less driving", r"travel cost",
                     r"里程", r"距离", r"路程", r"少跑", r"最短", r"公里"],
    },
    ("plan_routes", "guidance"): {
        "none": [r"(?:without|no|not|don'?t|skip|off|disable)\s+(?:\w+\s+){0,3}(?:gnn|neural|graph net|guidance)",
                 r"(?:gnn|guidance|neural\s+\w+)\s+(?:off|disabled|switched off|turned off)", r"plain or-?tools", r"or-?tools only",
                 r"不(?:用|要|开)\s*(?:gnn|GNN|神经|引导|图)", r"(?:关掉|关闭|关了)\s*(?:gnn|GNN|引导)?", r"(?:gnn|GNN|引导)\s*(?:关掉|关闭|关了|不开)",
                 r"纯\s*or-?tools", r"只用\s*or-?tools"],
        "gnn": [r"\bgnn\b", r"graph neural", r"neural", r"graph network", r"learned guidance", r"图神经", r"神经网络", r"引导"],
    },
    ("replan", "event"): {
        "vehicle_breakdown": [r"\bbr(?:oke|oken|eaks?)\b", r"breakdown", r"\bdied\b", r"flat tyre", r"flat tire", r"out of (?:action|service)",
                              r"won'?t start", r"engine (?:failure|trouble)", r"\bbroke down\b",
                              r"坏", r"抛锚", r"故障", r"不能用", r"趴窝", r"爆胎", r"开不了"],
        "traffic_delay": [r"\bdelay", r"\bstuck\b", r"traffic", r"congest", r"\bjam", r"held up", r"running late", r"behind schedule",
                          r"堵", r"延误", r"晚了?\s*\d+", r"拥堵", r"塞车", r"耽误"],
        "road_closure": [r"\bclosed\b", r"\bshut\b", r"\bblocked\b", r"closure", r"roadworks", r"封", r"关闭", r"不通"],
        "new_orders": [r"new (?:orders?|drops?|customers?|deliver)", r"extra orders?", r"rush order", r"\badd(?:ed)?\b", r"fit (?:them|it) in",
                       r"slot (?:them|it) in", r"squeeze", r"came in", r"加单", r"新增", r"下单", r"插进", r"新订单", r"加进", r"加急", r"补"],
        "cancel_orders": [r"cancel", r"\bdrop (?:order|#|\d)", r"\bremove", r"take (?:them|it) out", r"pulled", r"called off", r"\bare off\b",
                          r"取消", r"不要了", r"不要货", r"撤", r"删", r"退单"],
    },
    ("explain_plan", "question"): {
        "why_late": [r"\blate\b", r"迟到", r"晚了", r"晚到", r"咋晚", r"为什么.*晚", r"超时"],
        "why_vehicle": [r"why (?:does|is|did|do) (?:van|truck|vehicle|car|lorry|rig|driver)", r"why (?:is|does|did) .{0,30}(?:on|with|assigned to|go to|in) "
                        r"(?:van|truck|vehicle|car|lorry)", r"(?:为啥|为什么|怎么).{0,6}(?:送|跑到|交给|分给|分到|派给)"],
        "what_if_move": [r"\bmove\b", r"\bmoved\b", r"reassign", r"\bswap\b", r"(?:went|go|goes|put) (?:it )?(?:on|to|onto) (?:truck|van|vehicle)",
                         r"换到", r"挪到", r"调到", r"移到", r"单给\d+号车", r"放到\d+号车"],
        "what_if_fleet": [r"fleet", r"what if (?:we|i) (?:had|have|use|used|only had)", r"only \d+ (?:trucks|vans|vehicles)",
                          r"车队", r"只有\s*\d+\s*辆", r"砍到", r"减到\s*\d+\s*辆", r"要是.*\d+\s*辆"],
        "summary": [r"summar", r"overview", r"recap", r"总结", r"概况", r"汇总", r"概览"],
        "cost_breakdown": [r"\bcost", r"breakdown", r"\bspend", r"expens", r"成本", r"费用", r"花费"],
    },
    ("schedule_jobs", "method"): {
        "compare": [r"\bcompare\b", r"comparison", r"all (?:the )?(?:methods|rules|approaches)", r"every (?:method|rule)",
                    r"side by side", r"each method", r"对比", r"比较", r"所有方法", r"各种方法", r"全部方法"],
        "cp_sat": [r"cp-?sat", r"constraint programming", r"exact solver", r"optimal", r"约束规划", r"精确"],
        "spt": [r"\bspt\b", r"shortest[- ]processing", r"最短加工"],
        "mwkr": [r"\bmwkr\b", r"most work remaining", r"most[- ]work[- ]remaining", r"剩余工作"],
        "mopnr": [r"\bmopnr\b", r"most operations remaining", r"most[- ]operations", r"剩余工序"],
        "fifo": [r"\bfifo\b", r"first[- ]in", r"first[- ]come", r"先进先出", r"先到先"],
        "rl": [r"\brl\b", r"reinforcement", r"learned policy", r"trained policy", r"\bpolicy\b", r"强化学习", r"策略"],
    },
}


# \b counts ideographs as word characters, so "开着GNN跑" has no boundary around GNN; this one
# looks at ASCII letters only.
_ASCII_BOUNDARY = r"(?:(?<![A-Za-z])(?=[A-Za-z])|(?<=[A-Za-z])(?![A-Za-z]))"


# compiled once: the grounding step asks about several arguments on every call
_ENUM_RES = {arg: {value: [re.compile(p.replace(r"\b", _ASCII_BOUNDARY), re.IGNORECASE) for p in pats]
                   for value, pats in cues.items()}
             for arg, cues in _ENUM_CUES.items()}


def enum_values_stated(tool: str, key: str, text: str) -> list[str] | None:
    """The values of the enumerated argument ``key`` whose cue words are in ``text``.

    ``None`` when there is no lexicon for that argument (nothing can be said about it).
    """
    cues = _ENUM_RES.get((tool, key))
    if cues is None:
        return None
    hits = [value for value, pats in cues.items() if any(p.search(text) for p in pats)]
    if key == "guidance" and "none" in hits:
        hits = ["none"]  # a negated mention of the GNN still mentions it
    if key == "method" and "compare" in hits:
        hits = ["compare"]  # "compare RL with CP-SAT" names methods to compare
    return hits
