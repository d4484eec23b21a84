"""The intent router (a real, shipped classifier) and how the graph uses it.

Graph tests use ScriptedChatModel (fixed outputs, not a real model): the point is the wiring,
that a confident router has the model decode the call again under the router's tool's schema.
"""

from __future__ import annotations

import json

import pytest

from assistant.backends import ScriptedChatModel, call_schema
from assistant.intent import LABELS, default_router, examples, previous_tool
from assistant.service import Assistant
from tools.core.errors import DiaoduError


def call(name: str, **args) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': args})}</tool_call>"


@pytest.fixture(scope="module")
def router():
    r = default_router()
    assert r is not None, "the shipped router weights are missing"
    return r


@pytest.mark.parametrize(("text", "tool"), [
    ("route demo-city with 9 vans", "plan_routes"),
    ("truck 4 broke down at 10:30", "replan"),
    ("could order 12 go on van 3 instead?", "explain_plan"),
    ("schedule ft06 with CP-SAT", "schedule_jobs"),
    ("a tanker is leaking on the G15 ramp, what's the protocol", "search_emergency_cases"),
    ("写首诗给我", "none"),
    ("3号车抛锚了", "replan"),
    ("把12号单挪到3号车会怎样", "explain_plan"),
])
def test_router_picks_the_tool(router, text, tool):
    label, p = router.predict(text, [{"role": "user", "content": text}])
    assert label == tool, (text, label, p)


def test_router_uses_the_previous_turn(router):
    # "with 8" after a routing turn is a rerun; the same words with no context are not
    msgs = [{"role": "user", "content": "route demo-city"},
            {"role": "assistant", "content": call("plan_routes", dataset="demo-city")},
            {"role": "tool", "content": "{}"}, {"role": "assistant", "content": "Planned."},
            {"role": "user", "content": "now try it with 8"}]
    assert previous_tool(msgs) == "plan_routes"
    assert router.predict("now try it with 8", msgs)[0] == "plan_routes"
    assert previous_tool([{"role": "user", "content": "hi"}]) == "none"


def test_router_probabilities_sum_to_one(router):
    probs = router.probabilities("plan X-n101-k25")
    assert set(probs) == set(LABELS) and abs(sum(probs.values()) - 1) < 1e-5


def test_router_examples_label_every_user_turn():
    rows = [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello"},
                          {"role": "user", "content": "route demo-city"},
                          {"role": "assistant", "tool_calls": [{"name": "plan_routes", "arguments": {"dataset": "demo-city"}}]}]}]
    texts, prevs, labels = examples(rows)
    assert labels == ["none", "plan_routes"] and prevs == ["none", "none"] and texts[1] == "route demo-city"


def test_single_tool_schema():
    schema = call_schema("replan")
    assert schema["properties"]["name"] == {"const": "replan"}
    with pytest.raises(DiaoduError, match="unknown tool 'nope'"):
        call_schema("nope")


def test_confident_router_has_the_model_decode_again_under_its_tool():
    # turn 1 plans demo-small; in turn 2 the model calls replan for a what-if question, the router
    # is sure it is explain_plan, so the model is asked again for an explain_plan call
    model = ScriptedChatModel([call("plan_routes", dataset="demo-small", time_limit_s=1), "Planned.",
                               call("replan", event="new_orders", orders=[5]),
                               call("explain_plan", question="what_if_move", order=5, vehicle=2), "Checked."])
    a = Assistant(model, max_tool_seconds=1)
    first = a.ask("route demo-small")
    r = a.ask("Move order 5 to truck 2, is that feasible?", thread_id=first["thread_id"])
    assert any("intent router says explain_plan" in g for g in r["grounding"])
    assert r["model_calls"] == [{"tool": "replan", "args": {"event": "new_orders", "orders": [5]}}]
    assert [(c["tool"], c["args"]["question"]) for c in r["calls"]] == [("explain_plan", "what_if_move")]


def test_router_does_not_override_a_dataset_the_user_named():
    # "plan demo-small" names a routing dataset: whatever the router thinks, routing stays
    model = ScriptedChatModel([call("plan_routes", dataset="demo-small", time_limit_s=1), "ok"])
    r = Assistant(model, max_tool_seconds=1).ask("plan demo-small")
    assert not any("intent router" in g for g in r.get("grounding", []))
    assert [c["tool"] for c in r["calls"]] == ["plan_routes"]


def test_fixed_argument_schema():
    schema = call_schema("explain_plan", {"question": "summary"})
    args = schema["arguments"] if "arguments" in schema else schema["properties"]["arguments"]
    assert args["properties"]["question"] == {"const": "summary"} and "question" in args["required"]
    # property order is the contract's (the grammar emits keys in this order, as the model was trained)
    assert list(schema["properties"]) == ["name", "arguments"]


def test_router_fixes_the_question_of_an_explain_call():
    # the model asks for a cost breakdown where the user wants the summary; the router is sure of the question
    model = ScriptedChatModel([call("plan_routes", dataset="demo-small", time_limit_s=1), "Planned.",
                               call("explain_plan", question="cost_breakdown"),
                               call("explain_plan", question="summary"), "Summary."])
    a = Assistant(model, max_tool_seconds=1)
    first = a.ask("route demo-small")
    r = a.ask("give me an overview of the plan", thread_id=first["thread_id"])
    assert any("question=summary" in g for g in r["grounding"]), r["grounding"]
    assert [c["args"]["question"] for c in r["calls"]] == ["summary"]


def test_real_model_decodes_a_forced_call_in_contract_order():
    from assistant.backends import InprocChatModel
    from finetune.chatformat import parse_assistant

    model = InprocChatModel(threads=1)
    out = model.complete([{"role": "user", "content": "how does the plan look"}], tool="explain_plan",
                         fixed={"question": "summary"})
    assert out.startswith('<tool_call>{"name": "explain_plan", "arguments": {')
    assert parse_assistant(out).calls[0]["arguments"]["question"] == "summary"
