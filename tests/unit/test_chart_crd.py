"""The chart ships the one ModelDeployment CRD: a byte-for-byte copy of crds/."""

from __future__ import annotations

from tests.chart_tools import CHART_DIR, REPO_ROOT


def test_chart_crd_is_the_top_level_crd() -> None:
    source = REPO_ROOT / "crds" / "modeldeployments.yaml"
    copy = CHART_DIR / "crds" / "modeldeployments.yaml"
    assert copy.read_bytes() == source.read_bytes(), (
        "charts/modelops-operator/crds/modeldeployments.yaml differs from crds/modeldeployments.yaml; "
        "copy it: cp crds/modeldeployments.yaml charts/modelops-operator/crds/"
    )
    assert sorted(p.name for p in (CHART_DIR / "crds").iterdir()) == sorted(
        p.name for p in (REPO_ROOT / "crds").glob("*.yaml")
    )
