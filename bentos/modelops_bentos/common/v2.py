"""The Open Inference Protocol (KServe V2) beside a service's own routes.

KServe, Seldon / MLServer and Triton clients speak it; modelops answers it on
the same process and with the same work as /predict and /recommend:

  GET  /v2                                   server metadata
  GET  /v2/health/live, /v2/health/ready     200, or 503 before the model is loaded
  GET  /v2/models/{name}[/versions/{v}]      model metadata: versions, input and output tensors
  GET  /v2/models/{name}[/versions/{v}]/ready
  POST /v2/models/{name}[/versions/{v}]/infer

An infer request carries one tensor per raw field (shape [N] or [N, 1], the
field's V2 datatype: INT64, FP64 or BYTES; `null` in the data of a nullable
field is a missing value). `records_from_inputs` turns the columns into the
records /predict takes, and the service validates them with the *same*
pydantic model (strict, fields by name), scores them on the same code path,
counts them in the same metrics (endpoint `v2_infer`) and writes them to the
same inference log. Errors keep their status codes (400 / 404 / 413 / 415 /
422 / 503) and take V2's shape `{"error": "..."}`, naming the tensor and the
row (`inputs.orders[2]: Input should be a valid integer`).

This module is pure protocol (parsing, shapes, routing); what a model's
tensors are and how they are answered comes from the service (`V2Model`).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from modelops_features.schema import Field as SchemaField

from . import overload
from . import request_id as request_ids
from .middleware import JSON_TYPES, VERSION_HEADER, json_response, read_body

ENDPOINT = "v2_infer"
DATATYPES = {"int": "INT64", "float": "FP64", "category": "BYTES", "string": "BYTES"}


@dataclass(frozen=True)
class Tensor:
    """One input or output tensor of the model's V2 metadata."""

    name: str
    datatype: str
    shape: tuple[int, ...] = (-1,)
    optional: bool = False

    def metadata(self) -> dict[str, Any]:
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


def input_tensors(fields: Iterable[SchemaField], extra: Iterable[Tensor] = ()) -> list[Tensor]:
    """The input tensors of a feature schema's raw fields: one column each."""
    tensors = [Tensor(f.name, DATATYPES[f.dtype], (-1,), f.nullable) for f in fields]
    return [*tensors, *extra]


class V2Error(Exception):
    """A refused V2 request: its status and message."""

    def __init__(
        self, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers  # e.g. Allow on a 405 (RFC 9110 requires it)


def _flatten(data: Any) -> list[Any]:
    if not isinstance(data, list):
        return [data]
    out: list[Any] = []
    for item in data:
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


def _rows(tensor: dict[str, Any], spec: Tensor) -> list[Any]:
    """The values of one [N] / [N, 1] input tensor, checked against its declaration."""
    where = f"inputs.{spec.name}"
    if tensor.get("datatype") != spec.datatype:
        raise V2Error(
            422, f"{where}: datatype {tensor.get('datatype')!r}, expected {spec.datatype}"
        )
    shape = tensor.get("shape")
    valid_shape = (
        isinstance(shape, list)
        and all(type(d) is int and d >= 0 for d in shape)
        and (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1))
    )
    if not valid_shape:
        raise V2Error(422, f"{where}: shape {shape!r}, expected [N] or [N, 1]")
    if "data" not in tensor:
        raise V2Error(422, f"{where}: no data")
    values = _flatten(tensor["data"])
    if len(values) != math.prod(shape):
        raise V2Error(422, f"{where}: {len(values)} values for shape {shape}")
    return values


