"""Direct routes: a hot API route answered inside the BentoML app, past its router.

Why: on a one-record /predict, BentoML's per-request machinery between our
middleware and the service method (starlette's exception middleware and router,
BentoML's context middleware, `api_endpoint_wrapper`, the serde lookup, the
response object and its headers) cost about a third of the worker's CPU
(py-spy, docs/serving-performance.md) -- more than the features and the
prediction together. A direct route does the same work without it:

* the body is validated by the *very* input model BentoML generated for the
  API (`Service.apis[name].input_spec`, through `model_validate_json`, the call
  BentoML's JSON serde makes), so every field rule and error location is the
  same; a service may put a faster decoder in front that only *accepts* bodies
  that are surely valid and hands everything else to that model (churn's
  msgspec decoder, churn/fast_records.py);
* the service's own method logic answers (readiness, faults, scoring,
  telemetry), and the response is the same `model_dump_json` bytes;
* errors are shaped by the middleware's one error shape (`reshape_payload`).

What stays in front of it: BentoML's metrics middleware (bentoml_* still count
every request), its timeout middleware, uvicorn, and our middleware's 415 /
413 guards and request accounting. BentoML keeps process management, health,
/metrics, the OpenAPI document, adaptive batching and `bentoml build`.

Switched off (the request goes through BentoML's route, answering the same)
when MODELOPS_DIRECT_ROUTES=false, when request tracing is on (spans are made
by BentoML's route machinery) and when BentoML's CORS is enabled (its CORS
middleware sits inside ours and would not see a direct answer). A test posts
every good and bad input to both and compares status and body.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from .middleware import describe_errors, reshape_payload

DIRECT_ENV = "MODELOPS_DIRECT_ROUTES"
UNEXPECTED = "An unexpected error has occurred, please check the server log."

# Under "bentoml.": `bentoml serve` configures only that logger tree, so a name
# outside it would drop the rejected-input line the BentoML route would log.
log = logging.getLogger("bentoml.modelops.direct")


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer: status, JSON body bytes, extra headers."""

    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...] = ()


def error_answer(
    status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
) -> Answer:
    """An error in the one shape every modelops route answers with."""
    status, body = reshape_payload(status, payload)
    extra = tuple(
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
    )
    return Answer(status, body, extra)


def validation_answer(exc: ValidationError) -> Answer:
    """What BentoML answers for a ValidationError (its app.py), reshaped like every error."""
    return error_answer(
        400,
        {
            "error": f"{exc.error_count()} validation error for {exc.title}",
            "detail": exc.errors(include_context=False, include_input=False),
        },
    )


Handler = Callable[[Any], Awaitable[Answer]]
# A fast first reading of a body: the parsed request if it is surely valid,
# None to let the input model decide (churn/fast_records.py).
FastDecoder = Callable[[bytes], Any | None]


class DirectRoute:
    """One API route: BentoML's generated input model, then the service's handler.

    With a `fast` decoder, a body it accepts skips the input model; anything
    else (every invalid body included) is validated by the input model, so the
    answer to a bad body is always the input model's.
    """

    def __init__(
        self,
        path: str,
        input_model: type[BaseModel],
        handler: Handler,
        fast: FastDecoder | None = None,
    ) -> None:
        self.path = path
        self.input_model = input_model
        self.handler = handler
        self.fast = fast

    async def __call__(self, body: bytes) -> Answer:
        parsed = self.fast(body) if self.fast is not None else None
        if parsed is None:
            parsed = self._validate(body)
            if isinstance(parsed, Answer):
                return parsed
        try:
            return await self.handler(parsed)
        except Exception:
            log.exception("POST %s failed", self.path)
            return error_answer(500, {"error": UNEXPECTED})

    def _validate(self, body: bytes) -> Any:
        """The input model's reading of the body, or the 4xx answer for it."""
        try:
            # BentoML's JSON serde reads an empty body as {} (a 422 naming the
            # missing fields, not a JSON syntax error).
            return self.input_model.model_validate_json(body or b"{}")
        except ValidationError as exc:
            # One INFO line naming the fields, never the values (personal data),
            # as the services' log filter makes of BentoML's traceback.
            log.info(
                "POST %s: rejected invalid input: %s",
                self.path,
                describe_errors(exc.errors(include_input=False)),
            )
            return validation_answer(exc)


def direct_routes_enabled(env: dict[str, str] | None = None, *, tracing: bool, cors: bool) -> bool:
    """Whether direct routes may answer (see the module docstring for the exceptions)."""
    source = os.environ if env is None else env
    switched_off = source.get(DIRECT_ENV, "").strip().lower() in ("0", "false", "no", "off")
    return not (switched_off or tracing or cors)


def bentoml_cors_enabled() -> bool:
    """BentoML's `http.cors.enabled` setting (False if it cannot be read)."""
    try:
        from bentoml._internal.container import BentoMLContainer

        return bool(BentoMLContainer.http.cors.enabled.get())
    except Exception:  # pragma: no cover - an internal path moved: be conservative
        return True
