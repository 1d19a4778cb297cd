"""`modelops images`: build, list and name the container images (docs/images.md)."""

from __future__ import annotations

import json
import sys

import click

from modelops_cli.images import catalog
from modelops_cli.images.builder import Builder, cache_root, ensure, repo_root
from modelops_cli.images.errors import ImagesError


def _print_table(headers: list[str], rows: list[list[str]]) -> None:
    """Aligned columns, never cut short (refs and paths are for copying)."""
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    for line in [headers, *rows]:
        click.echo(
            "  ".join(str(cell).ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        )


def _fail(exc: Exception) -> None:
    raise click.ClickException(str(exc)) from None


@click.group()
def images() -> None:
    """Container images built without Docker or a registry (buildah, debootstrap)."""


@images.command()
@click.argument("names", nargs=-1)
@click.option(
    "--force", is_flag=True, help="Rebuild even when the archive for these inputs exists."
)
@click.option(
    "--refresh-bases",
    is_flag=True,
    help="Make today's Debian root filesystems instead of reusing the cached ones "
    "(every image that uses them gets a new name).",
)
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table")
def build(names: tuple[str, ...], force: bool, refresh_bases: bool, output: str) -> None:
    """Build NAMES (default: all) as docker-archives in the cache, unless already built.

    Names: modelops-operator, modelops-training, churn-bento, learning-path-bento,
    prometheus, s3.
    """
    try:
        built = ensure(names or None, force=force, refresh_bases=refresh_bases)
    except (ImagesError, catalog.CatalogError) as exc:
        _fail(exc)
    if output == "json":
        click.echo(json.dumps([b.to_dict() for b in built], indent=2))
        return
    rows = [
        [b.name, b.ref, f"{b.size / 1e6:.0f} MB", f"{b.seconds:.1f}", "yes" if b.cached else "no", str(b.archive)]
        for b in built
    ]  # fmt: skip
    _print_table(["IMAGE", "REF", "SIZE", "SECONDS", "CACHED", "ARCHIVE"], rows)


@images.command("list")
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table")
def list_images(output: str) -> None:
    """Every image with its current ref and whether that ref is built."""
    try:
        builder = Builder(repo_root(), cache_root())
        rows = [builder.status(name) for name in catalog.IMAGES]
    except ImagesError as exc:
        _fail(exc)
    if output == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    table = []
    for row in rows:
        size = f"{row['size'] / 1e6:.0f} MB" if "size" in row else ""
        seconds = f"{row['build_seconds']:.0f}" if "build_seconds" in row else ""
        built = "yes" if row["built"] else "no"
        table.append([row["name"], row["ref"] or row["note"], built, size, seconds])
    _print_table(["IMAGE", "REF", "BUILT", "SIZE", "BUILD SECONDS"], table)


@images.command()
@click.option("-o", "--output", type=click.Choice(["table", "json"]), default="table")
def prune(output: str) -> None:
    """Delete dangling images from the image storage; show the cache's disk use.

    `images build` prunes after every build; this is for what failed or
    interrupted builds left. The layer cache of the built images is kept.
    """
    try:
        result = Builder(repo_root(), cache_root()).prune()
    except ImagesError as exc:
        _fail(exc)
    if output == "json":
        click.echo(json.dumps(result, indent=2))
        return
    before, after = result["before"], result["after"]
    rows = [
        [part, f"{before[part] / 1e9:.2f} GB", f"{after[part] / 1e9:.2f} GB"] for part in before
    ]
    _print_table(["PART", "BEFORE", "AFTER"], rows)
    click.echo(f"removed {len(result['removed'])} dangling images")


@images.command()
@click.argument("name")
def ref(name: str) -> None:
    """Print NAME's ref for the current inputs (for scripts), e.g. modelops.local/s3:0123abcd4567."""
    try:
        catalog.spec(name)
        value, _ = Builder(repo_root(), cache_root()).ref(name)
    except (ImagesError, catalog.CatalogError) as exc:
        _fail(exc)
    click.echo(value)


@images.command("requirements")
@click.option("--check", is_flag=True, help="Fail if a committed list differs from uv.lock's.")
def requirements_command(check: bool) -> None:
    """Write the bentos' pinned requirement lists from uv.lock (bentos/requirements/)."""
    from modelops_cli.images import requirements

    try:
        stale = requirements.sync(repo_root(), write=not check)
    except ImagesError as exc:
        _fail(exc)
    for path in stale:
        click.echo(f"{'stale' if check else 'wrote'} {path}", err=True)
    if check and stale:
        sys.exit(1)
