"""The bentos' pinned requirement lists: cut from uv.lock, and in step with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelops_cli.images import bento, catalog, lockfile, requirements

REPO = Path(__file__).resolve().parents[2]

LOCK = """
version = 1
requires-python = "==3.11.*"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "app" }
dependencies = [
    { name = "web" },
    { name = "gpu-only", marker = "sys_platform == 'win32'" },
    { name = "Typing_Extensions" },
]

[[package]]
name = "web"
version = "2.0"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://x/web-2.0.tar.gz", hash = "sha256:aa", size = 1 }
wheels = [{ url = "https://x/web-2.0-py3-none-any.whl", hash = "sha256:bb", size = 1 }]
dependencies = [
    { name = "h11" },
    { name = "big", marker = "sys_platform == 'linux'" },
    { name = "extras-host", extra = ["fast"] },
]

[[package]]
name = "extras-host"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://x/eh.whl", hash = "sha256:e1", size = 1 }]

[package.optional-dependencies]
fast = [{ name = "speedup" }]
slow = [{ name = "never" }]

[[package]]
name = "h11"
version = "0.16"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://x/h11.whl", hash = "sha256:cc", size = 1 }]

[[package]]
name = "big"
version = "9"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://x/big.whl", hash = "sha256:dd", size = 1 }]
dependencies = [{ name = "only-big" }]

[[package]]
name = "only-big"
version = "1"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://x/ob.whl", hash = "sha256:ee", size = 1 }]

[[package]]
name = "speedup"
version = "3"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://x/s.whl", hash = "sha256:ff", size = 1 }]

[[package]]
name = "gpu-only"
version = "1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "never"
version = "1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "typing-extensions"
version = "4"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://x/te.whl", hash = "sha256:11", size = 1 }]
"""


@pytest.mark.parametrize(
    ("roots", "exclude", "names"),
    [
        # markers for the image's platform, extras followed, workspace members not pinned
        (
            ["app"],
            [],
            ["big", "extras-host", "h11", "only-big", "speedup", "typing-extensions", "web"],
        ),
        # an excluded package takes what only it needs along
        (["app"], ["big"], ["extras-host", "h11", "speedup", "typing-extensions", "web"]),
        (["h11"], [], ["h11"]),
        (["Typing.Extensions"], [], ["typing-extensions"]),
    ],
)
def test_closure(roots: list[str], exclude: list[str], names: list[str]) -> None:
    assert [p.name for p in lockfile.closure(LOCK, roots, exclude)] == names


def test_closure_refuses_an_unknown_root() -> None:
    with pytest.raises(lockfile.LockError, match=r"nope is not in uv\.lock"):
        lockfile.closure(LOCK, ["nope"])


def test_render_pins_every_artefact_hash() -> None:
    text = lockfile.render(lockfile.closure(LOCK, ["web"], ["big", "extras-host"]), "head\nline")
    assert text == (
        "# head\n# line\n"
        "h11==0.16 \\\n    --hash=sha256:cc\n"
        "web==2.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
    )


def test_the_committed_lists_match_uv_lock() -> None:
    stale = requirements.sync(REPO, write=False)
    assert not stale, f"{stale} differ from uv.lock: run `modelops images requirements`"


def pinned(image: str) -> dict[str, str]:
    path = REPO / catalog.spec(image).requirements
    pins = {}
    for line in path.read_text().splitlines():
        if "==" in line and not line.startswith((" ", "#")):
            name, version = line.split(" ")[0].split("==")
            pins[name] = version
    return pins


def test_the_bento_lists_carry_what_each_service_needs_and_no_nccl() -> None:
    churn, learning_path = pinned("churn-bento"), pinned("learning-path-bento")
    for pins in (churn, learning_path):
        assert "nvidia-nccl-cu12" not in pins
        assert {"bentoml", "numpy", "pandas", "pydantic", "uvloop", "httptools", "s3fs"} <= set(
            pins
        )
        assert not {"kopf", "kubernetes", "scikit-learn"} & set(pins)
    assert "xgboost" in churn
    assert not {"xgboost", "scipy"} & set(learning_path)


def test_bento_file_selection_is_bentomls() -> None:
    """The builder hashes what `bentoml build` copies: compared with BentoML's own rule."""
    from bentoml._internal.bento.build_config import BentoPathSpec

    for spec in catalog.IMAGES.values():
        if not isinstance(spec, catalog.BentoImage):
            continue
        config = bento.load_bentofile(REPO, spec)
        context = bento.context_dir(REPO, spec)
        theirs = BentoPathSpec(config["include"], config.get("exclude") or [], str(context))
        expected = sorted(
            p.relative_to(context).as_posix()
            for p in context.rglob("*")
            if p.is_file() and theirs.includes(p.relative_to(context).as_posix())
        )
        assert bento.selected_files(context, config) == expected, spec.name
        assert any(f.endswith("service.py") for f in expected)
