"""`modelops drift report` through click's runner, on a trained model and synthetic data.

The model is the session's small churn model (tests/plugins/models.py); the
data comes from the features' synthetic generator, unshifted (the training
distribution) and with its covariate shift (several features far above PSI
0.2). One test checks the offline numbers against the live path: the same
rows counted by the bento's own histograms and measured by the operator's
`drift.counts.measure`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelops_cli.main import cli
from modelops_features import synthetic

ROWS = 2000
# What an SVG written by matplotlib names: XML namespaces and its metadata's
# vocabularies. They identify formats; a browser fetches none of them.
NAMESPACES = {
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1999/xlink",
    "http://creativecommons.org/ns#",
    "http://purl.org/dc/dcmitype/StillImage",
    "http://purl.org/dc/elements/1.1/",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("drift-data")
    same = root / "same.parquet"
    shifted = root / "shifted.csv"
    synthetic.churn(ROWS, seed=11).to_parquet(same, index=False)
    synthetic.churn(ROWS, seed=11, shift=1.0).to_csv(shifted, index=False)
    return {"same": same, "shifted": shifted}


def drift_report(model, data: Path, out: Path, *extra: str):
    args = ["drift", "report", "--model", model.model, "--version", model.version]
    args += ["--registry", model.uri, "--data", str(data), "--out", str(out), *extra]
    return CliRunner().invoke(cli, args)


def as_json(result) -> dict:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return json.loads(result.stdout)


def test_training_distribution_does_not_drift(churn_model, files, tmp_path):
    result = drift_report(churn_model, files["same"], tmp_path / "r.html", "-o", "json")
    body = as_json(result)
    assert result.exit_code == 0, result.output
    assert body["verdict"] == "NotDrifted"
    assert body["drifted"] == []
    assert body["score"] <= 0.2
    assert (body["method"], body["threshold"], body["minSamples"]) == ("psi", 0.2, 1000)
    assert body["condition"]["reason"] == "NoDrift"
    assert body["rows"] == body["samples"] == ROWS


def test_shifted_data_drifts_with_the_documented_exit_code(churn_model, files, tmp_path):
    result = drift_report(churn_model, files["shifted"], tmp_path / "r.html", "-o", "json")
    body = as_json(result)
    assert result.exit_code == 3, result.output
    assert body["verdict"] == "Drifted"
    assert body["condition"]["status"] == "True"
    assert body["condition"]["reason"] == "DriftDetected"
    # The generator's shift moves spend and tickets; plan keeps its mix.
    assert {"total_spend", "support_tickets"} <= set(body["drifted"])
    assert "plan" not in body["drifted"]
    assert body["score"] == max(f["score"] for f in body["features"].values())
    assert all(f["drifts"] == (f["score"] > 0.2) for f in body["features"].values())


def test_the_threshold_and_method_flags_change_the_verdict(churn_model, files, tmp_path):
    high = drift_report(
        churn_model, files["shifted"], tmp_path / "r.html", "--threshold", "100", "-o", "json"
    )
    assert high.exit_code == 0, high.output
    assert as_json(high)["verdict"] == "NotDrifted"
    js = as_json(drift_report(churn_model, files["shifted"], tmp_path / "j.html", "--method", "js"))
    assert js["method"] == "js"
    assert 0 < js["score"] <= 1  # the JS distance is bounded; PSI here is above 1


def test_fewer_rows_than_min_samples_are_not_judged(churn_model, files, tmp_path):
    result = drift_report(
        churn_model, files["shifted"], tmp_path / "r.html", "--min-samples", str(ROWS + 1)
    )
    assert result.exit_code == 4, result.output
    body = as_json(result)
    assert body["verdict"] == "InsufficientData"
    assert body["insufficient"] is True


def test_the_html_is_one_file_with_a_histogram_per_feature(churn_model, files, tmp_path):
    out = tmp_path / "report.html"
    result = drift_report(churn_model, files["shifted"], out, "-o", "json")
    assert result.exit_code == 3, result.output
    page = out.read_text()
    features = as_json(result)["features"]
    figures = re.findall(r"<figure>(.*?)</figure>", page, flags=re.S)
    assert len(figures) == len(features) > 10
    named = {re.search(r"<figcaption><b>([^<]+)</b>", f).group(1): f for f in figures}
    assert named.keys() == features.keys()
    assert all(f.count("<svg") == 1 for f in figures)
    # Nothing is fetched: no scripts, stylesheets, images or frames by reference,
    # url() only to the page's own ids (SVG clip paths), and the only URLs are the
    # SVG's XML namespaces.
    for pattern in (
        r"<script",
        r"<link",
        r"<img",
        r"<iframe",
        r"\bsrc=",
        r"@import",
        r"url\((?!#)",
    ):
        assert not re.search(pattern, page, flags=re.I), pattern
    urls = set(re.findall(r"""https?://[^\s"'<>)]+""", page))
    assert urls <= NAMESPACES, urls - NAMESPACES


