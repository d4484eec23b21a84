"""The server's outer wall: bearer-token check and request-size limit, as one ASGI middleware.

It sits outside FastAPI so that an oversized or unauthorised request is refused before any
route reads it, and so that a body sent without ``Content-Length`` (chunked) is still counted.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY_BYTES = 64 * 1024
TOKEN_COOKIE = "diaodu_token"


def error_payload(path: str, message: str, code: str) -> dict[str, Any]:
    """The error body: OpenAI's ``{"error": {"message", "type", "code"}}`` under ``/v1`` (so OpenAI
    clients show the message), ``{"error": message, "code": code}`` everywhere else."""
    if path.startswith("/v1/"):
        return {"error": {"message": message, "type": "invalid_request_error" if code != "internal" else "server_error",
                          "code": code}}
    return {"error": message, "code": code}


async def send_json(send: Send, status: int, payload: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """Refuse requests without the bearer token (when one is set) and bodies over ``max_body`` bytes.

    With a token, every request is checked: the ``Authorization: Bearer`` header, or the
    ``diaodu_token`` cookie that ``GET /?token=...`` sets so a browser can open the page.
    """

    def __init__(self, app: Any, token: str | None = None, max_body: int = MAX_BODY_BYTES):
        self.app = app
        self.token = token or None
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path = str(scope.get("path", ""))
        if self.token and not self._authorised(scope, headers):
            await send_json(send, 401, error_payload(path, "missing or wrong token: send 'Authorization: Bearer <token>' "
                                                           "(or open /?token=<token> in a browser)", "unauthorized"),
                            [(b"www-authenticate", b"Bearer")])
            return
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                await send_json(send, 400, error_payload(path, f"Content-Length must be a whole number; got {length!r}",
                                                         "bad_request"))
                return
            if int(length) > self.max_body:
                await send_json(send, 413, self._too_large(path, int(length)))
                return
        # Read the whole body first (it is at most max_body bytes), so a chunked upload that grows too
        # large is refused here, before any route sees it, then hand it on to the app unchanged.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:
                await send_json(send, 413, self._too_large(path, size))
                return
            if not message.get("more_body", False):
                break
        replay: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay_receive() -> Message:
            if replay:
                return replay.pop()
            return await receive()

        await self.app(scope, replay_receive, send)

    def _too_large(self, path: str, size: int) -> dict[str, Any]:
        return error_payload(path, f"request body too large ({size} bytes or more; at most {self.max_body})", "too_large")

    def _authorised(self, scope: Scope, headers: dict[str, str]) -> bool:
        assert self.token is not None
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer " and hmac.compare_digest(auth[7:].strip().encode(), self.token.encode()):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed cookie header is just "no cookie"
            return False
        morsel = cookie.get(TOKEN_COOKIE)
        if morsel is not None and hmac.compare_digest(morsel.value.encode(), self.token.encode()):
            return True
        # the page's own address with ?token=: the app sets the cookie and redirects
        if scope.get("path") == "/" and scope.get("method") == "GET":
            from urllib.parse import parse_qs

            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = (query.get("token") or [""])[0]
            if given and hmac.compare_digest(given.encode(), self.token.encode()):
                scope.setdefault("state", {})["set_token_cookie"] = True
                return True
        return False
