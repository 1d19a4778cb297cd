"""Where a run writes: the scores, and the rejected rows beside them.

* `--out scores.parquet` (a name ending in .parquet): one file, the rejects in
  `scores.rejects.parquet`. Only for an unsharded run.
* `--out scores/` (anything else: a folder, local or s3://): one part per
  shard, `part-<INDEX>-of-<COUNT>.parquet`, rejects under `_rejects/` with the
  same name. Shards never write the same object, a re-run of a shard replaces
  its own part, and Parquet readers (pandas, pyarrow, Spark, DuckDB) read the
  folder as one table: they skip names starting with `_` or `.`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .shards import WHOLE, Shard

PARQUET_SUFFIX = ".parquet"
REJECTS_SUFFIX = ".rejects.parquet"
REJECTS_FOLDER = "_rejects"


@dataclass(frozen=True)
class OutputPaths:
    scores: str
    rejects: str


def part_name(shard: Shard) -> str:
    return f"part-{shard.index:05d}-of-{shard.count:05d}{PARQUET_SUFFIX}"


def is_single_file(out: str) -> bool:
    return out.lower().endswith(PARQUET_SUFFIX) and not out.endswith("/")


def output_paths(out: str, shard: Shard | None) -> OutputPaths:
    """The scores and rejects paths of `--out` for this shard (None: an unsharded run)."""
    out = out.strip()
    if not out:
        raise ValueError("--out is empty: give a .parquet file or a folder")
    if is_single_file(out):
        if out.lower().endswith(REJECTS_SUFFIX):
            raise ValueError(f"--out {out}: that name is reserved for the rejects of another run")
        if shard is not None:
            raise ValueError(
                f"--out {out} is one file, but --shard {shard} writes one part per shard: "
                "give --out a folder (e.g. scores/)"
            )
        return OutputPaths(out, out[: -len(PARQUET_SUFFIX)] + REJECTS_SUFFIX)
    base = out.rstrip("/")
    if not base or base.endswith(":"):
        raise ValueError(f"--out {out}: give a folder below the root (e.g. s3://bucket/scores/)")
    name = part_name(shard or WHOLE)
    return OutputPaths(f"{base}/{name}", f"{base}/{REJECTS_FOLDER}/{name}")
