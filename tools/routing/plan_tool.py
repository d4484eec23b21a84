"""``plan_routes``: the contract tool (``shared/spec/assistant-tools.md``).

Validates its arguments, loads the dataset, asks the guidance provider (GNN when its weights are
shipped), solves with OR-Tools, checks the result independently and stores the plan in the
workspace database as ``plan-N``. The stored payload holds everything later tools need to
rebuild the instance and the routes (:func:`instance_for_plan`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from tools.contract import GUIDANCE, OBJECTIVES
from tools.core.datasets import ROUTING_KINDS, resolve
from tools.core.errors import DiaoduError, check_choice, check_int, check_number
from tools.core.store import Store
from tools.routing.guidance import Guidance
from tools.routing.instance import RoutingInstance, load_instance
from tools.routing.ortools_adapter import ProgressFn, solve
from tools.routing.result import RouteResult
from tools.routing.stop import MaxRuntime

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT_S = 10.0
MAX_TIME_LIMIT_S = 600.0
PLAN_FORMAT = 1


def plan_routes(dataset: str, num_vehicles: int | None = None, vehicle_capacity: int | None = None,
                time_limit_s: float | None = None, objective: str | None = None, guidance: str | None = None,
                seed: int = 0, progress: ProgressFn | None = None, save: bool = True) -> dict[str, Any]:
    """Plan vehicle routes for ``dataset`` and store the plan; returns the contract's result dict.

    Returns ``{plan_id, dataset, cost, routes, feasible, facts, message, ...}``. An infeasible
    request raises :class:`DiaoduError` (code ``infeasible``) whose message names the cause.
    """
    ref = resolve(dataset, ROUTING_KINDS)
    if num_vehicles is not None:
        num_vehicles = check_int("num_vehicles", num_vehicles, minimum=1, maximum=5000)
    if vehicle_capacity is not None:
        vehicle_capacity = check_int("vehicle_capacity", vehicle_capacity, minimum=1)
    limit = DEFAULT_TIME_LIMIT_S if time_limit_s is None else check_number(
        "time_limit_s", time_limit_s, minimum=0.1, maximum=MAX_TIME_LIMIT_S)
    obj = "distance" if objective is None else check_choice("objective", objective, OBJECTIVES)
    requested = None if guidance is None else check_choice("guidance", guidance, GUIDANCE)
    seed = check_int("seed", seed, minimum=0)

    base = load_instance(ref)
    inst = base.with_overrides(num_vehicles=num_vehicles, capacity=vehicle_capacity)
    guide, guidance_used, guidance_note = _guidance(inst, requested, limit)
    result = solve(inst, MaxRuntime(limit), seed, objective=obj, guidance=guide, progress=progress)
    if not result.routes:
        raise DiaoduError(f"no plan for {inst.name} with {inst.num_vehicles} vehicles of capacity {inst.capacity}: "
                          + "; ".join(result.diagnosis), code="infeasible",
                          details={"diagnosis": result.diagnosis, "dataset": inst.name,
                                   "num_vehicles": inst.num_vehicles, "vehicle_capacity": inst.capacity})
    request = {"dataset": ref.name, "num_vehicles": num_vehicles, "vehicle_capacity": vehicle_capacity,
               "time_limit_s": limit, "objective": obj, "guidance": guidance_used, "seed": seed}
    facts = plan_facts(inst, result)
    facts["guidance"] = guidance_used
    # which search ran: small CVRP instances under ``gnn`` get iterated local search, not the network
    facts["search"] = str(result.config.get("metaheuristic", "GUIDED_LOCAL_SEARCH")).lower()
    reason = ((result.config.get("guidance") or {}).get("meta") or {}).get("why")
    if reason:  # why the guidance chose that search instead of the network (one line, for the explanation)
        facts["search_reason"] = str(reason)
    payload = {
        "format": PLAN_FORMAT, "kind": "route_plan", "dataset": ref.name, "dataset_kind": inst.kind,
        "dataset_source": ref.source, "request": request,
        "overrides": {"num_vehicles": num_vehicles, "vehicle_capacity": vehicle_capacity},
        "objective": obj, "soft_windows": bool(result.config.get("soft_windows")),
        "node_routes": result.node_routes, "routes": [r.to_dict() for r in result.routes],
        "cost": result.cost, "feasible": result.feasible, "violations": result.violations,
        "lateness": result.lateness, "facts": facts, "config": result.config, "created": time.time(),
    }
    plan_id = Store().save_plan(ref.name, payload) if save else None
    notes = [guidance_note] if guidance_note else []
    return {"plan_id": plan_id, "dataset": ref.name, "cost": round(result.cost, 3),
            "unit": inst.units.get("distance", ""), "routes": [r.to_dict() for r in result.routes],
            "feasible": result.feasible, "violations": result.violations, "facts": facts,
            "message": plan_message(plan_id, inst, result, facts),
            "message_zh": plan_message_zh(plan_id, inst, result, facts), "notes": notes,
            "summary": result.summary(), "history": result.to_dict()["history"]}


def _guidance(inst: RoutingInstance, requested: str | None, limit: float) -> tuple[Guidance | None, str, str]:
    """(guidance, what was used, a note when the request could not be honoured)."""
    if requested == "none":
        return None, "none", ""
    try:
        from tools.routing import gnn
    except ImportError as exc:
        note = f"GNN guidance is not installed ({exc.name}); solved without guidance"
        return None, "none", note if requested == "gnn" else ""
    if not gnn.available():
        note = "GNN weights are not shipped in this build; solved without guidance"
        return None, "none", note if requested == "gnn" else ""
    try:
        provider = gnn.default_provider()
        # the provider plans its rounds over the whole budget; its own time is charged inside that budget
        guide = provider.prepare(inst, budget_s=limit)
    except DiaoduError as exc:
        return None, "none", f"GNN guidance failed ({exc.message}); solved without guidance"
    except Exception as exc:  # a broken provider must not break planning; say so instead
        log.exception("GNN guidance failed for %s", inst.name)
        return None, "none", f"GNN guidance failed ({type(exc).__name__}); solved without guidance"
    return guide, "gnn", ""


def plan_facts(inst: RoutingInstance, result: RouteResult) -> dict[str, Any]:
    """Numbers an answer may cite, all computed from the checked routes."""
    routes = result.routes
    dists = [r.distance for r in routes]
    loads = [r.load for r in routes]
    late = {cid: v for r in routes for cid, v in r.late.items()}
    facts: dict[str, Any] = {
        "cost": round(result.cost, 3), "distance_unit": inst.units.get("distance", ""),
        "orders": inst.num_customers, "vehicles_used": result.vehicles_used, "num_vehicles": inst.num_vehicles,
        "vehicle_capacity": inst.capacity, "total_demand": int(inst.demand.sum()),
        "load_utilisation_pct": round(100.0 * sum(loads) / (inst.capacity * max(len(routes), 1)), 1),
        "longest_route": round(max(dists), 3) if dists else 0.0,
        "shortest_route": round(min(dists), 3) if dists else 0.0,
        "feasible": result.feasible, "late_orders": sorted(late), "total_lateness": round(result.lateness, 2),
        "runtime_s": round(result.runtime_s, 2), "objective": result.objective,
    }
    if inst.has_time_windows:
        facts["time_unit"] = inst.units.get("time", "")
        durations = [r.duration or 0.0 for r in routes]
        facts["longest_duration"] = round(max(durations), 2) if durations else 0.0
        if inst.shift_start_min is not None and routes:
            facts["last_return"] = max(str(r.back) for r in routes)
    if result.bks is not None and result.gap is not None:
        facts["best_known"] = result.bks
        facts["gap_pct"] = round(result.gap, 2)
    return facts


def plan_message(plan_id: str | None, inst: RoutingInstance, result: RouteResult, facts: dict[str, Any]) -> str:
    """A template sentence grounded in ``facts``."""
    unit = f" {facts['distance_unit']}" if facts["distance_unit"] else ""
    head = f"Plan {plan_id}" if plan_id else "The plan"
    msg = (f"{head} for {inst.name}: {facts['vehicles_used']} of {facts['num_vehicles']} vehicles serve all "
           f"{facts['orders']} orders, total distance {facts['cost']:g}{unit}")
    if "gap_pct" in facts:
        msg += f" ({facts['gap_pct']:.2f}% above the best known {facts['best_known']:g})"
    if facts["late_orders"]:
        msg += f"; {len(facts['late_orders'])} orders late (total {facts['total_lateness']:g} {facts.get('time_unit', '')})"
    elif inst.has_time_windows:
        msg += "; every delivery within its time window"
    if not result.feasible:
        msg += f". WARNING: the plan breaks constraints: {'; '.join(result.violations[:3])}"
    return msg + "."


def plan_message_zh(plan_id: str | None, inst: RoutingInstance, result: RouteResult, facts: dict[str, Any]) -> str:
    """The same sentence in Chinese, for dispatchers who write Chinese."""
    unit = {"km": " 公里"}.get(facts["distance_unit"], f" {facts['distance_unit']}" if facts["distance_unit"] else "")
    msg = (f"{inst.name} 的方案 {plan_id or ''}：{facts['num_vehicles']} 辆车中用 {facts['vehicles_used']} 辆，"
           f"完成全部 {facts['orders']} 个订单，总里程 {facts['cost']:g}{unit}")
    if "gap_pct" in facts:
        msg += f"（比已知最优 {facts['best_known']:g} 高 {facts['gap_pct']:.2f}%）"
    if facts["late_orders"]:
        msg += f"；{len(facts['late_orders'])} 个订单迟到"
    elif inst.has_time_windows:
        msg += "；所有订单均在时间窗内送达"
    if not result.feasible:
        msg += "。警告：方案违反约束：" + "；".join(result.violations[:3])
    return msg + "。"


def instance_for_plan(plan: dict[str, Any] | str) -> tuple[RoutingInstance, dict[str, Any]]:
    """Rebuild the instance a stored plan was made on (dataset + overrides); returns (instance, payload)."""
    payload = Store().load_plan(plan) if isinstance(plan, str) else plan
    if payload.get("kind") != "route_plan":
        raise DiaoduError(f"{payload.get('plan_id', 'plan')} is not a route plan")
    over = payload.get("overrides") or {}
    inst = load_instance(payload["dataset"]).with_overrides(num_vehicles=over.get("num_vehicles"),
                                                            capacity=over.get("vehicle_capacity"))
    return inst, payload
