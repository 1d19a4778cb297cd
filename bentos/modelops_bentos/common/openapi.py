"""The OpenAPI document the services publish (`/docs.json`), and its browsable UI (`/docs`, `/`).

BentoML generates the document from the APIs' pydantic models, which keeps
every request and answer schema exact, but around them it documents what the
services never do: 400 / 404 / 500 with a `{"error": str, "detail": str}`
body, version "None", a BentoML README as the description. `document()`
rewrites that frame into the truth, from what the middleware (middleware.py)
and the direct routes (direct.py) actually send:

* the error codes each API answers (400 body not JSON, 413 too large, 415 not
  JSON, 422 invalid, 503 not loaded / overloaded) with the one error schema
  (`{"error": str, "detail": [{"type", "loc", "msg"}]}`),
* the `X-Request-Id` / `X-Modelops-Model-Version` headers of every answer,
* the model name and the version this process serves, and a description,
* OpenAPI 3.1, because pydantic's schemas are JSON Schema 2020-12 (`"type":
  "null"` in a nullable field is not OpenAPI 3.0).

A pure function of BentoML's dict; the middleware serves it (`DocsRoutes`).
The UI is Swagger UI from the assets BentoML ships in its wheel (served by
BentoML at /static_content), so it works offline, and without the Google Tag
Manager script BentoML's own index page loads.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Error",
    "description": "The one error shape of every modelops route.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "string",
            "description": "what went wrong, naming every failing field by path",
        },
        "detail": {
            "type": "array",
            "description": "one entry per failing field (pydantic's error list, without urls)",
            "items": {
                "type": "object",
                "required": ["loc"],
                "properties": {
                    "type": {"type": "string", "description": "the error type, e.g. int_type"},
                    "loc": {
                        "type": "array",
                        "items": {"type": ["string", "integer"]},
                        "description": 'the field\'s path, e.g. ["records", 0, "plan"]',
                    },
                    "msg": {"type": "string"},
                },
            },
        },
    },
}

REF = "#/components/schemas/Error"

# What the middleware and the routes answer besides 200, for every API route.
ERRORS: dict[str, str] = {
    "400": "the body is not JSON",
    "413": "too many records, or a body above the byte limit",
    "415": "a Content-Type other than application/json",
    "422": "invalid input: wrong type (no coercion), out of range, unknown category, "
    "missing or unknown field; every failing field by path",
    "503": "the model is not loaded yet or cannot be loaded (Retry-After: 5), or the "
    "request was shed under overload (more than MODELOPS_MAX_QUEUE_MS of work queued; "
    "Retry-After: 1)",
}

RESPONSE_HEADERS: dict[str, Any] = {
    "X-Request-Id": {
        "description": "the caller's X-Request-Id (a plain token of at most 128 "
        "characters) or a new one; names the request in the inference log and /feedback",
        "schema": {"type": "string"},
    },
    "X-Modelops-Model-Version": {
        "description": "the model version this process serves (absent before it is loaded)",
        "schema": {"type": "string"},
        "required": False,
    },
}


def error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": copy.deepcopy(RESPONSE_HEADERS),
        "content": {"application/json": {"schema": {"$ref": REF}}},
    }


def document(
    base: Mapping[str, Any],
    *,
    model: str,
    version: str | None,
    description: str,
    bodies: Mapping[str, tuple[dict[str, Any], dict[str, Any]]] | None = None,
    definitions: Mapping[str, Any] | None = None,
    extra_errors: Mapping[str, Mapping[str, str]] | None = None,
    extra_paths: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """BentoML's OpenAPI dict `base`, rewritten to what the service really answers.

    `bodies` maps a route to its (request, 200 answer) JSON schemas as pydantic
    writes them, with `definitions` their shared $defs: BentoML inlines the
    top-level models in an OpenAPI 3.0 form that drops `null` from nullable
    fields (a `"student_id": null` answer then violates the document).
    `extra_errors` adds status codes per route (e.g. churn's /predict: 500 under
    fault injection); `extra_paths` adds routes BentoML does not know (V2).
    """
    doc = copy.deepcopy(dict(base))
    doc["openapi"] = "3.1.0"
    doc["info"] = {
        "title": f"{model} (modelops)",
        "version": version or "not loaded",
        "description": description,
    }
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("InvalidArgument", "NotFound", "InternalServerError", "TaskStatusResponse"):
        schemas.pop(name, None)
    schemas["Error"] = copy.deepcopy(ERROR_SCHEMA)
    schemas.update(copy.deepcopy(dict(definitions or {})))
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method == "post":
                if bodies and path in bodies:
                    request, answer = bodies[path]
                    json_body = {"schema": copy.deepcopy(request)}
                    operation["requestBody"] = {"content": {"application/json": json_body}}
                    ok = {"description": "OK", "content": {"application/json": {}}}
                    ok["content"]["application/json"]["schema"] = copy.deepcopy(answer)
                    operation["responses"] = {"200": ok}
                _api_responses(operation, (extra_errors or {}).get(path, {}))
                # An empty body is refused (422 naming the missing fields).
                operation.get("requestBody", {})["required"] = True
            elif path == "/readyz":
                operation["responses"]["503"] = {"description": "the model is not loaded yet"}
    doc["paths"].update(copy.deepcopy(dict(extra_paths or {})))
    return doc


def _api_responses(operation: dict[str, Any], extra: Mapping[str, str]) -> None:
    ok = operation["responses"].get("200") or operation["responses"].get(200)
    ok = dict(ok or {"description": "OK"})
    ok["headers"] = copy.deepcopy(RESPONSE_HEADERS)
    responses: dict[str, Any] = {"200": ok}
    for code, text in {**ERRORS, **extra}.items():
        responses[code] = error_response(text)
    operation["responses"] = responses


SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>{title}</title>
    <link rel="stylesheet" type="text/css" href="/static_content/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/static_content/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script>
      window.ui = SwaggerUIBundle({{url: "/docs.json", dom_id: "#swagger-ui", deepLinking: true}});
    </script>
  </body>
</html>
"""


