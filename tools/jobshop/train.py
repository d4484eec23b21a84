"""Train the job-shop policy: ``python -m tools.jobshop.train [--algo ppo] [--minutes 50] [--seed 0]``.

Seeded; trains on Taillard-style random instances of a few sizes and writes
``tools/jobshop/weights/policy.safetensors`` and ``meta.json`` (config, seeds, data hash,
validation curve). Three algorithms:

- ``reinforce``: REINFORCE with a POMO-style shared baseline: K rollouts of each instance, the
  advantage of a rollout is (mean cost of its instance's rollouts − its cost) / std;
- ``ppo`` (default, the shipped weights): actor-critic PPO: the critic learns each decision state's POMO-normalised return and
  the actor's per-step advantage is that return minus the critic's value (clipped ratios);
- ``selflabel``: the best of the K sampled rollouts of each instance is the label and
  the policy is trained by cross-entropy on its actions (self-labelling, a max-baseline variant of
  the same sample-and-compare idea; it learns faster per sample on job shops).

The sampling pass runs without gradients; the update replays the chosen action sequences
(teacher forcing) with gradients, so memory stays small.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from tools.jobshop.env import BatchJobShop, Weights
from tools.jobshop.instance import JobShopInstance, random_instance
from tools.jobshop.policy import JobShopPolicy, PolicyConfig
from tools.jobshop.rollout import WEIGHTS_DIR, run_policy

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Training settings (all recorded in ``meta.json``)."""

    seed: int = 0
    minutes: float = 50.0
    max_iters: int = 100_000
    sizes: list[tuple[int, int]] = field(default_factory=lambda: [(10, 10), (15, 10), (15, 15)])
    instances_per_iter: int = 4
    samples: int = 32
    lr: float = 5e-4
    algo: str = "ppo"
    entropy: float = 0.0
    val_size: tuple[int, int] = (15, 15)
    val_instances: int = 8
    val_every: int = 20
    threads: int = 1
    ppo_epochs: int = 2
    clip: float = 0.2
    value_coef: float = 0.5
    init: str | None = None  # start from these weights (a continuation phase)
    policy: PolicyConfig = field(default_factory=PolicyConfig)


def evaluate(policy: JobShopPolicy, instances: list[JobShopInstance]) -> float:
    """Mean greedy makespan over ``instances``."""
    policy.eval()
    env = BatchJobShop(instances)
    with torch.no_grad():
        run_policy(policy, env, policy.encode(instances), greedy_rows=env.B)
    return float(env.makespan().mean())


def pomo_return(cost: np.ndarray) -> np.ndarray:
    """Each rollout's cost relative to its instance's other rollouts, ``(mean − cost) / std`` (POMO's shared baseline)."""
    return (cost.mean(axis=1, keepdims=True) - cost) / (cost.std(axis=1, keepdims=True) + 1e-6)


