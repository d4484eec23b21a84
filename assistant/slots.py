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
    order_vals = _find([r"\border(?:s)?\s*(?:#|no\.?|number)?\s*" + _NUM, _NUM + r"\s*号订单", r"订单\s*" + _NUM], t)
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
        if event in ("new_orders", "cancel_orders") and orders_list:
            out["orders"] = orders_list
        at = _clock(t)
        if at:
            out["at"] = at
    elif tool == "explain_plan":
        question = args.get("question")
        if question in ("why_vehicle", "why_late", "what_if_move"):
            _put(out, "order", _one(order_vals))
        if question == "what_if_move":
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


def _clock(t: str) -> str | None:
    hits = {f"{int(h):02d}:{int(m):02d}" for h, m in re.findall(r"\b([01]?\d|2[0-3]):([0-5]\d)\b", t)}
    for h, half, mins in re.findall(r"([01]?\d|2[0-3])\s*点\s*(半)?(?:\s*(\d{1,2})\s*分?)?", t):
        hits.add(f"{int(h):02d}:{30 if half else int(mins or 0):02d}")
    for h, ap in re.findall(r"\b(1[0-2]|0?[1-9])\s*(am|pm)\b", t, re.IGNORECASE):
        hits.add(f"{int(h) % 12 + (12 if ap.lower() == 'pm' else 0):02d}:00")
    return hits.pop() if len(hits) == 1 else None
