"""The Dockerfiles under docker/ are parsed and checked the way a reviewer
(or hadolint) would: pinned bases, a non-root numeric USER, a HEALTHCHECK,
exec-form ENTRYPOINT, clean apt use, COPY sources that exist and pass the
.dockerignore, and a dependency export that works against today's uv.lock.
Docker itself is not on these machines; the images are built by users."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.chart_tools import REPO_ROOT, tool_env

DOCKERFILES = sorted((REPO_ROOT / "docker").glob("*.Dockerfile"))
UV_VERSION = "0.13.9"


@dataclass
class Instruction:
    keyword: str
    args: str
    comment: str  # the comment lines right above it


def parse(text: str) -> list[Instruction]:
    """Dockerfile instructions with line continuations joined."""
    instructions: list[Instruction] = []
    comment: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and line.startswith("#"):
            comment.append(line.lstrip("# "))
            continue
        if not line and not pending:
            comment = []
            continue
        if line.startswith("#"):
            continue  # a comment inside a continued instruction
        pending += " " + line.rstrip("\\").strip() if pending else line.rstrip("\\").strip()
        if line.endswith("\\"):
            continue
        keyword, _, args = pending.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), " ".join(comment)))
        pending, comment = "", []
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    result: list[list[Instruction]] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


@pytest.fixture(params=DOCKERFILES, ids=[p.name for p in DOCKERFILES])
def dockerfile(request: pytest.FixtureRequest) -> Path:
    return request.param


def test_there_are_operator_and_training_images() -> None:
    assert {p.name for p in DOCKERFILES} >= {"operator.Dockerfile", "training.Dockerfile"}


def test_bases_are_pinned_never_latest(dockerfile: Path) -> None:
    for ins in parse(dockerfile.read_text()):
        if ins.keyword != "FROM":
            continue
        image = ins.args.split()[0]
        assert "$" not in image, f"{dockerfile.name}: unresolvable base {image}"
        name = image.split("@", 1)[0]
        assert ":" in name.rsplit("/", 1)[-1], f"{dockerfile.name}: {image} has no tag"
        assert not name.endswith(":latest"), f"{dockerfile.name}: {image} uses latest"
        assert re.search(r":\d+\.\d+", name), (
            f"{dockerfile.name}: {image} is not pinned to a version"
        )


def test_final_stage_runs_as_non_root_with_a_healthcheck(dockerfile: Path) -> None:
    final = stages(parse(dockerfile.read_text()))[-1]
    users = [ins.args for ins in final if ins.keyword == "USER"]
    assert users, f"{dockerfile.name}: the final stage sets no USER (it would run as root)"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 10000, (
        f"{dockerfile.name}: USER {users[-1]} must be a numeric non-root UID"
    )
    checks = [ins for ins in final if ins.keyword == "HEALTHCHECK"]
    assert len(checks) == 1, f"{dockerfile.name}: needs exactly one HEALTHCHECK"
    if checks[0].args == "NONE":
        # Allowed only for batch images, and it must say why.
        assert "Job" in checks[0].comment, f"{dockerfile.name}: HEALTHCHECK NONE needs a reason"
    else:
        assert checks[0].args.startswith("--") or checks[0].args.startswith("CMD"), checks[0].args
        assert "CMD [" in checks[0].args, f"{dockerfile.name}: use the exec form in HEALTHCHECK"
    (entrypoint,) = [ins for ins in final if ins.keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint.args) == ["modelops"]
    cmd = [ins for ins in final if ins.keyword == "CMD"]
    assert cmd and isinstance(json.loads(cmd[-1].args), list), (
        f"{dockerfile.name}: CMD in exec form"
    )


def test_no_remote_add_and_clean_apt(dockerfile: Path) -> None:
    for ins in parse(dockerfile.read_text()):
        assert ins.keyword != "ADD", f"{dockerfile.name}: use COPY, not ADD ({ins.args})"
        if ins.keyword == "RUN" and "apt-get install" in ins.args:
            assert "--no-install-recommends" in ins.args
            assert "apt-get update" in ins.args, "update and install in one layer"
            assert "rm -rf /var/lib/apt/lists/*" in ins.args
            packages = re.findall(
                r"\s([a-z0-9][a-z0-9.+-]+)(=\S+)?", ins.args.split("--no-install-recommends", 1)[1]
            )
            for name, version in packages:
                if name in ("rm", "rf", "groupadd", "useradd", "&&"):
                    break
                assert version, f"{dockerfile.name}: pin apt package {name}"
        if ins.keyword == "RUN":
            assert "curl " not in ins.args and "wget " not in ins.args, (
                "downloads outside package managers"
            )


def ignore_patterns(dockerfile: Path) -> list[str]:
    ignore = dockerfile.with_name(dockerfile.name + ".dockerignore")
    assert ignore.is_file(), f"{ignore.name} is missing"
    return [
        line.strip()
        for line in ignore.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_copy_sources_exist_and_pass_the_dockerignore(dockerfile: Path) -> None:
    patterns = ignore_patterns(dockerfile)
    assert patterns[0] == "**", "the .dockerignore should exclude everything, then admit"
    admitted = [p[1:] for p in patterns if p.startswith("!")]
    for ins in parse(dockerfile.read_text()):
        if ins.keyword != "COPY" or "--from=" in ins.args:
            continue
        *sources, _dest = shlex.split(ins.args)
        for source in sources:
            assert (REPO_ROOT / source).exists(), f"{dockerfile.name}: COPY {source} does not exist"
            assert any(source == a or source.startswith(a) for a in admitted), (
                f"{dockerfile.name}: COPY {source} is excluded by its .dockerignore"
            )


def uv_binary() -> str:
    candidate = shutil.which("uv") or str(
        Path(os.environ.get("MODELOPS_CACHE", Path.home() / ".cache" / "modelops"))
        / "tools"
        / f"uv-{UV_VERSION}"
        / "bin"
        / "uv"
    )
    if not Path(candidate).exists():
        pytest.fail("uv not found: run tools/bootstrap.sh", pytrace=False)
    return candidate


def test_dependency_export_works_against_the_lock(dockerfile: Path, tmp_path: Path) -> None:
    """The image's `uv export` names real workspace packages and the lock is current."""
    (run,) = [
        i for i in parse(dockerfile.read_text()) if i.keyword == "RUN" and "uv export" in i.args
    ]
    export = run.args.split("&&")[0].split()
    assert export[:2] == ["uv", "export"] and "--frozen" in export
    export = [a if a != "/tmp/requirements.txt" else str(tmp_path / "req.txt") for a in export]
    proc = subprocess.run(
        [uv_binary(), *export[1:]],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**tool_env(), "UV_PYTHON_DOWNLOADS": "never"},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    requirements = (tmp_path / "req.txt").read_text()
    assert "--hash=sha256:" in requirements
    if dockerfile.name == "operator.Dockerfile":
        assert (
            "kopf==" in requirements
            and "xgboost" not in requirements
            and "bentoml" not in requirements
        )
    if dockerfile.name == "training.Dockerfile":
        assert "xgboost==" in requirements and "kopf" not in requirements


def test_operator_image_command_parses() -> None:
    """The operator image's default CMD is a valid `modelops operator run` call."""
    from click.testing import CliRunner

    from modelops_cli.operator import operator

    final = stages(parse((REPO_ROOT / "docker" / "operator.Dockerfile").read_text()))[-1]
    (cmd,) = [json.loads(i.args) for i in final if i.keyword == "CMD"]
    assert cmd[0] == "operator"
    result = CliRunner().invoke(operator, [*cmd[1:], "--help"])
    assert result.exit_code == 0, result.output
