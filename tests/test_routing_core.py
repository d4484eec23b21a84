"""Routing foundation: instances, the OR-Tools adapter, the checker, diagnosis, plan_routes, CLI.

Real solvers on small real instances with short budgets (CPU-time budgets where a figure is
asserted, so a busy machine does not change the outcome).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tools.core.errors import DiaoduError
from tools.core.settings import benchmarks_dir
from tools.routing.checker import check_routes
from tools.routing.diagnose import quick_causes
from tools.routing.guidance import Guidance
from tools.routing.instance import (
    RoutingInstance,
    cvrplib_distances,
    from_payload,
    load_instance,
    load_json_file,
    read_solomon,
    read_vrplib,
    solomon_distances,
)
from tools.routing.ortools_adapter import solve
from tools.routing.stop import MaxRuntime

BENCH = benchmarks_dir()
needs_bench = pytest.mark.skipif(BENCH is None, reason="shared benchmarks not found (set DIAODU_BENCHMARKS)")


@pytest.fixture(autouse=True)
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("DIAODU_HOME", str(home))
    return home


def _sol_routes(path: Path) -> tuple[list[list[int]], float]:
    routes, cost = [], 0.0
    for line in path.read_text().splitlines():
        if line.startswith("Route"):
            routes.append([int(x) for x in line.split(":")[1].split()])
        elif line.lower().startswith("cost"):
            cost = float(line.split()[1])
    return routes, cost


# -- instances and conventions -------------------------------------------------------------

@needs_bench
def test_rounding_conventions_reproduce_published_costs() -> None:
    """The checker's cost of each shipped .sol equals its published cost (CVRPLIB nint, Solomon trunc)."""
    assert BENCH is not None
    for name in ("A-n32-k5", "X-n101-k25", "C101", "R101", "RC201"):
        inst = load_instance(name)
        sub = "cvrp" if inst.kind == "cvrp" else "vrptw"
        routes, cost = _sol_routes(BENCH / sub / f"{name}.sol")
        report = check_routes(inst, routes)
        assert report.feasible, (name, report.violations)
        assert inst.real_distance(report.distance) == pytest.approx(cost, abs=1e-6), name


def test_distance_conventions() -> None:
    pts = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0], [0.5, 0.0]])
    assert cvrplib_distances(pts)[0].tolist() == [0, 5, 1, 1]  # sqrt(2)=1.41 -> 1, 0.5 -> 1 (nint)
    assert solomon_distances(pts)[0].tolist() == [0, 50, 14, 5]  # tenths, truncated


def test_demo_city_is_realistic() -> None:
    inst = load_instance("demo-city")
    assert inst.kind == "vrptw" and 80 <= inst.num_customers <= 150
    assert inst.names and all(inst.names[1:]) and inst.districts and all(inst.districts[1:])
    assert inst.shift_start_min == 7 * 60 and inst.clock(0) == "07:00"
    assert len(inst.roads) >= 5 and all(r["name"] and r["name_zh"] and len(r["points"]) >= 2 for r in inst.roads)
    assert {d["name"] for d in inst.district_info} >= set(inst.districts[1:])
    assert inst.vehicle_names and len(inst.vehicle_names) == inst.num_vehicles
    assert quick_causes(inst) == []


# -- solving -----------------------------------------------------------------------------

@needs_bench
def test_a_n32_k5_reaches_its_optimum() -> None:
    res = solve(load_instance("A-n32-k5"), MaxRuntime(5, "cpu"))
    assert res.feasible and res.cost == 784 and res.gap == 0.0
    assert res.history and res.history[-1][1] == 784


@needs_bench
@pytest.mark.parametrize("name", ["C101", "R101"])
def test_solomon_feasible_with_tight_windows(name: str) -> None:
    inst = load_instance(name)
    res = solve(inst, MaxRuntime(2, "cpu"))
    assert res.feasible and res.status == "solved", res.violations
    assert res.config["first_solution_strategy"] == "PARALLEL_CHEAPEST_INSERTION"
    assert res.cost >= inst.bks - 1e-6  # never below the best known


def test_objectives_on_demo_city() -> None:
    inst = load_instance("demo-city")
    dist = solve(inst, MaxRuntime(2, "cpu"))
    veh = solve(inst, MaxRuntime(2, "cpu"), objective="vehicles")
    assert dist.feasible and veh.feasible
    assert veh.vehicles_used <= dist.vehicles_used
    assert veh.vehicles_used >= int(np.ceil(inst.demand.sum() / inst.capacity))
    few = inst.with_overrides(num_vehicles=veh.vehicles_used)
    late = solve(few, MaxRuntime(1.5, "cpu"), objective="lateness")
    assert late.routes and late.config["soft_windows"] and late.feasible  # lateness is allowed, not a violation


