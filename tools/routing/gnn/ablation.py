"""Side-by-side ablation of the GNN guidance: ``python -m tools.routing.gnn.ablation``.

One run solves every instance with plain OR-Tools (``none``), each guidance field alone
(``sparsify``, ``warm``, ``shaping``, ``params``), the shipped combination (``gnn``: warm start
and shaping), every field at once (``all``) and PyVRP as a reference, all at the same budget (CPU clock by default, so the figures do not depend on
how busy the shared machine is; ``--clock wall`` for wall time). GNN preparation (weight load, scoring, building
the guidance) is charged inside that budget: the adapter gets ``budget - prepare_seconds``.

Instances: the shared benchmark anchors (six CVRP, six Solomon VRPTW), ``--fresh N``
freshly generated instances from a seed stream disjoint from training, and ``narrow-type2`` (twelve
generated Solomon-type-2 tuning instances with every customer windowed). Gaps are against the
best-known value where published, else against the best cost any method found in this run.
Prints one JSON document (rows and a summary table); ``--out`` also writes it to a file.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from tools.core.errors import DiaoduError
from tools.routing.bench import ANCHORS

log = logging.getLogger(__name__)

ANCHORS_CVRP = ANCHORS  # the six CVRP anchors the issue quotes, as in ``diaodu bench vrp``
ANCHORS_VRPTW = ("C101", "C201", "R101", "R201", "RC101", "RC201")
CONFIGS = ("none", "ils", "decompose", "sparsify", "warm", "shaping", "params", "gnn", "all", "pyvrp")
ILS_TEMPERATURE = 2.0  # the ``ils`` config's initial annealing temperature, in mean nearest-neighbour arc costs
DEFAULT_CONFIGS = ("none", "sparsify", "warm", "shaping", "gnn", "all", "pyvrp")
# session 13's tuning instances for long-route narrow-window VRPTW: Solomon type 2 with every customer
# windowed (``solomon_like(100, seed, family, tw_fraction=1.0)``), never in a measured set
NARROW_TYPE2 = tuple((fam, seed) for fam, seeds in (("R2", range(601, 606)), ("RC2", range(601, 606)),
                                                    ("C2", range(601, 603))) for seed in seeds)
GROUPS = ("cvrp", "vrptw", "fresh", "narrow-type2")


def provider_for(config: str, weights: Path | None = None, **knobs: Any):
    """The guidance provider of an ablation config (``None`` for plain OR-Tools)."""
    from tools.routing.gnn import WEIGHTS_PATH
    from tools.routing.gnn.provider import GnnGuidance, GnnSettings

    weights = weights or WEIGHTS_PATH
    if config == "none":
        return None
    if config == "gnn":  # the shipped default combination
        return GnnGuidance(GnnSettings(**knobs), weights)
    if config == "all":  # every field at once
        return GnnGuidance(GnnSettings(**{**knobs, "sparsify": True, "warm_start": True, "shaping": True,
                                          "params": True}), weights)
    only = {"sparsify": "sparsify", "warm": "warm_start", "shaping": "shaping", "params": "params"}
    if config not in only:
        raise DiaoduError(f"unknown ablation config {config!r}; choose from {', '.join(CONFIGS)}")
    flags = {p: p == only[config] for p in ("sparsify", "warm_start", "shaping", "params")}
    return GnnGuidance(GnnSettings(**{**knobs, **flags}), weights)


def run_one(instance: Any, config: str, seconds: float, knobs: dict[str, Any], clock: str = "cpu",
            seed: int = 0) -> dict[str, Any]:
    """Solve one instance with one config within ``seconds`` on ``clock`` (preparation included)."""
    from tools.routing.ortools_adapter import solve
    from tools.routing.stop import MaxRuntime

    t0, c0 = time.perf_counter(), time.process_time()
    stop = MaxRuntime(seconds, clock)
    if config == "pyvrp":
        from tools.routing import pyvrp_adapter

        res = pyvrp_adapter.solve(instance, stop, seed)
        return {"cost": res.cost if res.routes else None, "feasible": bool(res.feasible and res.routes),
                "prepare_s": 0.0, "wall_s": round(time.perf_counter() - t0, 2)}
    from tools.routing.guidance import Guidance

    guidance: Guidance | None
    if config == "ils":  # plain OR-Tools with iterated local search instead of GLS: no GNN at all
        temperature = knobs.get("ils_temperature")
        guidance = Guidance(search={"iterated_local_search": ILS_TEMPERATURE if temperature is None else temperature})
    elif config == "decompose":  # plain OR-Tools, then the default's decomposition share: no GNN at all
        from tools.routing.gnn.provider import GnnSettings

        settings = GnnSettings(**{k: v for k, v in knobs.items() if k.startswith("decompose")})
        guidance = Guidance(search={"decompose": settings.decompose_search(seconds)})
    else:
        provider = provider_for(config, **{**knobs, "clock": clock})
        guidance = provider.prepare(instance, seconds) if provider is not None else None
    prep = guidance.prepare_seconds if guidance is not None else 0.0
    res = solve(instance, stop, seed, guidance=guidance)
    return {"cost": res.cost if res.routes else None, "feasible": bool(res.feasible and res.routes),
            "prepare_s": round(prep, 3), "wall_s": round(time.perf_counter() - t0, 2),
            "cpu_s": round(time.process_time() - c0, 2),
            "fields": guidance.fields_used() if guidance is not None else []}


def instances(groups: list[str], fresh: int, fresh_seed: int) -> list[tuple[str, Any]]:
    """``(group, RoutingInstance)`` pairs for the requested groups."""
    from tools.core.settings import benchmarks_dir
    from tools.routing.bench import fresh_instances
    from tools.routing.instance import load_instance

    out: list[tuple[str, Any]] = []
    if benchmarks_dir() is not None:
        if "cvrp" in groups:
            out += [("anchor-cvrp", load_instance(n)) for n in ANCHORS_CVRP]
        if "vrptw" in groups:
            out += [("anchor-vrptw", load_instance(n)) for n in ANCHORS_VRPTW]
    elif "cvrp" in groups or "vrptw" in groups:
        log.warning("benchmark folder absent: anchors skipped")
    if "fresh" in groups and fresh > 0:
        out += [("fresh", inst) for inst in fresh_instances(fresh, fresh_seed)]
    if "narrow-type2" in groups:
        from tools.routing.gnn.generate import solomon_like, to_routing_instance

        out += [("narrow-type2", to_routing_instance(solomon_like(100, seed, family=fam, name=f"narrow-{fam}-{seed}",
                                                                  tw_fraction=1.0)))
                for fam, seed in NARROW_TYPE2]
    return out


def collapse_repeats(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (group, instance, config): the median cost of its repeated runs (all in ``costs``).

    A single run moves by a point or more on some instances (a CPU-clock limit cuts the search at
    slightly different moves, and the shaping noise differs per seed), so repeats are summarised by
    their median. Feasible only when every run is.
    """
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["group"], r["instance"], r["config"]), []).append(r)
    out = []
    for runs in groups.values():
        if len(runs) == 1:
            out.append(runs[0])
            continue
        costs = [r["cost"] for r in runs if r["feasible"] and r["cost"] is not None]
        out.append({**runs[0], "cost": float(np.median(costs)) if costs else None,
                    "feasible": len(costs) == len(runs), "costs": [r["cost"] for r in runs], "runs": len(runs),
                    "prepare_s": float(np.mean([r["prepare_s"] for r in runs]))})
    return out


