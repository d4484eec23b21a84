"""From edge probabilities to OR-Tools guidance (pure numpy; no solver here).

- :func:`candidate_successors`: per node, the arcs to keep (top scores, plus the nearest
  neighbours and the depot as a safety net, closed under reversal so every kept arc can be
  travelled both ways where the instance allows it).
- :func:`score_savings_routes`: a warm start, Clarke-Wright savings re-ranked by the scores,
  capacity- and time-window-feasible by construction.
- :func:`arc_penalty`: a learned shaping cost, large where the model rules an arc out.
"""

from __future__ import annotations

import logging

import numpy as np

from tools.routing.gnn.features import RoutingArrays

log = logging.getLogger(__name__)


def candidate_successors(prob: np.ndarray, mask: np.ndarray, dist: np.ndarray, *, keep: int = 10,
                         nearest: int = 5, ready: np.ndarray | None = None, due: np.ndarray | None = None,
                         service: np.ndarray | None = None) -> list[list[int]]:
    """Successor lists (node 0 = depot): every customer keeps its ``keep`` best-scored arcs,
    its ``nearest`` closest nodes and the depot; the depot keeps every customer.

    The union is closed under reversal (``j`` in ``succ(i)`` implies ``i`` in ``succ(j)``), which
    keeps the neighbourhoods symmetric for OR-Tools' 2-opt style moves. With time windows, arcs
    that can never be served in that order (``ready_i + service_i + d_ij > due_j``) are dropped
    unless they are all a node has left, and the depot arcs always stay: any customer can be
    served on its own route, so feasibility never depends on a removed arc.
    """
    n1 = len(dist)
    score = np.where(mask, prob, -1.0)
    np.fill_diagonal(score, -np.inf)
    d = dist.astype(float).copy()
    np.fill_diagonal(d, np.inf)
    kk, nn_ = min(keep, n1 - 1), min(nearest, n1 - 1)
    keep_mat = np.zeros((n1, n1), dtype=bool)
    rows = np.arange(n1)[:, None]
    keep_mat[rows, np.argpartition(-score, kk - 1, axis=1)[:, :kk]] = True
    keep_mat[rows, np.argpartition(d, nn_ - 1, axis=1)[:, :nn_]] = True
    keep_mat |= keep_mat.T
    keep_mat[:, 0] = True
    keep_mat[0, :] = True
    np.fill_diagonal(keep_mat, False)
    if ready is not None and due is not None and service is not None:
        possible = (np.asarray(ready)[:, None] + np.asarray(service)[:, None] + dist) <= np.asarray(due)[None, :] + 1e-9
        possible[:, 0] = True
        possible[0, :] = True
        pruned = keep_mat & possible
        # never leave a customer with the depot alone because of the window filter
        weak = pruned[1:].sum(1) <= 1
        pruned[1:][weak] = keep_mat[1:][weak]
        keep_mat = pruned
    return [np.flatnonzero(keep_mat[i]).tolist() for i in range(n1)]


def _route_feasible(route: list[int], arr: RoutingArrays) -> bool:
    """Capacity and (when present) time-window feasibility of one route from and back to the depot."""
    if float(np.asarray(arr.demand)[route].sum()) > arr.capacity + 1e-9:
        return False
    tw = arr.windows()
    if tw is None:
        return True
    ready, due, service = tw
    t, prev = float(ready[0]), 0
    for v in route:
        t = max(t + float(arr.dist[prev, v]), float(ready[v]))
        if t > float(due[v]) + 1e-9:
            return False
        t += float(service[v])
        prev = v
    return t + float(arr.dist[prev, 0]) <= float(due[0]) + 1e-9


def score_savings_routes(arr: RoutingArrays, prob: np.ndarray, mask: np.ndarray, *, weight: float = 1.0,
                         max_routes: int | None = None) -> list[list[int]] | None:
    """Clarke-Wright savings on the scored arcs, ranked by ``saving / mean arc + weight * prob``.

    Routes stay feasible (capacity, windows) at every merge. Returns ``None`` when more than
    ``max_routes`` routes are left (the fleet could not run the warm start).
    """
    dist = np.asarray(arr.dist, float)
    n1 = len(dist)
    src, dst = np.nonzero(np.triu(mask, 1) if arr.ready is None else mask)
    keep = (src > 0) & (dst > 0)
    src, dst = src[keep], dst[keep]
    saving = dist[0, src] + dist[dst, 0] - dist[src, dst]
    unit = float(np.mean(dist[src, dst])) or 1.0
    key = saving / unit + weight * prob[src, dst]
    route_of = {i: [i] for i in range(1, n1)}  # customer -> its route (shared list objects)
    directed = arr.ready is not None
    for idx in np.argsort(-key, kind="stable"):
        i, j = int(src[idx]), int(dst[idx])
        ri, rj = route_of[i], route_of[j]
        if ri is rj:
            continue
        merged = None
        # i must end its route and j start the other; undirected instances may flip either route
        options = [(ri, rj)] if directed else [(ri, rj), (ri[::-1], rj), (ri, rj[::-1]), (ri[::-1], rj[::-1])]
        for a, b in options:
            if a[-1] == i and b[0] == j:
                merged = a + b
                break
            if not directed and a[-1] == j and b[0] == i:
                merged = a + b
                break
        if merged is None or not _route_feasible(merged, arr):
            continue
        for v in merged:
            route_of[v] = merged
    routes, seen = [], set()
    for r in route_of.values():
        if id(r) not in seen:
            seen.add(id(r))
            routes.append(r)
    routes.sort(key=lambda r: r[0])
    if max_routes is not None and len(routes) > max_routes:
        log.info("warm start needs %d routes, fleet has %d: not used", len(routes), max_routes)
        return None
    return routes


def route_cost(routes: list[list[int]], dist: np.ndarray) -> float:
    """Total travel distance of routes from and back to the depot."""
    total = 0.0
    for r in routes:
        seq = [0, *r, 0]
        total += float(sum(dist[a, b] for a, b in zip(seq, seq[1:], strict=False)))
    return total


def arc_penalty(prob: np.ndarray, mask: np.ndarray, dist: np.ndarray, *, strength: float = 1.0) -> np.ndarray:
    """Shaping cost ``strength * typical arc * (1 - p)``; arcs the model never scored get the full penalty.

    The typical arc is the mean distance to the fifth-nearest neighbour, so the penalty has the
    scale of one local move's gain and the depot arcs are not singled out.
    """
    d = dist.astype(float).copy()
    np.fill_diagonal(d, np.inf)
    k = min(5, len(d) - 1)
    typical = float(np.mean(np.sort(d, axis=1)[:, k - 1])) if len(d) > 1 else 0.0
    p = np.where(mask, prob, 0.0)
    pen = strength * typical * (1.0 - p)
    np.fill_diagonal(pen, 0.0)
    return pen
