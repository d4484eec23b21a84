"""Decomposition: re-optimising a few neighbouring routes at a time as an instance of their own.

Real OR-Tools searches on generated X-style instances with CPU-clock budgets.
"""

from __future__ import annotations

import numpy as np
import pytest

from tools.core.errors import DiaoduError
from tools.routing.checker import check_routes
from tools.routing.decompose import DecomposeSettings, plan_cost, sweep_part
from tools.routing.gnn.generate import solomon_like, to_routing_instance, x_instance
from tools.routing.guidance import Guidance
from tools.routing.ortools_adapter import _improve_by_parts, solve
from tools.routing.stop import MaxRuntime


def _chunked_by_angle(inst) -> list[list[int]]:
    """A poor but feasible plan: customers by polar angle, cut whenever the next one would overflow."""
    rel = inst.coords - inst.coords[0]
    order = np.argsort(np.arctan2(rel[1:, 1], rel[1:, 0])) + 1
    routes, load = [[]], 0
    for v in order.tolist():
        if load + int(inst.demand[v]) > inst.capacity:
            routes.append([])
            load = 0
        routes[-1].append(v)
        load += int(inst.demand[v])
    return routes


def test_plan_cost_and_sweep_parts() -> None:
    inst = to_routing_instance(x_instance(60, seed=3))
    routes = _chunked_by_angle(inst)
    by_hand = sum(int(inst.distance[0, r[0]]) + int(inst.distance[r[-1], 0])
                  + sum(int(inst.distance[a, b]) for a, b in zip(r, r[1:], strict=False)) for r in routes)
    assert plan_cost(routes, inst.distance) == by_hand
    rng = np.random.default_rng(0)
    for _ in range(10):
        part = sweep_part(inst.coords, routes, 20, rng)
        held = sum(len(routes[k]) for k in part)
        assert len(set(part)) == len(part) and held >= 20
        assert held - len(routes[part[-1]]) < 20  # whole routes, and no more than needed
    assert sorted(sweep_part(inst.coords, routes, 10_000, rng)) == list(range(len(routes)))


def test_subset_is_a_slice_of_the_instance() -> None:
    inst = to_routing_instance(solomon_like(30, 4, family="R1"))
    sub = inst.subset([5, 2, 9], num_vehicles=2)
    assert sub.num_customers == 3 and sub.num_vehicles == 2
    assert sub.distance[1, 2] == inst.distance[5, 2] and sub.demand[3] == inst.demand[9]
    assert sub.ready is not None and inst.ready is not None and sub.ready[2] == inst.ready[2]
    assert sub.due is not None and inst.due is not None and sub.due[0] == inst.due[0]
    for bad in ([0, 3], [4, 4], [999]):
        with pytest.raises(DiaoduError, match="distinct customers"):
            inst.subset(bad, 1)


@pytest.mark.parametrize("part_ils", [None, 2.0], ids=["guided-parts", "iterated-parts"])
def test_parts_improve_a_poor_plan_and_keep_it_feasible(part_ils: float | None) -> None:
    inst = to_routing_instance(x_instance(120, seed=11))
    start = _chunked_by_angle(inst)
    assert len(start) <= inst.num_vehicles
    before = plan_cost(start, inst.distance)
    stop = MaxRuntime(4.0, "cpu")
    costs: list[float] = []
    config: dict = {}
    settings = DecomposeSettings(share=0.5, customers=40, part_seconds=1.0, ils_temperature=part_ils)
    routes = _improve_by_parts(inst, start, settings, {}, stop, stop.now() + 4.0, costs.append, seed=0,
                               config=config)
    after = plan_cost(routes, inst.distance)
    assert after < before * 0.97  # the angle-chunked plan leaves plenty to gain
    assert sorted(v for r in routes for v in r) == list(range(1, inst.num_nodes))
    assert not check_routes(inst, routes).violations
    assert costs == sorted(costs, reverse=True) and costs[-1] == pytest.approx(after / inst.dist_scale)
    assert config["decompose"]["parts_improved"] >= 1
    assert config["decompose"]["parts_searched"] >= config["decompose"]["parts_improved"]
    assert config["decompose"]["part_search"] == ("guided" if part_ils is None else "iterated")
    assert len([r for r in routes if r]) <= inst.num_vehicles  # a spare vehicle never overdraws the fleet


def test_decompose_override_in_a_solve() -> None:
    inst = to_routing_instance(x_instance(120, seed=11))
    res = solve(inst, MaxRuntime(3.0, "cpu"), guidance=Guidance(
        search={"decompose": {"share": 0.5, "customers": 40, "part_seconds": 0.5}}))
    assert res.feasible and res.config["decompose"]["parts_searched"] >= 1
    assert res.objective_value == pytest.approx(res.cost, rel=1e-6)  # the last report is the returned plan
    # routes run independently, so a part of a time-window plan is an instance of its own too
    tw = to_routing_instance(solomon_like(60, 4, family="R1"))
    res = solve(tw, MaxRuntime(2.0, "cpu"), guidance=Guidance(
        search={"decompose": {"share": 0.5, "customers": 20, "part_seconds": 0.3}}))
    assert res.feasible and res.config["decompose"]["parts_searched"] >= 2
    res = solve(tw, MaxRuntime(0.5, "cpu"), objective="lateness", guidance=Guidance(search={"decompose": {}}))
    assert res.feasible and "not used" in res.config["decompose"]
    for bad, message in (({"share": 1.0}, "share must be in"), ({"parts": 3}, "unknown keys"),
                         (5, "must be an object"), ({"ils_temperature": -1}, "ils_temperature must be"),
                         ({"ils_temperature": "hot"}, "ils_temperature must be")):
        with pytest.raises(DiaoduError, match=message):
            solve(inst, MaxRuntime(0.2, "cpu"), guidance=Guidance(search={"decompose": bad}))
