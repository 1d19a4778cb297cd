"""End-to-end training into a temporary file registry (small data, few trees)."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
import xgboost as xgb

from modelops_features import churn, synthetic
from modelops_registry import Registry
from modelops_training import ARTEFACT_NAME, TrainingInputError, XGBParams, train

FAST = XGBParams(n_estimators=40)
# A 40-tree model on a few thousand rows trails its logistic baseline by about
# 0.02 AUC, more than the default maxBaselineRegression (0.01) allows. Tests
# that need such a fast model approved widen that one gate and say so.
TOLERANT_BASELINE = {"maxBaselineRegression": 0.05}
LINE_KEYS = {"model", "version", "status", "metrics", "gates", "registry"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    """One approved version 1 shared by the tests that only read it."""
    uri = f"file://{tmp_path_factory.mktemp('registry')}"
    line = train(
        data="synthetic:3000",
        registry_uri=uri,
        gates={"minMetric": {"auc": 0.7}, "maxFairnessGap": 0.5, **TOLERANT_BASELINE},
        params=FAST,
    )
    return uri, line


def test_json_line_and_metrics(trained: tuple[str, dict]) -> None:
    uri, line = trained
    assert set(line) == LINE_KEYS
    assert (line["model"], line["version"], line["status"]) == ("churn", "1", "approved")
    assert line["registry"] == uri
    m = line["metrics"]
    assert m["auc"] > 0.7
    assert m["baseline_auc"] > 0.7
    assert 0 < m["logloss"] < math.log(2)  # better than a coin
    assert 0.5 < m["accuracy"] <= 1
    assert 0 <= m["ece"] < 0.2
    assert 0 <= m["fairness_gap"] < 0.5
    assert m["fairness_column"] in churn.SEGMENT_COLUMNS
    assert set(m["segments"]["plan"]["segments"]) == set(churn.PLANS)
    assert set(line["gates"]) == {"minMetric.auc", "maxFairnessGap", "maxBaselineRegression"}
    assert all(gate["passed"] for gate in line["gates"].values())
    assert not any(gate.get("default") for gate in line["gates"].values()), "all given"


def test_metadata_is_complete(trained: tuple[str, dict]) -> None:
    uri, _ = trained
    meta = Registry.from_uri(uri).metadata("churn", "1")
    assert meta["algorithm"] == "xgboost"
    assert meta["dataset"]["name"] == "synthetic:3000:0:0"
    assert len(meta["dataset"]["sha256"]) == 64
    assert meta["features"]["schema_hash"] == churn.FEATURE_SCHEMA.content_hash()
    assert meta["features"]["model_columns"] == churn.MODEL_COLUMNS
    assert meta["features"]["package_version"]
    assert meta["git_commit"] is None or len(meta["git_commit"]) == 40
    assert meta["training"]["split"] == "customer_id_hash"
    assert set(meta["profile"]["features"]) == set(churn.FEATURE_NAMES)
    assert meta["profile"]["prediction"]["kind"] == "numeric"
    assert meta["status"] == "approved"
    assert set(meta["artefacts"]) == {ARTEFACT_NAME}


def test_artefact_is_verified_ubjson_that_predicts(trained: tuple[str, dict]) -> None:
    uri, _ = trained
    raw = Registry.from_uri(uri).read_artefact("churn", "1", ARTEFACT_NAME)
    assert raw[:1] == b"{"  # UBJSON object marker, not a pickle
    booster = xgb.Booster()
    booster.load_model(bytearray(raw))
    frame = synthetic.churn(200, seed=5)
    p = booster.inplace_predict(churn.model_matrix(churn.compute(frame)))
    assert p.shape == (200,)
    assert np.all((p > 0) & (p < 1))


def test_failed_gate_publishes_rejected(tmp_path: Path) -> None:
    uri = f"file://{tmp_path}"
    first = train(data="synthetic:1500", registry_uri=uri, params=FAST, gates=TOLERANT_BASELINE)
    second = train(
        data="synthetic:1500", registry_uri=uri, gates={"minMetric": {"auc": 0.99}}, params=FAST
    )
    assert first["status"] == "approved"
    assert second["status"] == "rejected"
    gate = second["gates"]["minMetric.auc"]
    assert gate["passed"] is False and gate["threshold"] == 0.99 and gate["value"] < 0.99
    reg = Registry.from_uri(uri)
    assert reg.versions("churn") == ["1", "2"]
    assert reg.metadata("churn", "2")["status"] == "rejected"
    # A rejected candidate is recorded but never becomes the approved one.
    assert reg.resolve("churn", "@latest-approved") == "1"


def test_base_version_regression_gate(trained: tuple[str, dict], tmp_path: Path) -> None:
    base_uri, _ = trained
    uri = f"file://{tmp_path}"
    reg = Registry.from_uri(uri)
    base_meta = Registry.from_uri(base_uri).metadata("churn", "1")
    raw = Registry.from_uri(base_uri).read_artefact("churn", "1", ARTEFACT_NAME)
    base_meta = {k: v for k, v in base_meta.items() if k not in ("version", "created_at")}
    reg.publish("churn", {ARTEFACT_NAME: raw}, base_meta)

    # A deliberately weak candidate (one stump) must fail against the base.
    weak = train(
        data="synthetic:3000:7",
        registry_uri=uri,
        base_version="@latest-approved",
        gates={"maxRegression": 0.01},
        params=XGBParams(n_estimators=1, max_depth=1),
    )
    gate = weak["gates"]["maxRegression"]
    assert weak["status"] == "rejected"
    assert gate["passed"] is False
    assert gate["base_version"] == "1"
    assert gate["method"] == "same_holdout"
    assert gate["value"] == pytest.approx(gate["base_auc"] - gate["candidate_auc"], abs=1e-6)
    assert gate["value"] > 0.01

    # A comparable candidate passes a tolerant regression gate.
    good = train(
        data="synthetic:3000:7",
        registry_uri=uri,
        base_version="1",
        gates={"maxRegression": 0.05, **TOLERANT_BASELINE},
        params=FAST,
    )
    assert good["status"] == "approved", good["gates"]
    assert good["gates"]["maxRegression"]["base_auc"] > 0.7


def test_regression_gate_without_base_passes_with_note(tmp_path: Path) -> None:
    line = train(
        data="synthetic:1500",
        registry_uri=str(tmp_path),
        gates={"maxRegression": 0.01},
        params=FAST,
    )
    assert line["gates"]["maxRegression"]["passed"] is True
    assert "no base version" in line["gates"]["maxRegression"]["note"]


def test_invalid_data_refused_with_full_report(tmp_path: Path) -> None:
    frame = synthetic.churn(300, seed=1)
    frame.loc[0, "tenure_months"] = -4
    frame.loc[1, "plan"] = "gold"
    frame = frame.drop(columns=["region", "churned"])
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(TrainingInputError) as caught:
        train(data=str(path), registry_uri=str(tmp_path / "reg"), params=FAST)
    message = str(caught.value)
    for column in ("tenure_months", "plan", "region", "churned"):
        assert column in message
    rules = {(v["column"], v["rule"]) for v in caught.value.report["violations"]}
    assert rules == {
        ("tenure_months", "min"),
        ("plan", "category"),
        ("region", "missing_column"),
        ("churned", "missing_column"),
    }
    assert Registry.from_uri(str(tmp_path / "reg")).models() == []


def test_parquet_input_and_file_hash(tmp_path: Path) -> None:
    path = tmp_path / "train.parquet"
    synthetic.churn(1500, seed=3).to_parquet(path)
    line = train(data=str(path), registry_uri=str(tmp_path / "reg"), params=FAST)
    meta = Registry.from_uri(str(tmp_path / "reg")).metadata("churn", line["version"])
    assert meta["dataset"]["name"] == str(path)
    assert meta["dataset"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": "synthetic:abc"}, "not an integer"),
        ({"data": "/no/such/file.csv"}, "no such file"),
        ({"data": "data.txt"}, "unknown file type"),
        ({"data": "synthetic:100", "model": "fraud"}, "unknown model"),
        ({"data": "synthetic:100", "gates": {"minAuc": 0.7}}, "unknown gate"),
        ({"data": "synthetic:100", "gates": {"minMetric": {"f1": 0.7}}}, "unknown metric"),
        ({"data": "synthetic:100", "gates": {"maxRegression": "x"}}, "finite number"),
    ],
)
def test_bad_options_refused(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(TrainingInputError, match=message):
        train(registry_uri=str(tmp_path), params=FAST, **kwargs)


def test_single_class_refused(tmp_path: Path) -> None:
    frame = synthetic.churn(200, seed=1)
    frame["churned"] = 0
    path = tmp_path / "one.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(TrainingInputError, match="both classes"):
        train(data=str(path), registry_uri=str(tmp_path), params=FAST)


def test_training_is_deterministic(tmp_path: Path) -> None:
    a = train(data="synthetic:1000:4", registry_uri=str(tmp_path / "a"), seed=1, params=FAST)
    b = train(data="synthetic:1000:4", registry_uri=str(tmp_path / "b"), seed=1, params=FAST)
    assert a["metrics"] == b["metrics"]
    raw_a = Registry.from_uri(str(tmp_path / "a")).read_artefact("churn", "1", ARTEFACT_NAME)
    raw_b = Registry.from_uri(str(tmp_path / "b")).read_artefact("churn", "1", ARTEFACT_NAME)
    assert raw_a == raw_b


def test_frame_without_ids_uses_seeded_split(tmp_path: Path) -> None:
    path = tmp_path / "noid.csv"
    synthetic.churn(1000, seed=2).drop(columns=["customer_id"]).to_csv(path, index=False)
    line = train(data=str(path), registry_uri=str(tmp_path / "reg"), params=FAST)
    meta = Registry.from_uri(str(tmp_path / "reg")).metadata("churn", line["version"])
    assert meta["training"]["split"] == "seeded_permutation"
    assert meta["training"]["rows_holdout"] == 200


# --- default gates ------------------------------------------------------------------


def test_a_model_that_learned_nothing_is_rejected_by_default(tmp_path: Path) -> None:
    # 10 rows: two held out, AUC 0.5, one score for everyone. No gates given.
    line = train(data="synthetic:10", registry_uri=str(tmp_path), params=FAST)
    assert line["status"] == "rejected"
    gate = line["gates"]["minMetric.auc"]
    assert (gate["passed"], gate["threshold"], gate["default"]) == (False, 0.6, True)


def test_a_model_that_loses_to_its_own_baseline_is_rejected_by_default(tmp_path: Path) -> None:
    line = train(data="synthetic:3000", registry_uri=str(tmp_path), params=FAST)
    gate = line["gates"]["maxBaselineRegression"]
    assert line["status"] == "rejected"
    assert gate["default"] is True and gate["threshold"] == 0.01
    assert gate["value"] == pytest.approx(gate["baseline_auc"] - gate["auc"], abs=1e-6)
    assert gate["value"] > 0.01
    assert line["gates"]["minMetric.auc"]["passed"] is True


def test_given_gates_override_defaults_one_by_one(tmp_path: Path) -> None:
    line = train(
        data="synthetic:3000",
        registry_uri=str(tmp_path),
        params=FAST,
        gates={"minMetric": {"auc": 0.7, "accuracy": 0.6}},
    )
    gates = line["gates"]
    assert gates["minMetric.auc"]["threshold"] == 0.7 and "default" not in gates["minMetric.auc"]
    assert "default" not in gates["minMetric.accuracy"]
    assert gates["maxBaselineRegression"]["default"] is True, "not overridden: still applies"
    meta = Registry.from_uri(str(tmp_path)).metadata("churn", line["version"])
    assert meta["gate_spec"] == {
        "minMetric": {"auc": 0.7, "accuracy": 0.6},
        "maxBaselineRegression": 0.01,
    }


def test_no_gates_must_be_asked_for(tmp_path: Path) -> None:
    line = train(data="synthetic:10", registry_uri=str(tmp_path), params=FAST, default_gates=False)
    assert (line["status"], line["gates"]) == ("approved", {})
