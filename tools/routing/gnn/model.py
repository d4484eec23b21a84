"""The edge-scoring network: a residual gated graph convnet over a sparse k-nearest-neighbour graph.

Each instance becomes a graph (:func:`build_graph`): node 0 is the depot, every node links to
its ``k`` nearest others, the depot links to and from every customer, and every edge is
present in both directions. Node features: demand / capacity, position relative to the depot
(scaled), distance to the depot, a depot flag, time window and service time over the horizon.
Edge features: distance (scaled, and relative to the node's k-th neighbour), the rank of the
head among the tail's neighbours and vice versa, a depot flag and, for time windows, whether
and how comfortably ``i -> j`` can be served in that order.

The network (:class:`EdgeScorer`) is a stack of residual gated graph convolutions with edge
features (Bresson & Laurent, 2017, as used by Joshi et al., 2019 for routing heatmaps), built
on ``torch_geometric.nn.MessagePassing``; it outputs one logit per directed edge for "``i`` and
``j`` are neighbours on a route of a good solution". :func:`score_instance` gives a symmetric
probability per kept edge.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Data
from torch_geometric.nn import MessagePassing

log = logging.getLogger(__name__)

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


def build_graph(arr: RoutingArrays, k: int) -> Data:
    """The instance as a ``torch_geometric`` graph with node and edge features."""
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
    has_tw = arr.ready is not None
    horizon = float(arr.due[0]) if has_tw and float(arr.due[0]) > 0 else 1.0
    ready = np.asarray(arr.ready, float) / horizon if has_tw else np.zeros(n1)
    due = np.asarray(arr.due, float) / horizon if has_tw else np.ones(n1)
    service = np.asarray(arr.service, float) / horizon if has_tw else np.zeros(n1)
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
    return Data(x=torch.from_numpy(x), edge_index=torch.from_numpy(np.stack([src, dst]).astype(np.int64)),
                edge_attr=torch.from_numpy(e), num_nodes=n1)


def edge_labels(edge_index: torch.Tensor, routes: list[list[int]]) -> torch.Tensor:
    """1 for edges whose ends are consecutive on a route (either direction, depot links included)."""
    pairs = set()
    for r in routes:
        seq = [0, *r, 0]
        for a, b in zip(seq, seq[1:], strict=False):
            pairs.add((a, b))
            pairs.add((b, a))
    src, dst = edge_index.tolist()
    return torch.tensor([1.0 if (a, b) in pairs else 0.0 for a, b in zip(src, dst, strict=True)])


class GatedGCNLayer(MessagePassing):
    """Residual gated graph convolution with edge features (Bresson & Laurent, 2017)."""

    def __init__(self, hidden: int):
        super().__init__(aggr="add")
        self.A, self.B, self.C = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
        self.D, self.E = nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)
        self.norm_h, self.norm_e = nn.LayerNorm(hidden), nn.LayerNorm(hidden)

    def forward(self, h: torch.Tensor, e: torch.Tensor, edge_index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        src, dst = edge_index
        e_new = self.C(e) + self.D(h)[dst] + self.E(h)[src]
        gate = torch.sigmoid(e_new)
        # messages flow src -> dst, gated and normalised per receiving node
        num = self.propagate(edge_index, x=self.B(h), gate=gate)
        den = torch.zeros_like(h).index_add_(0, dst, gate) + 1e-6
        h_new = self.A(h) + num / den
        return h + torch.relu(self.norm_h(h_new)), e + torch.relu(self.norm_e(e_new))

    def message(self, x_j: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return gate * x_j


class EdgeScorer(nn.Module):
    """Node/edge embeddings -> gated GCN stack -> one logit per directed edge."""

    def __init__(self, cfg: ModelConfig = ModelConfig()):
        super().__init__()
        self.cfg = cfg
        self.node_in = nn.Linear(NODE_FEATURES, cfg.hidden)
        self.edge_in = nn.Linear(EDGE_FEATURES, cfg.hidden)
        self.layers = nn.ModuleList([GatedGCNLayer(cfg.hidden) for _ in range(cfg.layers)])
        self.head = nn.Sequential(nn.Linear(cfg.hidden, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 1))

    def forward(self, data: Data) -> torch.Tensor:
        h, e = self.node_in(data.x), self.edge_in(data.edge_attr)
        for layer in self.layers:
            h, e = layer(h, e, data.edge_index)
        return self.head(e).squeeze(-1)


def score_matrix(model: EdgeScorer, arr: RoutingArrays) -> tuple[np.ndarray, np.ndarray]:
    """``(prob, mask)``: dense ``(n+1, n+1)`` symmetric edge probabilities, mask of scored edges."""
    data = build_graph(arr, model.cfg.k)
    with torch.inference_mode():
        logits = model(data)
    n1 = data.num_nodes
    src, dst = data.edge_index.numpy()
    mat = np.zeros((n1, n1), dtype=np.float32)
    mat[src, dst] = torch.sigmoid(logits).numpy()
    mask = np.zeros((n1, n1), dtype=bool)
    mask[src, dst] = True
    prob = (mat + mat.T) / 2.0
    return prob, mask | mask.T
