"""Scoring of hand-made predictions, bad suite lines, and the predictions file round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.metrics import score, values_match
from evals.suite import load_suite, read_predictions, write_predictions

SUITE = Path(__file__).parent / "data" / "mini_suite.jsonl"


@pytest.fixture(scope="module")
def suite():
    scenarios, errors = load_suite(SUITE)
    return scenarios, errors


def _perfect(scenarios):
    preds = {}
    for sc in scenarios:
        turns = []
        for t in sc.turns:
            calls = [{"tool": c["tool"], "args": dict(c["args"]), "ok": True, "result": {"facts": {"cost": 12}}} for c in t.expect]
            turns.append({"calls": calls, "answer": "Done: cost 12.", "latency_s": 0.5})
        preds[sc.id] = {"id": sc.id, "turns": turns}
    return preds


def test_bad_lines_are_reported_with_line_numbers_and_the_rest_loads(suite):
    scenarios, errors = suite
    assert [s.id for s in scenarios] == ["en-017", "zh-001", "zh-002"]
    by_line = {e.line: e.message for e in errors}
    assert set(by_line) == {3, 4, 5}
    assert "invalid JSON" in by_line[3]
    assert "fly_drone" in by_line[4] and "plan_routes" in by_line[4]
    assert "meteor" in by_line[5] and "vehicle_breakdown" in by_line[5]


def test_perfect_predictions_score_one(suite):
    scenarios, _ = suite
    m = score(scenarios, _perfect(scenarios))
    assert m["turns"] == 5
    assert m["turn_accuracy"] == 1.0 and m["scenario_accuracy"] == 1.0 and m["tool_accuracy"] == 1.0
    assert m["faithfulness"] == 1.0
    assert m["confusion"]["none"] == {"none": 1}
    assert m["argument_accuracy"]["plan_routes.num_vehicles"] == {"n": 1, "accuracy": 1.0}
    assert m["failures"] == []


def test_empty_predictions_score_zero_except_no_tool_turns(suite):
    scenarios, _ = suite
    m = score(scenarios, {})
    # only "thanks!" (expect []) is right when nothing is called
    assert m["turn_accuracy"] == pytest.approx(1 / 5, abs=1e-3)
    assert m["scenario_accuracy"] == 0.0
    assert m["faithfulness"] is None
    assert len(m["failures"]) == 4


def test_partly_wrong_predictions(suite):
    scenarios, _ = suite
    preds = _perfect(scenarios)
    # wrong vehicle on turn 2 of en-017; wrong tool on zh-002; an invented number in zh-001's answer
    preds["en-017"]["turns"][1]["calls"][0]["args"]["vehicle"] = 5
    preds["zh-002"]["turns"][0]["calls"] = [{"tool": "plan_routes", "args": {"dataset": "ft06"}, "ok": False, "result": {}}]
    preds["zh-001"]["turns"][0]["answer"] = "建议封闭 800 米范围。"
    m = score(scenarios, preds)
    assert m["turn_accuracy"] == pytest.approx(3 / 5, abs=1e-3)
    assert m["tool_accuracy"] == pytest.approx(4 / 5, abs=1e-3)
    assert m["scenario_accuracy"] == pytest.approx(1 / 3, abs=1e-3)
    assert m["argument_accuracy"]["replan.vehicle"]["accuracy"] == 0.0
    assert m["confusion"]["schedule_jobs"] == {"plan_routes": 1}
    # zh-001 invents 800; zh-002 still says "cost 12" though its (wrong) call returned nothing
    assert m["faithfulness"] == pytest.approx(3 / 5, abs=1e-3)
    assert m["by_language"]["zh"]["turn_accuracy"] == pytest.approx(1 / 2, abs=1e-3)


def test_value_rules_follow_the_spec():
    assert values_match("X-n101-K25 ", "x-n101-k25")
    assert values_match(30, 30.0)
    assert values_match([1, 2], [1, 2]) and not values_match([1, 2], [2, 1])
    assert not values_match(4, "4")


def test_predictions_round_trip(tmp_path, suite):
    scenarios, _ = suite
    preds = _perfect(scenarios)
    path = tmp_path / "p.jsonl"
    write_predictions(path, list(preds.values()))
    back, errors = read_predictions(path)
    assert errors == [] and back == json.loads(json.dumps(preds))
    assert score(scenarios, back)["turn_accuracy"] == 1.0
