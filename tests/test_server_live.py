"""A live uvicorn server on 127.0.0.1 (random port): the ``openai`` client, a short load run, the CLI.

The model is the keyword ``RuleTestingModel``; the server, agent, checkpointer and tools are real.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import openai
import pytest
import uvicorn
from typer.testing import CliRunner

from assistant.cli import app as cli_app
from assistant.server.app import create_app
from assistant.server.loadtest import free_port, run_load
from assistant.server.rules_model import RuleTestingModel
from assistant.service import Assistant

TOKEN = "test-token-123"


@pytest.fixture
def live_url(workspace) -> Iterator[str]:
    """A real HTTP server in a background thread, with a token, stopped after the test."""
    port = free_port()
    app = create_app(Assistant(RuleTestingModel(), max_tool_seconds=1.0), token=TOKEN)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


def test_openai_client_plain_and_streaming(live_url):
    client = openai.OpenAI(base_url=f"{live_url}/v1", api_key=TOKEN, max_retries=0)
    assert [m.id for m in client.models.list().data] == ["rules-testing"]
    r = client.chat.completions.create(model="diaodu", messages=[{"role": "user", "content": "plan routes for demo-small"}],
                                       extra_body={"conversation_id": "oa-1"})
    assert r.choices[0].message.role == "assistant" and r.choices[0].finish_reason == "stop"
    assert "demo-small" in r.choices[0].message.content
    assert r.model_extra["conversation_id"] == "oa-1"
    plan_id = r.model_extra["diaodu"]["plan_id"]
    # follow-up in the same conversation, streamed, with the id as a header this time
    stream = client.chat.completions.create(model="diaodu", stream=True,
                                            messages=[{"role": "user", "content": "note follow-up"}],
                                            extra_headers={"X-Conversation-Id": "oa-1"})
    pieces, last = [], None
    for chunk in stream:
        pieces.append(chunk.choices[0].delta.content or "")
        last = chunk
    assert "".join(pieces) == "Noted: note follow-up"
    assert last.choices[0].finish_reason == "stop" and last.model_extra["conversation_id"] == "oa-1"
    hist = httpx.get(f"{live_url}/api/threads/oa-1", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert [m["content"] for m in hist["messages"] if m["role"] == "user"] == ["plan routes for demo-small", "note follow-up"]
    assert hist["focus"]["plan_id"] == plan_id


def test_openai_client_errors_are_4xx(live_url):
    bad = openai.OpenAI(base_url=f"{live_url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:
        bad.chat.completions.create(model="diaodu", messages=[{"role": "user", "content": "hi"}])
    assert "missing or wrong token" in str(err.value)
    good = openai.OpenAI(base_url=f"{live_url}/v1", api_key=TOKEN, max_retries=0)
    with pytest.raises(openai.BadRequestError) as err:
        good.chat.completions.create(model="diaodu", messages=[{"role": "user", "content": "   "}])
    assert "the message is empty" in str(err.value)


def test_short_load_run_loses_and_mixes_nothing(live_url):
    report = asyncio.run(run_load(live_url, conversations=4, seconds=3, token=TOKEN))
    assert report["errors"] == 0, report["error_examples"]
    assert report["lost_messages"] == 0 and report["mixed_up"] == 0, report["mixed_examples"]
    assert report["ok_turns"] == report["turns"] >= 4 and report["streaming_conversations"] == 2
    assert 0 < report["latency_s"]["p50"] <= report["latency_s"]["p95"]


def test_server_survives_garbage_on_the_wire(live_url):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=live_url, headers=auth) as c:
        assert c.post("/v1/chat/completions", content=b"\x00" * 100).status_code == 400
        assert c.post("/v1/chat/completions", content=b"x" * 100_000).status_code == 413
        assert c.get("/api/threads/" + "a" * 100).status_code == 400
        assert c.get("/health").json()["status"] == "ok"
    # raw bytes that are not HTTP at all, and a bad Content-Length: the connection is refused, the server lives on
    host, port = live_url.removeprefix("http://").split(":")
    for junk in (b"\x16\x03\x01garbage\r\n\r\n", b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"):
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(junk)
            reply = sock.recv(200)
        assert reply.startswith(b"HTTP/1.1 400") or reply == b""
    assert httpx.get(f"{live_url}/health", headers=auth).status_code == 200


runner = CliRunner()


def test_serve_refuses_a_public_address_without_token(workspace, monkeypatch):
    monkeypatch.delenv("DIAODU_TOKEN", raising=False)
    res = runner.invoke(cli_app, ["serve", "--host", "0.0.0.0", "--backend", "rules-testing", "--json"])
    assert res.exit_code == 2
    assert json.loads(res.stdout)["error"].startswith("binding to 0.0.0.0 (not loopback) needs a token")


def test_serve_and_load_bad_options(workspace):
    res = runner.invoke(cli_app, ["serve", "--backend", "gpt9", "--json"])
    assert res.exit_code == 2 and "backend must be one of inproc, vllm; got 'gpt9'" in json.loads(res.stdout)["error"]
    res = runner.invoke(cli_app, ["serve", "--model", "/nonexistent/model", "--json"])
    assert res.exit_code == 2 and "no model at /nonexistent/model" in json.loads(res.stdout)["error"]
    res = runner.invoke(cli_app, ["bench", "load", "--url", "http://example.org:8000", "--json"])
    assert res.exit_code == 2 and "only targets loopback" in json.loads(res.stdout)["error"]
    res = runner.invoke(cli_app, ["bench", "load", "--conversations", "0", "--json"])
    assert res.exit_code == 2 and "conversations must be at least 1" in json.loads(res.stdout)["error"]


def test_bench_load_command_starts_its_own_server(workspace):
    res = runner.invoke(cli_app, ["bench", "load", "--conversations", "2", "--seconds", "2", "--json"])
    assert res.exit_code == 0, res.stdout
    report = json.loads(res.stdout)
    assert report["backend"] == "rules-testing" and report["url"].startswith("http://127.0.0.1:")
    assert report["errors"] == 0 and report["lost_messages"] == 0 and report["mixed_up"] == 0
    assert report["ok_turns"] >= 2 and report["latency_s"]["p95"] is not None
