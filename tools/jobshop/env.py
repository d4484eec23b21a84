"""The job-shop environment: a numpy core vectorised over a batch, a Gymnasium wrapper, a checker.

Schedule generation is Giffler–Thompson (active schedules): at each step the operation with the
earliest possible completion ``c*`` fixes a machine ``m*``; the candidates are the jobs whose next
operation runs on ``m*`` and can start before ``c*``. The chosen operation is appended at its
earliest start. Every active schedule (so an optimal one) is reachable, and rules and the policy
choose among the same candidates. An action is a job index.

:class:`BatchJobShop` runs ``B`` schedules at once (the rollouts of one instance, or a training
batch of same-shaped instances), which is what makes sampled rollouts cheap.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from tools.core.errors import DiaoduError
from tools.jobshop.instance import JobShopInstance

log = logging.getLogger(__name__)

N_JOB_FEATURES = 13
INF = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class Weights:
    """Weights of the cost J = w_makespan·Cmax + w_tardiness·ΣT + w_idle·idle (lower is better)."""

    makespan: float = 1.0
    tardiness: float = 0.0
    idle: float = 0.0

    def to_dict(self) -> dict[str, float]:
        return {"makespan": self.makespan, "tardiness": self.tardiness, "idle": self.idle}


class BatchJobShop:
    """``B`` job-shop schedules advanced in lockstep (all instances must share ``n_jobs x max_ops``)."""

    def __init__(self, instances: list[JobShopInstance], repeats: int = 1):
        if not instances:
            raise DiaoduError("BatchJobShop needs at least one instance")
        shape = instances[0].machine.shape
        if any(i.machine.shape != shape for i in instances):
            raise DiaoduError("all instances in a batch must have the same jobs x operations shape")
        self.instances = instances
        self.repeats = repeats
        rep = lambda a: np.repeat(np.stack(a), repeats, axis=0)  # noqa: E731
        self.machine = rep([i.machine for i in instances])  # [B, n, L]
        self.duration = rep([i.duration for i in instances])
        self.n_ops = rep([i.n_ops for i in instances])  # [B, n]
        self.release = rep([i.release for i in instances])
        self.B, self.n, self.L = self.machine.shape
        self.m = max(i.n_machines for i in instances)
        self.total_steps = int(instances[0].n_ops.sum())
        if any(int(i.n_ops.sum()) != self.total_steps for i in instances):
            raise DiaoduError("all instances in a batch must have the same number of operations")
        ops = self.duration.sum(axis=(1, 2)) / np.maximum(self.n_ops.sum(axis=1), 1)
        self.scale = np.maximum(ops, 1.0)[:, None].astype(np.float64)  # mean duration, [B, 1]
        self.rows = np.arange(self.B)
        self.reset()

    def reset(self) -> None:
        B, n, L, m = self.B, self.n, self.L, self.m
        self.next_op = np.zeros((B, n), dtype=np.int64)
        self.job_ready = self.release.astype(np.int64).copy()
        self.mach_ready = np.zeros((B, m), dtype=np.int64)
        self.start = np.full((B, n, L), -1, dtype=np.int64)
        self.rem_work = self.duration.sum(axis=2).astype(np.int64)
        self.mach_rem = np.zeros((B, m), dtype=np.int64)
        valid = self.machine >= 0
        for b in range(B):
            np.add.at(self.mach_rem[b], self.machine[b][valid[b]], self.duration[b][valid[b]])
        self.steps = 0
        self.actions = np.zeros((B, self.total_steps), dtype=np.int64)
        self._candidates()

    @property
    def done(self) -> bool:
        return self.steps >= self.total_steps

    def _candidates(self) -> None:
        """Compute the Giffler–Thompson conflict set (``self.mask``) and the per-job quantities."""
        finished = self.next_op >= self.n_ops
        idx = np.minimum(self.next_op, self.L - 1)
        cm = np.take_along_axis(self.machine, idx[..., None], axis=2)[..., 0]
        cp = np.where(finished, 0, np.take_along_axis(self.duration, idx[..., None], axis=2)[..., 0])
        cm = np.where(finished, 0, cm)
        mr = np.take_along_axis(self.mach_ready, cm, axis=1)
        est = np.maximum(self.job_ready, mr)
        ect = np.where(finished, INF, est + cp)
        jstar = ect.argmin(axis=1)
        cstar = ect[self.rows, jstar]
        mstar = cm[self.rows, jstar]
        mask = (~finished) & (cm == mstar[:, None]) & (est < cstar[:, None])
        mask[self.rows, jstar] = ~finished[self.rows, jstar]  # zero-duration ops: the argmin itself
        self.finished, self.cand_machine, self.cand_dur, self.mach_ready_c = finished, cm, cp, mr
        self.est, self.cstar, self.mask = est, cstar, mask

    def step(self, actions: np.ndarray) -> None:
        """Dispatch job ``actions[b]``'s next operation in every schedule ``b``."""
        a = np.asarray(actions, dtype=np.int64)
        if self.done:
            raise DiaoduError("the schedule is complete; reset the environment")
        if not self.mask[self.rows, a].all():
            bad = int(np.flatnonzero(~self.mask[self.rows, a])[0])
            allowed = np.flatnonzero(self.mask[bad]).tolist()
            raise DiaoduError(f"job {int(a[bad])} cannot be dispatched now; allowed jobs: {allowed}")
        r = self.rows
        op = self.next_op[r, a]
        mach = self.cand_machine[r, a]
        dur = self.cand_dur[r, a]
        s = self.est[r, a]
        self.start[r, a, op] = s
        self.job_ready[r, a] = s + dur
        self.mach_ready[r, mach] = s + dur
        self.next_op[r, a] += 1
        self.rem_work[r, a] -= dur
        self.mach_rem[r, mach] -= dur
        self.actions[:, self.steps] = a
        self.steps += 1
        self._candidates()

    def job_features(self) -> np.ndarray:
        """Per-job features of each job's next operation, ``[B, n, N_JOB_FEATURES]`` (float32)."""
        s = self.scale
        fin = self.finished
        est = self.est.astype(np.float64)
        live_est = np.where(fin, np.inf, est)
        t0 = live_est.min(axis=1, keepdims=True)
        t0 = np.where(np.isfinite(t0), t0, 0.0)
        rem = self.rem_work.astype(np.float64)
        proj = est + rem
        proj_max = np.where(fin, -np.inf, proj).max(axis=1, keepdims=True)
        cur_ms = self.mach_ready.max(axis=1, keepdims=True).astype(np.float64)
        nxt = np.minimum(self.next_op + 1, self.L - 1)
        has_next = (self.next_op + 1) < self.n_ops
        nm = np.where(has_next, np.take_along_axis(self.machine, nxt[..., None], axis=2)[..., 0], 0)
        nm_ready = np.take_along_axis(self.mach_ready, nm, axis=1).astype(np.float64)
        end = est + self.cand_dur
        mcount = self.mask.sum(axis=1, keepdims=True) / self.n
        f = np.stack([
            (est - t0) / s,
            self.cand_dur / s,
            rem / (s * self.m),
            (self.n_ops - self.next_op) / self.L,
            (self.job_ready - self.mach_ready_c) / s,
            np.take_along_axis(self.mach_rem, self.cand_machine, axis=1) / (s * self.n),
            (proj - proj_max) / (s * self.m),
            (proj - cur_ms) / (s * self.m),
            np.where(has_next, (nm_ready - end) / s, 0.0),
            (est - self.cstar[:, None]) / s,
            np.broadcast_to(mcount, fin.shape),
            np.broadcast_to(np.full((self.B, 1), self.steps / self.total_steps), fin.shape),
            (self.mach_ready_c - t0) / s,
        ], axis=-1)
        f = np.where(fin[..., None], 0.0, f)
        return np.clip(f, -10.0, 10.0).astype(np.float32)

    def makespan(self) -> np.ndarray:
        return self.mach_ready.max(axis=1)

    def costs(self, weights: Weights) -> dict[str, np.ndarray]:
        """Makespan, total tardiness, machine idle time and the weighted cost J for every row."""
        return objectives_batch(self.instances, self.repeats, self.start, self.duration, self.machine, self.m, weights)


