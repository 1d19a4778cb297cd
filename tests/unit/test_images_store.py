"""What the builder keeps in and drops from its buildah storage.

After each build it prunes dangling images (`buildah rmi --prune`); a build
stage's last image is dangling too (nothing is built on it, the last stage
only copies from it), so the builder tags it `<ref>-<stage>` to keep the
layer cache under it. The real prune and rebuild are measured in
docs/images.md ("Disk"); these are the pure parts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modelops_cli.images import buildah, builder, catalog

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "stages"),
    [
        ("FROM python:3.11\nRUN true\n", []),
        ("FROM uv:1 AS uv\nFROM python AS build\nCOPY --from=uv /uv /uv\nFROM python\n", ["build"]),
        # A stage of only a FROM line has no layers of its own to keep.
        ("FROM uv:1 AS uv\nFROM python\nCOPY --from=uv /uv /uv\n", []),
        # Comments and blank lines are not instructions.
        ("FROM python AS deps\n# note\n\nFROM python\nRUN true\n", []),
        ("from --platform=linux/amd64 python as Build\nrun true\nfrom scratch\n", ["build"]),
        # A stage without a name cannot be a --target.
        ("FROM python\nRUN a\nFROM python AS x\nRUN b\nFROM scratch\n", ["x"]),
        # The last stage is the image itself, tagged with its ref.
        ("FROM python AS build\nRUN a\nFROM build AS final\nRUN b\n", ["build"]),
        ("# syntax=docker/dockerfile:1.7\nARG V=1\nFROM python\nRUN true\n", []),
    ],
)
def test_cached_stages(text: str, stages: list[str]) -> None:
    assert catalog.cached_stages(text) == stages


@pytest.mark.parametrize("name", ["modelops-operator", "modelops-training"])
def test_the_python_images_keep_their_dependency_stage(name: str) -> None:
    spec = catalog.spec(name)
    assert isinstance(spec, catalog.DockerfileImage)
    assert catalog.cached_stages((REPO / spec.dockerfile).read_text()) == ["build"]


REF = "modelops.local/x:0123456789ab"


@pytest.mark.parametrize(
    ("refs", "dropped"),
    [
        ([REF], []),
        ([REF, builder.stage_ref(REF, "build")], []),
        (
            ["modelops.local/x:aaaaaaaaaaaa", REF, "modelops.local/x:aaaaaaaaaaaa-build"],
            ["modelops.local/x:aaaaaaaaaaaa", "modelops.local/x:aaaaaaaaaaaa-build"],
        ),
        # The previous ref's stage is dropped even when this build has none.
        (["modelops.local/x:aaaaaaaaaaaa-build"], ["modelops.local/x:aaaaaaaaaaaa-build"]),
    ],
)
def test_superseded_keeps_the_ref_and_its_stages(refs: list[str], dropped: list[str]) -> None:
    assert builder.superseded(refs, REF) == dropped


def test_a_target_build_tags_the_stage_and_keeps_the_layer_cache() -> None:
    full = buildah.bud_args(Path("D"), Path("ctx"), REF, ["--volume", "a:b:ro"])
    stage = buildah.bud_args(Path("D"), Path("ctx"), f"{REF}-build", [], target="build")
    assert "--target" not in full
    assert full[-5:] == ["--file", "D", "--tag", REF, "ctx"]
    assert full[full.index("--volume") + 1] == "a:b:ro"
    assert stage[stage.index("--target") + 1] == "build"
    assert stage[-5:] == ["--file", "D", "--tag", f"{REF}-build", "ctx"]
    # Same flags otherwise: a stage built differently would miss the cache.
    for args in (full, stage):
        assert {"--layers", "--pull=never"} <= set(args)
        assert args[args.index("--isolation") + 1] == "chroot"
        assert args[args.index("--format") + 1] == "docker"


def test_disk_usage(tmp_path: Path) -> None:
    assert builder.disk_usage(tmp_path / "absent") == 0
    (tmp_path / "a").write_bytes(b"x" * 100_000)
    (tmp_path / "b").hardlink_to(tmp_path / "a")
    used = builder.disk_usage(tmp_path)
    # Hard-linked layers count once, as on disk.
    assert 100_000 <= used < 200_000
