"""Explicit stopping criteria for the routing solvers (PyVRP style: ``solve(instance, stop, seed)``)."""

from __future__ import annotations

from dataclasses import dataclass

from tools.core.errors import check_number


@dataclass(frozen=True)
class MaxRuntime:
    """Stop after ``seconds`` of wall-clock time (guidance preparation included)."""

    seconds: float

    def __post_init__(self) -> None:
        check_number("time limit (seconds)", self.seconds, minimum=0.01, maximum=24 * 3600)
