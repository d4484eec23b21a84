"""The HTTP API and web console: ``create_app(assistant)`` -> a FastAPI app.

- ``/v1/chat/completions`` (and ``/v1/models``): OpenAI-compatible, streaming or not; the
  conversation id travels as the ``conversation_id`` field or the ``X-Conversation-Id``
  header and comes back in both.
- ``/api/...``: datasets, plans (with routes and coordinates), schedules, emergency cases,
  threads (history, pending approval, approve); ``/health``.
- ``/``: the dispatcher console (static files from ``assistant/web``).

Every error is a JSON ``{"error": ..., "code": ...}`` with a 4xx status for bad input; a
global handler turns anything unexpected into a 500 with the same shape, so no request
can take the server down.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.server.guard import MAX_BODY_BYTES, TOKEN_COOKIE, GuardMiddleware, error_payload
from assistant.server.views import plan_view, schedule_view
from assistant.service import Assistant, check_message
from tools.core.datasets import KINDS, all_datasets
from tools.core.errors import DiaoduError, check_choice, check_int
from tools.core.store import Store
from tools.registry import run_tool

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
YES = {"y", "yes", "ok", "approve", "approved", "confirm", "send it", "是", "确认", "好", "同意", "批准"}
NO = {"n", "no", "reject", "cancel", "don't", "do not", "否", "不", "取消", "拒绝"}
# Any result key whose JSON is larger than this is left out of a turn sent to clients (full
# routes and schedules are fetched from /api/plans and /api/schedules instead).
MAX_RESULT_FIELD = 32 * 1024
KEEPALIVE_S = 15.0
_STATUS = {"unknown_thread": 404, "unknown_plan": 404, "unknown_schedule": 404, "unknown_dataset": 404,
           "no_plans": 404, "no_schedules": 404, "approval_pending": 409, "no_approval": 409,
           "unauthorized": 401, "too_large": 413, "unavailable": 503}


def status_for(exc: DiaoduError) -> int:
    """The HTTP status of a user-facing error: 404 for unknown things, 409 for wrong state, else 400."""
    return _STATUS.get(exc.code, 400)


def error_response(request: Request, exc: DiaoduError) -> JSONResponse:
    if request.url.path.startswith("/v1/"):
        return JSONResponse(error_payload(request.url.path, exc.message, exc.code), status_code=status_for(exc))
    return JSONResponse(exc.to_dict(), status_code=status_for(exc))


def create_app(assistant: Assistant, *, token: str | None = None, max_body: int = MAX_BODY_BYTES,
               model_name: str | None = None) -> Any:
    """The FastAPI app around ``assistant``, wrapped in the token / body-size guard."""
    app = FastAPI(title="Diaodu", version="1", docs_url="/docs", redoc_url=None)
    name = str(model_name or getattr(assistant.model, "name", None) or "diaodu")
    # a local model path is shown by its folder name only: the server's filesystem layout is not the client's business
    served_name = Path(name).name if name.startswith(("/", ".")) or Path(name).exists() else name

    # -- errors: clear JSON, never a traceback, never a crash ----------------------------------
    @app.exception_handler(DiaoduError)
    async def _diaodu_error(request: Request, exc: DiaoduError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        return JSONResponse(error_payload(request.url.path, f"bad request: {problems}", "bad_request"), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        msg = exc.detail if exc.status_code != 404 or exc.detail != "Not Found" else f"no such endpoint: {request.url.path}"
        return JSONResponse(error_payload(request.url.path, str(msg), f"http_{exc.status_code}"),
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_payload(request.url.path, f"internal error ({type(exc).__name__}); the server keeps "
                                          "running", "internal"), status_code=500)

    @app.middleware("http")
    async def _headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'")
        return response

    # -- page --------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    async def index(request: Request) -> Response:
        if getattr(request.state, "set_token_cookie", False):
            # opened as /?token=...: keep the token in a strict cookie and drop it from the address bar
            resp = RedirectResponse("/", status_code=303)
            resp.set_cookie(TOKEN_COOKIE, request.query_params["token"], httponly=True, samesite="strict")
            return resp
        return FileResponse(WEB_DIR / "index.html", headers={"Cache-Control": "no-store"})

    if WEB_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")

    # -- health and data -----------------------------------------------------------------------
    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": served_name, "auth": bool(token), "max_body_bytes": max_body}

    @app.get("/api/datasets")
    async def datasets(kind: str | None = None) -> dict[str, Any]:
        refs = await run_in_threadpool(lambda: list(all_datasets().values()))
        if kind:
            k = check_choice("kind", kind, KINDS)
            refs = [r for r in refs if r.kind == k]
        return {"datasets": [{"name": r.name, "kind": r.kind, "source": r.source, "bks": r.bks} for r in refs]}

    @app.get("/api/plans")
    async def plans(limit: str = "50") -> dict[str, Any]:
        n = check_int("limit", _int_param("limit", limit), minimum=1, maximum=500)
        return {"plans": await run_in_threadpool(Store().list_plans, n)}

    @app.get("/api/plans/{plan_id}")
    async def plan(plan_id: str) -> dict[str, Any]:
        return await run_in_threadpool(plan_view, plan_id)

    @app.get("/api/schedules/{schedule_id}")
    async def schedule(schedule_id: str) -> dict[str, Any]:
        return await run_in_threadpool(schedule_view, schedule_id)

    @app.get("/api/cases")
    async def cases(query: str = "", incident_type: str | None = None, location: str | None = None,
                    k: str | None = None) -> dict[str, Any]:
        args: dict[str, Any] = {"query": query}
        if incident_type:
            args["incident_type"] = incident_type
        if location:
            args["location"] = location
        if k is not None:
            args["k"] = check_int("k", _int_param("k", k), minimum=1, maximum=20)
        outcome = await run_in_threadpool(run_tool, "search_emergency_cases", args)
        if not outcome.ok:
            raise DiaoduError(str(outcome.result.get("error")), code=str(outcome.result.get("code", "bad_input")))
        return outcome.result

    # -- threads ----------------------------------------------------------------------------------
    @app.get("/api/threads")
    async def threads(limit: str = "100") -> dict[str, Any]:
        n = check_int("limit", _int_param("limit", limit), minimum=1, maximum=1000)
        return {"threads": await run_in_threadpool(_thread_list, assistant, n)}

    @app.get("/api/threads/{thread_id}")
    async def thread(thread_id: str) -> dict[str, Any]:
        def load() -> dict[str, Any]:
            history = assistant.history(thread_id)
            state = assistant.state(thread_id)
            return {"thread_id": thread_id, "messages": [{"role": m["role"], "content": m["content"]} for m in history],
                    "pending_approval": assistant.pending_approval(thread_id), "focus": _public_focus(state.get("focus"))}
        return await run_in_threadpool(load)

    @app.post("/api/threads/{thread_id}/approve")
    async def approve(thread_id: str, request: Request) -> dict[str, Any]:
        body = await _json_object(request)
        if not isinstance(body.get("approve"), bool):
            raise DiaoduError(f"'approve' must be true or false; got {body.get('approve')!r}")
        await run_in_threadpool(assistant.history, thread_id)  # 404 for an unknown thread, before anything else
        result = await run_in_threadpool(assistant.resume, thread_id, body["approve"])
        return public_turn(result)

    # -- OpenAI-compatible chat ---------------------------------------------------------------
    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": served_name, "object": "model", "created": 0, "owned_by": "diaodu"}]}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        body = await _json_object(request)
        text = check_message(last_user_message(body.get("messages")))
        thread_id = _conversation_id(body, request)
        Assistant._check_thread_id(thread_id)
        stream = body.get("stream", False)
        if not isinstance(stream, bool):
            raise DiaoduError(f"'stream' must be true or false; got {stream!r}")
        decision = await run_in_threadpool(_approval_reply, assistant, thread_id, text)
        completion_id = "chatcmpl-" + uuid.uuid4().hex[:24]
        headers = {"X-Conversation-Id": thread_id}
        if not stream:
            if decision is not None:
                result = await run_in_threadpool(assistant.resume, thread_id, decision)
            else:
                result = await run_in_threadpool(assistant.ask, text, thread_id)
            return JSONResponse(_completion(completion_id, served_name, result), headers=headers)
        return StreamingResponse(_sse(assistant, text, thread_id, decision, completion_id, served_name),
                                 media_type="text/event-stream", headers={**headers, "Cache-Control": "no-store"})

    return GuardMiddleware(app, token=token, max_body=max_body)


# -- request helpers ------------------------------------------------------------------------------

def _int_param(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise DiaoduError(f"{name} must be a whole number; got {value!r}") from None


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        raise DiaoduError("the request body is empty; send a JSON object", code="bad_request")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno}: {exc.msg})" if isinstance(exc, json.JSONDecodeError) else ""
        raise DiaoduError(f"the request body is not valid JSON{where}", code="bad_json") from None
    if not isinstance(body, dict):
        raise DiaoduError(f"the request body must be a JSON object; got {type(body).__name__}", code="bad_request")
    return body


def last_user_message(messages: Any) -> str:
    """The newest user message's text (OpenAI string content or a list of text parts)."""
    if not isinstance(messages, list) or not messages:
        raise DiaoduError("'messages' must be a non-empty list of {role, content} objects", code="bad_request")
    for msg in reversed(messages):
        if not isinstance(msg, dict) or not isinstance(msg.get("role"), str):
            raise DiaoduError("every message must be an object with a 'role' and 'content'", code="bad_request")
        if msg["role"] != "user":
            continue
        content = msg.get("content")
        if isinstance(content, list):
            parts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
            texts = [p for p in parts if isinstance(p, str)]
            if not texts or len(texts) != len(parts):
                raise DiaoduError("a user message's content parts must include text parts", code="bad_request")
            content = "".join(texts)
        if not isinstance(content, str):
            raise DiaoduError(f"a user message's content must be text; got {type(content).__name__}", code="bad_request")
        return content
    raise DiaoduError("'messages' has no user message", code="bad_request")


