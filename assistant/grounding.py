"""Grounding: check a validated tool call against the user's words and the workspace.

The model is small and can miscopy or invent. Before any call reaches a tool, every
argument must be backed: numbers by the user's words (or the conversation's focus),
dataset names and plan ids by the workspace. An unbacked optional argument is dropped
(the tool's default is the safe choice); an unbacked essential one makes the assistant
ask instead of guessing.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from assistant.numbers import has_chinese, numbers_in_text, to_digits
from assistant.slots import enum_values_stated, stated_slots
from tools.contract import TOOL_SCHEMAS
from tools.core.datasets import ROUTING_KINDS, all_datasets, resolve
from tools.core.errors import DiaoduError
from tools.core.store import Store

log = logging.getLogger(__name__)

DATASET_KINDS = {"plan_routes": ROUTING_KINDS, "schedule_jobs": ("jssp",)}

# Arguments without which a call makes no sense: (tool, condition on args) -> argument.
ESSENTIAL = {
    ("replan", "vehicle_breakdown"): "vehicle",
    ("replan", "traffic_delay"): "minutes",
    ("replan", "new_orders"): "orders",
    ("replan", "cancel_orders"): "orders",
    ("explain_plan", "why_vehicle"): "order",
    ("explain_plan", "why_late"): "order",
    ("explain_plan", "what_if_move"): "order",
    ("explain_plan", "what_if_fleet"): "num_vehicles",
}

_QUESTIONS = {
    "dataset": ("Which dataset should I use? For example demo-city or X-n101-k25.", "请问用哪个数据集？例如 demo-city 或 X-n101-k25。"),
    "vehicle": ("Which vehicle is it (its number)?", "是哪一辆车（车号）？"),
    "minutes": ("How many minutes is the delay?", "延误多少分钟？"),
    "orders": ("Which orders (their numbers)?", "是哪些订单（订单号）？"),
    "order": ("Which order do you mean (its number)?", "您指的是哪个订单（订单号）？"),
    "num_vehicles": ("With how many vehicles?", "用多少辆车？"),
    "road": ("Which road is closed?", "是哪条路封闭了？"),
    "plan": ("There is no plan yet. Which dataset should I plan first?", "目前还没有方案。先为哪个数据集做路线规划？"),
}


@dataclass
class Focus:
    """What the conversation is about: the dataset, plan and schedule in focus."""

    dataset: str | None = None
    plan_id: str | None = None
    schedule_dataset: str | None = None
    numbers: list[float] = field(default_factory=list)  # numbers the user said in earlier turns
    plan_args: dict[str, Any] = field(default_factory=dict)  # the settings of the plan in focus

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Focus:
        data = data or {}
        return cls(**{k: data.get(k) for k in ("dataset", "plan_id", "schedule_dataset")},
                   numbers=list(data.get("numbers") or []), plan_args=dict(data.get("plan_args") or {}))

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "plan_id": self.plan_id, "schedule_dataset": self.schedule_dataset,
                "numbers": self.numbers[-20:], "plan_args": self.plan_args}


@dataclass
class Grounded:
    """The outcome for one call: repaired arguments, or a question to ask instead."""

    args: dict[str, Any]
    changes: list[str] = field(default_factory=list)
    question: str | None = None
    tool: str | None = None  # set when grounding moved the call to another tool


def ask(key: str, user_text: str) -> str:
    en, zh = _QUESTIONS[key]
    return zh if has_chinese(user_text) else en


def mentioned_datasets(text: str) -> list[str]:
    """Dataset names written in ``text`` (whole tokens, case-insensitive), longest first."""
    names = sorted(all_datasets(), key=len, reverse=True)
    lower = text.lower()
    # ASCII boundaries: in Chinese text a name sits right against ideographs ("给demo-small排路线")
    return [n for n in names if re.search(r"(?<![A-Za-z0-9_-])" + re.escape(n.lower()) + r"(?![A-Za-z0-9_-])", lower)]


_WORK_WORDS = re.compile(
    r"rout|plan|deliver|dispatch|truck|van|vehicle|lorr|rig|fleet|driver|order|drop|customer|stop|depot|warehouse|"
    r"schedul|job|machine|shop|makespan|rollout|replan|re-plan|case|incident|accident|emergency|protocol|spill|fire|"
    r"flood|closed|closure|traffic|delay|late|broke|why|what if|what would|suppose|summar|overview|recap|cost|"
    r"gnn|solver|again|rerun|redo|same|compare|instead|capacity|load|minute|second|hour|road|street|bridge|"
    r"路线|排线|规划|配送|送|车|订单|单|客户|排产|调度|工件|工序|机器|车间|案例|事故|应急|预案|处置|为什么|为啥|怎么|如果|要是|"
    r"总结|概况|情况|成本|费用|晚|迟|延误|堵|坏|封|再|重新|对比|换|路|桥|仓|容量|分钟|秒|小时", re.IGNORECASE)


def about_the_work(user_text: str) -> bool:
    """Whether the user's words touch the dispatching work at all (a number, a dataset, a work word).

    "Thanks!", "how tall is Everest?" call no tool, whatever a small model emits for them.
    """
    from knowledge_graph.lexicon import infer_type_scores  # local: grounding stays light without the graph

    text = to_digits(user_text)
    return bool(re.search(r"\d", text) or mentioned_datasets(user_text) or _DS_TOKEN.search(user_text)
                or _WORK_WORDS.search(text) or infer_type_scores(user_text))


def asked_for(tool: str, user_text: str) -> bool:
    """Whether the user's words ask for this kind of call at all (for a second call in one turn).

    Replanning needs an event and explaining a question the words name, a case search a
    request for advice on an incident; other tools are not judged here.
    """
    if tool == "search_emergency_cases":
        return _asks_for_emergency_advice(user_text)
    key = {"replan": "event", "explain_plan": "question"}.get(tool)
    return key is None or bool(enum_values_stated(tool, key, user_text))


def dataset_tool(user_text: str) -> str | None:
    """The tool the datasets the user names belong to (routing or job shop), if they name any of one kind."""
    named = mentioned_datasets(user_text)
    kinds = {tool for tool, k in DATASET_KINDS.items() for n in named if _kind_ok(n, k)}
    return kinds.pop() if len(kinds) == 1 else None


def ground_call(tool: str, args: dict[str, Any], user_text: str, focus: Focus, earlier_text: str = "") -> Grounded:
    """Check ``args`` (already validated against the contract) for one call of ``tool``.

    ``earlier_text`` is what the user said in earlier turns (a dataset named there still counts).
    """
    out = dict(args)
    changes: list[str] = []
    said = numbers_in_text(user_text)

    named_all = mentioned_datasets(user_text)

    def move_to(other: str, other_args: dict[str, Any], why: str) -> Grounded:
        moved = ground_call(other, other_args, user_text, focus, earlier_text)
        moved.changes.insert(0, f"tool {tool} -> {other} ({why})")
        moved.tool = moved.tool or other
        return moved

    # 0. a dataset the user named decides between routing and job-shop scheduling.
    other = _OTHER_DATASET_TOOL.get(tool)
    if other and named_all and not any(_kind_ok(n, DATASET_KINDS[tool]) for n in named_all):
        fits = [n for n in named_all if _kind_ok(n, DATASET_KINDS[other])]
        if fits:
            return move_to(other, {"dataset": fits[0]}, f"{fits[0]} is a {other} dataset")

    # 0b. an emergency the user asks advice on is a case search, whatever operation the model chose
    # (a fleet operation needs a named dataset, vehicle or order; advice on an incident does not)
    if tool in ("replan", "plan_routes", "schedule_jobs") and not named_all and _asks_for_emergency_advice(user_text):
        return move_to("search_emergency_cases", {"query": user_text.strip()}, "the user asks how to handle an incident")

    # 1. dataset names must exist and be what the user means.
    if "dataset" in TOOL_SCHEMAS[tool]["properties"]:
        kinds = DATASET_KINDS[tool]
        named = [n for n in named_all if _kind_ok(n, kinds)]
        current = focus.schedule_dataset if tool == "schedule_jobs" else focus.dataset
        name = out.get("dataset")
        resolved = _try_resolve(name, kinds) if name else None
        # a name the user wrote that the workspace lacks goes to the tool, which says it is
        # missing and lists the closest ones (better than asking for a name already given)
        unknown = None if named else _unknown_dataset_named(user_text, name)
        if unknown and (resolved is None or resolved.lower() != unknown.lower()):
            changes.append(f"dataset {name!r} -> {unknown!r} (named by the user; not in the workspace)")
            out["dataset"] = unknown
            name, resolved = unknown, unknown
        elif named and (resolved is None or resolved.lower() not in {n.lower() for n in named}):
            changes.append(f"dataset {name!r} -> {named[0]!r} (named by the user)")
            resolved = _try_resolve(named[0], kinds)
        elif resolved is not None and not named and current and resolved.lower() != current.lower():
            changes.append(f"dataset {name!r} -> {current!r} (not named by the user; the dataset in focus)")
            resolved = current
        elif resolved is not None and not named and not current and \
                resolved.lower() not in {n.lower() for n in mentioned_datasets(earlier_text)}:
            # nobody named it: an invented dataset is a guess, so ask
            return Grounded(out, changes + [f"dataset {name!r} was never named"], ask("dataset", user_text))
        if resolved is None:
            if current and not named:
                resolved = current
                changes.append(f"dataset {name!r} -> {current!r} (the dataset in focus)")
            else:
                return Grounded(out, changes, ask("dataset", user_text))
        out["dataset"] = resolved

    # 2. plan ids must exist; unnamed ones follow the plan in focus.
    if "plan_id" in TOOL_SCHEMAS[tool]["properties"]:
        named_plan = re.search(r"plan-\d+", user_text.lower())
        plan = named_plan.group(0) if named_plan else (focus.plan_id or "latest")
        if out.get("plan_id") != plan:
            if out.get("plan_id"):
                changes.append(f"plan_id {out.get('plan_id')!r} -> {plan!r}")
            out["plan_id"] = plan
        try:
            Store().load_plan(plan)
        except DiaoduError:
            return Grounded(out, changes, ask("plan", user_text))

    # 3. an enumerated choice (event, question, objective, guidance, method) follows the user's
    # words: one stated beyond doubt wins; an unbacked optional one is dropped (the tool's
    # default is the safe choice). First, because the event or question decides the slots.
    required = set(TOOL_SCHEMAS[tool].get("required", []))
    for key in TOOL_SCHEMAS[tool]["properties"]:
        stated = enum_values_stated(tool, key, user_text)
        if stated is None:
            continue
        if len(stated) == 1 and out.get(key) != stated[0]:
            changes.append(f"{key} {out.get(key)!r} -> {stated[0]!r} (stated by the user)")
            if key in required and key in out:
                # another event or question needs other details: keep only what the user's words give
                out = {k: v for k, v in out.items() if k in required or k in ("plan_id", "dataset")}
            out[key] = stated[0]
        elif key in out and key not in required and out[key] not in stated and \
                out[key] not in (enum_values_stated(tool, key, earlier_text) or []):
            changes.append(f"dropped {key}={out[key]!r} (not in the user's words)")
            del out[key]

    # 3b. what the user's words state beyond doubt wins over the model's copy of it
    for key, value in stated_slots(tool, out, user_text).items():
        if key in TOOL_SCHEMAS[tool]["properties"] and out.get(key) != value:
            changes.append(f"{key} {out.get(key)!r} -> {value!r} (stated by the user)")
            out[key] = value

    # 4. numbers must be backed by the user's words (this turn, or earlier ones for follow-ups).
    backing = said | set(focus.numbers)
    for key, spec in TOOL_SCHEMAS[tool]["properties"].items():
        if key not in out or spec.get("type") not in ("integer", "number", "array"):
            continue
        values = out[key] if isinstance(out[key], list) else [out[key]]
        if all(float(v) in said or float(v) in backing for v in values):
            continue
        changes.append(f"dropped {key}={out[key]!r} (not in the user's words)")
        del out[key]

    # 5. a time of day must be the one the user gave; a location must be one the user named.
    if "at" in out and not _time_said(out["at"], user_text):
        changes.append(f"dropped at={out['at']!r} (not in the user's words)")
        del out["at"]
    if "location" in out:  # "the G4 expressway" names the same place as "G4 expressway"
        out["location"] = _without_article(out["location"])
    if "location" in out and out["location"].lower() not in user_text.lower():
        changes.append(f"dropped location={out['location']!r} (not in the user's words)")
        del out["location"]
    if tool == "replan" and out.get("event") == "road_closure":
        road = _road_named(out.get("road"), user_text, out.get("plan_id", "latest")) or _road_phrase(user_text)
        if road is None:
            return Grounded(out, changes, ask("road", user_text))
        if road != out.get("road"):
            changes.append(f"road {out.get('road')!r} -> {road!r} (named by the user)")
        out["road"] = road
    if tool == "search_emergency_cases":
        _ground_emergency(out, user_text, changes)

    # 5b. a rerun of the plan in focus ("now give the solver 2 minutes") changes what the user says
    # and keeps the plan's other settings
    if tool == "plan_routes" and not named_all and focus.dataset and out.get("dataset") == focus.dataset:
        for key in ("num_vehicles", "vehicle_capacity", "objective", "guidance"):
            if key not in out and key in focus.plan_args:
                changes.append(f"{key} -> {focus.plan_args[key]!r} (kept from the plan in focus)")
                out[key] = focus.plan_args[key]

    # 6. essential arguments: ask rather than guess.
    cond = str(out.get("event") or out.get("question") or "")
    needed = ESSENTIAL.get((tool, cond))
    if needed and needed not in out:
        return Grounded(out, changes, ask(needed, user_text))
    if changes:
        log.info("grounding %s: %s", tool, "; ".join(changes))
    return Grounded(out, changes)


def _ground_emergency(out: dict[str, Any], user_text: str, changes: list[str]) -> None:
    """The query is the dispatcher's own words; an incident type the words make clear wins."""
    from knowledge_graph.lexicon import infer_type_scores  # cue words only: no graph, no encoder

    if out.get("query", "").strip() != user_text.strip():
        changes.append("query -> the user's words")
        out["query"] = user_text.strip()
    if "location" not in out:
        place = _place_named(user_text)
        if place:
            changes.append(f"location -> {place!r} (the user's words)")
            out["location"] = place
    scores = infer_type_scores(user_text)
    if scores:
        best, share = max(scores.items(), key=lambda kv: kv[1])
        if share >= 0.7 and out.get("incident_type") != best:
            changes.append(f"incident_type {out.get('incident_type')!r} -> {best!r} (the user's words)")
            out["incident_type"] = best


