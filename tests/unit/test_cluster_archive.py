"""The docker-archive writer and reader (cli/modelops_cli/cluster/archive.py)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile

import pytest

from modelops_cli.cluster import node_images
from modelops_cli.cluster.archive import (
    ArchiveError,
    File,
    ImageConfig,
    archive_refs,
    check_ref,
    write_docker_archive,
)


def _members(path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return {m.name: m for m in tar.getmembers()}


def _read(path, name) -> bytes:
    with tarfile.open(path) as tar:
        return tar.extractfile(name).read()


def _layer(path) -> tarfile.TarFile:
    manifest = json.loads(_read(path, "manifest.json"))
    data = _read(path, manifest[0]["Layers"][0])
    return tarfile.open(fileobj=io.BytesIO(data))


def test_files_archive_has_manifest_config_and_layer_with_matching_digests(tmp_path):
    out = tmp_path / "img.tar"
    archive = write_docker_archive(
        {"/bin/app": b"#!binary", "etc/app.conf": File(b"x=1", 0o644)},
        "modelops.local/app:abc123",
        out,
        ImageConfig(entrypoint=("/bin/app",), user="65532", exposed_ports=("8080/tcp",)),
    )
    manifest = json.loads(_read(out, "manifest.json"))
    assert manifest[0]["RepoTags"] == ["modelops.local/app:abc123"]
    config_bytes = _read(out, manifest[0]["Config"])
    assert f"sha256:{hashlib.sha256(config_bytes).hexdigest()}" == archive.config_digest
    layer_bytes = _read(out, manifest[0]["Layers"][0])
    diff_id = f"sha256:{hashlib.sha256(layer_bytes).hexdigest()}"
    config = json.loads(config_bytes)
    assert config["rootfs"]["diff_ids"] == [diff_id] == [archive.layer_diff_id]
    assert config["config"]["Entrypoint"] == ["/bin/app"]
    assert config["config"]["User"] == "65532"
    assert config["config"]["ExposedPorts"] == {"8080/tcp": {}}
    assert (config["os"], config["architecture"]) == ("linux", "amd64")
    assert archive.size == out.stat().st_size


def test_files_layer_is_root_owned_with_parents_and_modes(tmp_path):
    out = tmp_path / "img.tar"
    write_docker_archive({"/bin/app": b"a", "etc/app.conf": File(b"x", 0o600)}, "a.local/x:1", out)
    with _layer(out) as layer:
        members = {m.name: m for m in layer.getmembers()}
    assert list(members) == ["bin", "etc", "bin/app", "etc/app.conf"]
    assert members["bin"].isdir() and members["bin"].mode == 0o755
    assert members["bin/app"].mode == 0o755
    assert members["etc/app.conf"].mode == 0o600
    assert {(m.uid, m.gid, m.mtime) for m in members.values()} == {(0, 0, 0)}


def test_same_inputs_give_identical_bytes(tmp_path):
    files = {"pause": b"\x7fELF..."}
    a = write_docker_archive(files, "modelops.local/pause:1", tmp_path / "a.tar")
    b = write_docker_archive(files, "modelops.local/pause:1", tmp_path / "b.tar")
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()
    assert a.config_digest == b.config_digest


def test_directory_rootfs_keeps_links_modes_and_ownership(tmp_path):
    root = tmp_path / "rootfs"
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/tool").write_bytes(b"tool")
    (root / "usr/bin/tool").chmod(0o4755)
    os.symlink("usr/bin", root / "bin")
    os.link(root / "usr/bin/tool", root / "usr/bin/tool-alias")
    (root / "home").mkdir()
    os.chown(root / "home", 1000, 1000)
    write_docker_archive(root, "modelops.local/base:1", tmp_path / "base.tar")
    with _layer(tmp_path / "base.tar") as layer:
        members = {m.name: m for m in layer.getmembers()}
    assert members["bin"].issym() and members["bin"].linkname == "usr/bin"
    assert members["usr/bin/tool"].mode == 0o4755
    assert members["usr/bin/tool-alias"].islnk()
    assert (members["home"].uid, members["home"].gid) == (1000, 1000)
    assert {m.mtime for m in members.values()} == {0}


@pytest.mark.parametrize(
    ("ref", "ok"),
    [
        ("modelops.local/pause:ffd56d894b6d", True),
        ("registry:5000/team/app:v1.2", True),
        ("app:1", True),
        ("modelops.local/pause", False),  # no tag: the kubelet would assume :latest
        ("Modelops.local/pause:1", False),  # upper case
        ("modelops.local/pause:", False),
        ("modelops.local/pau se:1", False),
        ("", False),
    ],
)
def test_check_ref(ref, ok):
    if ok:
        assert check_ref(ref) == ref
    else:
        with pytest.raises(ArchiveError, match="ref"):
            check_ref(ref)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({}, "files: an image needs at least one file"),
        ({"../escape": b"x"}, "not a file path inside the image"),
        ({"/": b"x"}, "not a file path inside the image"),
        ({"/app": File(__file__ + ".missing")}, r"files\['app'\]"),
    ],
)
def test_bad_sources_name_the_field(tmp_path, source, message):
    with pytest.raises(ArchiveError, match=message):
        write_docker_archive(source, "a.local/x:1", tmp_path / "x.tar")
    assert not (tmp_path / "x.tar").exists()


def test_missing_rootfs_directory(tmp_path):
    with pytest.raises(ArchiveError, match=r"rootfs: .* is not a directory"):
        write_docker_archive(tmp_path / "nope", "a.local/x:1", tmp_path / "x.tar")


def test_archive_refs_reads_docker_and_oci_archives(tmp_path):
    write_docker_archive({"a": b"a"}, "a.local/x:1", tmp_path / "d.tar")
    assert archive_refs(tmp_path / "d.tar") == ["a.local/x:1"]
    index = {
        "schemaVersion": 2,
        "manifests": [
            {"annotations": {"io.containerd.image.name": "a.local/y:2"}},
            {"annotations": {"org.opencontainers.image.ref.name": "3"}},
        ],
    }
    (tmp_path / "index.json").write_text(json.dumps(index))
    with tarfile.open(tmp_path / "o.tar", "w") as tar:
        tar.add(tmp_path / "index.json", "index.json")
    assert archive_refs(tmp_path / "o.tar") == ["a.local/y:2", "3"]


@pytest.mark.parametrize("content", [b"not a tar", None])
def test_archive_refs_refuses_non_archives(tmp_path, content):
    path = tmp_path / "x.tar"
    if content is None:
        with tarfile.open(path, "w") as tar:
            tar.add(__file__, "README")
    else:
        path.write_bytes(content)
    with pytest.raises(ArchiveError, match=r"x\.tar"):
        archive_refs(path)


def test_node_image_tag_follows_the_binary(tmp_path):
    binary = tmp_path / "pause"
    binary.write_bytes(b"one")
    first = node_images.ensure(node_images.PAUSE, binary, tmp_path / "cache")
    again = node_images.ensure(node_images.PAUSE, binary, tmp_path / "cache")
    binary.write_bytes(b"two")
    changed = node_images.ensure(node_images.PAUSE, binary, tmp_path / "cache")
    assert (first.cached, again.cached, changed.cached) == (False, True, False)
    assert first.ref == again.ref != changed.ref
    assert first.ref.startswith("modelops.local/pause:")
    assert archive_refs(changed.path) == [changed.ref]