def _conversation_id(body: dict[str, Any], request: Request) -> str:
    field, header = body.get("conversation_id"), request.headers.get("x-conversation-id")
    if field is not None and not isinstance(field, str):
        raise DiaoduError(f"conversation_id must be a string; got {field!r}")
    if field and header and field != header:
        raise DiaoduError(f"conversation_id {field!r} and X-Conversation-Id {header!r} disagree; send one")
    return field or header or uuid.uuid4().hex[:12]


def _approval_reply(assistant: Assistant, thread_id: str, text: str) -> bool | None:
    """When the thread waits for an approval, a yes/no message answers it; anything else is a 409."""
    pending = assistant.pending_approval(thread_id)
    if not pending:
        return None
    said = re.sub(r"[\s.!。！]+$", "", text.strip().lower())
    if said in YES:
        return True
    if said in NO:
        return False
    raise DiaoduError(f"thread {thread_id} is waiting for an approval ({pending.get('question')}); answer yes or no, "
                      f"or POST /api/threads/{thread_id}/approve", code="approval_pending")


# -- response shapes --------------------------------------------------------------------------------

def public_turn(result: dict[str, Any]) -> dict[str, Any]:
    """A turn as clients see it: answer, calls (large result fields left out), approval, plan/schedule ids."""
    calls = []
    plan_id = schedule_id = None
    for c in result.get("calls", []):
        res = {}
        for key, value in (c.get("result") or {}).items():
            if len(json.dumps(value, ensure_ascii=False, default=str)) <= MAX_RESULT_FIELD:
                res[key] = value
        if c.get("ok"):
            plan_id = res.get("plan_id") or res.get("new_plan_id") or plan_id
            schedule_id = res.get("schedule_id") or schedule_id
        calls.append({"tool": c.get("tool"), "args": c.get("args"), "ok": c.get("ok"),
                      "seconds": c.get("seconds"), "result": res})
    return {"thread_id": result["thread_id"], "answer": result.get("answer", ""), "calls": calls,
            "pending_approval": result.get("pending_approval"), "plan_id": plan_id, "schedule_id": schedule_id,
            "focus": _public_focus(result.get("focus")), "answer_source": result.get("answer_source"),
            "latency_s": result.get("latency_s")}


