"""common/openapi.py: BentoML's OpenAPI frame rewritten to what the services answer."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from modelops_bentos.common.openapi import ERRORS, document, model_schemas
from modelops_bentos.common.schemas import STRICT, integer

pytestmark = pytest.mark.unit

BASE = {
    "openapi": "3.0.2",
    "info": {"title": "churn", "version": "None", "description": "# BentoML README"},
    "components": {"schemas": {"InvalidArgument": {}, "NotFound": {}, "InternalServerError": {}}},
    "paths": {
        "/predict": {
            "post": {
                "description": "Churn probability per record.",
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"200": {"description": "ok"}, "400": {}, "404": {}, "500": {}},
            }
        },
        "/readyz": {"get": {"responses": {"200": {"description": "ok"}}}},
    },
}


class Body(BaseModel):
    model_config = STRICT
    n: integer(0, 5)
    note: str | None = None


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    who: str | None = None


def test_the_frame_is_rewritten_to_the_truth() -> None:
    bodies, definitions = model_schemas({"/predict": (Body, Answer)})
    doc = document(
        BASE,
        model="churn",
        version="3",
        description="the churn service",
        bodies=bodies,
        definitions=definitions,
        extra_errors={"/predict": {"500": "fault injection"}},
    )
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {
        "title": "churn (modelops)",
        "version": "3",
        "description": "the churn service",
    }
    schemas = doc["components"]["schemas"]
    assert "Error" in schemas and not {"InvalidArgument", "NotFound", "InternalServerError"} & set(
        schemas
    )
    post = doc["paths"]["/predict"]["post"]
    assert set(post["responses"]) == {"200", *ERRORS, "500"}
    assert post["requestBody"]["required"] is True
    request = post["requestBody"]["content"]["application/json"]["schema"]
    assert request["properties"]["n"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 5,
        "title": "N",
    }
    assert request["additionalProperties"] is False
    answer = post["responses"]["200"]["content"]["application/json"]["schema"]
    # Nullable stays nullable (BentoML's 3.0 inlining dropped the null).
    assert {"type": "null"} in answer["properties"]["who"]["anyOf"]
    assert set(doc["paths"]["/readyz"]["get"]["responses"]) == {"200", "503"}
    assert BASE["info"]["version"] == "None"  # the input is not modified


def test_before_a_load_the_version_says_so() -> None:
    doc = document(BASE, model="churn", version=None, description="d")
    assert doc["info"]["version"] == "not loaded"


@pytest.mark.parametrize(
    ("raw", "ok"),
    [("3", True), ("3.0", True), ("2.5", False), ("true", False), ('"3"', False),
     ("-1", False), ("6", False), ("null", False)],
)  # fmt: skip
def test_json_integers_without_coercion(raw: str, ok: bool) -> None:
    body = '{"n": ' + raw + "}"
    if ok:
        assert Body.model_validate_json(body).n == 3
    else:
        with pytest.raises(ValueError):
            Body.model_validate_json(body)
