"""The ``schedule_jobs`` tool: schedule a job shop by RL rollouts, a dispatching rule or CP-SAT.

Every schedule is verified by :func:`~tools.jobshop.env.check_schedule` (precedence, machine
capacity, makespan recomputed independently) and stored in the workspace as ``sched-N``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from tools.core.errors import DiaoduError, check_choice, check_int, check_number
from tools.core.store import Store
from tools.jobshop.env import Weights, check_schedule
from tools.jobshop.instance import JobShopInstance, load_instance
from tools.jobshop.rules import RULES, run_rule

log = logging.getLogger(__name__)

METHODS = ("rl", "cp_sat", "spt", "mwkr", "fifo", "mopnr", "compare")
DEFAULT_ROLLOUTS = 128
MAX_ROLLOUTS = 1024
DEFAULT_TIME_LIMIT_S = 10.0
MAX_TIME_LIMIT_S = 600.0

_POLICIES: dict[str, Any] = {}


def get_policy(weights: str | Path | None = None) -> Any:
    """The trained policy (cached per weights file)."""
    from tools.jobshop.rollout import DEFAULT_WEIGHTS, load_policy

    key = str(weights or DEFAULT_WEIGHTS)
    if key not in _POLICIES:
        _POLICIES[key] = load_policy(key)
    return _POLICIES[key]


def gap_pct(value: float, bks: float | None) -> float | None:
    """Percentage gap of ``value`` over the best-known ``bks`` (None when unknown)."""
    return None if not bks else round(100.0 * (value - bks) / bks, 2)


def run_method(inst: JobShopInstance, method: str, *, rollouts: int = DEFAULT_ROLLOUTS,
               time_limit_s: float = DEFAULT_TIME_LIMIT_S, weights: Weights = Weights(),
               policy_weights: str | Path | None = None, seed: int = 0, workers: int = 1,
               hint: np.ndarray | None = None) -> dict:
    """Run one method (not ``compare``) and return its checked result (``start`` plus objectives)."""
    if method == "rl":
        import torch

        from tools.jobshop.rollout import rollouts as run_rollouts

        torch.set_num_threads(1)  # the machine is shared; batching carries the speed
        policy = get_policy(policy_weights)  # loading (and imports) is not part of the timing
    t0, c0 = time.perf_counter(), time.process_time()
    if method == "rl":
        out = run_rollouts(inst, policy, rollouts, weights=weights, seed=seed)
    elif method == "cp_sat":
        from tools.jobshop.cpsat import solve_cpsat

        out = solve_cpsat(inst, time_limit_s, weights=weights, hint=hint, workers=workers, seed=seed)
    elif method in RULES:
        out = run_rule(inst, method, weights)
    else:
        raise DiaoduError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    out["seconds"] = time.perf_counter() - t0
    # CPU time too: on a shared machine wall time mostly measures the other processes.
    out["cpu_seconds"] = time.process_time() - c0
    out["makespan_checked"] = check_schedule(inst, out["start"])
    return out


def schedule_rows(inst: JobShopInstance, start: np.ndarray) -> list[dict[str, Any]]:
    """The schedule as rows ``{job, operation, machine, start, end}`` sorted by start time."""
    rows = []
    for j in range(inst.n_jobs):
        for k in range(int(inst.n_ops[j])):
            s = int(start[j, k])
            rows.append({"job": inst.job_names[j], "operation": k + 1,
                         "machine": inst.machine_names[int(inst.machine[j, k])],
                         "start": s, "end": s + int(inst.duration[j, k])})
    rows.sort(key=lambda r: (r["start"], r["machine"]))
    return rows


def schedule_jobs(dataset: str, method: str = "rl", rollouts: int | None = None, time_limit_s: float | None = None,
                  *, weights: str | Path | None = None, w_makespan: float = 1.0, w_tardiness: float = 0.0,
                  w_idle: float = 0.0, seed: int = 0, workers: int = 1, save: bool = True) -> dict[str, Any]:
    """Schedule the job shop ``dataset`` (contract: ``schedule_jobs``).

    ``method``: ``rl`` (best of ``rollouts`` sampled policy rollouts plus the greedy one),
    ``cp_sat`` (OR-Tools within ``time_limit_s``), a rule (``spt``, ``mwkr``, ``fifo``, ``mopnr``)
    or ``compare`` (all of them; the best schedule is kept). The rollouts are chosen by the weighted
    cost J = w_makespan·Cmax + w_tardiness·ΣT + w_idle·idle (makespan alone by default).
    Returns facts (makespan, gap to the best known, tardiness, idle time), the schedule, the
    schedule id and, for ``compare``, a table of methods.
    """
    method = check_choice("method", method, METHODS)
    n_roll = DEFAULT_ROLLOUTS if rollouts is None else check_int("rollouts", rollouts, minimum=0, maximum=MAX_ROLLOUTS)
    limit = DEFAULT_TIME_LIMIT_S if time_limit_s is None else check_number(
        "time_limit_s", time_limit_s, minimum=0.1, maximum=MAX_TIME_LIMIT_S)
    w = Weights(check_number("w_makespan", w_makespan, minimum=0), check_number("w_tardiness", w_tardiness, minimum=0),
                check_number("w_idle", w_idle, minimum=0))
    if w.makespan == w.tardiness == w.idle == 0:
        raise DiaoduError("at least one objective weight (w_makespan, w_tardiness, w_idle) must be positive")
    inst = load_instance(dataset)
    if w.tardiness and inst.due is None:
        raise DiaoduError(f"dataset {inst.name!r} has no due dates, so w_tardiness cannot be used; "
                          "use w_makespan or w_idle")
    methods = ["rl", *RULES, "cp_sat"] if method == "compare" else [method]
    results: dict[str, dict] = {}
    for m in methods:
        hint = None
        if m == "cp_sat" and results:  # warm-start CP-SAT from the best schedule so far
            hint = min(results.values(), key=lambda r: r["cost"])["start"]
        results[m] = run_method(inst, m, rollouts=n_roll, time_limit_s=limit, weights=w, policy_weights=weights,
                                seed=seed, workers=workers, hint=hint)
    best_method = min(results, key=lambda m: (results[m]["cost"], methods.index(m)))
    best = results[best_method]
    bks = inst.bks
    facts: dict[str, Any] = {
        "dataset": inst.name, "method": best_method, "n_jobs": inst.n_jobs, "n_machines": inst.n_machines,
        "operations": inst.total_ops, "makespan": int(best["makespan"]), "best_known": bks,
        "gap_pct": gap_pct(best["makespan"], bks), "lower_bound": inst.lower_bound(),
        "idle_time": int(best["idle"]), "seconds": round(best["seconds"], 3),
        "cpu_seconds": round(best["cpu_seconds"], 3),
        "weights": w.to_dict(), "time_unit": inst.time_unit or None,
    }
    if inst.due is not None:
        end = np.array([int(best["start"][j, int(inst.n_ops[j]) - 1] + inst.duration[j, int(inst.n_ops[j]) - 1])
                        for j in range(inst.n_jobs)])
        late = [inst.job_names[j] for j in range(inst.n_jobs) if end[j] > inst.due[j]]
        facts.update({"total_tardiness": int(best["tardiness"]), "late_jobs": late, "n_late_jobs": len(late)})
    if best_method == "rl":
        facts.update({"rollouts": best["samples"], "greedy_makespan": int(best["greedy"]["makespan"]),
                      "greedy_gap_pct": gap_pct(best["greedy"]["makespan"], bks)})
    if best_method == "cp_sat":
        facts.update({"optimal": bool(best["optimal"]), "time_limit_s": limit})
    table = None
    if method == "compare":
        table = [{"method": m, "makespan": int(r["makespan"]), "gap_pct": gap_pct(r["makespan"], bks),
                  "cost": round(float(r["cost"]), 2), "seconds": round(r["seconds"], 3),
                  "cpu_seconds": round(r["cpu_seconds"], 3)} for m, r in results.items()]
        if "rl" in results:
            g = results["rl"]["greedy"]
            table.insert(1, {"method": "rl_greedy", "makespan": int(g["makespan"]), "gap_pct": gap_pct(g["makespan"], bks),
                             "cost": round(float(g["cost"]), 2), "seconds": None, "cpu_seconds": None})
    rows = schedule_rows(inst, best["start"])
    payload = {"method": best_method, "facts": facts, "schedule": rows, "compare": table,
               "start": best["start"].tolist()}
    sched_id = Store().save_schedule(inst.name, payload) if save else None
    facts["schedule_id"] = sched_id
    message, message_zh = schedule_messages(facts)
    log.info("scheduled %s with %s: makespan %s", inst.name, best_method, facts["makespan"])
    return {"schedule_id": sched_id, "facts": facts, "message": message, "message_zh": message_zh,
            "makespan": facts["makespan"],
            "gap_pct": facts["gap_pct"], "schedule": rows, "compare": table}


def schedule_messages(facts: dict[str, Any]) -> tuple[str, str]:
    """Template sentences (English, Chinese) grounded in ``facts``."""
    bks = facts.get("best_known")
    gap = f" ({facts['gap_pct']:.1f}% above the best known {bks:g})" if bks else ""
    gap_zh = f"（比已知最优 {bks:g} 高 {facts['gap_pct']:.1f}%）" if bks else ""
    late = (f"; {facts['n_late_jobs']} job(s) late, total tardiness {facts['total_tardiness']}"
            if "n_late_jobs" in facts else "")
    late_zh = (f"；{facts['n_late_jobs']} 个工件延期，总延期 {facts['total_tardiness']}" if "n_late_jobs" in facts else "")
    sid = facts.get("schedule_id") or "the schedule"
    en = (f"Schedule {sid} for {facts['dataset']} ({facts['n_jobs']} jobs, {facts['n_machines']} machines) "
          f"by {facts['method']}: makespan {facts['makespan']}{gap}{late}.")
    zh = (f"{facts['dataset']} 的排产方案 {facts.get('schedule_id') or ''}（{facts['n_jobs']} 个工件，{facts['n_machines']} 台设备，"
          f"方法 {facts['method']}）：总完工时间 {facts['makespan']}{gap_zh}{late_zh}。")
    return en, zh
