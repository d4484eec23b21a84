"""Guidance of the OR-Tools search: what a provider (e.g. the GNN in ``tools.routing.gnn``) produces.

The adapter (:mod:`tools.routing.ortools_adapter`) applies each field independently, so every
field can be ablated on its own:

- ``candidate_successors``: per node index (0 = depot), the allowed next nodes. Arcs not listed
  are removed from the model, except arcs from/to the depot (always kept, so any customer can
  start or end a route and feasibility stays safe). ``None`` keeps every arc.
- ``initial_routes``: node indices (1..n) per vehicle, a warm start (read as an assignment and
  searched from there).
- ``arc_penalty``: an (n+1) x (n+1) shaping cost (same units as the distance matrix) added to the
  true cost for a first GLS phase; the rest of the budget polishes on true costs.
- ``search``: per-instance overrides of the search parameters (``first_solution_strategy``,
  ``local_search_metaheuristic`` by enum name, ``guided_local_search_lambda_coefficient``,
  ``penalty_phase_fraction`` for the share of the budget spent on shaped costs, ``penalty_cycles``
  for rounds of shaped search then polishing, each from the best plan so far, ``penalty_noise`` for
  the spread of the per-arc factor U(1 - noise, 1 + noise) that later rounds draw,
  ``iterated_local_search`` for OR-Tools' iterated local search (SISR ruin and recreate, annealing
  from this many mean nearest-neighbour arc costs; 0: automatic) wherever a search starts from
  scratch, ``decompose`` (``{"share", "customers", "part_seconds"}``) for a last share of the budget
  spent re-optimising a few neighbouring routes at a time, :mod:`tools.routing.decompose`, ...).
- ``prepare_seconds``: time spent computing the guidance; charged against the solver budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from tools.routing.instance import RoutingInstance


@dataclass
class Guidance:
    """Hints for one solve; every field is optional and applied independently."""

    candidate_successors: list[list[int]] | None = None
    initial_routes: list[list[int]] | None = None
    arc_penalty: np.ndarray | None = None
    search: dict[str, Any] | None = None
    prepare_seconds: float = 0.0
    source: str = "none"  # who made it ("gnn", "test", ...), reported in results
    meta: dict[str, Any] = field(default_factory=dict)

    def fields_used(self) -> list[str]:
        """Names of the fields that are set (for reports and ablations)."""
        return [name for name in ("candidate_successors", "initial_routes", "arc_penalty", "search")
                if getattr(self, name) is not None]

    def to_dict(self) -> dict[str, Any]:
        """A small JSON-able summary (not the arrays themselves)."""
        return {"source": self.source, "fields": self.fields_used(), "prepare_seconds": round(self.prepare_seconds, 3),
                **({"search": self.search} if self.search else {}), **({"meta": self.meta} if self.meta else {})}


@runtime_checkable
class GuidanceProvider(Protocol):
    """Something that turns an instance into :class:`Guidance` for a solve of ``budget_s`` seconds.

    ``budget_s`` is the whole solve budget (a provider may plan search rounds over it); the time the
    provider itself takes is reported in ``prepare_seconds`` and charged inside that budget.
    """

    def prepare(self, instance: RoutingInstance, budget_s: float) -> Guidance:
        ...
