"""Job-shop instances, environment invariants, rules, CP-SAT, checker and bad input (real solvers)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tools.core.errors import DiaoduError
from tools.core.settings import benchmarks_dir
from tools.jobshop.env import BatchJobShop, JobShopEnv, Weights, check_schedule, objectives, schedule_from_sequences
from tools.jobshop.instance import from_payload, load_instance, parse_jsplib, random_instance
from tools.jobshop.rules import RULES, rule_actions, run_rule

needs_bench = pytest.mark.skipif(benchmarks_dir() is None, reason="shared benchmarks folder absent (DIAODU_BENCHMARKS)")

FT06 = """# ft06
6 6
2  1  0  3  1  6  3  7  5  3  4  6
1  8  2  5  4 10  5 10  0 10  3  4
2  5  3  4  5  8  0  9  1  1  4  7
1  5  0  5  2  5  3  3  4  8  5  9
2  9  1  3  4  5  5  4  0  3  3  1
1  3  3  3  5  9  0 10  4  4  2  1
"""


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAODU_HOME", str(tmp_path / "home"))


def independent_makespan(inst, start) -> int:
    """Recompute precedence, capacity and makespan without the package's checker."""
    ends = []
    busy: dict[int, list[tuple[int, int]]] = {}
    for j in range(inst.n_jobs):
        t = 0
        for k in range(int(inst.n_ops[j])):
            s, d = int(start[j, k]), int(inst.duration[j, k])
            assert s >= t, "precedence violated"
            t = s + d
            busy.setdefault(int(inst.machine[j, k]), []).append((s, s + d))
        ends.append(t)
    for ivs in busy.values():
        ivs.sort()
        for (_a, b), (c, _) in zip(ivs, ivs[1:], strict=False):
            assert c >= b, "machine overlap"
    return max(ends)


def test_parse_ft06_and_lower_bound():
    inst = parse_jsplib(FT06, "ft06")
    assert (inst.n_jobs, inst.n_machines, inst.total_ops) == (6, 6, 36)
    assert inst.machine[0, 0] == 2 and inst.duration[0, 0] == 1
    assert inst.lower_bound() <= 55


def test_rules_on_ft06_known_values():
    inst = parse_jsplib(FT06, "ft06")
    # Deterministic Giffler–Thompson dispatching with lowest-index tie-break.
    expected = {"spt": 94, "mwkr": 67, "fifo": 65, "mopnr": 60}
    for rule in RULES:
        r = run_rule(inst, rule)
        assert r["makespan"] == expected[rule]
        assert independent_makespan(inst, r["start"]) == expected[rule] >= 55


def test_cpsat_solves_ft06_to_optimum():
    from tools.jobshop.cpsat import solve_cpsat

    r = solve_cpsat(parse_jsplib(FT06, "ft06"), 10)
    assert r["makespan"] == 55 and r["optimal"]
    assert independent_makespan(parse_jsplib(FT06, "ft06"), r["start"]) == 55


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 7), m=st.integers(1, 6), seed=st.integers(0, 10_000), data=st.data())
def test_env_random_actions_give_feasible_active_schedules(n, m, seed, data):
    inst = random_instance(n, m, seed)
    env = BatchJobShop([inst], repeats=3)
    rng = np.random.default_rng(seed)
    while not env.done:
        assert env.mask.any(axis=1).all()
        a = np.array([rng.choice(np.flatnonzero(row)) for row in env.mask])
        env.step(a)
    for b in range(3):
        ms = check_schedule(inst, env.start[b])
        assert ms == independent_makespan(inst, env.start[b]) == env.makespan()[b]
        assert ms >= inst.lower_bound()


def test_gym_env_episode_return_is_minus_makespan():
    from gymnasium.utils.env_checker import check_env  # noqa: F401  (API available)

    inst = random_instance(5, 4, 3)
    env = JobShopEnv(inst)
    obs, _ = env.reset(seed=0)
    assert obs["job_features"].shape == (5, 13) and obs["action_mask"].any()
    total, done = 0.0, False
    while not done:
        action = int(np.flatnonzero(obs["action_mask"])[0])
        obs, reward, done, trunc, info = env.step(action)
        total += reward
    assert total == pytest.approx(-info["makespan"])
    assert info["makespan"] == check_schedule(inst, env.core.start[0])


def test_env_rejects_masked_action():
    inst = random_instance(4, 4, 1)
    env = BatchJobShop([inst])
    bad = int(np.flatnonzero(~env.mask[0])[0]) if (~env.mask[0]).any() else None
    if bad is not None:
        with pytest.raises(DiaoduError, match="cannot be dispatched"):
            env.step(np.array([bad]))


