"""``GnnGuidance``: the edge scorer's probabilities as OR-Tools guidance.

``prepare(instance, budget_s)`` loads the shipped weights, scores the instance's sparse graph
and fills the fields of :class:`tools.routing.guidance.Guidance` that are switched on:

- ``sparsify``: candidate successors (top scores + nearest neighbours + depot, see
  :func:`tools.routing.gnn.guide.candidate_successors`);
- ``warm_start``: score-ranked savings routes;
- ``shaping``: a learned arc penalty for the first guided-local-search phase;
- ``params``: per-instance search settings.

Everything it does, the weight load included (and the torch import when it is the first
user), is timed into ``prepare_seconds`` so the adapter charges it against the solve budget.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tools.core.errors import DiaoduError
from tools.routing.gnn import WEIGHTS_PATH

log = logging.getLogger(__name__)

PARTS = ("sparsify", "warm_start", "shaping", "params")


@dataclass
class GnnSettings:
    """Which guidance fields to produce, and their knobs (defaults: the measured best)."""

    sparsify: bool = True
    warm_start: bool = True
    shaping: bool = True
    params: bool = True
    keep: int = 8  # best-scored successors kept per node
    nearest: int = 4  # nearest neighbours always kept (safety net against a wrong score)
    savings_weight: float = 1.0
    shaping_strength: float = 0.5


def load_model(path: Path = WEIGHTS_PATH):
    """The :class:`~tools.routing.gnn.model.EdgeScorer` with the weights at ``path``."""
    import json

    from safetensors.torch import load_file

    from tools.routing.gnn.model import EdgeScorer, ModelConfig

    if not path.is_file():
        raise DiaoduError(f"GNN weights not found at {path}; train them with `python -m tools.routing.gnn.train` "
                          "or use guidance none", code="missing_weights")
    meta = json.loads((path.parent / "meta.json").read_text())
    model = EdgeScorer(ModelConfig(**meta["config"]))
    model.load_state_dict(load_file(str(path)))
    model.eval()
    return model


def routing_arrays(instance: Any):
    """The network's input arrays from a routing instance (``tools.routing.instance`` or generated)."""
    from tools.routing.gnn.model import RoutingArrays

    if hasattr(instance, "distance_matrix") and hasattr(instance, "coords") and hasattr(instance, "demand"):
        dist = instance.distance_matrix() if callable(instance.distance_matrix) else instance.distance_matrix
        tw = getattr(instance, "ready", None)
        return RoutingArrays(np.asarray(instance.coords, float), np.asarray(instance.demand, float),
                             float(instance.capacity), np.asarray(dist, float),
                             None if tw is None else np.asarray(tw, float),
                             None if tw is None else np.asarray(instance.due, float),
                             None if tw is None else np.asarray(instance.service, float))
    raise DiaoduError(f"GNN guidance cannot read an instance of type {type(instance).__name__}")


def _fleet(instance: Any) -> int | None:
    for attr in ("num_vehicles", "vehicles"):
        v = getattr(instance, attr, None)
        if isinstance(v, int):
            return v
    return None


class GnnGuidance:
    """A :class:`tools.routing.guidance.GuidanceProvider` backed by the trained edge scorer."""

    name = "gnn"

    def __init__(self, settings: GnnSettings | None = None, weights: Path = WEIGHTS_PATH):
        self.settings = settings or GnnSettings()
        self.weights = weights

    def scores(self, instance: Any) -> tuple[Any, np.ndarray, np.ndarray]:
        """``(arrays, prob, mask)`` for an instance (loads the model each call: cheap, and honest timing)."""
        from tools.routing.gnn.model import score_matrix

        arr = routing_arrays(instance)
        prob, mask = score_matrix(load_model(self.weights), arr)
        return arr, prob, mask

    def prepare(self, instance: Any, budget_s: float):
        """Guidance for ``instance``; ``prepare_seconds`` holds every second spent here."""
        from tools.routing.guidance import Guidance

        t0 = time.perf_counter()
        if "torch" not in sys.modules:  # first torch user pays the import; it counts against the budget
            import torch

            torch.set_num_threads(1)
        from tools.routing.gnn import guide

        s = self.settings
        arr, prob, mask = self.scores(instance)
        n = len(arr.dist) - 1
        g = Guidance()
        if s.sparsify:
            g.candidate_successors = guide.candidate_successors(
                prob, mask, arr.dist, keep=s.keep, nearest=s.nearest, ready=arr.ready, due=arr.due, service=arr.service)
        if s.warm_start:
            g.initial_routes = guide.score_savings_routes(arr, prob, mask, weight=s.savings_weight,
                                                          max_routes=_fleet(instance))
        if s.shaping:
            g.arc_penalty = guide.arc_penalty(prob, mask, arr.dist, strength=s.shaping_strength)
        if s.params:
            g.search = search_overrides(n, arr.ready is not None, budget_s)
        g.prepare_seconds = time.perf_counter() - t0
        log.info("gnn guidance for n=%d in %.2fs", n, g.prepare_seconds)
        return g


def search_overrides(n: int, has_windows: bool, budget_s: float) -> dict:
    """Per-instance search settings (see the ablation for what they are worth)."""
    return {}
