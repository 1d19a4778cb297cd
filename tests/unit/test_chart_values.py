"""values.yaml is documented value by value, and values.schema.json makes
helm itself refuse bad values with a message naming the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.chart_tools import CHART_DIR, helm, template_args

KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][\w.-]*):(?P<rest>.*)$")


def undocumented_keys(text: str) -> list[str]:
    """Dotted paths of values.yaml keys without a `# --` comment block above them.

    A documented key covers everything nested under it (e.g. `resources`, whose
    comment describes the whole map); an undocumented key that opens a
    section (`image:`) is fine as long as each of its own keys is documented.
    """
    missing: list[str] = []
    stack: list[tuple[int, str, bool]] = []  # (indent, key, documented)
    in_doc_comment = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            # A block starting with `# --` documents the next key; continuation
            # lines keep it open.
            in_doc_comment = stripped.startswith("# --") or in_doc_comment
            continue
        match = KEY.match(line)
        if not match:
            in_doc_comment = False
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        covered = any(documented for _, _, documented in stack)
        path = ".".join([*(k for _, k, _ in stack), match["key"]])
        opens_section = match["rest"].strip() == ""
        if not covered and not in_doc_comment and not opens_section:
            missing.append(path)
        stack.append((indent, match["key"], in_doc_comment))
        in_doc_comment = False
    return missing


def test_every_value_has_a_comment() -> None:
    assert undocumented_keys((CHART_DIR / "values.yaml").read_text()) == []


def test_the_comment_check_finds_an_undocumented_value() -> None:
    text = "image:\n  # -- Repository.\n  repository: x\n  tag: y\n# -- Map.\nresources:\n  a: 1\n"
    assert undocumented_keys(text) == ["image.tag"]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"replicaCount": "two"}, "replicaCount"),
        ({"replicaCount": 0}, "replicaCount"),
        ({"image": {"tag": "latest"}}, "image.tag"),
        ({"image": {"pullPolicy": "Sometimes"}}, "image.pullPolicy"),
        ({"image": {"digest": "md5:abc"}}, "image.digest"),
        ({"watch": {"namespaces": ["Bad_Namespace"]}}, "watch.namespaces"),
        ({"watch": {"namespaces": "ml"}}, "watch.namespaces"),
        ({"leaderElection": {"leaseDurationSeconds": 1}}, "leaderElection.leaseDurationSeconds"),
        (
            {"securityContext": {"readOnlyRootFilesystem": False}},
            "securityContext.readOnlyRootFilesystem",
        ),
        (
            {"securityContext": {"allowPrivilegeEscalation": True}},
            "securityContext.allowPrivilegeEscalation",
        ),
        ({"securityContext": {"privileged": True}}, "securityContext.privileged"),
        (
            {"securityContext": {"capabilities": {"drop": ["NET_RAW"]}}},
            "securityContext.capabilities.drop",
        ),
        ({"podSecurityContext": {"runAsNonRoot": False}}, "podSecurityContext.runAsNonRoot"),
        ({"metrics": {"port": 80}}, "metrics.port"),
        ({"metrics": {"serviceMonitor": {"interval": "30"}}}, "metrics.serviceMonitor.interval"),
        ({"models": {"podMonitor": {"enabled": "yes"}}}, "models.podMonitor.enabled"),
        ({"dashboard": {"labels": {"grafana_dashboard": 1}}}, "dashboard.labels.grafana_dashboard"),
        ({"operator": {"workers": 0}}, "operator.workers"),
        ({"operator": {"resyncSeconds": 0}}, "operator.resyncSeconds"),
        ({"replicas": 3}, "replicas"),
        ({"image": {"repo": "x"}}, "repo"),
    ],
)
def test_schema_refuses_bad_values(tmp_path: Path, values: dict, field: str) -> None:
    proc = helm(*template_args(tmp_path, values), check=False)
    assert proc.returncode != 0, f"helm accepted {values}"
    assert "values don't meet the specifications of the schema" in proc.stderr, proc.stderr
    # helm reports the JSON pointer of the offending value, e.g. /image/tag.
    pointer = "/" + field.replace(".", "/")
    leaf = field.rsplit(".", 1)[-1]
    assert pointer in proc.stderr or f"'{leaf}'" in proc.stderr, proc.stderr


def test_schema_accepts_the_documented_examples(tmp_path: Path) -> None:
    values = {
        "image": {"digest": "sha256:" + "0" * 64, "pullPolicy": "Always"},
        "watch": {"namespaces": ["ml", "ml-staging"]},
        "networkPolicy": {
            "metricsFrom": [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}]
        },
        "podDisruptionBudget": {"minAvailable": "50%"},
        "operator": {
            "extraEnv": [{"name": "AWS_REGION", "value": "eu-west-1"}],
            "resyncSeconds": 30.5,
        },
    }
    helm(*template_args(tmp_path, values))
