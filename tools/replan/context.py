"""A stored plan rebuilt for events and questions: instance, whole-day routes, state, schedule."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from tools.core.errors import DiaoduError, check_int
from tools.core.store import Store
from tools.replan.timeline import Network, PlanState, Position, Timed, clock_or_units, position, simulate
from tools.routing.checker import CheckReport
from tools.routing.instance import RoutingInstance, parse_clock
from tools.routing.plan_tool import PLAN_FORMAT, instance_for_plan, plan_facts
from tools.routing.result import RouteResult, route_infos


@dataclass
class PlanContext:
    """One stored plan, ready to be replanned or questioned."""

    plan_id: str
    payload: dict[str, Any]
    inst: RoutingInstance
    state: PlanState
    routes: list[list[int]]  # whole-day node routes, one per vehicle of the fleet
    report: CheckReport
    timed: list[Timed]
    net: Network  # the plan's matrices through the day (closure detours are computed once)

    @property
    def dataset(self) -> str:
        return str(self.payload["dataset"])

    def vehicle_of(self) -> dict[int, int]:
        """node -> vehicle index serving it."""
        return {n: v for v, r in enumerate(self.routes) for n in r}

    def result(self, seconds: float = 0.0) -> RouteResult:
        return to_result(self.inst, self.routes, self.report, self.payload.get("objective", "distance"), seconds)


def load_context(plan_id: str | None) -> PlanContext:
    """Load ``plan_id`` (default ``latest``) and recompute its day under its events."""
    pid = "latest" if plan_id is None else plan_id
    if not isinstance(pid, str):
        raise DiaoduError(f"plan_id must be like 'plan-3' or 'latest'; got {plan_id!r}")
    payload = Store().load_plan(pid)
    if payload.get("kind") != "route_plan":
        raise DiaoduError(f"{payload.get('plan_id')} is not a route plan", code="wrong_plan")
    inst, payload = instance_for_plan(payload)
    state = PlanState.from_dict((payload.get("replan") or {}).get("state"))
    routes = vehicle_routes(payload, inst.num_vehicles)
    net = Network(inst, state.closures)
    report, timed = simulate(inst, routes, state, net,
                             soft_windows=bool(payload.get("soft_windows")) or not state.trivial)
    return PlanContext(payload["plan_id"], payload, inst, state, routes, report, timed, net)


def vehicle_routes(payload: dict[str, Any], num_vehicles: int) -> list[list[int]]:
    """Node routes indexed by vehicle (0-based), one per vehicle of the fleet.

    ``node_routes`` of ``plan_routes`` lists only used vehicles, so the vehicle numbers shown to the
    user come from ``routes[*].vehicle``; a replanned payload keeps one entry per vehicle anyway.
    """
    shown = payload.get("routes") or []
    if shown and all(isinstance(r, dict) and "vehicle" in r and "nodes" in r for r in shown):
        size = max([num_vehicles] + [int(r["vehicle"]) for r in shown])
        routes: list[list[int]] = [[] for _ in range(size)]
        for r in shown:
            routes[int(r["vehicle"]) - 1] = [int(x) for x in r["nodes"]]
        return routes
    raw = [list(map(int, r)) for r in payload.get("node_routes") or []]
    return (raw + [[] for _ in range(num_vehicles)])[:max(num_vehicles, len(raw))]


def to_result(inst: RoutingInstance, routes: list[list[int]], report: CheckReport, objective: str,
              seconds: float) -> RouteResult:
    """A :class:`RouteResult` from simulated routes (so ``plan_facts`` and the route dicts are shared)."""
    return RouteResult(instance=inst.name, kind=inst.kind, solver="ortools-replan", objective=objective,
                       routes=route_infos(inst, routes, report), cost=inst.real_distance(report.distance),
                       feasible=report.feasible, violations=report.violations, runtime_s=seconds,
                       lateness=inst.real_time(report.lateness), bks=None, num_vehicles=inst.num_vehicles)


def parse_at(inst: RoutingInstance, at: str | None, state: PlanState) -> tuple[int, str]:
    """Internal time of ``at`` and a note on how it was read; defaults to the plan's last event time."""
    if at is None:
        t = state.time
        note = ("no time given: the shift start" if t == 0 else "no time given: the time of the plan's last event")
        return t, f"{clock_or_units(inst, t)} ({note})"
    if not isinstance(at, str):
        raise DiaoduError(f"at must be a clock time like '09:30'; got {at!r}")
    minutes = parse_clock(at, "at")
    if inst.shift_start_min is not None:
        t = (minutes - inst.shift_start_min) * inst.time_scale
        if t < 0:
            raise DiaoduError(f"at {at} is before the shift starts ({clock_or_units(inst, 0)}); events happen during "
                              f"the shift", code="before_shift")
        note = "clock time"
    else:  # benchmarks have no clock: HH:MM counts the instance's own time units from time 0
        t = minutes * inst.time_scale
        note = f"dataset {inst.name} has no clock; {at} read as {minutes} time units after time 0"
    if inst.has_time_windows and t > inst.horizon:
        raise DiaoduError(f"at {at} is after the shift ends ({clock_or_units(inst, inst.horizon)})", code="after_shift")
    if t < state.time:
        raise DiaoduError(f"at {at} is before the plan's last event at {clock_or_units(inst, state.time)}; events "
                          "must come in time order", code="out_of_order")
    return t, f"{at} ({note})"


