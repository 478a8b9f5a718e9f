"""One gate in front of every route of the app: the login, and bounded JSON bodies.

Why: Gradio checks ``--auth`` route by route, and some routes have no check (``/gradio_api/cancel``
cancels another user's request given its ids, ``/gradio_api/reset``, ``/gradio_api/heartbeat/…``,
``/gradio_api/app_id``, the OpenAPI schema). This ASGI middleware sits before the router, so a route
Gradio adds in a later version is refused too. Only what the login page itself needs is public: the
page (Gradio serves the login form there, with no app in it), the login call and static assets.

It also refuses JSON bodies over ``max_request_bytes`` or nested deeper than ``max_json_depth`` before
FastAPI parses them (100,000 nested ``[`` would make the parser recurse until it fails).
"""

from __future__ import annotations

import json

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.limits import json_depth_over
from baocao.config import Settings

PUBLIC_PATHS = frozenset({"/", "/login", "/login/", "/favicon.ico", "/theme.css", "/manifest.json",
                          "/robots.txt", "/gradio_api/theme.css", "/gradio_api/login", "/gradio_api/login/"})
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/gradio_api/static/")  # Gradio's own JS, CSS, fonts
STARTUP = "/gradio_api/startup-events"
DRAIN_FACTOR = 8
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequestGuard:
    """ASGI middleware: login required on every non-public route (when the app has auth), bounded JSON."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_bytes = settings.max_request_bytes
        self.max_depth = settings.max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if _needs_login(scope) and not _logged_in(scope):
            await _refuse(scope, send, 401, "Not authenticated: log in first")
            return
        if scope["type"] == "http" and scope["method"] in BODY_METHODS and _is_json(scope):
            body, problem = await self._read_body(scope, receive)
            if problem:
                await _refuse(scope, send, problem[0], problem[1])
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    async def _read_body(self, scope: Scope, receive: Receive) -> tuple[bytes, tuple[int, str] | None]:
        """The whole body, or why it is refused (too big: kept no further; too deep: not parsed).

        An oversized body is still read to its end (up to DRAIN_FACTOR times the limit) and dropped, so the
        client, still sending, gets the 413 instead of a broken pipe.
        """
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= self.max_bytes:
                chunks.append(chunk)
            if not message.get("more_body") or size > DRAIN_FACTOR * self.max_bytes:
                break
        if size > self.max_bytes:
            return b"", (413, self._too_big())
        body = b"".join(chunks)
        if json_depth_over(body, self.max_depth):
            return b"", (400, f"JSON nested deeper than {self.max_depth} levels (limit BAOCAO_MAX_JSON_DEPTH)")
        return body, None

    def _too_big(self) -> str:
        return f"request body over {self.max_bytes} bytes (limit BAOCAO_MAX_REQUEST_BYTES)"


def _path(scope: Scope) -> str:
    root = scope.get("root_path", "")
    path = scope.get("path", "/")
    return path[len(root):] or "/" if root and path.startswith(root) else path


def _needs_login(scope: Scope) -> bool:
    app = scope.get("app")
    if not getattr(app, "auth", None):
        return False
    path = _path(scope)
    if path == STARTUP and not getattr(app, "startup_events_triggered", True):
        return False  # Gradio's launch() calls it once, without a login; afterwards it needs one like the rest
    return path not in PUBLIC_PATHS and not path.startswith(PUBLIC_PREFIXES)


def _logged_in(scope: Scope) -> bool:
    """The same check as Gradio's own: a login cookie whose token the app issued."""
    app = scope["app"]
    cookies = HTTPConnection(scope).cookies
    token = cookies.get(f"access-token-{app.cookie_id}") or cookies.get(f"access-token-unsecure-{app.cookie_id}")
    return token is not None and token in getattr(app, "tokens", {})


def _is_json(scope: Scope) -> bool:
    content_type = dict(scope.get("headers", [])).get(b"content-type", b"")
    return b"json" in content_type.lower() or not content_type


async def _refuse(scope: Scope, send: Send, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008, "reason": message[:120]})
        return
    body = json.dumps({"error": message, "detail": message}).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, original: Receive) -> Receive:
    """A ``receive`` that hands the already-read body to the app, then waits on the real one (disconnects)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive
