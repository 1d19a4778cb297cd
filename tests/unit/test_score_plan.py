"""Planning a scoring run: shards, output layout, input listing and work units."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelops_cli.score import inputs
from modelops_cli.score.layout import output_paths
from modelops_cli.score.shards import Shard, parse_shard, units_of

# --- shards ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shard"), [("0/1", Shard(0, 1)), ("3/8", Shard(3, 8)), (" 1/2 ", Shard(1, 2))]
)
def test_parse_shard(text, shard) -> None:
    assert parse_shard(text) == shard


@pytest.mark.parametrize(
    ("text", "error"),
    [("1", "INDEX/COUNT"), ("a/2", "INDEX/COUNT"), ("2/2", "INDEX/COUNT"), ("-1/2", "INDEX/COUNT"),
     ("0/0", "COUNT must be"), ("0/100001", "COUNT must be"), ("$(JOB_COMPLETION_INDEX)/2", "INDEX/COUNT")],
)  # fmt: skip
def test_bad_shards_name_the_option(text, error) -> None:
    with pytest.raises(ValueError, match=r"--shard") as info:
        parse_shard(text)
    assert error in str(info.value)


@pytest.mark.parametrize("count", [1, 2, 3, 7, 12])
def test_shards_partition_the_units(count: int) -> None:
    units = list(range(10))
    parts = [units_of(units, Shard(i, count)) for i in range(count)]
    assert sorted(u for part in parts for u in part) == units
    assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_units_are_dealt_round_robin() -> None:
    assert units_of("abcdefg", Shard(1, 3)) == ["b", "e"]


# --- layout ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("out", "shard", "scores", "rejects"),
    [
        ("scores.parquet", None, "scores.parquet", "scores.rejects.parquet"),
        ("/d/x.PARQUET", None, "/d/x.PARQUET", "/d/x.rejects.parquet"),
        ("out", None, "out/part-00000-of-00001.parquet", "out/_rejects/part-00000-of-00001.parquet"),
        ("out/", Shard(2, 4), "out/part-00002-of-00004.parquet",
         "out/_rejects/part-00002-of-00004.parquet"),
        ("s3://b/run/", Shard(0, 2), "s3://b/run/part-00000-of-00002.parquet",
         "s3://b/run/_rejects/part-00000-of-00002.parquet"),
        ("s3://b", None, "s3://b/part-00000-of-00001.parquet",
         "s3://b/_rejects/part-00000-of-00001.parquet"),
        ("dir.parquet/", None, "dir.parquet/part-00000-of-00001.parquet",
         "dir.parquet/_rejects/part-00000-of-00001.parquet"),
    ],
)  # fmt: skip
def test_output_paths(out, shard, scores, rejects) -> None:
    paths = output_paths(out, shard)
    assert (paths.scores, paths.rejects) == (scores, rejects)


@pytest.mark.parametrize(
    ("out", "shard", "error"),
    [("scores.parquet", Shard(0, 2), "give --out a folder"), ("", None, "empty"),
     ("s3://", None, "below the root"), ("/", None, "below the root"),
     ("x.rejects.parquet", None, "reserved")],
)  # fmt: skip
def test_bad_outputs(out, shard, error) -> None:
    with pytest.raises(ValueError, match=error):
        output_paths(out, shard)


# --- inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [("a.parquet", ("parquet", None)), ("A.PQ", ("parquet", None)), ("a.csv", ("csv", None)),
     ("a.csv.gz", ("csv", "gzip")), ("a.json", None), ("a.parquet.bak", None)],
)  # fmt: skip
def test_file_kind(name, kind) -> None:
    assert inputs.file_kind(name) == kind


@pytest.mark.parametrize(
    ("root", "path", "hidden"),
    [("/d", "/d/a.parquet", False), ("/d/", "/d/_rejects/a.parquet", True),
     ("/d", "/d/x=1/.a.parquet.tmp", True), ("/d", "/d/date=1/a.parquet", False),
     ("/_d", "/_d/a.parquet", False)],
)  # fmt: skip
def test_hidden_below(root, path, hidden) -> None:
    assert inputs.hidden_below(root, path) is hidden


@pytest.mark.parametrize(
    ("types", "expected"),
    [([pa.int64(), pa.int64()], pa.int64()), ([pa.string()], pa.string()),
     ([pa.large_string()], pa.large_string()), ([pa.int64(), pa.string()], pa.string()),
     ([pa.float64()], pa.string()), ([], pa.string())],
)  # fmt: skip
def test_id_type(types, expected) -> None:
    assert inputs.id_type(types) == expected


def write_parquet(path: Path, rows: int, row_group: int, **extra) -> None:
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(rows)], "x": range(rows), **extra})
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group
    )


def test_folder_lists_known_kinds_recursively_and_skips_hidden_names(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "_rejects").mkdir()
    write_parquet(tmp_path / "b" / "2.parquet", 3, 3)
    write_parquet(tmp_path / "1.parquet", 3, 3)
    write_parquet(tmp_path / "_rejects" / "1.parquet", 3, 3)
    (tmp_path / "c.csv").write_text("customer_id,x\nc1,1\n")
    (tmp_path / ".c.csv.tmp").write_text("")
    (tmp_path / "README.md").write_text("")
    _, files = inputs.list_files(str(tmp_path))
    assert [Path(f.path).relative_to(tmp_path).as_posix() for f in files] == [
        "1.parquet", "b/2.parquet", "c.csv",
    ]  # fmt: skip
    assert [f.kind for f in files] == ["parquet", "parquet", "csv"]


def test_glob_and_single_file(tmp_path: Path) -> None:
    for name in ("a.parquet", "b.parquet", "c.csv"):
        write_parquet(tmp_path / name, 2, 2) if name.endswith("parquet") else (
            tmp_path / name
        ).write_text("customer_id,x\n")
    _, files = inputs.list_files(str(tmp_path / "*.parquet"))
    assert [Path(f.path).name for f in files] == ["a.parquet", "b.parquet"]
    _, files = inputs.list_files(f"file://{tmp_path}/c.csv")
    assert [f.shown for f in files] == [str(tmp_path / "c.csv")]


@pytest.mark.parametrize(
    ("data", "error"),
    [("nothing-here.parquet", "no such file or folder"), ("*.nothing", "matches no file"),
     ("empty", "has no .parquet"), ("notes.txt", "is not a .parquet")],
)  # fmt: skip
def test_unusable_data_is_named(tmp_path: Path, data: str, error: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(inputs.InputError, match=error) as info:
        inputs.list_files(str(tmp_path / data))
    assert "--data" in str(info.value)


def test_plan_splits_parquet_by_row_group_and_csv_by_file(tmp_path: Path) -> None:
    write_parquet(tmp_path / "a.parquet", 10, 4)
    (tmp_path / "b.csv").write_text("customer_id,x\nc1,1\nc2,2\n")
    fs, files = inputs.list_files(str(tmp_path))
    plan = inputs.plan(fs, files, "customer_id", ["x"])
    assert [(Path(u.file.path).name, u.row_group, u.rows, u.first_row) for u in plan.units] == [
        ("a.parquet", 0, 4, 0), ("a.parquet", 1, 4, 4), ("a.parquet", 2, 2, 8),
        ("b.csv", None, None, 0),
    ]  # fmt: skip
    assert inputs.known_rows(plan.units[:3]) == 10
    assert inputs.known_rows(plan.units) is None
    assert plan.id_type == pa.string()


def test_plan_lists_every_file_that_lacks_a_column(tmp_path: Path) -> None:
    write_parquet(tmp_path / "a.parquet", 2, 2)
    (tmp_path / "b.csv").write_text("x,y\n1,2\n")
    (tmp_path / "c.csv").write_text("customer_id,x,plan\nc1,1,basic\n")
    fs, files = inputs.list_files(str(tmp_path))
    with pytest.raises(inputs.InputError) as info:
        inputs.plan(fs, files, "customer_id", ["x", "plan"])
    text = str(info.value)
    assert "2 input file(s)" in text
    assert "a.parquet: missing column(s) plan" in text
    assert "b.csv: missing column(s) customer_id, plan" in text
    assert "c.csv" not in text


def test_a_broken_parquet_file_is_bad_input_naming_it(tmp_path: Path) -> None:
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 this is not parquet")
    fs, files = inputs.list_files(str(tmp_path))
    with pytest.raises(inputs.InputError, match=r"bad\.parquet: cannot read it as parquet"):
        inputs.plan(fs, files, "customer_id", ["x"])