def optimiser_step(policy: JobShopPolicy, opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
    opt.step()


def ppo_update(policy: JobShopPolicy, opt: torch.optim.Optimizer, cfg: TrainConfig,
               insts: list[JobShopInstance], actions: np.ndarray, cost: np.ndarray,
               old_logp: torch.Tensor) -> torch.Tensor:
    """PPO epochs over one batch of sampled schedules (actor-critic with a POMO-normalised return).

    The episode's return is its makespan relative to the other rollouts of the same instance,
    ``(mean − cost) / std`` (POMO's shared baseline, which removes the instance's scale); the
    critic ``V(s_t)`` learns that return from each decision state and the actor's per-step
    advantage is ``return − V(s_t)``, clipped-ratio updated for ``cfg.ppo_epochs`` epochs.
    """
    ret = torch.from_numpy(pomo_return(cost).reshape(-1)).float()
    loss = torch.zeros(())
    for _ in range(cfg.ppo_epochs):
        steps: list[tuple[torch.Tensor, torch.Tensor]] = []
        replay = BatchJobShop(insts, repeats=cfg.samples)
        _, ent = run_policy(policy, replay, policy.encode(insts), actions=actions, keep_grad=True, per_step=steps)
        new_logp = torch.stack([lp for lp, _ in steps], dim=1)
        values = torch.stack([v for _, v in steps], dim=1)
        adv = ret[:, None] - values.detach()
        adv = (adv - adv.mean()) / (adv.std() + 1e-6)
        ratio = torch.exp(new_logp - old_logp)
        clipped = torch.clamp(ratio, 1 - cfg.clip, 1 + cfg.clip)
        policy_loss = -torch.min(ratio * adv, clipped * adv).mean()
        value_loss = ((values - ret[:, None]) ** 2).mean()
        loss = policy_loss + cfg.value_coef * value_loss - cfg.entropy * ent.mean()
        optimiser_step(policy, opt, loss)
    return loss.detach()


def train(cfg: TrainConfig, out_dir: Path = WEIGHTS_DIR) -> dict:
    """Run training; returns the metrics written to ``meta.json``."""
    from safetensors.torch import save_file

    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    policy = JobShopPolicy(cfg.policy)
    init_meta = None
    if cfg.init:
        from safetensors.torch import load_file

        init_bytes = Path(cfg.init).read_bytes()
        policy.load_state_dict(load_file(cfg.init))
        init_meta = {"path": cfg.init, "sha256": hashlib.sha256(init_bytes).hexdigest()[:16]}
        prev_meta = Path(cfg.init).with_name("meta.json")
        if prev_meta.is_file():  # keep the earlier phase's record
            init_meta["previous_meta"] = json.loads(prev_meta.read_text())
    opt = torch.optim.Adam(policy.parameters(), lr=cfg.lr)
    # Validation instances use seeds far from the training stream's.
    val = [random_instance(*cfg.val_size, seed=10_000_000 + i) for i in range(cfg.val_instances)]
    best_val = evaluate(policy, val)
    best_state = {k: v.detach().clone() for k, v in policy.state_dict().items()}
    curve = [{"iter": 0, "seconds": 0.0, "val_greedy_makespan": best_val}]
    log.info("initial validation greedy makespan %.1f", best_val)
    t_start = time.perf_counter()
    it = 0
    train_seeds: list[int] = []
    while it < cfg.max_iters and time.perf_counter() - t_start < cfg.minutes * 60:
        it += 1
        n, m = cfg.sizes[(it - 1) % len(cfg.sizes)]
        seeds = rng.integers(0, 2**31 - 1, size=cfg.instances_per_iter).tolist()
        train_seeds.extend(seeds[:1])
        insts = [random_instance(n, m, seed=s) for s in seeds]
        policy.train()
        env = BatchJobShop(insts, repeats=cfg.samples)
        sampled: list[tuple[torch.Tensor, torch.Tensor]] = []
        with torch.no_grad():
            run_policy(policy, env, policy.encode(insts), generator=gen,
                       per_step=sampled if cfg.algo == "ppo" else None)
        cost = env.costs(Weights())["cost"].reshape(len(insts), cfg.samples)
        actions = env.actions.reshape(len(insts), cfg.samples, -1)
        if cfg.algo == "ppo":
            loss = ppo_update(policy, opt, cfg, insts, actions.reshape(len(insts) * cfg.samples, -1), cost,
                              torch.stack([lp for lp, _ in sampled], dim=1))
        elif cfg.algo == "selflabel":
            emb = policy.encode(insts)
            best = cost.argmin(axis=1)
            acts = actions[np.arange(len(insts)), best]
            replay = BatchJobShop(insts)
            logp, ent = run_policy(policy, replay, emb, actions=acts, keep_grad=True)
            loss = -(logp / replay.total_steps).mean() - cfg.entropy * ent.mean()
            optimiser_step(policy, opt, loss)
        else:
            emb = policy.encode(insts)
            adv = pomo_return(cost)
            replay = BatchJobShop(insts, repeats=cfg.samples)
            logp, ent = run_policy(policy, replay, emb, actions=actions.reshape(replay.B, -1), keep_grad=True)
            loss = -(torch.from_numpy(adv.reshape(-1)).float() * logp).mean() / replay.total_steps \
                - cfg.entropy * ent.mean()
            optimiser_step(policy, opt, loss)
        if it % cfg.val_every == 0:
            v = evaluate(policy, val)
            el = time.perf_counter() - t_start
            curve.append({"iter": it, "seconds": round(el, 1), "val_greedy_makespan": v,
                          "train_best_sample_makespan": float(cost.min(axis=1).mean())})
            log.info("iter %d (%.0fs): loss %.4f, val greedy %.1f (best %.1f)", it, el, loss.item(), v, best_val)
            if v < best_val:
                best_val = v
                best_state = {k: t.detach().clone() for k, t in policy.state_dict().items()}
                # Save on every improvement so an interrupted run still leaves usable weights.
                out_dir.mkdir(parents=True, exist_ok=True)
                save_file({k: t.contiguous() for k, t in best_state.items()}, str(out_dir / "policy.safetensors"))
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in best_state.items()}, str(out_dir / "policy.safetensors"))
    data_hash = hashlib.sha256(json.dumps({"seed": cfg.seed, "sizes": cfg.sizes, "val": [i.name for i in val],
                                           "first_train_seeds": train_seeds[:50]}).encode()).hexdigest()[:16]
    meta = {"config": {**asdict(cfg), "policy": cfg.policy.to_dict()},
            "data": {"generator": "Taillard-style: machine orders uniform permutations, durations U[1,99]",
                     "hash": data_hash},
            "metrics": {"iterations": it, "seconds": round(time.perf_counter() - t_start, 1),
                        "val_greedy_makespan_best": best_val, "curve": curve},
            "init": init_meta, "command": "python -m tools.jobshop.train " + " ".join(sys.argv[1:]),
            "torch": torch.__version__}
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1))
    log.info("wrote %s (best validation greedy makespan %.1f)", out_dir / "policy.safetensors", best_val)
    return meta


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=50.0)
    ap.add_argument("--max-iters", type=int, default=100_000)
    ap.add_argument("--algo", choices=["selflabel", "reinforce", "ppo"], default="ppo")
    ap.add_argument("--samples", type=int, default=32)
    ap.add_argument("--instances", type=int, default=4)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--sizes", default="10x10,15x10,15x15", help="comma-separated JxM sizes, cycled")
    ap.add_argument("--val-every", type=int, default=20)
    ap.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    ap.add_argument("--ppo-epochs", type=int, default=2)
    ap.add_argument("--entropy", type=float, default=0.0)
    ap.add_argument("--init", default=None, help="start from these weights (continuation phase)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    sizes = [(int(s.split("x")[0]), int(s.split("x")[1])) for s in args.sizes.split(",")]
    cfg = TrainConfig(seed=args.seed, minutes=args.minutes, max_iters=args.max_iters, algo=args.algo,
                      samples=args.samples, instances_per_iter=args.instances, lr=args.lr,
                      sizes=sizes, val_every=args.val_every, init=args.init,
                      ppo_epochs=args.ppo_epochs, entropy=args.entropy)
    train(cfg, args.out)


if __name__ == "__main__":
    main()