def check_vehicle(ctx: PlanContext, vehicle: Any, *, at: int | None = None) -> int:
    """0-based index of a 1-based vehicle number, with the valid range in the error."""
    V = ctx.inst.num_vehicles
    if isinstance(vehicle, bool) or not isinstance(vehicle, (int, float)):
        raise DiaoduError(f"vehicle must be a whole number 1..{V}; got {vehicle!r}")
    v = check_int("vehicle", vehicle)
    if not 1 <= v <= V:
        raise DiaoduError(f"unknown vehicle {v}: {ctx.plan_id} has vehicles 1..{V}", code="unknown_vehicle",
                          details={"valid": [1, V]})
    if (v - 1) in ctx.state.broken and (at is None or ctx.state.broken[v - 1] <= at):
        raise DiaoduError(f"vehicle {v} broke down at {clock_or_units(ctx.inst, ctx.state.broken[v - 1])} "
                          f"in {ctx.plan_id}; it is out of service", code="vehicle_broken")
    return v - 1


def order_nodes(ctx: PlanContext, orders: Any, what: str = "orders") -> list[int]:
    """Node indices of a list of order ids (unique, each known to the dataset)."""
    if orders is None or (isinstance(orders, list) and not orders):
        raise DiaoduError(f"{what}: give at least one order id (customer ids as in dataset {ctx.dataset!r})",
                          code="missing_orders")
    if isinstance(orders, int) and not isinstance(orders, bool):
        orders = [orders]
    if not isinstance(orders, list):
        raise DiaoduError(f"{what} must be a list of order ids; got {orders!r}")
    nodes = []
    for o in orders:
        if isinstance(o, bool) or not isinstance(o, int):
            raise DiaoduError(f"{what} must be whole-number order ids; got {o!r}")
        n = ctx.inst.node_of(o)
        if n not in nodes:
            nodes.append(n)
    return nodes


def positions(ctx: PlanContext, routes: list[list[int]], timed: list[Timed], t: int,
              broken_now: int | None = None) -> dict[int, Position]:
    """Every vehicle's position at ``t`` (vehicles broken earlier are left out)."""
    out = {}
    for v, nodes in enumerate(routes):
        if v in ctx.state.broken and v != broken_now:
            continue
        out[v] = position(ctx.inst, v, nodes, timed[v], t, broken=v == broken_now)
    return out


def make_payload(ctx: PlanContext, routes: list[list[int]], report: CheckReport, state: PlanState,
                 request: dict[str, Any], extra: dict[str, Any], seconds: float) -> tuple[dict[str, Any], RouteResult,
                                                                                           dict[str, Any]]:
    """The stored plan payload (plan_tool's format, plus the ``replan`` state), its result and facts."""
    result = to_result(ctx.inst, routes, report, ctx.payload.get("objective", "distance"), seconds)
    facts = plan_facts(ctx.inst, result)
    payload = {
        "format": PLAN_FORMAT, "kind": "route_plan", "dataset": ctx.dataset, "dataset_kind": ctx.inst.kind,
        "dataset_source": ctx.payload.get("dataset_source"), "request": request,
        "overrides": ctx.payload.get("overrides") or {}, "objective": ctx.payload.get("objective", "distance"),
        "soft_windows": True, "node_routes": routes, "routes": [r.to_dict() for r in result.routes],
        "cost": result.cost, "feasible": result.feasible, "violations": result.violations,
        "lateness": result.lateness, "facts": facts, "config": {"solver": "ortools-replan"}, "created": time.time(),
        "replan": {"state": state.to_dict(), **extra},
    }
    return payload, result, facts
