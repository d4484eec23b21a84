"""Graph features of a routing instance, in numpy only (shared by training and torch-free inference).

Node 0 is the depot; every node links to its ``k`` nearest others, the depot links to and from
every customer, and every edge is present in both directions. See :mod:`.model` for the features.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

NODE_FEATURES = 12
EDGE_FEATURES = 9


@dataclass(frozen=True)
class ModelConfig:
    """Network size and graph sparsity (saved with the weights)."""

    hidden: int = 64
    layers: int = 8
    k: int = 20

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RoutingArrays:
    """The plain arrays the network reads (index 0 = depot); built from any instance type."""

    coords: np.ndarray  # (n+1, 2)
    demand: np.ndarray  # (n+1,)
    capacity: float
    dist: np.ndarray  # (n+1, n+1) travel distance; with windows: travel time, in the windows' units
    ready: np.ndarray | None = None
    due: np.ndarray | None = None
    service: np.ndarray | None = None

    def windows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(ready, due, service)`` when the instance has time windows, else ``None``."""
        if self.ready is None or self.due is None or self.service is None:
            return None
        return self.ready, self.due, self.service


def knn_edges(dist: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Directed edges ``(src, dst)``: kNN of every node, depot <-> all customers, symmetrised."""
    n1 = len(dist)
    kk = min(k, n1 - 1)
    d = dist.astype(float).copy()
    np.fill_diagonal(d, np.inf)
    nbr = np.argpartition(d, kk - 1, axis=1)[:, :kk] if kk < n1 - 1 else np.argsort(d, axis=1)[:, : n1 - 1]
    src = np.repeat(np.arange(n1), nbr.shape[1])
    dst = nbr.reshape(-1)
    cust = np.arange(1, n1)
    src = np.concatenate([src, dst, np.zeros_like(cust), cust])
    dst = np.concatenate([dst, np.repeat(np.arange(n1), nbr.shape[1]), cust, np.zeros_like(cust)])
    key = np.unique(src.astype(np.int64) * n1 + dst)
    return key // n1, key % n1


def graph_features(arr: RoutingArrays, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x, src, dst, edge_attr)``: node features, directed edges and their features (numpy only)."""
    coords = np.asarray(arr.coords, float)
    n1 = len(coords)
    dist = np.asarray(arr.dist, float)
    rel = coords - coords[0]
    scale = float(np.abs(rel).max()) or 1.0  # positions, in the coordinates' own units
    # distances may be in other units than the coordinates (Solomon: tenths): scale them on their own
    d_scale = float(dist[0, 1:].max()) if n1 > 1 else 1.0
    d_scale = d_scale or 1.0
    demand = np.asarray(arr.demand, float)
    cap = float(arr.capacity) or 1.0
    tw = arr.windows()
    has_tw = tw is not None
    horizon = float(tw[1][0]) if tw is not None and float(tw[1][0]) > 0 else 1.0
    ready = np.asarray(tw[0], float) / horizon if tw is not None else np.zeros(n1)
    due = np.asarray(tw[1], float) / horizon if tw is not None else np.ones(n1)
    service = np.asarray(tw[2], float) / horizon if tw is not None else np.zeros(n1)
    n = n1 - 1
    route_size = cap / max(demand[1:].mean(), 1e-9) / max(n, 1)  # fraction of customers one vehicle can carry
    x = np.zeros((n1, NODE_FEATURES), dtype=np.float32)
    x[:, 0] = demand / cap
    x[:, 1:3] = rel / scale
    x[:, 3] = dist[0] / d_scale
    x[0, 4] = 1.0
    x[:, 5] = ready
    x[:, 6] = due
    x[:, 7] = service
    x[:, 8] = float(has_tw)
    x[:, 9] = min(route_size, 1.0)
    x[:, 10] = np.log(max(n, 1)) / 6.0
    x[:, 11] = np.arctan2(rel[:, 1], rel[:, 0]) / np.pi

    src, dst = knn_edges(dist, k)
    d = dist.copy()
    np.fill_diagonal(d, np.inf)
    order = np.argsort(d, axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(n1)[:, None], order] = np.arange(n1)[None, :]
    kth = np.sort(d, axis=1)[:, min(k, n1 - 1) - 1]
    dij = dist[src, dst]
    e = np.zeros((len(src), EDGE_FEATURES), dtype=np.float32)
    e[:, 0] = dij / d_scale
    e[:, 1] = dij / np.maximum(kth[src], 1e-9)
    e[:, 2] = np.minimum(rank[src, dst], 2 * k) / k
    e[:, 3] = np.minimum(rank[dst, src], 2 * k) / k
    e[:, 4] = ((src == 0) | (dst == 0)).astype(np.float32)
    e[:, 5] = (demand[src] + demand[dst]) / cap
    if has_tw:
        travel = dij / horizon
        # slack of serving j right after i at the earliest (negative: i -> j is impossible)
        e[:, 6] = np.clip(due[dst] - (ready[src] + service[src] + travel), -1, 1)
        # waiting forced at j when i is served at its latest
        e[:, 7] = np.clip(ready[dst] - (due[src] + service[src] + travel), -1, 1)
        e[:, 8] = (e[:, 6] >= 0).astype(np.float32)
    else:
        e[:, 8] = 1.0
    return x, src.astype(np.int64), dst.astype(np.int64), e
