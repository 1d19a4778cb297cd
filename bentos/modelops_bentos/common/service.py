"""The parts of a modelops `@bentoml.service` class every service shares.

* `ServedModel`, a mix-in of the service class: the background model holder,
  the telemetry built from the loaded model's profile, the version header the
  middleware stamps, readiness, /metrics, the loader's shutdown, the 503 a
  request gets before the model is loaded, the direct routes, and the
  inference log and feedback (ground_truth.py: started with the service,
  flushed with a bounded wait at shutdown; /feedback's handler).
* `service_config`: one worker, no access log, and (`tracing_config`) the API
  routes untraced unless MODELOPS_TRACE_REQUESTS=true.
* `add_modelops_middleware`: the ASGI middleware (middleware.py) on the service.

BentoML finds `__is_ready__`, `__metrics__` and `@bentoml.on_shutdown` hooks
through `dir()` / `hasattr` of the service class, so inherited ones count.
Importing this module installs the validation-log filter (logfilter.py).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import bentoml
from starlette.responses import Response

from . import feedback as feedback_api
from . import logfilter, overload, request_timer
from .direct import (
    Answer,
    DirectRoute,
    FastDecoder,
    Handler,
    bentoml_cors_enabled,
    direct_routes_enabled,
    error_answer,
)
from .ground_truth import GroundTruth, LogConfig
from .loader import LoadRequest, ModelHolder
from .middleware import ModelopsMiddleware
from .openapi import DocsRoutes, document, model_schemas, render_json
from .telemetry import Telemetry
from .v2 import V2Routes

TRACING_ENV = "MODELOPS_TRACE_REQUESTS"

logfilter.install()
# Every request's timeout timer is cancelled once answered (request_timer.py):
# BentoML's own stays alive for traffic.timeout, a p99 tail and MiBs under load.
request_timer.install()


def tracing_requested(env: Mapping[str, str] | None = None) -> bool:
    source = os.environ if env is None else env
    return source.get(TRACING_ENV, "").strip().lower() in ("1", "true", "yes")


def tracing_config(
    endpoints: Iterable[str], env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """BentoML tracing settings: API routes untraced unless MODELOPS_TRACE_REQUESTS=true.

    BentoML wraps every request in an OpenTelemetry span even when no exporter
    is configured; on a 1-record call that was the largest single cost (~21% of
    the worker's CPU, docs/serving-performance.md). Operators who export traces
    turn it back on with the environment variable.
    """
    if tracing_requested(env):
        return {}
    return {"excluded_urls": [f"/{e}$" for e in endpoints]}


def service_config(endpoints: Iterable[str]) -> dict[str, Any]:
    """The `@bentoml.service` settings every modelops service runs with."""
    return {
        # One worker per pod: the modelops_ counters are per process (telemetry.py).
        "workers": 1,
        "traffic": {"timeout": 30},
        # No per-request access-log line (a formatted log record per call costs
        # more than the prediction); errors are still logged, and request counts
        # and latencies are in /metrics (BentoML's and modelops_*).
        "logging": {"access": {"enabled": False}},
        "tracing": tracing_config(endpoints),
    }


class ServedModel:
    """Mix-in of a modelops service class (see the module docstring)."""

    holder: ModelHolder
    telemetry: Telemetry
    ground_truth: GroundTruth
    direct_routes: dict[str, DirectRoute]
    _version_header: bytes = b""

    def serve_model(
        self,
        holder: ModelHolder,
        telemetry: Telemetry,
        apis: Mapping[str, Any],
        direct: Mapping[str, Handler],
        kind: str,
        fast: Mapping[str, FastDecoder] | None = None,
    ) -> None:
        """Wire the holder, telemetry, ground truth and direct routes, then start loading.

        `apis` is the bentoml.Service's `apis`: each direct route validates with
        the input model BentoML generated for the API of the same name. `kind`
        names the inference-log layout (modelops_features.inference_log).
        `fast` names a fast-accept decoder per direct route (direct.py).
        """
        self.holder = holder
        self.telemetry = telemetry
        self.ground_truth = ground_truth_for(kind, holder.request)
        telemetry.add_source(self.ground_truth.families)
        queue = overload.admission_queue()
        telemetry.add_source(lambda: queue.families(telemetry.model, telemetry.version))
        holder.on_loaded(self._on_loaded)
        enabled = direct_routes_enabled(tracing=tracing_requested(), cors=bentoml_cors_enabled())
        self.direct_routes = (
            {
                name: DirectRoute(
                    f"/{name}", apis[name].input_spec, handler, (fast or {}).get(name)
                )
                for name, handler in direct.items()
            }
            if enabled
            else {}
        )
        self.ground_truth.start()
        holder.start()

    def _on_loaded(self, loaded: Any) -> None:
        self.telemetry.model_loaded(loaded.version, loaded.profile)
        self._version_header = loaded.version.encode()
        # Everything alive now (BentoML, numpy, the model) lives as long as the
        # process: move it out of the collector's reach, so a full collection
        # triggered by request garbage scans request objects only, not the whole
        # heap of a ~500 MB process (the p99 spikes of a busy worker).
        gc.freeze()

    def version_header(self) -> bytes:
        return self._version_header

    # -- the Open Inference Protocol (v2.py): what every service answers the same way

    def v2_name(self) -> str:
        return self.holder.request.model

    def v2_version(self) -> str | None:
        loaded = self.holder.loaded
        return loaded.version if loaded is not None else None

    async def __is_ready__(self) -> bool:
        return self.holder.ready

    async def __metrics__(self, content: str) -> str:
        return content + self.telemetry.render()

    @bentoml.on_shutdown
    def stop_loader(self) -> None:
        self.holder.stop()

    @bentoml.on_shutdown
    def flush_ground_truth(self) -> None:
        # Bounded (MODELOPS_LOG_SHUTDOWN_SECONDS): what cannot be stored in
        # time is counted as dropped, and the pod still stops.
        self.ground_truth.close()

    def _accept_feedback(self, outcomes: list[Any]) -> dict[str, Any] | Answer:
        """/feedback's work: queue the validated outcomes (422 / 503 as Answers)."""
        policy = self.ground_truth.config.identifiers
        if policy.mode == "omit":
            named = [i for i, item in enumerate(outcomes) if item.entity_id is not None]
            if named:
                detail = [
                    {
                        "type": "entity_id_not_logged",
                        "loc": ["outcomes", i, "entity_id"],
                        "msg": "the inference log omits entity ids "
                        "(MODELOPS_LOG_IDENTIFIERS=omit): give request_id",
                    }
                    for i in named
                ]
                return error_answer(422, {"error": "invalid request", "detail": detail})
        if not self.ground_truth.feedback(feedback_api.rows(outcomes)):
            return error_answer(
                503,
                {"error": "the feedback queue is full (MODELOPS_LOG_QUEUE_RECORDS); retry later"},
                {"Retry-After": "5"},
            )
        return {"model": self.ground_truth.model, "accepted": len(outcomes)}

    def _not_ready(self) -> Answer:
        return error_answer(
            503, {"error": f"model not loaded ({self.holder.status()})"}, {"Retry-After": "5"}
        )


def ground_truth_for(kind: str, request: LoadRequest) -> GroundTruth:
    """The inference log and feedback of a service, configured by MODELOPS_LOG_*.

    Raises LogConfigError on a malformed variable: the service refuses to start.
    """
    return GroundTruth(kind, request.model, LogConfig.from_env(request.registry_uri))


def as_response(result: Any) -> Any:
    """An error Answer as the starlette Response BentoML's route returns; anything else as is."""
    if isinstance(result, Answer):
        return Response(
            result.body,
            status_code=result.status,
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in result.headers},
            media_type="application/json",
        )
    return result


