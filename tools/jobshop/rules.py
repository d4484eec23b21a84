"""Priority dispatching rules (SPT, MWKR, FIFO, MOPNR) over the Giffler–Thompson candidates.

Each rule scores the candidate jobs of :class:`~tools.jobshop.env.BatchJobShop` and dispatches the
best one; ties go to the lowest job index, so results are deterministic.
"""

from __future__ import annotations

import numpy as np

from tools.core.errors import check_choice
from tools.jobshop.env import BatchJobShop, Weights, check_schedule
from tools.jobshop.instance import JobShopInstance

RULES = ("spt", "mwkr", "fifo", "mopnr")


def _score(env: BatchJobShop, rule: str) -> np.ndarray:
    """Higher is better."""
    if rule == "spt":  # shortest processing time of the next operation
        return -env.cand_dur.astype(np.float64)
    if rule == "mwkr":  # most work remaining in the job
        return env.rem_work.astype(np.float64)
    if rule == "fifo":  # the job that has waited longest (earliest ready)
        return -env.job_ready.astype(np.float64)
    if rule == "mopnr":  # most operations remaining
        return (env.n_ops - env.next_op).astype(np.float64)
    raise AssertionError(rule)


def rule_actions(env: BatchJobShop, rule: str) -> np.ndarray:
    """The job each row of ``env`` dispatches next under ``rule``."""
    score = np.where(env.mask, _score(env, rule), -np.inf)
    return score.argmax(axis=1)


def run_rule(inst: JobShopInstance, rule: str, weights: Weights = Weights()) -> dict:
    """Schedule ``inst`` with a dispatching rule; returns ``start`` times and objectives (checked)."""
    rule = check_choice("rule", rule, RULES)
    env = BatchJobShop([inst])
    while not env.done:
        env.step(rule_actions(env, rule))
    start = env.start[0].copy()
    ms = check_schedule(inst, start)
    costs = {k: float(v[0]) for k, v in env.costs(weights).items()}
    assert ms == int(costs["makespan"])
    return {"start": start, **costs}