Scope = dict[str, Any]
Send = Callable[[dict[str, Any]], Any]


class DocsRoutes:
    """ASGI middleware answering GET /docs.json (document()), /docs and / (Swagger UI).

    `render` returns the document's JSON bytes (the service builds it from the
    loaded version); everything else goes to the app.
    """

    PAGES = ("/docs", "/")

    def __init__(self, app: Any, render: Callable[[], bytes], title: str) -> None:
        self.app = app
        self.render = render
        self.page = SWAGGER_PAGE.format(title=title).encode()

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else None
        if path == "/docs.json" and scope.get("method") == "GET":
            await _answer(send, self.render(), b"application/json")
        elif path in self.PAGES and scope.get("method") == "GET":
            await _answer(send, self.page, b"text/html; charset=utf-8")
        else:
            await self.app(scope, receive, send)


async def _answer(send: Send, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def render_json(doc: Mapping[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def model_schemas(
    models: Mapping[str, tuple[Any, Any]],
) -> tuple[dict[str, tuple[dict[str, Any], dict[str, Any]]], dict[str, Any]]:
    """(bodies, definitions) for document() from route -> (request model, answer model).

    Pydantic's own JSON Schemas (mode "validation" for requests, "serialization"
    for answers), their $defs pointed at components/schemas.
    """
    template = "#/components/schemas/{model}"
    bodies: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    definitions: dict[str, Any] = {}
    for route, (request, answer) in models.items():
        pair = []
        for model, mode in ((request, "validation"), (answer, "serialization")):
            schema = model.model_json_schema(ref_template=template, mode=mode)
            definitions.update(schema.pop("$defs", {}))
            pair.append(schema)
        bodies[route] = (pair[0], pair[1])
    return bodies, definitions
