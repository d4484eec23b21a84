"""Graph wiring with a scripted chat model (ScriptedChatModel: fixed outputs, not a real model).

What is real here: the LangGraph graph, contract validation, grounding, the SQLite
checkpointer, the store. A spy stands in for a tool implementation only where the test's
point is that a call never reaches the tool.
"""

from __future__ import annotations

import json

import pytest

import tools.registry as registry
from assistant.backends import ScriptedChatModel
from assistant.grounding import Focus, ground_call
from assistant.service import Assistant, make_checkpointer
from tools.core.errors import DiaoduError
from tools.core.store import Store


def call(name: str, **args) -> str:
    return f"<tool_call>{json.dumps({'name': name, 'arguments': args})}</tool_call>"


@pytest.fixture
def spy(monkeypatch):
    """Record calls that reach a tool (replaces the search tool's implementation)."""
    seen: list[dict] = []

    def fake_search(**kwargs):
        seen.append(kwargs)
        if kwargs.get("location") == "ramp":
            raise DiaoduError("unknown place 'ramp'; name the road or ramp, e.g. G15 ramp")
        return {"facts": {"cases": 2, "top_case": "case-7"}, "message": "Found 2 similar cases; the closest is case-7."}

    monkeypatch.setitem(registry.IMPLEMENTATIONS, "search_emergency_cases", ("tests.test_assistant_graph", "_spy_target"))
    globals()["_spy_target"] = fake_search
    return seen


def test_no_tool_turn_answers_without_calling(spy):
    a = Assistant(ScriptedChatModel(["Hello! I can plan routes or look up emergency cases."]))
    r = a.ask("hi there")
    assert r["calls"] == [] and "Hello" in r["answer"] and spy == []


def test_tool_call_then_faithful_answer(spy):
    a = Assistant(ScriptedChatModel([call("search_emergency_cases", query="tanker spill on G15 ramp"),
                                     "I found 2 similar cases; case-7 is the closest."]))
    r = a.ask("tanker spill on the G15 ramp, what do we do?")
    assert [c["tool"] for c in r["calls"]] == ["search_emergency_cases"]
    # grounding: the query is the dispatcher's own words, the incident type the one they make clear,
    # the place one the graph knows
    assert spy == [{"query": "tanker spill on the G15 ramp, what do we do?", "location": "G15", "incident_type": "hazmat_spill"}]
    assert r["answer_source"] == "model" and "case-7" in r["answer"]


def test_invented_number_in_answer_falls_back_to_template(spy):
    a = Assistant(ScriptedChatModel([call("search_emergency_cases", query="spill"), "Close 800 m of the road; 2 cases."]))
    r = a.ask("a spill on the ramp")
    assert r["answer_source"] == "template"
    assert r["answer"] == "Found 2 similar cases; the closest is case-7."


@pytest.mark.parametrize("bad", [
    '<tool_call>{"name": "rm_rf", "arguments": {}}</tool_call>',
    '<tool_call>{"name": "search_emergency_cases", "arguments": {"query": "x", "shell": "rm -rf /"}}</tool_call>',
    '<tool_call>{"name": "search_emergency_cases", "arguments": {"query": "x", "k": "DROP TABLE"}}</tool_call>',
    '<tool_call>{"name": "search_emergency_cases", "arguments": {"query": "x", "incident_type": "alien_attack"}}</tool_call>',
    '<tool_call>{"name": "search_emergency_cases", "arguments": ',
    '<tool_call>not json at all</tool_call>',
])
def test_malformed_or_malicious_output_never_reaches_a_tool(spy, bad):
    # the model keeps producing the same bad call: after bounded repairs the assistant asks to rephrase
    a = Assistant(ScriptedChatModel([bad] * 5))
    r = a.ask("spill on the ramp")
    assert spy == [] and r["calls"] == []
    assert "rephrase" in r["answer"]


def test_tool_error_goes_back_to_the_model_which_repairs(spy):
    model = ScriptedChatModel([call("search_emergency_cases", query="x", location="ramp"),
                               call("search_emergency_cases", query="x"), "2 cases found."])
    r = Assistant(model).ask("a car crashed on the ramp")
    assert [c["ok"] for c in r["calls"]] == [False, True]
    # the second model call saw the error message
    assert any("unknown place" in m["content"] for m in model.seen[1] if m["role"] == "tool")
    assert r["answer"] == "2 cases found."


def test_unknown_dataset_not_named_by_the_user_makes_the_assistant_ask():
    model = ScriptedChatModel([call("plan_routes", dataset="no-such-dataset-x"),
                               "Which dataset should I use?"])
    a = Assistant(model)
    r = a.ask("plan the routes")
    # grounding: the unknown dataset is not named by the user and nothing is in focus -> ask, no call
    assert r["calls"] == [] and "dataset" in r["answer"].lower()


