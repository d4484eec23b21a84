"""Torch-free inference of the edge scorer (numpy only).

The planning path must not pay for importing torch and torch-geometric (seconds, more on a
busy machine) inside a ten-second solve budget, so the trained weights are read with
``safetensors.numpy`` and the gated-GCN forward pass of :class:`tools.routing.gnn.model.EdgeScorer`
is repeated here in numpy. ``tests/test_routing_gnn.py`` checks both give the same scores.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from tools.core.errors import DiaoduError
from tools.routing.gnn.features import ModelConfig, RoutingArrays, graph_features

log = logging.getLogger(__name__)


def _linear(w: dict[str, np.ndarray], name: str, x: np.ndarray) -> np.ndarray:
    return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]


def _layer_norm(w: dict[str, np.ndarray], name: str, x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w[f"{name}.weight"] + w[f"{name}.bias"]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free


class NumpyEdgeScorer:
    """The trained edge scorer, evaluated with numpy (float32)."""

    def __init__(self, weights: dict[str, np.ndarray], cfg: ModelConfig):
        self.w = {k: v.astype(np.float32) for k, v in weights.items()}
        self.cfg = cfg

    @classmethod
    def load(cls, path: Path) -> NumpyEdgeScorer:
        """Read ``edge_scorer.safetensors`` and its ``meta.json`` (for the config)."""
        from safetensors.numpy import load_file

        if not path.is_file():
            raise DiaoduError(f"GNN weights not found at {path}; train them with `python -m tools.routing.gnn.train` "
                              "or use guidance none", code="missing_weights")
        meta = json.loads((path.parent / "meta.json").read_text())
        return cls(load_file(str(path)), ModelConfig(**meta["config"]))

    def logits(self, x: np.ndarray, src: np.ndarray, dst: np.ndarray, e: np.ndarray) -> np.ndarray:
        """One logit per directed edge (same computation as ``EdgeScorer.forward``)."""
        w = self.w
        h = _linear(w, "node_in", x.astype(np.float32))
        e = _linear(w, "edge_in", e.astype(np.float32))
        n1 = len(h)
        # sum over incoming edges with reduceat on edges sorted by head (much faster than np.add.at);
        # every node has incoming edges (its depot link), so no segment is empty
        order = np.argsort(dst, kind="stable")
        starts = np.searchsorted(dst[order], np.arange(n1))

        def gather(v: np.ndarray) -> np.ndarray:
            return np.add.reduceat(v[order], starts, axis=0)

        for i in range(self.cfg.layers):
            p = f"layers.{i}"
            e_new = _linear(w, f"{p}.C", e) + _linear(w, f"{p}.D", h)[dst] + _linear(w, f"{p}.E", h)[src]
            gate = _sigmoid(e_new)
            msg = gate * _linear(w, f"{p}.B", h)[src]
            h_new = _linear(w, f"{p}.A", h) + gather(msg) / (gather(gate) + 1e-6)
            h = h + np.maximum(_layer_norm(w, f"{p}.norm_h", h_new), 0.0)
            e = e + np.maximum(_layer_norm(w, f"{p}.norm_e", e_new), 0.0)
        hid = np.maximum(_linear(w, "head.0", e), 0.0)
        return _linear(w, "head.2", hid)[:, 0]

    def score(self, arr: RoutingArrays) -> tuple[np.ndarray, np.ndarray]:
        """``(prob, mask)`` like :func:`tools.routing.gnn.model.score_matrix`."""
        x, src, dst, e = graph_features(arr, self.cfg.k)
        p = _sigmoid(self.logits(x, src, dst, e))
        n1 = len(x)
        mat = np.zeros((n1, n1), dtype=np.float32)
        mat[src, dst] = p
        mask = np.zeros((n1, n1), dtype=bool)
        mask[src, dst] = True
        return (mat + mat.T) / 2.0, mask | mask.T
