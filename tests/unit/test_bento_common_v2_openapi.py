"""common/v2_openapi.py: the /v2 routes as V2Routes answers them, in the OpenAPI document."""

from __future__ import annotations

import jsonschema
import pytest

from modelops_bentos.common.openapi import document
from modelops_bentos.common.v2 import Tensor
from modelops_bentos.common.v2_openapi import INFER, SCHEMAS, infer_request, paths

pytestmark = pytest.mark.unit

INPUTS = [Tensor("orders", "INT64"), Tensor("plan", "BYTES"), Tensor("id", "BYTES", optional=True)]
OUTPUTS = [Tensor("churn_probability", "FP64")]
BASE = {"openapi": "3.0.2", "info": {}, "paths": {"/readyz": {"get": {"responses": {}}}}}


def v2_doc(infer_errors=None):
    return document(
        BASE,
        model="churn",
        version="3",
        description="d",
        definitions=SCHEMAS,
        extra_paths=paths("churn", INPUTS, OUTPUTS, infer_errors),
    )


def test_every_route_v2routes_answers_is_documented_with_its_codes():
    doc = v2_doc()
    expected = {
        "/v2": {"get": {"200", "503"}},
        "/v2/health/live": {"get": {"200", "503"}},
        "/v2/health/ready": {"get": {"200", "503"}},
        "/v2/models/{name}": {"get": {"200", "404", "503"}},
        "/v2/models/{name}/ready": {"get": {"200", "404", "503"}},
        "/v2/models/{name}/infer": {"post": {"200", "400", "404", "413", "415", "422", "503"}},
    }
    # Each model route also exists under /versions/{version}, with the same codes.
    for path, methods in list(expected.items()):
        if "{name}" in path:
            expected[path.replace("{name}", "{name}/versions/{version}")] = methods
    documented = {
        path: {m: set(op["responses"]) for m, op in item.items() if m != "parameters"}
        for path, item in doc["paths"].items()
        if path.startswith("/v2")
    }
    assert documented == expected
    infer = doc["paths"]["/v2/models/{name}/versions/{version}/infer"]
    assert [p["name"] for p in infer["parameters"]] == ["name", "version"]
    assert infer["post"]["requestBody"]["required"] is True
    error = infer["post"]["responses"]["422"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/V2Error"}
    assert "X-Request-Id" in infer["post"]["responses"]["200"]["headers"]
    assert set(SCHEMAS) <= set(doc["components"]["schemas"])


def test_a_service_adds_its_own_error_codes_to_infer():
    doc = v2_doc({"500": "fault injection"})
    for path in ("/v2/models/{name}/infer", "/v2/models/{name}/versions/{version}/infer"):
        assert doc["paths"][path]["post"]["responses"]["500"]["description"] == "fault injection"
    assert INFER == "/v2/models/{name}/infer"


def test_the_infer_body_names_this_models_tensors():
    schema = infer_request(INPUTS)
    tensor = schema["properties"]["inputs"]["items"]
    assert tensor["properties"]["name"]["enum"] == ["orders", "plan", "id"]
    assert tensor["properties"]["datatype"]["enum"] == ["BYTES", "INT64"]
    good = {"inputs": [{"name": "orders", "datatype": "INT64", "shape": [1], "data": [3]}]}
    jsonschema.validate(good, schema)
    for bad in (
        {},
        {"inputs": [{"name": "tenure", "datatype": "INT64", "shape": [1], "data": [3]}]},
        {"inputs": [{"name": "orders", "datatype": "INT64", "shape": [1, 1, 1], "data": [3]}]},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_answers_the_routes_send_match_their_schemas():
    """The bodies V2Routes builds (v2.py) against the documented 200 schemas."""
    doc = v2_doc()
    resolver = {"components": doc["components"]}

    def check(path, method, body, code="200"):
        schema = doc["paths"][path][method]["responses"][code]["content"]["application/json"]
        jsonschema.validate(body, {**schema["schema"], **resolver})

    check("/v2", "get", {"name": "modelops", "version": "2", "extensions": []})
    check("/v2/health/live", "get", {"live": True})
    check("/v2/health/ready", "get", {"ready": False}, "503")
    check("/v2/health/ready", "get", {"error": "the service is starting"}, "503")
    check(
        "/v2/models/{name}",
        "get",
        {
            "name": "churn",
            "versions": ["3"],
            "platform": "p",
            "inputs": [t.metadata() for t in INPUTS],
            "outputs": [t.metadata() for t in OUTPUTS],
        },
    )
    check(
        "/v2/models/{name}/infer",
        "post",
        {
            "model_name": "churn",
            "model_version": "3",
            "id": "r1",
            "outputs": [
                {"name": "churn_probability", "datatype": "FP64", "shape": [1], "data": [0.2]}
            ],
        },
    )