def objectives_batch(instances: list[JobShopInstance], repeats: int, start: np.ndarray, duration: np.ndarray,
                     machine: np.ndarray, m: int, weights: Weights) -> dict[str, np.ndarray]:
    """Objectives of complete schedules ``start[B, n, L]``."""
    valid = machine >= 0
    end = np.where(valid, start + duration, 0)
    ms = end.max(axis=(1, 2))
    B = start.shape[0]
    tard = np.zeros(B)
    due = [i.due for i in instances]
    if all(d is not None for d in due):
        due_arr = np.repeat(np.stack(due), repeats, axis=0)  # type: ignore[arg-type]
        tard = np.maximum(end.max(axis=2) - due_arr, 0).sum(axis=1).astype(np.float64)
    idle = np.zeros(B)
    for k in range(m):
        on = valid & (machine == k)
        if not on.any():
            continue
        first = np.where(on, start, INF).min(axis=(1, 2))
        last = np.where(on, end, -1).max(axis=(1, 2))
        busy = np.where(on, duration, 0).sum(axis=(1, 2))
        idle += np.where(last >= 0, last - first - busy, 0)
    cost = weights.makespan * ms + weights.tardiness * tard + weights.idle * idle
    return {"makespan": ms.astype(np.float64), "tardiness": tard, "idle": idle, "cost": cost}


