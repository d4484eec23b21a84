"""Commands: ``diaodu schedule DATASET`` and ``diaodu bench jssp``."""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path
from statistics import mean
from typing import Any

import typer

from tools.core.cli import JSON_OPTION, console, guarded, print_json, simple_table
from tools.core.errors import DiaoduError, check_choice, check_int, check_number
from tools.jobshop.schedule_tool import DEFAULT_ROLLOUTS, METHODS, gap_pct, run_method, schedule_jobs

log = logging.getLogger(__name__)

BENCH_METHODS = ("rl", "spt", "mwkr", "fifo", "mopnr", "cp_sat")
DEFAULT_BENCH = "ft06,ft10,ft20,la01-la20,ta01-ta20"


def expand_instances(spec: str) -> list[str]:
    """``"ft06,la01-la05"`` -> ``["ft06", "la01", ..., "la05"]``."""
    out: list[str] = []
    for tok in (t.strip() for t in spec.split(",")):
        if not tok:
            continue
        m = re.fullmatch(r"([A-Za-z_-]*?)(\d+)-\1?(\d+)", tok)
        if m:
            prefix, a, b = m.group(1), m.group(2), m.group(3)
            if int(b) < int(a):
                raise DiaoduError(f"instance range {tok!r} runs backwards")
            out += [f"{prefix}{i:0{len(a)}d}" for i in range(int(a), int(b) + 1)]
        else:
            out.append(tok)
    if not out:
        raise DiaoduError("--instances names no instance; e.g. ft06,la01-la05,ta01")
    return out


def _group(name: str, shape: str) -> str:
    return f"{name[:2]} {shape}" if name[:2] in ("ta", "la", "ft") else shape


