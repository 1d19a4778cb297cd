"""`--data`: which files a run reads, and the work units they split into.

`--data` is one file, a folder (its .parquet / .csv / .csv.gz files; names
starting with `_` or `.` are skipped, as Parquet readers do), or a glob, on
the local disk or any fsspec URL (s3://bucket/prefix/*.parquet). S3 endpoints
come from the same environment variables as the registry's.

A Parquet file splits into one unit per row group, a CSV file is one unit:
that is the grain of `--shard`. Planning reads only Parquet footers and CSV
header lines, and checks every file has the columns the model needs before
anything is scored, so a bad file fails the run up front, naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PARQUET = "parquet"
CSV = "csv"
GLOB_CHARS = "*?["


class InputError(ValueError):
    """`--data` names nothing usable (the message says what and where)."""


@dataclass(frozen=True)
class InputFile:
    path: str  # as the file system sees it (no protocol)
    shown: str  # as the user should read it (with s3:// when remote)
    kind: str  # PARQUET or CSV
    compression: str | None = None  # "gzip" for .csv.gz


@dataclass(frozen=True)
class Unit:
    """The smallest piece of work: one Parquet row group, or one whole CSV file."""

    file: InputFile
    row_group: int | None  # None: the whole (CSV) file
    rows: int | None  # known for Parquet, not for CSV
    first_row: int  # row number (0-based, in the file) of the unit's first row


def file_kind(name: str) -> tuple[str, str | None] | None:
    """(kind, compression) from a file name, None when it is not a readable kind."""
    lower = name.lower()
    if lower.endswith((".parquet", ".pq")):
        return PARQUET, None
    if lower.endswith(".csv"):
        return CSV, None
    if lower.endswith(".csv.gz"):
        return CSV, "gzip"
    return None


def s3_options() -> dict[str, Any]:
    """fsspec options for s3://: the endpoint from the registry's environment variables.

    No listing or instance caches (as the registry): a listing must show the
    files as they are now, not as an earlier call in the same process saw them.
    """
    from modelops_registry.core import ENV_S3_ENDPOINTS

    options: dict[str, Any] = {"use_listings_cache": False, "skip_instance_cache": True}
    for name in ENV_S3_ENDPOINTS:
        value = os.environ.get(name, "").strip()
        if value:
            options["client_kwargs"] = {"endpoint_url": value}
            break
    return options


def filesystem(url: str) -> tuple[Any, str]:
    """(fsspec file system, path inside it) for a local path or URL."""
    import fsspec

    options = s3_options() if url.startswith(("s3://", "s3a://")) else {}
    try:
        return fsspec.core.url_to_fs(url, **options)
    except (ValueError, ImportError) as exc:
        raise InputError(f"{url}: unsupported location ({exc})") from exc


def is_local(fs: Any) -> bool:
    from fsspec.implementations.local import LocalFileSystem

    return isinstance(fs, LocalFileSystem)


def shown_path(fs: Any, path: str) -> str:
    return path if is_local(fs) else fs.unstrip_protocol(path)


def hidden_below(root: str, path: str) -> bool:
    """Whether a name between `root` and `path` starts with `_` or `.` (e.g. `_rejects/`)."""
    relative = path[len(root.rstrip("/")) :].strip("/")
    return any(part.startswith(("_", ".")) for part in relative.split("/"))


def list_files(data: str) -> tuple[Any, list[InputFile]]:
    """The input files `--data` names, sorted by path (raises InputError)."""
    fs, path = filesystem(data)
    try:
        if any(c in path for c in GLOB_CHARS):
            paths, explicit = sorted(p for p in fs.glob(path) if not fs.isdir(p)), True
        elif fs.isdir(path):
            paths = sorted(
                p for p in fs.find(path) if file_kind(p) is not None and not hidden_below(path, p)
            )
            explicit = False
            if not paths:
                raise InputError(f"--data {data}: the folder has no .parquet, .csv or .csv.gz file")
        elif fs.exists(path):
            paths, explicit = [path], True
        else:
            raise InputError(f"--data {data}: no such file or folder")
    except OSError as exc:
        raise InputError(f"--data {data}: cannot list it: {exc}") from exc
    if not paths:
        raise InputError(f"--data {data}: the pattern matches no file")
    files = []
    for p in paths:
        kind = file_kind(p)
        if kind is None:
            assert explicit  # folders only list known kinds
            raise InputError(
                f"--data {data}: {shown_path(fs, p)} is not a .parquet, .csv or .csv.gz file"
            )
        files.append(InputFile(p, shown_path(fs, p), kind[0], kind[1]))
    return fs, files


def columns_and_units(fs: Any, file: InputFile) -> tuple[dict[str, Any], list[Unit]]:
    """The file's columns (name -> Arrow type) and work units (a Parquet footer, a CSV header).

    CSV columns are typed only at reading; ids are read as text, so their type is string.
    """
    try:
        if file.kind == PARQUET:
            return _parquet_plan(fs, file)
        return _csv_columns(fs, file), [Unit(file, None, None, 0)]
    except InputError:
        raise
    except Exception as exc:  # pyarrow / pandas raise many types for a broken file
        raise InputError(f"{file.shown}: cannot read it as {file.kind}: {exc}") from exc


def _parquet_plan(fs: Any, file: InputFile) -> tuple[dict[str, Any], list[Unit]]:
    import pyarrow.parquet as pq

    with fs.open(file.path, "rb") as handle:
        meta = pq.ParquetFile(handle).metadata
        arrow = meta.schema.to_arrow_schema()
        columns = {name: arrow.field(name).type for name in arrow.names}
        units, first = [], 0
        for i in range(meta.num_row_groups):
            rows = meta.row_group(i).num_rows
            units.append(Unit(file, i, rows, first))
            first += rows
    return columns, units


def _csv_columns(fs: Any, file: InputFile) -> dict[str, Any]:
    import pandas as pd
    import pyarrow as pa

    with fs.open(file.path, "rb") as handle:
        header = pd.read_csv(handle, nrows=0, compression=file.compression)
    return {str(c): pa.string() for c in header.columns}


def missing_columns(columns: Sequence[str], required: Sequence[str]) -> list[str]:
    present = set(columns)
    return [name for name in required if name not in present]


@dataclass(frozen=True)
class Plan:
    """Every work unit of a run's inputs, in order, and the type the ids are written as."""

    files: list[InputFile]
    units: list[Unit]
    id_type: Any  # pyarrow DataType


