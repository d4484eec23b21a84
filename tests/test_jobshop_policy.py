"""The RL policy: training smoke run, batched rollouts, the schedule_jobs tool and its CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from tools.core.errors import DiaoduError
from tools.jobshop.env import Weights, check_schedule
from tools.jobshop.instance import load_instance, random_instance
from tools.jobshop.policy import JobShopPolicy
from tools.jobshop.rollout import DEFAULT_WEIGHTS, load_policy, rollouts
from tools.jobshop.schedule_tool import schedule_jobs

torch.set_num_threads(1)
has_weights = pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="no shipped policy weights")


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAODU_HOME", str(tmp_path / "home"))


def test_training_smoke_run_writes_weights_and_meta(tmp_path):
    from tools.jobshop.train import TrainConfig, train

    cfg = TrainConfig(seed=1, minutes=2, max_iters=4, sizes=[(4, 4), (5, 3)], instances_per_iter=2, samples=4,
                      val_size=(4, 4), val_instances=2, val_every=2)
    meta = train(cfg, tmp_path)
    assert (tmp_path / "policy.safetensors").is_file()
    saved = json.loads((tmp_path / "meta.json").read_text())
    assert saved["metrics"]["iterations"] == 4 and saved["config"]["seed"] == 1
    assert len(meta["metrics"]["curve"]) == 3
    policy = load_policy(tmp_path / "policy.safetensors")
    r = rollouts(random_instance(4, 4, 0), policy, 4)
    assert r["makespan"] <= r["greedy"]["makespan"]


def test_reinforce_smoke_run(tmp_path):
    from tools.jobshop.train import TrainConfig, train

    cfg = TrainConfig(seed=2, minutes=2, max_iters=2, sizes=[(3, 3)], instances_per_iter=2, samples=3,
                      val_size=(3, 3), val_instances=1, val_every=1, algo="reinforce")
    assert train(cfg, tmp_path)["metrics"]["iterations"] == 2


def test_ppo_smoke_run(tmp_path):
    from tools.jobshop.train import TrainConfig, train

    cfg = TrainConfig(seed=0, minutes=2, max_iters=2, sizes=[(4, 3)], instances_per_iter=2, samples=4,
                      val_size=(4, 3), val_instances=1, val_every=1, algo="ppo", ppo_epochs=2)
    meta = train(cfg, tmp_path)
    assert meta["metrics"]["iterations"] == 2 and meta["config"]["algo"] == "ppo"
    assert (tmp_path / "policy.safetensors").is_file()


def test_ppo_update_trains_actor_and_critic():
    import numpy as np
    import torch

    from tools.jobshop.env import BatchJobShop, Weights
    from tools.jobshop.instance import random_instance
    from tools.jobshop.policy import JobShopPolicy
    from tools.jobshop.rollout import run_policy
    from tools.jobshop.train import TrainConfig, ppo_update

    torch.manual_seed(0)
    policy = JobShopPolicy()
    cfg = TrainConfig(samples=6, algo="ppo", ppo_epochs=1)
    insts = [random_instance(5, 4, seed=s) for s in (1, 2)]
    env = BatchJobShop(insts, repeats=cfg.samples)
    steps: list = []
    with torch.no_grad():
        run_policy(policy, env, policy.encode(insts), generator=torch.Generator().manual_seed(0), per_step=steps)
    cost = env.costs(Weights())["cost"].reshape(2, cfg.samples)
    assert np.ptp(cost, axis=1).max() > 0  # the samples differ, so there is something to learn
    before = {k: v.detach().clone() for k, v in policy.state_dict().items()}
    ppo_update(policy, torch.optim.Adam(policy.parameters(), lr=1e-2), cfg, insts, env.actions, cost,
               torch.stack([lp for lp, _ in steps], dim=1))
    after = policy.state_dict()
    assert not after["critic.2.weight"].equal(before["critic.2.weight"])  # the value loss reaches the critic
    assert not after["actor.2.weight"].equal(before["actor.2.weight"])


def test_batched_rollouts_are_feasible_and_best_of_batch():
    torch.manual_seed(0)
    policy = JobShopPolicy().eval()
    inst = random_instance(6, 5, 11)
    r = rollouts(inst, policy, 16, seed=3)
    assert r["samples"] == 16
    assert check_schedule(inst, r["start"]) == r["makespan"] <= r["greedy"]["makespan"]
    assert r["makespan"] <= r["sampled_mean_makespan"]
    again = rollouts(inst, policy, 16, seed=3)  # seeded
    assert again["makespan"] == r["makespan"] and np.array_equal(again["start"], r["start"])


def test_rollouts_pick_by_weighted_cost():
    policy = JobShopPolicy().eval()
    inst = load_instance("demo-shop")
    w = Weights(makespan=0.0, tardiness=1.0)
    r = rollouts(inst, policy, 8, weights=w)
    assert r["cost"] == r["tardiness"] <= r["greedy"]["tardiness"]


@has_weights
def test_schedule_jobs_rl_and_compare_on_demo_shop():
    r = schedule_jobs("demo-shop", rollouts=8)
    f = r["facts"]
    assert r["schedule_id"].startswith("sched-") and f["method"] == "rl"
    assert f["makespan"] >= f["lower_bound"] and "total_tardiness" in f
    assert str(f["makespan"]) in r["message"] and r["schedule_id"] in r["message"]
    c = schedule_jobs("demo-shop", "compare", rollouts=8, time_limit_s=2)
    methods = [row["method"] for row in c["compare"]]
    assert methods == ["rl", "rl_greedy", "spt", "mwkr", "fifo", "mopnr", "cp_sat"]
    assert c["makespan"] == min(row["makespan"] for row in c["compare"])


def test_schedule_jobs_bad_input():
    with pytest.raises(DiaoduError, match="method must be one of"):
        schedule_jobs("demo-shop", "genetic")
    with pytest.raises(DiaoduError, match="rollouts must be at most"):
        schedule_jobs("demo-shop", "spt", rollouts=10**6)
    with pytest.raises(DiaoduError, match="time_limit_s must be at least"):
        schedule_jobs("demo-shop", "cp_sat", time_limit_s=0)
    with pytest.raises(DiaoduError, match="unknown dataset"):
        schedule_jobs("demo-shopp-x", "spt")
    r = schedule_jobs("demo-shop", "spt", w_idle=1.0)
    assert r["facts"]["weights"]["idle"] == 1.0


def test_cli_schedule_json_plot_and_errors(tmp_path):
    from assistant.cli import app

    runner = CliRunner()
    png = tmp_path / "g.png"
    res = runner.invoke(app, ["schedule", "demo-shop", "--method", "mwkr", "--json", "--plot", str(png)])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["facts"]["method"] == "mwkr" and png.stat().st_size > 1000
    bad = runner.invoke(app, ["schedule", "demo-shop", "--method", "nope", "--json"])
    assert bad.exit_code == 2 and "one of" in json.loads(bad.stdout)["error"]
    bad = runner.invoke(app, ["bench", "jssp", "--methods", "spt", "--instances", "zz99", "--json"])
    assert bad.exit_code == 2 and "unknown dataset" in json.loads(bad.stdout)["error"]


def test_cli_bench_on_demo_shop():
    from assistant.cli import app

    res = CliRunner().invoke(app, ["bench", "jssp", "--methods", "spt,mopnr", "--instances", "demo-shop", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["rows"][0]["spt_makespan"] > 0 and doc["summary"][-1]["group"] == "all"


def test_corrupt_policy_weights_are_a_clear_error(tmp_path):
    from tools.core.errors import DiaoduError
    from tools.jobshop.rollout import load_policy

    bad = tmp_path / "policy.safetensors"
    bad.write_text("not weights")
    with pytest.raises(DiaoduError, match="cannot be loaded"):
        load_policy(bad)
