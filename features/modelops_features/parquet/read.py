"""Reading a Parquet file: `decode` the files `encode` writes back into numpy arrays.

Besides what the writer produces it reads RLE runs in definition levels and
several pages or row groups per column; dictionary-encoded or Snappy pages
(other writers' defaults) are refused with an error naming the column.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from typing import Any

import numpy as np

from modelops_features import thrift_compact as tc
from modelops_features.parquet.schema import (
    BOOLEAN,
    BYTE_ARRAY,
    DATA_PAGE,
    DOUBLE,
    GZIP,
    INT64,
    MAGIC,
    OPTIONAL,
    PLAIN,
    TIMESTAMP_MICROS,
    UNCOMPRESSED,
    Column,
    ParquetError,
    Table,
)


def decode(raw: bytes, columns: Iterable[str] | None = None) -> Table:
    """The table in `raw` (only `columns`, in file order, when given)."""
    if len(raw) < 12 or raw[:4] != MAGIC or raw[-4:] != MAGIC:
        raise ParquetError("not a Parquet file (no PAR1 magic at both ends)")
    (footer_size,) = struct.unpack_from("<I", raw, len(raw) - 8)
    start = len(raw) - 8 - footer_size
    if start < 4:
        raise ParquetError("Parquet footer size points outside the file")
    try:
        meta = tc.Reader(raw, start).read_struct()
    except tc.ThriftError as exc:
        raise ParquetError(f"corrupt Parquet footer: {exc}") from exc
    schema = _read_schema(meta.get(2) or [])
    wanted = None if columns is None else set(columns)
    if wanted is not None:
        unknown = wanted - {c.name for c in schema}
        if unknown:
            raise ParquetError(f"no column(s) {sorted(unknown)} in the file")
    selected = [c for c in schema if wanted is None or c.name in wanted]
    parts: dict[str, list[np.ndarray]] = {c.name: [] for c in selected}
    index = {c.name: i for i, c in enumerate(schema)}
    for group in meta.get(4) or []:
        chunks = group.get(1) or []
        rows = int(group.get(3) or 0)
        for column in selected:
            parts[column.name].append(_read_chunk(raw, column, chunks[index[column.name]], rows))
    data = {
        name: _concat(column, parts[name]) for name, column in zip(parts, selected, strict=True)
    }
    pairs = {
        _text(kv.get(1)): _text(kv.get(2)) for kv in meta.get(5) or [] if kv.get(1) is not None
    }
    return Table(tuple(selected), data, int(meta.get(3) or 0), pairs)


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode("utf-8")


def _read_schema(elements: list[dict[int, Any]]) -> list[Column]:
    if not elements:
        raise ParquetError("Parquet file has no schema")
    out = []
    for element in elements[1:]:
        name = _text(element.get(4))
        if element.get(5):
            raise ParquetError(f"column {name!r} is nested; only flat tables are supported")
        physical, converted = element.get(1), element.get(6)
        logical = element.get(10) or {}
        if physical == BYTE_ARRAY:
            kind = "string"
        elif physical == DOUBLE:
            kind = "double"
        elif physical == BOOLEAN:
            kind = "bool"
        elif physical == INT64:
            kind = "timestamp_us" if converted == TIMESTAMP_MICROS or 8 in logical else "int64"
        else:
            raise ParquetError(f"column {name!r}: physical type {physical} is not supported")
        if element.get(3) == 2:
            raise ParquetError(f"column {name!r} is repeated; only flat tables are supported")
        out.append(Column(name, kind, nullable=element.get(3) == OPTIONAL))
    return out


def _read_chunk(raw: bytes, column: Column, chunk: dict[int, Any], rows: int) -> np.ndarray:
    meta = chunk.get(3) or {}
    codec = meta.get(4, UNCOMPRESSED)
    if codec not in (UNCOMPRESSED, GZIP):
        raise ParquetError(
            f"column {column.name!r}: compression codec {codec} is not supported "
            "(modelops reads the uncompressed or GZIP files its own writers produce)"
        )
    if meta.get(11) is not None:
        raise ParquetError(f"column {column.name!r} is dictionary-encoded; not supported")
    pos = int(meta.get(9))
    remaining = int(meta.get(5) or rows)
    pieces = []
    while remaining > 0:
        reader = tc.Reader(raw, pos)
        try:
            header = reader.read_struct()
        except tc.ThriftError as exc:
            raise ParquetError(f"column {column.name!r}: corrupt page header: {exc}") from exc
        body_start = reader.pos
        stored = raw[body_start : body_start + int(header[3])]
        pos = body_start + int(header[3])
        if header.get(1) != DATA_PAGE:
            raise ParquetError(
                f"column {column.name!r}: page type {header.get(1)} is not supported "
                "(only v1 data pages)"
            )
        body = zlib.decompress(stored, wbits=47) if codec == GZIP else stored
        page = header[5]
        if page.get(2) != PLAIN:
            raise ParquetError(
                f"column {column.name!r}: encoding {page.get(2)} is not supported (only PLAIN)"
            )
        count = int(page[1])
        pieces.append(_read_page(column, memoryview(body), count))
        remaining -= count
    return _concat(column, pieces)


def _read_page(column: Column, body: memoryview, count: int) -> np.ndarray:
    offset = 0
    if column.nullable:
        (size,) = struct.unpack_from("<I", body, 0)
        present = _decode_levels(body[4 : 4 + size], count)
        offset = 4 + size
    else:
        present = np.ones(count, dtype=bool)
    values = _decode_plain(column, body, offset, int(present.sum()))
    return _spread(column, values, present)


def _decode_levels(data: memoryview, count: int) -> np.ndarray:
    """Bit-width-1 RLE / bit-packed hybrid levels -> a bool mask of `count` entries."""
    reader = tc.Reader(data)
    out: list[np.ndarray] = []
    produced = 0
    while produced < count:
        header = reader.varint()
        if header & 1:
            groups = header >> 1
            packed = np.frombuffer(data, dtype=np.uint8, count=groups, offset=reader.pos)
            reader.pos += groups
            bits = np.unpackbits(packed, bitorder="little").astype(bool)
        else:
            run = header >> 1
            value = data[reader.pos]
            reader.pos += 1
            bits = np.full(run, bool(value))
        out.append(bits)
        produced += bits.size
    return np.concatenate(out)[:count] if out else np.zeros(0, dtype=bool)


def _decode_plain(column: Column, body: memoryview, offset: int, count: int) -> np.ndarray:
    kind = column.kind
    if kind == "double":
        return np.frombuffer(body, dtype="<f8", count=count, offset=offset).astype(np.float64)
    if kind in ("int64", "timestamp_us"):
        return np.frombuffer(body, dtype="<i8", count=count, offset=offset).astype(np.int64)
    if kind == "bool":
        packed = np.frombuffer(body, dtype=np.uint8, count=(count + 7) // 8, offset=offset)
        return np.unpackbits(packed, bitorder="little")[:count].astype(bool)
    out = np.empty(count, dtype=object)
    unpack = struct.Struct("<I").unpack_from
    raw = bytes(body)
    pos = offset
    for i in range(count):
        (size,) = unpack(raw, pos)
        pos += 4
        out[i] = raw[pos : pos + size].decode("utf-8")
        pos += size
    return out


def _spread(column: Column, values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Values of the present rows placed at their rows; nulls as NaN / None."""
    if present.all():
        return values
    kind = column.kind
    if kind in ("double", "int64", "timestamp_us"):
        out = np.full(present.size, np.nan)
    else:
        out = np.full(present.size, None, dtype=object)
    out[present] = values
    return out


def _concat(column: Column, pieces: list[np.ndarray]) -> np.ndarray:
    if not pieces:
        empty = {"double": np.float64, "int64": np.int64, "timestamp_us": np.int64, "bool": bool}
        return np.zeros(0, dtype=empty.get(column.kind, object))
    if len(pieces) == 1:
        return pieces[0]
    if len({p.dtype for p in pieces}) > 1:
        # Some pieces held nulls (float / object) and others did not.
        target = object if column.kind in ("string", "bool") else np.float64
        pieces = [p.astype(target) for p in pieces]
    return np.concatenate(pieces)
