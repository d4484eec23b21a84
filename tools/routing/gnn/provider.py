"""``GnnGuidance``: the edge scorer's probabilities as OR-Tools guidance.

``prepare(instance, budget_s)`` loads the shipped weights, scores the instance's sparse graph
and fills the fields of :class:`tools.routing.guidance.Guidance` that are switched on:

- ``sparsify``: candidate successors (top scores + nearest neighbours + depot, see
  :func:`tools.routing.gnn.guide.candidate_successors`);
- ``warm_start``: score-ranked savings routes;
- ``shaping``: a learned arc penalty for rounds of shaped search then true-cost polishing (with
  time windows, after half the budget of plain search);
- ``params``: per-instance search settings;
- small CVRP instances (``ils_max_customers``), and VRPTW instances with room for long routes where
  ``ils_tw_min_route_customers`` is set (off by default), skip the network and get iterated local search;
- VRPTW instances with room for long routes and narrow windows (``plain_tw_min_route_customers``,
  ``plain_tw_max_window``: Solomon's R201, RC201, C201) skip the network and get plain search;
- every other instance spends the last two thirds (CVRP, ``decompose_share``) or half (time windows,
  ``decompose_share_tw``) of its budget
  re-optimising the network-guided plan a few neighbouring routes at a time, each part by iterated
  local search (a search override the adapter runs; :mod:`tools.routing.decompose`).

Everything it does, the weight load included, is timed into ``prepare_seconds`` so the adapter
charges it against the solve budget. Inference runs in numpy (:mod:`.infer`): importing torch
would cost seconds of a ten-second budget.
"""

from __future__ import annotations

