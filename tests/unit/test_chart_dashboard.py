"""The Grafana dashboard: valid JSON with the panels platform teams look at
(canary weight over time, error rate and p99 by track, drift per feature,
retraining Jobs), PromQL that Prometheus' own parser accepts, and only metric
names that modelops exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.chart_tools import CHART_DIR
from tests.metrics_samples import (
    bento_exposition,
    label_problems,
    metric_names,
    operator_exposition,
    scraped_labels,
)

DASHBOARD = CHART_DIR / "dashboards" / "modelops.json"


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels(dashboard: dict) -> list[dict]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def expressions(dashboard: dict) -> list[tuple[str, str]]:
    return [(p["title"], t["expr"]) for p in panels(dashboard) for t in p["targets"]]


def test_dashboard_is_well_formed(dashboard: dict) -> None:
    assert dashboard["uid"] == "modelops-overview"
    assert dashboard["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert {"namespace", "deployment"} <= set(variables)
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
    for panel in panels(dashboard):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["description"], panel["title"]
        assert panel["targets"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]


def find(dashboard: dict, pattern: str) -> dict:
    found = [p for p in panels(dashboard) if re.search(pattern, p["title"], re.IGNORECASE)]
    assert len(found) >= 1, f"no panel titled like {pattern!r}"
    return found[0]


def test_dashboard_has_the_required_panels(dashboard: dict) -> None:
    weight = find(dashboard, r"canary weight over time")
    assert weight["type"] == "timeseries"
    assert "modelops_operator_canary_weight" in weight["targets"][0]["expr"]
    assert weight["fieldConfig"]["defaults"]["unit"] == "percent"
    for title in (r"error rate by track", r"p99 latency by track"):
        expr = find(dashboard, title)["targets"][0]["expr"]
        assert re.search(r"by \([^)]*\btrack\b", expr), expr
        assert 'deployment=~"$deployment"' in expr
    assert "histogram_quantile(0.99" in find(dashboard, r"p99 latency")["targets"][0]["expr"]
    assert 'status=~"5.."' in find(dashboard, r"error rate")["targets"][0]["expr"]
    drift = find(dashboard, r"drift score per feature")["targets"][0]["expr"]
    assert re.search(r"by \([^)]*\bfeature\b", drift), drift
    retraining = find(dashboard, r"retraining jobs")["targets"][0]["expr"]
    assert re.search(r"by \([^)]*\boutcome\b", retraining), retraining


def grafana_to_promql(expr: str) -> str:
    """Replace Grafana's variables the way Grafana does before querying."""
    return (
        expr.replace("$__rate_interval", "1m")
        .replace("$__range", "1h")
        .replace("$namespace", ".*")
        .replace("$deployment", ".*")
    )


def test_every_query_parses_with_promtool(dashboard: dict, tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found: run `make system-deps` (Debian's prometheus package)")
    rules = [
        {"record": f"dashboard:query_{i}", "expr": grafana_to_promql(expr)}
        for i, (_, expr) in enumerate(expressions(dashboard))
    ]
    path = tmp_path / "dashboard-rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    proc = subprocess.run(
        [promtool, "check", "rules", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_queries_use_only_metrics_modelops_exports(dashboard: dict) -> None:
    exported = metric_names(operator_exposition()) | metric_names(bento_exposition())
    used = set()
    for _, expr in expressions(dashboard):
        used.update(re.findall(r"\bmodelops_[a-z0-9_]+", expr))
    unknown = used - exported
    assert not unknown, f"the dashboard queries metrics nobody exports: {sorted(unknown)}"


def test_queries_select_and_group_by_labels_the_series_carry(dashboard: dict) -> None:
    """A label a series does not carry matches the empty string: a selector on it
    silently selects nothing (or everything, for `=~".*"`), and grouping by it
    merges every ModelDeployment into one line."""
    carried = scraped_labels()
    for title, expr in expressions(dashboard):
        problems = label_problems(expr, carried)
        assert not problems, f"{title}: {problems}"
