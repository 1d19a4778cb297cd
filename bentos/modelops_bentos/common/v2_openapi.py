"""The Open Inference Protocol routes (v2.py) in the OpenAPI document.

BentoML does not know the /v2 routes (V2Routes is middleware in front of
it), so /docs.json would omit them. `paths()` writes them from what
V2Routes answers: the server and health routes, model metadata and
readiness, and infer with this model's own input tensor names and
datatypes; every answer's headers; and the status codes each route really
sends, with V2's error shape (`{"error": str}`, which the services' Error
schema also accepts). Pure: the service passes its tensors.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from .openapi import RESPONSE_HEADERS
from .v2 import Tensor

V2_ERROR = "#/components/schemas/V2Error"
INFER = "/v2/models/{name}/infer"
DATATYPES = ("BOOL", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64",
             "FP16", "FP32", "FP64", "BYTES")  # fmt: skip

SCHEMAS: dict[str, Any] = {
    "V2Error": {
        "type": "object",
        "title": "V2Error",
        "description": "The Open Inference Protocol's error shape: one message naming the "
        "tensor and row (e.g. inputs.orders[2]: Input should be a valid integer).",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
    },
    "V2TensorMetadata": {
        "type": "object",
        "required": ["name", "datatype", "shape"],
        "properties": {
            "name": {"type": "string"},
            "datatype": {"type": "string", "enum": list(DATATYPES)},
            "shape": {"type": "array", "items": {"type": "integer"}},
        },
    },
    "V2OutputTensor": {
        "type": "object",
        "required": ["name", "datatype", "shape", "data"],
        "properties": {
            "name": {"type": "string"},
            "datatype": {"type": "string", "enum": list(DATATYPES)},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "data": {"type": "array", "description": "row-major, flattened"},
        },
    },
}

SERVER_METADATA = {
    "type": "object",
    "required": ["name", "version", "extensions"],
    "properties": {
        "name": {"type": "string"},
        "version": {"type": "string"},
        "extensions": {"type": "array", "items": {"type": "string"}},
    },
}
LIVE = {"type": "object", "required": ["live"], "properties": {"live": {"type": "boolean"}}}
READY = {"type": "object", "required": ["ready"], "properties": {"ready": {"type": "boolean"}}}
MODEL_READY = {
    "type": "object",
    "required": ["name", "ready"],
    "properties": {"name": {"type": "string"}, "ready": {"type": "boolean"}},
}
TENSOR_LIST = {"type": "array", "items": {"$ref": "#/components/schemas/V2TensorMetadata"}}
MODEL_METADATA = {
    "type": "object",
    "required": ["name", "versions", "platform", "inputs", "outputs"],
    "properties": {
        "name": {"type": "string"},
        "versions": {"type": "array", "items": {"type": "string"}},
        "platform": {"type": "string"},
        "inputs": TENSOR_LIST,
        "outputs": TENSOR_LIST,
    },
}
INFER_RESPONSE = {
    "type": "object",
    "required": ["model_name", "model_version", "outputs"],
    "properties": {
        "model_name": {"type": "string"},
        "model_version": {"type": "string"},
        "id": {"type": "string", "description": "the request's id, when it gave one"},
        "outputs": {"type": "array", "items": {"$ref": "#/components/schemas/V2OutputTensor"}},
    },
}

STARTING = "the service is still starting (no model state yet)"
NOT_LOADED = "the model is not loaded yet"
UNKNOWN_MODEL = "another model name, or a version this process does not serve"
INFER_ERRORS = {
    "400": "the body is not JSON",
    "404": UNKNOWN_MODEL,
    "413": "too many rows, or a body above the byte limit",
    "415": "a Content-Type other than application/json",
    "422": "invalid tensors: unknown, missing or repeated input, wrong datatype or shape, "
    "different batch sizes, or a value the route's strict model refuses (tensor and row named)",
    "503": f"{NOT_LOADED}, or {STARTING}",
}


def _json(schema: Mapping[str, Any], description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": copy.deepcopy(RESPONSE_HEADERS),
        "content": {"application/json": {"schema": copy.deepcopy(dict(schema))}},
    }


def _errors(codes: Mapping[str, str]) -> dict[str, Any]:
    return {code: _json({"$ref": V2_ERROR}, text) for code, text in codes.items()}


def _param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _get(summary: str, ok: Mapping[str, Any], errors: Mapping[str, str], params=()) -> dict:
    operation = {
        "tags": ["Open Inference Protocol (V2)"],
        "summary": summary,
        "responses": {"200": _json(ok, "OK"), **_errors(errors)},
    }
    if params:
        operation["parameters"] = list(params)
    return {"get": operation}


def infer_request(inputs: Sequence[Tensor]) -> dict[str, Any]:
    """The infer body: one tensor per raw field, named and typed as this model declares them."""
    names = [t.name for t in inputs]
    required = [t.name for t in inputs if not t.optional]
    return {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": {"type": "string", "description": "echoed in the answer"},
            "parameters": {"type": "object"},
            "inputs": {
                "type": "array",
                "description": "one [N] or [N, 1] tensor per field; required: "
                + ", ".join(required)
                + "; each with its declared datatype: "
                + ", ".join(f"{t.name} {t.datatype}" for t in inputs),
                "items": {
                    "type": "object",
                    "required": ["name", "datatype", "shape", "data"],
                    "properties": {
                        "name": {"type": "string", "enum": names},
                        "datatype": {
                            "type": "string",
                            "enum": sorted({t.datatype for t in inputs}),
                        },
                        "shape": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 2,
                            "items": {"type": "integer", "minimum": 0},
                        },
                        "data": {"type": "array"},
                        "parameters": {"type": "object"},
                    },
                },
            },
            "outputs": {
                "type": "array",
                "description": "the outputs wanted (default: all)",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string"}, "parameters": {"type": "object"}},
                },
            },
        },
    }


def paths(
    model: str,
    inputs: Sequence[Tensor],
    outputs: Sequence[Tensor],
    infer_errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The /v2 path items of `model`'s service (for openapi.document's `extra_paths`)."""
    name = _param("name", f"the model's name: {model} (any other: 404)")
    version = _param("version", "the version served (any other: 404)")
    model_errors = {"404": UNKNOWN_MODEL, "503": NOT_LOADED}
    out_names = ", ".join(f"{t.name} {t.datatype}" for t in outputs)
    infer = {
        "post": {
            "tags": ["Open Inference Protocol (V2)"],
            "summary": f"Infer: the same validation, scoring, metrics and inference log as "
            f"the JSON routes; outputs {out_names}",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": infer_request(inputs)}},
            },
            "responses": {
                "200": _json(INFER_RESPONSE, "OK"),
                **_errors({**INFER_ERRORS, **(infer_errors or {})}),
            },
        }
    }
    items: dict[str, Any] = {
        "/v2": _get("Server metadata", SERVER_METADATA, {"503": STARTING}),
        "/v2/health/live": _get("Liveness", LIVE, {"503": STARTING}),
        "/v2/health/ready": {
            "get": {
                "tags": ["Open Inference Protocol (V2)"],
                "summary": "Readiness: 200 once the model is loaded",
                "responses": {
                    "200": _json(READY, "ready"),
                    "503": _json(
                        {"anyOf": [READY, {"$ref": V2_ERROR}]}, f"{NOT_LOADED}, or {STARTING}"
                    ),
                },
            }
        },
    }
    for prefix, params in (
        ("/v2/models/{name}", [name]),
        ("/v2/models/{name}/versions/{version}", [name, version]),
    ):
        items[prefix] = _get("Model metadata", MODEL_METADATA, model_errors, params)
        items[f"{prefix}/ready"] = _get("Model readiness", MODEL_READY, model_errors, params)
        items[f"{prefix}/infer"] = copy.deepcopy(infer)
        items[f"{prefix}/infer"]["parameters"] = list(params)
    return items
