""".dockerignore rules as Docker (moby's patternmatcher) applies them.

The image builder applies these rules itself (Debian's buildah 1.28 does not
read `<Dockerfile>.dockerignore`), hashes what they let through and builds
from exactly that, so they must agree with Docker's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modelops_cli.images import ignore

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("rules", "path", "ignored"),
    [
        # plain names match the path and everything below it
        ("foo", "foo", True),
        ("foo", "foo/bar.py", True),
        ("foo", "x/foo", False),
        ("/foo/", "foo/bar.py", True),
        ("./foo", "foo", True),
        # * stays within a segment, ** crosses them (also none)
        ("*.pyc", "a.pyc", True),
        ("*.pyc", "x/a.pyc", False),
        ("**/*.pyc", "x/y/a.pyc", True),
        ("**/*.pyc", "a.pyc", True),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("a/*/b", "a/x/y/b", False),
        ("**/__pycache__/", "features/m/__pycache__/x.pyc", True),
        ("**", "anything/at/all", True),
        ("foo/**", "foo/x", True),
        ("foo/**", "foobar", False),
        # a leading ** without a slash is a plain suffix test (moby's shortcut)
        ("**foo", "xfoo", True),
        ("**foo", "a/bfoo", True),
        ("?.txt", "a.txt", True),
        ("?.txt", "ab.txt", False),
        ("[ab].txt", "b.txt", True),
        ("[ab].txt", "c.txt", False),
        (r"\*.txt", "*.txt", True),
        # comments, blanks; the last matching rule wins; ! re-includes
        ("# foo\n\nbar", "foo", False),
        ("**\n!keep/", "keep/a.py", False),
        ("**\n!keep/", "other/a.py", True),
        ("**\n!keep/\nkeep/secret", "keep/secret", True),
        ("**\n!keep/\n**/*.pyc", "keep/a.pyc", True),
        ("*.md\n!README.md", "README.md", False),
        ("*.md\n!README.md", "CHANGES.md", True),
        ("!foo", "foo", False),
    ],
)
def test_rules(rules: str, path: str, ignored: bool) -> None:
    assert ignore.is_ignored(path, ignore.parse(rules)) is ignored


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("uv.lock", False),
        ("pyproject.toml", False),
        ("operator/modelops_operator/main.py", False),
        ("features/modelops_features/__init__.py", False),
        ("cli/pyproject.toml", False),
        ("training/pyproject.toml", False),
        ("training/modelops_training/train.py", True),
        ("bentos/pyproject.toml", False),
        ("bentos/modelops_bentos/churn/service.py", True),
        (".venv/bin/python", True),
        ("operator/modelops_operator/__pycache__/main.cpython-311.pyc", True),
        ("README.md", True),
        ("docker/operator.Dockerfile", True),
    ],
)
def test_the_operator_image_context(path: str, ignored: bool) -> None:
    rules = ignore.parse((REPO / "docker/operator.Dockerfile.dockerignore").read_text())
    assert ignore.is_ignored(path, rules) is ignored


def test_a_pattern_remembers_its_text() -> None:
    (pattern,) = ignore.parse("  !keep/  ")
    assert pattern.exclusion
    assert pattern.text == "keep/"
    assert ignore.clean(pattern.text) == "keep"
