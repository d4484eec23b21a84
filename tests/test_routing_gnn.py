"""GNN guidance: generator, labels, model, guidance fields, training smoke run."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from tools.routing.gnn.generate import data_hash, fresh_set, solomon_like, training_set, x_instance
from tools.routing.gnn.guide import _route_feasible, arc_penalty, candidate_successors, score_savings_routes


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAODU_HOME", str(tmp_path / "home"))
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)


def test_generator_is_seeded_and_x_style():
    a, b = x_instance(120, 7), x_instance(120, 7)
    assert a.digest() == b.digest()
    assert x_instance(120, 8).digest() != a.digest()
    assert a.n == 120 and a.demand[0] == 0 and (a.demand[1:] >= 1).all()
    assert a.capacity >= a.demand.max()
    assert (a.coords >= 0).all() and (a.coords <= 1000).all()
    ecc = x_instance(60, 1, depot="eccentric", customers="clustered", demand="unit")
    assert tuple(ecc.coords[0]) == (0.0, 0.0) and (ecc.demand[1:] == 1).all()


def test_training_and_fresh_sets_are_disjoint():
    train = training_set(3, 2, seed=0)
    fresh = fresh_set(3, 2)
    assert {i.digest() for i in train}.isdisjoint({i.digest() for i in fresh})
    assert data_hash(train) == data_hash(training_set(3, 2, seed=0))
    assert [i.kind for i in train] == ["cvrp"] * 3 + ["vrptw"] * 2


def test_solomon_like_windows_are_reachable():
    inst = solomon_like(80, 3, family="R1")
    d = inst.distance_matrix()
    assert (inst.due[1:] >= d[0, 1:] - 1e-9).all()  # reachable from the depot in time
    assert (inst.ready <= inst.due).all()
    assert (inst.due[1:] + inst.service[1:] + d[1:, 0] <= inst.due[0] + 1e-6).all()  # and back before closing


def test_solomon_like_can_window_every_customer_like_solomons_type_two():
    drawn = solomon_like(100, 503, family="R2")  # this seed draws a share below one
    full = solomon_like(100, 503, family="R2", tw_fraction=1.0)
    horizon = full.due[0]
    width = (full.due[1:] - full.ready[1:]) / horizon
    assert full.meta["tw_fraction"] == 1.0 and drawn.meta["tw_fraction"] < 1.0
    assert width.max() < 0.3 and 0.08 < width.mean() < 0.2  # every customer narrow, like R201's 12 %
    assert ((drawn.due[1:] - drawn.ready[1:]) / horizon).mean() > 0.3
    assert np.array_equal(full.coords, drawn.coords) and np.array_equal(full.demand, drawn.demand)
    with pytest.raises(ValueError, match="tw_fraction"):
        solomon_like(20, 1, family="R2", tw_fraction=1.5)


def _labelled_pair():
    from tools.routing.gnn.label import solve_label

    inst = x_instance(40, 11)
    routes, cost, feasible = solve_label(inst, 0.3)
    return inst, routes, cost, feasible


def test_pyvrp_labels_are_feasible_routes():
    inst, routes, cost, feasible = _labelled_pair()
    assert feasible
    assert sorted(v for r in routes for v in r) == list(range(1, inst.n + 1))
    from tools.routing.gnn.guide import route_cost

    assert route_cost(routes, inst.distance_matrix()) == pytest.approx(cost)


def test_graph_keeps_depot_arcs_and_labels_match_routes():
    from tools.routing.gnn.model import build_graph, edge_labels
    from tools.routing.gnn.train import arrays_of

    inst, routes, _, _ = _labelled_pair()
    g = build_graph(arrays_of(inst), k=10)
    src, dst = g.edge_index.numpy()
    pairs = set(zip(src.tolist(), dst.tolist(), strict=True))
    assert all((0, i) in pairs and (i, 0) in pairs for i in range(1, inst.n + 1))
    assert all((b, a) in pairs for a, b in pairs)  # symmetric
    y = edge_labels(g.edge_index, routes)
    # every customer has exactly two route neighbours (counting the depot), most inside a 10-NN graph
    assert y.sum() >= 0.9 * 2 * (inst.n + len(routes))


def test_candidate_lists_are_feasibility_safe():
    inst = x_instance(60, 5)
    d = inst.distance_matrix()
    n1 = inst.n + 1
    rng = np.random.default_rng(0)
    prob = rng.random((n1, n1))
    mask = np.ones((n1, n1), dtype=bool)
    cands = candidate_successors(prob, mask, d, keep=5, nearest=3)
    assert cands[0] == list(range(1, n1))  # the depot may go anywhere
    for i in range(1, n1):
        assert 0 in cands[i] and i not in cands[i]
        assert len(cands[i]) >= 5 + 1
        for j in cands[i]:
            assert i in cands[j]  # closed under reversal


def test_candidate_lists_with_windows_keep_the_depot():
    inst = solomon_like(60, 4, family="R1")
    d = inst.distance_matrix()
    n1 = inst.n + 1
    prob = np.zeros((n1, n1))
    cands = candidate_successors(prob, np.ones((n1, n1), bool), d, keep=4, nearest=2, ready=inst.ready,
                                 due=inst.due, service=inst.service)
    assert all(0 in c for c in cands[1:])
    assert all(len(c) >= 2 for c in cands[1:])


def test_savings_warm_start_is_feasible():
    from tools.routing.gnn.train import arrays_of

    for inst in (x_instance(80, 2), solomon_like(60, 9, family="RC1")):
        arr = arrays_of(inst)
        n1 = inst.n + 1
        routes = score_savings_routes(arr, np.zeros((n1, n1)), np.ones((n1, n1), bool))
        assert routes is not None
        assert sorted(v for r in routes for v in r) == list(range(1, n1))
        assert all(_route_feasible(r, arr) for r in routes)
        assert score_savings_routes(arr, np.zeros((n1, n1)), np.ones((n1, n1), bool), max_routes=0) is None


def test_arc_penalty_is_low_where_scores_are_high():
    inst = x_instance(30, 1)
    d = inst.distance_matrix()
    n1 = inst.n + 1
    prob = np.zeros((n1, n1))
    prob[1, 2] = prob[2, 1] = 1.0
    pen = arc_penalty(prob, np.ones((n1, n1), bool), d)
    assert pen[1, 2] == 0.0 and pen[1, 3] > 0 and np.all(np.diag(pen) == 0)


def test_training_smoke_run_writes_weights(tmp_path):
    from tools.routing.gnn.train import main

    main(["--data", str(tmp_path / "data"), "--out", str(tmp_path / "w"), "--cvrp", "3", "--vrptw", "1",
          "--seconds-per-100", "0.1", "--epochs", "2", "--hidden", "16", "--layers", "2", "--k", "8"])
    meta = json.loads((tmp_path / "w" / "meta.json").read_text())
    assert meta["epochs_run"] == 2 and meta["data"]["data_hash"]
    assert (tmp_path / "w" / "edge_scorer.safetensors").stat().st_size < 100_000
    from tools.routing.gnn.provider import load_model

    model = load_model(tmp_path / "w" / "edge_scorer.safetensors")
    assert model.cfg.hidden == 16


def test_shipped_weights_load_and_score_fast():
    from tools.routing.gnn import WEIGHTS_PATH, available

    if not available():
        pytest.skip("no shipped weights yet (python -m tools.routing.gnn.train)")
    assert WEIGHTS_PATH.stat().st_size < 5_000_000
    from tools.routing.gnn.model import score_matrix
    from tools.routing.gnn.provider import load_model
    from tools.routing.gnn.train import arrays_of

    inst = x_instance(100, 3)
    t0 = time.perf_counter()
    prob, mask = score_matrix(load_model(), arrays_of(inst))
    assert time.perf_counter() - t0 < 3.0
    assert prob.shape == (101, 101) and np.allclose(prob, prob.T)
    assert ((prob >= 0) & (prob <= 1)).all()


def test_guided_solve_of_a_n32_k5_stays_feasible():
    from tools.core.settings import benchmarks_dir

    if benchmarks_dir() is None:
        pytest.skip("shared benchmarks absent (set DIAODU_BENCHMARKS)")
    from tools.routing.gnn import available, default_provider

    if not available():
        pytest.skip("no shipped weights yet (python -m tools.routing.gnn.train)")
    from tools.routing.gnn.provider import GnnGuidance, GnnSettings
    from tools.routing.instance import load_instance
    from tools.routing.ortools_adapter import solve
    from tools.routing.stop import MaxRuntime

    inst = load_instance("A-n32-k5")
    # the shipped default sends small CVRP instances to iterated local search, without the network
    small = default_provider().prepare(inst, 3.0)
    assert small.source == "gnn" and small.search == {"iterated_local_search": 2.0}
    assert small.initial_routes is None and small.arc_penalty is None and small.meta["search"] == "iterated_local_search"
    res = solve(inst, MaxRuntime(3.0, "cpu"), guidance=small)
    assert res.feasible and res.cost == 784
    # the network's own guidance (the default above 250 customers) on the same instance
    guidance = GnnGuidance(GnnSettings(ils_max_customers=0)).prepare(inst, 3.0)
    assert guidance.source == "gnn" and guidance.prepare_seconds > 0
    assert guidance.initial_routes is not None and guidance.arc_penalty is not None
    res = solve(inst, MaxRuntime(3.0), guidance=guidance)
    assert res.feasible and res.routes
    assert res.cost <= 784 * 1.10  # optimum 784; guided search must stay close
    # every field at once, the pruned arc set included, stays feasible too
    every = GnnGuidance(GnnSettings(sparsify=True, params=True, ils_max_customers=0)).prepare(inst, 3.0)
    assert every.candidate_successors is not None and len(every.candidate_successors) == inst.num_nodes
    assert all(0 in succ for succ in every.candidate_successors[1:])
    res = solve(inst, MaxRuntime(3.0), guidance=every)
    assert res.feasible and res.routes


def test_guidance_on_generated_vrptw_is_feasible():
    from tools.routing.gnn import available, default_provider

    if not available():
        pytest.skip("no shipped weights yet (python -m tools.routing.gnn.train)")
    from tools.routing.gnn.generate import to_routing_instance
    from tools.routing.ortools_adapter import solve
    from tools.routing.stop import MaxRuntime

    inst = to_routing_instance(solomon_like(50, 21, family="R1"))
    guidance = default_provider().prepare(inst, 3.0)
    assert guidance.search["plain_first_fraction"] == 0.5  # with windows, half the budget searches plain first
    assert guidance.search["decompose"]["share"] == 0.5  # and the last half re-optimises parts of the plan
    assert "ils_temperature" not in guidance.search["decompose"]  # by guided search on short budgets
    assert default_provider().prepare(inst, 30.0).search["decompose"]["ils_temperature"] == 2.0  # iterated on longer
    res = solve(inst, MaxRuntime(3.0, "cpu"), guidance=guidance)
    assert res.feasible and res.config["decompose"]["parts_searched"] >= 1
    # plain search first, two shaped rounds, then a long true-cost search: still one feasible plan
    from tools.routing.gnn.provider import GnnGuidance, GnnSettings

    hedged = GnnGuidance(GnnSettings(plain_first_tw=0.3, final_polish=0.3, shaping_round_s=1.0,
                                     decompose_share_tw=0)).prepare(inst, 6.0)
    assert hedged.search == {"penalty_cycles": 2, "penalty_noise": 0.5, "final_polish_fraction": 0.3,
                             "plain_first_fraction": 0.3}
    res = solve(inst, MaxRuntime(6.0), guidance=hedged)
    assert res.feasible and res.config["penalty_cycles"] == 2


def test_numpy_inference_matches_torch():
    from tools.routing.gnn import WEIGHTS_PATH, available

    if not available():
        pytest.skip("no shipped weights yet (python -m tools.routing.gnn.train)")
    from tools.routing.gnn.infer import NumpyEdgeScorer
    from tools.routing.gnn.model import score_matrix
    from tools.routing.gnn.provider import load_model
    from tools.routing.gnn.train import arrays_of

    for inst in (x_instance(70, 4), solomon_like(50, 6, family="RC1")):
        arr = arrays_of(inst)
        p_np, m_np = NumpyEdgeScorer.load(WEIGHTS_PATH).score(arr)
        p_t, m_t = score_matrix(load_model(), arr)
        assert (m_np == m_t).all()
        assert np.abs(p_np - p_t).max() < 1e-4


def test_ablation_summary_and_markdown_tables():
    from tools.routing.gnn.ablation import markdown, summarise

    rows = [{"group": "fresh", "instance": "a", "n": 10, "config": "none", "bks": None, "cost": 110.0, "feasible": True,
             "prepare_s": 0.0},
            {"group": "fresh", "instance": "a", "n": 10, "config": "gnn", "bks": None, "cost": 100.0, "feasible": True,
             "prepare_s": 0.1},
            {"group": "fresh", "instance": "b", "n": 20, "config": "none", "bks": 50.0, "cost": 50.0, "feasible": True,
             "prepare_s": 0.0},
            {"group": "fresh", "instance": "b", "n": 20, "config": "gnn", "bks": 50.0, "cost": None, "feasible": False,
             "prepare_s": 0.1}]
    table = summarise(rows, ["none", "gnn"])
    gnn = next(t for t in table if t["config"] == "gnn")
    none = next(t for t in table if t["config"] == "none")
    assert none["mean_gap_pct"] == 5.0  # 10 % on a (against the best found), 0 % on b (its best known)
    assert gnn["feasible"] == 1 and gnn["mean_gap_pct"] == 0.0 and gnn["max_worse_than_none_pts"] == -10.0
    text = markdown(table, rows, ["none", "gnn"])
    assert "| a | 10 | 100.0 | 110.0 (+10.00%) | 100.0 (+0.00%) |" in text
    assert "| b | 20 | 50.0 | 50.0 (+0.00%) | - |" in text


def test_repeated_runs_are_summarised_by_their_median():
    from tools.routing.gnn.ablation import collapse_repeats, markdown, summarise

    def run(config: str, seed: int, cost: float | None) -> dict:
        return {"group": "fresh", "instance": "a", "n": 10, "config": config, "bks": None, "seed": seed,
                "cost": cost, "feasible": cost is not None, "prepare_s": 0.0}

    rows = collapse_repeats([run("none", 0, 110.0), run("none", 1, 104.0), run("none", 2, 130.0),
                             run("gnn", 0, 100.0), run("gnn", 1, None), run("gnn", 2, 102.0)])
    by_config = {r["config"]: r for r in rows}
    assert by_config["none"]["cost"] == 110.0 and by_config["none"]["runs"] == 3 and by_config["none"]["feasible"]
    assert by_config["gnn"]["cost"] == 101.0 and not by_config["gnn"]["feasible"]  # one run found no plan
    text = markdown(summarise(rows, ["none", "gnn"]), rows, ["none", "gnn"])
    assert "[104.0–130.0, 3 runs]" in text


def test_shaping_round_count_follows_the_budget_and_settings_are_validated():
    from tools.core.errors import DiaoduError
    from tools.routing.gnn import available
    from tools.routing.gnn.provider import GnnGuidance, GnnSettings

    if not available():
        pytest.skip("no shipped weights yet (python -m tools.routing.gnn.train)")
    from tools.routing.gnn.generate import to_routing_instance

    inst = to_routing_instance(x_instance(40, seed=5))
    assert GnnGuidance().prepare(inst, 60.0).search == {"iterated_local_search": 2.0}  # 40 <= 250 customers
    net = GnnSettings(ils_max_customers=39)  # the network's rounds from 40 customers up
    # one round per 2.5 s of the third the decomposition leaves
    assert GnnGuidance(net).prepare(inst, 60.0).search == {
        "penalty_cycles": 7, "penalty_noise": 0.5,
        "decompose": {"share": 0.67, "customers": 40, "part_seconds": 2.0, "ils_temperature": 2.0}}
    # guided-local-search parts, and the small-CVRP path with a decomposition share of its own
    assert "ils_temperature" not in GnnGuidance(GnnSettings(ils_max_customers=39, decompose_part_ils=None)).prepare(
        inst, 60.0).search["decompose"]
    assert GnnGuidance(GnnSettings(ils_decompose_share=0.25)).prepare(inst, 60.0).search == {
        "iterated_local_search": 2.0, "decompose": {"share": 0.25, "customers": 40, "part_seconds": 2.0,
                                                    "ils_temperature": 2.0}}
    assert GnnGuidance(GnnSettings(shaping_max_cycles=4, ils_max_customers=0)).prepare(
        inst, 60.0).search["penalty_cycles"] == 4
    short = GnnGuidance(net).prepare(inst, 4.0).search or {}
    assert not short.get("penalty_cycles") and short["decompose"]["part_seconds"] == 0.4  # short budgets: one phase
    assert "decompose" not in (GnnGuidance(GnnSettings(ils_max_customers=39, decompose_share=0)).prepare(
        inst, 60.0).search or {})
    # a final true-cost search takes its share of the budget from the rounds
    kept = GnnGuidance(GnnSettings(final_polish=0.4, shaping_fraction=0.25, ils_max_customers=0)).prepare(
        inst, 60.0).search
    assert kept["penalty_cycles"] == 4 and kept["final_polish_fraction"] == 0.4  # 60 s · 0.33 · 0.6 / 2.5 s
    assert kept["penalty_phase_fraction"] == 0.25
    for bad in ({"shaping_max_cycles": -1}, {"shaping_round_s": 0}, {"shaping_noise": 1.5}, {"clock": "gpu"},
                {"final_polish": 1.0}, {"shaping_fraction": 0.0}, {"plain_first": 0.6, "final_polish": 0.5}, {"plain_first_tw": 1.0},
                {"ils_max_customers": -1}, {"decompose_share": 1.0}, {"decompose_share_tw": -0.1},
                {"decompose_customers": 1}, {"decompose_part_s": 0}, {"decompose_part_ils": -1.0},
                {"ils_decompose_share": 1.0}, {"decompose_part_ils_tw_min_s": -1.0},
                {"ils_tw_min_route_customers": -1.0}, {"plain_tw_min_route_customers": -1.0},
                {"plain_tw_max_window": 0.0}):
        with pytest.raises(DiaoduError, match=next(iter(bad))):
            GnnSettings(**bad)


def test_long_route_time_window_instances_can_go_to_iterated_local_search():
    from tools.routing.gnn import available
    from tools.routing.gnn.generate import to_routing_instance
    from tools.routing.gnn.provider import GnnGuidance, GnnSettings, route_customers

    if not available():
        pytest.skip("no shipped weights yet (python -m tools.routing.gnn.train)")
    wide = to_routing_instance(solomon_like(60, 7, family="R2"))  # capacity 1000: one or two routes' worth
    tight = to_routing_instance(solomon_like(60, 7, family="R1"))  # capacity 200: about eight
    assert route_customers(wide) >= 20 > route_customers(tight)
    gate = GnnSettings(ils_tw_min_route_customers=20)
    for budget in (10.0, 60.0):
        gated = GnnGuidance(gate).prepare(wide, budget)
        assert gated.search == {"iterated_local_search": 2.0} and gated.arc_penalty is None
        assert "customers a route" in gated.meta["why"]
    # tight capacities, and the default (that switch off; these windows are wide), keep the network path
    for inst, settings in ((tight, gate), (wide, GnnSettings())):
        g = GnnGuidance(settings).prepare(inst, 60.0)
        assert g.arc_penalty is not None and "iterated_local_search" not in (g.search or {})


def test_long_route_narrow_window_instances_get_plain_search_without_the_network():
    from tools.routing.gnn import available
    from tools.routing.gnn.generate import to_routing_instance
    from tools.routing.gnn.provider import GnnGuidance, GnnSettings, mean_window_share

    if not available():
        pytest.skip("no shipped weights yet (python -m tools.routing.gnn.train)")
    narrow = to_routing_instance(solomon_like(60, 7, family="R2", tw_fraction=1.0))
    wide = to_routing_instance(solomon_like(60, 7, family="R2", tw_fraction=0.25))
    tight = to_routing_instance(solomon_like(60, 7, family="R1", tw_fraction=1.0))
    assert mean_window_share(narrow) <= 0.25 < mean_window_share(wide) and mean_window_share(tight) <= 0.25
    g = GnnGuidance().prepare(narrow, 60.0)
    assert g.fields_used() == [] and g.meta["search"] == "guided_local_search"  # the adapter's plain search
    assert "windows" in g.meta["why"] and "customers a route" in g.meta["why"]
    # wide windows, short routes, or the switch off: the network guides
    for inst, settings in ((wide, GnnSettings()), (tight, GnnSettings()), (narrow, GnnSettings(plain_tw_min_route_customers=0))):
        assert GnnGuidance(settings).prepare(inst, 60.0).arc_penalty is not None
    # the iterated-local-search switch, when set, comes first
    assert GnnGuidance(GnnSettings(ils_tw_min_route_customers=20)).prepare(narrow, 10.0).search == {
        "iterated_local_search": 2.0}


def test_plan_facts_say_which_search_ran(monkeypatch):
    from tools.routing import gnn
    from tools.routing.gnn import available
    from tools.routing.gnn.provider import GnnGuidance, GnnSettings

    if not available():
        pytest.skip("no shipped weights yet (python -m tools.routing.gnn.train)")
    from tools.routing.plan_tool import plan_routes

    # demo-small is a 20-customer CVRP: the default guidance gives it iterated local search
    small = plan_routes("demo-small", time_limit_s=0.5, save=False)
    assert small["facts"]["guidance"] == "gnn" and small["facts"]["search"] == "iterated_local_search"
    plain = plan_routes("demo-small", time_limit_s=0.5, guidance="none", save=False)
    assert plain["facts"]["search"] == "guided_local_search"
    assert small["facts"]["search_reason"] == "CVRP with 20 <= 250 customers" and "search_reason" not in plain["facts"]
    assert small["feasible"] and plain["feasible"]
    # the provider plans its rounds over the whole budget (it once got a fifth of it, so the plan tool
    # and bench ran far fewer rounds than the measured configuration)
    budgets = []

    class Recording(GnnGuidance):
        def prepare(self, instance, budget_s):
            budgets.append(budget_s)
            return super().prepare(instance, budget_s)

    monkeypatch.setattr(gnn, "default_provider", lambda clock="wall": Recording(GnnSettings(clock=clock)))
    plan_routes("demo-small", time_limit_s=0.7, save=False)
    assert budgets == [0.7]


def test_ablation_rejects_bad_knobs_with_a_message():
    from tools.routing.gnn.ablation import main

    for knobs, says in (("{bad", "JSON object"), ('{"nope": 1}', "nope"), ('{"ils_max_customers": -1}', "ils_max_customers")):
        with pytest.raises(SystemExit, match=says):
            main(["--seconds", "1", "--groups", "fresh", "--fresh", "1", "--configs", "gnn", "--knobs", knobs])
    with pytest.raises(SystemExit, match="'type3'.*narrow-type2"):
        main(["--seconds", "1", "--groups", "fresh,type3", "--configs", "none"])


def test_ablation_narrow_type_two_group_is_what_the_plain_search_rule_picks():
    from tools.routing.gnn.ablation import instances
    from tools.routing.gnn.provider import GnnSettings, mean_window_share, route_customers

    tuning = instances(["narrow-type2"], 0, 0)
    assert len(tuning) == 12 and {g for g, _ in tuning} == {"narrow-type2"}
    assert all(route_customers(i) >= 20 and mean_window_share(i) <= 0.25 for _, i in tuning)
    assert {GnnSettings().search_instead(i)[0] for _, i in tuning} == {"guided_local_search"}
