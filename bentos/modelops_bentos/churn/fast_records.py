"""A fast first reading of a {"records": [...]} body: accept what is surely valid, else defer.

Validating a 100-record body with the generated pydantic model (records.py)
costs 200-300 us of CPU, a fifth of the whole request
(benchmarks/serving_stages.py). msgspec decodes and checks the same body into
structs generated from the same RAW_SCHEMA in about a quarter of that.

It is a *fast accept* only, never a second set of rules users can see:

* `decode` returns the records (as the dicts the pydantic path gives) only when
  msgspec accepts the whole body under rules at least as strict as the pydantic
  model's, and returns None for anything else -- a bad field, a body it cannot
  read, too many records, 374.0 for an integer (pydantic takes it, msgspec
  does not). The caller then validates with pydantic, so every accepted value
  and every error message, field location and status is pydantic's.
* A property test (tests/unit/test_bento_churn_fast_records.py) holds "msgspec
  accepts => pydantic accepts, with equal values, types and key order" over
  generated good and broken bodies, and the direct-route tests post every good
  and bad body through both routes.

Rules, field by field (pydantic's in common/schemas.py):
* int: a JSON integer (never true or 3.0) within [ceil(min), floor(max)];
* float: a JSON number within [min, max] (msgspec refuses NaN, Infinity and
  numbers beyond a double's range such as 1e400, as pydantic does);
* category: exactly one of the declared strings; string: any JSON string;
* nullable: null or absent reads None; otherwise the field is required;
* customer_id: an optional string of at most CUSTOMER_ID_MAX_LENGTH characters;
* any other key, in a record or beside "records", refuses the body.

Only the churn image carries msgspec (an import-linter contract keeps it out
of the common code and the learning-path service).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec

from modelops_features.churn import RAW_SCHEMA
from modelops_features.schema import Field as SchemaField

from .records import CUSTOMER_ID_MAX_LENGTH, max_records


def _annotation(field: SchemaField) -> Any:
    """The msgspec type of one schema field, never laxer than its pydantic type."""
    if field.dtype == "category":
        base: Any = Literal[field.categories]  # type: ignore[valid-type]
    elif field.dtype == "string":
        base = str
    elif field.dtype == "float":
        base = Annotated[float, msgspec.Meta(ge=field.min, le=field.max)]
    else:
        # pydantic compares an integer with the (float) bounds; on integers,
        # ceil / floor of the bounds are the same test.
        ge = None if field.min is None else math.ceil(field.min)
        le = None if field.max is None else math.floor(field.max)
        base = Annotated[int, msgspec.Meta(ge=ge, le=le)]
    return base | None if field.nullable else base


def record_struct(
    name: str, fields: Iterable[SchemaField], customer_id_max_length: int
) -> type[msgspec.Struct]:
    """A closed struct of the schema fields plus an optional, bounded customer_id.

    Keyword-only, so the fields keep the schema's order (the pydantic model's,
    and so the order of the dicts both paths give).
    """
    definitions: list[tuple[Any, ...]] = []
    for field in fields:
        if field.name == "customer_id":
            continue
        annotation = _annotation(field)
        definitions.append(
            (field.name, annotation, None) if field.nullable else (field.name, annotation)
        )
    customer_id = Annotated[str, msgspec.Meta(max_length=customer_id_max_length)] | None
    definitions.append(("customer_id", customer_id, None))
    return msgspec.defstruct(name, definitions, kw_only=True, forbid_unknown_fields=True)


@dataclass(frozen=True)
class FastRequest:
    """What a route handler reads of a validated request: `records`, as plain dicts."""

    records: list[dict[str, Any]]


class RecordsDecoder:
    """`decode(body)`: the body's records if msgspec surely accepts it, else None."""

    def __init__(self, record: type[msgspec.Struct]) -> None:
        body = msgspec.defstruct(
            f"{record.__name__}Body", [("records", list[record])], forbid_unknown_fields=True
        )
        self._decoder = msgspec.json.Decoder(body)

    def decode(self, body: bytes) -> FastRequest | None:
        try:
            records = self._decoder.decode(body).records
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        if len(records) > max_records():
            return None  # pydantic answers the 413 with its own message
        return FastRequest(msgspec.to_builtins(records))


DECODER = RecordsDecoder(
    record_struct("ChurnRecordFast", RAW_SCHEMA.fields, CUSTOMER_ID_MAX_LENGTH)
)
