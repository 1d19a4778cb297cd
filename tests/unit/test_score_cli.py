"""`modelops score` end to end through click's runner, on a small model in a tmp registry.

Output columns and values, rejects, exit codes, shards, CSV vs Parquet, chunk
sizes, and that a failed run writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from modelops_cli.main import cli
from modelops_features import churn, synthetic

ROWS = 600
BAD = {3: ("tenure_months", -3), 10: ("plan", "gold"), 11: ("orders", None), 40: ("plan", None)}


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    from modelops_training import XGBParams, train

    uri = f"file://{tmp_path_factory.mktemp('registry')}"
    result = train(
        model="churn", data="synthetic:1500", registry_uri=uri, seed=0,
        params=XGBParams(n_estimators=20), gates={"maxBaselineRegression": 0.05},
    )  # fmt: skip
    assert result["status"] == "approved", result["gates"]
    return uri


def customers(rows: int = ROWS, seed: int = 4, bad: dict = BAD) -> pd.DataFrame:
    frame = (
        synthetic.churn(rows, seed=seed)
        .drop(columns=[churn.TARGET])
        .astype({"plan": object, "orders": object, "tenure_months": object})
    )
    # The edge cases of the endpoint's parity test: zero orders, zero tenure, missing values.
    frame.loc[0, "orders"] = 0
    frame.loc[1, "tenure_months"] = 0
    frame.loc[2, ["total_spend", "support_tickets"]] = None
    for row, (column, value) in bad.items():
        frame.loc[row, column] = value
    return frame


def write_parquet(frame: pd.DataFrame, path: Path, row_group: int = 250) -> Path:
    # Bad values must survive the file: text columns stay text, numbers numbers.
    table = pa.Table.from_pandas(
        frame.astype({"tenure_months": "float64", "orders": "float64"}), preserve_index=False
    )
    pq.write_table(table, path, row_group_size=row_group)
    return path


def score(registry: str, *args: str):
    return CliRunner().invoke(cli, ["score", "--registry", registry, "--no-progress", *args])


def expected_probabilities(registry: str, frame: pd.DataFrame) -> np.ndarray:
    """What the bento's own code path gives these records (records -> matrix -> predictor)."""
    from modelops_bentos.churn.model import load_model, load_request

    model = load_model(load_request({"MODELOPS_REGISTRY": registry, "MODELOPS_MODEL_VERSION": "1"}))
    records = frame.replace({np.nan: None}).to_dict(orient="records")
    return model.predict(churn.model_matrix_from_records(records))


def test_scores_valid_rows_and_sets_bad_ones_aside(registry: str, tmp_path: Path) -> None:
    frame = customers()
    data = write_parquet(frame, tmp_path / "in.parquet")
    out = tmp_path / "scores.parquet"
    result = score(registry, "--data", str(data), "--out", str(out), "-o", "json")
    assert result.exit_code == 3, result.output
    summary = json.loads(result.stdout)
    assert (summary["rows"], summary["scored"], summary["rejected"]) == (ROWS, ROWS - 4, 4)
    assert summary["rejects_by_rule"] == {
        "orders:null": 1, "plan:category": 1, "plan:null": 1, "tenure_months:min": 1,
    }  # fmt: skip
    assert summary["status"] == "rejects-over-limit"
    assert "4 of 600 row(s) rejected" in result.stderr

    table = pq.read_table(out)
    assert table.schema.names == [
        "customer_id", "churn_probability", "model", "model_version", "feature_schema_hash",
        "scored_at",
    ]  # fmt: skip
    assert table.schema.field("churn_probability").type == pa.float32()
    scores = table.to_pandas()
    valid = frame.drop(index=list(BAD)).reset_index(drop=True)
    assert scores["customer_id"].tolist() == valid["customer_id"].tolist()
    assert set(scores["model"]) == {"churn"} and set(scores["model_version"]) == {"1"}
    assert set(scores["feature_schema_hash"]) == {churn.FEATURE_SCHEMA.content_hash()}
    assert scores["scored_at"].nunique() == 1
    expected = expected_probabilities(registry, valid)
    assert np.array_equal(scores["churn_probability"].to_numpy(), expected)

    rejects = pd.read_parquet(tmp_path / "scores.rejects.parquet")
    assert rejects["row"].tolist() == sorted(BAD)
    assert rejects["customer_id"].tolist() == frame.loc[sorted(BAD), "customer_id"].tolist()
    assert rejects["violations"].tolist() == [
        "tenure_months min: -3 is below 0",
        "plan category: 'gold' is not one of basic, standard, premium",
        "orders null: missing, and the field is required",
        "plan null: missing, and the field is required",
    ]
    assert set(rejects["source"]) == {str(data)}
    assert rejects.loc[0, "tenure_months"] == "-3"