_PLACE_KINDS = (r"(?:expressway|highway|motorway|freeway|road|street|avenue|drive|bridge|ramp|tunnel|ring road|district|depot|hub|"
                r"port|yard|warehouse|terminal|station|market|park|interchange|exit|gate)")
_PLACE_EN = [
    # "on Ring Road North", "on the S20", "at Exit 14", "on the G4 expressway"
    re.compile(r"\b(?:on|at|near|in|across|along|by|outside|off)\s+(?:the\s+)?((?:[A-Z0-9][\w'-]*)(?:\s+[A-Z0-9][\w'-]*)*"
               r"(?:\s+(?i:" + _PLACE_KINDS + r"))?)"),
    # "at warehouse C", "gate 3"
    re.compile(r"\b((?:warehouse|depot|gate|exit|dock|bay|hub|zone|terminal|pier)\s+[A-Z0-9]\w*)\b"),
    # "at the north hub", "across the east district" (a bare "the ramp" names no place)
    re.compile(r"\b(?:on|at|near|in|across|along|outside)\s+the\s+((?:north|south|east|west|main|central|old|new|inner|outer)\s+"
               + _PLACE_KINDS + r")\b", re.IGNORECASE),
]
_ZH_PLACE_SUFFIX = (r"(?:路|大道|大桥|桥|高速|隧道|街|高架|环|区|仓库|仓|出口|枢纽|港|中心|园|匝道|立交|码头|站|市场)")
_PLACE_ZH = re.compile(r"([^\s，。、！？,.!?把在于了的是有上里下从往向到和与及]{0,8}?" + _ZH_PLACE_SUFFIX + ")")
_ZH_PLACE_MORE = re.compile(_ZH_PLACE_SUFFIX + "+")


