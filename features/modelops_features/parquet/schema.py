"""The Parquet subset modelops reads and writes: its column kinds, the parquet.thrift
enum values both directions use, `Column`, `Table` and `ParquetError`.

The kinds and what each becomes in a file are described in the package's
docstring (modelops_features.parquet).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAGIC = b"PAR1"
KINDS = ("string", "double", "int64", "timestamp_us", "bool")
CREATED_BY = "modelops-parquet version 1.0.0"

# parquet.thrift enums
PHYSICAL_TYPE = {"bool": 0, "int64": 2, "timestamp_us": 2, "double": 5, "string": 6}
BOOLEAN, INT64, DOUBLE, BYTE_ARRAY = 0, 2, 5, 6
REQUIRED, OPTIONAL = 0, 1
UTF8, TIMESTAMP_MICROS = 0, 10
PLAIN, RLE = 0, 3
UNCOMPRESSED, SNAPPY, GZIP = 0, 1, 2
DATA_PAGE, DICTIONARY_PAGE = 0, 2
CODECS = {"none": UNCOMPRESSED, "gzip": GZIP}


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
