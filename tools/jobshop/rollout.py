"""Policy rollouts: greedy, and N sampled rollouts in one batch (the best one is returned).

All rollouts of an instance advance together in one :class:`BatchJobShop`; each step is one
policy forward on every rollout's state at once.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch

from tools.core.errors import DiaoduError
from tools.jobshop.env import BatchJobShop, Weights, check_schedule
from tools.jobshop.instance import JobShopInstance
from tools.jobshop.policy import JobShopPolicy, PolicyConfig

log = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_WEIGHTS = WEIGHTS_DIR / "policy.safetensors"


def load_policy(path: str | Path | None = None) -> JobShopPolicy:
    """Load the shipped (or given) policy weights; the config is read from ``meta.json`` beside them."""
    import json

    from safetensors.torch import load_file

    p = Path(path) if path else DEFAULT_WEIGHTS
    if not p.is_file():
        raise DiaoduError(f"policy weights not found at {p}; train them with `python -m tools.jobshop.train`",
                          code="no_weights")
    meta_path = p.with_name("meta.json")
    cfg = PolicyConfig()
    if meta_path.is_file():
        cfg = PolicyConfig(**json.loads(meta_path.read_text())["config"]["policy"])
    policy = JobShopPolicy(cfg)
    try:
        policy.load_state_dict(load_file(str(p)))
    except Exception as exc:  # noqa: BLE001 - a corrupt file or other weights: one clear message
        raise DiaoduError(f"policy weights at {p} cannot be loaded ({type(exc).__name__}: {str(exc)[:200]}); "
                          "they must be a job-shop policy saved by `python -m tools.jobshop.train`",
                          code="bad_weights") from None
    policy.eval()
    return policy


def run_policy(policy: JobShopPolicy, env: BatchJobShop, op_emb: torch.Tensor, *, greedy_rows: int = 0,
               generator: torch.Generator | None = None, actions: np.ndarray | None = None,
               keep_grad: bool = False, per_step: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Roll ``env`` to the end with ``policy``.

    The first ``greedy_rows`` rows take the argmax, the others sample; with ``actions [B, T]`` the
    given actions are replayed (teacher forcing). Returns the summed log-probability of the
    taken actions ``[B]`` and the mean entropy ``[B]`` (with gradients when ``keep_grad``).
    When ``per_step`` is a list, each decision step appends its ``(log-probability [B], critic
    value [B])`` to it (for PPO's per-step ratios and the critic's targets).
    """
    B = env.B
    n_inst, n_nodes = op_emb.shape[0], op_emb.shape[1]
    emb = policy.project(op_emb.reshape(n_inst * n_nodes, -1))
    pad_row = n_inst * n_nodes
    # Row b belongs to instance b // repeats; job j's next op is node j*L + next_op there.
    base = (np.arange(B) // (B // n_inst))[:, None] * n_nodes + np.arange(env.n)[None, :] * env.L
    logp = torch.zeros(B)
    ent = torch.zeros(B)
    t = 0
    with torch.set_grad_enabled(keep_grad):
        while not env.done:
            # Steps with a single candidate everywhere need no network call.
            single = env.mask.sum(axis=1) == 1
            if single.all():
                a = env.mask.argmax(axis=1) if actions is None else actions[:, t]
                env.step(a)
                t += 1
                continue
            node = torch.from_numpy(np.where(env.finished, pad_row, base + np.minimum(env.next_op, env.L - 1)))
            logits, value = policy(emb, node, torch.from_numpy(env.finished),
                                   torch.from_numpy(env.job_features()), torch.from_numpy(env.mask),
                                   with_value=per_step is not None)
            lp = torch.log_softmax(logits, dim=-1)
            if actions is not None:
                a_t = torch.from_numpy(actions[:, t])
            else:
                a_t = torch.multinomial(lp.detach().exp(), 1, generator=generator).squeeze(1)
                if greedy_rows:
                    a_t[:greedy_rows] = lp[:greedy_rows].detach().argmax(-1)
            step_lp = lp.gather(1, a_t[:, None]).squeeze(1)
            logp = logp + step_lp
            if per_step is not None:
                assert value is not None
                per_step.append((step_lp, value))
            p = lp.exp()
            ent = ent + -(p * lp.masked_fill(~torch.from_numpy(env.mask), 0.0)).sum(-1)
            env.step(a_t.numpy())
            t += 1
    return logp, ent / max(t, 1)


def rollouts(inst: JobShopInstance, policy: JobShopPolicy, n_samples: int = 128, *, weights: Weights = Weights(),
             seed: int = 0) -> dict:
    """Greedy plus ``n_samples`` sampled rollouts of one instance in one batch.

    Returns the best schedule by the weighted cost, the greedy one's objectives, and timing.
    """
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    B = 1 + max(int(n_samples), 0)
    env = BatchJobShop([inst], repeats=B)
    with torch.no_grad():
        emb = policy.encode([inst])
        run_policy(policy, env, emb, greedy_rows=1, generator=gen)
    costs = env.costs(weights)
    best = int(np.argmin(costs["cost"]))
    start = env.start[best].copy()
    ms = check_schedule(inst, start)
    assert ms == int(costs["makespan"][best])
    greedy_start = env.start[0].copy()
    check_schedule(inst, greedy_start)
    return {"start": start, **{k: float(v[best]) for k, v in costs.items()},
            "greedy": {k: float(v[0]) for k, v in costs.items()}, "greedy_start": greedy_start,
            "samples": B - 1, "seconds": time.perf_counter() - t0,
            "sampled_mean_makespan": float(costs["makespan"][1:].mean()) if B > 1 else None}