def known_rows(units: Sequence[Unit]) -> int | None:
    """Rows in `units` when known before reading (CSV row counts are not)."""
    counts = [u.rows for u in units]
    return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)


def id_type(types: Sequence[Any]) -> Any:
    """The ids' output type: the inputs' own when they all agree, else text."""
    import pyarrow as pa

    distinct = set(types)
    if len(distinct) == 1:
        (only,) = distinct
        if pa.types.is_integer(only) or pa.types.is_string(only) or pa.types.is_large_string(only):
            return only
    return pa.string()


def plan(fs: Any, files: Sequence[InputFile], id_column: str, required: Sequence[str]) -> Plan:
    """Plan a run over `files`; InputError listing every file that lacks a needed column."""
    units: list[Unit] = []
    types: list[Any] = []
    problems: list[str] = []
    for file in files:
        columns, file_units = columns_and_units(fs, file)
        missing = missing_columns(list(columns), [id_column, *required])
        if missing:
            problems.append(f"  {file.shown}: missing column(s) {', '.join(missing)}")
            continue
        types.append(columns[id_column])
        units.extend(file_units)
    if problems:
        raise InputError(
            f"{len(problems)} input file(s) lack columns the model needs "
            f"(id column {id_column} and {', '.join(required)}):\n" + "\n".join(problems)
        )
    return Plan(list(files), units, id_type(types))
