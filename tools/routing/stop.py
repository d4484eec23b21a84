"""Explicit stopping criteria for the routing solvers (PyVRP style: ``solve(instance, stop, seed)``)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tools.core.errors import check_choice, check_number

CLOCKS = ("wall", "cpu")


@dataclass(frozen=True)
class MaxRuntime:
    """Stop after ``seconds`` (guidance preparation included).

    ``clock="wall"`` (the default, what a dispatcher waits) counts wall-clock time. ``clock="cpu"``
    counts this process's CPU time, so that benchmark figures do not depend on how busy a shared
    machine is (both solvers are single-threaded, so CPU time is their own work).
    """

    seconds: float
    clock: str = "wall"

    def __post_init__(self) -> None:
        check_number("time limit (seconds)", self.seconds, minimum=0.01, maximum=24 * 3600)
        check_choice("clock", self.clock, CLOCKS)

    def now(self) -> float:
        """The current reading of this criterion's clock."""
        return time.process_time() if self.clock == "cpu" else time.perf_counter()

    @property
    def wall_cap(self) -> float:
        """Wall-clock seconds to allow the solver: the budget, or a generous cap for CPU budgets."""
        return self.seconds if self.clock == "wall" else self.seconds * 10 + 10
