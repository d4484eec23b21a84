"""Shared fixtures: every test gets its own workspace so nothing touches ~/.diaodu."""

from __future__ import annotations

import pytest

from tools.core.settings import benchmarks_dir


@pytest.fixture(autouse=True)
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAODU_HOME", str(tmp_path / "ws"))
    return tmp_path / "ws"


requires_benchmarks = pytest.mark.skipif(benchmarks_dir() is None, reason="shared benchmark folder absent (set DIAODU_BENCHMARKS)")
