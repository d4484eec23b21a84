"""The one module that talks to OR-Tools' routing library and owns its index translation.

``solve(instance, stop, seed, objective=..., guidance=..., progress=...) -> RouteResult``.

- Node ``i`` of the instance is OR-Tools node ``i`` (depot 0); OR-Tools *indices* (with one
  start/end copy of the depot per vehicle) never leave this module.
- Costs are the instance's integer matrices (already rounded by the benchmark's convention).
- Objectives: ``distance`` (hard windows), ``lateness`` (soft windows with a heavy per-minute
  penalty, then distance), ``vehicles`` (a fixed cost per used vehicle above any route cost),
  ``balance`` (a global span cost on route length, plus distance).
- Tight windows: the first solution comes from PARALLEL_CHEAPEST_INSERTION (PATH_CHEAPEST_ARC
  found nothing for R101/RC101 in 60 s), with fallbacks when a strategy fails.
- :class:`~tools.routing.guidance.Guidance` fields are applied independently, and the time spent
  preparing them is charged to the budget.
- Every result goes through the independent checker (:mod:`tools.routing.checker`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_ils_pb2

from tools.core.errors import DiaoduError, check_choice
from tools.routing.decompose import DecomposeSettings, plan_cost, sweep_part
from tools.routing.diagnose import no_solution_causes, quick_causes
from tools.routing.guidance import Guidance
from tools.routing.instance import RoutingInstance
from tools.routing.result import RouteResult, build_result
from tools.routing.stop import MaxRuntime

log = logging.getLogger(__name__)

OBJECTIVES = ("distance", "lateness", "vehicles", "balance")
FSS = routing_enums_pb2.FirstSolutionStrategy
LSM = routing_enums_pb2.LocalSearchMetaheuristic

# Per-minute lateness weight, in distance units per time unit: one time unit late costs as much
# as this much extra distance, so lateness is minimised first and distance breaks ties.
LATENESS_WEIGHT = 100
BALANCE_SPAN_COEFFICIENT = 100
# CVRP first-solution portfolio: each strategy gets this share of the budget, the best continues.
PORTFOLIO = ("LOCAL_CHEAPEST_INSERTION", "SAVINGS", "PATH_CHEAPEST_ARC")
PORTFOLIO_FRACTION = 0.1
PORTFOLIO_MIN_SHARE_S = 0.3  # below this (budgets under 3 s) one strategy gets the whole budget
# SISR ruin: longest removed string, mean removed customers, bypass probability. Larger ruins than the
# paper's (10, 10) won on the tuning streams: mean gap to the best run 0.08 % against 0.53 % at 60 s
# (7 of 8 instances ahead), 0.65 % against 1.0 % at 10 s (16 instances); (5, 5) was worst
# (tools/routing/gnn/RESULTS.md, session 10)
ILS_SISR = (15, 15, 0.01)

ProgressFn = Callable[[float, float], None]


@dataclass
class _Model:
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    keep: list[Any]  # callbacks and matrices OR-Tools references but does not own


def first_strategies(instance: RoutingInstance, objective: str) -> list[str]:
    """First-solution strategies to try, in order."""
    if instance.has_time_windows:
        return ["PARALLEL_CHEAPEST_INSERTION", "LOCAL_CHEAPEST_INSERTION", "PATH_CHEAPEST_ARC"]
    return ["SAVINGS", "PARALLEL_CHEAPEST_INSERTION", "PATH_CHEAPEST_ARC"]


def solve(instance: RoutingInstance, stop: MaxRuntime, seed: int = 0, *, objective: str = "distance",
          guidance: Guidance | None = None, progress: ProgressFn | None = None) -> RouteResult:
    """Solve ``instance`` with OR-Tools (guided local search) within ``stop``.

    OR-Tools' routing search is deterministic for a given model; ``seed`` is recorded and draws the
    penalty noise of the shaping rounds (``penalty_noise``). Time limits still let runs differ.
    ``progress(elapsed_s, best_cost)`` is called on every improving solution (cost in real units
    of the solver's objective, penalties included).
    """
    objective = check_choice("objective", objective, OBJECTIVES)
    if not isinstance(stop, MaxRuntime):
        raise DiaoduError(f"stop must be a MaxRuntime; got {type(stop).__name__}")
    t0 = time.perf_counter()
    soft = objective == "lateness" and instance.has_time_windows
    guidance = guidance or Guidance()
    config: dict[str, Any] = {"objective": objective, "soft_windows": soft, "time_limit_s": stop.seconds,
                              "metaheuristic": "GUIDED_LOCAL_SEARCH", "guidance": guidance.to_dict()}

    def empty(status: str, diagnosis: list[str]) -> RouteResult:
        return build_result(instance, [], solver="ortools", objective=objective, runtime_s=time.perf_counter() - t0,
                            soft_windows=soft, status=status, diagnosis=diagnosis, config=config, seed=seed)

    causes = quick_causes(instance)
    if soft:  # late arrivals are allowed, so only capacity causes are fatal
        causes = [c for c in causes if "capacity" in c]
    if causes:
        return empty("infeasible", causes)

    # all deadlines are read on the stop's clock (wall, or this process's CPU time)
    c0 = stop.now()
    deadline = c0 + max(stop.seconds - guidance.prepare_seconds, 0.05)
    history: list[tuple[float, float]] = []

    def report(cost: float) -> None:
        now = stop.now() - c0 + guidance.prepare_seconds
        if not history or cost < history[-1][1]:
            history.append((now, cost))
            if progress is not None:
                progress(now, cost)

    overrides = dict(guidance.search or {})
    # optionally the last share of the budget re-optimises parts of the plan (distance objective only)
    parts = _decompose_settings(overrides.pop("decompose", None), instance, objective, config)
    final_deadline = deadline
    if parts is not None:
        deadline = c0 + (1.0 - parts.share) * (deadline - c0)
    strategies = ([overrides.pop("first_solution_strategy")] if "first_solution_strategy" in overrides
                  else first_strategies(instance, objective))
    penalty_fraction = float(overrides.pop("penalty_phase_fraction", 0.5))
    # iterated local search (SISR ruin-and-recreate, simulated-annealing acceptance) instead of guided
    # local search wherever a search starts from scratch; OR-Tools cannot warm-start it, so searches
    # that continue from a plan keep guided local search. The value scales the initial temperature in
    # mean nearest-neighbour arc costs (0: OR-Tools' automatic temperatures)
    ils_factor = overrides.pop("iterated_local_search", None)
    ils_temperature: float | None = None
    if ils_factor is not None and objective != "distance":
        # measured and tuned on distance only; the other objectives keep guided local search
        config["iterated_local_search"] = f"not used for objective {objective!r}"
    elif ils_factor is not None:
        if float(ils_factor) < 0:
            raise DiaoduError(f"iterated_local_search must be >= 0 (0: automatic temperatures); got {ils_factor}")
        ils_temperature = float(ils_factor) * mean_nearest_arc(instance)
        config["iterated_local_search"] = {"factor": float(ils_factor), "temperature": round(ils_temperature, 2)}
        config["metaheuristic"] = "ITERATED_LOCAL_SEARCH"
    start_routes = guidance.initial_routes
    config["clock"] = stop.clock

    # Phase 1 (optional): search on shaped costs (true + arc_penalty), then polish on true costs.
    # With ``penalty_cycles`` > 1 the budget is cut into rounds of shaped search then true-cost
    # polishing, each round starting from the best plan so far: the shaped phase is a learned
    # perturbation that moves the search out of the basin where guided local search stalled.
    cycles = int(overrides.pop("penalty_cycles", 1))
    if cycles < 1:
        raise DiaoduError(f"penalty_cycles must be at least 1; got {cycles}")
    best_value, best_routes = float("inf"), None  # the best polished plan of the earlier rounds
    noise = float(overrides.pop("penalty_noise", 0.0))
    # optionally the last share of the budget goes to the last round's true-cost search, one long run
    # (its guided local search keeps its penalty memory, which every new round resets)
    final_share = float(overrides.pop("final_polish_fraction", 0.0))
    # optionally a first share of plain search (a hedge: the rounds then start from its plan)
    plain_first = float(overrides.pop("plain_first_fraction", 0.0))
    if not (0 <= final_share < 1 and 0 <= plain_first < 1):
        raise DiaoduError(f"final_polish_fraction and plain_first_fraction must be in [0, 1); got {final_share} "
                          f"and {plain_first}")
    rounds_end = stop.now() + (1.0 - final_share) * max(deadline - stop.now(), 0.0)
    if plain_first > 0 and guidance.arc_penalty is not None:
        found, _, value = _run(instance, objective, soft, strategies, overrides, guidance, start_routes, stop,
                               stop.now() + plain_first * max(deadline - stop.now(), 0.0), report,
                               ils_temperature=ils_temperature)
        if found is not None:
            best_value, best_routes, start_routes = value, found, found
    if guidance.arc_penalty is not None:
        pen = np.asarray(guidance.arc_penalty)
        if pen.shape != instance.distance.shape:
            raise DiaoduError(f"guidance arc_penalty has shape {pen.shape}; expected {instance.distance.shape}")
        shaped = instance.distance + np.rint(pen).astype(np.int64).clip(min=0)
        rng = np.random.default_rng(seed)
        for rnd in range(cycles):
            if noise > 0 and rnd > 0:  # each later round perturbs along a different draw of the penalty
                scale = rng.uniform(1.0 - noise, 1.0 + noise, size=pen.shape)
                shaped = instance.distance + np.rint(pen * scale).astype(np.int64).clip(min=0)
            round_end = stop.now() + max(rounds_end - stop.now(), 0.0) / (cycles - rnd)
            phase1_end = stop.now() + penalty_fraction * max(round_end - stop.now(), 0.0)
            found, used, _ = _run(instance, objective, soft, strategies, overrides, guidance, start_routes, stop,
                                  phase1_end, None, cost_matrix=shaped, ils_temperature=ils_temperature)
            config["phase1_strategy"] = used
            if rnd == cycles - 1:  # the last round's polish is the main search below
                if found is not None:
                    start_routes = found
                break
            polished, _, value = _run(instance, objective, soft, strategies, overrides, guidance,
                                      found if found is not None else start_routes, stop, round_end, report,
                                      ils_temperature=ils_temperature)
            if polished is not None and value < best_value:
                best_value, best_routes = value, polished
            if best_routes is not None:
                start_routes = best_routes
        config["penalty_cycles"] = cycles

    # Portfolio (CVRP, no warm start, no forced strategy): which first solution leads guided local
    # search to the best basin differs per instance (measured on the anchors: savings is best on
    # X-n148/X-n200, local cheapest insertion on A-n80/X-n101/X-n303, cheapest arc on X-n502), so
    # each gets a short GLS run and the best one continues with the rest of the budget.
    portfolio = overrides.pop("portfolio", None)
    portfolio_fraction = float(overrides.pop("portfolio_fraction", PORTFOLIO_FRACTION))
    if (portfolio is None and start_routes is None and ils_temperature is None
            and "first_solution_strategy" not in (guidance.search or {})):
        portfolio = PORTFOLIO if not instance.has_time_windows else None
    share = portfolio_fraction * max(deadline - stop.now(), 0.0)
    if portfolio and start_routes is None and share >= PORTFOLIO_MIN_SHARE_S:
        best: tuple[float, list[list[int]], str] | None = None
        for strategy in portfolio:
            found, used, value = _run(instance, objective, soft, [strategy], overrides, guidance, None, stop,
                                      min(stop.now() + share, deadline), report, ils_temperature=ils_temperature)
            if found is not None and (best is None or value < best[0]):
                best = (value, found, strategy)
        config["portfolio"] = list(portfolio)
        if best is not None:
            start_routes, strategies = best[1], [best[2]]
    found, used, value = _run(instance, objective, soft, strategies, overrides, guidance, start_routes, stop, deadline,
                              report, ils_temperature=ils_temperature)
    if best_routes is not None and (found is None or best_value < value):
        found = best_routes
    config["first_solution_strategy"] = used
    config["search_overrides"] = overrides
    routes = found
    if routes is None and start_routes is not None:
        routes = start_routes  # the phase-1 / warm-start routes are still a plan; the checker judges them
    if routes is None:
        diagnosis = quick_causes(instance) or no_solution_causes(instance, seconds=stop.seconds)
        if instance.has_time_windows and not soft:
            late = _late_orders_with_soft_windows(instance, max(1.0, min(5.0, stop.seconds / 4)))
            if late:
                diagnosis = no_solution_causes(instance, late_orders=late)
        return empty("no_solution", diagnosis)
    if parts is not None:
        routes = _improve_by_parts(instance, routes, parts, overrides, stop, final_deadline, report, seed, config)
    result = build_result(instance, routes, solver="ortools", objective=objective,
                          runtime_s=time.perf_counter() - t0 + guidance.prepare_seconds, soft_windows=soft,
                          history=history, config=config, seed=seed,
                          objective_value=history[-1][1] if history else None)
    if not result.feasible:
        log.warning("OR-Tools plan for %s failed the independent check: %s", instance.name, result.violations)
    return result


def _decompose_settings(raw: Any, instance: RoutingInstance, objective: str,
                        config: dict[str, Any]) -> DecomposeSettings | None:
    """The ``decompose`` search override, checked; ``None`` where it is off or does not apply."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise DiaoduError(f"decompose must be an object with share, customers, part_seconds; got {raw!r}")
    settings = DecomposeSettings.from_dict(raw)
    if objective != "distance":
        # a part is judged by its distance; the other objectives also weigh lateness, vehicles or spans
        config["decompose"] = f"not used for objective {objective!r}"
        return None
    return settings


def _improve_by_parts(instance: RoutingInstance, routes: list[list[int]], parts: DecomposeSettings,
                      overrides: dict[str, Any], stop: MaxRuntime, deadline: float,
                      report: Callable[[float], None], seed: int, config: dict[str, Any]) -> list[list[int]]:
    """Re-optimise a few neighbouring routes at a time as an instance of their own until ``deadline``.

    Each part is searched by guided local search from its current routes with as many vehicles as it
    had routes, or (``parts.ils_temperature`` set) by iterated local search from scratch with one spare
    vehicle where the fleet has one, so the whole plan stays feasible; a part's new routes replace the
    old ones only when they cost less.
    """
    rng = np.random.default_rng(seed)
    routes = [list(r) for r in routes if r]
    total = plan_cost(routes, instance.distance)
    tried = improved = 0
    saved = 0
    while deadline - stop.now() > 0.25 and routes:
        chosen = sweep_part(instance.coords, routes, parts.customers, rng)
        nodes = [v for k in chosen for v in routes[k]]
        part_end = min(stop.now() + parts.part_seconds, deadline)
        start: list[list[int]] | None = None
        ils: float | None = None
        if parts.ils_temperature is None:
            sub = instance.subset(nodes, len(chosen))
            local = {v: i + 1 for i, v in enumerate(nodes)}
            start = [[local[v] for v in routes[k]] for k in chosen]
        else:
            # from scratch (OR-Tools cannot warm-start iterated local search): a spare vehicle, where the
            # fleet has one, keeps a tightly loaded part from failing to find any first plan
            spare = 1 if len(routes) < instance.num_vehicles else 0
            sub = instance.subset(nodes, len(chosen) + spare)
            ils = parts.ils_temperature * mean_nearest_arc(sub)
        found, _, _ = _run(sub, "distance", False, first_strategies(sub, "distance"), overrides, Guidance(), start,
                           stop, part_end, None, ils_temperature=ils)
        tried += 1
        if found is None:
            continue
        new = [[nodes[v - 1] for v in r] for r in found if r]
        gain = plan_cost([routes[k] for k in chosen], instance.distance) - plan_cost(new, instance.distance)
        if gain > 0:
            routes = [r for k, r in enumerate(routes) if k not in set(chosen)] + new
            total -= gain
            saved += gain
            improved += 1
            report(total / instance.dist_scale)
    config["decompose"] = {"share": parts.share, "customers": parts.customers, "part_seconds": parts.part_seconds,
                           "part_search": "guided" if parts.ils_temperature is None else "iterated",
                           "parts_searched": tried, "parts_improved": improved,
                           "saved": round(saved / instance.dist_scale, 3)}
    return routes


def _run(instance: RoutingInstance, objective: str, soft: bool, strategies: list[str], overrides: dict[str, Any],
         guidance: Guidance, start_routes: list[list[int]] | None, stop: MaxRuntime, deadline: float,
         report: Callable[[float], None] | None, cost_matrix: np.ndarray | None = None,
         ils_temperature: float | None = None) -> tuple[list[list[int]] | None, str | None, float]:
    """Build a model per strategy until one finds a solution before ``deadline``; return node routes.

    With ``ils_temperature`` set, a search without ``start_routes`` is iterated local search (which
    OR-Tools cannot warm-start; a search from a plan stays guided local search).
    """
    candidates = guidance.candidate_successors
    for k, strategy in enumerate(strategies):
        for attempt_candidates in ([candidates, None] if candidates is not None else [None]):
            remaining = deadline - stop.now()
            if remaining <= 0.05 and k > 0:
                return None, None, float("inf")
            # a plan beats no plan: the first strategy always gets a short try (on all arcs too)
            remaining = max(remaining, 0.2)
            model = build_model(instance, objective, soft, cost_matrix=cost_matrix, candidates=attempt_candidates)
            routing = model.routing
            _watch(routing, instance, stop, deadline, report)
            ils = ils_temperature if start_routes is None else None
            # CPU budgets: the at-solution callback ends the search on the CPU clock, with a wall-clock
            # backstop. Iterated local search does not stop from a callback (its outer loop restarts
            # the local search), so it gets the remaining CPU budget as its wall limit: never more CPU
            # than the budget, less when the machine is busy
            wall = remaining if stop.clock == "wall" or ils is not None else remaining * 10 + 10
            params = search_parameters(strategy, max(wall, 0.05), overrides, ils_temperature=ils)
            solution = None
            if ils is not None:
                solution = routing.SolveWithIteratedLocalSearch(params)
            elif start_routes is not None:
                initial = routing.ReadAssignmentFromRoutes(_pad(start_routes, instance.num_vehicles), True)
                if initial is None:
                    log.warning("warm-start routes are not a valid assignment for %s; starting from scratch",
                                instance.name)
                else:
                    solution = routing.SolveFromAssignmentWithParameters(initial, params)
            if solution is None:
                solution = routing.SolveWithParameters(params)
            if solution is not None:
                return extract_routes(model, solution), strategy, float(solution.ObjectiveValue())
            # the pruned arc set may be what blocks a first solution: the next attempt uses all arcs
            log.info("OR-Tools %s found no solution for %s (status %s, candidates %s)", strategy, instance.name,
                     routing.status(), attempt_candidates is not None)
    return None, None, float("inf")


def mean_nearest_arc(instance: RoutingInstance) -> float:
    """The mean cost from each customer to its nearest other customer (model units): a scale for ILS."""
    d = np.array(instance.distance[1:, 1:], dtype=float)
    if len(d) < 2:
        return 1.0
    np.fill_diagonal(d, np.inf)
    return max(float(d.min(axis=1).mean()), 1.0)


def _watch(routing: pywrapcp.RoutingModel, instance: RoutingInstance, stop: MaxRuntime, deadline: float,
           report: Callable[[float], None] | None) -> None:
    """Report each solution's cost and end the search at ``deadline`` on the stop's clock."""
    scale = instance.dist_scale

    def on_solution() -> None:
        if report is not None:
            report(routing.CostVar().Max() / scale)
        if stop.clock == "cpu" and stop.now() >= deadline:
            routing.solver().FinishCurrentSearch()

    routing.AddAtSolutionCallback(on_solution)


def _pad(routes: list[list[int]], vehicles: int) -> list[list[int]]:
    routes = [list(map(int, r)) for r in routes if r]
    if len(routes) > vehicles:
        return routes  # ReadAssignmentFromRoutes rejects it; logged by the caller
    return routes + [[] for _ in range(vehicles - len(routes))]


def search_parameters(strategy: str, seconds: float, overrides: dict[str, Any] | None = None,
                      ils_temperature: float | None = None) -> Any:
    """Search parameters: ``strategy`` first, guided local search, a wall-clock limit, overrides.

    With ``ils_temperature`` set, the parameters of iterated local search instead (for
    ``RoutingModel.SolveWithIteratedLocalSearch``): SISR ruin (Christiaens and Vanden Berghe's slack
    induction by string removals), local cheapest insertion to recreate, and simulated-annealing
    acceptance starting at that temperature (0: OR-Tools' automatic temperatures).
    """
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(FSS, strategy)
    params.local_search_metaheuristic = LSM.GUIDED_LOCAL_SEARCH
    if ils_temperature is not None:
        params.local_search_metaheuristic = LSM.GREEDY_DESCENT  # the perturbation is the ruin, not GLS
        ils = params.iterated_local_search_parameters
        ruin = ils.ruin_recreate_parameters
        sisr = ruin.ruin_strategies.add().sisr
        sisr.max_removed_sequence_size, sisr.avg_num_removed_visits, sisr.bypass_factor = ILS_SISR
        ruin.ruin_composition_strategy = routing_ils_pb2.RuinCompositionStrategy.RUN_ONE_RANDOMLY
        ruin.recreate_strategy.heuristic = FSS.LOCAL_CHEAPEST_INSERTION
        annealing = ils.reference_solution_acceptance_strategy.simulated_annealing
        annealing.cooling_schedule_strategy = routing_ils_pb2.CoolingScheduleStrategy.EXPONENTIAL
        if ils_temperature > 0:
            annealing.initial_temperature, annealing.final_temperature = ils_temperature, 0.01
        else:
            annealing.automatic_temperatures = True
    params.time_limit.FromMilliseconds(max(int(seconds * 1000), 50))
    params.log_search = False
    for key, value in (overrides or {}).items():
        if key == "local_search_metaheuristic" and isinstance(value, str):
            params.local_search_metaheuristic = getattr(LSM, value)
        elif key == "first_solution_strategy" and isinstance(value, str):
            params.first_solution_strategy = getattr(FSS, value)
        elif hasattr(params, key):
            setattr(params, key, value)
        else:
            raise DiaoduError(f"unknown OR-Tools search parameter {key!r}")
    return params


def build_model(instance: RoutingInstance, objective: str = "distance", soft: bool = False, *,
                cost_matrix: np.ndarray | None = None, candidates: list[list[int]] | None = None) -> _Model:
    """The OR-Tools model of ``instance`` for ``objective`` (arc costs from ``cost_matrix`` if given)."""
    inst = instance
    n1, V = inst.num_nodes, inst.num_vehicles
    manager = pywrapcp.RoutingIndexManager(n1, V, 0)
    routing = pywrapcp.RoutingModel(manager)
    keep: list[Any] = []

    cost = cost_matrix if cost_matrix is not None else inst.distance
    cost_cb = routing.RegisterTransitMatrix(cost.astype(np.int64).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)

    demand_cb = routing.RegisterUnaryTransitVector([int(d) for d in inst.demand])
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [int(inst.capacity)] * V, True, "Capacity")

    if inst.has_time_windows:
        assert inst.ready is not None and inst.due is not None and inst.service is not None
        # transit i -> j = service at i + travel i -> j
        travel = inst.duration + inst.service[:, None]
        time_cb = routing.RegisterTransitMatrix(travel.astype(np.int64).tolist())
        horizon = int(inst.due[0])
        cap = horizon if not soft else horizon + int(travel.max()) * (n1 + 1)
        routing.AddDimension(time_cb, cap, cap, False, "Time")
        tdim = routing.GetDimensionOrDie("Time")
        penalty = max(1, round(LATENESS_WEIGHT * inst.dist_scale / inst.time_scale))
        for node in range(1, n1):
            idx = manager.NodeToIndex(node)
            if soft:
                tdim.CumulVar(idx).SetMin(int(inst.ready[node]))
                tdim.SetCumulVarSoftUpperBound(idx, int(inst.due[node]), penalty)
            else:
                tdim.CumulVar(idx).SetRange(int(inst.ready[node]), int(inst.due[node]))
        for v in range(V):
            start, end = routing.Start(v), routing.End(v)
            tdim.CumulVar(start).SetRange(int(inst.ready[0]), horizon)
            if soft:
                tdim.CumulVar(end).SetMin(int(inst.ready[0]))
                tdim.SetCumulVarSoftUpperBound(end, horizon, penalty)
            else:
                tdim.CumulVar(end).SetRange(int(inst.ready[0]), horizon)
            routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(start))
            routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(end))

    if objective == "vehicles":
        # above the cost of any plan (every customer on its own route), so fewer vehicles always win
        fixed = int(inst.distance[0].sum() + inst.distance[:, 0].sum()) + 1
        routing.SetFixedCostOfAllVehicles(fixed)
    elif objective == "balance":
        dist_cb = routing.RegisterTransitMatrix(inst.distance.astype(np.int64).tolist())
        routing.AddDimension(dist_cb, 0, int(inst.distance.sum()) + 1, True, "Distance")
        routing.GetDimensionOrDie("Distance").SetGlobalSpanCostCoefficient(BALANCE_SPAN_COEFFICIENT)

    if candidates is not None:
        apply_candidates(manager, routing, candidates, n1)
    return _Model(manager, routing, keep)


