"""Shared fixtures: every test gets its own workspace so nothing touches ~/.diaodu."""

from __future__ import annotations

import pytest

from tools.core.settings import benchmarks_dir


@pytest.fixture(scope="session", autouse=True)
def shared_knowledge_graph(tmp_path_factory):
    """One knowledge-graph store for the whole run: building it takes a while on two cores,
    and its content does not depend on the workspace. Tests of the store itself set their own."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIAODU_KG_PATH", str(tmp_path_factory.mktemp("kg")))
        yield


@pytest.fixture(autouse=True)
def workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAODU_HOME", str(tmp_path / "ws"))
    return tmp_path / "ws"


requires_benchmarks = pytest.mark.skipif(benchmarks_dir() is None, reason="shared benchmark folder absent (set DIAODU_BENCHMARKS)")
