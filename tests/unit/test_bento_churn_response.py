"""The direct route's response bytes equal BentoML's (PredictResponse.model_dump_json).

The direct route serialises plain dicts with pydantic-core's writer instead of
building a model per record; these are the values where two JSON writers
usually part ways (exponents, subnormals, integral floats, escapes, None).
"""

from __future__ import annotations

import pydantic_core
import pytest

from modelops_bentos.churn.schemas import PredictResponse

FLOATS = [0.0, 1.0, 0.1, 0.30000000000000004, 1e-05, 1.5e-07, 0.999999, 5e-324, 2.2250738585072014e-308,
          0.5, 1 / 3, 0.12345678901234568]  # fmt: skip
IDS = [
    None,
    "c1",
    "",
    'quote"and\\backslash',
    "kunde-äöü-中",
    "tab\tnewline\n",
    "\u2028",
    "emoji-\U0001f600",
]


@pytest.mark.parametrize("probability", FLOATS)
@pytest.mark.parametrize("customer_id", IDS)
def test_plain_dicts_serialise_like_the_model(probability, customer_id) -> None:
    payload = {
        "model": "churn",
        "version": "7",
        "predictions": [{"customer_id": customer_id, "churn_probability": probability}] * 2,
    }
    assert (
        pydantic_core.to_json(payload)
        == PredictResponse.model_validate(payload).model_dump_json().encode()
    )


def test_empty_predictions() -> None:
    payload = {"model": "churn", "version": "7", "predictions": []}
    assert (
        pydantic_core.to_json(payload)
        == PredictResponse.model_validate(payload).model_dump_json().encode()
    )
