"""Choosing the version to score with: --version rules and a deployment's stable track."""

from __future__ import annotations

import pytest

from modelops_cli.score.version import (
    VersionError,
    choose,
    parse_deployment_ref,
    reworded,
    stable_of,
)
from modelops_registry import Registry


@pytest.mark.parametrize(
    ("text", "expected"), [("ml/churn", ("ml", "churn")), (" a/b ", ("a", "b"))]
)
def test_parse_deployment_ref(text, expected) -> None:
    assert parse_deployment_ref(text) == expected


@pytest.mark.parametrize("text", ["churn", "/churn", "ml/", "a/b/c", ""])
def test_bad_deployment_refs(text) -> None:
    with pytest.raises(VersionError, match="NAMESPACE/NAME"):
        parse_deployment_ref(text)


MD = {
    "spec": {"model": {"name": "churn-eu", "version": "@latest-approved"},
             "registry": {"uri": "s3://models"}},
    "status": {"phase": "Progressing", "stable": {"version": "3"}, "canary": {"version": "4"}},
}  # fmt: skip


def test_stable_of_reads_the_stable_track_not_the_spec_or_the_canary() -> None:
    assert stable_of(MD, "ml/churn") == ("churn-eu", "3", "s3://models")


@pytest.mark.parametrize(
    ("body", "error"),
    [({"spec": MD["spec"]}, "no stable version yet (phase: no status yet)"),
     ({"spec": MD["spec"], "status": {"phase": "Failed", "stable": {}}},
      "no stable version yet (phase: Failed)"),
     ({"spec": {}, "status": MD["status"]}, "no spec.model.name")],
)  # fmt: skip
def test_stable_of_explains_what_is_missing(body, error) -> None:
    with pytest.raises(VersionError, match=error.replace("(", r"\(").replace(")", r"\)")):
        stable_of(body, "ml/churn")


def test_version_and_deployment_exclude_each_other() -> None:
    with pytest.raises(VersionError, match="not both"):
        choose(
            registry_uri="file:///x", model="churn", version="1", from_deployment="a/b",
            allow_rejected=False,
        )  # fmt: skip


def publish(uri: str, *statuses: str) -> None:
    registry = Registry.from_uri(uri)
    for status in statuses:
        registry.publish("churn", {"model.ubj": b"x"}, {"status": status, "algorithm": "t"})


def test_latest_means_newest_approved_as_serve_reads_it(tmp_path) -> None:
    uri = f"file://{tmp_path}"
    publish(uri, "approved", "rejected")
    chosen = choose(
        registry_uri=uri, model="churn", version=None, from_deployment=None, allow_rejected=False
    )
    assert (chosen.registry_uri, chosen.model, chosen.version) == (uri, "churn", "1")
    assert any("newer version(s) up to 2 were rejected and are not used" in n for n in chosen.notes)
    with pytest.raises(VersionError, match=r"REJECTED.*--allow-rejected to score with it anyway"):
        choose(
            registry_uri=uri, model="churn", version="2", from_deployment=None,
            allow_rejected=False,
        )  # fmt: skip
    chosen = choose(
        registry_uri=uri, model="churn", version="2", from_deployment=None, allow_rejected=True
    )
    assert chosen.version == "2"
    assert chosen.notes[0].startswith("scoring with churn version 2, which was REJECTED")


def test_unknown_version_names_the_published_ones(tmp_path) -> None:
    uri = f"file://{tmp_path}"
    publish(uri, "approved")
    with pytest.raises(VersionError, match=r"published: 1"):
        choose(
            registry_uri=uri, model="churn", version="7", from_deployment=None,
            allow_rejected=False,
        )  # fmt: skip


def test_reworded_speaks_of_scoring() -> None:
    assert reworded("pass --allow-rejected to serve it anyway") == (
        "pass --allow-rejected to score with it anyway"
    )
