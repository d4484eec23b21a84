"""Where things live: the workspace directory and the shared benchmark folder.

Both are settings, read from the environment each time (so tests and other
processes can point them elsewhere):

- ``DIAODU_HOME``: the workspace (SQLite database of plans and imported datasets);
  default ``~/.diaodu``.
- ``DIAODU_BENCHMARKS``: the benchmark folder (CVRPLIB, Solomon, JSPLIB, ``bks.csv``);
  default ``../shared/benchmarks`` beside the checkout.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]


def workspace_dir() -> Path:
    """The workspace directory, created on first use."""
    path = Path(os.environ.get("DIAODU_HOME") or Path.home() / ".diaodu").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def benchmarks_dir() -> Path | None:
    """The shared benchmark folder, or ``None`` (with a logged warning) when it is absent."""
    env = os.environ.get("DIAODU_BENCHMARKS")
    path = Path(env).expanduser() if env else REPO_ROOT.parent / "shared" / "benchmarks"
    if not path.is_dir():
        log.warning("benchmark folder %s not found (set DIAODU_BENCHMARKS); only demo datasets are available", path)
        return None
    return path


def benchmarks_hint() -> str:
    """A sentence telling the user where benchmarks are looked for."""
    env = os.environ.get("DIAODU_BENCHMARKS")
    where = env or str(REPO_ROOT.parent / "shared" / "benchmarks")
    return f"benchmark folder: {where} ({'found' if Path(where).is_dir() else 'absent; set DIAODU_BENCHMARKS'})"
