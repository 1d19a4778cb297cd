"""The chart's PrometheusRule: `promtool test rules` on the rendered alerts (Prometheus 3's
promtool, built by tools/prometheus/provision.sh), runbook links, and metric names
that modelops really exports."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml

from tests.chart_tools import REPO_ROOT, by_kind, helm, render, template_args
from tests.metrics_samples import label_problems, scraped_labels

PROMETHEUS_PROVISION = REPO_ROOT / "tools" / "prometheus" / "provision.sh"
TESTS = Path(__file__).parent / "data" / "alerts_test.yaml"
RUNBOOKS = REPO_ROOT / "docs" / "runbooks.md"
ENABLED = {"alerts": {"enabled": True}}


@cache
def _provision() -> str:
    proc = subprocess.run(
        [str(PROMETHEUS_PROVISION)], capture_output=True, text=True, timeout=1800, check=False
    )
    if proc.returncode != 0:
        return "error:" + proc.stderr[-3000:]
    return str(Path(proc.stdout.strip().splitlines()[-1]) / "promtool")


def promtool() -> str:
    path = _provision()
    if path.startswith("error:"):
        pytest.fail(
            "promtool (Prometheus 3) is not available: tools/prometheus/provision.sh failed "
            "(it builds Prometheus from its Go module; needs Go 1.26):\n" + path[6:],
            pytrace=False,
        )
    return path


def rule(tmp_path: Path, values: dict | None = None) -> dict:
    rules = by_kind(render(tmp_path, values or ENABLED), "PrometheusRule")
    assert len(rules) == 1
    return rules[0]


def alerts(prometheus_rule: dict) -> list[dict]:
    return [r for group in prometheus_rule["spec"]["groups"] for r in group["rules"]]


def test_no_rule_unless_asked(tmp_path: Path) -> None:
    assert by_kind(render(tmp_path), "PrometheusRule") == []


def test_promtool_unit_tests_of_every_alert(tmp_path: Path) -> None:
    prometheus_rule = rule(tmp_path)
    (tmp_path / "rules.yaml").write_text(
        yaml.safe_dump({"groups": prometheus_rule["spec"]["groups"]})
    )
    shutil.copy(TESTS, tmp_path / TESTS.name)
    tool = promtool()
    checked = subprocess.run([tool, "check", "rules", str(tmp_path / "rules.yaml")],
                             capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([tool, "test", "rules", str(tmp_path / TESTS.name)],
                            capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # Every alert the chart ships has a case in the test file.
    names = {a["alert"] for a in alerts(prometheus_rule)}
    covered = set(re.findall(r"alertname: (\w+)", TESTS.read_text()))
    assert names <= covered, names - covered


def _anchor(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_alert_links_to_its_runbook_section(tmp_path: Path) -> None:
    anchors = {
        _anchor(line.lstrip("#"))
        for line in RUNBOOKS.read_text().splitlines()
        if line.startswith("## ")
    }
    for alert in alerts(rule(tmp_path)):
        url = alert["annotations"]["runbook_url"]
        assert url.startswith("https://"), url
        assert url.split("#", 1)[1] in anchors, f"{alert['alert']}: no section for {url}"
        assert alert["labels"]["severity"] in ("warning", "critical")
        assert alert["annotations"]["summary"] and alert["annotations"]["description"]


def known_metric_names() -> set[str]:
    """Every series name modelops exports today (operator, bentos, ground truth) and
    the live-quality families the operator will export (modelops_features.quality_metrics)."""
    from prometheus_client.metrics import MetricWrapperBase

    from modelops_bentos.churn.telemetry import Telemetry
    from modelops_bentos.common.ground_truth import GroundTruth, LogConfig
    from modelops_features import quality_metrics
    from modelops_operator.adapters import kube
    from modelops_operator.runtime import metrics

    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    names = {"up"}
    for module in (metrics, kube):
        for value in vars(module).values():
            if isinstance(value, MetricWrapperBase):
                names |= {value._name + s for s in suffixes[value._type]}
    telemetry = Telemetry("churn")
    telemetry.model_loaded("1", {"features": {}, "prediction": {"edges": [0.5]}})
    families = list(telemetry.collect())
    families += GroundTruth("churn", "churn", LogConfig("file:///unused")).families()
    for family in families:
        names |= {family.name + s for s in suffixes.get(family.type, ("",))}
    names |= {f.name for f in quality_metrics.FAMILIES}
    return names


def test_alerts_use_only_exported_metric_names(tmp_path: Path) -> None:
    known = known_metric_names()
    for alert in alerts(rule(tmp_path)):
        used = set(
            re.findall(r"\b(?:modelops_[a-z0-9_]+|up)\b(?=\s*[{(\[)]|\s*$|\s)", alert["expr"])
        )
        used = {u for u in used if u.startswith("modelops_") or u == "up"}
        assert used, alert["expr"]
        assert used <= known, f"{alert['alert']} uses {sorted(used - known)}"


def test_alerts_select_and_group_by_labels_the_series_carry(tmp_path: Path) -> None:
    """An alert grouped by a label its series lack fires once for every
    ModelDeployment together, and its summary names none of them."""
    carried = scraped_labels()
    for alert in alerts(rule(tmp_path)):
        problems = label_problems(alert["expr"], carried)
        assert not problems, f"{alert['alert']}: {problems}"


def test_disabled_alerts_leader_election_and_job_override(tmp_path: Path) -> None:
    values = {"alerts": {"enabled": True, "disabled": ["ModelopsHighLatencyP99"],
                         "operatorJob": "ops/modelops", "labels": {"release": "kps"},
                         "ruleLabels": {"team": "ml"}},
              "leaderElection": {"enabled": False}, "replicaCount": 1}  # fmt: skip
    prometheus_rule = rule(tmp_path, values)
    names = {a["alert"] for a in alerts(prometheus_rule)}
    assert "ModelopsHighLatencyP99" not in names
    # Without leader election no replica ever reports leader=1: no leader alerts.
    assert not names & {"ModelopsOperatorNotLeading", "ModelopsOperatorSplitBrain"}
    down = next(a for a in alerts(prometheus_rule) if a["alert"] == "ModelopsOperatorDown")
    assert 'job=~"ops/modelops"' in down["expr"]
    assert prometheus_rule["metadata"]["labels"]["release"] == "kps"
    assert all(a["labels"]["team"] == "ml" for a in alerts(prometheus_rule))


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"alerts": {"errorRate": {"threshold": 2}}}, "alerts.errorRate.threshold"),
        ({"alerts": {"drift": {"for": "soon"}}}, "alerts.drift.for"),
        ({"alerts": {"disabled": ["NoSuchAlert"]}}, "alerts.disabled"),
        ({"alerts": {"runbookBaseURL": "docs/runbooks.md"}}, "alerts.runbookBaseURL"),
        ({"alerts": {"retraining": {"maxAttempts": 0}}}, "alerts.retraining.maxAttempts"),
        ({"alerts": {"latencyP99": {"ms": 5}}}, "ms"),
    ],
)
def test_schema_refuses_bad_alert_values(tmp_path: Path, values: dict, field: str) -> None:
    proc = helm(*template_args(tmp_path, values), check=False)
    assert proc.returncode != 0, f"helm accepted {values}"
    pointer = "/" + field.replace(".", "/")
    leaf = field.rsplit(".", 1)[-1]
    assert pointer in proc.stderr or f"'{leaf}'" in proc.stderr, proc.stderr
