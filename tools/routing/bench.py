"""``diaodu bench vrp``: our OR-Tools solver and PyVRP side by side on the shared instances.

Same instance objects (same integer matrices, so the same rounding), same wall-clock budget,
one thread each, one after the other. Gaps are to ``bks.csv``; means are over every instance
where the solver's plan was feasible, and over the six anchors the issue quotes.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Callable
from statistics import mean
from typing import Any

from tools.core.datasets import ROUTING_KINDS, all_datasets, resolve
from tools.core.errors import DiaoduError, check_choice
from tools.routing.instance import load_instance
from tools.routing.stop import MaxRuntime

log = logging.getLogger(__name__)

ANCHORS = ("A-n80-k10", "X-n101-k25", "X-n148-k46", "X-n200-k36", "X-n303-k21", "X-n502-k39")
SOLVERS = ("ortools", "pyvrp")


def benchmark_instances() -> list[str]:
    """Every shared routing benchmark (CVRP then VRPTW), by name."""
    refs = [r for r in all_datasets().values() if r.source == "benchmark" and r.kind in ROUTING_KINDS]
    return [r.name for r in sorted(refs, key=lambda r: (r.kind, _size(r.name), r.name))]


def _size(name: str) -> int:
    import re

    m = re.search(r"-n(\d+)", name)
    return int(m.group(1)) if m else 0


def run_bench(instances: list[str] | None = None, time_limit_s: float = 10.0, guidance: list[str] | None = None,
              solvers: list[str] | None = None, seed: int = 0, clock: str = "wall",
              on_row: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run the benchmark; returns ``{"rows": [...], "means": {...}, "config": {...}}``."""
    names = instances or benchmark_instances()
    if not names:
        raise DiaoduError("no routing benchmarks found (set DIAODU_BENCHMARKS to the shared benchmark folder)")
    guidance = [check_choice("guidance", g, ("none", "gnn")) for g in (guidance or ["none"])]
    solvers = [check_choice("solver", s, SOLVERS) for s in (solvers or list(SOLVERS))]
    clock = check_choice("clock", clock, ("wall", "cpu"))
    refs = [resolve(n, ROUTING_KINDS) for n in names]
    providers = {g: _provider(g, clock) for g in guidance}
    load_start = _load()
    rows: list[dict[str, Any]] = []
    for ref in refs:
        inst = load_instance(ref)
        row: dict[str, Any] = {"instance": ref.name, "kind": inst.kind, "customers": inst.num_customers,
                               "vehicles": inst.num_vehicles, "bks": inst.bks}
        for solver in solvers:
            variants = guidance if solver == "ortools" else ["none"]
            for g in variants:
                key = solver if g == "none" else f"{solver}+{g}"
                res = _solve_one(inst, solver, g, providers.get(g), MaxRuntime(time_limit_s, clock), seed)
                row[key] = {"cost": round(res.cost, 3) if res.routes else None, "feasible": res.feasible,
                            "gap_pct": round(res.gap, 3) if res.gap is not None else None,
                            "vehicles_used": res.vehicles_used, "runtime_s": round(res.runtime_s, 2),
                            **({"diagnosis": res.diagnosis} if res.diagnosis else {}),
                            **({"violations": res.violations[:3]} if res.violations else {})}
        rows.append(row)
        if on_row is not None:
            on_row(row)
    columns = [c for c in rows[0] if isinstance(rows[0][c], dict)] if rows else []
    return {"rows": rows, "columns": columns, "means": _means(rows, columns),
            "config": {"time_limit_s": time_limit_s, "clock": clock, "seed": seed, "guidance": guidance, "solvers": solvers,
                       "threads": 1, "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
                       "cpus": os.cpu_count(), "load_avg_start": load_start, "load_avg_end": _load(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _provider(g: str, clock: str) -> Any:
    if g == "none":
        return None
    from tools.routing import gnn

    if not gnn.available():
        raise DiaoduError("guidance gnn needs the GNN weights (tools/routing/gnn/weights); train them first or use none",
                          code="missing_weights")
    return gnn.default_provider(clock)


def _solve_one(inst: Any, solver: str, g: str, provider: Any, stop: MaxRuntime, seed: int) -> Any:
    if solver == "pyvrp":
        from tools.routing import pyvrp_adapter

        return pyvrp_adapter.solve(inst, stop, seed)
    from tools.routing import ortools_adapter

    # the provider plans its rounds over the whole budget; its own time is charged inside that budget
    guide = provider.prepare(inst, budget_s=stop.seconds) if provider is not None else None
    return ortools_adapter.solve(inst, stop, seed, guidance=guide)


def _means(rows: list[dict[str, Any]], columns: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in columns:
        gaps = [r[col]["gap_pct"] for r in rows if r.get(col, {}).get("gap_pct") is not None]
        anchor = [r[col]["gap_pct"] for r in rows if r["instance"] in ANCHORS and r.get(col, {}).get("gap_pct") is not None]
        out[col] = {"mean_gap_pct": round(mean(gaps), 3) if gaps else None, "instances": len(gaps),
                    "feasible": sum(1 for r in rows if r.get(col, {}).get("feasible")),
                    "anchor_mean_gap_pct": round(mean(anchor), 3) if len(anchor) == len(ANCHORS) else None,
                    "anchors": len(anchor)}
        for kind in ROUTING_KINDS:
            kg = [r[col]["gap_pct"] for r in rows if r["kind"] == kind and r.get(col, {}).get("gap_pct") is not None]
            out[col][f"{kind}_mean_gap_pct"] = round(mean(kg), 3) if kg else None
    return out
