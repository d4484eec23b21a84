"""Replanning and explanations on the demo city and on Solomon C101 (short solver budgets)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import requires_benchmarks
from tools.core.errors import DiaoduError
from tools.core.store import Store
from tools.replan.context import load_context
from tools.replan.explain_tool import explain_plan
from tools.replan.replan_tool import replan
from tools.replan.timeline import Network, PlanState, simulate, simulate_vehicle
from tools.routing.checker import check_routes
from tools.routing.plan_tool import plan_routes

BUDGET = 1.0


def _make_plan(dataset: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Plan once per module (in its own workspace) and keep the stored payload."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIAODU_HOME", str(tmp_path_factory.mktemp(f"plan-{dataset}")))
        res = plan_routes(dataset, time_limit_s=3, guidance="none")
        payload = Store().load_plan(res["plan_id"])
    assert payload["feasible"], payload["violations"]
    return {k: v for k, v in payload.items() if k not in ("plan_id", "parent")}


@pytest.fixture(scope="module")
def city_payload(tmp_path_factory):
    return _make_plan("demo-city", tmp_path_factory)


@pytest.fixture(scope="module")
def c101_payload(tmp_path_factory):
    return _make_plan("C101", tmp_path_factory)


def _store(payload: dict) -> str:
    return Store().save_plan(payload["dataset"], payload)


def _on_road_vehicle(ctx, t: int) -> int:
    """A vehicle (1-based) that has served something before t and still has stops after t."""
    for v, r in enumerate(ctx.routes):
        starts = ctx.timed[v].check.starts
        if r and starts[0] <= t < starts[-1]:
            return v + 1
    raise AssertionError("no vehicle on the road at that time")


def _check_breakdown(pid: str, new: dict, vehicle: int, t: int) -> None:
    before, after = load_context(pid), load_context(new["plan_id"])
    k = vehicle - 1
    # no stop after t is served by the broken vehicle; its served stops stay
    assert all(s <= t for s in after.timed[k].check.starts)
    served_k = [n for n, s in zip(before.routes[k], before.timed[k].check.starts, strict=True) if s <= t]
    assert after.routes[k] == served_k
    # every order is served exactly once or reported unservable
    inst = after.inst
    served = [n for r in after.routes for n in r]
    assert len(served) == len(set(served))
    unservable = {inst.node_of(c) for c in new["facts"]["unservable_orders"]}
    assert set(served) | unservable == set(range(1, inst.num_nodes))
    # stops already served by every vehicle stay, in order, at the same times
    for v, r in enumerate(before.routes):
        done = [n for n, s in zip(r, before.timed[v].check.starts, strict=True) if s <= t]
        assert after.routes[v][:len(done)] == done
        assert after.timed[v].check.starts[:len(done)] == before.timed[v].check.starts[:len(done)]
    # the broken vehicle's open orders are reported as moved
    moved = set(new["facts"]["moved_from_broken_vehicle"])
    assert moved == {inst.customer_ids[n] for n in before.routes[k] if n not in served_k}
    assert after.payload["parent"] == pid and new["parent"] == pid


# -- the simulator is the checker when nothing happened ---------------------------------------------

def test_simulator_equals_checker_on_plain_and_shuffled_routes(city_payload):
    pid = _store(city_payload)
    ctx = load_context(pid)
    rng = np.random.default_rng(0)
    trials = [ctx.routes] + [[list(rng.permutation(r)) if r else [] for r in ctx.routes] for _ in range(3)]
    for routes in trials:
        routes = [[int(x) for x in r] for r in routes]
        ref = check_routes(ctx.inst, routes)
        net = Network(ctx.inst, [])
        checks = iter(ref.routes)
        for v, r in enumerate(routes):
            if not r:
                continue
            rc, mine = next(checks), simulate_vehicle(ctx.inst, v, r, PlanState(), net).check
            assert (mine.distance, mine.load, mine.starts, mine.arrivals, mine.late, mine.depart, mine.back,
                    mine.overtime) == (rc.distance, rc.load, rc.starts, rc.arrivals, rc.late, rc.depart, rc.back,
                                       rc.overtime)
        rep, _ = simulate(ctx.inst, routes, PlanState(), soft_windows=False)
        assert (rep.distance, rep.lateness, rep.violations) == (ref.distance, ref.lateness, ref.violations)


# -- replan -------------------------------------------------------------------------------------------

def test_breakdown_on_demo_city_moves_only_what_it_must(city_payload):
    pid = _store(city_payload)
    ctx = load_context(pid)
    t = ctx.inst.time_from_clock("10:30")
    k = _on_road_vehicle(ctx, t)
    new = replan("vehicle_breakdown", plan_id=pid, vehicle=k, at="10:30", time_limit_s=BUDGET)
    _check_breakdown(pid, new, k, t)
    f = new["facts"]
    assert f["broken_vehicle"] == k and f["parent_plan"] == pid and new["plan_id"] == Store().load_plan()["plan_id"]
    assert f["cost_delta"] == pytest.approx(f["cost"] - f["cost_before"], abs=1e-6)
    assert "broke down" in new["message"] and "故障" in new["message_zh"]
    # the stored plan's figures are the simulator's: cost equals the sum of its routes
    stored = Store().load_plan(new["plan_id"])
    assert stored["cost"] == pytest.approx(sum(r["distance"] for r in stored["routes"]), abs=1e-6)


@requires_benchmarks
def test_breakdown_on_c101(c101_payload):
    pid = _store(c101_payload)
    ctx = load_context(pid)
    t = 300 * ctx.inst.time_scale  # "05:00" = 300 time units into the C101 horizon
    k = _on_road_vehicle(ctx, t)
    new = replan("vehicle_breakdown", plan_id=pid, vehicle=k, at="05:00", time_limit_s=BUDGET)
    _check_breakdown(pid, new, k, t)
    assert "no clock" in new["at"]


def test_events_chain_and_persist(city_payload):
    p1 = _store(city_payload)
    ctx = load_context(p1)
    t = ctx.inst.time_from_clock("09:00")
    open_ids = [ctx.inst.customer_ids[n] for v, r in enumerate(ctx.routes)
                for n, s in zip(r, ctx.timed[v].check.starts, strict=True) if s > t + 60]
    cancel = open_ids[:2]
    p2 = replan("cancel_orders", plan_id=p1, orders=cancel, at="09:00", time_limit_s=BUDGET)
    c2 = load_context(p2["plan_id"])
    assert not set(cancel) & {c2.inst.customer_ids[n] for r in c2.routes for n in r}
    assert c2.report.feasible or all("late" in v for v in c2.report.violations)
    p3 = replan("new_orders", orders=cancel[:1], at="09:30", time_limit_s=BUDGET)  # latest = p2
    assert p3["parent"] == p2["plan_id"] and p3["facts"]["inserted_orders"] == cancel[:1]
    p4 = replan("road_closure", road="Zhongshan Road", at="10:00", time_limit_s=BUDGET)
    assert p4["facts"]["road"] == "Zhongshan Road" and p4["parent"] == p3["plan_id"]
    c4 = load_context(p4["plan_id"])
    assert c4.state.closures[0]["name"] == "Zhongshan Road"
    assert {c4.inst.customer_ids[n] for r in c4.routes for n in r} == set(c4.inst.customer_ids[1:]) - {cancel[1]}
    chain = [p["parent"] for p in Store().list_plans(10)]
    assert chain[:3] == [p3["plan_id"], p2["plan_id"], p1]


def test_traffic_delay_shifts_the_next_arrival(city_payload):
    pid = _store(city_payload)
    ctx = load_context(pid)
    t = ctx.inst.time_from_clock("10:00")
    k = _on_road_vehicle(ctx, t) - 1
    new = replan("traffic_delay", plan_id=pid, vehicle=k + 1, minutes=240, at="10:00", time_limit_s=BUDGET)
    after = load_context(new["plan_id"])
    starts = ctx.timed[k].check.starts
    # the first stop the vehicle had not reached by 10:00 is committed (driving to it) or movable; either way
    # a stop it still serves after 10:00 is at least 240 min later than the plan said
    i = next(i for i, s in enumerate(ctx.timed[k].check.arrivals) if s > t)
    node = ctx.routes[k][i]
    if node in after.routes[k]:
        j = after.routes[k].index(node)
        assert after.timed[k].check.arrivals[j] >= ctx.timed[k].check.arrivals[i] + 240
    assert new["facts"]["delay_minutes"] == 240 and new["facts"]["vehicles_delayed"] == [k + 1]
    late = new["facts"]["late_orders"]
    if late:  # why_late's chain agrees with the simulator
        o = late[0]
        ans = explain_plan("why_late", plan_id=new["plan_id"], order=o)
        n = after.inst.node_of(o)
        v = next(v for v, r in enumerate(after.routes) if n in r)
        rc = after.timed[v].check
        idx = after.routes[v].index(n)
        assert ans["facts"]["late"] and ans["facts"]["lateness"] == pytest.approx(after.inst.real_time(rc.late[idx]))
        assert ans["facts"]["chain"][-1]["start"] == after.inst.clock(rc.starts[idx])
    del starts


@pytest.mark.parametrize("kwargs, needle", [
    ({"event": "vehicle_breakdown", "vehicle": 99}, "1..14"),
    ({"event": "vehicle_breakdown", "vehicle": 2, "at": "06:00"}, "before the shift starts"),
    ({"event": "vehicle_breakdown"}, "needs the vehicle"),
    ({"event": "road_closure", "road": "Moon Street"}, "Ring Road"),
    ({"event": "road_closure"}, "Zhongshan Road"),
    ({"event": "traffic_delay", "vehicle": 1}, "minutes"),
    ({"event": "cancel_orders", "orders": [999]}, "1..120"),
    ({"event": "new_orders", "orders": [3]}, "already in"),
    ({"event": "meteor_strike"}, "vehicle_breakdown"),
    ({"event": "vehicle_breakdown", "vehicle": 1, "at": "25:99"}, "clock time"),
])
def test_impossible_events_give_clear_messages(city_payload, kwargs, needle):
    _store(city_payload)
    with pytest.raises(DiaoduError) as err:
        replan(time_limit_s=BUDGET, **kwargs)
    assert needle in err.value.message


def test_cancelling_a_delivered_order_and_out_of_order_events(city_payload):
    pid = _store(city_payload)
    ctx = load_context(pid)
    v = next(v for v, r in enumerate(ctx.routes) if r)
    first = ctx.routes[v][0]
    at = ctx.inst.clock(ctx.timed[v].check.starts[0] + 1)
    with pytest.raises(DiaoduError, match="already delivered"):
        replan("cancel_orders", plan_id=pid, orders=[ctx.inst.customer_ids[first]], at=at)
    replan("traffic_delay", plan_id=pid, minutes=10, at="12:00", time_limit_s=BUDGET)
    with pytest.raises(DiaoduError, match="time order"):
        replan("traffic_delay", minutes=10, at="11:00", time_limit_s=BUDGET)


def test_no_plan_yet_is_a_clear_error():
    with pytest.raises(DiaoduError, match="no plan yet"):
        replan("vehicle_breakdown", vehicle=1)


# -- explain ------------------------------------------------------------------------------------------

def test_cost_breakdown_and_summary_equal_the_checker(city_payload):
    pid = _store(city_payload)
    ctx = load_context(pid)
    ref = check_routes(ctx.inst, ctx.routes)
    ans = explain_plan("cost_breakdown", plan_id=pid)
    rows = ans["facts"]["vehicles"]
    checks = [rc for rc in ref.routes]
    assert [r["distance"] for r in rows] == [round(ctx.inst.real_distance(rc.distance), 3) for rc in checks]
    assert [r["load"] for r in rows] == [rc.load for rc in checks]
    assert [r["duration"] for r in rows] == [round(ctx.inst.real_time(rc.duration), 2) for rc in checks]
    assert ans["facts"]["total_distance"] == pytest.approx(ctx.inst.real_distance(ref.distance))
    summ = explain_plan("summary", plan_id=pid)
    assert summ["facts"]["cost"] == pytest.approx(ctx.inst.real_distance(ref.distance))
    assert f"{summ['facts']['cost']:g}" in summ["message"]


def test_why_vehicle_alternatives_are_checker_numbers(city_payload):
    pid = _store(city_payload)
    ctx = load_context(pid)
    node = ctx.routes[0][len(ctx.routes[0]) // 2]
    cid = ctx.inst.customer_ids[node]
    ans = explain_plan("why_vehicle", plan_id=pid, order=cid)
    f = ans["facts"]
    assert f["vehicle"] == 1 and f["alternatives"]
    base = check_routes(ctx.inst, ctx.routes)
    for alt in f["alternatives"]:
        routes = [list(r) for r in ctx.routes]
        routes[0].remove(node)
        u = alt["vehicle"] - 1
        routes[u].insert(alt["position"] - 1, node)
        rep = check_routes(ctx.inst, routes)
        assert alt["cost_delta"] == pytest.approx(ctx.inst.real_distance(rep.distance - base.distance), abs=1e-6)
        assert alt["load_after"] == sum(int(ctx.inst.demand[x]) for x in routes[u])
        assert alt["capacity_ok"] == (alt["load_after"] <= ctx.inst.capacity)


def test_what_if_move_that_does_not_fit_names_what_it_breaks(city_payload):
    pid = _store(city_payload)
    ctx = load_context(pid)
    loads = [sum(int(ctx.inst.demand[x]) for x in r) for r in ctx.routes]
    target = max(range(len(loads)), key=lambda v: loads[v])
    room = ctx.inst.capacity - loads[target]
    node = next(n for v, r in enumerate(ctx.routes) if v != target for n in r if ctx.inst.demand[n] > room)
    cid = ctx.inst.customer_ids[node]
    ans = explain_plan("what_if_move", plan_id=pid, order=cid, vehicle=target + 1, time_limit_s=BUDGET)
    direct = ans["facts"]["direct_move"]
    assert not direct["capacity_ok"] and not direct["fits"]
    assert any(f"carries {direct['load_after']} > capacity {ctx.inst.capacity}" in v for v in direct["violations"])
    assert "capacity" in ans["message"]
    re = ans["facts"]["reoptimised"]
    if re.get("feasible", True):  # re-optimising may make room by moving other orders off the target
        assert re["capacity_ok"] and ans["facts"]["stored"] is False
    assert Store().load_plan()["plan_id"] == pid  # what-ifs never replace latest


@requires_benchmarks
def test_what_if_move_breaks_a_window_on_c101(c101_payload):
    from tools.replan.explain_tool import _insertion

    pid = _store(c101_payload)
    ctx = load_context(pid)
    inst = ctx.inst
    prefix = {v: 0 for v in range(inst.num_vehicles)}
    # find an order whose cheapest slot on some other used vehicle fits its capacity but not the windows
    for v, r in enumerate(ctx.routes):
        for node in r:
            for u, other in enumerate(ctx.routes):
                if u == v or not other:
                    continue
                c = _insertion(ctx, node, u, prefix)
                if c["capacity_ok"] and c["newly_late"]:
                    res = explain_plan("what_if_move", plan_id=pid, order=inst.customer_ids[node], vehicle=u + 1,
                                       time_limit_s=BUDGET)
                    direct = res["facts"]["direct_move"]
                    assert direct["newly_late"] == c["newly_late"] and not direct["fits"]
                    assert any(" late" in x for x in direct["violations"])
                    assert "time windows" in res["message"]
                    return
    pytest.fail("no window-breaking move found on C101")


def test_what_if_fleet_too_small_says_why(city_payload):
    pid = _store(city_payload)
    ans = explain_plan("what_if_fleet", plan_id=pid, num_vehicles=5, time_limit_s=BUDGET)
    assert ans["facts"]["feasible"] is False
    assert any("capacity" in c for c in ans["facts"]["causes"])
    assert "no plan" in ans["message"]


@pytest.mark.parametrize("kwargs, needle", [
    ({"question": "why_late"}, "needs the order"),
    ({"question": "what_if_move", "order": 3}, "target vehicle"),
    ({"question": "what_if_move", "order": 3, "vehicle": 30}, "1..14"),
    ({"question": "what_if_fleet"}, "num_vehicles"),
    ({"question": "why_vehicle", "order": 500}, "1..120"),
    ({"question": "why", "order": 3}, "summary"),
])
def test_bad_questions_give_clear_messages(city_payload, kwargs, needle):
    _store(city_payload)
    with pytest.raises(DiaoduError) as err:
        explain_plan(**kwargs)
    assert needle in err.value.message


# -- through the registry and the CLI ---------------------------------------------------------------

def test_registry_and_cli(city_payload):
    from assistant.cli import app
    from tools.registry import run_tool

    pid = _store(city_payload)
    out = run_tool("explain_plan", {"question": "summary", "plan_id": pid}, max_tool_seconds=2)
    assert out.ok and out.result["facts"]["plan_id"] == pid
    out = run_tool("replan", {"event": "traffic_delay", "minutes": 15, "at": "11:00"}, max_tool_seconds=1)
    assert out.ok, out.result
    runner = CliRunner()
    res = runner.invoke(app, ["explain", "cost_breakdown", "--json"])
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["facts"]["total_distance"] > 0
    res = runner.invoke(app, ["replan", "vehicle_breakdown", "--vehicle", "77", "--json"])
    assert res.exit_code == 2 and "1..14" in json.loads(res.stdout)["error"]
    res = runner.invoke(app, ["replan", "cancel_orders", "--orders", "3,x", "--json"])
    assert res.exit_code == 2 and "order ids" in json.loads(res.stdout)["error"]
