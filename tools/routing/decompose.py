"""Route-based decomposition of a CVRP plan (pure numpy; the adapter runs the searches).

A large instance is hard for OR-Tools' local search: each pass scans every customer, so in a fixed
budget it sees few improving moves. Re-optimising a few neighbouring routes at a time as an
instance of their own is much cheaper per move (Santini, Schneider, Vidal and Vigo, "Decomposition
strategies for vehicle routing heuristics", 2023). Routes are ordered by the polar angle of their
centre around the depot, and a part is a run of consecutive routes from a random start, holding at
least ``customers`` customers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tools.core.errors import DiaoduError


@dataclass(frozen=True)
class DecomposeSettings:
    """How much of the budget goes to re-optimising parts of the plan, and how big each part is."""

    share: float = 1 / 3  # of the solve budget, spent after the main search
    customers: int = 60  # each part holds at least this many customers (whole routes)
    part_seconds: float = 3.0  # the longest search of one part
    # how a part is searched: None, guided local search from its current routes; a number, iterated
    # local search from scratch at this initial temperature (in the part's mean nearest-neighbour arc
    # costs; 0: OR-Tools' automatic temperatures), with one spare vehicle where the fleet has one
    ils_temperature: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.share < 1:
            raise DiaoduError(f"decompose share must be in (0, 1); got {self.share}")
        if self.ils_temperature is not None and not (isinstance(self.ils_temperature, (int, float))
                                                     and self.ils_temperature >= 0):
            raise DiaoduError(f"decompose ils_temperature must be a number >= 0 or null; got {self.ils_temperature!r}")
        if self.customers < 2 or self.part_seconds <= 0:
            raise DiaoduError(f"decompose customers must be >= 2 and part_seconds > 0; got {self.customers} and "
                              f"{self.part_seconds}")

    @classmethod
    def from_dict(cls, raw: dict) -> DecomposeSettings:
        unknown = sorted(set(raw) - {"share", "customers", "part_seconds", "ils_temperature"})
        if unknown:
            raise DiaoduError(f"decompose: unknown keys {unknown}; allowed: share, customers, part_seconds, "
                              "ils_temperature")
        return cls(**raw)


def plan_cost(routes: list[list[int]], distance: np.ndarray) -> int:
    """Total cost of routes from and back to the depot (node 0), in the matrix's units."""
    total = 0
    for r in routes:
        if r:
            seq = [0, *r, 0]
            total += int(distance[seq[:-1], seq[1:]].sum())
    return total


def sweep_part(coords: np.ndarray, routes: list[list[int]], customers: int, rng: np.random.Generator) -> list[int]:
    """Indices of consecutive routes (by the polar angle of their centre) holding >= ``customers`` customers."""
    live = [k for k, r in enumerate(routes) if r]
    if not live:
        return []
    rel = np.asarray(coords, float) - np.asarray(coords, float)[0]
    angle = [math.atan2(*rel[routes[k]].mean(axis=0)[::-1]) for k in live]
    order = [live[i] for i in np.argsort(angle, kind="stable")]
    start = int(rng.integers(len(order)))
    part: list[int] = []
    held = 0
    for step in range(len(order)):
        k = order[(start + step) % len(order)]
        part.append(k)
        held += len(routes[k])
        if held >= customers:
            break
    return part