def summarise(rows: list[dict[str, Any]], configs: list[str]) -> list[dict[str, Any]]:
    """Mean gap / feasibility per (group, config), worst excess over ``none``."""
    by_inst: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_inst.setdefault(r["instance"], {})[r["config"]] = r
    for runs in by_inst.values():
        first = next(iter(runs.values()))
        costs = [r["cost"] for r in runs.values() if r["feasible"] and r["cost"] is not None]
        ref = first.get("bks") or (min(costs) if costs else None)
        for r in runs.values():
            r["ref"] = ref
            r["gap_pct"] = round(100.0 * (r["cost"] / ref - 1.0), 3) if ref and r["feasible"] and r["cost"] else None
    table = []
    for group in sorted({r["group"] for r in rows}):
        for c in configs:
            rs = [r for r in rows if r["group"] == group and r["config"] == c]
            gaps = [r["gap_pct"] for r in rs if r["gap_pct"] is not None]
            worse = [r["gap_pct"] - by_inst[r["instance"]]["none"]["gap_pct"] for r in rs
                     if r["gap_pct"] is not None and "none" in by_inst[r["instance"]]
                     and by_inst[r["instance"]]["none"]["gap_pct"] is not None]
            paired = [by_inst[r["instance"]]["none"]["gap_pct"] for r in rs if r["gap_pct"] is not None
                      and "none" in by_inst[r["instance"]] and by_inst[r["instance"]]["none"]["gap_pct"] is not None]
            table.append({"group": group, "config": c, "instances": len(rs),
                          # plain OR-Tools on the same instances, for configs run on a subset
                          "none_mean_gap_same_instances_pct": round(float(np.mean(paired)), 3) if paired else None,
                          "feasible": sum(r["feasible"] for r in rs),
                          "mean_gap_pct": round(float(np.mean(gaps)), 3) if gaps else None,
                          "max_worse_than_none_pts": round(max(worse), 3) if worse and c != "none" else None,
                          "mean_prepare_s": round(float(np.mean([r["prepare_s"] for r in rs])), 3) if rs else None})
    return table