def test_guidance_fields_apply_independently() -> None:
    inst = load_instance("demo-small")
    base = solve(inst, MaxRuntime(0.5, "cpu"))
    order = np.argsort(inst.distance, axis=1)
    cands = [[int(j) for j in order[i, 1:6]] for i in range(inst.num_nodes)]
    for guide in (Guidance(candidate_successors=cands), Guidance(initial_routes=base.node_routes),
                  Guidance(arc_penalty=np.zeros_like(inst.distance)),
                  Guidance(search={"guided_local_search_lambda_coefficient": 0.2}), Guidance(prepare_seconds=0.1)):
        res = solve(inst, MaxRuntime(0.5, "cpu"), guidance=guide)
        assert res.feasible, guide.fields_used()
        assert res.config["guidance"]["fields"] == guide.fields_used()
    warm = solve(inst, MaxRuntime(0.3, "cpu"), guidance=Guidance(initial_routes=base.node_routes))
    assert warm.cost <= base.cost


def test_shaping_rounds_keep_the_best_polished_plan() -> None:
    inst = load_instance("demo-small")
    base = solve(inst, MaxRuntime(1.0, "cpu"))
    # a penalty that pushes the search away from the plain plan's arcs: every round's polish is on
    # true costs, and the best polished plan (never a shaped-only one) is returned
    pen = np.zeros_like(inst.distance)
    for route in base.node_routes:
        seq = [0, *route, 0]
        for a, b in zip(seq, seq[1:], strict=False):
            pen[a, b] = pen[b, a] = int(inst.distance.max())
    res = solve(inst, MaxRuntime(1.5, "cpu"), guidance=Guidance(
        arc_penalty=pen, search={"penalty_cycles": 3, "penalty_noise": 0.5}))
    assert res.feasible and res.config["penalty_cycles"] == 3
    assert res.cost <= base.cost * 1.05
    assert res.objective_value == pytest.approx(res.cost, rel=1e-6)
    with pytest.raises(DiaoduError, match="penalty_cycles must be at least 1"):
        solve(inst, MaxRuntime(0.2, "cpu"), guidance=Guidance(arc_penalty=pen, search={"penalty_cycles": 0}))


def test_iterated_local_search_matches_plain_search_within_the_cpu_budget() -> None:
    # OR-Tools' ILS (SISR ruin and recreate) cannot be stopped from a callback, so under a CPU-clock
    # budget it gets the remaining budget as its wall limit: it must never use more CPU than that
    import time

    inst = load_instance("demo-small")  # shipped: 20 customers, no time windows
    plain = solve(inst, MaxRuntime(2, "cpu"))
    t0 = time.process_time()
    res = solve(inst, MaxRuntime(2, "cpu"), guidance=Guidance(search={"iterated_local_search": 2.0}))
    assert time.process_time() - t0 < 2.5
    assert res.feasible and res.cost <= plain.cost * 1.01 and res.config["iterated_local_search"]["factor"] == 2.0
    assert "portfolio" not in res.config  # ILS starts once, from its own first solution
    # a warm start cannot be fed to ILS: that search stays guided local search, and the plan stays feasible
    warm = solve(inst, MaxRuntime(0.5, "cpu"), guidance=Guidance(initial_routes=res.node_routes,
                                                                  search={"iterated_local_search": 0}))
    assert warm.feasible and warm.cost <= res.cost
    balanced = solve(inst, MaxRuntime(0.3, "cpu"), objective="balance",
                     guidance=Guidance(search={"iterated_local_search": 2.0}))
    assert balanced.feasible and "not used" in balanced.config["iterated_local_search"]
    with pytest.raises(DiaoduError, match="iterated_local_search must be >= 0"):
        solve(inst, MaxRuntime(0.2, "cpu"), guidance=Guidance(search={"iterated_local_search": -1}))


def test_iterated_local_search_parameters_carry_the_tuned_ruin() -> None:
    from tools.routing.ortools_adapter import ILS_SISR, search_parameters

    params = search_parameters("SAVINGS", 1.0, ils_temperature=3.0)
    (ruin,) = params.iterated_local_search_parameters.ruin_recreate_parameters.ruin_strategies
    assert (ruin.sisr.max_removed_sequence_size, ruin.sisr.avg_num_removed_visits) == ILS_SISR[:2] == (15, 15)
    annealing = params.iterated_local_search_parameters.reference_solution_acceptance_strategy.simulated_annealing
    assert annealing.initial_temperature == 3.0 and not annealing.automatic_temperatures
    # guided local search parameters carry no ruin at all
    assert not search_parameters("SAVINGS", 1.0).iterated_local_search_parameters.ruin_recreate_parameters.ruin_strategies


