"""churn's fast decoder only ever accepts what the pydantic input model accepts, equally read.

fast_records.py puts msgspec in front of the generated pydantic model on the
direct routes. Its one promise: a body it accepts is a body the input model
accepts, with the same values, the same types and the same key order (the
records flow into features, metrics and the inference log either way); every
other body is left to the input model, whose answers users see. These tests
hold the promise over hand-picked edge cases and over generated bodies --
written as JSON *text*, so number spellings, duplicate keys, escapes and
whitespace vary too -- and check that ordinary traffic does take the fast path.
"""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from modelops_bentos.churn import records as records_module
from modelops_bentos.churn.examples import SAMPLE_RECORD
from modelops_bentos.churn.fast_records import DECODER
from modelops_bentos.churn.schemas import CUSTOMER_ID_MAX_LENGTH, RecordsRequest
from modelops_features.churn import RAW_SCHEMA

FIELDS = {f.name: f for f in RAW_SCHEMA.fields}


def pydantic_records(body: bytes) -> list[dict] | None:
    """What the input model makes of the body: the records as dicts, None if refused."""
    try:
        parsed = RecordsRequest.model_validate_json(body)
    except ValidationError:
        return None
    return [vars(r) for r in parsed.records]


def exact(records: list[dict]) -> list[list[tuple[str, str, str]]]:
    """Order, type and exact value of every entry (repr tells 5 from 5.0 and 0.0 from -0.0)."""
    return [[(k, type(v).__name__, repr(v)) for k, v in r.items()] for r in records]


def check_promise(body: bytes) -> bool:
    """Assert "fast accepts => pydantic accepts, equally read"; return whether fast accepted."""
    fast = DECODER.decode(body)
    if fast is None:
        return False
    slow = pydantic_records(body)
    assert slow is not None, f"fast path accepted a body the input model refuses: {body[:300]!r}"
    assert exact(fast.records) == exact(slow)
    return True


def body_of(*records: dict, **top: object) -> bytes:
    return json.dumps({"records": list(records), **top}).encode()


R = SAMPLE_RECORD
# (id, body, the fast path accepts it). Every case also goes through check_promise.
CASES = [
    ("sample", body_of(R), True),
    ("empty list", body_of(), True),
    ("many", body_of(*[R] * 50), True),
    ("no customer_id", body_of({k: v for k, v in R.items() if k != "customer_id"}), True),
    ("null customer_id", body_of({**R, "customer_id": None}), True),
    ("nullable absent", body_of({k: v for k, v in R.items() if k != "total_spend"}), True),
    ("nullable null", body_of({**R, "support_tickets": None}), True),
    ("int for a float", body_of({**R, "monthly_spend": 42}), True),
    ("float bounds", body_of({**R, "monthly_spend": 0, "total_spend": 10_000_000}), True),
    ("negative zero", body_of({**R, "monthly_spend": -0.0}), True),
    ("customer_id at its limit", body_of({**R, "customer_id": "\U0001f600" * 256}), True),
    ("whitespace", b' \n{ "records" : [ ' + json.dumps(R).encode() + b" ] }\t", True),
    (
        "duplicate key, last wins",
        b'{"records":[' + json.dumps(R).encode()[:-1] + b', "orders": 7}]}',
        True,
    ),
    # Left to the input model: it accepts these, msgspec does not.
    ("integral float for an int", body_of({**R, "orders": 6.0}), False),
    (
        "exponent for an int",
        b'{"records":['
        + json.dumps({**R, "orders": 0})[:-1].encode().replace(b'"orders": 0', b'"orders": 1e2')
        + b"}]}",
        False,
    ),
    # Refused by both: the input model answers.
    ("bool for an int", body_of({**R, "orders": True}), False),
    ("string for an int", body_of({**R, "orders": "6"}), False),
    ("string for a float", body_of({**R, "monthly_spend": "4.5"}), False),
    ("fractional int", body_of({**R, "orders": 2.5}), False),
    ("below min", body_of({**R, "tenure_months": -1}), False),
    ("above max", body_of({**R, "tenure_months": 601}), False),
    ("float above max", body_of({**R, "monthly_spend": 100_000.5}), False),
    (
        "NaN literal",
        b'{"records":[' + json.dumps({**R, "monthly_spend": math.nan}).encode() + b"]}",
        False,
    ),
    (
        "overflowing float",
        b'{"records":[' + json.dumps(R).encode()[:-1] + b', "total_spend": 1e400}]}',
        False,
    ),
    ("undeclared category", body_of({**R, "plan": "gold"}), False),
    ("category case", body_of({**R, "plan": "Basic"}), False),
    ("null for a required field", body_of({**R, "orders": None}), False),
    ("required field missing", body_of({k: v for k, v in R.items() if k != "plan"}), False),
    ("unknown record key", body_of({**R, "tenure_month": 3}), False),
    ("unknown top-level key", body_of(R, extra=1), False),
    (
        "customer_id too long",
        body_of({**R, "customer_id": "x" * (CUSTOMER_ID_MAX_LENGTH + 1)}),
        False,
    ),
    ("customer_id a number", body_of({**R, "customer_id": 7}), False),
    (
        "lone surrogate",
        b'{"records":[' + json.dumps(R).encode()[:-1] + b', "customer_id": "\\ud800x"}]}',
        False,
    ),
    ("records not a list", b'{"records": {}}', False),
    ("not an object", b"[]", False),
    ("empty body", b"", False),
    ("truncated", body_of(R)[:-3], False),
    ("trailing garbage", body_of(R) + b"x", False),
    ("invalid UTF-8", body_of({**R, "customer_id": "ab"}).replace(b"ab", b"a\xffb"), False),
]


