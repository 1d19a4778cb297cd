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

from modelops_features.parquet.read import decode
from modelops_features.parquet.schema import (
    CODECS,
    CREATED_BY,
    KINDS,
    MAGIC,
    Column,
    ParquetError,
    Table,
)
from modelops_features.parquet.write import encode

__all__ = [
    "CODECS",
    "CREATED_BY",
    "KINDS",
    "MAGIC",
    "Column",
    "ParquetError",
    "Table",
    "decode",
    "encode",
]
