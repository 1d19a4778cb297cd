"""The small Parquet codec: round trips, what pyarrow reads from it, and clear refusals."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelops_features import thrift_compact as tc
from modelops_features.parquet import Column, ParquetError, decode, encode

COLUMNS = [
    Column("text", "string"),
    Column("number", "double"),
    Column("count", "int64"),
    Column("at", "timestamp_us", nullable=False),
    Column("flag", "bool"),
    Column("name", "string", nullable=False),
]
DATA = {
    "text": ["a", None, "héllo ☃", "", None, "x" * 300],
    "number": [1.0, None, float("nan"), 2.5, -1e300, 0.0],
    "count": [1, None, 3, 4, 5, -(2**62)],
    "at": np.array([0, 1, 2, 3, 4, 1_700_000_000_123_456]),
    "flag": [True, False, None, True, True, False],
    "name": ["q"] * 6,
}


def arrow(raw: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(raw))


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_pyarrow_reads_every_value_and_type(compression: str) -> None:
    table = arrow(encode(COLUMNS, DATA, metadata={"k": "v"}, compression=compression))
    assert table.schema.field("text").type == pa.string()
    assert table.schema.field("number").type == pa.float64()
    assert table.schema.field("count").type == pa.int64()
    assert table.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("flag").type == pa.bool_()
    assert not table.schema.field("name").nullable and not table.schema.field("at").nullable
    assert table.schema.metadata == {b"k": b"v"}
    got = table.to_pydict()
    assert got["text"] == DATA["text"]
    # NaN and None are both written as null (missing) in a nullable double column.
    assert got["number"] == [1.0, None, None, 2.5, -1e300, 0.0]
    assert got["count"] == DATA["count"]
    assert got["at"][-1] == datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)
    assert got["flag"] == DATA["flag"]


def test_decode_round_trip_with_null_conventions() -> None:
    table = decode(encode(COLUMNS, DATA, metadata={"k": "v"}))
    assert table.num_rows == 6 and table.metadata == {"k": "v"}
    assert [c.name for c in table.columns] == [c.name for c in COLUMNS]
    assert table.data["text"].tolist() == DATA["text"]
    number = table.data["number"]
    assert np.isnan(number[[1, 2]]).all() and number[[0, 3, 4, 5]].tolist() == [
        1.0,
        2.5,
        -1e300,
        0.0,
    ]
    # An int column with nulls comes back as float with NaN (as pandas reads it).
    assert np.isnan(table.data["count"][1]) and table.data["count"][2] == 3
    assert table.data["at"].dtype == np.int64 and table.data["at"][-1] == 1_700_000_000_123_456
    assert table.data["flag"].tolist() == DATA["flag"]


def test_columns_can_be_selected_and_unknown_ones_are_named() -> None:
    raw = encode(COLUMNS, DATA)
    table = decode(raw, columns=["name", "count"])
    assert list(table.data) == ["count", "name"]  # file order
    assert decode(raw, columns=()).data == {}
    with pytest.raises(ParquetError, match=r"no column\(s\) \['missing'\]"):
        decode(raw, columns=["missing"])


def test_empty_and_many_columns() -> None:
    empty = encode(COLUMNS, {c.name: [] for c in COLUMNS})
    assert arrow(empty).num_rows == 0
    assert decode(empty).data["number"].dtype == np.float64
    # 40 columns: list headers with 15+ entries take the long form.
    wide = [Column(f"c{i}", "double") for i in range(40)]
    raw = encode(wide, {c.name: [float(i)] for i, c in enumerate(wide)})
    assert arrow(raw).to_pydict()["c39"] == [39.0]
    assert decode(raw).data["c17"].tolist() == [17.0]


def test_many_rows_with_a_null_pattern_pyarrow_agrees() -> None:
    rng = np.random.default_rng(0)
    n = 10_007  # not a multiple of 8: the bit-packed levels end in a padded group
    values = rng.normal(size=n)
    values[rng.random(n) < 0.3] = np.nan
    texts = [None if v != v else f"r{i}" for i, v in enumerate(values)]
    raw = encode([Column("v", "double"), Column("t", "string")], {"v": values, "t": texts})
    got = arrow(raw).to_pydict()
    assert got["t"] == texts
    assert np.allclose(np.array(got["v"], dtype=float), values, equal_nan=True)
    back = decode(raw)
    assert np.array_equal(back.data["v"], values, equal_nan=True)


def test_reads_a_plain_uncompressed_pyarrow_file() -> None:
    buffer = io.BytesIO()
    source = pa.table({"a": [1.0, None, 3.0], "s": ["x", None, "z"], "i": [1, 2, 3]})
    pq.write_table(source, buffer, compression="none", use_dictionary=False)
    table = decode(buffer.getvalue())
    assert table.data["s"].tolist() == ["x", None, "z"]
    assert table.data["i"].tolist() == [1, 2, 3]


def test_other_writers_defaults_are_refused_clearly() -> None:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"s": ["x", "x", "y"]}), buffer)  # snappy + dictionary
    with pytest.raises(ParquetError, match="not supported"):
        decode(buffer.getvalue())


@pytest.mark.parametrize(
    ("columns", "data", "message"),
    [
        ([Column("a", "double", nullable=False)], {"a": [None]}, "not nullable"),
        ([Column("a", "string")], {"a": [3]}, "not text"),
        ([Column("a", "int64")], {"a": [1.5]}, "not an integer"),
        ([Column("a", "int64")], {"a": ["7"]}, "not an integer"),
        ([Column("a", "int64"), Column("b", "int64")], {"a": [1], "b": [1, 2]}, "differ in length"),
        ([Column("a", "int64")], {}, r"no data for column\(s\) \['a'\]"),
        ([Column("a", "int64"), Column("a", "double")], {"a": [1]}, "duplicate"),
    ],
)
def test_bad_data_is_refused_naming_the_column(columns, data, message) -> None:
    with pytest.raises(ParquetError, match=message):
        encode(columns, data)


def test_unknown_kind_and_bad_bytes() -> None:
    with pytest.raises(ParquetError, match="kind 'float'"):
        Column("a", "float")
    with pytest.raises(ParquetError, match="not a Parquet file"):
        decode(b"hello world, not parquet")
    raw = bytearray(encode(COLUMNS, DATA))
    raw[-12:-8] = b"\xff\xff\xff\x7f"  # footer bytes garbled
    with pytest.raises(ParquetError):
        decode(bytes(raw))


@pytest.mark.parametrize("value", [0, 1, -1, 63, -64, 2**31 - 1, -(2**31), 2**62, -(2**63)])
def test_thrift_integers_round_trip(value: int) -> None:
    raw = tc.write_struct([(1, tc.I64, value), (20, tc.I32, 7), (21, tc.BOOL, False)])
    assert tc.Reader(bytes(raw)).read_struct() == {1: value, 20: 7, 21: False}
