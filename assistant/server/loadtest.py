"""A bounded load test of the HTTP server: N concurrent conversations for S seconds.

Each conversation has its own id and sends turns that carry a unique token
(``ld<run>c<i>t<n>``); every answer must mention that turn's token and no other
conversation's, and at the end each conversation's stored history must hold exactly the
turns it sent, in order. Half of the conversations stream (SSE), half do not. Traffic goes
only to the given URL (a loopback server this module starts, by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from tools.core.errors import DiaoduError

log = logging.getLogger(__name__)

TOKEN_PREFIX = "ld"


@dataclass
class Conversation:
    """What one simulated dispatcher sent and saw."""

    thread_id: str
    stream: bool
    sent: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    mixed: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def local_server(backend: str = "rules-testing", model: str | None = None, port: int | None = None,
                 home: str | None = None, startup_s: float = 180.0) -> Iterator[str]:
    """Start ``diaodu serve`` on 127.0.0.1 in a child process; yields its base URL, stops it after."""
    port = port or free_port()
    tmp = None if home else tempfile.TemporaryDirectory(prefix="diaodu-load-")
    env = {**os.environ, "DIAODU_HOME": home or tmp.name}  # type: ignore[union-attr]
    cmd = [sys.executable, "-m", "assistant.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--backend", backend, "--json"] + (["--model", model] if model else [])
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                raise DiaoduError(f"the server exited before it was ready: {(proc.stderr.read() if proc.stderr else '')[-500:]}",
                                  code="server_failed")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise DiaoduError(f"the server did not answer /health within {startup_s:.0f} s", code="server_failed")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if tmp is not None:
            tmp.cleanup()


async def _turn(client: httpx.AsyncClient, conv: Conversation, text: str) -> str:
    body = {"model": "diaodu", "messages": [{"role": "user", "content": text}], "stream": conv.stream,
            "conversation_id": conv.thread_id}
    if not conv.stream:
        resp = await client.post("/v1/chat/completions", json=body)
        if resp.status_code != 200:
            raise RuntimeError(f"HTTP {resp.status_code}: {resp.text[:200]}")
        data = resp.json()
        if data.get("conversation_id") != conv.thread_id:
            conv.mixed.append(f"answer for {data.get('conversation_id')} on {conv.thread_id}")
        return str(data["choices"][0]["message"]["content"])
    import json

    answer = []
    async with client.stream("POST", "/v1/chat/completions", json=body) as resp:
        if resp.status_code != 200:
            raise RuntimeError(f"HTTP {resp.status_code}: {(await resp.aread())[:200]!r}")
        done = False
        async for line in resp.aiter_lines():
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                done = True
                break
            chunk = json.loads(line[6:])
            if "error" in chunk:
                raise RuntimeError(f"stream error: {chunk['error']}")
            if chunk.get("conversation_id") not in (None, conv.thread_id):
                conv.mixed.append(f"chunk for {chunk.get('conversation_id')} on {conv.thread_id}")
            answer.append(chunk["choices"][0]["delta"].get("content") or "")
        if not done:
            raise RuntimeError("the stream ended without [DONE]")
    return "".join(answer)


async def _run_conversation(client: httpx.AsyncClient, conv: Conversation, run: str, index: int, stop_at: float) -> None:
    n = 0
    while time.monotonic() < stop_at:
        token = f"{TOKEN_PREFIX}{run}c{index}t{n}"
        text = f"note {token} for the log"
        t0 = time.perf_counter()
        try:
            answer = await _turn(client, conv, text)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported, not raised
            conv.errors.append(f"turn {n}: {type(exc).__name__}: {exc}"[:300])
            conv.sent.append(text)  # it may still have been stored; the history check tells
            n += 1
            continue
        conv.latencies.append(time.perf_counter() - t0)
        conv.sent.append(text)
        foreign = [w for w in answer.replace(".", " ").split() if w.startswith(f"{TOKEN_PREFIX}{run}c") and w != token]
        if token not in answer:
            conv.mixed.append(f"turn {n}: the answer lacks its token {token}: {answer[:120]!r}")
        if foreign:
            conv.mixed.append(f"turn {n}: the answer carries another turn's token {foreign[0]}")
        n += 1


async def _check_history(client: httpx.AsyncClient, conv: Conversation) -> dict[str, int]:
    resp = await client.get(f"/api/threads/{conv.thread_id}")
    if resp.status_code != 200:
        conv.errors.append(f"history: HTTP {resp.status_code}")
        return {"lost": len(conv.sent), "extra": 0}
    msgs = resp.json()["messages"]
    users = [m["content"] for m in msgs if m["role"] == "user"]
    answers = [m["content"] for m in msgs if m["role"] == "assistant"]
    lost = sum(1 for t in conv.sent if t not in users)
    extra = [u for u in users if u not in conv.sent]
    if extra:
        conv.mixed.append(f"history holds messages it never sent: {extra[0][:80]!r}")
    if users != [t for t in conv.sent if t in users]:
        conv.mixed.append("history order differs from the order sent")
    if len(answers) != len(users):
        conv.errors.append(f"history: {len(users)} user messages but {len(answers)} answers")
    return {"lost": lost, "extra": len(extra)}


async def run_load(url: str, conversations: int = 20, seconds: float = 60.0, token: str | None = None,
                   timeout_s: float = 120.0) -> dict[str, Any]:
    """Drive ``conversations`` concurrent conversations for ``seconds``; latency percentiles and integrity checks."""
    run = uuid.uuid4().hex[:6]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    convs = [Conversation(f"load-{run}-{i}", stream=i % 2 == 1) for i in range(conversations)]
    limits = httpx.Limits(max_connections=conversations + 4, max_keepalive_connections=conversations + 4)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout_s, limits=limits) as client:
        health = (await client.get("/health")).json()
        start = time.monotonic()
        stop_at = start + seconds
        await asyncio.gather(*(_run_conversation(client, c, run, i, stop_at) for i, c in enumerate(convs)))
        wall = time.monotonic() - start
        checks = [await _check_history(client, c) for c in convs]
    lat = sorted(x for c in convs for x in c.latencies)
    turns = sum(len(c.sent) for c in convs)

    def pct(p: float) -> float | None:
        if not lat:
            return None
        return round(lat[min(len(lat) - 1, max(0, int(round(p / 100 * len(lat))) - 1))], 4)

    errors = [e for c in convs for e in c.errors]
    mixed = [m for c in convs for m in c.mixed]
    return {"url": url, "model": health.get("model"), "conversations": conversations, "seconds": seconds,
            "wall_s": round(wall, 2), "turns": turns, "ok_turns": len(lat),
            "turns_per_s": round(len(lat) / wall, 2) if wall else None,
            "latency_s": {"p50": pct(50), "p95": pct(95), "max": round(lat[-1], 4) if lat else None,
                          "mean": round(statistics.fmean(lat), 4) if lat else None},
            "errors": len(errors), "error_examples": errors[:5],
            "lost_messages": sum(c["lost"] for c in checks), "mixed_up": len(mixed), "mixed_examples": mixed[:5],
            "streaming_conversations": sum(c.stream for c in convs)}
