"""ASGI middleware around a modelops service's API routes (churn, learning-path).

It does the per-request work that must also cover requests BentoML rejects
before our code runs (validation errors, overload), which a method body cannot:

* refuses non-JSON content types (415) and oversized bodies by Content-Length
  (413) before anything parses them;
* reshapes BentoML's error bodies into one JSON object that names the failing
  field(s), and maps pydantic validation failures to 422 (400 for malformed
  JSON, 413 for too many records) -- BentoML answers all of them 400, and for
  some errors with a one-element list;
* counts requests and their duration per endpoint and status, and stamps the
  model version on every response (X-Modelops-Model-Version);
* sheds load: a prediction request waits for its turn in the worker's
  admission queue, or, when more than MODELOPS_MAX_QUEUE_MS of work is queued
  ahead of it, is answered 503 with Retry-After at once (overload.py);
* gives every request an id (the caller's X-Request-Id, or a new one), sets it
  where the handler finds it (request_id.py) and returns it in X-Request-Id.

Successful responses stream through untouched; only error bodies (small) are
buffered.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from . import overload
from . import request_id as request_ids

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_TYPES = ("application/json", "")
VERSION_HEADER = b"x-modelops-model-version"


def error_status(detail: Any, current: int) -> int:
    """The HTTP status for a pydantic error list BentoML reported as 400."""
    if current != 400 or not isinstance(detail, list):
        return current
    types = {e.get("type") for e in detail if isinstance(e, dict)}
    if "too_many_records" in types:
        return 413
    if "json_invalid" in types:
        return 400
    return 422


def describe_errors(detail: Iterable[Any]) -> str:
    """'records.0.plan: Input should be ...; ...' -- every failing field by path."""
    parts = []
    for err in detail:
        if not isinstance(err, dict):
            continue
        loc = ".".join(str(p) for p in err.get("loc", ())) or "body"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def reshape_error(status: int, body: bytes) -> tuple[int, bytes]:
    """One JSON object {"error": str, "detail": [...]} for any error body."""
    try:
        payload = json.loads(body) if body else {}
    except ValueError:
        payload = {"error": body.decode("utf-8", "replace").strip()}
    return reshape_payload(status, payload)


def reshape_payload(status: int, payload: Any) -> tuple[int, bytes]:
    """(status, body) of an error payload in the one shape every route answers with."""
    if isinstance(payload, list) and len(payload) == 1 and isinstance(payload[0], dict):
        payload = payload[0]
    if not isinstance(payload, dict):
        payload = {"error": str(payload)}
    detail = payload.get("detail")
    if isinstance(detail, list) and detail:
        status = error_status(detail, status)
        fields = describe_errors(detail)
        if fields:
            payload["error"] = f"invalid request: {fields}"
        # The pydantic error "url" links are noise for API clients.
        payload["detail"] = [
            {k: v for k, v in e.items() if k != "url"} if isinstance(e, dict) else e for e in detail
        ]
    payload.setdefault("error", f"HTTP {status}")
    return status, json.dumps(payload).encode("utf-8")


def json_response(
    status: int, payload: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> tuple[Message, Message]:
    body = json.dumps(payload).encode("utf-8")
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *(extra or ()),
        ],
    }
    return start, {"type": "http.response.body", "body": body, "more_body": False}


async def read_body(receive: Receive, limit: int) -> bytes | int | None:
    """The request body; its size so far (int) once it passes `limit`; None on disconnect.

    Content-Length was already checked; this guards chunked bodies that carry none.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return size
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


# nginx's "client closed request": never seen by the client, only in our metrics.
CLIENT_GONE = 499


def client_gone() -> tuple[int, dict[str, Any]]:
    return CLIENT_GONE, {
        "error": "the client closed the connection before its request was read",
        "detail": [{"loc": ["body"], "type": "client_gone"}],
    }


def too_large(size: int, limit: int) -> tuple[int, dict[str, Any]]:
    return 413, {
        "error": f"request body of {size} bytes exceeds the limit of {limit} bytes",
        "detail": [{"loc": ["body"], "type": "body_too_large"}],
    }