def objectives(inst: JobShopInstance, start: np.ndarray, weights: Weights = Weights()) -> dict[str, float]:
    """Objectives of one schedule (``start[n, L]``)."""
    out = objectives_batch([inst], 1, start[None], inst.duration[None], inst.machine[None], inst.n_machines, weights)
    return {k: float(v[0]) for k, v in out.items()}


def check_schedule(inst: JobShopInstance, start: np.ndarray) -> int:
    """Verify a schedule independently of how it was built; return its makespan.

    Checks that every operation is scheduled at or after its job's release, after its job
    predecessor ends, and that no two operations overlap on a machine. Raises
    ``DiaoduError(code="infeasible_schedule")`` naming the first violation.
    """
    start = np.asarray(start)
    if start.shape != inst.machine.shape:
        raise DiaoduError(f"schedule shape {start.shape} does not match the instance {inst.machine.shape}",
                          code="infeasible_schedule")
    per_machine: dict[int, list[tuple[int, int, int, int]]] = {}
    makespan = 0
    for j in range(inst.n_jobs):
        prev_end = int(inst.release[j]) if inst.release is not None else 0
        for k in range(int(inst.n_ops[j])):
            s, d, mach = int(start[j, k]), int(inst.duration[j, k]), int(inst.machine[j, k])
            if s < 0:
                raise DiaoduError(f"job {inst.job_names[j]} operation {k} is not scheduled", code="infeasible_schedule")
            if s < prev_end:
                raise DiaoduError(f"job {inst.job_names[j]} operation {k} starts at {s} before its predecessor "
                                  f"(or release) ends at {prev_end}", code="infeasible_schedule")
            prev_end = s + d
            makespan = max(makespan, prev_end)
            per_machine.setdefault(mach, []).append((s, s + d, j, k))
    for mach, ivs in per_machine.items():
        ivs.sort()
        for (s1, e1, j1, k1), (s2, e2, j2, k2) in zip(ivs, ivs[1:], strict=False):
            if s2 < e1 and e2 > s2 and e1 > s1:  # zero-length operations never conflict
                raise DiaoduError(f"machine {inst.machine_names[mach]}: job {inst.job_names[j1]} op {k1} [{s1},{e1}) "
                                  f"overlaps job {inst.job_names[j2]} op {k2} [{s2},{e2})", code="infeasible_schedule")
    return makespan