@pytest.mark.parametrize(("body", "accepted"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_edge_cases(body: bytes, accepted: bool) -> None:
    assert check_promise(body) is accepted


def test_more_records_than_the_limit_go_to_the_input_model(monkeypatch) -> None:
    monkeypatch.setattr(records_module, "_max_records", 3)
    assert DECODER.decode(body_of(*[R] * 3)) is not None
    assert DECODER.decode(body_of(*[R] * 4)) is None  # the input model answers the 413


# --- generated bodies ---------------------------------------------------------------


def one_in(n: int) -> st.SearchStrategy[bool]:
    """True about once in n draws (st.integers would favour its bounds, 0 included)."""
    return st.sampled_from([False] * (n - 1) + [True])


NUMBER_TEXT = st.from_regex(
    r"-?(0|[1-9][0-9]{0,22})(\.[0-9]{1,22})?([eE][+-]?[0-9]{1,3})?", fullmatch=True
)


def near(bound: float | None) -> st.SearchStrategy[str]:
    """JSON numbers on, just inside and just outside a bound, as int and float text."""
    if bound is None:
        return st.nothing()
    values = [bound, math.nextafter(bound, math.inf), math.nextafter(bound, -math.inf)]
    texts = [json.dumps(v) for v in values]
    if float(bound).is_integer():
        texts += [str(int(bound)), str(int(bound) + 1), str(int(bound) - 1)]
    return st.sampled_from(texts)


def value_text(name: str) -> st.SearchStrategy[str]:
    """JSON text for field `name`: mostly plausible, one time in eight odd or wrong."""
    field = FIELDS.get(name)
    anything = st.sampled_from(
        ["null", "true", "false", '"3"', "[]", "{}", '""', "NaN", "Infinity"]
    )
    if name == "customer_id":
        plausible = st.text(max_size=12).map(json.dumps)
        odd = st.one_of(
            st.text(min_size=CUSTOMER_ID_MAX_LENGTH - 2, max_size=CUSTOMER_ID_MAX_LENGTH + 2).map(
                lambda s: json.dumps(s, ensure_ascii=False)
            ),
            st.sampled_from(['"\\ud83d\\ude00"', '"\\udc00"', '"a\\u0000b"']),
            anything,
        )
    elif field.dtype == "category":
        plausible = st.sampled_from(field.categories).map(json.dumps)
        odd = st.one_of(
            st.sampled_from([c.upper() for c in field.categories] + ["other", "__other__"]).map(
                json.dumps
            ),
            anything,
        )
    else:
        lo = -10.0 if field.min is None else field.min
        hi = 1e6 if field.max is None else field.max
        plausible = (
            st.integers(int(lo), int(hi)).map(str)
            if field.dtype == "int"
            else st.one_of(
                st.floats(lo, hi, allow_nan=False).map(json.dumps),
                st.integers(int(lo), int(hi)).map(str),
            )
        )
        odd = st.one_of(
            near(field.min),
            near(field.max),
            NUMBER_TEXT,
            st.integers(-(2**70), 2**70).map(str),
            st.floats().map(lambda v: json.dumps(v, allow_nan=True)),
            anything,
        )
    return one_in(8).flatmap(lambda roll: odd if roll else plausible)


NAMES = [*RAW_SCHEMA.names, "customer_id"]


@st.composite
def record_text(draw) -> str:
    """One record as JSON text: some fields left out, some repeated, sometimes an unknown key."""
    pairs: list[tuple[str, str]] = []
    for name in NAMES:
        if draw(one_in(20)):
            continue  # absent
        pairs.append((name, draw(value_text(name))))
        if draw(one_in(30)):
            pairs.append((name, draw(value_text(name))))  # a duplicate key
    if draw(one_in(20)):
        pairs.append((draw(st.sampled_from(["tenure_month", "Plan", "", "records"])), "1"))
    pairs = draw(st.permutations(pairs))
    space = draw(st.sampled_from(["", " ", "\n  "]))
    return "{" + ",".join(f"{space}{json.dumps(k)}:{space}{v}" for k, v in pairs) + "}"


@st.composite
def body_text(draw) -> bytes:
    records = draw(st.lists(record_text(), max_size=3))
    top = f'"records": [{", ".join(records)}]'
    if draw(one_in(20)):
        top += ', "extra": 1'
    return ("{" + top + "}").encode()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body_text())
def test_generated_bodies_keep_the_promise(body: bytes) -> None:
    # event(): `pytest --hypothesis-show-statistics` shows how many generated
    # bodies each path took (one in seven to one in four were accepted fast).
    event("fast path" if check_promise(body) else "input model")


@st.composite
def valid_record(draw) -> dict:
    """A record the API documents as valid, in the JSON types a client sends."""
    record: dict = {}
    for field in RAW_SCHEMA.fields:
        if field.nullable and draw(st.booleans()):
            if draw(st.booleans()):
                record[field.name] = None
            continue
        if field.dtype == "category":
            record[field.name] = draw(st.sampled_from(field.categories))
        elif field.dtype == "int":
            record[field.name] = draw(st.integers(int(field.min), int(field.max)))
        else:
            record[field.name] = draw(st.floats(field.min, field.max, allow_nan=False))
    if draw(st.booleans()):
        record["customer_id"] = draw(st.text(max_size=CUSTOMER_ID_MAX_LENGTH))
    return record


@settings(max_examples=300, deadline=None)
@given(st.lists(valid_record(), max_size=20))
def test_ordinary_valid_bodies_take_the_fast_path(records: list[dict]) -> None:
    assert check_promise(body_of(*records)), "a valid body went to the slow path"


# --- the two readers cannot drift apart --------------------------------------------


def _rules(schema: object) -> object:
    """A JSON schema reduced to what it allows: no titles or descriptions, sets as sets."""
    if isinstance(schema, dict):
        out = {k: _rules(v) for k, v in schema.items() if k not in ("title", "description")}
        if "enum" in out:
            out["enum"] = sorted(out["enum"])
            out.pop("type", None)  # pydantic adds "string" to a string enum
        for bound in ("minimum", "maximum"):
            if bound in out:
                out[bound] = float(out[bound])
        return out
    if isinstance(schema, list):
        return [_rules(v) for v in schema]
    return schema


def test_the_fast_struct_allows_what_the_record_model_allows_field_by_field() -> None:
    """A rule added to the pydantic model but not to the struct (or back) fails here."""
    import msgspec

    from modelops_bentos.churn.fast_records import record_struct
    from modelops_bentos.churn.schemas import ChurnRecord

    struct = record_struct("ChurnRecord", RAW_SCHEMA.fields, CUSTOMER_ID_MAX_LENGTH)
    fast = msgspec.json.schema(struct)["$defs"]["ChurnRecord"]
    assert _rules(fast) == _rules(ChurnRecord.model_json_schema())


def test_the_pydantic_models_have_no_rule_outside_their_fields() -> None:
    """Validators in code would be skipped by the fast path: there must be none but the count."""
    from modelops_bentos.churn.schemas import ChurnRecord

    for model in (ChurnRecord, RecordsRequest):
        decorators = model.__pydantic_decorators__
        assert not (
            decorators.validators
            or decorators.field_validators
            or decorators.root_validators
            or decorators.model_validators
        ), f"{model.__name__} has validators the fast decoder does not apply"
    # The records list's only extra rule is the count limit, which decode() applies too.
    metadata = RecordsRequest.model_fields["records"].metadata
    assert [m.func.__name__ for m in metadata] == ["_check_record_count"]