# -- the checker (property tests) --------------------------------------------------------------

@st.composite
def small_instances(draw: st.DrawFn) -> RoutingInstance:
    n = draw(st.integers(1, 7))
    coords = np.array(draw(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=n + 1,
                                    max_size=n + 1)), dtype=float)
    demand = np.array([0] + draw(st.lists(st.integers(0, 10), min_size=n, max_size=n)), dtype=np.int64)
    dist = cvrplib_distances(coords)
    tw = draw(st.booleans())
    kwargs = {}
    if tw:
        ready = np.array([0] + draw(st.lists(st.integers(0, 60), min_size=n, max_size=n)), dtype=np.int64)
        width = np.array([200] + draw(st.lists(st.integers(0, 60), min_size=n, max_size=n)), dtype=np.int64)
        kwargs = {"ready": ready, "due": ready + width, "service": np.array([0] + [2] * n, dtype=np.int64)}
    return RoutingInstance(name="h", kind="vrptw" if tw else "cvrp", coords=coords, demand=demand,
                           capacity=draw(st.integers(1, 25)), num_vehicles=draw(st.integers(1, 4)), distance=dist,
                           duration=dist.copy(), customer_ids=list(range(n + 1)), **kwargs).validate()


def _brute(inst: RoutingInstance, routes: list[list[int]]) -> tuple[bool, int]:
    """Feasibility and cost computed the slow, obvious way."""
    ok = sorted(x for r in routes for x in r) == list(range(1, inst.num_nodes))
    ok &= sum(1 for r in routes if r) <= inst.num_vehicles
    cost = 0
    for r in routes:
        if not r:
            continue
        ok &= sum(int(inst.demand[x]) for x in r) <= inst.capacity
        path = [0, *r, 0]
        cost += sum(int(inst.distance[a][b]) for a, b in zip(path, path[1:], strict=False))
        if inst.ready is not None and inst.due is not None and inst.service is not None:
            t = 0
            for a, b in zip(path, path[1:], strict=False):
                t = max(t + int(inst.service[a]) + int(inst.duration[a][b]), int(inst.ready[b]) if b else 0)
                ok &= t <= int(inst.due[b])
    return bool(ok), cost


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_checker_matches_brute_force(data: st.DataObject) -> None:
    inst = data.draw(small_instances())
    n = inst.num_customers
    perm = data.draw(st.permutations(list(range(1, n + 1))))
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=4)))
    routes = [list(perm[a:b]) for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
    if data.draw(st.booleans()) and n > 1:  # sometimes drop or duplicate an order
        routes[0] = routes[0][1:] if data.draw(st.booleans()) else routes[0] + [perm[-1]]
    report = check_routes(inst, routes)
    ok, cost = _brute(inst, routes)
    assert report.feasible == ok, (routes, report.violations)
    assert report.distance == cost


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=small_instances())
def test_solver_results_pass_the_checker(inst: RoutingInstance) -> None:
    # guided local search, and iterated local search (which tiny instances also must survive)
    for guidance in (None, Guidance(search={"iterated_local_search": 2.0})):
        res = solve(inst, MaxRuntime(0.2, "cpu"), guidance=guidance)
        if res.routes:
            assert check_routes(inst, res.node_routes).feasible == res.feasible
            assert res.feasible, res.violations
        else:
            assert res.diagnosis and all(isinstance(d, str) and d for d in res.diagnosis)


# -- diagnosis and bad input ----------------------------------------------------------------

def test_diagnosis_names_the_cause() -> None:
    inst = load_instance("demo-city")
    res = solve(inst.with_overrides(num_vehicles=3), MaxRuntime(1))
    assert res.status == "infeasible" and "total demand" in res.diagnosis[0]
    res = solve(inst.with_overrides(capacity=100), MaxRuntime(1))
    assert any("more than one vehicle's capacity 100" in d for d in res.diagnosis)
    assert inst.due is not None
    due = inst.due.copy()
    due[5] = 1  # window closes one minute after the shift starts: unreachable from the depot
    bad = RoutingInstance(**{**inst.__dict__, "due": due, "meta": {}})
    causes = quick_causes(bad)
    assert any(f"order {inst.customer_ids[5]}" in c and "cannot be reached" in c for c in causes)


