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

import numpy as np
import torch
from torch import nn
from torch_geometric.data import Data
from torch_geometric.nn import MessagePassing

from tools.routing.gnn.features import (  # noqa: F401  (re-exported: the model's public inputs)
    EDGE_FEATURES,
    NODE_FEATURES,
    ModelConfig,
    RoutingArrays,
    graph_features,
    knn_edges,
)

log = logging.getLogger(__name__)


def build_graph(arr: RoutingArrays, k: int) -> Data:
    """The instance as a ``torch_geometric`` graph with node and edge features."""
    x, src, dst, e = graph_features(arr, k)
    return Data(x=torch.from_numpy(x), edge_index=torch.from_numpy(np.stack([src, dst])),
                edge_attr=torch.from_numpy(e), num_nodes=len(x))


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

    def message(self, x_j: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
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
