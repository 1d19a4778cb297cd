"""Static checks of crds/modeldeployments.yaml (the API server checks the rest)."""

from __future__ import annotations

from pathlib import Path

import yaml

CRD = Path(__file__).resolve().parents[4] / "crds" / "modeldeployments.yaml"


def schema() -> dict:
    return yaml.safe_load(CRD.read_text())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def walk(node: dict, path: str):
    yield path, node
    for name, child in (node.get("properties") or {}).items():
        yield from walk(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from walk(node["additionalProperties"], f"{path}{{}}")


def test_every_field_has_a_description_for_kubectl_explain():
    # metadata may only carry name/generateName constraints; quantities are
    # described by their map.
    missing = [
        path
        for path, node in walk(schema(), "")
        if "description" not in node
        and not path.startswith(".metadata")
        and not node.get("x-kubernetes-int-or-string")
    ]
    assert missing == []


def test_the_whole_design_outline_is_covered():
    root = schema()["properties"]
    spec, status = root["spec"]["properties"], root["status"]["properties"]
    assert {"model", "image", "registry", "replicas", "rollout", "monitoring", "retraining"} <= set(
        spec
    )
    assert {"strategy", "steps", "interval", "trafficRouter", "analysis"} <= set(
        spec["rollout"]["properties"]
    )
    assert {"method", "threshold", "window", "minSamples", "interval"} <= set(
        spec["monitoring"]["properties"]["drift"]["properties"]
    )
    assert {"jobTemplate", "cooldown", "maxAttempts", "gates"} <= set(
        spec["retraining"]["properties"]
    )
    assert {
        "phase",
        "observedGeneration",
        "stable",
        "canary",
        "previous",
        "conditions",
        "drift",
        "retraining",
        "history",
    } <= set(status)
    assert {"version", "image", "weight", "step", "startedAt", "checks"} <= set(
        status["canary"]["properties"]
    )


def test_lists_and_strings_with_cel_rules_are_bounded():
    """Unbounded lists or strings under a CEL rule make the API server's cost estimate explode."""
    for path, node in walk(schema(), ""):
        if not node.get("x-kubernetes-validations"):
            continue
        for _, inner in walk(node, path):
            if inner.get("type") == "array":
                assert "maxItems" in inner, path
            if inner.get("type") == "string" and "enum" not in inner:
                assert "maxLength" in inner, f"{path}: unbounded string under a CEL rule"
