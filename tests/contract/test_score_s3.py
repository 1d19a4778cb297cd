"""`modelops score` reading and writing s3:// (a real S3 HTTP server: moto on loopback).

Inputs listed by prefix and by glob, the registry on S3 too, shards writing
their own parts and rejects, and nothing left behind but the committed objects.
"""

from __future__ import annotations

import io
import json

import fsspec
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from modelops_cli.main import cli
from modelops_features import synthetic


def raw_fs(endpoint: str):
    return fsspec.filesystem(
        "s3", client_kwargs={"endpoint_url": endpoint}, skip_instance_cache=True
    )


@pytest.fixture
def loaded_bucket(s3_bucket: str, moto_s3_endpoint: str) -> str:
    """A bucket with a churn model in s3://<bucket>/models and inputs under in/."""
    from modelops_training import XGBParams, train

    result = train(
        model="churn", data="synthetic:1500", registry_uri=f"s3://{s3_bucket}/models", seed=0,
        params=XGBParams(n_estimators=20), gates={"maxBaselineRegression": 0.05},
    )  # fmt: skip
    assert result["status"] == "approved", result["gates"]
    fs = raw_fs(moto_s3_endpoint)
    frame = synthetic.churn(900, seed=3).drop(columns=["churned"]).astype({"plan": object})
    frame.loc[5, "plan"] = "gold"
    buffer = io.BytesIO()
    pq.write_table(
        pa.Table.from_pandas(frame.iloc[:600], preserve_index=False), buffer, row_group_size=200
    )
    fs.pipe_file(f"{s3_bucket}/in/a.parquet", buffer.getvalue())
    fs.pipe_file(f"{s3_bucket}/in/b.csv", frame.iloc[600:].to_csv(index=False).encode())
    fs.pipe_file(f"{s3_bucket}/in/_SUCCESS", b"")
    return s3_bucket


def score(*args: str):
    return CliRunner().invoke(cli, ["score", "--no-progress", "-o", "json", *args])


def test_shards_read_and_write_s3(loaded_bucket: str, moto_s3_endpoint: str) -> None:
    bucket = loaded_bucket
    summaries = []
    for index in range(2):
        result = score(
            "--registry", f"s3://{bucket}/models", "--data", f"s3://{bucket}/in/",
            "--out", f"s3://{bucket}/out/", "--shard", f"{index}/2", "--max-reject-rate", "0.01",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        summaries.append(json.loads(result.stdout))
    assert sum(s["rows"] for s in summaries) == 900
    assert sum(s["rejected"] for s in summaries) == 1
    assert summaries[0]["inputs"] == {"files": 2, "units": 2}  # 3 row groups + 1 CSV, dealt 2/2
    assert summaries[1]["output"] == f"s3://{bucket}/out/part-00001-of-00002.parquet"

    fs = raw_fs(moto_s3_endpoint)
    assert sorted(fs.find(f"{bucket}/out")) == [
        f"{bucket}/out/_rejects/part-00000-of-00002.parquet",
        f"{bucket}/out/_rejects/part-00001-of-00002.parquet",
        f"{bucket}/out/part-00000-of-00002.parquet",
        f"{bucket}/out/part-00001-of-00002.parquet",
    ]
    scores = pd.concat(
        pd.read_parquet(io.BytesIO(fs.cat_file(f"{bucket}/out/part-0000{i}-of-00002.parquet")))
        for i in range(2)
    )
    assert len(scores) == 899 and scores["customer_id"].is_unique
    rejects = pd.concat(
        pd.read_parquet(io.BytesIO(fs.cat_file(p))) for p in fs.find(f"{bucket}/out/_rejects")
    )
    assert rejects["violations"].tolist() == [
        "plan category: 'gold' is not one of basic, standard, premium"
    ]
    assert rejects["source"].tolist() == [f"s3://{bucket}/in/a.parquet"]


def test_a_glob_and_a_single_output_file(loaded_bucket: str, moto_s3_endpoint: str) -> None:
    bucket = loaded_bucket
    result = score(
        "--registry", f"s3://{bucket}/models", "--data", f"s3://{bucket}/in/*.csv",
        "--out", f"s3://{bucket}/scores.parquet",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["rows"], summary["inputs"]["files"]) == (300, 1)
    fs = raw_fs(moto_s3_endpoint)
    assert pq.read_table(io.BytesIO(fs.cat_file(f"{bucket}/scores.parquet"))).num_rows == 300
    assert fs.exists(f"{bucket}/scores.rejects.parquet")


def test_missing_input_prefix_is_bad_input(loaded_bucket: str) -> None:
    result = score(
        "--registry", f"s3://{loaded_bucket}/models", "--data", f"s3://{loaded_bucket}/nothing/",
        "--out", f"s3://{loaded_bucket}/o/",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "no such file or folder" in result.stderr