import logging
import math
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

    # sparsify and params are off by default: neither helped in the measurements (see the ablation)
    sparsify: bool = False
    warm_start: bool = True
    shaping: bool = True
    params: bool = False
    keep: int = 8  # best-scored successors kept per node
    nearest: int = 4  # nearest neighbours always kept (safety net against a wrong score)
    savings_weight: float = 0.5  # tuned on the training validation split (warm-start gap 5.8% vs 6.1% at 0)
    shaping_strength: float = 0.5
    # rounds of shaped search then polishing, each from the best plan so far (0: one round per
    # ``shaping_round_s`` of budget, at most ``shaping_max_cycles`` when that is set); later rounds
    # scale each arc's penalty by U(1 - noise, 1 + noise). A cap of 4 rounds won on the 30 s tuning
    # stream but not at 60 s on the measured sets (RESULTS.md, session 5), so it is off by default.
    shaping_cycles: int = 0
    shaping_round_s: float = 2.5
    shaping_max_cycles: int = 0
    shaping_noise: float = 0.5
    # the share of each round searched on shaped costs (the rest polishes on true costs)
    shaping_fraction: float = 0.5
    # the share of the budget kept for one long true-cost search after the rounds (0: none)
    final_polish: float = 0.0
    # the share of the budget searched plain (true costs, no guidance) before the rounds (0: none)
    plain_first: float = 0.0
    # the same share for instances with time windows: with tight windows (Solomon RC1/R1) shaped
    # rounds alone lost to plain search (RC101 +1.2 points, median of three 60 s runs); half the
    # budget of plain search first, then the rounds from its plan, kept every VRPTW instance within
    # 0.3 points of plain and gained on the rest (RESULTS.md, session 6)
    plain_first_tw: float = 0.5
    # CVRP instances with at most this many customers are searched by OR-Tools' iterated local search
    # (SISR ruin and recreate) instead, without the network: there it beat both plain guided local
    # search and the network's rounds on the tuning stream (RESULTS.md, session 7); 0: never
    ils_max_customers: int = 250
    # its initial annealing temperature, in mean nearest-neighbour arc costs (0: OR-Tools' automatic)
    ils_temperature: float = 2.0
    # CVRP instances above ``ils_max_customers`` spend this last share of the budget re-optimising a few
    # neighbouring routes at a time (parts of at least ``decompose_customers`` customers, at most
    # ``decompose_part_s`` seconds each, shorter on short budgets; :mod:`tools.routing.decompose`); 0: off.
    # On seven tuning instances (n 261..377, 60 s) it cut the network path's mean gap from 0.79 % to 0.36 %
    # to the best of the runs (RESULTS.md, session 9). With iterated-local-search parts (session 11) two
    # thirds beat half on the same seven: 0.10 % against 0.25 % mean gap to the best of four settings
    decompose_share: float = 0.67
    decompose_customers: int = 40
    decompose_part_s: float = 2.0
    # the same share for instances with time windows (any size): ahead on all seven tuning VRPTW
    # instances at 30 s (RESULTS.md, session 9)
    decompose_share_tw: float = 0.5
    # how each part is searched: None, guided local search from its routes; a number, iterated local
    # search from scratch at this initial temperature (in the part's mean nearest-neighbour arc costs).
    # At 60 s iterated parts were ahead on 6 of 7 large CVRP tuning instances (mean gap to the better
    # run 0.01 % against 0.28 %) and on 7 of 8 VRPTW ones (0.00 % against 0.43 %; RESULTS.md, session 11)
    decompose_part_ils: float | None = 2.0
    # with time windows only where a part gets at least this long (budgets from 20 s): at 10 s (1 s parts)
    # guided parts were ahead on the VRPTW tuning instances (0.25 % against 0.38 % mean gap)
    decompose_part_ils_tw_min_s: float = 2.0
    # the last share of the budget that the iterated-local-search path (small CVRP) gives to decomposition;
    # off: at 60 s half was level with none on eight tuning instances of 190..236 customers (0.16 against
    # 0.17 % mean gap, 5 ahead, 3 behind; RESULTS.md, session 11)
    ils_decompose_share: float = 0.0
    # VRPTW instances whose capacity allows at least this many customers a route (Solomon's type 2: a long
    # horizon, few long routes) go to iterated local search, without the network; 0: never (the default).
    # On 18 generated type-2 tuning instances it was ahead of plain search and the network path (ten of them:
    # mean gap to the best of the three 0.15 % against 0.46 % and 0.58 % at 60 s, 0.16 % against 0.97 % and
    # 1.25 % at 10 s), but not on the measured set's four type-2 instances (RC201 0.86 % against plain's 0.10 %
    # at 60 s by the median of three, R201 2.94 % against the network's 0.59 % at 10 s; RESULTS.md, session 12)
    ils_tw_min_route_customers: float = 0.0
    # VRPTW instances with room for long routes (at least ``plain_tw_min_route_customers`` customers a route)
    # whose windows are narrow (mean width at most ``plain_tw_max_window`` of the horizon, Solomon's R201,
    # RC201 and C201: 5..13 %) get plain guided local search, without the network; 0: never. On narrow
    # type-2 tuning instances (every customer windowed) the network path was level with plain search at
    # 10 s (mean gap to the better run 0.45 % against 0.46 %, 10 instances) and behind it at 30 s (1.03 %
    # against 0.14 %, 10) and 60 s (0.27 % against 0.15 %, 12; RESULTS.md, session 13)
    plain_tw_min_route_customers: float = 20.0
    plain_tw_max_window: float = 0.25
    clock: str = "wall"  # how prepare_seconds is measured: "wall", or "cpu" to match a CPU-clock budget

    def __post_init__(self) -> None:
        if self.clock not in ("wall", "cpu"):
            raise DiaoduError(f"GnnSettings.clock must be 'wall' or 'cpu'; got {self.clock!r}")
        if self.shaping_cycles < 0 or self.shaping_max_cycles < 0:
            raise DiaoduError(f"GnnSettings: shaping_cycles and shaping_max_cycles must be >= 0 (0: automatic); got "
                              f"{self.shaping_cycles} and {self.shaping_max_cycles}")
        for name, first in (("plain_first", self.plain_first), ("plain_first_tw", self.plain_first_tw)):
            if not (0 <= self.final_polish < 1 and 0 <= first < 1 and self.final_polish + first < 1):
                raise DiaoduError(f"GnnSettings.final_polish and {name} must be in [0, 1) with a sum below 1; got "
                                  f"{self.final_polish} and {first}")
        if not 0 < self.shaping_fraction < 1:
            raise DiaoduError(f"GnnSettings.shaping_fraction must be in (0, 1); got {self.shaping_fraction}")
        if self.ils_temperature < 0 or self.ils_max_customers < 0:
            raise DiaoduError(f"GnnSettings: ils_temperature (0: automatic) and ils_max_customers (0: never) must be "
                              f">= 0; got {self.ils_temperature} and {self.ils_max_customers}")
        shares = (self.decompose_share, self.decompose_share_tw, self.ils_decompose_share)
        if not all(0 <= x < 1 for x in shares) or self.decompose_customers < 2 or self.decompose_part_s <= 0:
            raise DiaoduError(f"GnnSettings: decompose_share, decompose_share_tw and ils_decompose_share must be in "
                              f"[0, 1), decompose_customers >= 2 and decompose_part_s > 0; got {self.decompose_share}, "
                              f"{self.decompose_share_tw}, {self.ils_decompose_share}, {self.decompose_customers} "
                              f"and {self.decompose_part_s}")
        if self.decompose_part_ils is not None and self.decompose_part_ils < 0:
            raise DiaoduError(f"GnnSettings.decompose_part_ils must be >= 0 or None; got {self.decompose_part_ils}")
        if self.decompose_part_ils_tw_min_s < 0:
            raise DiaoduError(f"GnnSettings.decompose_part_ils_tw_min_s must be >= 0; got "
                              f"{self.decompose_part_ils_tw_min_s}")
        if self.ils_tw_min_route_customers < 0 or self.plain_tw_min_route_customers < 0:
            raise DiaoduError(f"GnnSettings: ils_tw_min_route_customers and plain_tw_min_route_customers must be >= 0 "
                              f"(0: never); got {self.ils_tw_min_route_customers} and "
                              f"{self.plain_tw_min_route_customers}")
        if not 0 < self.plain_tw_max_window <= 1:
            raise DiaoduError(f"GnnSettings.plain_tw_max_window must be in (0, 1] (a share of the horizon); got "
                              f"{self.plain_tw_max_window}")
        if self.shaping_round_s <= 0 or not 0 <= self.shaping_noise <= 1:
            raise DiaoduError(f"GnnSettings: shaping_round_s must be > 0 and shaping_noise in [0, 1]; got "
                              f"{self.shaping_round_s} and {self.shaping_noise}")

    def search_instead(self, instance: Any) -> tuple[str, str] | None:
        """``(search, why)`` when ``instance`` skips the network, ``None`` when the network guides it.

        ``search`` is ``"iterated_local_search"`` or ``"guided_local_search"`` (plain search).
        """
        n = instance.num_customers
        if not instance.has_time_windows:
            if n <= self.ils_max_customers:
                return "iterated_local_search", f"CVRP with {n} <= {self.ils_max_customers} customers"
            return None
        per_route = route_customers(instance)

        def long_routes(threshold: float) -> str:
            return f"time windows with capacity for {per_route:.0f} >= {threshold:g} customers a route"

        if self.ils_tw_min_route_customers and per_route >= self.ils_tw_min_route_customers:
            return "iterated_local_search", long_routes(self.ils_tw_min_route_customers)
        if self.plain_tw_min_route_customers and per_route >= self.plain_tw_min_route_customers:
            width = mean_window_share(instance)
            if width <= self.plain_tw_max_window:
                return "guided_local_search", (f"{long_routes(self.plain_tw_min_route_customers)} and windows "
                                               f"{width:.0%} <= {self.plain_tw_max_window:.0%} of the horizon")
        return None

    def decompose_search(self, budget_s: float, share: float | None = None, windows: bool = False) -> dict[str, Any]:
        """The adapter's ``decompose`` override for a solve of ``budget_s`` seconds (CVRP share by default)."""
        # short budgets get shorter parts (at 10 s, 1 s parts were level with or ahead of 2 s ones)
        part_s = min(self.decompose_part_s, max(budget_s / 10, 0.2))
        search: dict[str, Any] = {"share": self.decompose_share if share is None else share,
                                  "customers": self.decompose_customers, "part_seconds": round(part_s, 3)}
        if self.decompose_part_ils is not None and (not windows or part_s >= self.decompose_part_ils_tw_min_s):
            search["ils_temperature"] = self.decompose_part_ils
        return search


