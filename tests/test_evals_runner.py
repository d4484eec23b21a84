"""The suite runner end to end: real graph and real tools; the model is a ScriptedChatModel
(fixed outputs) except in the Ray test, which runs the shipped model when it is present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.backends import ARTIFACTS, ScriptedChatModel
from assistant.service import Assistant
from evals.cli import evaluate
from evals.runner import RunConfig
from evals.suite import read_predictions

SUITE = [
    {"id": "s1", "lang": "en", "turns": [
        {"user": "schedule demo-shop with the SPT rule", "expect": [{"tool": "schedule_jobs", "args": {"dataset": "demo-shop", "method": "spt"}}]},
        {"user": "thanks", "expect": []}]},
    {"id": "s2", "lang": "zh", "turns": [
        {"user": "用 FIFO 排一下 demo-shop", "expect": [{"tool": "schedule_jobs", "args": {"dataset": "demo-shop", "method": "fifo"}}]}]},
]


def _write_suite(tmp_path: Path) -> Path:
    path = tmp_path / "suite.jsonl"
    path.write_text("\n".join(json.dumps(s, ensure_ascii=False) for s in SUITE) + "\n{broken\n", encoding="utf-8")
    return path


def _scripted() -> Assistant:
    from langgraph.checkpoint.memory import InMemorySaver

    call = '<tool_call>{{"name": "schedule_jobs", "arguments": {{"dataset": "demo-shop", "method": "{m}"}}}}</tool_call>'
    # s1: call, answer, small talk; s2: the wrong tool (grounding repairs arguments, not the tool), answer
    wrong = '<tool_call>{"name": "search_emergency_cases", "arguments": {"query": "demo-shop"}}</tool_call>'
    outputs = [call.format(m="spt"), "Done.", "You're welcome!", wrong, "完成。"]
    return Assistant(ScriptedChatModel(outputs), checkpointer=InMemorySaver(), max_tool_seconds=1.0)


def test_runner_writes_predictions_and_report_and_scores(tmp_path):
    suite = _write_suite(tmp_path)
    preds, report = tmp_path / "p.jsonl", tmp_path / "r.html"
    m = evaluate(str(suite), RunConfig(), predictions_out=str(preds), report=str(report), show_progress=False,
                 assistant_factory=_scripted)
    assert m["bad_lines"] and m["bad_lines"][0]["line"] == 3
    assert m["turns"] == 3 and m["turn_accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert m["by_language"]["zh"]["turn_accuracy"] == 0.0
    back, errors = read_predictions(preds)
    assert errors == [] and set(back) == {"s1", "s2"}
    first = back["s1"]["turns"][0]["calls"][0]
    assert first["tool"] == "schedule_jobs" and first["ok"] is True and first["result"]["facts"]["makespan"] > 0
    assert "Tool confusion" in report.read_text(encoding="utf-8")


@pytest.mark.skipif(not (ARTIFACTS / "student").is_dir(), reason="no shipped student model yet")
def test_ray_local_cluster_runs_the_suite(tmp_path):
    pytest.importorskip("ray")
    suite = _write_suite(tmp_path)
    m = evaluate(str(suite), RunConfig(model=str(ARTIFACTS / "student"), max_tool_seconds=1.0), ray_address="local",
                 show_progress=False)
    assert m["scenarios"] == 2 and m["turns"] == 3 and m["config"]["ray"] == "local"