def test_a_reject_rate_within_the_limit_exits_0(registry: str, tmp_path: Path) -> None:
    data = write_parquet(customers(), tmp_path / "in.parquet")
    result = score(
        registry, "--data", str(data), "--out", str(tmp_path / "o.parquet"),
        "--max-reject-rate", "0.01",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "rejects       4" in result.stdout and "rows/s" in result.stdout


def test_csv_parquet_and_chunk_sizes_give_the_same_scores(registry: str, tmp_path: Path) -> None:
    frame = customers(bad={})
    frame.to_csv(tmp_path / "in.csv", index=False)
    frame.to_csv(tmp_path / "in.csv.gz", index=False)
    write_parquet(frame, tmp_path / "in.parquet")
    outputs = []
    for data, chunk in (("in.csv", "100000"), ("in.csv.gz", "7"), ("in.parquet", "33")):
        out = tmp_path / f"{data}-{chunk}.parquet"
        result = score(
            registry, "--data", str(tmp_path / data), "--out", str(out), "--chunk-rows", chunk
        )
        assert result.exit_code == 0, result.output
        outputs.append(pd.read_parquet(out, columns=["customer_id", "churn_probability"]))
    for other in outputs[1:]:
        pd.testing.assert_frame_equal(outputs[0], other)
    assert np.array_equal(
        outputs[0]["churn_probability"].to_numpy(), expected_probabilities(registry, frame)
    )


def test_shards_together_score_exactly_the_whole_input(registry: str, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    frame = customers()
    write_parquet(frame.iloc[:400], inputs / "a.parquet", row_group=100)
    frame.iloc[400:].to_csv(inputs / "b.csv", index=False)
    whole = tmp_path / "whole.parquet"
    assert score(registry, "--data", str(inputs), "--out", str(whole)).exit_code == 3
    out = tmp_path / "sharded"
    summaries = []
    for index in range(3):
        result = score(
            registry, "--data", str(inputs), "--out", f"{out}/", "--shard", f"{index}/3",
            "-o", "json",
        )  # fmt: skip
        assert result.exit_code in (0, 3), result.output
        summaries.append(json.loads(result.stdout))
    # 5 units (4 row groups + 1 CSV) dealt round robin: 2, 2 and 1.
    assert [s["inputs"]["units"] for s in summaries] == [2, 2, 1]
    assert sum(s["rows"] for s in summaries) == ROWS
    assert sorted(p.name for p in out.iterdir()) == [
        "_rejects", "part-00000-of-00003.parquet", "part-00001-of-00003.parquet",
        "part-00002-of-00003.parquet",
    ]  # fmt: skip
    together = pd.read_parquet(out).sort_values("customer_id").reset_index(drop=True)
    alone = pd.read_parquet(whole).sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_series_equal(together["customer_id"], alone["customer_id"])
    assert np.array_equal(together["churn_probability"], alone["churn_probability"])
    assert len(pd.read_parquet(out / "_rejects")) == len(BAD)


def test_a_shard_without_units_writes_empty_parts(registry: str, tmp_path: Path) -> None:
    data = write_parquet(customers(bad={}), tmp_path / "in.parquet", row_group=ROWS)
    result = score(registry, "--data", str(data), "--out", str(tmp_path / "o"), "--shard", "1/2")
    assert result.exit_code == 0, result.output
    part = tmp_path / "o" / "part-00001-of-00002.parquet"
    assert pq.read_table(part).num_rows == 0
    assert pq.read_table(part).schema.names[0] == "customer_id"


def test_integer_ids_keep_their_type(registry: str, tmp_path: Path) -> None:
    frame = customers(bad={})
    frame["customer_id"] = np.arange(len(frame), dtype=np.int64) * 7
    data = write_parquet(frame, tmp_path / "in.parquet")
    out = tmp_path / "o.parquet"
    assert score(registry, "--data", str(data), "--out", str(out)).exit_code == 0
    table = pq.read_table(out)
    assert table.schema.field("customer_id").type == pa.int64()
    assert table.column("customer_id").to_pylist() == frame["customer_id"].tolist()


def test_rows_without_an_id_and_another_id_column(registry: str, tmp_path: Path) -> None:
    frame = customers(bad={}).rename(columns={"customer_id": "account"})
    frame.loc[5, "account"] = None
    frame.to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "o.parquet"
    result = score(registry, "--data", str(tmp_path / "in.csv"), "--out", str(out),
                   "--id-column", "account", "-o", "json")  # fmt: skip
    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout)["rejects_by_rule"] == {"account:null": 1}
    assert pq.read_table(out).schema.names[0] == "account"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--version", "9"), "no version 9"),
        (("--version", "1", "--from-deployment", "ml/churn"), "not both"),
        (("--shard", "0/2"), "give --out a folder"),
        (("--shard", "2/2"), "--shard '2/2'"),
        (("--top-k", "2"), "--top-k applies to --model learning-path only"),
        (("--model-name", "nope"), "model 'nope' has no published versions"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(registry, tmp_path, args, error) -> None:
    data = write_parquet(customers(bad={}), tmp_path / "in.parquet")
    out = tmp_path / "o.parquet"
    result = score(registry, "--data", str(data), "--out", str(out), *args)
    assert result.exit_code == 2, result.output
    assert error in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_input_missing_columns_exits_2_naming_file_and_columns(registry, tmp_path) -> None:
    customers(bad={}).drop(columns=["plan", "region"]).to_csv(tmp_path / "in.csv", index=False)
    result = score(registry, "--data", str(tmp_path / "in.csv"), "--out", str(tmp_path / "o/"))
    assert result.exit_code == 2
    assert "in.csv: missing column(s) plan, region" in result.stderr
    assert not (tmp_path / "o").exists()


def test_a_tampered_artefact_is_refused(registry: str, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "registry"
    shutil.copytree(registry.removeprefix("file://"), copy)
    artefact = copy / "churn" / "1" / "model.ubj"
    artefact.write_bytes(artefact.read_bytes()[:-1] + b"\0")
    data = write_parquet(customers(bad={}), tmp_path / "in.parquet")
    result = score(f"file://{copy}", "--data", str(data), "--out", str(tmp_path / "o.parquet"))
    assert result.exit_code == 2
    assert "sha256" in result.stderr and "refusing to use it" in result.stderr


def test_a_failure_mid_run_keeps_the_previous_output(registry: str, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    customers(bad={}).to_csv(inputs / "a.csv", index=False)
    out = tmp_path / "o.parquet"
    assert score(registry, "--data", str(inputs), "--out", str(out)).exit_code == 0
    before = out.read_bytes()
    # A second file whose header is fine but whose 300th line is not CSV.
    lines = (inputs / "a.csv").read_text().splitlines()
    lines[300] = '"unterminated' + lines[300]
    (inputs / "b.csv").write_text("\n".join(lines) + "\n")
    result = score(registry, "--data", str(inputs), "--out", str(out), "--chunk-rows", "50")
    assert result.exit_code == 2, result.output
    assert "b.csv: cannot read it as csv" in result.stderr and "nothing written" in result.stderr
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "o.parquet", "o.rejects.parquet"]


def test_summary_file_and_table_output(registry: str, tmp_path: Path) -> None:
    data = write_parquet(customers(bad={}), tmp_path / "in.parquet")
    summary = tmp_path / "summary.json"
    result = score(
        registry, "--data", str(data), "--out", str(tmp_path / "o/"), "--summary-file",
        str(summary), "--version", "@latest-approved",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    written = json.loads(summary.read_text())
    assert written["status"] == "ok" and written["rows"] == ROWS and written["rejected"] == 0
    assert written["output"].endswith("o/part-00000-of-00001.parquet")
    for label in ("model", "version", "rows", "rejects", "seconds", "rows/s", "output"):
        assert any(line.startswith(label) for line in result.stdout.splitlines()), label


def test_learning_path_writes_the_top_k_modules_per_student(tmp_path: Path) -> None:
    from modelops_bentos.learning_path.model import load_recommender, load_request
    from modelops_bentos.learning_path.scoring import rank
    from modelops_features.learning_path import RAW_SCHEMA
    from modelops_features.synthetic_students import students
    from modelops_training import train

    uri = f"file://{tmp_path / 'registry'}"
    assert (
        train(model="learning-path", data="synthetic:3000:1", registry_uri=uri, seed=0)["status"]
        == "approved"
    )
    frame = students(300, seed=9).drop(columns=["next_module"])
    frame.loc[7, "confidence"] = 9  # out of range: rejected
    write_parquet_lp = tmp_path / "students.parquet"
    frame.to_parquet(write_parquet_lp, index=False)
    out = tmp_path / "recs.parquet"
    result = score(uri, "--model", "learning-path", "--data", str(write_parquet_lp),
                   "--out", str(out), "--top-k", "2", "--max-reject-rate", "0.01")  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.schema.names[:2] == ["student_id", "recommendations"]
    assert table.num_rows == 299
    model = load_recommender(load_request({"MODELOPS_REGISTRY": uri}))
    valid = frame.drop(index=7).reset_index(drop=True)
    for i, recs in enumerate(table.column("recommendations").to_pylist()):
        activity = {
            k: (None if pd.isna(v) else v) for k, v in valid.loc[i, RAW_SCHEMA.names].items()
        }
        expected = rank(model.scorer, activity, 2).top
        assert [r["module"] for r in recs] == [m for m, _ in expected]
        assert [r["rank"] for r in recs] == [1, 2]
        # A matrix product sums in another order for one row than for many (the
        # service's /recommend_batch has the same 1e-12 agreement with /recommend).
        assert np.allclose([r["score"] for r in recs], [s for _, s in expected], rtol=0, atol=1e-12)
