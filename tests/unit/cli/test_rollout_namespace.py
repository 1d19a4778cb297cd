"""Which namespace `modelops rollout` uses without -n: the kubeconfig context's, as kubectl."""

from __future__ import annotations

import pytest
import yaml

from modelops_cli import rollout_namespace
from modelops_cli.rollout_namespace import context_namespace, resolve


@pytest.mark.parametrize(
    ("context", "namespace"),
    [
        ({"name": "c", "context": {"cluster": "k", "namespace": "ml"}}, "ml"),
        ({"name": "c", "context": {"cluster": "k"}}, "default"),
        ({"name": "c", "context": {"cluster": "k", "namespace": "  "}}, "default"),
        ({"name": "c"}, "default"),
        (None, "default"),
    ],
)
def test_context_namespace(context, namespace):
    assert context_namespace(context) == namespace


def kubeconfig(tmp_path, current: str) -> str:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:6443"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [
            {"name": "ml", "context": {"cluster": "k", "user": "u", "namespace": "ml"}},
            {"name": "plain", "context": {"cluster": "k", "user": "u"}},
        ],
        "current-context": current,
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    return str(path)


@pytest.fixture
def outside_a_pod(monkeypatch):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)


def test_the_current_contexts_namespace(tmp_path, outside_a_pod):
    assert resolve(None, kubeconfig(tmp_path, "ml")) == "ml"
    assert resolve(None, kubeconfig(tmp_path, "plain")) == "default"


def test_n_wins(tmp_path, outside_a_pod):
    assert resolve("other", kubeconfig(tmp_path, "ml")) == "other"


def test_no_kubeconfig_is_default(tmp_path, outside_a_pod):
    # The connection then fails with the one-line KubeconfigError.
    assert resolve(None, str(tmp_path / "missing")) == "default"


def test_in_a_pod_the_service_accounts_namespace(tmp_path, monkeypatch):
    path = tmp_path / "namespace"
    path.write_text("serving\n")
    monkeypatch.setattr(rollout_namespace, "SERVICE_ACCOUNT_NAMESPACE", path)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    assert resolve(None, None) == "serving"
    # An explicit kubeconfig is what the connection uses, so its context decides.
    assert resolve(None, kubeconfig(tmp_path, "ml")) == "ml"
