"""Pydantic request models generated from a `modelops_features` schema.

Each service's record model is *generated* from its feature package's
RAW_SCHEMA rather than written by hand, so the API contract (ranges,
categories, nullability) cannot drift away from the schema that training
validates against: one declaration, two enforcers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, create_model
from pydantic.json_schema import GetJsonSchemaHandler, JsonSchemaValue
from pydantic_core import core_schema

from modelops_features.schema import Field as SchemaField

# Every request model of the services: unknown keys refused, no type coercion
# (JSON's own types only: an integer field takes 3 or 3.0, never "3" or true; a
# float field takes 3 or 3.5, never "3.5"). Pydantic's strict mode is checked
# inside its core validator: no Python runs per field (benchmarks/serving_stages.py).
STRICT = ConfigDict(extra="forbid", strict=True)


@dataclass(frozen=True)
class JsonInteger:
    """An integer as JSON Schema means it: a JSON number without a fractional part.

    Pydantic's strict int refuses 374.0, which JSON Schema's "integer" (and so
    the published OpenAPI) admits; its lax int also takes true and "3". This
    takes 374 and 374.0 (as 374) and refuses 2.5, true and "3", all inside
    pydantic-core (a strict int, else a strict float read as an int), then
    checks the range, so out-of-range errors keep their own message.
    """

    ge: int | float | None = None
    le: int | float | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        number = core_schema.union_schema(
            [
                core_schema.int_schema(strict=True),
                core_schema.chain_schema(
                    [
                        core_schema.float_schema(strict=True),
                        # Explicitly lax (a model's strict config would apply):
                        # 374.0 -> 374, 2.5 refused.
                        core_schema.int_schema(strict=False),
                    ]
                ),
            ],
            mode="left_to_right",
            custom_error_type="int_type",
        )
        if self.ge is None and self.le is None:
            return number
        return core_schema.chain_schema(
            [number, core_schema.int_schema(strict=True, ge=self.ge, le=self.le)]
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out: dict[str, Any] = {"type": "integer"}
        if self.ge is not None:
            out["minimum"] = self.ge
        if self.le is not None:
            out["maximum"] = self.le
        return out


def integer(ge: int | float | None = None, le: int | float | None = None) -> Any:
    """The annotation of a JSON integer field in [ge, le] (see JsonInteger)."""
    return Annotated[int, JsonInteger(ge, le)]


def pydantic_type(field: SchemaField) -> tuple[Any, Any]:
    """(annotation, default) of one schema field as a strict-enough pydantic field."""
    if field.dtype == "category":
        annotation: Any = Literal[field.categories]  # type: ignore[valid-type]
        constraint = Field(description=field.description or None)
    elif field.dtype == "string":
        annotation = str
        constraint = Field(description=field.description or None)
    elif field.dtype == "float":
        annotation = float
        # allow_inf_nan=False: NaN / Infinity literals are refused with a clear
        # per-field error instead of flowing into features and metrics.
        constraint = Field(
            ge=field.min, le=field.max, allow_inf_nan=False, description=field.description or None
        )
    else:
        annotation = integer(field.min, field.max)
        constraint = Field(description=field.description or None)
    if field.nullable:
        return Annotated[annotation | None, constraint], None
    return Annotated[annotation, constraint], ...


def strict_model(
    name: str, fields: Iterable[SchemaField], **extra: tuple[Any, Any]
) -> type[BaseModel]:
    """A model of the schema `fields` (plus `extra` pydantic fields), strict and closed.

    extra="forbid": a misspelt field ("tenure_month") is reported by name instead
    of being silently dropped while the real field is reported missing.
    STRICT: `"orders": true` or `"tenure_months": "3"` is a 422 naming the field,
    not a silent 1 or 3 (pydantic's lax mode coerces both).
    """
    definitions: dict[str, Any] = {f.name: pydantic_type(f) for f in fields}
    definitions.update(extra)
    return create_model(name, __config__=STRICT, **definitions)
