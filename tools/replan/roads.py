"""Road closures: which arcs run along a closed road, and the detour lengths around them.

Arcs of a routing instance are straight lines between stops. An arc *uses* a road when a
stretch of it (at least :data:`MIN_SHARED_KM`) runs within :data:`CORRIDOR_KM` of the road's
polyline; crossing a road at a junction does not count. A closed road makes the arcs that use it
unusable: their length becomes the shortest path through the remaining arcs (a detour via other
stops, Floyd-Warshall), and their travel time grows in the same proportion.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from tools.core.errors import DiaoduError
from tools.routing.instance import RoutingInstance

log = logging.getLogger(__name__)

# a perpendicular crossing shares 2 x 0.2 km with the corridor: below the 1 km that counts as "along"
CORRIDOR_KM = 0.2
MIN_SHARED_KM = 1.0


def find_road(instance: RoutingInstance, road: str | None) -> dict[str, Any]:
    """The road named ``road`` (id, English or Chinese name, case-insensitive); clear errors otherwise."""
    roads = instance.roads or []
    if not roads:
        raise DiaoduError(f"dataset {instance.name!r} names no roads, so a road closure cannot be placed on it; "
                          "road closures need a dataset with named roads (e.g. demo-city)", code="no_roads")
    names = [str(r.get("name")) for r in roads]
    if road is None or not str(road).strip():
        raise DiaoduError(f"road_closure needs the road that is closed (argument 'road'); dataset {instance.name!r} "
                          f"names: {', '.join(names)}", code="missing_road", details={"roads": names})
    key = str(road).strip().lower()
    for r in roads:
        labels = {str(r.get(k, "")).strip().lower() for k in ("id", "name", "name_zh")}
        if key in labels or key.removesuffix(" road") in labels or f"{key} road" in labels:
            return r
    for r in roads:  # "zhongshan" -> "Zhongshan Road"
        if key in str(r.get("name", "")).lower() or (r.get("name_zh") and key in str(r["name_zh"])):
            return r
    raise DiaoduError(f"unknown road {road!r} in dataset {instance.name!r}; roads are: {', '.join(names)}",
                      code="unknown_road", details={"roads": names})


def _segment_distance(px: np.ndarray, py: np.ndarray, ax: float, ay: float, bx: float, by: float) -> np.ndarray:
    dx, dy = bx - ax, by - ay
    seg2 = dx * dx + dy * dy
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / seg2, 0.0, 1.0) if seg2 > 0 else np.zeros_like(px)
    return np.hypot(px - ax - t * dx, py - ay - t * dy)


def arcs_using_road(coords: np.ndarray, points: list[list[float]], samples: int = 64) -> np.ndarray:
    """A boolean (n, n) matrix: arc i -> j runs along the polyline ``points`` (symmetric).

    Each arc is sampled at ``samples`` points; the share of samples within the corridor times the
    arc's length is the stretch it shares with the road.
    """
    n = len(coords)
    pts = np.asarray(points, dtype=float)
    iu, ju = np.triu_indices(n, k=1)
    a, b = coords[iu], coords[ju]
    length = np.hypot(*(b - a).T)
    s = np.linspace(0.0, 1.0, samples)
    px = a[:, 0:1] + s[None, :] * (b[:, 0:1] - a[:, 0:1])
    py = a[:, 1:2] + s[None, :] * (b[:, 1:2] - a[:, 1:2])
    near = np.full(px.shape, np.inf)
    for (ax, ay), (bx, by) in zip(pts[:-1], pts[1:], strict=True):
        near = np.minimum(near, _segment_distance(px, py, ax, ay, bx, by))
    shared = (near <= CORRIDOR_KM).mean(axis=1) * length
    hit = shared >= MIN_SHARED_KM
    uses = np.zeros((n, n), dtype=bool)
    uses[iu[hit], ju[hit]] = True
    return uses | uses.T


def closed_matrices(instance: RoutingInstance, roads: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, int]:
    """Distance and duration matrices with ``roads`` closed, and the number of arcs rerouted.

    Unusable arcs take the shortest detour through usable ones; where there is none (a stop cut
    off entirely) the arc keeps three times its straight length, so every stop stays reachable
    at a cost that makes the solver avoid it.
    """
    dist = instance.distance.astype(np.float64)
    blocked = np.zeros(dist.shape, dtype=bool)
    for road in roads:
        blocked |= arcs_using_road(instance.coords, road.get("points") or [])
    if not blocked.any():
        return instance.distance.copy(), instance.duration.copy(), 0
    g = np.where(blocked, np.inf, dist)
    for k in range(len(g)):  # Floyd-Warshall, vectorised per pivot
        np.minimum(g, g[:, k:k + 1] + g[k:k + 1, :], out=g)
    detour = np.where(np.isfinite(g), g, 3.0 * dist)
    new_dist = np.where(blocked, np.maximum(np.rint(detour), instance.distance), instance.distance).astype(np.int64)
    ratio = new_dist / np.maximum(instance.distance, 1)
    new_dur = np.where(blocked, np.rint(instance.duration * ratio), instance.duration).astype(np.int64)
    return new_dist, new_dur, int(blocked.sum() // 2)
