"""The public tool contract (``shared/spec/assistant-tools.md``, v1) as data.

One source of truth for the five tools' names, arguments and enums: the agent decodes
tool calls under these JSON schemas, the evaluation runner checks suite lines against
them, and the fine-tuning data generator draws from them. Tools may take further
optional arguments (listed under ``extra``); the contract's names never change.
"""

from __future__ import annotations

from typing import Any

from tools.core.errors import DiaoduError, check_choice, check_int, check_number, unknown_name

OBJECTIVES = ("distance", "lateness", "vehicles", "balance")
GUIDANCE = ("gnn", "none")
EVENTS = ("vehicle_breakdown", "new_orders", "cancel_orders", "road_closure", "traffic_delay")
QUESTIONS = ("summary", "why_vehicle", "why_late", "cost_breakdown", "what_if_move", "what_if_fleet")
METHODS = ("rl", "cp_sat", "spt", "mwkr", "fifo", "mopnr", "compare")
INCIDENT_TYPES = ("road_closure", "traffic_accident", "hazmat_spill", "flooding", "vehicle_fire",
                  "severe_weather", "power_outage", "cold_chain_failure")

_STR = {"type": "string"}
_INT = {"type": "integer"}
_NUM = {"type": "number"}

TOOL_SCHEMAS: dict[str, dict[str, Any]] = {
    "plan_routes": {
        "description": "Plan vehicle routes (CVRP, VRPTW) with GNN-guided OR-Tools for a dataset.",
        "properties": {
            "dataset": _STR,
            "num_vehicles": _INT,
            "vehicle_capacity": _INT,
            "time_limit_s": _NUM,
            "objective": {"type": "string", "enum": list(OBJECTIVES)},
            "guidance": {"type": "string", "enum": list(GUIDANCE)},
        },
        "required": ["dataset"],
    },
    "replan": {
        "description": "React to an event (breakdown, new or cancelled orders, road closure, delay) on a plan.",
        "properties": {
            "plan_id": _STR,
            "event": {"type": "string", "enum": list(EVENTS)},
            "vehicle": _INT,
            "orders": {"type": "array", "items": _INT},
            "minutes": _INT,
            "at": {"type": "string", "pattern": "^[0-2]?[0-9]:[0-5][0-9]$"},
            # optional extra (the contract allows them): which road a road_closure closes
            "road": _STR,
        },
        "required": ["event"],
    },
    "explain_plan": {
        "description": "Answer a dispatcher's question about a plan with solver-computed facts.",
        "properties": {
            "plan_id": _STR,
            "question": {"type": "string", "enum": list(QUESTIONS)},
            "order": _INT,
            "vehicle": _INT,
            "num_vehicles": _INT,
        },
        "required": ["question"],
    },
    "schedule_jobs": {
        "description": "Schedule a job shop by RL policy rollouts, dispatching rules or CP-SAT.",
        "properties": {
            "dataset": _STR,
            "method": {"type": "string", "enum": list(METHODS)},
            "rollouts": _INT,
            "time_limit_s": _NUM,
        },
        "required": ["dataset"],
    },
    "search_emergency_cases": {
        "description": "Retrieve similar past emergency cases and response protocol steps from the knowledge graph.",
        "properties": {
            "query": _STR,
            "incident_type": {"type": "string", "enum": list(INCIDENT_TYPES)},
            "location": _STR,
            "k": _INT,
        },
        "required": ["query"],
    },
}

TOOL_NAMES = tuple(TOOL_SCHEMAS)


def json_schema(tool: str) -> dict[str, Any]:
    """The JSON schema of one tool's arguments (no additional properties)."""
    spec = TOOL_SCHEMAS[tool]
    return {"type": "object", "properties": spec["properties"], "required": spec["required"],
            "additionalProperties": False}


def openai_tools() -> list[dict[str, Any]]:
    """The contract in the OpenAI ``tools`` format (for vLLM and OpenAI-compatible clients)."""
    return [{"type": "function", "function": {"name": name, "description": spec["description"],
                                               "parameters": json_schema(name)}} for name, spec in TOOL_SCHEMAS.items()]


def validate_call(tool: str, args: Any) -> dict[str, Any]:
    """Check a tool call against the contract and return normalised arguments.

    Unknown tools or arguments, missing required ones, wrong types and bad enum values
    raise :class:`DiaoduError` naming the bad value and the allowed ones. Domain checks
    (does the dataset exist, is vehicle 7 in the plan) belong to the tool itself.
    """
    if tool not in TOOL_SCHEMAS:
        raise unknown_name("tool", str(tool), TOOL_NAMES)
    if not isinstance(args, dict):
        raise DiaoduError(f"{tool}: arguments must be a JSON object; got {type(args).__name__}")
    props = TOOL_SCHEMAS[tool]["properties"]
    out: dict[str, Any] = {}
    for key, value in args.items():
        if key not in props:
            raise DiaoduError(f"{tool}: unknown argument {key!r}; allowed: {', '.join(props)}")
        if value is None:
            continue
        out[key] = _check_value(f"{tool}.{key}", props[key], value)
    for key in TOOL_SCHEMAS[tool]["required"]:
        if key not in out:
            raise DiaoduError(f"{tool}: missing required argument {key!r}")
    return out


def _check_value(name: str, schema: dict[str, Any], value: Any) -> Any:
    if "enum" in schema:
        return check_choice(name, value, schema["enum"])
    kind = schema["type"]
    if kind == "integer":
        return check_int(name, value)
    if kind == "number":
        return check_number(name, value)
    if kind == "array":
        if not isinstance(value, list):
            raise DiaoduError(f"{name} must be a list of whole numbers; got {value!r}")
        return [check_int(f"{name}[{i}]", v) for i, v in enumerate(value)]
    if not isinstance(value, str) or not value.strip():
        raise DiaoduError(f"{name} must be a non-empty string; got {value!r}")
    if len(value) > 2000:
        raise DiaoduError(f"{name} is too long ({len(value)} characters; at most 2000)")
    return value.strip()
