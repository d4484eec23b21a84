"""A plan's state through the day and an event-aware schedule simulator.

The stored plan keeps whole-day routes per vehicle (stops already served included) plus a
:class:`PlanState`: the events so far. :func:`simulate` recomputes the day from them with the
checker's rules (earliest service start, the wait happens at the stop, the depot departure is as
late as it can be without moving the first service) plus the events:

- *releases*: a vehicle cannot set off towards the k-th stop of its route before time r (after a
  replan at r, nothing it does from then on can happen earlier);
- *delays*: a delay of m at time t pushes the vehicle's first arrival at or after t by m;
- *closures*: legs that set off at or after a closure use the detour matrices;
- *breakdowns*: the route ends at the last stop served before the breakdown (no return leg).

With no events it is exactly :func:`tools.routing.checker.check_routes` (a test holds it to that).
Times are internal units of the instance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tools.replan.roads import closed_matrices
from tools.routing.checker import CheckReport, RouteCheck, check_routes
from tools.routing.instance import RoutingInstance

NEVER = -(10**12)


@dataclass
class PlanState:
    """Everything that happened to a plan so far (JSON-able via :meth:`to_dict`)."""

    time: int = 0  # internal time of the last event
    excluded: list[int] = field(default_factory=list)  # node indices not (or no longer) to serve
    closures: list[dict[str, Any]] = field(default_factory=list)  # {"road": id, "name", "points", "time"}
    broken: dict[int, int] = field(default_factory=dict)  # vehicle index (0-based) -> breakdown time
    delays: list[dict[str, int]] = field(default_factory=list)  # {"vehicle": index, "time": t, "minutes": m}
    releases: dict[int, list[list[int]]] = field(default_factory=dict)  # vehicle -> [[position, time], ...]
    events: list[dict[str, Any]] = field(default_factory=list)  # what happened, for reports

    @property
    def trivial(self) -> bool:
        """No event changes the checker's schedule (then :func:`simulate` delegates to the checker)."""
        return not (self.closures or self.broken or self.delays or any(
            r > NEVER for rel in self.releases.values() for _, r in rel))

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "excluded": sorted(self.excluded), "closures": self.closures,
                "broken": {str(k): v for k, v in self.broken.items()}, "delays": self.delays,
                "releases": {str(k): v for k, v in self.releases.items()}, "events": self.events}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> PlanState:
        data = data or {}
        return cls(time=int(data.get("time", 0)), excluded=[int(x) for x in data.get("excluded", [])],
                   closures=list(data.get("closures", [])),
                   broken={int(k): int(v) for k, v in (data.get("broken") or {}).items()},
                   delays=[{k: int(v) for k, v in d.items()} for d in data.get("delays", [])],
                   releases={int(k): [[int(p), int(r)] for p, r in v] for k, v in (data.get("releases") or {}).items()},
                   events=list(data.get("events", [])))

    def copy(self) -> PlanState:
        return PlanState.from_dict(self.to_dict())


