"""A direct route's fast decoder: what it accepts skips the input model, the rest does not."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from modelops_bentos.common.direct import Answer, DirectRoute


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    n: int


VALIDATIONS: list[bytes] = []


class CountingBody(Body):
    @classmethod
    def model_validate_json(cls, *args: Any, **kwargs: Any) -> Any:
        VALIDATIONS.append(args[0])
        return super().model_validate_json(*args, **kwargs)


async def echo(parsed: Any) -> Answer:
    return Answer(200, json.dumps({"got": repr(parsed)}).encode())


def call(route: DirectRoute, body: bytes) -> Answer:
    return asyncio.run(route(body))


def fast_only_small(body: bytes) -> Any | None:
    n = json.loads(body).get("n") if body.startswith(b"{") else None
    return ("fast", n) if type(n) is int and n < 10 else None


def test_a_body_the_fast_decoder_accepts_never_reaches_the_input_model() -> None:
    VALIDATIONS.clear()
    route = DirectRoute("/x", CountingBody, echo, fast=fast_only_small)
    answer = call(route, b'{"n": 3}')
    assert answer.status == 200
    assert json.loads(answer.body) == {"got": "('fast', 3)"}
    assert VALIDATIONS == []


def test_anything_else_is_the_input_models_reading_and_error() -> None:
    VALIDATIONS.clear()
    route = DirectRoute("/x", CountingBody, echo, fast=fast_only_small)
    assert json.loads(call(route, b'{"n": 30}').body) == {"got": "CountingBody(n=30)"}
    bad = call(route, b'{"n": "3"}')
    assert bad.status == 422
    assert json.loads(bad.body)["detail"][0]["loc"] == ["n"]
    assert VALIDATIONS == [b'{"n": 30}', b'{"n": "3"}']
    # The same answer as the route without a fast decoder.
    assert call(DirectRoute("/x", CountingBody, echo), b'{"n": "3"}') == bad
