"""Writing a Parquet file: `encode` a flat table into one row group of PLAIN pages.

One data page (v1) per column, definition levels as one bit-packed run for
nullable columns, GZIP (zlib) or no compression, and the footer
(schema, the row group's column chunks, key/value metadata) in Thrift compact.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from modelops_features import thrift_compact as tc
from modelops_features.parquet.schema import (
    CODECS,
    CREATED_BY,
    DATA_PAGE,
    GZIP,
    MAGIC,
    OPTIONAL,
    PHYSICAL_TYPE,
    PLAIN,
    REQUIRED,
    RLE,
    TIMESTAMP_MICROS,
    UTF8,
    Column,
    ParquetError,
)


def encode(
    columns: Sequence[Column],
    data: Mapping[str, Sequence[Any] | np.ndarray],
    *,
    metadata: Mapping[str, str] | None = None,
    compression: str = "gzip",
    level: int = 6,
) -> bytes:
    """One Parquet file holding `data[column.name]` for every column (equal lengths)."""
    if compression not in CODECS:
        raise ParquetError(f"compression {compression!r} is not one of {sorted(CODECS)}")
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise ParquetError(f"duplicate column names in {names}")
    missing = [n for n in names if n not in data]
    if missing:
        raise ParquetError(f"no data for column(s) {missing}")
    lengths = {len(data[n]) for n in names}
    if len(lengths) > 1:
        raise ParquetError(f"columns differ in length: { {n: len(data[n]) for n in names} }")
    rows = lengths.pop() if lengths else 0
    out = bytearray(MAGIC)
    chunks = []
    for column in columns:
        offset = len(out)
        page, values = _page(column, data[column.name], rows, CODECS[compression], level)
        out += page
        chunks.append(_chunk_meta(column, offset, rows, values, CODECS[compression]))
    footer = tc.write_struct(_file_meta(columns, rows, chunks, len(out) - 4, metadata))
    out += footer
    out += struct.pack("<I", len(footer))
    out += MAGIC
    return bytes(out)


def _page(
    column: Column, values: Any, rows: int, codec: int, level: int
) -> tuple[bytes, tuple[int, int]]:
    """(page header + body, (uncompressed size, compressed size) of the page incl. header)."""
    present, payload = _plain_values(column, values)
    if not column.nullable and not present.all():
        raise ParquetError(f"column {column.name!r} is not nullable but holds nulls")
    body = (_definition_levels(present) if column.nullable else b"") + payload
    stored = zlib.compress(body, level, wbits=31) if codec == GZIP else body
    header = tc.write_struct(
        [
            (1, tc.I32, DATA_PAGE),
            (2, tc.I32, len(body)),
            (3, tc.I32, len(stored)),
            (
                5,
                tc.STRUCT,
                [(1, tc.I32, rows), (2, tc.I32, PLAIN), (3, tc.I32, RLE), (4, tc.I32, RLE)],
            ),
        ]
    )
    return bytes(header) + stored, (len(header) + len(body), len(header) + len(stored))


def _plain_values(column: Column, values: Any) -> tuple[np.ndarray, bytes]:
    """(mask of non-null rows, PLAIN bytes of the non-null values)."""
    kind = column.kind
    if kind == "double":
        array = np.asarray(values, dtype=np.float64)
        if column.nullable:
            present = ~np.isnan(array)
        elif isinstance(values, np.ndarray) and values.dtype != object:
            present = np.ones(array.size, dtype=bool)
        else:
            # NaN is a value in a required column; None (no value) is not.
            present = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
        return present, array[present].astype("<f8").tobytes()
    if kind in ("int64", "timestamp_us"):
        if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
            return np.ones(values.size, dtype=bool), values.astype("<i8").tobytes()
        present = np.fromiter((_is_present(v) for v in values), dtype=bool, count=len(values))
        kept = [_as_int(column, v) for v, p in zip(values, present, strict=True) if p]
        return present, np.asarray(kept, dtype="<i8").tobytes()
    if kind == "bool":
        present = np.fromiter((_is_present(v) for v in values), dtype=bool, count=len(values))
        kept = np.asarray([bool(v) for v, p in zip(values, present, strict=True) if p], dtype=bool)
        return present, np.packbits(kept, bitorder="little").tobytes()
    present = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
    parts: list[bytes] = []
    for value in values:
        if value is None:
            continue
        if not isinstance(value, str):
            raise ParquetError(f"column {column.name!r} holds {type(value).__name__}, not text")
        encoded = value.encode("utf-8")
        parts.append(len(encoded).to_bytes(4, "little"))
        parts.append(encoded)
    return present, b"".join(parts)


def _is_present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _as_int(column: Column, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer | float):
        raise ParquetError(f"column {column.name!r} holds {value!r}, not an integer")
    if isinstance(value, float) and not value.is_integer():
        raise ParquetError(f"column {column.name!r} holds {value!r}, not an integer")
    return int(value)


def _definition_levels(present: np.ndarray) -> bytes:
    """Levels 1 (value) / 0 (null) as one bit-packed run, prefixed by its byte length."""
    run = bytearray()
    groups = (present.size + 7) // 8
    tc._varint((groups << 1) | 1, run)
    run += np.packbits(present, bitorder="little").tobytes()
    return struct.pack("<I", len(run)) + bytes(run)


def _chunk_meta(
    column: Column, offset: int, rows: int, sizes: tuple[int, int], codec: int
) -> list[tc.Field]:
    meta = [
        (1, tc.I32, PHYSICAL_TYPE[column.kind]),
        (2, tc.LIST, (tc.I32, [PLAIN, RLE])),
        (3, tc.LIST, (tc.BINARY, [column.name])),
        (4, tc.I32, codec),
        (5, tc.I64, rows),
        (6, tc.I64, sizes[0]),
        (7, tc.I64, sizes[1]),
        (9, tc.I64, offset),
    ]
    return [(2, tc.I64, offset), (3, tc.STRUCT, meta)]


def _schema_element(column: Column) -> list[tc.Field]:
    converted = logical = None
    if column.kind == "string":
        converted, logical = UTF8, [(1, tc.STRUCT, [])]
    elif column.kind == "timestamp_us":
        unit = [(2, tc.STRUCT, [])]  # TimeUnit.MICROS
        converted = TIMESTAMP_MICROS
        logical = [(8, tc.STRUCT, [(1, tc.BOOL, True), (2, tc.STRUCT, unit)])]
    return [
        (1, tc.I32, PHYSICAL_TYPE[column.kind]),
        (3, tc.I32, OPTIONAL if column.nullable else REQUIRED),
        (4, tc.BINARY, column.name),
        (6, tc.I32, converted),
        (10, tc.STRUCT, logical),
    ]


def _file_meta(
    columns: Sequence[Column],
    rows: int,
    chunks: list[list[tc.Field]],
    size: int,
    metadata: Mapping[str, str] | None,
) -> list[tc.Field]:
    schema = [[(4, tc.BINARY, "schema"), (5, tc.I32, len(columns))]]
    schema += [_schema_element(c) for c in columns]
    group = [
        (1, tc.LIST, (tc.STRUCT, chunks)),
        (2, tc.I64, size),
        (3, tc.I64, rows),
    ]
    pairs = [[(1, tc.BINARY, k), (2, tc.BINARY, v)] for k, v in (metadata or {}).items()]
    return [
        (1, tc.I32, 1),
        (2, tc.LIST, (tc.STRUCT, schema)),
        (3, tc.I64, rows),
        (4, tc.LIST, (tc.STRUCT, [group])),
        (5, tc.LIST, (tc.STRUCT, pairs) if pairs else None),
        (6, tc.BINARY, CREATED_BY),
    ]