@needs_bench
def test_too_few_vehicles_for_windows_is_explained() -> None:
    from tools.routing.plan_tool import plan_routes

    with pytest.raises(DiaoduError) as exc:
        plan_routes("R101", num_vehicles=10, time_limit_s=2, guidance="none")
    assert exc.value.code == "infeasible" and "time windows" in exc.value.message


def test_bad_input_is_a_clear_error() -> None:
    from tools.routing.plan_tool import plan_routes

    with pytest.raises(DiaoduError, match="closest: demo-city"):
        plan_routes("demo-citty")
    with pytest.raises(DiaoduError, match="num_vehicles must be at least 1; got 0"):
        plan_routes("demo-small", num_vehicles=0)
    with pytest.raises(DiaoduError, match="vehicle_capacity must be at least 1; got -5"):
        plan_routes("demo-small", vehicle_capacity=-5)
    with pytest.raises(DiaoduError, match="objective must be one of distance, lateness"):
        plan_routes("demo-small", objective="fastest")
    with pytest.raises(DiaoduError, match="time_limit_s must be"):
        plan_routes("demo-small", time_limit_s=-1)


def test_corrupt_files_name_file_and_line(tmp_path: Path) -> None:
    vrp = tmp_path / "bad.vrp"
    vrp.write_text("NAME : bad\nTYPE : CVRP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\nCAPACITY : 10\n"
                   "NODE_COORD_SECTION\n1 0 0\n2 5 x\n3 1 1\nDEMAND_SECTION\n1 0\n2 1\n3 1\nDEPOT_SECTION\n1\n-1\nEOF\n")
    with pytest.raises(DiaoduError, match=rf"{vrp}, line 8"):
        read_vrplib(vrp)
    sol = tmp_path / "bad.txt"
    sol.write_text("BAD\n\nVEHICLE\nNUMBER     CAPACITY\n  2         50\n\nCUSTOMER\n"
                   "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME\n\n"
                   "0 0 0 0 0 100 0\n1 1 1 5 0 50\n2 2 2 5 0 50 1\n")
    with pytest.raises(DiaoduError, match=rf"{sol}, line 11"):
        read_solomon(sol)
    js = tmp_path / "bad.json"
    js.write_text('{\n  "name": "x",\n  "kind": "cvrp",\n  oops\n}\n')
    with pytest.raises(DiaoduError, match=rf"{js}, line 4"):
        load_json_file(js)
    from tools.data.make_demo import dump
    from tools.routing.instance import _line_of

    good = json.loads((Path(__file__).resolve().parents[1] / "tools" / "data" / "demo-small.json").read_text())
    del good["customers"][2]["x"]

    js.write_text(dump(good))
    line = _line_of(js.read_text(), '"id": 3,')
    with pytest.raises(DiaoduError, match=rf"line {line}: customer 3 'x' must be a number"):
        load_json_file(js)
    with pytest.raises(DiaoduError, match="kind"):
        from_payload({"kind": "jssp"})


# -- plans persist -----------------------------------------------------------------------------

def test_plans_persist_in_the_workspace() -> None:
    from tools.core.store import Store
    from tools.routing.plan_tool import instance_for_plan, plan_routes

    first = plan_routes("demo-small", time_limit_s=0.5, guidance="none")
    second = plan_routes("demo-city", num_vehicles=12, time_limit_s=1, guidance="none")
    assert (first["plan_id"], second["plan_id"]) == ("plan-1", "plan-2")
    assert second["feasible"] and second["facts"]["num_vehicles"] == 12 and second["message"].startswith("Plan plan-2")
    stored = Store().load_plan("latest")  # a fresh handle, as another process would open it
    assert stored["plan_id"] == "plan-2" and stored["dataset"] == "demo-city"
    assert stored["routes"][0]["arrivals"][0].count(":") == 1  # clock times for demo data
    inst, payload = instance_for_plan("plan-2")
    assert inst.num_vehicles == 12
    assert check_routes(inst, payload["node_routes"]).feasible
    assert sorted(c for r in payload["routes"] for c in r["customers"]) == inst.customer_ids[1:]


# -- CLI --------------------------------------------------------------------------------------

def test_cli_plan_json_and_errors(tmp_path: Path) -> None:
    from assistant.cli import app

    runner = CliRunner()
    png = tmp_path / "routes.png"
    out = runner.invoke(app, ["plan", "demo-small", "--time-limit", "0.5", "--guidance", "none", "--json",
                              "--plot", str(png)])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["plan_id"] == "plan-1" and doc["feasible"] and png.stat().st_size > 1000
    out = runner.invoke(app, ["plan", "demo-smal", "--json"])
    assert out.exit_code == 2 and "demo-small" in json.loads(out.stdout)["details"]["closest"]
    out = runner.invoke(app, ["plan", "demo-small", "--vehicles", "0"])
    assert out.exit_code == 2 and "Traceback" not in out.output
    out = runner.invoke(app, ["plan", "demo-small", "--time-limit", "0.5", "--guidance", "none"])
    assert out.exit_code == 0 and "Plan plan-2" in out.stdout


