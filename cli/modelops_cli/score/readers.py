"""One work unit -> chunks of rows, so memory stays flat whatever the input size.

Parquet is read one row group at a time, in record batches of `chunk_rows`,
and only the columns the model needs; CSV in chunks of `chunk_rows` lines.
Each chunk carries the ids as an Arrow array (Parquet's own type, kept as is
in the output; CSV ids are read as text, so "007" stays "007") and the raw
columns as a DataFrame, which is what the schema checks and the features
package read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from .inputs import PARQUET, InputError, Unit


@dataclass(frozen=True)
class Chunk:
    unit: Unit
    first_row: int  # row number in the file of the chunk's first row
    ids: pa.Array
    raw: pd.DataFrame  # the model's raw columns, index 0..n-1

    def __len__(self) -> int:
        return len(self.raw)


def read_unit(
    fs: Any, unit: Unit, id_column: str, raw_columns: Sequence[str], chunk_rows: int
) -> Iterator[Chunk]:
    """The unit's rows in chunks of at most `chunk_rows` (InputError on unreadable data)."""
    reader = _parquet_chunks if unit.file.kind == PARQUET else _csv_chunks
    try:
        yield from reader(fs, unit, id_column, list(raw_columns), chunk_rows)
    except InputError:
        raise
    except (pa.ArrowException, ValueError, UnicodeDecodeError) as exc:
        # A corrupt page, a malformed CSV line: the file is bad input, named.
        raise InputError(f"{unit.file.shown}: cannot read it as {unit.file.kind}: {exc}") from exc


def _parquet_chunks(
    fs: Any, unit: Unit, id_column: str, raw_columns: list[str], chunk_rows: int
) -> Iterator[Chunk]:
    import pyarrow.parquet as pq

    columns = [id_column, *(c for c in raw_columns if c != id_column)]
    row = unit.first_row
    with fs.open(unit.file.path, "rb") as handle:
        batches = pq.ParquetFile(handle).iter_batches(
            batch_size=chunk_rows, row_groups=[unit.row_group], columns=columns
        )
        for batch in batches:
            raw = batch.select(raw_columns).to_pandas()
            yield Chunk(unit, row, batch.column(id_column), raw)
            row += batch.num_rows


def _csv_chunks(
    fs: Any, unit: Unit, id_column: str, raw_columns: list[str], chunk_rows: int
) -> Iterator[Chunk]:
    columns = [id_column, *(c for c in raw_columns if c != id_column)]
    row = 0
    with fs.open(unit.file.path, "rb") as handle:
        reader = pd.read_csv(
            handle,
            usecols=columns,
            # Ids are labels: read as text, never as numbers.
            dtype={id_column: str},
            chunksize=chunk_rows,
            compression=unit.file.compression,
        )
        for frame in reader:
            frame = frame.reset_index(drop=True)
            ids = pa.array(frame[id_column], type=pa.string(), from_pandas=True)
            yield Chunk(unit, row, ids, frame[raw_columns])
            row += len(frame)
