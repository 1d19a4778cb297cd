"""Error-body shaping of the services' common middleware (pure functions)."""

from __future__ import annotations

import json

from modelops_bentos.common.middleware import describe_errors, error_status, reshape_error


def pydantic_400(*errors: dict) -> bytes:
    return json.dumps({"error": "1 validation error for Input", "detail": list(errors)}).encode()


def test_validation_errors_become_422_naming_every_field() -> None:
    body = pydantic_400(
        {"type": "literal_error", "loc": ["records", 0, "plan"], "msg": "Input should be 'a'",
         "url": "https://errors.pydantic.dev/x"},
        {"type": "missing", "loc": ["records", 2, "orders"], "msg": "Field required"},
    )  # fmt: skip
    status, out = reshape_error(400, body)
    payload = json.loads(out)
    assert status == 422
    assert "records.0.plan" in payload["error"] and "records.2.orders" in payload["error"]
    assert all("url" not in e for e in payload["detail"])


def test_invalid_json_stays_400_and_too_many_records_is_413() -> None:
    invalid = pydantic_400({"type": "json_invalid", "loc": [], "msg": "Invalid JSON"})
    assert reshape_error(400, invalid)[0] == 400
    assert json.loads(reshape_error(400, invalid)[1])["error"].startswith("invalid request: body")
    many = pydantic_400({"type": "too_many_records", "loc": ["records"], "msg": "at most 2"})
    assert reshape_error(400, many)[0] == 413


def test_bentoml_list_wrapped_errors_are_unwrapped() -> None:
    status, out = reshape_error(503, json.dumps([{"error": "process is overloaded"}]).encode())
    assert status == 503
    assert json.loads(out) == {"error": "process is overloaded"}


def test_non_json_error_bodies_become_json() -> None:
    status, out = reshape_error(500, b"Internal Server Error")
    assert status == 500
    assert json.loads(out) == {"error": "Internal Server Error"}
    assert json.loads(reshape_error(404, b"")[1]) == {"error": "HTTP 404"}


def test_error_status_only_rewrites_pydantic_400s() -> None:
    detail = [{"type": "missing", "loc": ["x"], "msg": "Field required"}]
    assert error_status(detail, 400) == 422
    assert error_status(detail, 503) == 503
    assert error_status("not a list", 400) == 400


def test_describe_errors_uses_body_for_the_root() -> None:
    assert describe_errors([{"loc": [], "msg": "Input should be an object"}]) == (
        "body: Input should be an object"
    )


def test_a_request_whose_client_left_is_still_answered_so_bentoml_lets_it_end() -> None:
    """BentoML's timeout middleware ends a request's task only after its first send().

    A caller that left before its body was read (one parked in the admission
    queue under overload, typically) used to get no send at all, so each held
    its task for the whole traffic timeout and a stopping worker waited for it.
    The answer goes nowhere (uvicorn drops sends on a closed connection).
    """
    import asyncio

    from bentoml._internal.server.http.traffic import TimeoutMiddleware

    from modelops_bentos.common.middleware import CLIENT_GONE, ModelopsMiddleware

    middleware = ModelopsMiddleware(
        app=None, endpoints=["predict"], state=lambda: None, max_body_bytes=lambda: 1 << 20
    )
    sent: list[dict] = []

    async def route(body: bytes) -> None:
        raise AssertionError("nothing to predict for a caller that left")

    async def app(scope: dict, receive, send) -> None:
        assert await middleware._answer_directly(route, receive, send, []) == CLIENT_GONE

    async def receive() -> dict:
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    # An hour of traffic timeout: without the answer this would not return for an hour.
    guarded = TimeoutMiddleware(app, timeout=3600)
    asyncio.run(asyncio.wait_for(guarded({"type": "http"}, receive, send), timeout=60))
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == CLIENT_GONE