def test_checker_catches_overlap_and_precedence():
    inst = parse_jsplib(FT06, "ft06")
    start = run_rule(inst, "mwkr")["start"].copy()
    s = start.copy()
    s[0, 1] = s[0, 0]  # starts with its predecessor
    with pytest.raises(DiaoduError, match="before its predecessor"):
        check_schedule(inst, s)
    s = start.copy()
    j2 = int(np.argwhere(inst.machine[1] == inst.machine[0, -1])[0, 0])
    s[0, -1] = s[1, j2]  # same machine, same time
    with pytest.raises(DiaoduError) as exc:
        check_schedule(inst, s)
    assert exc.value.code == "infeasible_schedule"


def test_machine_sequences_cycle_rejected():
    inst = from_payload({"machines": ["A", "B"], "jobs": [
        {"name": "x", "operations": [["A", 2], ["B", 3]]},
        {"name": "y", "operations": [["B", 2], ["A", 3]]}]})
    ok = schedule_from_sequences(inst, [[0, 1], [1, 0]])
    assert check_schedule(inst, ok) == independent_makespan(inst, ok)
    # x before y on A and x before y on B, while y's route is B then A: fine; but
    # y before x on A and x before y on B gives x.B -> y.B -> y.A -> x.A -> x.B: a cycle.
    with pytest.raises(DiaoduError) as exc:
        schedule_from_sequences(inst, [[1, 0], [0, 1]])
    assert exc.value.code == "cyclic_schedule"


@pytest.mark.parametrize("text,match", [
    ("", "no data"),
    ("2 0\n\n", "n_machines must be at least 1"),
    ("0 3\n", "n_jobs must be between"),
    ("2 2\n0 1 1 2\n", "header says 2 jobs but 1"),
    ("1 2\n0 1 5 2\n", r"line 2: job 0 operation 1: machine must be in 0..1; got 5"),
    ("1 2\n0 1 1 -2\n", "duration must be >= 0"),
    ("1 2\n0 1 1\n", "must have 2 'machine duration' pairs"),
    ("1 2\n0 x 1 2\n", "expected whole numbers; got 'x'"),
])
def test_malformed_jsplib(text, match):
    with pytest.raises(DiaoduError, match=match):
        parse_jsplib(text, where="bad.txt")


@pytest.mark.parametrize("payload,match", [
    ({"machines": [], "jobs": [{"operations": [[0, 1]]}]}, "'machines' must be a non-empty list"),
    ({"machines": 0, "jobs": [{"operations": [[0, 1]]}]}, "'machines' must be"),
    ({"machines": ["A"], "jobs": []}, "'jobs' must be a non-empty list"),
    ({"machines": ["A"], "jobs": [{"operations": [["Z", 1]]}]}, r"machine must be one of A"),
    ({"machines": ["A"], "jobs": [{"operations": [["A", -1]]}]}, "duration must be a whole number >= 0"),
    ({"machines": ["A"], "jobs": [{"operations": [["A", 1]], "due": 3}, {"operations": [["A", 1]]}]},
     "due date for every job or for none"),
    ({"kind": "cvrp", "machines": ["A"], "jobs": [{"operations": [["A", 1]]}]}, "'kind' must be 'jssp'"),
    ({"machines": ["A", "A"], "jobs": [{"operations": [["A", 1]]}]}, "unique"),
])
def test_malformed_payload(payload, match):
    with pytest.raises(DiaoduError, match=match):
        from_payload(payload, where="shop.json")


def test_demo_shop_roundtrip_and_objectives():
    inst = load_instance("demo-shop")
    assert inst.due is not None and inst.time_unit == "min"
    again = from_payload(json.loads(json.dumps(inst.to_payload())))
    assert np.array_equal(again.machine, inst.machine) and np.array_equal(again.due, inst.due)
    r = run_rule(inst, "mwkr", Weights(1.0, 1.0, 0.5))
    obj = objectives(inst, r["start"], Weights(1.0, 1.0, 0.5))
    assert obj["cost"] == pytest.approx(obj["makespan"] + obj["tardiness"] + 0.5 * obj["idle"])
    assert obj["idle"] >= 0 and obj["tardiness"] >= 0


def test_imported_shop_resolves_through_store():
    from tools.core.store import Store

    payload = load_instance("demo-shop").to_payload()
    payload["name"] = "my-shop"
    Store().save_dataset("my-shop", "jssp", payload)
    inst = load_instance("my-shop")
    assert inst.source == "imported" and inst.n_jobs == 10
    env = BatchJobShop([inst])
    while not env.done:
        env.step(rule_actions(env, "spt"))
    check_schedule(inst, env.start[0])


@needs_bench
def test_benchmark_ft06_loads_with_best_known():
    inst = load_instance("ft06")
    assert inst.bks == 55 and inst.shape == "6x6"
    assert run_rule(inst, "mopnr")["makespan"] == 60
