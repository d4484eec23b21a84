"""GNN guidance for the OR-Tools routing search.

An edge-scoring graph network (:mod:`.model`, trained by ``python -m tools.routing.gnn.train``
on PyVRP-labelled generated instances, :mod:`.generate` / :mod:`.label`) scores the arcs of a
sparse k-nearest-neighbour graph; :mod:`.provider` turns the scores into
:class:`tools.routing.guidance.Guidance` (candidate arcs, a warm start, a shaping cost,
per-instance search settings). :mod:`.ablation` measures each against plain OR-Tools.

This module stays light (no torch import) so ``plan_routes`` can ask :func:`available` cheaply.
"""

from __future__ import annotations

from pathlib import Path

WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "edge_scorer.safetensors"


def available() -> bool:
    """True when the shipped weights are present (``plan_routes`` then defaults to ``gnn``)."""
    return WEIGHTS_PATH.is_file() and (WEIGHTS_PATH.parent / "meta.json").is_file()


def default_provider(clock: str = "wall"):
    """The guidance provider ``plan_routes`` and ``bench vrp`` use for ``guidance=gnn``.

    ``clock`` is the clock of the solve budget, so the provider's own time is measured the same way.
    """
    from tools.routing.gnn.provider import GnnGuidance, GnnSettings

    return GnnGuidance(GnnSettings(clock=clock))


__all__ = ["WEIGHTS_PATH", "available", "default_provider"]
