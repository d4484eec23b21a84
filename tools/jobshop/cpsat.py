"""CP-SAT (OR-Tools) reference for job shops; the only module importing ``ortools.sat``.

The classic interval model: one interval per operation, ``NoOverlap`` per machine, job routes as
precedences, and the weighted cost J = w_makespan·Cmax + w_tardiness·ΣT + w_idle·idle as the
objective (idle time is modelled with each machine's first start and last end).
"""

from __future__ import annotations

import logging
import time

import numpy as np
from ortools.sat.python import cp_model

from tools.core.errors import DiaoduError
from tools.jobshop.env import Weights, check_schedule, objectives
from tools.jobshop.instance import JobShopInstance

log = logging.getLogger(__name__)


def solve_cpsat(inst: JobShopInstance, time_limit_s: float = 10.0, *, weights: Weights = Weights(),
                hint: np.ndarray | None = None, workers: int = 1, seed: int = 0) -> dict:
    """Solve with CP-SAT under a time limit; returns the best schedule found and its status.

    ``hint`` (start times of a known schedule) seeds the search. ``workers`` defaults to 1 because
    the machine is shared; more workers help CP-SAT a lot when cores are free.
    """
    t0 = time.perf_counter()
    horizon = int(inst.duration.sum() + (inst.release.max() if inst.release is not None else 0))
    model = cp_model.CpModel()
    starts: dict[tuple[int, int], cp_model.IntVar] = {}
    ends: dict[tuple[int, int], cp_model.IntVar] = {}
    per_machine: dict[int, list] = {}
    job_end: list[cp_model.IntVar] = []
    for j in range(inst.n_jobs):
        prev: cp_model.IntVar | None = None
        for k in range(int(inst.n_ops[j])):
            d = int(inst.duration[j, k])
            lo = int(inst.release[j]) if (k == 0 and inst.release is not None) else 0
            s = model.new_int_var(lo, horizon, f"s{j}_{k}")
            e = model.new_int_var(0, horizon, f"e{j}_{k}")
            iv = model.new_interval_var(s, d, e, f"i{j}_{k}")
            starts[j, k], ends[j, k] = s, e
            per_machine.setdefault(int(inst.machine[j, k]), []).append((iv, s, e, d))
            if prev is not None:
                model.add(s >= prev)
            prev = e
        assert prev is not None  # every job has at least one operation (validated on load)
        job_end.append(prev)
    for ivs in per_machine.values():
        model.add_no_overlap([iv for iv, *_ in ivs])
    cmax = model.new_int_var(0, horizon, "cmax")
    model.add_max_equality(cmax, job_end)
    terms = [(weights.makespan, cmax)]
    if weights.tardiness and inst.due is not None:
        for j in range(inst.n_jobs):
            t = model.new_int_var(0, horizon, f"t{j}")
            model.add(t >= job_end[j] - int(inst.due[j]))
            terms.append((weights.tardiness, t))
    if weights.idle:
        for k, ivs in per_machine.items():
            first = model.new_int_var(0, horizon, f"first{k}")
            last = model.new_int_var(0, horizon, f"last{k}")
            model.add_min_equality(first, [s for _, s, _, _ in ivs])
            model.add_max_equality(last, [e for _, _, e, _ in ivs])
            idle = model.new_int_var(0, horizon, f"idle{k}")
            model.add(idle == last - first - sum(d for *_, d in ivs))
            terms.append((weights.idle, idle))
    # CP-SAT needs integer coefficients; scale the weights to integers (3 decimals).
    model.minimize(sum(int(round(w * 1000)) * v for w, v in terms if w))
    if hint is not None:
        for (j, k), s in starts.items():
            model.add_hint(s, int(hint[j, k]))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit_s)
    solver.parameters.num_workers = int(workers)
    solver.parameters.random_seed = int(seed)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise DiaoduError(f"CP-SAT found no schedule within {time_limit_s:g} s (status "
                          f"{solver.status_name(status)}); give it more time with --time-limit", code="no_solution")
    start = np.full(inst.machine.shape, -1, dtype=np.int64)
    for (j, k), s in starts.items():
        start[j, k] = solver.value(s)
    check_schedule(inst, start)
    return {"start": start, **objectives(inst, start, weights), "optimal": status == cp_model.OPTIMAL,
            "lower_bound": float(solver.best_objective_bound) / 1000 if weights == Weights() else None,
            "seconds": time.perf_counter() - t0}