def current_service() -> Any:
    """BentoML's current service instance, or None before startup / after teardown."""
    try:
        return bentoml.get_current_service()
    except Exception:
        return None


def add_modelops_middleware(
    service: Any,
    endpoints: Iterable[str],
    max_body_bytes: Callable[[], int],
    *,
    model: str,
    description: str,
    extra_errors: Mapping[str, Mapping[str, str]] | None = None,
    unpaced: Iterable[str] = (),
) -> None:
    """Put the modelops ASGI middleware in front of the service's routes.

    middleware.py (guards, error shape, accounting, the admission queue of
    overload.py; `unpaced` endpoints, which queue elsewhere, skip it) around the API routes,
    v2.py's V2Routes (the Open Inference Protocol under /v2), and openapi.py's
    DocsRoutes: /docs.json as the truth, /docs and / as its UI.
    """
    service.add_asgi_middleware(
        ModelopsMiddleware,
        endpoints=tuple(endpoints),
        state=current_service,
        max_body_bytes=max_body_bytes,
        unpaced=tuple(unpaced),
    )
    service.add_asgi_middleware(V2Routes, state=current_service, max_body_bytes=max_body_bytes)
    service.add_asgi_middleware(
        DocsRoutes,
        render=openapi_renderer(service, model, description, extra_errors),
        title=f"{model} (modelops)",
    )


def openapi_renderer(
    service: Any,
    default_model: str,
    description: str,
    extra_errors: Mapping[str, Mapping[str, str]] | None = None,
) -> Callable[[], bytes]:
    """The /docs.json bytes for the version this process serves (built once per version)."""
    cache: dict[tuple[str, str | None, bool], bytes] = {}

    def render() -> bytes:
        state = current_service()
        loaded = state.holder.loaded if state is not None else None
        model = state.holder.request.model if state is not None else default_model
        version = loaded.version if loaded is not None else None
        key = (model, version, state is not None)
        if key not in cache:
            bodies, definitions = model_schemas(
                {api.route: (api.input_spec, api.output_spec) for api in service.apis.values()}
            )
            v2_paths, v2_schemas = _v2_parts(state, model, extra_errors)
            cache[key] = render_json(
                document(
                    service.openapi_spec.asdict(),
                    model=model,
                    version=version,
                    description=description,
                    bodies=bodies,
                    definitions={**definitions, **v2_schemas},
                    extra_errors=extra_errors,
                    extra_paths=v2_paths,
                )
            )
        return cache[key]

    return render


def _v2_parts(
    state: Any, model: str, extra_errors: Mapping[str, Mapping[str, str]] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(paths, schemas) of the /v2 routes V2Routes answers, with this service's tensors
    (none while the service object does not exist yet)."""
    if state is None:
        return {}, {}
    from .v2_openapi import INFER, SCHEMAS, paths

    infer_errors = (extra_errors or {}).get(INFER)
    return paths(model, state.v2_inputs(), state.v2_outputs(), infer_errors), SCHEMAS