def test_grounding_drops_numbers_the_user_never_said_and_asks_for_essentials():
    focus = Focus()
    g = ground_call("search_emergency_cases", {"query": "spill", "k": 7}, "spill near the bridge", focus)
    assert "k" not in g.args and g.question is None
    Store().save_plan("demo-city", {"routes": []})
    g = ground_call("replan", {"event": "vehicle_breakdown", "vehicle": 9}, "a truck broke down", focus)
    assert g.question and "vehicle" in g.question.lower()
    g = ground_call("replan", {"event": "vehicle_breakdown", "vehicle": 4}, "truck four broke down", focus)
    assert g.question is None and g.args["vehicle"] == 4 and g.args["plan_id"] == "latest"
    g = ground_call("replan", {"event": "vehicle_breakdown", "vehicle": 3}, "第三辆车坏了", focus)
    assert g.question is None and g.args["vehicle"] == 3


def test_thread_resumes_after_restart(workspace, spy):
    a = Assistant(ScriptedChatModel(["Hello."]))
    tid = a.ask("hi")["thread_id"]
    # a new process would build a new Assistant on the same workspace database
    b = Assistant(ScriptedChatModel(["Still here."]), checkpointer=make_checkpointer())
    b.ask("are you there?", tid)
    assert [m["content"] for m in b.history(tid)] == ["hi", "Hello.", "are you there?", "Still here."]
    assert tid in b.threads()


def test_commit_needs_approval_and_resumes_later(workspace):
    pid = Store().save_plan("demo-city", {"routes": [[1, 2]]})
    a = Assistant(ScriptedChatModel([]))
    r = a.ask("looks good, send it to the drivers")
    assert r["pending_approval"]["plan_id"] == pid and not Store().is_committed(pid)
    with pytest.raises(DiaoduError):
        a.ask("hello?", r["thread_id"])  # the thread waits for the decision
    later = Assistant(ScriptedChatModel([]), checkpointer=make_checkpointer())
    done = later.resume(r["thread_id"], approve=True)
    assert Store().is_committed(pid) and pid in done["answer"] and done["pending_approval"] is None


def test_bad_messages_are_clear_errors():
    a = Assistant(ScriptedChatModel([]))
    for bad in ("", "   ", "x" * 5000, 42):
        with pytest.raises(DiaoduError):
            a.ask(bad)  # type: ignore[arg-type]
    with pytest.raises(DiaoduError):
        a.ask("hi", "../../etc/passwd")


def test_a_repeated_failed_call_is_not_run_again(spy):
    model = ScriptedChatModel([call("search_emergency_cases", query="x", location="ramp"),
                               call("search_emergency_cases", query="x", location="ramp"), "Sorry."])
    r = Assistant(model).ask("a car crashed on the ramp")
    assert len(spy) == 1  # the second, identical call never reached the tool
    assert [c["ok"] for c in r["calls"]] == [False]


def test_an_answer_that_is_a_tool_call_falls_back_to_the_template(spy):
    a = Assistant(ScriptedChatModel([call("search_emergency_cases", query="spill"),
                                     '{"name": "plan_routes", "arguments": {"dataset": "ca_fleet10"}}']))
    r = a.ask("a spill on the ramp")
    assert r["answer_source"] == "template" and r["answer"].startswith("Found 2 similar cases")


def test_an_extra_call_the_user_did_not_ask_for_is_not_made(workspace):
    Store().save_plan("demo-small", {"routes": [[1, 2]]})
    two = call("replan", event="vehicle_breakdown", vehicle=2) + call("explain_plan", question="summary")
    r = Assistant(ScriptedChatModel([two, "Done."]), max_tool_seconds=1.0).ask("van 2 broke down")
    assert [c["tool"] for c in r["calls"]] == ["replan"]


def test_an_error_about_the_workspace_state_is_reported_not_repaired(workspace):
    from tools.registry import run_tool

    run_tool("plan_routes", {"dataset": "demo-small", "time_limit_s": 1})
    model = ScriptedChatModel([call("replan", event="new_orders", orders=[3]), call("explain_plan", question="summary"),
                               "Order 3 is already in the plan."])
    r = Assistant(model, max_tool_seconds=1.0).ask("new order 3 came in, add it")
    # order 3 is already planned: the call followed the user's words, so no second call is tried
    assert [(c["tool"], c["ok"]) for c in r["calls"]] == [("replan", False)]
    assert r["calls"][0]["result"]["code"] == "already_planned"


@pytest.mark.parametrize("text", ["cheers, that's all for today", "what's the capital of France?", "给我讲个笑话"])
def test_small_talk_calls_no_tool_whatever_the_model_emits(spy, text):
    r = Assistant(ScriptedChatModel([call("search_emergency_cases", query="x")])).ask(text)
    assert r["calls"] == [] and spy == [] and r["answer"]