def records_from_inputs(payload: Any, specs: Sequence[Tensor]) -> list[dict[str, Any]]:
    """The records of an infer request's columns (values unchecked: the service validates)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("inputs"), list):
        raise V2Error(422, 'inputs: the body must be an object with an "inputs" list')
    known = {s.name: s for s in specs}
    columns: dict[str, list[Any]] = {}
    for i, tensor in enumerate(payload["inputs"]):
        name = tensor.get("name") if isinstance(tensor, dict) else None
        if name not in known:
            raise V2Error(422, f"inputs.{i}: unknown input {name!r}; inputs: {', '.join(known)}")
        if name in columns:
            raise V2Error(422, f"inputs.{name}: given twice")
        columns[name] = _rows(tensor, known[name])
    missing = [s.name for s in specs if s.name not in columns and not s.optional]
    if missing:
        raise V2Error(422, f"inputs: missing {', '.join(missing)}")
    sizes = {len(v) for v in columns.values()}
    if len(sizes) > 1:
        raise V2Error(422, "inputs: the tensors have different batch sizes")
    count = sizes.pop() if sizes else 0
    return [{name: values[i] for name, values in columns.items()} for i in range(count)]


def describe_validation(errors: Iterable[dict[str, Any]]) -> str:
    """pydantic's errors on [group, row, ..., field] as 'inputs.field[row]: message; ...'.

    The service validates the columns as rows (`{"records": [...]}`), so an
    error's location names the row (the first integer) and the field (the
    last name): in V2 terms, the tensor and its index.
    """
    parts = []
    for err in errors:
        loc = list(err.get("loc", ()))
        rows = [p for p in loc if isinstance(p, int)]
        names = [p for p in loc[1:] if isinstance(p, str)]
        if rows and names:
            where = f"inputs.{names[-1]}[{rows[0]}]"
        else:
            where = ".".join(str(p) for p in loc) or "inputs"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def validate(request_model: Any, body: dict[str, Any]) -> Any:
    """`request_model` (the route's own pydantic model) over `body`, errors as V2Error.

    Python-mode validation of the JSON-decoded columns: the same strict rules
    (no bools or numeric strings for numbers, no unknown fields, ranges,
    categories) as the JSON routes.
    """
    from pydantic import ValidationError

    try:
        return request_model.model_validate(body)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        status = 413 if any(e.get("type") == "too_many_records" for e in errors) else 422
        raise V2Error(status, describe_validation(errors)) from None


def error_of(answer: Any) -> V2Error:
    """A service's error Answer (direct.py) as a V2Error with the same status."""
    try:
        message = json.loads(answer.body).get("error", f"HTTP {answer.status}")
    except ValueError:
        message = f"HTTP {answer.status}"
    return V2Error(answer.status, message)


def requested_outputs(payload: dict[str, Any], specs: Sequence[Tensor]) -> list[str]:
    """The output names asked for (all when the request names none)."""
    asked = payload.get("outputs")
    names = [s.name for s in specs]
    if asked is None:
        return names
    if not isinstance(asked, list) or not all(isinstance(o, dict) for o in asked):
        raise V2Error(422, 'outputs: a list of {"name": ...} objects')
    wanted = [o.get("name") for o in asked]
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise V2Error(422, f"outputs: unknown output(s) {unknown}; outputs: {', '.join(names)}")
    return wanted  # type: ignore[return-value]


class V2Model(Protocol):
    """What a service gives the V2 routes."""

    def v2_name(self) -> str: ...
    def v2_version(self) -> str | None: ...
    def v2_platform(self) -> str: ...
    def v2_inputs(self) -> Sequence[Tensor]: ...
    def v2_outputs(self) -> Sequence[Tensor]: ...
    async def v2_infer(
        self, records: list[dict[str, Any]], payload: dict[str, Any]
    ) -> dict[str, dict[str, Any]]:
        """Output name -> {"datatype", "shape", "data"}; raises V2Error."""
        ...


MODEL_PATH = re.compile(
    r"^/v2/models/(?P<name>[^/]+)(?:/versions/(?P<version>[^/]+))?(?P<tail>/ready|/infer)?$"
)


class V2Routes:
    """ASGI middleware answering /v2/... from the service (`state()` returns it, or None)."""

    def __init__(
        self, app: Any, state: Callable[[], Any], max_body_bytes: Callable[[], int]
    ) -> None:
        self.app = app
        self.state = state
        self.max_body_bytes = max_body_bytes
        self.queue = overload.admission_queue()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/v2"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = self.state()
        headers = dict(scope.get("headers") or [])
        rid = request_ids.from_header(headers.get(request_ids.HEADER))
        token = request_ids.current.set(rid)
        stamps = [(request_ids.HEADER, rid.encode("ascii"))]
        if state is not None and state.version_header():
            stamps.append((VERSION_HEADER, state.version_header()))
        infer = path.endswith("/infer")
        status = 500
        paced = infer and self.queue.enabled
        released = 0.0
        try:
            # Inference queues and is shed like /predict (overload.py); health and
            # metadata never are.
            if paced:
                expected = await self.queue.enter(ENDPOINT)
                if expected is not None:
                    paced = False
                    status, refusal = self.queue.refusal(expected)
                    start, message = json_response(
                        status, {"error": refusal["error"]}, [*stamps, overload.RETRY_AFTER_HEADER]
                    )
                    await send(start)
                    await send(message)
                    return
                released = time.perf_counter()
            try:
                status, body = await self._answer(state, path, scope, headers, receive)
            except V2Error as exc:
                status, body = exc.status, {"error": exc.message}
                stamps.extend(exc.headers)
            start, message = json_response(status, body, stamps)
            await send(start)
            await send(message)
        finally:
            request_ids.current.reset(token)
            ended = time.perf_counter()
            if paced and released:
                self.queue.done(ENDPOINT, ended - released)
            if infer and state is not None:
                state.telemetry.observe_request(ENDPOINT, status, ended - started)

    async def _answer(
        self,
        state: Any,
        path: str,
        scope: dict[str, Any],
        headers: dict[bytes, bytes],
        receive: Any,
    ) -> tuple[int, dict[str, Any]]:
        method = scope.get("method")
        if state is None:
            raise V2Error(503, "the service is starting")
        model: V2Model = state
        ready = model.v2_version() is not None
        if path in ("/v2", "/v2/"):
            _only(method, "GET")
            return 200, {"name": "modelops", "version": "2", "extensions": []}
        if path == "/v2/health/live":
            _only(method, "GET")
            return 200, {"live": True}
        if path == "/v2/health/ready":
            _only(method, "GET")
            return (200 if ready else 503), {"ready": ready}
        match = MODEL_PATH.match(path)
        if match is None:
            raise V2Error(404, f"no such route: {path}")
        self._check_model(model, match["name"], match["version"], ready)
        tail = match["tail"]
        if tail == "/ready":
            _only(method, "GET")
            return 200, {"name": model.v2_name(), "ready": True}
        if tail is None:
            _only(method, "GET")
            return 200, {
                "name": model.v2_name(),
                "versions": [model.v2_version()],
                "platform": model.v2_platform(),
                "inputs": [t.metadata() for t in model.v2_inputs()],
                "outputs": [t.metadata() for t in model.v2_outputs()],
            }
        _only(method, "POST")
        return 200, await self._infer(model, scope, headers, receive)

    def _check_model(self, model: V2Model, name: str, version: str | None, ready: bool) -> None:
        if name != model.v2_name():
            raise V2Error(404, f"unknown model {name!r}: this service serves {model.v2_name()!r}")
        if not ready:
            raise V2Error(503, "model not loaded yet")
        if version is not None and version != model.v2_version():
            raise V2Error(
                404, f"version {version!r} is not served here (serving {model.v2_version()})"
            )

    async def _infer(
        self, model: V2Model, scope: dict[str, Any], headers: dict[bytes, bytes], receive: Any
    ) -> dict[str, Any]:
        media_type = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip()
        if media_type.lower() not in JSON_TYPES:
            raise V2Error(415, f"unsupported content type {media_type!r}: send application/json")
        limit = self.max_body_bytes()
        body = await read_body(receive, limit)
        if body is None:
            raise V2Error(400, "the client went away")
        if isinstance(body, int):
            raise V2Error(413, f"request body above the limit of {limit} bytes")
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise V2Error(400, f"the body is not JSON: {exc}") from None
        records = records_from_inputs(payload, model.v2_inputs())
        wanted = requested_outputs(payload, model.v2_outputs())
        outputs = await model.v2_infer(records, payload)
        answer: dict[str, Any] = {
            "model_name": model.v2_name(),
            "model_version": model.v2_version(),
            "outputs": [{"name": name, **outputs[name]} for name in wanted],
        }
        if isinstance(payload.get("id"), str):
            answer["id"] = payload["id"]
        return answer


def _only(method: Any, allowed: str) -> None:
    if method != allowed:
        raise V2Error(
            405,
            f"method {method} not allowed here: use {allowed}",
            headers=((b"allow", allowed.encode("ascii")),),
        )