def _without_article(phrase: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", phrase.strip(), flags=re.IGNORECASE)


def _place_named(user_text: str) -> str | None:
    """The place the user named for an incident (a known place first, then the words' own)."""
    from knowledge_graph.lexicon import place_names  # local: grounding stays light without the graph

    lower = user_text.lower()
    for name in place_names():  # longest first: a full name before an alias inside it
        if len(name) >= 2 and name.lower() in lower:
            return user_text[lower.index(name.lower()):][: len(name)]
    for pattern in _PLACE_EN:
        m = pattern.search(user_text)
        if m and m.group(1).lower() not in ("the", "a", "an"):
            return m.group(1).strip()
    if has_chinese(user_text):
        m = _PLACE_ZH.search(user_text)
        if m:  # the shortest name, extended by a following suffix ("北环" + "路")
            more = _ZH_PLACE_MORE.match(user_text, m.end())
            return m.group(1) + (more.group(0) if more else "")
    return None


def _road_named(proposed: str | None, user_text: str, plan_id: str) -> str | None:
    """The road of the plan's dataset that the user named (English or Chinese), if any."""
    from tools.routing.plan_tool import instance_for_plan  # local: grounding stays light without routing

    try:
        roads = instance_for_plan(plan_id)[0].roads or []
    except DiaoduError:
        return None
    text = user_text.lower()
    for r in roads:
        names = [str(r.get("name", "")), str(r.get("name_zh", "")), str(r.get("id", ""))]
        short = [n.lower().removesuffix(" road").removesuffix("路") for n in names if n]
        if any(n and n.lower() in text for n in names) or any(len(s) >= 3 and s in text for s in short):
            return str(r.get("name"))
    if proposed and proposed.lower() in text:
        return proposed
    return None


_ADVICE_CUES = re.compile(
    r"past cases|similar (?:cases|incidents)|previous (?:cases|incidents)|\bprotocol|procedure|response steps|case base|"
    r"what (?:do|should) we do|how (?:did|do|should) we (?:handle|respond|deal)|what did we do|last time|\bSOP\b|"
    r"案例|预案|处置|应急|怎么处理|如何处理|怎么应对|以前怎么|上次怎么|该怎么办", re.IGNORECASE)


def _asks_for_emergency_advice(user_text: str) -> bool:
    """The user asks how to handle an incident (advice, protocol, past cases), naming an incident."""
    from knowledge_graph.lexicon import infer_type_scores  # local: grounding stays light without the graph

    return bool(_ADVICE_CUES.search(user_text)) and bool(infer_type_scores(user_text))


_OTHER_DATASET_TOOL = {"plan_routes": "schedule_jobs", "schedule_jobs": "plan_routes"}

# Dataset-shaped words: "shift-b", "north-2026-11-24", "zone5". Hyphenated words of the trade
# are not dataset names.
_DS_TOKEN = re.compile(r"(?<![A-Za-z0-9_.-])([A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)+|[A-Za-z]+\d+[A-Za-z0-9]*)(?![A-Za-z0-9_-])")
# hyphenated words of the trade ("cold-chain", "follow-up"): two parts only, so that a name of
# three parts ("cold-store-b") still reads as a dataset
_NOT_DATASETS = re.compile(r"gnn|tools|sat|^(?:on|re|first|multi|rear|pile|follow|real|long|well|half|cold|time|"
                           r"most|e|x|non|co|self|pre|post|top|up|check|drop|pick|set)-[^-_.]+$|^[^-_.]+-(?:up|time|end|based|guided|free|off|in)$"
                           r"|\d+-?(?:s|sec|secs|second|seconds|min|mins|minute|minutes|h|hr|hour|hours|kg|km|truck|trucks|van|vans|"
                           r"vehicle|vehicles|ton|tonne)$|^\d+(?:[.-]\d+)*$|^(?:[gs]\d+|exit\d+|v\d+|plan-\d+)$", re.IGNORECASE)
_DS_CUE_BEFORE = re.compile(r"(?:dataset|data|file|instance|orders|for|on|in|of|called|named|route|routes|plan|run|load|solve|"
                            r"schedule|routing|from|imported|import|uploaded|数据集|数据|文件|订单|给|把|对|用)\s*[\"'“‘]?\s*$", re.IGNORECASE)
_DS_CUE_AFTER = re.compile(r"^\s*[\"'”’]?\s*(?:dataset|data|file|instance|orders|run|batch|set|shop|这个|这套|的|数据|订单|排|规划|路线)",
                           re.IGNORECASE)


def _unknown_dataset_named(text: str, proposed: str | None) -> str | None:
    """A dataset name the user wrote that the workspace does not have (at most one), if any."""
    if proposed and _DS_TOKEN.fullmatch(proposed) and re.search(
            r"(?<![A-Za-z0-9_-])" + re.escape(proposed) + r"(?![A-Za-z0-9_-])", text, re.IGNORECASE) \
            and not _NOT_DATASETS.search(proposed):
        return proposed
    known = {n.lower() for n in all_datasets()}
    found = []
    for m in _DS_TOKEN.finditer(text):
        token = m.group(1)
        if _NOT_DATASETS.search(token) or token.lower() in known:
            continue
        cued = _DS_CUE_BEFORE.search(text[: m.start()]) or _DS_CUE_AFTER.search(text[m.end():])
        if cued or any(ch.isdigit() for ch in token) or has_chinese(text):
            found.append(token)
    return found[0] if len(set(found)) == 1 else None


_ROAD_KINDS = (r"(?:road|street|bridge|expressway|highway|avenue|tunnel|lane|ramp|flyover|overpass|underpass|motorway|"
               r"freeway|boulevard|drive)")
# A capitalised name ("Harbour Road", "G15 ramp") first, then a common noun ("the ring road").
_ROAD_EN_NAME = re.compile(r"((?:[A-Z0-9][\w'-]*\s+){1,3}(?i:" + _ROAD_KINDS + r"))\b")
_ROAD_EN_COMMON = re.compile(r"\b((?:ring|main|high|north|south|east|west|coast|river|harbou?r|airport|port)\s+" + _ROAD_KINDS
                             + r")\b", re.IGNORECASE)
_ROAD_ZH = re.compile(r"([A-Za-z0-9\u4e00-\u9fff]{1,8}?(?:路|大道|大桥|桥|高速|隧道|街|高架|环线|立交))")


def _road_phrase(user_text: str) -> str | None:
    """The road the user named in their own words, when the plan's map does not know it.

    The replanning tool then reports that this road is not on the map (and lists the roads it
    knows), which answers better than asking which road was meant.
    """
    for pattern in (_ROAD_EN_NAME, _ROAD_EN_COMMON, _ROAD_ZH):
        for m in pattern.finditer(user_text):
            phrase = _without_article(m.group(1))
            if not re.fullmatch(_ROAD_KINDS + r"|[路街桥]", phrase, flags=re.IGNORECASE):
                return phrase
    return None


def _kind_ok(name: str, kinds: tuple[str, ...]) -> bool:
    ref = all_datasets().get(name)
    return ref is not None and ref.kind in kinds


def _try_resolve(name: str, kinds: tuple[str, ...]) -> str | None:
    try:
        return resolve(name, kinds).name
    except DiaoduError:
        return None


def _time_said(at: str, text: str) -> bool:
    hh, mm = at.split(":")
    said = numbers_in_text(text)
    return float(int(hh)) in said and (int(mm) == 0 or float(int(mm)) in said or (int(mm) == 30 and ("半" in text or "half" in text.lower())))