def apply_candidates(manager: pywrapcp.RoutingIndexManager, routing: pywrapcp.RoutingModel,
                     candidates: list[list[int]], n1: int) -> int:
    """Remove customer -> customer arcs not in ``candidates[i]``; depot arcs always stay.

    Returns the number of arcs removed. A candidate list is made symmetric first (if j may follow
    i, i may follow j), which keeps reversed route segments legal for the local search.
    """
    if len(candidates) != n1:
        raise DiaoduError(f"guidance candidate_successors has {len(candidates)} lists; expected {n1} (one per node)")
    allowed = [set() for _ in range(n1)]  # type: list[set[int]]
    for i, succ in enumerate(candidates):
        for j in succ:
            j = int(j)
            if 0 < j < n1 and j != i:
                allowed[i].add(j)
                allowed[j].add(i)
    removed = 0
    for i in range(1, n1):
        drop = [manager.NodeToIndex(j) for j in range(1, n1) if j != i and j not in allowed[i]]
        if drop:
            routing.NextVar(manager.NodeToIndex(i)).RemoveValues(drop)
            removed += len(drop)
    return removed


def extract_routes(model: _Model, solution: Any) -> list[list[int]]:
    """Node routes (customers only, depot implicit), one list per vehicle (empty when unused)."""
    manager, routing = model.manager, model.routing
    routes: list[list[int]] = []
    for v in range(routing.vehicles()):
        idx = routing.Start(v)
        route: list[int] = []
        idx = solution.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            route.append(manager.IndexToNode(idx))
            idx = solution.Value(routing.NextVar(idx))
        routes.append(route)
    return routes


def _late_orders_with_soft_windows(instance: RoutingInstance, seconds: float) -> list[int]:
    """Order ids that the best soft-window plan (found in ``seconds``) serves late."""
    model = build_model(instance, "lateness", True)
    params = search_parameters("PARALLEL_CHEAPEST_INSERTION", seconds)
    solution = model.routing.SolveWithParameters(params)
    if solution is None:
        return []
    res = build_result(instance, extract_routes(model, solution), solver="ortools", objective="lateness",
                       runtime_s=0.0, soft_windows=True)
    return sorted(cid for r in res.routes for cid in r.late)
