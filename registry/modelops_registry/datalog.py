"""Append-only, day-partitioned data beside a model's versions: the inference log and feedback.

Layout, the same on every store the registry supports::

    <root>/<model>/<stream>/date=YYYY-MM-DD/<UTC time>-<writer>-<seq>.parquet

`stream` is `inference-log` (what the model saw and answered) or `feedback`
(outcomes that arrived later). The `date=` folders are Hive-style partitions:
a reader of a window lists only the days in it (pyarrow and pandas read the
folder as a dataset with a `date` column).
The folder names are not version numbers, so the registry's version listing
never sees them.

Objects are immutable once written: every batch is a new file whose name no
other writer can produce (UTC time, the writer's id, a per-process sequence),
and a file is visible only complete: on a local folder it is written aside
(a dot name, which listings skip) and renamed into place; an S3 PUT is atomic.
Readers therefore never see half a batch and writers never coordinate.

This module moves bytes only; the Parquet encoding is modelops_features.parquet
(the registry stays free of numpy and pandas).
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlparse

from modelops_registry.core import _s3_endpoint
from modelops_registry.errors import RegistryError
from modelops_registry.metadata import check_model_name

INFERENCE_LOG = "inference-log"
FEEDBACK = "feedback"
STREAMS = (INFERENCE_LOG, FEEDBACK)
SUFFIX = ".parquet"
_PARTITION = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
_WRITER = re.compile(r"[^A-Za-z0-9.-]+")


def partition_name(day: date) -> str:
    return f"date={day.isoformat()}"


def writer_id() -> str:
    """This process, as a file-name part unique across pods and restarts."""
    host = _WRITER.sub("-", socket.gethostname())[:40] or "host"
    return f"{host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class DataLog:
    """Day-partitioned files of one store (file:// or s3://); see the module docstring."""

    def __init__(self, uri: str) -> None:
        parsed = urlparse(uri)
        self._seq = itertools.count(1)
        self._writer = writer_id()
        if parsed.scheme in ("", "file"):
            path = parsed.netloc + parsed.path if parsed.scheme == "file" else uri
            if not path:
                raise RegistryError(f"log URI {uri!r} names no folder")
            self._root = str(Path(path).expanduser())
            self.uri = "file://" + self._root
            self._fs = None
        elif parsed.scheme == "s3":
            import fsspec  # file:// users never load aiobotocore

            self._root = (parsed.netloc + parsed.path).strip("/")
            if not self._root:
                raise RegistryError("s3:// log URI needs a bucket, e.g. s3://models")
            self.uri = "s3://" + self._root
            endpoint = _s3_endpoint()
            self._fs = fsspec.filesystem(
                "s3",
                client_kwargs={"endpoint_url": endpoint} if endpoint else {},
                use_listings_cache=False,
                skip_instance_cache=True,
            )
        else:
            raise RegistryError(
                f"unsupported log URI {uri!r}: use file:///path, a plain path, or s3://bucket/prefix"
            )

    @classmethod
    def from_uri(cls, uri: str) -> DataLog:
        return cls(uri)

    def _dir(self, model: str, stream: str) -> str:
        check_model_name(model)
        if stream not in STREAMS:
            raise RegistryError(f"unknown log stream {stream!r}; one of {STREAMS}")
        return f"{self._root}/{model}/{stream}"

    # -- writing --------------------------------------------------------------------

    def write(self, model: str, stream: str, day: date, data: bytes) -> str:
        """Store one batch in the day's partition; returns its key (relative to the root)."""
        now = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{now}-{self._writer}-{next(self._seq):06d}{SUFFIX}"
        folder = f"{self._dir(model, stream)}/{partition_name(day)}"
        if self._fs is None:
            os.makedirs(folder, exist_ok=True)
            staging = f"{folder}/.{name}.tmp"
            with open(staging, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(staging, f"{folder}/{name}")
        else:
            self._fs.pipe_file(f"{folder}/{name}", data)
        return f"{model}/{stream}/{partition_name(day)}/{name}"

    # -- reading --------------------------------------------------------------------

    def days(self, model: str, stream: str) -> list[date]:
        """The days that have a partition, oldest first."""
        found = []
        for name in self._children(self._dir(model, stream), folders=True):
            match = _PARTITION.match(name)
            if match:
                try:
                    found.append(date.fromisoformat(match.group(1)))
                except ValueError:
                    continue  # date=2026-13-45: not ours, not a partition
        return sorted(found)

    def files(
        self, model: str, stream: str, since: date | None = None, until: date | None = None
    ) -> list[str]:
        """Keys of the complete files of the days since..until (inclusive), in name order."""
        keys = []
        for day in self.days(model, stream):
            if (since is not None and day < since) or (until is not None and day > until):
                continue
            folder = f"{self._dir(model, stream)}/{partition_name(day)}"
            keys += [
                f"{model}/{stream}/{partition_name(day)}/{name}"
                for name in sorted(self._children(folder, folders=False))
                if name.endswith(SUFFIX) and not name.startswith(".")
            ]
        return keys

    def read(self, key: str) -> bytes:
        if ".." in key.split("/"):
            raise RegistryError(f"invalid log key {key!r}")
        path = f"{self._root}/{key}"
        if self._fs is None:
            with open(path, "rb") as handle:
                return handle.read()
        return self._fs.cat_file(path)

    def _children(self, folder: str, *, folders: bool) -> list[str]:
        if self._fs is None:
            if not os.path.isdir(folder):
                return []
            with os.scandir(folder) as entries:
                return [e.name for e in entries if e.is_dir() == folders]
        try:
            entries = self._fs.ls(folder, detail=True)
        except FileNotFoundError:
            return []
        wanted = "directory" if folders else "file"
        return [
            e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries if e.get("type") == wanted
        ]
