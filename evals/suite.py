"""Scenario suites (``shared/spec/scenario-suite.md``): reading, checking, and the predictions file.

A bad line (invalid JSON, unknown tool, bad enum, wrong shape) is reported with its line
number and skipped; the rest of the suite still loads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.contract import TOOL_SCHEMAS, validate_call
from tools.core.errors import DiaoduError

LANGS = ("en", "zh")


@dataclass
class Turn:
    user: str
    expect: list[dict[str, Any]]
    answer_mentions: list[str] = field(default_factory=list)


@dataclass
class Scenario:
    id: str
    lang: str
    turns: list[Turn]
    line: int = 0


@dataclass
class LineError:
    line: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "error": self.message}


def parse_scenario(obj: Any, line: int) -> Scenario:
    """One suite line as a :class:`Scenario`, or a :class:`DiaoduError` saying what is wrong."""
    if not isinstance(obj, dict):
        raise DiaoduError("a scenario must be a JSON object")
    sid = obj.get("id")
    if not isinstance(sid, (str, int)) or str(sid).strip() == "":
        raise DiaoduError("'id' is missing or empty")
    lang = obj.get("lang")
    if lang not in LANGS:
        raise DiaoduError(f"'lang' must be one of {', '.join(LANGS)}; got {lang!r}")
    turns = obj.get("turns")
    if not isinstance(turns, list) or not turns:
        raise DiaoduError("'turns' must be a non-empty list")
    parsed = []
    for i, t in enumerate(turns, 1):
        if not isinstance(t, dict) or not isinstance(t.get("user"), str) or not t["user"].strip():
            raise DiaoduError(f"turn {i}: 'user' must be a non-empty string")
        expect = t.get("expect", [])
        if not isinstance(expect, list):
            raise DiaoduError(f"turn {i}: 'expect' must be a list of tool calls")
        for j, call in enumerate(expect, 1):
            if not isinstance(call, dict) or "tool" not in call:
                raise DiaoduError(f"turn {i}, call {j}: must be an object with 'tool' and 'args'")
            if call["tool"] not in TOOL_SCHEMAS:
                raise DiaoduError(f"turn {i}, call {j}: unknown tool {call['tool']!r}; allowed: {', '.join(TOOL_SCHEMAS)}")
            args = call.get("args", {})
            try:
                # expected args are a subset: check names and values, not required-ness
                validate_call(call["tool"], {**_required_stub(call["tool"]), **args})
            except DiaoduError as exc:
                raise DiaoduError(f"turn {i}, call {j}: {exc.message}") from None
        mentions = t.get("answer_mentions", [])
        if not isinstance(mentions, list) or not all(isinstance(m, str) for m in mentions):
            raise DiaoduError(f"turn {i}: 'answer_mentions' must be a list of strings")
        parsed.append(Turn(t["user"], [{"tool": c["tool"], "args": c.get("args", {})} for c in expect], mentions))
    return Scenario(str(sid), lang, parsed, line)


def _required_stub(tool: str) -> dict[str, Any]:
    stubs = {"dataset": "x", "event": "road_closure", "question": "summary", "query": "x"}
    return {k: stubs[k] for k in TOOL_SCHEMAS[tool]["required"]}


def _json_lines(path: str | Path, what: str, errors: list[LineError]) -> Iterator[tuple[int, Any]]:
    """``(line number, object)`` for each non-blank JSON line; bad JSON goes to ``errors``."""
    path = Path(path)
    if not path.is_file():
        raise DiaoduError(f"{what} file not found: {path}", code="file_error")
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                yield n, json.loads(raw)
            except json.JSONDecodeError as exc:
                errors.append(LineError(n, f"invalid JSON ({exc.msg} at column {exc.colno})"))


def load_suite(path: str | Path) -> tuple[list[Scenario], list[LineError]]:
    """Read a suite; returns the good scenarios and the bad lines (with line numbers)."""
    scenarios: list[Scenario] = []
    errors: list[LineError] = []
    seen: set[str] = set()
    for n, obj in _json_lines(path, "suite", errors):
        try:
            sc = parse_scenario(obj, n)
        except DiaoduError as exc:
            errors.append(LineError(n, exc.message))
            continue
        if sc.id in seen:
            errors.append(LineError(n, f"duplicate scenario id {sc.id!r}"))
            continue
        seen.add(sc.id)
        scenarios.append(sc)
    errors.sort(key=lambda e: e.line)
    return scenarios, errors


def write_predictions(path: str | Path, predictions: list[dict[str, Any]]) -> None:
    """Write the predictions file: one JSON line per scenario, in the spec's format."""
    with open(path, "w", encoding="utf-8") as f:
        for p in predictions:
            f.write(json.dumps(p, ensure_ascii=False, default=str) + "\n")


def read_predictions(path: str | Path) -> tuple[dict[str, dict[str, Any]], list[LineError]]:
    """Read a predictions file into ``{scenario id: prediction}`` plus bad lines."""
    out: dict[str, dict[str, Any]] = {}
    errors: list[LineError] = []
    for n, obj in _json_lines(path, "predictions", errors):
        if not isinstance(obj, dict) or "id" not in obj or not isinstance(obj.get("turns"), list):
            errors.append(LineError(n, "a prediction needs 'id' and a 'turns' list"))
            continue
        out[str(obj["id"])] = obj
    errors.sort(key=lambda e: e.line)
    return out, errors