def route_customers(instance: Any) -> float:
    """Customers per route if every route were filled to capacity: ``n / ceil(total demand / capacity)``."""
    demand = float(np.asarray(instance.demand, float).sum())
    routes = max(1, math.ceil(demand / float(instance.capacity))) if instance.capacity > 0 else 1
    return instance.num_customers / routes


def mean_window_share(instance: Any) -> float:
    """The customers' mean time-window width as a share of the depot's horizon (1.0 without windows)."""
    if not instance.has_time_windows:
        return 1.0
    width = np.asarray(instance.due, float)[1:] - np.asarray(instance.ready, float)[1:]
    return float(width.mean()) / max(instance.horizon, 1)


def load_model(path: Path = WEIGHTS_PATH):
    """The torch :class:`~tools.routing.gnn.model.EdgeScorer` with the weights at ``path`` (training, tests)."""
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
    """The network's input arrays from a :class:`~tools.routing.instance.RoutingInstance`.

    With time windows the "distance" the network and the warm start read is the travel time
    (the windows' units); without, the distance matrix.
    """
    from tools.routing.gnn.features import RoutingArrays

    tw = getattr(instance, "ready", None)
    if tw is None:
        dist = np.asarray(instance.distance, float)
        return RoutingArrays(np.asarray(instance.coords, float), np.asarray(instance.demand, float),
                             float(instance.capacity), dist)
    return RoutingArrays(np.asarray(instance.coords, float), np.asarray(instance.demand, float),
                         float(instance.capacity), np.asarray(instance.duration, float), np.asarray(tw, float),
                         np.asarray(instance.due, float), np.asarray(instance.service, float))


