"""Kubeconfig rendering, asset discovery and component flags (no processes)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
import yaml

from modelops_cli.controlplane import assets, flags, kubeconfig, kwok


def test_kubeconfig_embeds_credentials_and_points_at_server(tmp_path):
    config = kubeconfig.render("https://127.0.0.1:6443", b"CA", b"CERT", b"KEY")
    path = kubeconfig.write(tmp_path / "kc", config)
    loaded = yaml.safe_load(path.read_text())
    assert kubeconfig.current_server(loaded) == "https://127.0.0.1:6443"
    cluster = loaded["clusters"][0]["cluster"]
    assert base64.b64decode(cluster["certificate-authority-data"]) == b"CA"
    user = loaded["users"][0]["user"]
    assert base64.b64decode(user["client-key-data"]) == b"KEY"
    assert path.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "no current-context"),
        ({"current-context": "x", "contexts": []}, "'x' is not in contexts"),
        (
            {"current-context": "x", "contexts": [{"name": "x", "context": {"cluster": "c"}}]},
            "unknown cluster 'c'",
        ),
        (
            {
                "current-context": "x",
                "contexts": [{"name": "x", "context": {"cluster": "c"}}],
                "clusters": [{"name": "c", "cluster": {}}],
            },
            "has no server",
        ),
    ],
)
def test_current_server_names_what_is_missing(config, message):
    with pytest.raises(ValueError, match=message):
        kubeconfig.current_server(config)


@pytest.mark.parametrize(
    "text",
    [
        "export KUBEBUILDER_ASSETS=/opt/k8s\n",
        "KUBEBUILDER_ASSETS='/opt/k8s'\n",
        '# comment\nexport KUBEBUILDER_ASSETS="/opt/k8s"\n',
    ],
)
def test_parse_assets_env(text):
    assert assets.parse_assets_env(text) == "/opt/k8s"


def _fake_binary(directory: Path, name: str) -> None:
    path = directory / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)


def test_discover_uses_kubebuilder_assets(tmp_path, monkeypatch):
    for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        _fake_binary(tmp_path, name)
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))
    found = assets.discover(controllers=True)
    assert found["kube-apiserver"] == tmp_path / "kube-apiserver"
    assert found.source == "KUBEBUILDER_ASSETS"


def test_discover_failure_says_how_to_provide(tmp_path, monkeypatch):
    _fake_binary(tmp_path, "kube-apiserver")
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))
    # Keep the machine's etcd out of the picture.
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(assets.MissingBinariesError) as missing:
        assets.discover(controllers=True)
    message = str(missing.value)
    assert "etcd" in message and "kube-scheduler" in message
    assert "make controlplane" in message and "KUBEBUILDER_ASSETS" in message


def test_discover_reads_recorded_assets_file(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("etcd", "kube-apiserver"):
        _fake_binary(bin_dir, name)
    monkeypatch.delenv("KUBEBUILDER_ASSETS", raising=False)
    monkeypatch.setenv("MODELOPS_CACHE", str(tmp_path / "cache"))
    env_file = assets.assets_env_file()
    env_file.parent.mkdir(parents=True)
    env_file.write_text(f"export KUBEBUILDER_ASSETS={bin_dir}\n")
    found = assets.discover(controllers=False)
    assert found["etcd"] == bin_dir / "etcd"
    assert not found.has("kube-scheduler")


def _args(argv: list[str]) -> dict[str, str]:
    return dict(a[2:].split("=", 1) for a in argv[1:])


def test_apiserver_flags_fit_a_loopback_cluster(tmp_path):
    layout = flags.Layout(tmp_path)
    ports = flags.Ports(2379, 2380, 6443, 10257, 10259)
    args = _args(flags.apiserver_args(Path("/bin/kube-apiserver"), layout, ports))
    assert args["endpoint-reconciler-type"] == "none"
    assert args["advertise-address"] == "127.0.0.1"
    assert args["bind-address"] == "127.0.0.1"
    assert "RBAC" in args["authorization-mode"].split(",")
    assert args["etcd-servers"] == "http://127.0.0.1:2379"
    assert args["secure-port"] == "6443"
    for flag in ("requestheader-client-ca-file", "proxy-client-cert-file", "proxy-client-key-file"):
        assert Path(args[flag]).parent == layout.pki.root
    assert args["service-account-signing-key-file"] == str(layout.pki.sa_key)


def test_controller_flags_use_own_ports_and_no_leader_election(tmp_path):
    layout = flags.Layout(tmp_path)
    ports = flags.Ports(1, 2, 3, 4, 5)
    kc = tmp_path / "kubeconfig"
    cm = _args(flags.controller_manager_args(Path("/cm"), layout, ports, kc))
    sched = _args(flags.scheduler_args(Path("/s"), layout, ports, kc))
    assert (cm["secure-port"], sched["secure-port"]) == ("4", "5")
    assert cm["leader-elect"] == sched["leader-elect"] == "false"
    assert cm["controllers"] == "*"
    assert cm["kubeconfig"] == sched["kubeconfig"] == str(kc)
    assert os.path.basename(cm["root-ca-file"]) == "ca.crt"


def test_kwok_manages_only_annotated_nodes(tmp_path):
    binary = tmp_path / "kwok"
    args = _args(kwok.kwok_args(binary, tmp_path / "kc", 7777))
    assert args["manage-all-nodes"] == "false"
    selector = args["manage-nodes-with-annotation-selector"]
    node = kwok.fake_node()
    key, value = selector.split("=")
    assert node["metadata"]["annotations"][key] == value
    assert args["config"] == str(tmp_path / "stages.yaml")
    assert args["server-address"] == "127.0.0.1:7777"
    assert int(node["status"]["allocatable"]["pods"]) > 0


def test_discover_with_kwok_requires_it(tmp_path, monkeypatch):
    for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        _fake_binary(tmp_path, name)
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(tmp_path))
    monkeypatch.setenv("MODELOPS_CACHE", str(tmp_path / "empty-cache"))
    assert not assets.discover(controllers=True).has("kwok")
    with pytest.raises(assets.MissingBinariesError, match="kwok"):
        assets.discover(controllers=True, kwok=True)


def test_kwok_found_in_cache_when_assets_dir_lacks_it(tmp_path, monkeypatch):
    envtest = tmp_path / "envtest"
    envtest.mkdir()
    for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        _fake_binary(envtest, name)
    monkeypatch.setenv("KUBEBUILDER_ASSETS", str(envtest))
    monkeypatch.setenv("MODELOPS_CACHE", str(tmp_path / "cache"))
    kwok_dir = assets.cache_root() / "kwok-v0.8.0"
    kwok_dir.mkdir(parents=True)
    _fake_binary(kwok_dir, "kwok")
    assert assets.discover(controllers=True, kwok=True)["kwok"] == kwok_dir / "kwok"


def test_env_points_at_kubeconfig_and_keeps_loopback_off_proxies(tmp_path, monkeypatch):
    from modelops_cli.controlplane import ControlPlane

    monkeypatch.setenv("NO_PROXY", "internal.example")
    env = ControlPlane(tmp_path).env()
    assert env["KUBECONFIG"] == str(tmp_path / "kubeconfig")
    assert env["NO_PROXY"].split(",") == ["internal.example", "127.0.0.1", "localhost"]
    assert "127.0.0.1" in env["no_proxy"].split(",")


def test_env_puts_the_built_kubectl_first_on_path(tmp_path):
    """`eval "$(modelops controlplane env)"` must leave a shell whose kubectl is the built one."""
    import subprocess

    from modelops_cli.controlplane.commands import kubectl_path_line

    assert kubectl_path_line(None) is None
    folder = tmp_path / "with space"
    folder.mkdir()
    kubectl = folder / "kubectl"
    kubectl.write_text("#!/bin/sh\necho built\n")
    kubectl.chmod(0o755)
    line = kubectl_path_line(folder)
    out = subprocess.run(
        ["bash", "-c", f"{line}; kubectl"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "built"


def test_a_state_dir_is_prepared_without_what_must_not_be_reused(tmp_path):
    from modelops_cli.controlplane.runner import prepare_state_dir

    root = tmp_path / "state"
    (root / "pki").mkdir(parents=True)
    (root / "pki" / "ca.crt").write_text("old CA")
    (root / "state.json").write_text("{}")
    (root / "kept.json").write_text("{}")
    root.chmod(0o755)
    stale = [root / "pki", root / "state.json", root / "etcd"]  # etcd: absent, no error
    prepare_state_dir(root, stale, root / "logs")
    assert sorted(p.name for p in root.iterdir()) == ["kept.json", "logs"]
    assert root.stat().st_mode & 0o777 == 0o700
    prepare_state_dir(tmp_path / "fresh", stale, tmp_path / "fresh" / "logs")
    assert (tmp_path / "fresh" / "logs").is_dir()
