"""No input makes the churn service answer 5xx (hypothesis-generated bodies, in process)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelops_bentos.churn.examples import SAMPLE_RECORD

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from([*SAMPLE_RECORD, "unexpected"])


@st.composite
def mutated_records(draw) -> dict:
    """A valid record with a few fields replaced by arbitrary JSON, or dropped."""
    record = dict(SAMPLE_RECORD)
    for _ in range(draw(st.integers(1, 3))):
        field = draw(FIELDS)
        if draw(st.booleans()):
            record[field] = draw(JSON_VALUES)
        else:
            record.pop(field, None)
    return record


BODIES = (
    JSON_VALUES.map(lambda v: json.dumps(v).encode())
    | st.lists(mutated_records(), max_size=3).map(lambda r: json.dumps({"records": r}).encode())
    | st.binary(max_size=64)
    | st.sampled_from(
        [
            b'{"records": [{"tenure_months": NaN}]}',
            b'{"records": [{"orders": -Infinity}]}',
            b'{"records": [{"orders": 1e999}]}',
            b'{"records": null}',
            b"\xff\xfe",
            b"[]" * 100,
        ]
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=BODIES, path=st.sampled_from(["/predict", "/predict_batch", "/features"]))
def test_no_body_gets_a_5xx(client, body: bytes, path: str) -> None:
    resp = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code < 500, (body, resp.status_code, resp.text)
    payload = resp.json()
    if resp.status_code >= 400:
        assert payload["error"] and payload["detail"], payload
    else:
        records = json.loads(body)["records"]
        answers = payload.get("predictions", payload)
        if path != "/features":
            assert len(answers) == len(records)
