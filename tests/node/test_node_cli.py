"""`modelops cluster status|env|load` against the running node, and the
one-node-per-machine lock as a user meets it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from modelops_cli.cluster import File, write_docker_archive

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELOPS = REPO_ROOT / ".venv" / "bin" / "modelops"


def _modelops(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(MODELOPS), "cluster", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_status_lists_every_process_and_the_ready_node(node_cluster):
    result = _modelops("status", "--state-dir", str(node_cluster.state_dir))
    assert result.returncode == 0, result.stderr
    for name in ("etcd", "kube-apiserver", "containerd", "kubelet", "kube-proxy"):
        assert f"{name} " in result.stdout
    assert "DEAD" not in result.stdout
    assert "node Ready" in result.stdout and "True" in result.stdout


def test_env_prints_the_kubeconfig_export(node_cluster):
    """KUBECONFIG, and the cluster's own kubectl first on PATH (so the docs' kubectl exists)."""
    result = _modelops("env", "--state-dir", str(node_cluster.state_dir))
    lines = result.stdout.strip().splitlines()
    assert lines[0] == f"export KUBECONFIG={node_cluster.kubeconfig}"
    assert lines[1] == f'export PATH={node_cluster.kubectl.parent}:"$PATH"'
    shell = subprocess.run(
        ["bash", "-c", f"{result.stdout}\ncommand -v kubectl"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert shell.stdout.strip() == str(node_cluster.kubectl)


def test_load_imports_an_archive_into_the_node(node_cluster, tmp_path):
    archive = tmp_path / "tiny.tar"
    write_docker_archive({"hello.txt": File(b"hi\n", 0o644)}, "modelops.local/tiny:1", archive)
    result = _modelops("load", "--state-dir", str(node_cluster.state_dir), str(archive))
    assert result.returncode == 0, result.stderr
    assert "modelops.local/tiny:1" in node_cluster.images()


def test_load_refuses_a_file_that_is_no_image_archive(node_cluster, tmp_path):
    bogus = tmp_path / "notes.tar"
    bogus.write_text("not a tar")
    result = _modelops("load", "--state-dir", str(node_cluster.state_dir), str(bogus))
    assert result.returncode == 1
    assert f"{bogus}: not a tar archive" in result.stderr


def test_a_second_node_is_refused_naming_the_first(node_cluster, tmp_path):
    result = _modelops("up", "--state-dir", str(tmp_path / "second"))
    assert result.returncode == 1
    assert "a node already runs on this machine" in result.stderr
    assert str(node_cluster.state_dir) in result.stderr
    assert not (tmp_path / "second").exists()