def run_bench(instances: list[str], methods: list[str], rollouts: int, time_limit_s: float,
              workers: int = 1, policy_weights: Path | None = None) -> dict[str, Any]:
    """Gap to the best known and time per instance for each method; summary per instance group.

    Times are wall seconds (``_s``) and CPU seconds of this process (``_cpu_s``); on a shared
    machine the CPU time is the comparable figure.
    """
    from tools.jobshop.instance import load_instance

    rows = []
    insts = [load_instance(n) for n in instances]  # fail fast on a bad name
    for inst in insts:
        row: dict[str, Any] = {"instance": inst.name, "shape": inst.shape, "bks": inst.bks}
        for m in methods:
            r = run_method(inst, m, rollouts=rollouts, time_limit_s=time_limit_s, workers=workers,
                           policy_weights=policy_weights)
            row[f"{m}_makespan"] = int(r["makespan"])
            row[f"{m}_gap"] = gap_pct(r["makespan"], inst.bks)
            row[f"{m}_s"] = round(r["seconds"], 3)
            row[f"{m}_cpu_s"] = round(r["cpu_seconds"], 3)
            if m == "rl":
                row["rl_greedy_makespan"] = int(r["greedy"]["makespan"])
                row["rl_greedy_gap"] = gap_pct(r["greedy"]["makespan"], inst.bks)
        log.info("bench %s: %s", inst.name, {k: v for k, v in row.items() if k.endswith("_gap")})
        rows.append(row)
    cols = [*(["rl_greedy"] if "rl" in methods else []), *methods]
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(_group(row["instance"], row["shape"]), []).append(row)
    groups["all"] = rows
    summary = [_group_summary(g, rs, cols) for g, rs in groups.items()]
    ta = [r for r in rows if re.fullmatch(r"ta(0[1-9]|1\d|20)", r["instance"])]
    if ta:
        summary.append(_group_summary("ta01-ta20", ta, cols))
    return {"rows": rows, "summary": summary, "methods": cols, "rollouts": rollouts, "time_limit_s": time_limit_s,
            "policy_weights": str(policy_weights) if policy_weights else "shipped"}


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    @app.command("schedule")
    @guarded
    def schedule(dataset: str = typer.Argument(..., help="A job shop: ta01, ft10, demo-shop, an imported shop."),
                 method: str = typer.Option("rl", help=f"One of {', '.join(METHODS)}."),
                 rollouts: int = typer.Option(DEFAULT_ROLLOUTS, help="Sampled rollouts of the RL policy."),
                 time_limit: float = typer.Option(10.0, "--time-limit", help="CP-SAT budget in seconds."),
                 w_tardiness: float = typer.Option(0.0, help="Weight of total tardiness (needs due dates)."),
                 w_idle: float = typer.Option(0.0, help="Weight of machine idle time (energy proxy)."),
                 w_makespan: float = typer.Option(1.0, help="Weight of the makespan."),
                 weights: Path = typer.Option(None, help="Policy weights (.safetensors); default: shipped."),
                 seed: int = typer.Option(0, help="Sampling seed."),
                 plot: Path = typer.Option(None, "--plot", help="Write a Gantt chart (.png/.svg/.pdf)."),
                 as_json: bool = JSON_OPTION) -> None:
        """Schedule a job shop by RL rollouts, a dispatching rule or CP-SAT (or compare them all)."""
        result = schedule_jobs(dataset, method, rollouts, time_limit, weights=weights, w_makespan=w_makespan,
                               w_tardiness=w_tardiness, w_idle=w_idle, seed=seed)
        facts = result["facts"]
        if plot is not None:
            import numpy as np

            from tools.core.store import Store
            from tools.jobshop.gantt import plot_gantt
            from tools.jobshop.instance import load_instance

            start = np.array(Store().load_schedule(result["schedule_id"])["start"])
            facts["plot"] = str(plot_gantt(load_instance(dataset), start, plot,
                                           title=f"{facts['dataset']} by {facts['method']}: makespan {facts['makespan']}"))
        if as_json:
            print_json(result)
            return
        console.print(result["message"])
        if result["compare"]:
            console.print(simple_table(f"Methods on {facts['dataset']}", result["compare"]))
        else:
            console.print(simple_table("Schedule (first 30 operations)", result["schedule"][:30]))
        if facts.get("plot"):
            console.print(f"Gantt chart: {facts['plot']}")

    @bench_app.command("jssp")
    @guarded
    def bench_jssp(instances: str = typer.Option(DEFAULT_BENCH, help="Comma list; ranges like la01-la20."),
                   methods: str = typer.Option(",".join(BENCH_METHODS), help="Comma list of methods."),
                   rollouts: int = typer.Option(DEFAULT_ROLLOUTS, help="RL sampled rollouts per instance."),
                   time_limit: float = typer.Option(10.0, "--time-limit", help="CP-SAT budget per instance (s)."),
                   workers: int = typer.Option(1, help="CP-SAT workers."),
                   out: Path = typer.Option(None, help="Also write the JSON result to this file."),
                   policy_weights: Path = typer.Option(None, "--policy-weights",
                                                       help="RL policy weights (.safetensors; default: the shipped ones)."),
                   as_json: bool = JSON_OPTION) -> None:
        """Gap to the best known and time per instance for every method on JSPLIB instances."""
        if policy_weights is not None and not policy_weights.is_file():
            raise DiaoduError(f"--policy-weights: no such file {policy_weights}")
        ms = [check_choice("method", m, BENCH_METHODS) for m in methods.split(",") if m.strip()]
        if not ms:
            raise DiaoduError(f"--methods names no method; choose from {', '.join(BENCH_METHODS)}")
        check_int("rollouts", rollouts, minimum=0, maximum=1024)
        check_number("time_limit", time_limit, minimum=0.1, maximum=600)
        t0 = time.perf_counter()
        load0 = os.getloadavg()[0]
        result = run_bench(expand_instances(instances), ms, rollouts, time_limit, workers, policy_weights)
        result["wall_s"] = round(time.perf_counter() - t0, 1)
        # The machine is shared: record how busy it was, to read the wall times against.
        result["load_avg_1min"] = {"start": round(load0, 2), "end": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
        if out is not None:
            import json

            out.write_text(json.dumps(result, indent=1))
        if as_json:
            print_json(result)
            return
        cols = result["methods"]
        console.print(simple_table("Gap to best known (%) per instance",
                                   [{"instance": r["instance"], "shape": r["shape"], "bks": r["bks"],
                                     **{c: r.get(f"{c}_gap") for c in cols}} for r in result["rows"]]))
        console.print(simple_table("Mean gap (%) and mean seconds per instance",
                                   [{"group": s["group"], "n": s["instances"],
                                     **{f"{c} gap": s.get(f"{c}_gap") for c in cols},
                                     **{f"{c} s": s.get(f"{c}_s") for c in cols if f"{c}_s" in s},
                                     **{f"{c} cpu s": s.get(f"{c}_cpu_s") for c in cols if f"{c}_cpu_s" in s}}
                                    for s in result["summary"]]))


def _group_summary(group: str, rows: list[dict], cols: list[str]) -> dict[str, Any]:
    """Mean gap per method over ``rows``, with mean and max wall and CPU seconds."""
    s: dict[str, Any] = {"group": group, "instances": len(rows)}
    for c in cols:
        gaps = [r[f"{c}_gap"] for r in rows if r.get(f"{c}_gap") is not None]
        s[f"{c}_gap"] = round(mean(gaps), 2) if gaps else None
        for t in ("s", "cpu_s"):
            if f"{c}_{t}" in rows[0]:
                s[f"{c}_{t}"] = round(mean(r[f"{c}_{t}"] for r in rows), 3)
                s[f"{c}_{t}_max"] = round(max(r[f"{c}_{t}"] for r in rows), 3)
    return s
