"""The HTTP API in process (Starlette's TestClient): chat, REST views, approval, and bad input.

What is real: the server, the LangGraph agent, the SQLite checkpointer and store, and the
routing / job-shop tools (OR-Tools on the shipped demo datasets). The model is the keyword
``RuleTestingModel`` (assistant/server/rules_model.py), because the point here is the
server, not the language model.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from assistant.server.app import create_app, last_user_message, public_turn
from assistant.server.rules_model import RuleTestingModel
from assistant.server_cli import is_loopback
from assistant.service import Assistant
from tools.core.errors import DiaoduError
from tools.core.store import Store


def error_text(resp) -> str:
    """The error message: OpenAI's shape under /v1, ``{"error": message}`` elsewhere."""
    err = resp.json()["error"]
    return err["message"] if isinstance(err, dict) else err


def chat(client: TestClient, text: str, conversation: str | None = None, **extra) -> dict:
    body = {"model": "diaodu", "messages": [{"role": "user", "content": text}], **extra}
    if conversation:
        body["conversation_id"] = conversation
    resp = client.post("/v1/chat/completions", json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


def sse(client: TestClient, text: str, conversation: str) -> tuple[list[dict], list[str]]:
    body = {"messages": [{"role": "user", "content": text}], "stream": True, "conversation_id": conversation}
    with client.stream("POST", "/v1/chat/completions", json=body) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        assert resp.headers["x-conversation-id"] == conversation
        lines = [line for line in resp.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    return [json.loads(line[6:]) for line in lines[:-1]], lines


@pytest.fixture
def assistant(workspace) -> Assistant:
    return Assistant(RuleTestingModel(), max_tool_seconds=1.0)


@pytest.fixture
def client(assistant) -> TestClient:
    with TestClient(create_app(assistant)) as c:
        yield c


def test_health_and_datasets(client):
    h = client.get("/health").json()
    assert h == {"status": "ok", "model": "rules-testing", "auth": False, "max_body_bytes": 65536}
    names = {d["name"]: d["kind"] for d in client.get("/api/datasets").json()["datasets"]}
    assert names["demo-small"] == "cvrp" and names["demo-shop"] == "jssp"
    only = client.get("/api/datasets", params={"kind": "jssp"}).json()["datasets"]
    assert only and all(d["kind"] == "jssp" for d in only)
    bad = client.get("/api/datasets", params={"kind": "boats"})
    assert bad.status_code == 400 and "kind must be one of cvrp, vrptw, jssp" in error_text(bad)


def test_chat_keeps_threads_apart_and_history(client):
    a1 = chat(client, "note alpha-1", "thread-a")
    b1 = chat(client, "note beta-1", "thread-b")
    a2 = chat(client, "note alpha-2", "thread-a")
    assert a1["object"] == "chat.completion" and a1["conversation_id"] == "thread-a"
    assert a2["choices"][0]["message"] == {"role": "assistant", "content": "Noted: note alpha-2"}
    assert b1["choices"][0]["finish_reason"] == "stop"
    hist = client.get("/api/threads/thread-a").json()
    assert [m["content"] for m in hist["messages"]] == ["note alpha-1", "Noted: note alpha-1", "note alpha-2",
                                                        "Noted: note alpha-2"]
    assert hist["pending_approval"] is None
    listed = {t["thread_id"]: t for t in client.get("/api/threads").json()["threads"]}
    assert listed["thread-a"]["title"] == "note alpha-1" and listed["thread-a"]["messages"] == 4
    assert listed["thread-b"]["messages"] == 2


def test_conversation_id_by_header_and_new_ids(client):
    resp = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]},
                       headers={"X-Conversation-Id": "hdr-1"})
    assert resp.headers["x-conversation-id"] == "hdr-1" and resp.json()["conversation_id"] == "hdr-1"
    fresh = chat(client, "hello")
    assert fresh["conversation_id"] and fresh["conversation_id"] != "hdr-1"
    clash = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}],
                                                      "conversation_id": "x1"}, headers={"X-Conversation-Id": "x2"})
    assert clash.status_code == 400 and "disagree" in error_text(clash)


