"""The OR-Tools model of the rest of the day, from where each vehicle stands at time t.

Built on the routing adapter's public pieces (``search_parameters``, ``extract_routes``, the
lateness weight) but with its own index manager, because mid-day every vehicle starts somewhere
else: at the stop it is serving or driving to (at the moment it will leave it), or at the depot
no earlier than t. Served and committed stops are not in the model; the model holds the depot,
the vehicles' start stops and the open orders.

- capacity: each vehicle has its capacity minus what its committed stops take;
- time windows are soft (late service costs ``LATENESS_WEIGHT`` per time unit), so an event that
  makes lateness unavoidable still yields a plan, with the late orders named;
- every open order may be dropped at a prohibitive price: what is dropped is *unservable*;
- stability: an order served by another vehicle than in the current plan costs ``move_penalty``
  (a per-vehicle "moved" dimension with a span cost), and the search starts from the current routes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp

from tools.routing.instance import RoutingInstance
from tools.routing.ortools_adapter import LATENESS_WEIGHT, extract_routes, search_parameters
from tools.routing.stop import MaxRuntime

log = logging.getLogger(__name__)

DROP_FACTOR = 1000  # dropping an order costs this many times the longest arc (in cost units)
STALL_FRACTION = 0.25  # stop when the best cost has not improved for this share of the budget


@dataclass
class Remainder:
    """What is left at time t: vehicles (with start anchors) and open orders (node indices)."""

    vehicles: list[int]  # available vehicle indices (0-based, in the instance's numbering)
    anchors: list[int]  # start node per available vehicle (0 = depot)
    start_times: list[int]  # start cumul per available vehicle
    capacities: list[int]  # remaining capacity per available vehicle
    open_nodes: list[int]  # orders to place
    previous: dict[int, int] = field(default_factory=dict)  # node -> vehicle index serving it now
    forced: dict[int, int] = field(default_factory=dict)  # node -> vehicle index it must go to


@dataclass
class RemainderSolution:
    routes: dict[int, list[int]]  # vehicle index -> open nodes in order
    dropped: list[int]
    seconds: float
    time_to_best: float
    found: bool


def solve_remainder(inst: RoutingInstance, rem: Remainder, dist: np.ndarray, dur: np.ndarray,
                    stop: MaxRuntime, *, warm: dict[int, list[int]] | None = None, move_penalty: int = 0,
                    stall: bool = True) -> RemainderSolution:
    """Place ``rem.open_nodes`` on ``rem.vehicles`` within ``stop``; matrices are those in force now."""
    t0 = time.perf_counter()
    sub = [0] + sorted({a for a in rem.anchors if a}) + list(rem.open_nodes)
    local = {node: k for k, node in enumerate(sub) if node}  # anchors and open nodes are disjoint
    V, m = len(rem.vehicles), len(sub)
    if V == 0:
        return RemainderSolution({}, list(rem.open_nodes), 0.0, 0.0, False)
    starts = [local[a] if a else 0 for a in rem.anchors]
    manager = pywrapcp.RoutingIndexManager(m, V, starts, [0] * V)
    routing = pywrapcp.RoutingModel(manager)
    idx = np.asarray(sub)
    d_sub = dist[np.ix_(idx, idx)].astype(np.int64)
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(d_sub.tolist()))
    anchor_set = {local[a] for a in rem.anchors if a}
    demand = [0 if k in anchor_set or k == 0 else int(inst.demand[sub[k]]) for k in range(m)]
    routing.AddDimensionWithVehicleCapacity(routing.RegisterUnaryTransitVector(demand), 0,
                                            [max(0, int(c)) for c in rem.capacities], True, "Capacity")
    if inst.has_time_windows:
        assert inst.ready is not None and inst.due is not None and inst.service is not None
        travel = dur[np.ix_(idx, idx)] + inst.service[idx][:, None]
        horizon = int(inst.due[0])
        cap = int(max(horizon, max(rem.start_times)) + travel.max() * (m + 1))
        routing.AddDimension(routing.RegisterTransitMatrix(travel.astype(np.int64).tolist()), cap, cap, False, "Time")
        tdim = routing.GetDimensionOrDie("Time")
        penalty = max(1, round(LATENESS_WEIGHT * inst.dist_scale / inst.time_scale))
        for k in range(1, m):
            if k in anchor_set:
                continue
            node = sub[k]
            i = manager.NodeToIndex(k)
            tdim.CumulVar(i).SetMin(int(inst.ready[node]))
            tdim.SetCumulVarSoftUpperBound(i, int(inst.due[node]), penalty)
        for s, st in enumerate(rem.start_times):
            tdim.CumulVar(routing.Start(s)).SetValue(int(st))
            tdim.SetCumulVarSoftUpperBound(routing.End(s), horizon, penalty)
            routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.End(s)))
    pos = {v: s for s, v in enumerate(rem.vehicles)}
    if move_penalty > 0 and rem.previous:
        moved_cbs = []
        for v in rem.vehicles:
            vec = [1 if (k and sub[k] in rem.previous and rem.previous[sub[k]] != v and k not in anchor_set) else 0
                   for k in range(m)]
            moved_cbs.append(routing.RegisterUnaryTransitVector(vec))
        routing.AddDimensionWithVehicleTransits(moved_cbs, 0, m + 1, True, "Moved")
        routing.GetDimensionOrDie("Moved").SetSpanCostCoefficientForAllVehicles(int(move_penalty))
    drop = int(DROP_FACTOR * max(1, int(d_sub.max())))
    for k in range(1, m):
        if k in anchor_set:
            continue
        i = manager.NodeToIndex(k)
        target = rem.forced.get(sub[k])
        if target is not None:
            routing.VehicleVar(i).SetValue(int(pos[target]))  # SetAllowedVehiclesForIndex is unusable from Python in 9.15
        else:
            routing.AddDisjunction([i], drop)

    best: list[float] = []
    last_improve = [time.perf_counter()]

    def on_solution() -> None:
        c = routing.CostVar().Max()
        if not best or c < best[-1]:
            best.append(c)
            last_improve[0] = time.perf_counter()

    routing.AddAtSolutionCallback(on_solution)
    if stall:
        patience = max(0.2, STALL_FRACTION * stop.seconds)
        routing.AddSearchMonitor(routing.solver().CustomLimit(
            lambda: bool(best) and time.perf_counter() - last_improve[0] > patience))
    params = search_parameters("PARALLEL_CHEAPEST_INSERTION", max(0.05, stop.seconds - (time.perf_counter() - t0)))
    solution = None
    if warm is not None:
        # the routes are OR-Tools indices; with mid-day starts they differ from the model's node numbers
        init = [[manager.NodeToIndex(local[n]) for n in warm.get(v, []) if n in local and local[n] not in anchor_set]
                for v in rem.vehicles]
        assignment = routing.ReadAssignmentFromRoutes(init, True)
        if assignment is None:
            log.warning("warm start from the current routes was rejected; solving from scratch")
        else:
            solution = routing.SolveFromAssignmentWithParameters(assignment, params)
    if solution is None:
        solution = routing.SolveWithParameters(params)
    seconds = time.perf_counter() - t0
    if solution is None:
        return RemainderSolution({}, [], seconds, seconds, False)
    # extract_routes reads only .manager and .routing of the adapter's model handle
    raw = extract_routes(SimpleNamespace(manager=manager, routing=routing), solution)  # type: ignore[arg-type]
    routes = {v: [sub[k] for k in r] for v, r in zip(rem.vehicles, raw, strict=True)}
    placed = {n for r in routes.values() for n in r}
    dropped = [n for n in rem.open_nodes if n not in placed]
    return RemainderSolution(routes, dropped, seconds, last_improve[0] - t0, True)


def describe(rem: Remainder) -> dict[str, Any]:
    """Sizes of the remainder problem (for results and logs)."""
    return {"vehicles_available": len(rem.vehicles), "open_orders": len(rem.open_nodes)}