def schedule_from_sequences(inst: JobShopInstance, sequences: list[list[int]]) -> np.ndarray:
    """Semi-active start times from a job order on every machine (``sequences[machine] = [job, ...]``).

    Raises ``DiaoduError(code="cyclic_schedule")`` when the machine orders and the job routes form
    a cycle (no feasible start times exist).
    """
    if len(sequences) != inst.n_machines:
        raise DiaoduError(f"need one job sequence per machine ({inst.n_machines}); got {len(sequences)}")
    # Operations of job j on machine k in route order, matched to the k-th visit in the sequence.
    visits: dict[tuple[int, int], list[int]] = {}
    for j in range(inst.n_jobs):
        for k in range(int(inst.n_ops[j])):
            visits.setdefault((j, int(inst.machine[j, k])), []).append(k)
    order: list[list[tuple[int, int]]] = []
    for mach, seq in enumerate(sequences):
        seen: dict[int, int] = {}
        ops = []
        for j in seq:
            if not isinstance(j, int | np.integer) or not 0 <= j < inst.n_jobs:
                raise DiaoduError(f"machine {mach}: job must be in 0..{inst.n_jobs - 1}; got {j!r}")
            c = seen.get(j, 0)
            ks = visits.get((int(j), mach), [])
            if c >= len(ks):
                raise DiaoduError(f"machine {mach}: job {j} listed more often than it visits the machine")
            ops.append((int(j), ks[c]))
            seen[j] = c + 1
        expected = sum(len(v) for (jj, mm), v in visits.items() if mm == mach)
        if len(ops) != expected:
            raise DiaoduError(f"machine {mach}: sequence has {len(ops)} operations; the instance has {expected}")
        order.append(ops)
    # Longest path by Kahn's algorithm over job arcs and machine arcs.
    preds: dict[tuple[int, int], list[tuple[int, int]]] = {}
    succs: dict[tuple[int, int], list[tuple[int, int]]] = {}
    nodes = [(j, k) for j in range(inst.n_jobs) for k in range(int(inst.n_ops[j]))]
    for j, k in nodes:
        preds.setdefault((j, k), [])
        succs.setdefault((j, k), [])
    arcs = [((j, k - 1), (j, k)) for j, k in nodes if k > 0]
    arcs += [(a, b) for ops in order for a, b in zip(ops, ops[1:], strict=False)]
    for a, b in arcs:
        succs[a].append(b)
        preds[b].append(a)
    indeg = {v: len(preds[v]) for v in nodes}
    ready = [v for v in nodes if indeg[v] == 0]
    start = np.full(inst.machine.shape, -1, dtype=np.int64)
    for j in range(inst.n_jobs):
        start[j, 0] = int(inst.release[j]) if inst.release is not None else 0
    seen_count = 0
    while ready:
        v = ready.pop()
        seen_count += 1
        end = start[v] + inst.duration[v]
        for w in succs[v]:
            start[w] = max(start[w], end)
            indeg[w] -= 1
            if indeg[w] == 0:
                ready.append(w)
    if seen_count != len(nodes):
        raise DiaoduError("the machine sequences contradict the job routes (a cycle): no feasible schedule",
                          code="cyclic_schedule")
    return start


