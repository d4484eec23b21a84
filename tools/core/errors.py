"""One error type for everything a user (or the model) can get wrong.

A ``DiaoduError`` carries a message meant for a human: it names the bad value and,
where possible, the allowed ones. The CLI and the agent show it instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches


class DiaoduError(Exception):
    """A clear, user-facing error (bad input, unknown name, infeasible request)."""

    def __init__(self, message: str, *, code: str = "bad_input", details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details or {}

    def to_dict(self) -> dict:
        return {"error": self.message, "code": self.code, **({"details": self.details} if self.details else {})}


def closest(name: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """The candidates closest to ``name`` (case-insensitive), best first."""
    cands = list(candidates)
    lower = {c.lower(): c for c in cands}
    hits = get_close_matches(name.lower(), list(lower), n=n, cutoff=0.4)
    out = [lower[h] for h in hits]
    if not out:  # substring fallback: "n101" -> X-n101-k25
        out = [c for c in cands if name.lower() in c.lower()][:n]
    return out


def unknown_name(kind: str, name: str, candidates: Iterable[str]) -> DiaoduError:
    """An error for an unknown name that lists the closest known ones."""
    near = closest(name, candidates)
    hint = f"; closest: {', '.join(near)}" if near else ""
    return DiaoduError(f"unknown {kind} {name!r}{hint}", code=f"unknown_{kind.replace(' ', '_')}",
                       details={"closest": near})


def check_choice(arg: str, value: object, allowed: Iterable[str]) -> str:
    """Validate an enum-like string argument; the error names the bad value and the allowed ones."""
    allowed = list(allowed)
    if not isinstance(value, str) or value.strip().lower() not in allowed:
        raise DiaoduError(f"{arg} must be one of {', '.join(allowed)}; got {value!r}")
    return value.strip().lower()


def check_int(arg: str, value: object, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Validate an integer argument (bools and non-integral floats are rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and not value.is_integer()):
        raise DiaoduError(f"{arg} must be a whole number; got {value!r}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise DiaoduError(f"{arg} must be at least {minimum}; got {v}")
    if maximum is not None and v > maximum:
        raise DiaoduError(f"{arg} must be at most {maximum}; got {v}")
    return v


def check_number(arg: str, value: object, *, minimum: float | None = None, maximum: float | None = None) -> float:
    """Validate a real-number argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise DiaoduError(f"{arg} must be a number; got {value!r}")
    v = float(value)
    if minimum is not None and v < minimum:
        raise DiaoduError(f"{arg} must be at least {minimum:g}; got {v:g}")
    if maximum is not None and v > maximum:
        raise DiaoduError(f"{arg} must be at most {maximum:g}; got {v:g}")
    return v
