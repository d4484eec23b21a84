"""A keyword-rule chat model FOR TESTING ONLY (``diaodu serve --backend rules-testing``).

It is not a language model and never ships as the assistant: it maps a few fixed phrasings
("plan routes for C101", "vehicle 2 broke down", "schedule ft06", "spill on the ramp") to
contract tool calls and answers with the tools' own sentences. It exists so the web
console's end-to-end test and the load test can drive the real server, graph, checkpointer
and tools when the fine-tuned model is not available or would make the test minutes long.
Unlike :class:`assistant.backends.ScriptedChatModel` it is stateless, so any number of
concurrent conversations can share it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from assistant.numbers import has_chinese
from tools.core.datasets import all_datasets

_PLAN = re.compile(r"\b(plan|route|routes|routing)\b|路线|规划|配送", re.IGNORECASE)
_SCHEDULE = re.compile(r"\b(schedule|job.?shop|makespan)\b|排产|排程|调度车间", re.IGNORECASE)
_BREAKDOWN = re.compile(r"(?:vehicle|truck|van)\s*#?\s*(\d+)\s*(?:has\s+)?(?:broke|broken|breaks|break|is down)|"
                        r"(\d+)\s*号车\s*(?:抛锚|故障|坏)", re.IGNORECASE)
_DELAY = re.compile(r"(\d+)\s*(?:min|minutes|分钟)", re.IGNORECASE)
_EMERGENCY = re.compile(r"\b(spill|accident|crash|flood|flooding|fire|hazmat|storm|closure|closed|outage|emergency)\b|"
                        r"事故|泄漏|洪水|积水|起火|暴雨|封路|停电|应急", re.IGNORECASE)
_EXPLAIN = re.compile(r"\b(why|explain|summary|summarise|summarize|cost)\b|为什么|解释|总结|成本", re.IGNORECASE)


def _call(name: str, **args: Any) -> str:
    return "<tool_call>" + json.dumps({"name": name, "arguments": args}, ensure_ascii=False) + "</tool_call>"


class RuleTestingModel:
    """Keyword rules in place of a model; for the e2e and load tests only (see module docstring)."""

    name = "rules-testing"
    # the rules are the tests' own fixed behaviour; the intent router checks learned models only
    checked_by_router = False

    def complete(self, messages: list[dict[str, Any]], *, purpose: str = "act", max_new_tokens: int = 160,
                 tool: str | None = None, fixed: dict[str, Any] | None = None) -> str:
        """A tool call for a recognised request, else a short reply that echoes the user; with ``tool``,
        a call of that tool (its rule's call if the rule chose it, else only the ``fixed`` arguments)."""
        if tool is not None:
            ruled = self.complete(messages, purpose=purpose, max_new_tokens=max_new_tokens)
            return ruled if f'"name": "{tool}"' in ruled else _call(tool, **(fixed or {}))
        last = messages[-1] if messages else {"role": "user", "content": ""}
        user = next((str(m["content"]) for m in reversed(messages) if m["role"] == "user"), "")
        zh = has_chinese(user)
        if purpose != "act" or last["role"] == "tool":
            return self._answer_from_tools(messages)
        names = _datasets_in(user)
        if _SCHEDULE.search(user):
            jssp = [n for n, kind in names if kind == "jssp"]
            return _call("schedule_jobs", dataset=jssp[0]) if jssp else _call("schedule_jobs", dataset="unspecified")
        if (m := _BREAKDOWN.search(user)) is not None:
            return _call("replan", event="vehicle_breakdown", vehicle=int(m.group(1) or m.group(2)))
        if re.search(r"\b(delay|traffic jam|stuck)\b|延误|堵车", user, re.IGNORECASE) and (d := _DELAY.search(user)):
            return _call("replan", event="traffic_delay", minutes=int(d.group(1)))
        if _EMERGENCY.search(user):
            return _call("search_emergency_cases", query=user)
        routing = [n for n, kind in names if kind in ("cvrp", "vrptw")]
        if _PLAN.search(user) or routing:
            return _call("plan_routes", dataset=routing[0] if routing else "")
        if _EXPLAIN.search(user):
            return _call("explain_plan", question="summary")
        return f"收到：{user}" if zh else f"Noted: {user}"

    def stream(self, messages: list[dict[str, Any]], *, max_new_tokens: int = 160) -> Iterator[str]:
        """The answer in word-sized pieces, so streaming UIs see more than one chunk."""
        text = self._answer_from_tools(messages)
        yield from re.findall(r"\S+\s*", text)

    @staticmethod
    def _answer_from_tools(messages: list[dict[str, Any]]) -> str:
        """The tools' own ``message`` sentences from this turn (always faithful to the facts)."""
        parts: list[str] = []
        for msg in reversed(messages):
            if msg["role"] == "user":
                break
            if msg["role"] != "tool":
                continue
            try:
                data = json.loads(msg["content"])
            except (TypeError, json.JSONDecodeError):
                continue
            parts.append(_fill(str(data.get("message") or data.get("error") or ""), data))
        return " ".join(p for p in reversed(parts) if p) or "Done."


class _Keep(dict):  # format_map helper: unknown {names} stay as they are
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(message: str, data: dict[str, Any]) -> str:
    """Fill a tool's message template (``"Schedule {schedule_id} ..."``) from its facts and ids."""
    if "{" not in message:
        return message
    values = _Keep({k: v for k, v in data.items() if not isinstance(v, (dict, list))})
    values.update({k: v for k, v in (data.get("facts") or {}).items() if not isinstance(v, (dict, list))})
    try:
        return message.format_map(values)
    except (ValueError, IndexError, AttributeError):
        return message


def _datasets_in(text: str) -> list[tuple[str, str]]:
    """(name, kind) of every dataset named in ``text``, longest names first."""
    lower = text.lower()
    refs = sorted(all_datasets().values(), key=lambda r: len(r.name), reverse=True)
    return [(r.name, r.kind) for r in refs if re.search(r"(?<![\w-])" + re.escape(r.name.lower()) + r"(?![\w-])", lower)]