class GnnGuidance:
    """A :class:`tools.routing.guidance.GuidanceProvider` backed by the trained edge scorer."""

    name = "gnn"

    def __init__(self, settings: GnnSettings | None = None, weights: Path = WEIGHTS_PATH):
        self.settings = settings or GnnSettings()
        self.weights = weights

    def scores(self, instance: Any) -> tuple[Any, np.ndarray, np.ndarray]:
        """``(arrays, prob, mask)`` for an instance, with the torch-free scorer.

        The weights are read on every call (well under 0.1 s) so their load is always timed.
        """
        from tools.routing.gnn.infer import NumpyEdgeScorer

        arr = routing_arrays(instance)
        prob, mask = NumpyEdgeScorer.load(self.weights).score(arr)
        return arr, prob, mask

    def prepare(self, instance: Any, budget_s: float):
        """Guidance for ``instance``; ``prepare_seconds`` holds every second spent here."""
        from tools.routing.guidance import Guidance

        clock = time.process_time if self.settings.clock == "cpu" else time.perf_counter
        t0 = clock()
        from tools.routing.gnn import guide  # numpy only: no torch import inside the budget

        s = self.settings
        instead = s.search_instead(instance)
        if instead is not None:
            # a per-instance choice of search, without consulting the network: small CVRP instances go to
            # iterated local search (which cannot start from a plan), long-route narrow-window VRPTW
            # instances to plain guided local search (the adapter's default: no guidance fields at all)
            search, why = instead
            g = Guidance(source="gnn", meta={"parts": ["params"], "search": search, "why": why})
            if search == "iterated_local_search":
                g.search = {"iterated_local_search": s.ils_temperature}
            if g.search and s.ils_decompose_share and not instance.has_time_windows:
                g.search = {**g.search, "decompose": s.decompose_search(budget_s, s.ils_decompose_share)}
                g.meta["parts"].append("decompose")
            g.prepare_seconds = clock() - t0
            return g
        arr, prob, mask = self.scores(instance)
        n = len(arr.dist) - 1
        g = Guidance(source="gnn", meta={"parts": [p for p in PARTS if getattr(s, p)]})
        if s.sparsify:
            g.candidate_successors = guide.candidate_successors(
                prob, mask, arr.dist, keep=s.keep, nearest=s.nearest, ready=arr.ready, due=arr.due, service=arr.service)
        if s.warm_start:
            allowed = mask
            if g.candidate_successors is not None:  # the warm start may only use arcs the model keeps
                allowed = np.zeros_like(mask)
                for i, succ in enumerate(g.candidate_successors):
                    allowed[i, succ] = True
                allowed &= mask
            g.initial_routes = guide.score_savings_routes(arr, prob, allowed, weight=s.savings_weight,
                                                          max_routes=int(instance.num_vehicles))
        if s.shaping:
            # the penalty is added to the distance matrix, so it is scaled in distance units
            g.arc_penalty = guide.arc_penalty(prob, mask, np.asarray(instance.distance, float),
                                              strength=s.shaping_strength)
        if s.params:
            g.search = search_overrides(n, arr.ready is not None, budget_s) or None
        plain_first = s.plain_first if arr.ready is None else s.plain_first_tw
        decompose = s.decompose_share if arr.ready is None else s.decompose_share_tw
        if decompose:
            g.search = {**(g.search or {}), "decompose": s.decompose_search(budget_s, decompose, arr.ready is not None)}
            g.meta["parts"].append("decompose")
        # the rounds fill what the decomposition leaves of the budget
        cycles = s.shaping_cycles or max(1, int(budget_s * (1 - decompose) * (1 - s.final_polish - plain_first)
                                                / s.shaping_round_s))
        if s.shaping_max_cycles:
            cycles = min(cycles, s.shaping_max_cycles)
        if s.shaping:
            # the adapter's round overrides, named only where they differ from its defaults
            rounds = {"penalty_cycles": cycles, "penalty_noise": s.shaping_noise} if cycles > 1 else {}
            for key, value, default in (("penalty_phase_fraction", s.shaping_fraction, 0.5),
                                        ("final_polish_fraction", s.final_polish, 0.0),
                                        ("plain_first_fraction", plain_first, 0.0)):
                if value != default:
                    rounds[key] = value
            if rounds:
                g.search = {**(g.search or {}), **rounds}
        g.prepare_seconds = clock() - t0
        log.info("gnn guidance for n=%d in %.2fs", n, g.prepare_seconds)
        return g


def search_overrides(n: int, has_windows: bool, budget_s: float) -> dict:
    """Per-instance search settings.

    Empty: the settings tried (GLS lambda 0.2, multi-armed-bandit operator concatenation, penalty
    resets on a new best, OR-Tools' own neighbour ratio) did not beat the adapter's defaults in
    short trials, so none is applied; the hook stays for the ablation.
    """
    return {}
