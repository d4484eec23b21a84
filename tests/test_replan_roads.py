"""Road closures: which arcs run along a road, and the detours that replace them."""

from __future__ import annotations

import numpy as np
import pytest

from tools.core.errors import DiaoduError
from tools.replan.roads import arcs_using_road, closed_matrices, find_road
from tools.routing.instance import load_instance


def test_arcs_along_a_road_are_blocked_crossings_are_not():
    road = [[0.0, 0.0], [10.0, 0.0]]
    coords = np.array([[1.0, 0.05], [6.0, -0.1], [3.0, -2.0], [3.0, 2.0], [20.0, 5.0]])
    uses = arcs_using_road(coords, road)
    assert uses[0, 1] and uses[1, 0]  # 5 km along the road
    assert not uses[2, 3]  # crosses it at right angles
    assert not uses[0, 4]  # leaves it at once


def test_closure_detours_are_finite_and_never_shorter():
    inst = load_instance("demo-city")
    road = find_road(inst, "Riverside Avenue")
    dist, dur, blocked = closed_matrices(inst, [road])
    assert blocked > 0
    assert (dist >= inst.distance).all() and (dur >= inst.duration).all()
    changed = dist != inst.distance
    assert changed.any() and np.array_equal(changed, changed.T)
    # a detour is a real path through usable arcs: never longer than three straight legs' fallback
    assert (dist <= 3 * inst.distance + 1).all()


@pytest.mark.parametrize("name", ["Zhongshan Road", "zhongshan", "R2", "中山路"])
def test_find_road_by_name_id_or_chinese(name):
    assert find_road(load_instance("demo-city"), name)["id"] == "R2"


def test_unknown_road_and_roadless_dataset():
    with pytest.raises(DiaoduError, match="Ring Road"):
        find_road(load_instance("demo-city"), "Moon Street")
    with pytest.raises(DiaoduError, match="names no roads"):
        find_road(load_instance("demo-small"), "Ring Road")