class ModelopsMiddleware:
    """See the module docstring. `telemetry` returns the current service state or None."""

    def __init__(
        self,
        app: ASGIApp,
        endpoints: Iterable[str],
        state: Callable[[], Any],
        max_body_bytes: Callable[[], int],
        unpaced: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.paths = {f"/{e.strip('/')}": e.strip("/") for e in endpoints}
        self._lookup_state = state
        self._state: Any = None
        self.max_body_bytes = max_body_bytes
        # Read when the app is built: a malformed MODELOPS_MAX_QUEUE_MS refuses to start.
        self.queue = overload.admission_queue()
        # Endpoints that queue elsewhere (adaptive batching) skip the admission queue.
        self.unpaced = frozenset(e.strip("/") for e in unpaced)

    def _capture_state_on_startup(self, send: Send) -> Send:
        """Remember the service instance the moment this app's startup completes.

        BentoML's current-service lookup is process-global: it names the most
        recently started instance. Read right after this app's startup, it is
        this app's own, even when one process later starts another app (tests).
        """

        async def lifespan_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                self._state = self._lookup_state()
                # The serving loop: from now on overload is refused as requests arrive.
                paced = {p: e for p, e in self.paths.items() if e not in self.unpaced}
                overload.shed_on_arrival(
                    asyncio.get_running_loop(), self.queue, paced, self._shed_app
                )
            await send(message)

        return lifespan_send

    def _shed_app(self, endpoint: str, expected: float) -> ASGIApp:
        """The app that answers a request refused on arrival (overload.py): a 503, counted."""

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            headers = dict(scope.get("headers") or [])
            rid = request_ids.from_header(headers.get(request_ids.HEADER))
            start, body = json_response(
                *self.queue.refusal(expected),
                [(request_ids.HEADER, rid.encode("ascii")), overload.RETRY_AFTER_HEADER],
            )
            await send(start)
            await send(body)
            state = self.state()
            if state is not None:
                state.telemetry.observe_request(endpoint, 503, 0.0)

        return app

    def state(self) -> Any:
        # The service instance is created once per app (before its first request)
        # and lives as long as the app; remember it so each app keeps talking to
        # its own instance even when a process hosts several apps (tests).
        if self._state is None:
            self._state = self._lookup_state()
        return self._state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._capture_state_on_startup(send))
            return
        endpoint = self.paths.get(scope.get("path", "")) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = self.state()
        status = 500
        headers = dict(scope.get("headers") or [])
        rid = request_ids.from_header(headers.get(request_ids.HEADER))
        token = request_ids.current.set(rid)
        stamps = [(request_ids.HEADER, rid.encode("ascii"))]
        paced = self.queue.enabled and endpoint not in self.unpaced
        released = 0.0
        try:
            if paced:
                expected = await self.queue.enter(endpoint)
                if expected is not None:
                    # Shed before the body is read: no parsing, features or model work.
                    paced = False  # not admitted: its time is not a cost sample
                    refusal = self.queue.refusal(expected)
                    start, body = json_response(*refusal, [*stamps, overload.RETRY_AFTER_HEADER])
                    await send(start)
                    await send(body)
                    status = refusal[0]
                    return
                released = time.perf_counter()
            refusal = self._refuse(scope, headers)
            if refusal is not None:
                start, body = json_response(*refusal, stamps)
                await send(start)
                await send(body)
                status = refusal[0]
                return
            version = state.version_header() if state is not None else b""
            if version:
                stamps.append((VERSION_HEADER, version))
            route = self._direct_route(state, endpoint, scope)
            if route is not None:
                status = await self._answer_directly(route, receive, send, stamps)
            else:
                status = await self._through_bentoml(scope, receive, send, stamps)
        finally:
            request_ids.current.reset(token)
            ended = time.perf_counter()
            if paced and released:
                self.queue.done(endpoint, ended - released)
            if state is not None:
                state.telemetry.observe_request(endpoint, status, ended - started)

    @staticmethod
    def _direct_route(state: Any, endpoint: str, scope: Scope) -> Any:
        """The service's direct route for this endpoint, if it has one (direct.py)."""
        if state is None or scope.get("method") != "POST":
            return None
        routes = getattr(state, "direct_routes", None)
        return routes.get(endpoint) if routes else None

    async def _answer_directly(
        self, route: Any, receive: Receive, send: Send, stamps: list[tuple[bytes, bytes]]
    ) -> int:
        """Read the body, let the route answer, send it; returns the status sent."""
        body = await read_body(receive, self.max_body_bytes())
        if body is None:
            # The client went away before its body was read (e.g. while it waited in
            # the admission queue). Nobody receives this answer (uvicorn drops sends
            # on a closed connection), but BentoML's timeout middleware waits for a
            # first send() before it lets the request's task end: without one, every
            # abandoned request held its task for the whole traffic timeout (30 s),
            # and a worker stopping after an overload waited that long to exit.
            start, message = json_response(*client_gone(), stamps)
            await send(start)
            await send(message)
            return CLIENT_GONE
        if isinstance(body, int):
            start, message = json_response(*too_large(body, self.max_body_bytes()), stamps)
            await send(start)
            await send(message)
            return 413
        answer = await route(body)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(answer.body)).encode()),
            *answer.headers,
            *stamps,
        ]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body, "more_body": False})
        return answer.status

    async def _through_bentoml(
        self, scope: Scope, receive: Receive, send: Send, stamps: list[tuple[bytes, bytes]]
    ) -> int:
        """BentoML's route answers; we stamp the version and request id, reshape error bodies."""
        stamped = {name for name, _ in stamps}
        status_seen = 500
        held: Message | None = None
        chunks: list[bytes] = []

        async def wrapped_send(message: Message) -> None:
            nonlocal held, status_seen
            if message["type"] == "http.response.start":
                status_seen = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in stamped
                ]
                headers += stamps
                message = {**message, "headers": headers}
                if status_seen >= 400:
                    held = message  # buffer the (small) error body to reshape it
                    return
                await send(message)
            elif message["type"] == "http.response.body" and held is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                status, body = reshape_error(held["status"], b"".join(chunks))
                status_seen = status
                headers = [
                    (k, v)
                    for k, v in held.get("headers", [])
                    if k.lower() not in (b"content-length", b"content-type")
                ]
                headers += [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]
                await send({**held, "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body, "more_body": False})
            else:
                await send(message)

        await self.app(scope, receive, wrapped_send)
        return status_seen

    def _refuse(
        self, scope: Scope, headers: dict[bytes, bytes]
    ) -> tuple[int, dict[str, Any]] | None:
        if scope.get("method") != "POST":
            return None  # the router answers 405 by itself
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        media_type = content_type.split(";")[0].strip().lower()
        if media_type not in JSON_TYPES:
            return 415, {
                "error": f"unsupported content type {media_type!r}: send application/json",
                "detail": [{"loc": ["header", "content-type"], "type": "media_type"}],
            }
        length = headers.get(b"content-length")
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                return 400, {"error": "invalid Content-Length header"}
            limit = self.max_body_bytes()
            if size > limit:
                return too_large(size, limit)
        return None