def test_openai_message_shapes():
    msgs = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"}, {"role": "user", "content": [{"type": "text", "text": "plan "},
                                                                               {"type": "text", "text": "routes"}]}]
    assert last_user_message(msgs) == "plan routes"
    for bad, words in [([], "non-empty list"), ("hi", "non-empty list"), ([{"role": "system", "content": "x"}], "no user message"),
                       ([{"content": "x"}], "'role'"), ([{"role": "user", "content": 5}], "must be text")]:
        with pytest.raises(DiaoduError, match=words):
            last_user_message(bad)


def test_streaming_chunks_follow_openai_format(client):
    chunks, _ = sse(client, "note streamed words here", "s-1")
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == "Noted: note streamed words here"
    assert sum(1 for c in chunks if c["choices"][0]["delta"].get("content")) > 1  # really in pieces
    final = chunks[-1]
    assert final["choices"][0]["finish_reason"] == "stop" and final["conversation_id"] == "s-1"
    assert final["diaodu"]["answer"] == text
    assert client.get("/api/threads/s-1").json()["messages"][-1]["content"] == text


def test_plan_turn_then_map_view_with_coordinates(client):
    r = chat(client, "plan routes for demo-small", "plan-t")
    turn = r["diaodu"]
    assert [c["tool"] for c in turn["calls"]] == ["plan_routes"] and turn["calls"][0]["ok"]
    assert turn["plan_id"].startswith("plan-") and turn["plan_id"] in r["choices"][0]["message"]["content"]
    view = client.get(f"/api/plans/{turn['plan_id']}").json()
    assert view["dataset"] == "demo-small" and view["depot"]["x"] == 10.5 and view["depot"]["y"] == 0.8
    ids = {c["id"] for c in view["customers"]}
    assert len(ids) == 20 and all(isinstance(c["x"], float) for c in view["customers"])
    stops = [s for route in view["routes"] for s in route["stops"]]
    assert sorted(stops) == sorted(ids)  # every order on exactly one route
    assert all(c["served"] for c in view["customers"]) and view["late_orders"] == []
    assert view["committed"] is False and view["facts"]["orders"] == 20
    assert client.get("/api/plans").json()["plans"][0]["plan_id"] == turn["plan_id"]
    assert client.get("/api/plans/latest").json()["plan_id"] == turn["plan_id"]
    # the thread remembers the plan in focus (the page redraws it when the thread is opened)
    assert client.get("/api/threads/plan-t").json()["focus"]["plan_id"] == turn["plan_id"]


def test_late_orders_are_marked_on_the_map(client):
    pid = Store().save_plan("demo-small", {"routes": [{"vehicle": 1, "customers": [1, 2, 3], "late": {"2": 4.0}},
                                                      {"vehicle": 2, "customers": [4, 5]}], "facts": {}})
    view = client.get(f"/api/plans/{pid}").json()
    assert view["late_orders"] == [2]
    by_id = {c["id"]: c for c in view["customers"]}
    assert by_id[2]["late"] and not by_id[1]["late"]
    assert by_id[4]["served"] and not by_id[9]["served"]


def test_approval_commits_the_plan(client):
    plan_id = chat(client, "plan routes for demo-small", "ap")["diaodu"]["plan_id"]
    r = chat(client, "commit the plan", "ap")
    pending = r["diaodu"]["pending_approval"]
    assert pending["plan_id"] == plan_id and plan_id in r["choices"][0]["message"]["content"]
    assert client.get("/api/threads/ap").json()["pending_approval"]["plan_id"] == plan_id
    assert any(t["pending_approval"] for t in client.get("/api/threads").json()["threads"])
    busy = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "plan demo-small"}],
                                                     "conversation_id": "ap"})
    assert busy.status_code == 409 and "waiting for an approval" in error_text(busy)
    done = client.post("/api/threads/ap/approve", json={"approve": True})
    assert done.status_code == 200 and "sent to the drivers" in done.json()["answer"]
    assert client.get(f"/api/plans/{plan_id}").json()["committed"] is True
    again = client.post("/api/threads/ap/approve", json={"approve": True})
    assert again.status_code == 409 and "no approval waiting" in error_text(again)


