"""``diaodu bench vrp``: our OR-Tools solver and PyVRP side by side on shared and fresh instances.

Same instance objects (same integer matrices, so the same rounding), same budget, one thread
each. Instances are the shared benchmarks (gaps to ``bks.csv``) and, with ``fresh``, freshly
generated ones from a seed stream the GNN never trained on (gaps to the best plan any solver
found in this run, since they have no published best). ``workers`` solves that many instances
at once, in separate processes; use the CPU clock then, so the budgets stay each solver's own work.
Means are given over every instance and per group (the six anchors the issue quotes, the shared
benchmarks, the fresh instances), with each guided column's worst difference to plain OR-Tools.
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import partial
from statistics import mean
from typing import Any

from tools.core.datasets import ROUTING_KINDS, all_datasets, resolve
from tools.core.errors import DiaoduError, check_choice, check_number
from tools.core.settings import benchmarks_dir, benchmarks_hint
from tools.routing.instance import RoutingInstance, load_instance
from tools.routing.stop import MaxRuntime

log = logging.getLogger(__name__)

ANCHORS = ("A-n80-k10", "X-n101-k25", "X-n148-k46", "X-n200-k36", "X-n303-k21", "X-n502-k39")
SOLVERS = ("ortools", "pyvrp")
FRESH_SEED = 2026  # the measurement stream of RESULTS.md (disjoint from training and from tuning stream 77)
GROUPS = ("anchors", "shared", "fresh")


def benchmark_instances() -> list[str]:
    """Every shared routing benchmark (CVRP then VRPTW), by name."""
    refs = [r for r in all_datasets().values() if r.source == "benchmark" and r.kind in ROUTING_KINDS]
    return [r.name for r in sorted(refs, key=lambda r: (r.kind, _size(r.name), r.name))]


def fresh_instances(count: int, seed: int = FRESH_SEED) -> list[RoutingInstance]:
    """``count`` freshly generated instances (a fifth VRPTW, the rest CVRP; never used in training)."""
    from tools.routing.gnn.generate import fresh_set, to_routing_instance

    count = int(check_number("fresh", count, minimum=0, maximum=1000))
    if count == 0:
        return []
    n_tw = max(1, count // 5) if count > 1 else 0
    return [to_routing_instance(g) for g in fresh_set(count - n_tw, n_tw, seed=seed)]


def _size(name: str) -> int:
    import re

    m = re.search(r"-n(\d+)", name)
    return int(m.group(1)) if m else 0


def run_bench(instances: list[str] | None = None, time_limit_s: float = 10.0, guidance: list[str] | None = None,
              solvers: list[str] | None = None, seed: int = 0, clock: str = "wall",
              on_row: Callable[[dict[str, Any]], None] | None = None, *, fresh: int = 0,
              fresh_seed: int = FRESH_SEED, workers: int = 1, repeats: int = 1) -> dict[str, Any]:
    """Run the benchmark; returns ``{"rows": [...], "columns": [...], "means": {...}, "config": {...}}``.

    With ``repeats`` > 1 every instance is solved with seeds ``seed .. seed + repeats - 1`` and each
    cell holds the run of median cost (``costs`` lists them all): single runs of a time-limited
    search move by up to a point on some instances.

    ``instances`` names shared or workspace datasets (default: every shared benchmark, or none when
    only ``fresh`` instances are asked for and the shared folder is absent).
    """
    guidance = [check_choice("guidance", g, ("none", "gnn")) for g in (guidance or ["none"])]
    solvers = [check_choice("solver", s, SOLVERS) for s in (solvers or list(SOLVERS))]
    clock = check_choice("clock", clock, ("wall", "cpu"))
    workers = int(check_number("workers", workers, minimum=1, maximum=max(os.cpu_count() or 1, 1)))
    repeats = int(check_number("repeats", repeats, minimum=1, maximum=100))
    fresh = int(check_number("fresh", fresh, minimum=0, maximum=1000))
    notes: list[str] = []
    names = instances
    if names is None:
        names = benchmark_instances()
        if not names and fresh > 0:
            notes.append(f"shared benchmarks absent: fresh instances only ({benchmarks_hint()})")
    if not names and fresh <= 0:
        raise DiaoduError("no routing benchmarks found (set DIAODU_BENCHMARKS to the shared benchmark folder, "
                          "or add --fresh N for generated instances)")
    specs: list[Any] = [resolve(n, ROUTING_KINDS) for n in names]  # bad names fail here, before any solve
    specs += fresh_instances(fresh, fresh_seed)
    if "gnn" in guidance:
        _check_gnn()
    jobs = [(i, spec, seed + k) for i, spec in enumerate(specs) for k in range(repeats)]
    runs: list[list[dict[str, Any]]] = [[] for _ in specs]
    rows: list[dict[str, Any] | None] = [None] * len(specs)

    def collect(i: int, run: dict[str, Any]) -> None:
        runs[i].append(run)
        if len(runs[i]) == repeats:
            rows[i] = merge_runs(runs[i])
            if on_row is not None:
                on_row(rows[i])  # type: ignore[arg-type]

    solve_row = partial(bench_row, time_limit_s=time_limit_s, guidance=guidance, solvers=solvers, clock=clock)
    load_start = _load()
    if workers == 1:
        for i, spec, run_seed in jobs:
            collect(i, solve_row(spec, seed=run_seed))
    else:
        import multiprocessing

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(solve_row, spec, seed=run_seed): i for i, spec, run_seed in jobs}
            for fut in as_completed(futures):
                collect(futures[fut], fut.result())
    done = [r for r in rows if r is not None]
    columns = [c for c in done[0] if is_column(done[0][c])] if done else []
    return {"rows": done, "columns": columns, "means": _means(done, columns), "notes": notes,
            "config": {"time_limit_s": time_limit_s, "clock": clock, "seed": seed, "repeats": repeats,
                       "guidance": guidance, "solvers": solvers,
                       "fresh": fresh, "fresh_seed": fresh_seed if fresh else None, "workers": workers,
                       "threads_per_solver": 1, "benchmarks": str(benchmarks_dir()) if benchmarks_dir() else None,
                       "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
                       "cpus": os.cpu_count(), "load_avg_start": load_start, "load_avg_end": _load(),
                       "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}}


def bench_row(spec: Any, time_limit_s: float, guidance: list[str], solvers: list[str], seed: int,
              clock: str) -> dict[str, Any]:
    """One instance (a dataset ref or a generated instance), every solver and guidance variant."""
    inst = spec if isinstance(spec, RoutingInstance) else load_instance(spec)
    group = "fresh" if isinstance(spec, RoutingInstance) else "shared"
    row: dict[str, Any] = {"instance": inst.name, "kind": inst.kind, "group": group, "anchor": inst.name in ANCHORS,
                           "customers": inst.num_customers, "vehicles": inst.num_vehicles, "bks": inst.bks}
    providers = {g: _provider(g, clock) for g in guidance}
    for solver in solvers:
        for g in (guidance if solver == "ortools" else ["none"]):
            key = solver if g == "none" else f"{solver}+{g}"
            res = _solve_one(inst, solver, providers.get(g), MaxRuntime(time_limit_s, clock), seed)
            row[key] = {"cost": round(res.cost, 3) if res.routes else None, "feasible": res.feasible,
                        "gap_pct": round(res.gap, 3) if res.gap is not None else None,
                        "vehicles_used": res.vehicles_used, "runtime_s": round(res.runtime_s, 2),
                        **({"search": res.config["metaheuristic"]} if solver == "ortools" else {}),
                        **({"diagnosis": res.diagnosis} if res.diagnosis else {}),
                        **({"violations": res.violations[:3]} if res.violations else {})}
    return row


def merge_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row from the repeated runs of an instance: per column the run of median cost.

    A cell is feasible only when every run was. Rows without a published best get gaps to the
    cheapest feasible plan of any run of any solver (PyVRP's, as a rule).
    """
    row = dict(runs[0])
    planned = set()  # the columns whose cell is a feasible run's plan
    for col in [c for c in row if is_column(row[c])]:
        cells = [r[col] for r in runs]
        ok = sorted((c for c in cells if c["feasible"] and c["cost"] is not None), key=lambda c: c["cost"])
        pick = dict(ok[(len(ok) - 1) // 2] if ok else cells[0])
        pick["feasible"] = len(ok) == len(cells)
        if ok:
            planned.add(col)
        if len(runs) > 1:
            pick["costs"] = [c["cost"] for c in cells]
        row[col] = pick
    if row["bks"] is None:
        costs = [r[c]["cost"] for r in runs for c in r if is_column(r[c]) and r[c]["feasible"] and r[c]["cost"] is not None]
        if costs:
            ref = min(costs)
            row["ref"] = {"cost": ref, "source": "best plan of this run"}
            for col in planned:
                row[col]["gap_pct"] = round(100.0 * (row[col]["cost"] - ref) / ref, 3)
    return row


def is_column(value: Any) -> bool:
    """True for a row's per-solver entries (not its reference or other fields)."""
    return isinstance(value, dict) and "feasible" in value


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _check_gnn() -> None:
    from tools.routing import gnn

    if not gnn.available():
        raise DiaoduError("guidance gnn needs the GNN weights (tools/routing/gnn/weights); train them first or use none",
                          code="missing_weights")


def _provider(g: str, clock: str) -> Any:
    if g == "none":
        return None
    from tools.routing import gnn

    _check_gnn()
    return gnn.default_provider(clock)


def _solve_one(inst: Any, solver: str, provider: Any, stop: MaxRuntime, seed: int) -> Any:
    if solver == "pyvrp":
        from tools.routing import pyvrp_adapter

        return pyvrp_adapter.solve(inst, stop, seed)
    from tools.routing import ortools_adapter

    # the provider plans its rounds over the whole budget; its own time is charged inside that budget
    guide = provider.prepare(inst, budget_s=stop.seconds) if provider is not None else None
    return ortools_adapter.solve(inst, stop, seed, guidance=guide)


def _mean(values: list[float]) -> float | None:
    return round(mean(values), 3) if values else None


def _of_kind(row: dict[str, Any], kind: str) -> bool:
    return bool(row["kind"] == kind)


def _in_group(row: dict[str, Any], group: str) -> bool:
    return {"anchors": row["anchor"], "shared": row["group"] == "shared", "fresh": row["group"] == "fresh"}[group]


def _means(rows: list[dict[str, Any]], columns: list[str]) -> dict[str, Any]:
    """Mean gaps per column: over all rows, per kind and per group; guided columns against plain."""
    def gaps(col: str, keep: Callable[[dict[str, Any]], bool]) -> list[float]:
        return [r[col]["gap_pct"] for r in rows if keep(r) and r.get(col, {}).get("gap_pct") is not None]

    out: dict[str, Any] = {}
    for col in columns:
        every = gaps(col, lambda r: True)
        anchor = gaps(col, lambda r: r["anchor"])
        out[col] = {"mean_gap_pct": _mean(every), "instances": len(every),
                    "feasible": sum(1 for r in rows if r.get(col, {}).get("feasible")),
                    "anchor_mean_gap_pct": _mean(anchor) if len(anchor) == len(ANCHORS) else None,
                    "anchors": len(anchor)}
        for kind in ROUTING_KINDS:
            kg = gaps(col, partial(_of_kind, kind=kind))
            out[col][f"{kind}_mean_gap_pct"] = _mean(kg)
        out[col]["groups"] = {}
        for group in GROUPS:
            gg = gaps(col, partial(_in_group, group=group))
            out[col]["groups"][group] = {"mean_gap_pct": _mean(gg), "instances": len(gg)}
        if col.startswith("ortools+") and "ortools" in columns:
            # side by side with plain OR-Tools on the instances where both have a gap
            pairs = [(r[col]["gap_pct"], r["ortools"]["gap_pct"], r) for r in rows
                     if r.get(col, {}).get("gap_pct") is not None and r.get("ortools", {}).get("gap_pct") is not None]
            if pairs:
                worst = max(pairs, key=lambda p: p[0] - p[1])
                out[col]["vs_plain"] = {
                    "worst_points": round(worst[0] - worst[1], 3), "worst_instance": worst[2]["instance"],
                    "better": sum(1 for a, b, _ in pairs if a < b - 1e-9),
                    "equal": sum(1 for a, b, _ in pairs if abs(a - b) <= 1e-9),
                    "worse": sum(1 for a, b, _ in pairs if a > b + 1e-9),
                    **{f"{g}_ratio": _ratio([a for a, _, r in pairs if _in_group(r, g)],
                                            [b for _, b, r in pairs if _in_group(r, g)]) for g in GROUPS}}
    return out


def _ratio(guided: list[float], plain: list[float]) -> float | None:
    """mean(guided) / mean(plain), or None when there is nothing (or no plain gap) to divide by."""
    if not guided or not plain or mean(plain) <= 0:
        return None
    return round(mean(guided) / mean(plain), 3)