def static_op_features(inst: JobShopInstance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Node features of the operations and the two edge sets of the disjunctive graph.

    Returns ``(x [n*L, 8], job_edges [2, E1], machine_edges [2, E2])``; operation ``(j, k)`` is
    node ``j*L + k``; padding operations get zero features and no edges.
    """
    n, L = inst.machine.shape
    dur = inst.duration.astype(np.float64)
    valid = inst.machine >= 0
    scale = max(dur[valid].mean(), 1.0) if valid.any() else 1.0
    job_work = dur.sum(axis=1, keepdims=True)
    head = np.cumsum(dur, axis=1) - dur
    tail = job_work - head - dur
    load = np.zeros(inst.n_machines)
    np.add.at(load, inst.machine[valid], dur[valid])
    mload = np.where(valid, load[np.maximum(inst.machine, 0)], 0.0)
    m = inst.n_machines
    x = np.stack([
        dur / scale,
        head / (scale * m),
        tail / (scale * m),
        np.broadcast_to(np.arange(L)[None, :] / max(L - 1, 1), (n, L)),
        mload / (scale * n),
        mload / max(load.max(), 1.0),
        dur / np.maximum(job_work, 1.0),
        np.broadcast_to(inst.n_ops[:, None] / L, (n, L)),
    ], axis=-1)
    x = np.where(valid[..., None], x, 0.0).reshape(n * L, -1).astype(np.float32)
    node = np.arange(n * L).reshape(n, L)
    src = [node[j, k] for j in range(n) for k in range(int(inst.n_ops[j]) - 1)]
    dst = [node[j, k + 1] for j in range(n) for k in range(int(inst.n_ops[j]) - 1)]
    job_edges = np.array([src + dst, dst + src], dtype=np.int64).reshape(2, -1)
    msrc: list[int] = []
    mdst: list[int] = []
    for k in range(m):
        ids = node[valid & (inst.machine == k)]
        if len(ids) > 1:
            a, b = np.meshgrid(ids, ids)
            keep = a != b
            msrc += a[keep].tolist()
            mdst += b[keep].tolist()
    mach_edges = np.array([msrc, mdst], dtype=np.int64).reshape(2, -1)
    return x, job_edges, mach_edges


class JobShopEnv(gym.Env):
    """A Gymnasium environment over one job shop (fixed, or drawn from a seeded generator).

    Observation: the disjunctive graph (``op_features``, ``job_edges``, ``machine_edges``), the
    per-job features of each job's next operation and the ``action_mask`` of dispatchable jobs.
    Action: a job index. Reward: minus the increase of the weighted cost, so an episode's return is
    ``-J = -(w_makespan·Cmax + w_tardiness·ΣT + w_idle·idle)``.
    """

    metadata = {"render_modes": []}

    def __init__(self, instance: JobShopInstance | None = None, *, n_jobs: int = 6, n_machines: int = 6,
                 weights: Weights = Weights()):
        super().__init__()
        self.fixed = instance
        self.n_jobs = instance.n_jobs if instance else n_jobs
        self.n_machines = instance.n_machines if instance else n_machines
        self.weights = weights
        L = instance.max_ops if instance else n_machines
        n_nodes = self.n_jobs * L
        self.action_space = gym.spaces.Discrete(self.n_jobs)
        self.observation_space = gym.spaces.Dict({
            "op_features": gym.spaces.Box(-np.inf, np.inf, (n_nodes, 8), np.float32),
            "job_edges": gym.spaces.Box(0, n_nodes, (2, 2 * self.n_jobs * max(L - 1, 0)), np.int64),
            "machine_edges": gym.spaces.Sequence(gym.spaces.Box(0, n_nodes, (2,), np.int64)),
            "job_features": gym.spaces.Box(-10, 10, (self.n_jobs, N_JOB_FEATURES), np.float32),
            "action_mask": gym.spaces.MultiBinary(self.n_jobs),
        })
        self.core: BatchJobShop | None = None
        self.instance: JobShopInstance | None = None

    def _obs(self) -> dict[str, Any]:
        assert self.core is not None
        return {"op_features": self._static[0], "job_edges": self._static[1], "machine_edges": tuple(self._static[2].T),
                "job_features": self.core.job_features()[0], "action_mask": self.core.mask[0].astype(np.int8)}

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict[str, Any], dict]:
        super().reset(seed=seed)
        if self.fixed is not None:
            self.instance = self.fixed
        else:
            from tools.jobshop.instance import random_instance

            self.instance = random_instance(self.n_jobs, self.n_machines, int(self.np_random.integers(2**31)))
        self.core = BatchJobShop([self.instance])
        self._static = static_op_features(self.instance)
        self._cost = 0.0
        return self._obs(), {"instance": self.instance.name}

    def step(self, action: int) -> tuple[dict[str, Any], float, bool, bool, dict]:
        if self.core is None:
            raise DiaoduError("call reset() before step()")
        self.core.step(np.array([int(action)]))
        done = self.core.done
        w = self.weights
        if done:
            costs = self.core.costs(w)
            cost = float(costs["cost"][0])
            info = {k: float(v[0]) for k, v in costs.items()}
        else:
            # Dense part: the growth of the partial makespan; tardiness and idle land at the end.
            cost = w.makespan * float(self.core.makespan()[0])
            info = {}
        reward = -(cost - self._cost)
        self._cost = cost
        return self._obs(), reward, done, False, info

    def action_masks(self) -> np.ndarray:
        assert self.core is not None
        return self.core.mask[0].copy()
