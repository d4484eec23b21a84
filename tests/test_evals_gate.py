"""The regression gate: the shipped model, through the real assistant, on the gate suite.

Fails when turn accuracy falls below the threshold kept in ``evals/gate.json``. The
threshold sits a little under the measured figure, so a real regression trips it and run-to-
run noise (solver budgets, thread scheduling) does not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.backends import ARTIFACTS
from evals.cli import evaluate
from evals.runner import RunConfig

GATE = json.loads((Path(__file__).resolve().parents[1] / "evals" / "gate.json").read_text())


@pytest.mark.skipif(not (ARTIFACTS / GATE["model"]).is_dir(), reason=f"no shipped {GATE['model']} model")
def test_gate_suite_accuracy_stays_above_threshold():
    m = evaluate(GATE["suite"], RunConfig(model=str(ARTIFACTS / GATE["model"]), max_tool_seconds=GATE["max_tool_seconds"]),
                 show_progress=False)
    assert m["bad_lines"] == []
    assert m["faithfulness"] == 1.0, "an answer cited a number no tool or user gave"
    assert m["turn_accuracy"] >= GATE["min_turn_accuracy"], m["failures"][:5]
    assert m["tool_accuracy"] >= GATE["min_tool_accuracy"], m["failures"][:5]
