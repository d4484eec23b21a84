"""The assistant as a service: threads that persist, turns, approvals.

One :class:`Assistant` wraps the compiled graph and its checkpointer. Conversations are
LangGraph threads: SQLite in the workspace by default (a thread resumes after a restart),
Postgres when ``DIAODU_CHECKPOINT_URL`` is a ``postgresql://`` URL (the ``postgres`` extra).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from langgraph.types import Command

from assistant.backends import ChatModel
from assistant.graph import build_graph
from tools.core.errors import DiaoduError
from tools.core.settings import workspace_dir

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000


def make_checkpointer(url: str | None = None) -> Any:
    """SQLite in the workspace by default; Postgres for a shared deployment."""
    url = url or os.environ.get("DIAODU_CHECKPOINT_URL")
    if url and url.startswith(("postgres://", "postgresql://")):
        try:
            from langgraph.checkpoint.postgres import PostgresSaver
        except ModuleNotFoundError:
            raise DiaoduError("a Postgres checkpointer needs the postgres extra: pip install 'diaodu[postgres]'") from None
        import psycopg
        from psycopg.rows import dict_row

        # as the saver's documentation requires: autocommit so setup() persists its tables,
        # dict rows because the saver reads columns by name
        try:
            pg = psycopg.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
        except psycopg.OperationalError as exc:
            raise DiaoduError(f"cannot connect to the Postgres checkpointer at DIAODU_CHECKPOINT_URL: {exc}",
                              code="checkpointer_unreachable") from None
        saver = PostgresSaver(pg)
        saver.setup()
        return saver
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = url or str(workspace_dir() / "threads.sqlite")
    from tools.core.store import open_sqlite

    return SqliteSaver(open_sqlite(path, check_same_thread=False))


def check_message(text: Any) -> str:
    """A user message must be non-empty text of reasonable length."""
    if not isinstance(text, str):
        raise DiaoduError(f"a message must be text; got {type(text).__name__}")
    if not text.strip():
        raise DiaoduError("the message is empty")
    if len(text) > MAX_MESSAGE_CHARS:
        raise DiaoduError(f"the message is too long ({len(text)} characters; at most {MAX_MESSAGE_CHARS})")
    return text.strip()


class Assistant:
    """Turns in persistent threads over the agent graph."""

    def __init__(self, model: ChatModel, *, checkpointer: Any = None, max_tool_seconds: float | None = None):
        self.model = model
        self.checkpointer = checkpointer if checkpointer is not None else make_checkpointer()
        self.graph = build_graph(model, checkpointer=self.checkpointer, max_tool_seconds=max_tool_seconds)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def _lock(self, thread_id: str) -> threading.Lock:
        # one turn at a time per thread: two turns of the same conversation must not interleave
        with self._locks_guard:
            return self._locks.setdefault(thread_id, threading.Lock())

    @staticmethod
    def _config(thread_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread_id}, "recursion_limit": 25}

    def _new_turn(self, text: str, thread_id: str | None) -> tuple[dict[str, Any], str]:
        """Check a new user turn; returns the graph's input and the thread id (a new one if none)."""
        text = check_message(text)
        thread_id = thread_id or uuid.uuid4().hex[:12]
        self._check_thread_id(thread_id)
        if self.pending_approval(thread_id):
            raise DiaoduError(f"thread {thread_id} is waiting for an approval; approve or reject it first",
                              code="approval_pending")
        return {"messages": [{"role": "user", "content": text}], "turn": {}, "repairs": 0, "pending": []}, thread_id

    def ask(self, text: str, thread_id: str | None = None) -> dict[str, Any]:
        """Run one user turn; returns the answer, the calls made, and any approval waiting."""
        inputs, thread_id = self._new_turn(text, thread_id)
        start = time.perf_counter()
        with self._lock(thread_id):
            state = self.graph.invoke(inputs, self._config(thread_id))
        return self._turn_result(thread_id, state, time.perf_counter() - start)

    def ask_stream(self, text: str, thread_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Like :meth:`ask`, yielding ``{"delta": text}`` pieces of the answer as the model writes
        them (``{"replace": text}`` when the faithfulness check swaps the answer for the tools'
        own sentence), then ``{"result": turn}``."""
        inputs, thread_id = self._new_turn(text, thread_id)
        start = time.perf_counter()
        state: dict[str, Any] = {}
        with self._lock(thread_id):
            for mode, chunk in self.graph.stream(inputs, self._config(thread_id), stream_mode=["custom", "values"]):
                if mode == "custom":
                    yield dict(chunk)
                else:
                    state = chunk
        yield {"result": self._turn_result(thread_id, state, time.perf_counter() - start)}

    def resume(self, thread_id: str, approve: bool) -> dict[str, Any]:
        """Answer a pending approval (the LangGraph interrupt) on ``thread_id``."""
        self._check_thread_id(thread_id)
        if not self.pending_approval(thread_id):
            raise DiaoduError(f"thread {thread_id} has no approval waiting", code="no_approval")
        start = time.perf_counter()
        with self._lock(thread_id):
            state = self.graph.invoke(Command(resume=bool(approve)), self._config(thread_id))
        return self._turn_result(thread_id, state, time.perf_counter() - start)

    def pending_approval(self, thread_id: str) -> dict[str, Any] | None:
        snap = self.graph.get_state(self._config(thread_id))
        for task in snap.tasks or ():
            for intr in getattr(task, "interrupts", ()) or ():
                return dict(intr.value)
        return None

    def history(self, thread_id: str) -> list[dict[str, Any]]:
        """The thread's user and assistant messages (tool traffic left out)."""
        self._check_thread_id(thread_id)
        snap = self.graph.get_state(self._config(thread_id))
        if not snap.values:
            raise DiaoduError(f"unknown thread {thread_id!r}", code="unknown_thread")
        return [m for m in snap.values.get("messages", []) if m["role"] in ("user", "assistant")
                and "<tool_call>" not in str(m["content"])]

    def state(self, thread_id: str) -> dict[str, Any]:
        return dict(self.graph.get_state(self._config(thread_id)).values or {})

    def threads(self) -> list[str]:
        """Every thread id the checkpointer knows, newest first."""
        conn = getattr(self.checkpointer, "conn", None)
        if isinstance(conn, sqlite3.Connection):  # one indexed query instead of reading every checkpoint
            self.checkpointer.setup()  # the saver creates its tables lazily; a fresh database has none yet
            with self.checkpointer.lock:
                rows = conn.execute("SELECT thread_id, MAX(checkpoint_id) AS last FROM checkpoints "
                                    "GROUP BY thread_id ORDER BY last DESC").fetchall()
            return [str(r[0]) for r in rows]
        seen: dict[str, None] = {}
        for cp in self.checkpointer.list(None):
            seen.setdefault(cp.config["configurable"]["thread_id"], None)
        return list(seen)

    @staticmethod
    def _check_thread_id(thread_id: Any) -> None:
        if not isinstance(thread_id, str) or not thread_id or len(thread_id) > 64 or not all(c.isalnum() or c in "-_" for c in thread_id):
            raise DiaoduError(f"a thread id is 1-64 letters, digits, '-' or '_'; got {thread_id!r}")

    def _turn_result(self, thread_id: str, state: dict[str, Any], seconds: float) -> dict[str, Any]:
        turn = state.get("turn") or {}
        pending = self.pending_approval(thread_id)
        answer = turn.get("answer") or (pending or {}).get("question", "")
        return {"thread_id": thread_id, "answer": answer, "calls": turn.get("calls", []),
                "pending_approval": pending, "grounding": turn.get("grounding", []),
                "answer_source": turn.get("answer_source"), "latency_s": round(seconds, 3),
                "model_seconds": round(turn.get("model_seconds", 0.0), 3), "focus": state.get("focus") or {},
                "raw": turn.get("raw", []), "model_calls": turn.get("model_calls", [])}
