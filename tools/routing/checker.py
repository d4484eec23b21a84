"""A solution checker that knows nothing about any solver.

Given an instance and routes (node indices per vehicle), it recomputes everything from the
instance's own matrices: each customer served exactly once, loads against capacity, the
earliest-start schedule against time windows and the depot's closing time (route duration),
and the cost. ``RouteResult.feasible`` comes from here, never from the solver's word.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.routing.instance import RoutingInstance


@dataclass
class RouteCheck:
    """One route's recomputed figures (internal units)."""

    nodes: list[int]
    load: int
    distance: int
    depart: int = 0  # leaving the depot (as late as possible without changing the first service start)
    starts: list[int] = field(default_factory=list)  # service start per stop
    arrivals: list[int] = field(default_factory=list)  # arrival per stop (before any waiting)
    late: list[int] = field(default_factory=list)  # lateness per stop (start - due, >= 0)
    back: int = 0  # return to the depot
    overtime: int = 0  # return after the depot closes

    @property
    def duration(self) -> int:
        return self.back - self.depart


@dataclass
class CheckReport:
    """The checker's verdict."""

    feasible: bool
    violations: list[str]
    routes: list[RouteCheck]
    distance: int  # internal units
    lateness: int  # internal time units, summed over stops (and depot overtime)
    missing: list[int]
    duplicates: list[int]

    def to_dict(self) -> dict[str, Any]:
        return {"feasible": self.feasible, "violations": self.violations, "distance": self.distance,
                "lateness": self.lateness, "missing": self.missing, "duplicates": self.duplicates}


def check_routes(instance: RoutingInstance, routes: list[list[int]], *, soft_windows: bool = False,
                 max_listed: int = 20) -> CheckReport:
    """Check ``routes`` (node indices 1..n per vehicle, depot implicit) against ``instance``.

    With ``soft_windows`` lateness is measured but is not a violation (the ``lateness``
    objective); capacity, coverage and fleet size are always hard.
    """
    inst = instance
    n = inst.num_customers
    violations: list[str] = []
    seen: dict[int, int] = {}
    duplicates: list[int] = []
    bad_nodes: list[int] = []
    used = [r for r in routes if r]
    if len(used) > inst.num_vehicles:
        violations.append(f"{len(used)} routes but the fleet has {inst.num_vehicles} vehicles")
    checks: list[RouteCheck] = []
    total_dist = 0
    total_late = 0
    for v, route in enumerate(routes):
        if not route:
            continue
        valid = [x for x in route if isinstance(x, int) and 1 <= x <= n]
        if len(valid) != len(route):
            bad_nodes.extend(x for x in route if x not in valid)
        for node in valid:
            if node in seen:
                duplicates.append(node)
            seen[node] = v
        rc = _route(inst, valid)
        checks.append(rc)
        total_dist += rc.distance
        if rc.load > inst.capacity:
            violations.append(f"vehicle {v + 1} carries {rc.load} > capacity {inst.capacity}")
        if inst.has_time_windows:
            late_stops = [(inst.customer_ids[node], late) for node, late in zip(valid, rc.late, strict=True) if late > 0]
            total_late += sum(late for _, late in late_stops) + rc.overtime
            if not soft_windows:
                for cid, late in late_stops[:max_listed]:
                    violations.append(f"vehicle {v + 1} serves order {cid} {inst.real_time(late):g} late")
                if rc.overtime > 0:
                    violations.append(f"vehicle {v + 1} returns {inst.real_time(rc.overtime):g} after the depot closes")
    if bad_nodes:
        violations.append(f"routes name nodes that are not customers: {sorted(set(map(str, bad_nodes)))[:max_listed]}")
    missing = [i for i in range(1, n + 1) if i not in seen]
    if missing:
        ids = [inst.customer_ids[i] for i in missing]
        violations.append(f"{len(missing)} orders not served: {ids[:max_listed]}")
    if duplicates:
        ids = sorted({inst.customer_ids[i] for i in duplicates})
        violations.append(f"orders served more than once: {ids[:max_listed]}")
    return CheckReport(not violations, violations, checks, total_dist, total_late, missing, sorted(set(duplicates)))


def _route(inst: RoutingInstance, nodes: list[int]) -> RouteCheck:
    dist = inst.distance
    path = [0, *nodes, 0]
    distance = int(sum(int(dist[a, b]) for a, b in zip(path[:-1], path[1:], strict=True)))
    load = int(sum(int(inst.demand[x]) for x in nodes))
    rc = RouteCheck(nodes=list(nodes), load=load, distance=distance)
    if not inst.has_time_windows or not nodes:
        return rc
    assert inst.ready is not None and inst.due is not None and inst.service is not None
    dur, ready, due, service = inst.duration, inst.ready, inst.due, inst.service
    t = int(ready[0])
    prev = 0
    for node in nodes:
        arrive = t + int(service[prev]) + int(dur[prev, node])
        start = max(arrive, int(ready[node]))
        rc.arrivals.append(arrive)
        rc.starts.append(start)
        rc.late.append(max(0, start - int(due[node])))
        t, prev = start, node
    rc.back = t + int(service[prev]) + int(dur[prev, 0])
    rc.overtime = max(0, rc.back - int(due[0]))
    # leave the depot later when the vehicle would only wait at its first stop
    rc.depart = max(int(ready[0]), rc.starts[0] - int(dur[0, nodes[0]]))
    return rc
