"""Tool name -> implementation, with validation against the contract in front of every call.

This is the single door through which the assistant, the HTTP API and the evaluation
runner reach a tool: ``run_tool`` validates the arguments (``tools.contract``), applies an
optional cap on solver budgets, runs the tool and turns any :class:`DiaoduError` into an
error result that can go back to the model, never an exception.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from tools.contract import TOOL_NAMES, validate_call
from tools.core.errors import DiaoduError

log = logging.getLogger(__name__)

# Where each contract tool lives (module, function); imported lazily so that a user who
# only plans routes never pays for loading the knowledge graph's encoder.
IMPLEMENTATIONS: dict[str, tuple[str, str]] = {
    "plan_routes": ("tools.routing.plan_tool", "plan_routes"),
    "replan": ("tools.replan.replan_tool", "replan"),
    "explain_plan": ("tools.replan.explain_tool", "explain_plan"),
    "schedule_jobs": ("tools.jobshop.schedule_tool", "schedule_jobs"),
    "search_emergency_cases": ("knowledge_graph.tool", "search_emergency_cases"),
}

# Tools whose budget is the optional ``time_limit_s`` argument (capped by ``max_tool_seconds``).
BUDGETED = {"plan_routes", "schedule_jobs", "replan", "explain_plan"}
DEFAULT_BUDGET_S = {"plan_routes": 10.0, "schedule_jobs": 10.0, "replan": 5.0, "explain_plan": 5.0}


@dataclass
class ToolOutcome:
    """What one tool call did: the validated arguments, whether it ran, and its result or error."""

    tool: str
    args: dict[str, Any]
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "args": self.args, "ok": self.ok, "result": self.result}


def implementation(tool: str) -> Any:
    module, name = IMPLEMENTATIONS[tool]
    return getattr(importlib.import_module(module), name)


def run_tool(tool: str, args: Any, *, max_tool_seconds: float | None = None, extra: dict[str, Any] | None = None) -> ToolOutcome:
    """Validate and run one tool call; errors come back as ``ok=False`` with an ``error`` message."""
    start = time.perf_counter()
    try:
        clean = validate_call(tool, args)
    except DiaoduError as exc:
        return ToolOutcome(str(tool), args if isinstance(args, dict) else {}, False, exc.to_dict(),
                           time.perf_counter() - start)
    call_args = dict(clean)
    if extra:
        call_args.update(extra)
    if max_tool_seconds is not None and tool in BUDGETED:
        budget = call_args.get("time_limit_s", DEFAULT_BUDGET_S[tool])
        call_args["time_limit_s"] = min(float(budget), float(max_tool_seconds))
    try:
        fn = implementation(tool)
    except ModuleNotFoundError as exc:
        log.error("tool %s is not available: %s", tool, exc)
        return ToolOutcome(tool, clean, False, {"error": f"the {tool} tool is not installed in this build", "code": "unavailable"},
                           time.perf_counter() - start)
    try:
        inspect.signature(fn).bind(**call_args)
    except TypeError as exc:  # an argument the implementation does not take: a contract mismatch, say it plainly
        log.error("tool %s rejected its arguments: %s", tool, exc)
        return ToolOutcome(tool, clean, False, {"error": f"{tool}: {exc}", "code": "bad_arguments"}, time.perf_counter() - start)
    try:
        result = fn(**call_args)
    except DiaoduError as exc:
        return ToolOutcome(tool, clean, False, exc.to_dict(), time.perf_counter() - start)
    except Exception as exc:  # a fault inside the tool: the model and the user get a message, the log the traceback
        log.exception("tool %s failed", tool)
        return ToolOutcome(tool, clean, False, {"error": f"{tool} failed: {type(exc).__name__}: {exc}", "code": "tool_error"},
                           time.perf_counter() - start)
    return ToolOutcome(tool, clean, True, result, time.perf_counter() - start)


__all__ = ["TOOL_NAMES", "ToolOutcome", "run_tool", "implementation"]
