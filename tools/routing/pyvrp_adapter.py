"""PyVRP as the reference solver: same integer matrices (same rounding), same budget, one thread.

The only module that imports ``pyvrp``. Its routes go through the same independent checker as
ours, so both columns of ``diaodu bench vrp`` are judged the same way.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from tools.routing.instance import RoutingInstance
from tools.routing.result import RouteResult, build_result
from tools.routing.stop import MaxRuntime

_INF = 2**40  # "no window" for PyVRP (its own default is int64 max, which overflows in sums)


def to_problem_data(instance: RoutingInstance):
    """The instance as ``pyvrp.ProblemData`` (location 0 is the depot, clients 1..n)."""
    import pyvrp

    inst = instance
    n1 = inst.num_nodes
    locations = [pyvrp.Location(float(x), float(y)) for x, y in inst.coords]
    tw = inst.has_time_windows
    horizon = int(inst.due[0]) if tw and inst.due is not None else _INF
    depots = [pyvrp.Depot(0, tw_early=int(inst.ready[0]) if tw and inst.ready is not None else 0, tw_late=horizon)]
    clients = []
    for i in range(1, n1):
        kwargs: dict[str, Any] = {}
        if tw:
            assert inst.ready is not None and inst.due is not None and inst.service is not None
            kwargs = {"service_duration": int(inst.service[i]), "tw_early": int(inst.ready[i]),
                      "tw_late": int(inst.due[i])}
        clients.append(pyvrp.Client(i, delivery=[int(inst.demand[i])], **kwargs))
    vehicle = pyvrp.VehicleType(num_available=inst.num_vehicles, capacity=[int(inst.capacity)],
                                tw_early=depots[0].tw_early, tw_late=horizon)
    dur = inst.duration if tw else np.zeros_like(inst.distance)
    # pyvrp's stubs type a matrix's shape as int, so numpy's own array type does not match them
    return pyvrp.ProblemData(locations, clients, depots, [vehicle],
                             [inst.distance.astype(np.int64)],  # type: ignore[list-item]
                             [dur.astype(np.int64)])  # type: ignore[list-item]


def solve(instance: RoutingInstance, stop: MaxRuntime, seed: int = 0) -> RouteResult:
    """Solve with PyVRP's hybrid genetic search for ``stop.seconds`` (distance objective, hard windows)."""
    import pyvrp
    from pyvrp.stop import MaxRuntime as PyvrpMaxRuntime

    t0 = time.perf_counter()
    c0 = stop.now()
    data = to_problem_data(instance)
    criterion: Any
    if stop.clock == "cpu":
        deadline = c0 + stop.seconds
        criterion = lambda best_cost: stop.now() >= deadline  # noqa: E731 - PyVRP calls it once per iteration
    else:
        criterion = PyvrpMaxRuntime(max(stop.seconds - (time.perf_counter() - t0), 0.01))
    res = pyvrp.solve(data, stop=criterion, seed=seed, display=False, collect_stats=False)
    # activities carry the client number (0-based among clients); node = client + 1
    routes = [[int(a.idx) + 1 for a in route if a.is_client()] for route in res.best.routes()]
    return build_result(instance, routes, solver="pyvrp", objective="distance", runtime_s=time.perf_counter() - t0,
                        config={"time_limit_s": stop.seconds, "clock": stop.clock, "pyvrp_feasible": bool(res.is_feasible())}, seed=seed,
                        objective_value=float(res.cost()) / instance.dist_scale if res.is_feasible() else None)