@needs_bench
def test_cli_bench_vrp_json(tmp_path: Path) -> None:
    from assistant.cli import app

    res = tmp_path / "bench.json"
    out = CliRunner().invoke(app, ["bench", "vrp", "--instances", "A-n32-k5", "--time-limit", "0.5", "--json",
                                   "--out", str(res)])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    row = doc["rows"][0]
    assert row["ortools"]["feasible"] and row["pyvrp"]["feasible"] and row["bks"] == 784
    assert doc["means"]["pyvrp"]["instances"] == 1 and json.loads(res.read_text())["rows"][0]["instance"] == "A-n32-k5"


def test_bench_adds_fresh_instances_with_gaps_to_the_best_plan_of_the_run() -> None:
    from tools.routing.bench import run_bench

    # two worker processes, as the measurement runs; demo-small ships with the project (no shared folder needed)
    doc = run_bench(["demo-small"], 0.3, ["none", "gnn"], ["ortools", "pyvrp"], clock="cpu", fresh=2, workers=2)
    rows = {r["instance"]: r for r in doc["rows"]}
    assert list(rows)[0] == "demo-small" and len(rows) == 3  # input order kept, whatever finished first
    fresh = [r for r in doc["rows"] if r["group"] == "fresh"]
    assert {r["kind"] for r in fresh} == {"cvrp", "vrptw"}
    for r in fresh:  # no published best: every gap is to the cheapest feasible plan of the row
        gaps = [r[c]["gap_pct"] for c in doc["columns"] if r[c]["feasible"]]
        assert r["bks"] is None and r["ref"]["cost"] == min(r[c]["cost"] for c in doc["columns"] if r[c]["feasible"])
        assert min(gaps) == 0.0 and all(g >= 0 for g in gaps)
    assert doc["columns"] == ["ortools", "ortools+gnn", "pyvrp"]
    means = doc["means"]["ortools+gnn"]
    assert means["groups"]["fresh"]["instances"] == 2 and means["groups"]["anchors"]["instances"] == 0
    vs = means["vs_plain"]
    assert vs["better"] + vs["equal"] + vs["worse"] == 2 + (rows["demo-small"]["ortools"]["gap_pct"] is not None)
    assert vs["anchors_ratio"] is None and doc["config"]["workers"] == 2


def test_bench_repeats_keep_the_run_of_median_cost() -> None:
    from tools.routing.bench import merge_runs, run_bench

    doc = run_bench(["demo-small"], 0.2, ["none"], ["ortools"], clock="cpu", repeats=3)
    cell = doc["rows"][0]["ortools"]
    assert len(cell["costs"]) == 3 and cell["cost"] == sorted(cell["costs"])[1] and doc["config"]["repeats"] == 3

    def run(cost: float | None, feasible: bool = True) -> dict:
        return {"instance": "fresh-a", "kind": "cvrp", "group": "fresh", "anchor": False, "customers": 5,
                "vehicles": 2, "bks": None, "ortools": {"cost": cost, "feasible": feasible, "gap_pct": None}}

    merged = merge_runs([run(110.0), run(100.0), run(130.0, feasible=False)])
    # median of the feasible runs; one infeasible run makes the cell infeasible; gap to the best run
    assert merged["ortools"]["cost"] == 100.0 and not merged["ortools"]["feasible"]
    assert merged["ref"]["cost"] == 100.0 and merged["ortools"]["gap_pct"] == 0.0
    for failed in ([run(None, False)], [run(120.0, False), run(None, False)]):  # no feasible plan: no gap
        assert merge_runs(failed)["ortools"]["gap_pct"] is None and "ref" not in merge_runs(failed)


def test_cli_bench_vrp_rejects_bad_counts() -> None:
    from assistant.cli import app

    runner = CliRunner()
    for args, says in ((["--fresh", "-1"], "--fresh"), (["--workers", "0"], "workers"), (["--repeats", "0"], "repeats"),
                       (["--instances", "nope-n1"], "nope-n1")):
        out = runner.invoke(app, ["bench", "vrp", "--time-limit", "0.2", "--json", *args])
        assert out.exit_code == 2 and says in json.loads(out.stdout)["error"] and "Traceback" not in out.output
