"""`modelops train --model learning-path`: end to end into a tmp registry.

Metrics, metadata and the JSON artefact; the base comparison on the same
held-out students; and the fairness gate refusing a deliberately biased
training set with a report naming the groups and the gap.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelops_cli.main import cli
from modelops_features import learning_path as lp
from modelops_features.softmax import SoftmaxLinear
from modelops_registry import Registry
from modelops_training import TrainingInputError, XGBParams, train

MODEL = "learning-path"
# 10 000 students: ~2 000 held out, enough for group rates to be stable (the
# unbiased set's fairness gap stays near 0.05, the biased one's near 0.14).
FAIR = "synthetic:10000:1"
BIASED = "synthetic:10000:1:0:1"
GAP = 0.1


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"file://{tmp_path_factory.mktemp('lp-registry')}"


@pytest.fixture(scope="module")
def fair(registry: str) -> dict:
    return train(
        model=MODEL,
        data=FAIR,
        registry_uri=registry,
        gates={"minMetric": {"top3_accuracy": 0.7}, "maxFairnessGap": GAP},
    )


def test_fair_model_is_approved_with_ranking_metrics(fair: dict, registry: str) -> None:
    assert (fair["version"], fair["status"]) == ("1", "approved")
    m = fair["metrics"]
    assert 0.7 < m["top3_accuracy"] < 0.95
    assert m["top1_accuracy"] < m["ndcg_at_3"] < m["top3_accuracy"]
    assert m["top3_accuracy"] > m["baseline_top3_accuracy"] + 0.2  # beats popularity
    assert m["fairness_gap"] < GAP and m["fairness_column"] == "group"
    assert set(m["groups"]) == set(lp.GROUPS)
    assert m["fairness_gap"] == max(m["top3_accuracy_gap"], m["recommendation_rate_gap"])


def test_metadata_and_safe_artefact(fair: dict, registry: str) -> None:
    reg = Registry.from_uri(registry)
    meta = reg.metadata(MODEL, fair["version"])
    assert meta["algorithm"] == "softmax_logistic_regression"
    assert meta["features"]["schema_hash"] == lp.FEATURE_SCHEMA.content_hash()
    assert meta["features"]["model_columns"] == lp.MODEL_COLUMNS
    assert meta["training"]["split"] == "student_id_hash"
    assert meta["dataset"]["name"] == "synthetic-students:10000:1:0:0"
    assert set(meta["artefacts"]) == {"model.json"}
    assert set(meta["profile"]["features"]) == set(lp.FEATURE_NAMES)
    assert meta["profile"]["prediction"]["kind"] == "numeric"
    scorer = SoftmaxLinear.from_json(reg.read_artefact(MODEL, fair["version"], "model.json"))
    assert scorer.classes == lp.MODULES and scorer.columns == tuple(lp.MODEL_COLUMNS)


def test_biased_training_set_is_refused_by_the_fairness_gate(registry: str) -> None:
    result = train(model=MODEL, data=BIASED, registry_uri=registry, gates={"maxFairnessGap": GAP})
    assert result["status"] == "rejected"
    gate = result["gates"]["maxFairnessGap"]
    assert gate["passed"] is False and gate["value"] > GAP and gate["threshold"] == GAP
    assert gate["detail"]["metric"] == "recommendation_rate"
    # group_b was steered to foundations modules: it is named, first (shown more often).
    assert gate["detail"]["groups"][0] == "group_b"
    assert gate["detail"]["module"].endswith("-foundations")
    # The rejected version is kept as evidence but never resolves as approved.
    reg = Registry.from_uri(registry)
    assert reg.metadata(MODEL, result["version"])["status"] == "rejected"
    assert reg.resolve(MODEL, "@latest-approved") != result["version"]


def test_cli_refusal_names_groups_and_gap(registry: str) -> None:
    out = CliRunner().invoke(
        cli,
        [
            "train",
            "--model",
            MODEL,
            "--data",
            BIASED,
            "--registry",
            registry,
            "--max-fairness-gap",
            str(GAP),
            "--min-top3-accuracy",
            "0.5",
        ],
    )
    assert out.exit_code == 3, out.output
    line = json.loads(out.stdout)
    value = line["gates"]["maxFairnessGap"]["value"]
    assert "maxFairnessGap" in out.stderr and f"value {value}" in out.stderr
    assert "between groups group_b and" in out.stderr and "threshold 0.1" in out.stderr


def test_base_comparison_on_the_same_held_out_students(fair: dict, registry: str) -> None:
    result = train(
        model=MODEL,
        data="synthetic:6000:2",
        registry_uri=registry,
        base_version=fair["version"],
        gates={"maxRegression": 0.05},
    )
    gate = result["gates"]["maxRegression"]
    assert gate["method"] == "same_holdout" and gate["base_version"] == fair["version"]
    assert gate["value"] == pytest.approx(
        gate["base_top3_accuracy"] - gate["candidate_top3_accuracy"], abs=1e-6
    )
    assert gate["passed"] is True


def test_bad_inputs_are_refused_before_publishing(tmp_path: Path) -> None:
    uri = f"file://{tmp_path}"
    bad = tmp_path / "bad.csv"
    bad.write_text("student_id,confidence,group,next_module\ns1,9,group_z,math-advanced\n")
    with pytest.raises(TrainingInputError) as info:
        train(model=MODEL, data=str(bad), registry_uri=uri)
    columns = {v["column"] for v in info.value.report["violations"]}
    assert {"confidence", "group", "video_minutes", "last_subject"} <= columns
    with pytest.raises(TrainingInputError, match="unknown metric"):
        train(
            model=MODEL, data="synthetic:500", registry_uri=uri, gates={"minMetric": {"auc": 0.7}}
        )
    with pytest.raises(TrainingInputError, match="churn only"):
        train(model=MODEL, data="synthetic:500", registry_uri=uri, params=XGBParams())
    assert Registry.from_uri(uri).models() == []
    out = CliRunner().invoke(
        cli,
        [
            "train",
            "--model",
            MODEL,
            "--data",
            "synthetic:500",
            "--n-estimators",
            "5",
            "--registry",
            uri,
        ],
    )
    assert out.exit_code == 2 and "churn only" in out.stderr
