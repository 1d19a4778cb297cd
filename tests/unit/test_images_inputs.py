"""What an image's name is a function of: the context files, their digests, the FROM lines.

The builder skips a build when the hash of its inputs names an archive that
exists, so the hash must change with every file the build can see and with
nothing else.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from modelops_cli.images import catalog, ignore, inputs

REPO = Path(__file__).resolve().parents[2]


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def context(tmp_path: Path) -> Path:
    return tree(
        tmp_path,
        {
            "uv.lock": "lock",
            "pyproject.toml": "root",
            "pkg/mod.py": "code",
            "pkg/__pycache__/mod.cpython-311.pyc": "bytecode",
            "pkg/deep/inner.py": "inner",
            "other/pyproject.toml": "other",
            "other/src.py": "not copied",
            ".venv/lib/site.py": "venv",
            "README.md": "docs",
        },
    )


RULES = "**\n!pyproject.toml\n!uv.lock\n!pkg/\n!other/pyproject.toml\n**/__pycache__/\n"


def test_context_files_are_what_the_rules_let_through(context: Path) -> None:
    files = inputs.context_files(context, ignore.parse(RULES))
    assert files == [
        "other/pyproject.toml",
        "pkg/deep/inner.py",
        "pkg/mod.py",
        "pyproject.toml",
        "uv.lock",
    ]


def test_no_rules_means_the_whole_context(context: Path) -> None:
    assert len(inputs.context_files(context, [])) == 9


@pytest.mark.parametrize(
    ("edit", "changes"),
    [
        ("pkg/mod.py", True),  # an included file
        ("pkg/deep/inner.py", True),
        ("uv.lock", True),
        ("other/src.py", False),  # filtered out by the rules
        ("pkg/__pycache__/mod.cpython-311.pyc", False),
        ("README.md", False),
    ],
)
def test_the_digest_follows_included_files_only(context: Path, edit: str, changes: bool) -> None:
    rules = ignore.parse(RULES)
    before = inputs.manifest_digest(context, inputs.context_files(context, rules))
    (context / edit).write_text("edited")
    after = inputs.manifest_digest(context, inputs.context_files(context, rules))
    assert (before != after) is changes


def test_a_new_file_a_mode_and_a_symlink_count(context: Path) -> None:
    rules = ignore.parse(RULES)

    def digest() -> str:
        return inputs.manifest_digest(context, inputs.context_files(context, rules))

    seen = {digest()}
    (context / "pkg/new.py").write_text("")
    seen.add(digest())
    os.chmod(context / "pkg/mod.py", 0o755)
    seen.add(digest())
    os.symlink("mod.py", context / "pkg/link.py")
    seen.add(digest())
    assert len(seen) == 4


def test_input_hash_is_canonical_and_sensitive() -> None:
    a = inputs.input_hash({"x": "1", "bases": {"b": "2", "a": "3"}})
    assert a == inputs.input_hash({"bases": {"a": "3", "b": "2"}, "x": "1"})
    assert a != inputs.input_hash({"x": "1", "bases": {"b": "2", "a": "4"}})
    assert re.fullmatch(r"[0-9a-f]{64}", a)


@pytest.mark.parametrize(
    ("ref", "normalized"),
    [
        ("python:3.11-slim", "docker.io/library/python:3.11-slim"),
        ("debian", "docker.io/library/debian:latest"),
        ("prom/prometheus:v2", "docker.io/prom/prometheus:v2"),
        ("ghcr.io/astral-sh/uv:0.13.9", "ghcr.io/astral-sh/uv:0.13.9"),
        ("localhost:5000/x", "localhost:5000/x:latest"),
        ("python:3.11@sha256:abc", "docker.io/library/python:3.11"),
    ],
)
def test_normalize_ref(ref: str, normalized: str) -> None:
    assert catalog.normalize_ref(ref) == normalized


def test_from_refs_skips_stages_and_scratch() -> None:
    text = (
        "FROM ghcr.io/astral-sh/uv:1 AS uv\n"
        "FROM --platform=linux/amd64 python:3.11 as build\n"
        "COPY --from=uv /uv /uv\n"
        "FROM build AS test\n"
        "FROM scratch\n"
        "from debian:bookworm-slim\n"
    )
    assert catalog.from_refs(text) == [
        "ghcr.io/astral-sh/uv:1",
        "docker.io/library/python:3.11",
        "docker.io/library/debian:bookworm-slim",
    ]


def test_every_from_line_has_a_stand_in() -> None:
    """A Dockerfile naming a base the builder cannot make fails here, not mid-build."""
    uv = catalog.uv_base(REPO).ref_repo
    known = {ref for base in (catalog.PYTHON_BASE, catalog.DEBIAN_BASE) for ref in base.refs}
    known.add(uv)
    for spec in catalog.IMAGES.values():
        if isinstance(spec, catalog.BentoImage):
            refs = [catalog.normalize_ref(spec.base)]
        else:
            refs = catalog.from_refs((REPO / spec.dockerfile).read_text())
        assert set(refs) <= known, (spec.name, refs)


def test_the_uv_image_is_the_release_bootstrap_installs() -> None:
    version = catalog.uv_version(REPO)
    for name in ("operator", "training"):
        text = (REPO / f"docker/{name}.Dockerfile").read_text()
        assert f"FROM ghcr.io/astral-sh/uv:{version} AS uv" in text, name


def test_every_bento_image_names_its_bentofile_base() -> None:
    import yaml

    for spec in catalog.IMAGES.values():
        if isinstance(spec, catalog.BentoImage):
            config = yaml.safe_load((REPO / spec.bentofile).read_text())
            assert config["docker"]["base_image"] == spec.base, spec.name
            assert config["python"]["requirements_txt"] == "./" + str(
                Path(spec.requirements).relative_to("bentos")
            )


def test_the_command_group_loads_without_the_development_libraries() -> None:
    """`modelops --help` imports every command group, also in the operator and training images."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "for name in ('packaging', 'pathspec', 'bentoml'):\n"
        "    sys.modules[name] = None\n"
        "import modelops_cli.images.commands\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