def markdown(summary: list[dict[str, Any]], rows: list[dict[str, Any]], configs: list[str]) -> str:
    """The summary and the per-instance costs (gap to the reference) as two Markdown tables."""
    out = ["| group | config | instances | feasible | mean gap % | plain OR-Tools on same instances % "
           "| worst vs plain (pts) | mean prepare s |", "|---|---|---|---|---|---|---|---|"]
    for t in summary:
        out.append(f"| {t['group']} | {t['config']} | {t['instances']} | {t['feasible']} | {t['mean_gap_pct']} "
                   f"| {t['none_mean_gap_same_instances_pct']} | {t['max_worse_than_none_pts']} | {t['mean_prepare_s']} |")
    by_inst: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_inst.setdefault(r["instance"], {})[r["config"]] = r
    out += ["", "| instance | n | ref | " + " | ".join(configs) + " |", "|---|---|---|" + "---|" * len(configs)]
    for name, runs in by_inst.items():
        first = next(iter(runs.values()))
        cells = []
        for c in configs:
            run = runs.get(c)
            if run is None or run.get("cost") is None:
                cells.append("-")
            else:
                gap = f" ({run['gap_pct']:+.2f}%)" if run.get("gap_pct") is not None else " (infeasible)"
                spread = ""
                if run.get("costs"):  # repeats: the median, then the range of the runs
                    done = [c for c in run["costs"] if c is not None]
                    spread = f" [{min(done)}–{max(done)}, {run['runs']} runs]" if done else ""
                cells.append(f"{run['cost']}{gap}{spread}")
        out.append(f"| {name} | {first['n']} | {first.get('ref')} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    p = argparse.ArgumentParser(description="Ablation of GNN guidance vs plain OR-Tools (and PyVRP).")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                   help="budget clock: this process's CPU time (steady on a shared machine) or wall time")
    p.add_argument("--configs", default=",".join(DEFAULT_CONFIGS), help=f"any of {', '.join(CONFIGS)}")
    p.add_argument("--groups", default="cvrp,vrptw,fresh", help=f"any of {', '.join(GROUPS)}")
    p.add_argument("--fresh", type=int, default=20, help="freshly generated instances (never used in training)")
    p.add_argument("--fresh-seed", type=int, default=2026)
    p.add_argument("--only", default="", help="comma-separated instance names to keep")
    p.add_argument("--repeats", type=int, default=1,
                   help="runs per instance and config (seeds 0..N-1); tables show the median cost")
    p.add_argument("--knobs", default="{}", help="JSON overrides of GnnSettings, e.g. '{\"keep\": 6}'")
    p.add_argument("--weights", type=Path, default=None, help="other weights than the shipped ones")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--markdown", action="store_true", help="print Markdown tables instead of the JSON document")
    p.add_argument("--merge", nargs="*", type=Path, default=None,
                   help="summarise the rows of earlier runs (their .partial.jsonl files) instead of solving")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if args.merge is not None:
        merged = collapse_repeats([json.loads(line) for f in args.merge for line in f.read_text().splitlines()
                                   if line.strip()])
        configs = [c for c in CONFIGS if any(r["config"] == c for r in merged)]
        summary = summarise(merged, configs)
        doc = {"merged_from": [str(f) for f in args.merge], "summary": summary, "rows": merged}
        if args.out:
            args.out.write_text(json.dumps(doc, indent=1, default=str))
        sys.stdout.write(markdown(summary, merged, configs) if args.markdown
                         else json.dumps(doc, default=str) + "\n")
        return
    t_imp = time.perf_counter()
    import torch

    torch.set_num_threads(1)
    import tools.routing.gnn.model  # noqa: F401  (torch_geometric: a once-per-process cost, reported apart)

    import_s = round(time.perf_counter() - t_imp, 2)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for c in configs:
        if c not in CONFIGS:
            raise SystemExit(f"unknown config {c!r}; choose from {', '.join(CONFIGS)}")
    try:
        knobs = json.loads(args.knobs)
        from tools.routing.gnn.provider import GnnSettings

        # checked once up front, so a bad knob stops the run with its message, not a traceback mid-way
        GnnSettings(**{k: v for k, v in knobs.items() if k != "weights"})
    except (json.JSONDecodeError, TypeError, AttributeError) as exc:
        raise SystemExit(f"--knobs must be a JSON object of GnnSettings fields; {exc}") from None
    except DiaoduError as exc:
        raise SystemExit(f"--knobs: {exc.message}") from None
    if args.weights:
        knobs["weights"] = args.weights
    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    unknown = [g for g in groups if g not in GROUPS]
    if unknown or not groups:
        raise SystemExit(f"--groups: unknown {', '.join(map(repr, unknown)) or 'empty list'}; choose from "
                         f"{', '.join(GROUPS)}")
    insts = instances(groups, args.fresh, args.fresh_seed)
    if args.only:
        keep = {s.strip() for s in args.only.split(",")}
        insts = [(g, i) for g, i in insts if i.name in keep]
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    if args.repeats < 1:
        raise SystemExit(f"--repeats must be at least 1; got {args.repeats}")
    for group, inst in insts:
        for seed in range(args.repeats):
            for c in configs:
                r = run_one(inst, c, args.seconds, knobs, args.clock, seed)
                rows.append({"group": group, "instance": inst.name, "n": inst.num_customers, "config": c,
                             "bks": inst.bks, "seed": seed, **r})
                log.info("%s %s %s seed=%d cost=%s feasible=%s prep=%.2fs (%.0fs)", group, inst.name, c, seed,
                         r["cost"], r["feasible"], r["prepare_s"], time.perf_counter() - t0)
                if args.out:  # partial results survive an interrupted run
                    args.out.parent.mkdir(parents=True, exist_ok=True)
                    with args.out.with_suffix(".partial.jsonl").open("a") as f:
                        f.write(json.dumps(rows[-1], default=str) + "\n")
    runs = rows
    rows = collapse_repeats(rows)
    table = summarise(rows, configs)
    doc = {"seconds": args.seconds, "repeats": args.repeats, "clock": args.clock, "import_s": import_s, "configs": configs, "knobs": knobs, "fresh_seed": args.fresh_seed,
           "summary": table, "rows": rows, "runs": runs if args.repeats > 1 else None, "wall_s": round(time.perf_counter() - t0, 1)}
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=1, default=str))
    sys.stdout.write(markdown(table, rows, configs) if args.markdown else json.dumps(doc, default=str) + "\n")


if __name__ == "__main__":
    main()