def test_approval_answered_by_chat_yes_no(client):
    chat(client, "plan routes for demo-small", "yn")
    chat(client, "commit the plan", "yn")
    r = chat(client, "no", "yn")
    assert "was not sent" in r["choices"][0]["message"]["content"]
    assert client.get("/api/plans/latest").json()["committed"] is False


def test_schedule_view_is_gantt_bars(client):
    r = chat(client, "schedule demo-shop", "js")
    sid = r["diaodu"]["schedule_id"]
    assert sid and sid.startswith("sched-")
    view = client.get(f"/api/schedules/{sid}").json()
    assert view["dataset"] == "demo-shop" and view["machines"] == 6 and view["jobs"] == 10
    assert max(b["end"] for b in view["bars"]) == view["makespan"]
    by_machine: dict[int, list] = {}
    for b in view["bars"]:
        assert b["end"] > b["start"] >= 0
        by_machine.setdefault(b["machine"], []).append((b["start"], b["end"]))
    for spans in by_machine.values():  # a machine runs one operation at a time
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


@pytest.mark.parametrize("path, status, words", [
    ("/api/threads/nope", 404, "unknown thread 'nope'"),
    ("/api/threads/bad%20id!", 400, "a thread id is 1-64 letters"),
    ("/api/plans/plan-999", 404, "unknown plan 'plan-999'"),
    ("/api/plans/banana", 400, "plan id must be like 'plan-3'"),
    ("/api/schedules/sched-5", 404, "unknown schedule"),
    ("/api/plans?limit=abc", 400, "limit must be a whole number; got 'abc'"),
    ("/api/plans?limit=0", 400, "limit must be at least 1"),
    ("/api/nothing", 404, "no such endpoint: /api/nothing"),
    ("/api/cases?query=", 400, "search_emergency_cases.query must be a non-empty string"),
    ("/api/cases?query=spill&k=many", 400, "k must be a whole number; got 'many'"),
    ("/api/cases?query=spill&incident_type=alien", 400, "incident_type must be one of road_closure"),
])
def test_bad_lookups_are_clear_4xx(client, path, status, words):
    resp = client.get(path)
    assert resp.status_code == status and words in error_text(resp), resp.text


@pytest.mark.parametrize("body, status, words", [
    (b"{bad json", 400, "not valid JSON (line 1, column 2"),
    (b"", 400, "body is empty"),
    (b"[1, 2]", 400, "must be a JSON object; got list"),
    (b'{"messages": "hi"}', 400, "'messages' must be a non-empty list"),
    (b'{"messages": [{"role": "user", "content": ""}]}', 400, "the message is empty"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}', 400, "'stream' must be true or false"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "conversation_id": "../etc"}', 400, "a thread id is"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "conversation_id": 7}', 400, "conversation_id must be a string"),
    (b"\xff\xfe", 400, "not valid JSON"),
])
def test_malformed_chat_requests(client, body, status, words):
    resp = client.post("/v1/chat/completions", content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == status and words in error_text(resp), resp.text


def test_too_long_message_and_oversized_bodies(client):
    long = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "x" * 5000}]})
    assert long.status_code == 400 and "too long (5000 characters; at most 4000)" in error_text(long)
    big = client.post("/v1/chat/completions", content=b"{" + b" " * 70_000 + b"}")
    assert big.status_code == 413 and "at most 65536" in error_text(big)

    def chunks():  # no Content-Length: the guard counts what arrives
        for _ in range(20):
            yield b" " * 8192

    chunked = client.post("/v1/chat/completions", content=chunks())
    assert chunked.status_code == 413 and chunked.json()["error"]["code"] == "too_large"
    assert client.get("/health").status_code == 200