class Network:
    """The instance's matrices at any time of day, with the closures in force then (cached)."""

    def __init__(self, instance: RoutingInstance, closures: list[dict[str, Any]]):
        self.instance = instance
        self.closures = sorted(closures, key=lambda c: c["time"])
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] = {0: (instance.distance, instance.duration)}

    def at(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(distance, duration) for a leg that sets off at time ``t``."""
        k = sum(1 for c in self.closures if c["time"] <= t)
        if k not in self._cache:
            dist, dur, _ = closed_matrices(self.instance, self.closures[:k])
            self._cache[k] = (dist, dur)
        return self._cache[k]


def windows(inst: RoutingInstance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ready, due, service); CVRP instances get an open day and no service times."""
    if inst.has_time_windows:
        assert inst.ready is not None and inst.due is not None and inst.service is not None
        return inst.ready, inst.due, inst.service
    n1 = inst.num_nodes
    return np.zeros(n1, dtype=np.int64), np.full(n1, 10**12, dtype=np.int64), np.zeros(n1, dtype=np.int64)


@dataclass
class Timed:
    """One vehicle's simulated day (internal units); ``free[i]`` is when service at stop i ends."""

    check: RouteCheck
    free: list[int]
    pending: list[int]  # per stop: delay minutes not yet applied when service there starts
    leave: list[int]  # per stop: when the vehicle sets off towards it
    broken_at: int | None = None
    delay_total: int = 0  # all delay minutes of this vehicle


def simulate_vehicle(inst: RoutingInstance, v: int, nodes: list[int], state: PlanState, net: Network) -> Timed:
    """The day of vehicle ``v`` (0-based) driving ``nodes`` under ``state``'s events."""
    ready, due, service = windows(inst)
    rel: dict[int, int] = {}
    for pos, r in state.releases.get(v, []):
        rel[pos] = max(rel.get(pos, NEVER), r)
    delays = sorted((d["time"], d["minutes"]) for d in state.delays if d["vehicle"] == v)
    applied = [False] * len(delays)

    def delayed(arrive: int) -> int:
        for k, (td, m) in enumerate(delays):
            if not applied[k] and td <= arrive:
                applied[k] = True
                arrive += m
        return arrive

    rc = RouteCheck(nodes=list(nodes), load=int(sum(int(inst.demand[x]) for x in nodes)), distance=0)
    free, pending, leave = [], [], []
    prev, f_prev = 0, int(ready[0])
    first_travel = 0
    for i, node in enumerate(nodes):
        dep = max(f_prev, rel.get(i, NEVER))
        dist, dur = net.at(dep)
        arrive = delayed(dep + int(dur[prev, node]))
        if i == 0:
            first_travel = arrive - dep
        start = max(arrive, int(ready[node]))
        rc.distance += int(dist[prev, node])
        rc.arrivals.append(arrive)
        rc.starts.append(start)
        rc.late.append(max(0, start - int(due[node])))
        leave.append(dep)
        pending.append(sum(m for k, (_, m) in enumerate(delays) if not applied[k]))
        f_prev = start + int(service[node])
        free.append(f_prev)
        prev = node
    broken_at = state.broken.get(v)
    if broken_at is not None:
        rc.back = max(f_prev, broken_at) if nodes else broken_at
    else:
        dep = max(f_prev, rel.get(len(nodes), NEVER))
        dist, dur = net.at(dep)
        rc.distance += int(dist[prev, 0]) if nodes else 0
        rc.back = delayed(dep + int(dur[prev, 0])) if nodes else int(ready[0])
        rc.overtime = max(0, rc.back - int(due[0])) if nodes else 0
    if nodes:
        dep0 = leave[0]
        rc.depart = max(dep0, rc.starts[0] - first_travel)
    else:
        rc.depart = int(ready[0])
    return Timed(rc, free, pending, leave, broken_at, sum(m for _, m in delays))


def simulate(inst: RoutingInstance, routes: list[list[int]], state: PlanState | None = None,
             net: Network | None = None, *, soft_windows: bool = True) -> tuple[CheckReport, list[Timed]]:
    """Check whole-day ``routes`` under ``state``: a :class:`CheckReport` like the checker's, plus timings.

    Orders in ``state.excluded`` are not expected; with ``soft_windows`` lateness is measured but
    is not a violation (replanned days may be late; the facts say which orders are).
    """
    state = state or PlanState()
    net = net or Network(inst, state.closures)
    timed = [simulate_vehicle(inst, v, r, state, net) for v, r in enumerate(routes)]
    if state.trivial and not state.excluded:
        report = check_routes(inst, routes, soft_windows=soft_windows)
        return report, timed
    violations: list[str] = []
    seen: dict[int, int] = {}
    dups: list[int] = []
    total_dist = total_late = 0
    checks = []
    for v, (route, tm) in enumerate(zip(routes, timed, strict=True)):
        if not route:
            continue
        for node in route:
            if node in seen:
                dups.append(node)
            seen[node] = v
        rc = tm.check
        checks.append(rc)
        total_dist += rc.distance
        if rc.load > inst.capacity:
            violations.append(f"vehicle {v + 1} carries {rc.load} > capacity {inst.capacity}")
        if inst.has_time_windows:
            late = [(inst.customer_ids[x], lt) for x, lt in zip(route, rc.late, strict=True) if lt > 0]
            total_late += sum(lt for _, lt in late) + rc.overtime
            if not soft_windows:
                violations += [f"vehicle {v + 1} serves order {cid} {inst.real_time(lt):g} late" for cid, lt in late]
                if rc.overtime > 0:
                    violations.append(f"vehicle {v + 1} returns {inst.real_time(rc.overtime):g} after the depot closes")
    excluded = set(state.excluded)
    missing = [i for i in range(1, inst.num_nodes) if i not in seen and i not in excluded]
    if missing:
        violations.append(f"{len(missing)} orders not served: {[inst.customer_ids[i] for i in missing][:20]}")
    if dups:
        violations.append(f"orders served more than once: {sorted({inst.customer_ids[i] for i in dups})[:20]}")
    stray = sorted(inst.customer_ids[i] for i in seen if i in excluded)
    if stray:
        violations.append(f"cancelled orders still on a route: {stray[:20]}")
    return CheckReport(not violations, violations, checks, total_dist, total_late, missing, sorted(set(dups))), timed


@dataclass
class Position:
    """Where a vehicle stands at time t: how many stops are committed and where it can continue from."""

    vehicle: int
    committed: int  # stops of its route already served or being driven to
    served: int  # stops whose service has started by t
    anchor: int  # node it continues from (0: the depot)
    start_time: int  # the model's start cumul at the anchor (departure minus the anchor's service)
    load: int  # demand of the committed stops
    status: str  # "at depot" | "driving to #id" | "serving #id" | "waiting at #id" | "returning" | "back" | "broken"


def position(inst: RoutingInstance, v: int, nodes: list[int], tm: Timed, t: int, *, broken: bool = False) -> Position:
    """Vehicle ``v``'s position at time ``t`` (for a vehicle breaking down at t: only served stops count)."""
    _, _, service = windows(inst)
    starts = tm.check.starts
    served = sum(1 for s in starts if s <= t)
    if broken:
        committed = served
    else:
        committed = sum(1 for i in range(len(nodes)) if (tm.check.depart if i == 0 else tm.free[i - 1]) <= t)
        committed = max(committed, served)
    anchor = nodes[committed - 1] if committed else 0
    load = int(sum(int(inst.demand[x]) for x in nodes[:committed]))
    if committed:
        pend = tm.pending[committed - 1]
        depart = max(tm.free[committed - 1], t)
        start_time = depart - int(service[anchor]) + pend
    else:
        # still at the depot: every delay so far lands on its first arrival
        start_time = max(int(windows(inst)[0][0]), t) + tm.delay_total
    if broken:
        status = "broken"
    elif not committed:
        status = "at depot"
    elif committed > served:
        status = f"driving to #{inst.customer_ids[anchor]}"
    elif served == len(nodes):
        status = "back" if tm.check.back <= t else ("serving" if tm.free[-1] > t else "returning")
        if status == "serving":
            status = f"serving #{inst.customer_ids[anchor]}"
    else:
        i = committed - 1
        status = (f"waiting at #{inst.customer_ids[anchor]}" if tm.check.arrivals[i] <= t < starts[i]
                  else f"serving #{inst.customer_ids[anchor]}")
    return Position(v, committed, served, anchor, int(start_time), load, status)


def clock_or_units(inst: RoutingInstance, t: float) -> str:
    """``HH:MM`` on a clocked dataset; otherwise elapsed time units written as ``H:MM`` (units/60)."""
    c = inst.clock(t)
    if c is not None:
        return c
    units = int(math.floor(inst.real_time(t)))
    return f"{units // 60:02d}:{units % 60:02d}"