def _public_focus(focus: Any) -> dict[str, Any]:
    focus = focus or {}
    return {k: focus.get(k) for k in ("dataset", "plan_id", "schedule_dataset")}


def _completion(completion_id: str, model: str, result: dict[str, Any]) -> dict[str, Any]:
    return {"id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": model,
            "conversation_id": result["thread_id"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": result.get("answer", "")},
                         "finish_reason": "stop"}],
            "diaodu": public_turn(result)}


def _chunk(completion_id: str, model: str, delta: dict[str, Any], finish: str | None = None,
           **extra: Any) -> str:
    data = {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
    return "data: " + json.dumps(data, ensure_ascii=False, default=str) + "\n\n"


def _pieces(text: str) -> list[str]:
    """Word-sized pieces (single characters for Chinese) for streaming a checked answer."""
    return re.findall(r"[\u4e00-\u9fff]|[^\s\u4e00-\u9fff]+\s*|\s+", text) or [text]


async def _sse(assistant: Assistant, text: str, thread_id: str, decision: bool | None, completion_id: str,
               model: str) -> AsyncIterator[str]:
    """The turn as OpenAI SSE chunks.

    The turn runs in its own thread and always finishes, even when the client goes away, so
    no message is lost. The model's draft is sent only as ``diaodu.draft`` extension events:
    the faithfulness check may still replace it, so the standard ``content`` deltas carry
    the checked answer only.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def emit(event: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, event)

    def work() -> None:
        try:
            if decision is not None:
                emit({"result": assistant.resume(thread_id, decision)})
                return
            for event in assistant.ask_stream(text, thread_id):
                emit(event)
        except DiaoduError as exc:
            emit({"error": exc.to_dict()})
        except Exception as exc:  # noqa: BLE001 - reported to the client; the server keeps running
            log.exception("turn failed on thread %s", thread_id)
            emit({"error": {"error": f"internal error ({type(exc).__name__})", "code": "internal"}})

    threading.Thread(target=work, name=f"turn-{thread_id}", daemon=True).start()
    yield _chunk(completion_id, model, {"role": "assistant", "content": ""}, conversation_id=thread_id)
    while True:
        try:
            event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
        except TimeoutError:  # a long solver run: an SSE comment keeps proxies from closing the stream
            yield ": keep-alive\n\n"
            continue
        if "delta" in event:
            yield _chunk(completion_id, model, {}, diaodu={"draft": event["delta"]})
        elif "replace" in event:
            yield _chunk(completion_id, model, {}, diaodu={"draft_rejected": True})
        elif "tool_start" in event:  # lets a client say "running plan_routes..." during solver time
            yield _chunk(completion_id, model, {}, diaodu={"tool_start": event["tool_start"]})
        elif "error" in event:
            err = event["error"]
            yield "data: " + json.dumps({"error": {"message": err.get("error"), "code": err.get("code")}},
                                        ensure_ascii=False) + "\n\n"
            break
        elif "result" in event:
            result = event["result"]
            for piece in _pieces(result.get("answer", "")):
                yield _chunk(completion_id, model, {"content": piece})
            yield _chunk(completion_id, model, {}, "stop", conversation_id=thread_id, diaodu=public_turn(result))
            break
    yield "data: [DONE]\n\n"


def _thread_list(assistant: Assistant, limit: int) -> list[dict[str, Any]]:
    out = []
    for tid in assistant.threads()[:limit]:
        try:
            history = assistant.history(tid)
        except DiaoduError:
            continue
        first = next((m["content"] for m in history if m["role"] == "user"), "")
        out.append({"thread_id": tid, "title": str(first)[:80], "messages": len(history),
                    "pending_approval": assistant.pending_approval(tid) is not None})
    return out
