"""Scoring predictions against a suite: accuracy, arguments, confusion, faithfulness, latency."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import numpy as np

from assistant.faithfulness import unbacked_numbers
from evals.suite import Scenario

NONE = "none"


def values_match(expected: Any, got: Any) -> bool:
    """Spec rules: strings case-insensitive after trimming, numbers by value, lists in order."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return expected is got
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        return float(expected) == float(got)
    if isinstance(expected, str) and isinstance(got, str):
        return expected.strip().lower() == got.strip().lower()
    if isinstance(expected, list) and isinstance(got, list):
        return len(expected) == len(got) and all(values_match(e, g) for e, g in zip(expected, got, strict=True))
    return bool(expected == got)


def call_matches(expected: dict[str, Any], got: dict[str, Any]) -> bool:
    if expected["tool"] != got.get("tool"):
        return False
    args = got.get("args") or {}
    return all(k in args and values_match(v, args[k]) for k, v in expected["args"].items())


def turn_correct(expect: list[dict[str, Any]], calls: list[dict[str, Any]]) -> bool:
    return len(expect) == len(calls) and all(call_matches(e, c) for e, c in zip(expect, calls, strict=True))


def _label(calls: list[dict[str, Any]], key: str) -> str:
    return str(calls[0][key]) if calls else NONE


def _pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 4) if values else None


def score(scenarios: list[Scenario], predictions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """All metrics of a run; a scenario with no prediction counts as wrong everywhere."""
    turns_total = turns_ok = tools_ok = 0
    model_turns = model_ok = 0
    scen_ok = 0
    by_lang: dict[str, Counter] = defaultdict(Counter)
    by_tool: dict[str, Counter] = defaultdict(Counter)
    args_tally: dict[str, Counter] = defaultdict(Counter)
    confusion: dict[str, Counter] = defaultdict(Counter)
    latencies: list[float] = []
    faithful = answered = 0
    mentions_ok = mentions_total = 0
    gaps: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for sc in scenarios:
        pred_turns = (predictions.get(sc.id) or {}).get("turns") or []
        all_ok = True
        users: list[str] = []
        for i, turn in enumerate(sc.turns):
            users.append(turn.user)
            pred = pred_turns[i] if i < len(pred_turns) and isinstance(pred_turns[i], dict) else {}
            calls = [c for c in (pred.get("calls") or []) if isinstance(c, dict)]
            ok = turn_correct(turn.expect, calls)
            if isinstance(pred.get("model_calls"), list):  # the model's own calls, before grounding
                model_turns += 1
                alone = turn_correct(turn.expect, pred["model_calls"])
                model_ok += alone
                by_lang[sc.lang].update({"model_ok": alone, "model_turns": 1})
            tool_ok = [e["tool"] for e in turn.expect] == [c.get("tool") for c in calls]
            turns_total += 1
            turns_ok += ok
            tools_ok += tool_ok
            all_ok &= ok
            exp_label = _label(turn.expect, "tool")
            got_label = _label(calls, "tool")
            by_lang[sc.lang].update({"turns": 1, "ok": ok, "tool_ok": tool_ok})
            by_tool[exp_label].update({"turns": 1, "ok": ok, "tool_ok": tool_ok})
            confusion[exp_label][got_label] += 1
            for j, e in enumerate(turn.expect):
                got = calls[j] if j < len(calls) else {}
                for k, v in e["args"].items():
                    hit = got.get("tool") == e["tool"] and k in (got.get("args") or {}) and values_match(v, got["args"][k])
                    args_tally[f"{e['tool']}.{k}"].update({"n": 1, "ok": hit})
            if isinstance(pred.get("latency_s"), (int, float)):
                latencies.append(float(pred["latency_s"]))
            answer = pred.get("answer")
            faithful_turn = True
            if isinstance(answer, str) and answer.strip():
                answered += 1
                results = [c.get("result") for t in pred_turns[: i + 1] if isinstance(t, dict) for c in t.get("calls") or []]
                results += [c.get("args") for c in calls]
                faithful_turn = not unbacked_numbers(answer, results, users)
                faithful += faithful_turn
            for m in turn.answer_mentions:
                mentions_total += 1
                mentions_ok += isinstance(answer, str) and m.lower() in answer.lower()
            for c in calls:
                facts = (c.get("result") or {}).get("facts") or {}
                if isinstance(facts, dict) and facts.get("gap_pct") is not None:
                    gaps.append({"scenario": sc.id, "tool": c.get("tool"), "gap_pct": facts["gap_pct"]})
            if not ok or not faithful_turn:
                failures.append({"scenario": sc.id, "turn": i + 1, "lang": sc.lang, "user": turn.user,
                                 "expected": turn.expect,
                                 "got": [{"tool": c.get("tool"), "args": c.get("args"), "ok": c.get("ok")} for c in calls],
                                 "answer": answer, "faithful": faithful_turn,
                                 "model_output": pred.get("raw")})
        scen_ok += all_ok

    def rate(c: Counter, key: str = "ok", n: str = "turns") -> float | None:
        return round(c[key] / c[n], 4) if c[n] else None

    return {
        "scenarios": len(scenarios),
        "turns": turns_total,
        "turn_accuracy": round(turns_ok / turns_total, 4) if turns_total else None,
        "scenario_accuracy": round(scen_ok / len(scenarios), 4) if scenarios else None,
        "tool_accuracy": round(tools_ok / turns_total, 4) if turns_total else None,
        "model_alone_turn_accuracy": round(model_ok / model_turns, 4) if model_turns else None,
        "by_language": {k: {"turns": v["turns"], "turn_accuracy": rate(v), "tool_accuracy": rate(v, "tool_ok"),
                            "model_alone_turn_accuracy": rate(v, "model_ok", "model_turns")} for k, v in sorted(by_lang.items())},
        "by_tool": {k: {"turns": v["turns"], "turn_accuracy": rate(v), "tool_accuracy": rate(v, "tool_ok")} for k, v in sorted(by_tool.items())},
        "argument_accuracy": {k: {"n": v["n"], "accuracy": rate(v, "ok", "n")} for k, v in sorted(args_tally.items())},
        "confusion": {k: dict(v) for k, v in sorted(confusion.items())},
        "faithfulness": round(faithful / answered, 4) if answered else None,
        "answers": answered,
        "answer_mentions": round(mentions_ok / mentions_total, 4) if mentions_total else None,
        "latency_p50_s": _pct(latencies, 50),
        "latency_p95_s": _pct(latencies, 95),
        "solver_gaps": gaps,
        "mean_solver_gap_pct": round(float(np.mean([g["gap_pct"] for g in gaps])), 3) if gaps else None,
        "failures": failures,
    }
