"""The result of one routing solve, in real units and user-facing ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.routing.checker import CheckReport, check_routes
from tools.routing.instance import RoutingInstance


@dataclass
class RouteInfo:
    """One vehicle's route as a dispatcher sees it."""

    vehicle: int  # 1-based
    customers: list[int]  # customer / order ids, in visiting order
    nodes: list[int]  # node indices (1..n), in visiting order
    load: int
    capacity: int
    distance: float  # real units
    duration: float | None = None  # real time units, depart to return
    depart: str | float | None = None  # clock time (demo) or time units (benchmarks)
    back: str | float | None = None
    arrivals: list[str | float] = field(default_factory=list)  # service start per stop
    late: dict[int, float] = field(default_factory=dict)  # order id -> lateness (real time units)
    vehicle_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"vehicle": self.vehicle, "customers": self.customers, "nodes": self.nodes,
                               "load": self.load, "capacity": self.capacity, "distance": round(self.distance, 3)}
        if self.vehicle_name:
            out["vehicle_name"] = self.vehicle_name
        if self.duration is not None:
            out.update({"duration": round(self.duration, 2), "depart": self.depart, "back": self.back,
                        "arrivals": self.arrivals})
            if self.late:
                out["late"] = {str(k): v for k, v in self.late.items()}
        return out


@dataclass
class RouteResult:
    """Routes, cost and the checker's verdict for one solve."""

    instance: str
    kind: str
    solver: str  # "ortools" | "pyvrp"
    objective: str
    routes: list[RouteInfo]
    cost: float  # total distance, real units (comparable to best-known values)
    feasible: bool
    violations: list[str]
    runtime_s: float
    status: str = "solved"  # "solved" | "infeasible" | "no_solution"
    lateness: float = 0.0  # real time units (soft windows)
    objective_value: float | None = None  # the solver's own objective (penalties included), real units
    diagnosis: list[str] = field(default_factory=list)
    history: list[tuple[float, float]] = field(default_factory=list)  # (seconds, best cost) per improvement
    config: dict[str, Any] = field(default_factory=dict)
    bks: float | None = None
    num_vehicles: int = 0  # fleet available
    seed: int = 0

    @property
    def node_routes(self) -> list[list[int]]:
        return [r.nodes for r in self.routes]

    @property
    def gap(self) -> float | None:
        """Percent above the best-known value (None when unknown or infeasible)."""
        if self.bks is None or not self.feasible or not self.routes:
            return None
        return 100.0 * (self.cost - self.bks) / self.bks

    @property
    def vehicles_used(self) -> int:
        return sum(1 for r in self.routes if r.nodes)

    def summary(self) -> str:
        """One sentence for logs and the CLI."""
        if not self.routes:
            why = "; ".join(self.diagnosis) or "no solution found"
            return f"{self.instance}: no plan ({why})"
        gap = f", gap {self.gap:.2f}% to best known {self.bks:g}" if self.gap is not None else ""
        late = f", total lateness {self.lateness:g}" if self.lateness else ""
        verdict = "feasible" if self.feasible else f"INFEASIBLE ({'; '.join(self.violations[:3])})"
        return (f"{self.instance}: cost {self.cost:g} with {self.vehicles_used}/{self.num_vehicles} vehicles"
                f"{gap}{late}, {verdict}, {self.runtime_s:.1f} s ({self.solver}, objective {self.objective})")

    def to_dict(self) -> dict[str, Any]:
        return {"instance": self.instance, "kind": self.kind, "solver": self.solver, "objective": self.objective,
                "status": self.status, "cost": round(self.cost, 3), "feasible": self.feasible,
                "violations": self.violations, "diagnosis": self.diagnosis, "lateness": round(self.lateness, 3),
                "objective_value": self.objective_value, "vehicles_used": self.vehicles_used,
                "num_vehicles": self.num_vehicles, "bks": self.bks,
                "gap_pct": round(self.gap, 3) if self.gap is not None else None,
                "runtime_s": round(self.runtime_s, 3), "seed": self.seed, "config": self.config,
                "history": [[round(t, 3), round(c, 3)] for t, c in self.history],
                "routes": [r.to_dict() for r in self.routes]}


def build_result(instance: RoutingInstance, node_routes: list[list[int]], *, solver: str, objective: str,
                 runtime_s: float, soft_windows: bool = False, **extra: Any) -> RouteResult:
    """Check ``node_routes`` independently and wrap them as a :class:`RouteResult`."""
    report = check_routes(instance, node_routes, soft_windows=soft_windows)
    routes = route_infos(instance, node_routes, report)
    return RouteResult(instance=instance.name, kind=instance.kind, solver=solver, objective=objective, routes=routes,
                       cost=instance.real_distance(report.distance), feasible=report.feasible,
                       violations=report.violations, runtime_s=runtime_s,
                       lateness=instance.real_time(report.lateness), bks=instance.bks,
                       num_vehicles=instance.num_vehicles, **extra)


def route_infos(instance: RoutingInstance, node_routes: list[list[int]], report: CheckReport) -> list[RouteInfo]:
    """Per-vehicle figures in real units; vehicles keep their 1-based number, empty ones are left out."""
    out: list[RouteInfo] = []
    checks = iter(report.routes)
    for v, nodes in enumerate(node_routes):
        if not nodes:
            continue
        rc = next(checks)
        nodes = rc.nodes  # the checker drops ids that are not customers (and reports them)
        info = RouteInfo(vehicle=v + 1, customers=[instance.customer_ids[x] for x in nodes], nodes=list(nodes),
                         load=rc.load, capacity=instance.capacity, distance=instance.real_distance(rc.distance),
                         vehicle_name=instance.vehicle_names[v] if instance.vehicle_names and v < len(instance.vehicle_names) else None)
        if instance.has_time_windows:
            fmt = _time_formatter(instance)
            info.duration = instance.real_time(rc.duration)
            info.depart, info.back = fmt(rc.depart), fmt(rc.back)
            info.arrivals = [fmt(s) for s in rc.starts]
            info.late = {instance.customer_ids[x]: instance.real_time(late)
                         for x, late in zip(nodes, rc.late, strict=True) if late > 0}
        out.append(info)
    return out


def _time_formatter(instance: RoutingInstance):
    if instance.shift_start_min is not None:
        return lambda t: instance.clock(t)
    return lambda t: round(instance.real_time(t), 2)
