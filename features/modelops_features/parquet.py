"""A small Parquet writer and reader for flat tables (the inference log and feedback).

Why not pyarrow: the bento, operator and CLI images do not carry it (about
150 MB installed), and what modelops writes is simple: flat columns of
strings, doubles, 64-bit integers, UTC timestamps and booleans, in files of a
few thousand rows. This module writes standard Parquet (the tests read its
files with pyarrow, the reference implementation, and compare every value),
and reads back the files it writes with numpy.

What is written: one row group per file, one data page (v1) per column,
PLAIN encoding, definition levels as RLE / bit-packed hybrid for nullable
columns, GZIP (zlib, in the standard library) or no compression. What is read:
the same, plus RLE runs in definition levels; dictionary-encoded or
Snappy-compressed files (other writers' defaults) are refused with a clear
error, since modelops only reads its own logs.

Types (`Column.kind`):
  string        BYTE_ARRAY, UTF8 / STRING logical type; read as an object array (None = null)
  double        DOUBLE; NaN and None are written as null; read as float64 (NaN = null)
  int64         INT64; read as int64, or float64 with NaN when the column holds nulls
  timestamp_us  INT64, TIMESTAMP(MICROS, UTC); microseconds since the epoch, read as int64
  bool          BOOLEAN; read as bool, or an object array with None when it holds nulls
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelops_features import thrift_compact as tc

MAGIC = b"PAR1"
KINDS = ("string", "double", "int64", "timestamp_us", "bool")
CREATED_BY = "modelops-parquet version 1.0.0"

# parquet.thrift enums
_TYPE = {"bool": 0, "int64": 2, "timestamp_us": 2, "double": 5, "string": 6}
_BOOLEAN, _INT64, _DOUBLE, _BYTE_ARRAY = 0, 2, 5, 6
_REQUIRED, _OPTIONAL = 0, 1
_UTF8, _TIMESTAMP_MICROS = 0, 10
_PLAIN, _RLE = 0, 3
_UNCOMPRESSED, _SNAPPY, _GZIP = 0, 1, 2
_DATA_PAGE, _DICTIONARY_PAGE = 0, 2
CODECS = {"none": _UNCOMPRESSED, "gzip": _GZIP}


class ParquetError(ValueError):
    """Data that cannot be written as, or read from, the Parquet subset of this module."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    nullable: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ParquetError(f"column {self.name!r}: kind {self.kind!r} is not one of {KINDS}")
        if not self.name:
            raise ParquetError("a column needs a name")


@dataclass
class Table:
    """A decoded file: its columns, one numpy array per column, and its key/value metadata."""

    columns: tuple[Column, ...]
    data: dict[str, np.ndarray]
    num_rows: int
    metadata: dict[str, str] = field(default_factory=dict)


# -- writing -----------------------------------------------------------------------------


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
    stored = zlib.compress(body, level, wbits=31) if codec == _GZIP else body
    header = tc.write_struct(
        [
            (1, tc.I32, _DATA_PAGE),
            (2, tc.I32, len(body)),
            (3, tc.I32, len(stored)),
            (
                5,
                tc.STRUCT,
                [(1, tc.I32, rows), (2, tc.I32, _PLAIN), (3, tc.I32, _RLE), (4, tc.I32, _RLE)],
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
        (1, tc.I32, _TYPE[column.kind]),
        (2, tc.LIST, (tc.I32, [_PLAIN, _RLE])),
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
        converted, logical = _UTF8, [(1, tc.STRUCT, [])]
    elif column.kind == "timestamp_us":
        unit = [(2, tc.STRUCT, [])]  # TimeUnit.MICROS
        converted = _TIMESTAMP_MICROS
        logical = [(8, tc.STRUCT, [(1, tc.BOOL, True), (2, tc.STRUCT, unit)])]
    return [
        (1, tc.I32, _TYPE[column.kind]),
        (3, tc.I32, _OPTIONAL if column.nullable else _REQUIRED),
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


# -- reading -----------------------------------------------------------------------------


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
        if physical == _BYTE_ARRAY:
            kind = "string"
        elif physical == _DOUBLE:
            kind = "double"
        elif physical == _BOOLEAN:
            kind = "bool"
        elif physical == _INT64:
            kind = "timestamp_us" if converted == _TIMESTAMP_MICROS or 8 in logical else "int64"
        else:
            raise ParquetError(f"column {name!r}: physical type {physical} is not supported")
        if element.get(3) == 2:
            raise ParquetError(f"column {name!r} is repeated; only flat tables are supported")
        out.append(Column(name, kind, nullable=element.get(3) == _OPTIONAL))
    return out


def _read_chunk(raw: bytes, column: Column, chunk: dict[int, Any], rows: int) -> np.ndarray:
    meta = chunk.get(3) or {}
    codec = meta.get(4, _UNCOMPRESSED)
    if codec not in (_UNCOMPRESSED, _GZIP):
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
        if header.get(1) != _DATA_PAGE:
            raise ParquetError(
                f"column {column.name!r}: page type {header.get(1)} is not supported "
                "(only v1 data pages)"
            )
        body = zlib.decompress(stored, wbits=47) if codec == _GZIP else stored
        page = header[5]
        if page.get(2) != _PLAIN:
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