def test_the_terminal_summary_names_the_verdict_and_the_report(churn_model, files, tmp_path):
    out = tmp_path / "r.html"
    result = drift_report(churn_model, files["shifted"], out, "-o", "table")
    assert result.exit_code == 3, result.output
    assert "Drifted" in result.stdout
    assert "total_spend" in result.stdout
    assert f"report: {out}" in result.stdout.replace("\n", "")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--data": "missing.parquet"}, "--data {tmp}/missing.parquet: no such file"),
        ({"--data": "data.txt"}, "unknown file type '.txt'"),
        ({"--version": "99"}, "99"),
        ({"--model": "nope"}, "nope"),
    ],
)
def test_bad_input_exits_2_naming_it(churn_model, files, tmp_path, change, message):
    (tmp_path / "data.txt").write_text("x")
    args = {
        "--model": churn_model.model,
        "--version": churn_model.version,
        "--registry": churn_model.uri,
        "--data": str(files["same"]),
        "--out": str(tmp_path / "r.html"),
    }
    args.update({k: str(tmp_path / v) if k == "--data" else v for k, v in change.items()})
    argv = [part for pair in args.items() for part in pair]
    result = CliRunner().invoke(cli, ["drift", "report", *argv])
    assert result.exit_code == 2, result.output
    assert message.format(tmp=tmp_path) in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.html").exists()


def test_a_file_without_the_raw_columns_is_refused(churn_model, files, tmp_path):
    import pandas as pd

    bad = tmp_path / "partial.csv"
    pd.read_parquet(files["same"]).drop(columns=["region", "orders"]).to_csv(bad, index=False)
    result = drift_report(churn_model, bad, tmp_path / "r.html")
    assert result.exit_code == 2, result.output
    assert "raw column(s) of the churn model missing: orders, region" in result.stderr


def test_offline_scores_equal_the_operators_on_the_bentos_histograms(churn_model, files):
    """The same rows, counted by the serving side's histograms and measured by the operator."""
    import numpy as np
    import pandas as pd

    from modelops_bentos.common.telemetry import ModelMetrics
    from modelops_cli.drift_report import measure
    from modelops_features import churn
    from modelops_operator.drift.counts import BucketSamples
    from modelops_operator.drift.counts import measure as operator_measure
    from modelops_registry import Registry

    profile = Registry.from_uri(churn_model.uri).metadata(churn_model.model, churn_model.version)[
        "profile"
    ]
    features = churn.compute(pd.read_csv(files["shifted"]))
    settings = measure.drift_settings("psi", None, None)
    offline, *_ = measure.measure(profile, features, settings, window="shifted.csv")

    counted = ModelMetrics(profile)
    counted.observe(features, np.zeros(len(features)))
    samples = BucketSamples(
        numeric=tuple(
            ({"feature": name, "le": le}, float(value))
            for name, hist in counted.numeric.items()
            for le, value in hist.buckets()
        ),
        categorical=tuple(
            ({"feature": name, "value": value}, float(count))
            for name, counts in counted.categorical.items()
            for value, count in counts.counts.items()
        ),
    )
    live = operator_measure(profile, samples, settings)
    assert offline.features.keys() == live.features.keys()
    for name, score in live.features.items():
        assert offline.features[name] == pytest.approx(score, rel=1e-12, abs=1e-12), name
    assert offline.score == pytest.approx(live.score)
