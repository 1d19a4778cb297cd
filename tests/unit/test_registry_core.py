"""Unit tests of the model registry on a local folder (file://)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from modelops_registry import (
    ArtefactNotFound,
    ChecksumError,
    ModelNotFound,
    Registry,
    RegistryError,
    VersionNotFound,
    default_uri,
    sha256_hex,
)


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry.from_uri(f"file://{tmp_path / 'registry'}")


def meta(status: str = "approved", **extra) -> dict:
    return {"status": status, "algorithm": "test", "metrics": {"auc": 0.8}, **extra}


def test_publish_numbers_versions_and_fills_metadata(registry: Registry, tmp_path: Path) -> None:
    first = meta()
    assert registry.publish("churn", {"model.ubj": b"one"}, first) == "1"
    assert registry.publish("churn", {"model.ubj": b"two"}, meta()) == "2"
    assert registry.versions("churn") == ["1", "2"]
    assert registry.models() == ["churn"]
    assert first["version"] == "1"
    assert first["artefacts"] == {"model.ubj": sha256_hex(b"one")}
    assert first["created_at"].endswith("Z")
    on_disk = json.loads((tmp_path / "registry/churn/1/metadata.json").read_text())
    assert on_disk == registry.metadata("churn", "1") == first
    assert registry.read_artefact("churn", "2", "model.ubj") == b"two"


def test_versions_sort_numerically(registry: Registry) -> None:
    for i in range(11):
        registry.publish("churn", {"a.bin": bytes([i])}, meta())
    assert registry.versions("churn")[-3:] == ["9", "10", "11"]
    assert registry.resolve("churn", "latest") == "11"


def test_resolve_references(registry: Registry) -> None:
    registry.publish("churn", {"m": b"1"}, meta("approved"))
    registry.publish("churn", {"m": b"2"}, meta("approved"))
    registry.publish("churn", {"m": b"3"}, meta("rejected"))
    assert registry.resolve("churn", "2") == "2"
    assert registry.resolve("churn", "latest") == "3"
    assert registry.resolve("churn", "@latest-approved") == "2"
    with pytest.raises(VersionNotFound, match="no version 7"):
        registry.resolve("churn", "7")
    with pytest.raises(VersionNotFound, match="positive integer"):
        registry.resolve("churn", "banana")
    with pytest.raises(ModelNotFound, match="no published versions"):
        registry.resolve("fraud", "latest")


def test_latest_approved_missing_is_an_error(registry: Registry) -> None:
    registry.publish("churn", {"m": b"1"}, meta("rejected"))
    with pytest.raises(VersionNotFound, match="no approved version"):
        registry.resolve("churn", "@latest-approved")


def test_unknown_version_and_artefact(registry: Registry) -> None:
    registry.publish("churn", {"m": b"1"}, meta())
    with pytest.raises(VersionNotFound, match=r"published: 1"):
        registry.metadata("churn", "2")
    with pytest.raises(ModelNotFound):
        registry.metadata("nope", "1")
    with pytest.raises(ArtefactNotFound, match="has: m"):
        registry.read_artefact("churn", "1", "other")


def test_published_versions_are_immutable(registry: Registry, tmp_path: Path) -> None:
    registry.publish("churn", {"model.ubj": b"original"}, meta())
    registry.publish("churn", {"model.ubj": b"newer"}, meta())
    assert registry.read_artefact("churn", "1", "model.ubj") == b"original"
    artefact = tmp_path / "registry/churn/1/model.ubj"
    # The files are read-only so a stray write by a user fails instead of
    # silently changing a version (root ignores permission bits; the
    # checksum test below shows such a change is still caught on read).
    assert artefact.stat().st_mode & 0o222 == 0


def test_checksum_tamper_is_detected(registry: Registry, tmp_path: Path) -> None:
    registry.publish("churn", {"model.ubj": b"good bytes"}, meta())
    artefact = tmp_path / "registry/churn/1/model.ubj"
    artefact.chmod(0o644)
    artefact.write_bytes(b"evil bytes")
    with pytest.raises(ChecksumError, match="refusing"):
        registry.read_artefact("churn", "1", "model.ubj")
    with pytest.raises(ChecksumError):
        registry.fetch("churn", "1", tmp_path / "out")
    # Nothing was written: a failed fetch leaves no half-verified folder.
    assert not (tmp_path / "out").exists()


def test_fetch_copies_verified_files(registry: Registry, tmp_path: Path) -> None:
    registry.publish("churn", {"model.ubj": b"m", "extra.json": b"{}"}, meta())
    dest = registry.fetch("churn", "1", tmp_path / "out")
    assert (dest / "model.ubj").read_bytes() == b"m"
    assert (dest / "extra.json").read_bytes() == b"{}"
    assert json.loads((dest / "metadata.json").read_text())["version"] == "1"


def test_concurrent_publishers_never_clobber(registry: Registry) -> None:
    # Many threads race for the next number; every publish must end up in
    # its own version with its own bytes.
    count = 16
    barrier = threading.Barrier(count)
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def publish(i: int) -> None:
        try:
            barrier.wait()
            results[i] = registry.publish("churn", {"model.ubj": f"model {i}".encode()}, meta())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results.values(), key=int) == [str(v) for v in range(1, count + 1)]
    for i, version in results.items():
        assert registry.read_artefact("churn", version, "model.ubj") == f"model {i}".encode()
        assert registry.metadata("churn", version)["version"] == version


def test_staging_leftovers_are_invisible(registry: Registry, tmp_path: Path) -> None:
    registry.publish("churn", {"m": b"1"}, meta())
    # A crashed publisher leaves a hidden staging folder and maybe a numeric
    # folder copied by hand without metadata; neither is a version.
    (tmp_path / "registry/churn/.staging-crashed").mkdir()
    (tmp_path / "registry/churn/5").mkdir()
    assert registry.versions("churn") == ["1"]
    assert registry.publish("churn", {"m": b"2"}, meta()) == "6"


def test_bad_input_is_refused(registry: Registry) -> None:
    with pytest.raises(RegistryError, match="status"):
        registry.publish("churn", {"m": b"1"}, {"status": "maybe"})
    with pytest.raises(RegistryError, match="artefact name"):
        registry.publish("churn", {"../escape": b"1"}, meta())
    with pytest.raises(RegistryError, match="artefact name"):
        registry.publish("churn", {"metadata.json": b"1"}, meta())
    with pytest.raises(RegistryError, match="model name"):
        registry.publish("../x", {"m": b"1"}, meta())
    with pytest.raises(RegistryError, match="strict JSON"):
        registry.publish("churn", {"m": b"1"}, meta(metrics={"auc": float("nan")}))
    with pytest.raises(RegistryError, match="at least one artefact"):
        registry.publish("churn", {}, meta())
    assert registry.models() == []


def test_uris(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_REGISTRY", f"file://{tmp_path}/env")
    assert default_uri() == f"file://{tmp_path}/env"
    monkeypatch.delenv("MODELOPS_REGISTRY")
    assert default_uri().endswith("/.local/share/modelops/registry")
    assert default_uri().startswith("file:///")
    plain = Registry.from_uri(str(tmp_path / "plain"))
    plain.publish("churn", {"m": b"1"}, meta())
    assert Registry.from_uri(f"file://{tmp_path}/plain").versions("churn") == ["1"]
    with pytest.raises(RegistryError, match="unsupported registry URI"):
        Registry.from_uri("ftp://example/models")