def test_approve_bad_input(client):
    chat(client, "hello", "t-ok")
    for body, words in [({"approve": "yes"}, "'approve' must be true or false"), ({}, "'approve' must be true or false")]:
        resp = client.post("/api/threads/t-ok/approve", json=body)
        assert resp.status_code == 400 and words in error_text(resp)
    unknown = client.post("/api/threads/ghost/approve", json={"approve": True})
    assert unknown.status_code == 404 and "unknown thread 'ghost'" in error_text(unknown)
    nothing = client.post("/api/threads/t-ok/approve", json={"approve": True})
    assert nothing.status_code == 409


def test_unexpected_errors_do_not_take_the_server_down(assistant, monkeypatch):
    def boom() -> list[str]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(assistant, "threads", boom)
    with TestClient(create_app(assistant), raise_server_exceptions=False) as c:
        resp = c.get("/api/threads")
        assert resp.status_code == 500
        assert resp.json() == {"error": "internal error (RuntimeError); the server keeps running", "code": "internal"}
        assert c.get("/v1/models").status_code == 200
        assert c.get("/health").status_code == 200
        assert chat(c, "still here", "alive")["choices"][0]["message"]["content"] == "Noted: still here"


def test_token_is_checked_on_every_request(assistant):
    with TestClient(create_app(assistant, token="s3cret")) as c:
        for path in ("/health", "/api/threads", "/", "/static/app.js"):
            resp = c.get(path)
            assert resp.status_code == 401 and "missing or wrong token" in error_text(resp), path
        wrong = c.get("/health", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = c.get("/health", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()["auth"] is True
        # a browser opens /?token=...: the token moves into a strict cookie, then the page loads
        login = c.get("/?token=s3cret", follow_redirects=False)
        assert login.status_code == 303 and "samesite=strict" in login.headers["set-cookie"].lower()
        assert c.get("/").status_code == 200 and c.get("/api/threads").status_code == 200
    with TestClient(create_app(assistant, token="s3cret")) as fresh:
        assert fresh.get("/?token=wrong").status_code == 401


def test_page_and_static_files(client):
    page = client.get("/")
    assert page.status_code == 200 and 'data-testid="map"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("app.js", "draw.js", "i18n.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_public_turn_leaves_out_large_fields():
    result = {"thread_id": "t", "answer": "a", "calls": [{"tool": "plan_routes", "args": {}, "ok": True, "seconds": 1,
                                                          "result": {"plan_id": "plan-3", "routes": ["x" * 40_000]}}]}
    turn = public_turn(result)
    assert turn["plan_id"] == "plan-3" and "routes" not in turn["calls"][0]["result"]


def test_loopback_detection():
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "127.0.0.2"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.4", "example.org", "::"))


class SlowRules(RuleTestingModel):
    """The rules model with a pause, standing in for a long solver or model step."""

    def complete(self, messages, *, purpose="act", max_new_tokens=160, tool=None, fixed=None):
        import time

        time.sleep(0.4)
        return super().complete(messages, purpose=purpose, max_new_tokens=max_new_tokens, tool=tool, fixed=fixed)


def test_long_turns_keep_the_stream_alive(workspace, monkeypatch):
    import assistant.server.app as server_app

    monkeypatch.setattr(server_app, "KEEPALIVE_S", 0.1)
    with TestClient(create_app(Assistant(SlowRules()))) as c:
        body = {"messages": [{"role": "user", "content": "note slow"}], "stream": True, "conversation_id": "slow"}
        with c.stream("POST", "/v1/chat/completions", json=body) as resp:
            lines = [line for line in resp.iter_lines() if line]
    assert ": keep-alive" in lines
    assert lines[-1] == "data: [DONE]"
    text = "".join(json.loads(x[6:])["choices"][0]["delta"].get("content") or "" for x in lines if x.startswith("data: {"))
    assert text == "Noted: note slow"


def test_chinese_turn_streams_intact(client):
    chunks, _ = sse(client, "你好，记一下：三号仓库", "zh-1")
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == "收到：你好，记一下：三号仓库"
    assert client.get("/api/threads/zh-1").json()["messages"][0]["content"] == "你好，记一下：三号仓库"
    plan = chat(client, "为 demo-small 规划配送路线", "zh-1")
    assert plan["diaodu"]["calls"][0]["tool"] == "plan_routes" and plan["diaodu"]["plan_id"]
