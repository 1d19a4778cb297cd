"""`modelops registry list` and `modelops registry show`: read-only views of the registry.

Thin on purpose: all logic is in modelops_registry. Errors a user can cause
(unknown model, unknown version, unreachable store) print one line and exit
with code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

EXIT_BAD_INPUT = 2


class BadInput(click.ClickException):
    """A user error: message on stderr, exit code 2 (same as click's usage errors)."""

    exit_code = EXIT_BAD_INPUT


@contextmanager
def registry_errors() -> Iterator[None]:
    """Turn registry and storage errors into BadInput with their message."""
    from modelops_registry import RegistryError

    try:
        yield
    except RegistryError as exc:
        raise BadInput(str(exc)) from exc
    except OSError as exc:
        # Unreachable S3 endpoint, missing bucket, unreadable folder.
        raise BadInput(f"cannot read the registry: {exc}") from exc
    except Exception as exc:
        # botocore's own errors (no credentials, a bad region...) are not OSErrors.
        # Looked up in sys.modules: only an s3:// registry has loaded botocore.
        boto = sys.modules.get("botocore.exceptions")
        if boto is not None and isinstance(exc, boto.BotoCoreError | boto.ClientError):
            raise BadInput(
                f"cannot reach the S3 registry: {exc}. Set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL_S3 for an S3 server other than AWS)"
            ) from exc
        raise


def registry_option(func):
    return click.option(
        "--registry",
        "registry_uri",
        default=None,
        metavar="URI",
        help="Registry URI (file:///path, a path, or s3://bucket/prefix). "
        "Default: $MODELOPS_REGISTRY, else ~/.local/share/modelops/registry.",
    )(func)


def output_option(func):
    return click.option(
        "-o",
        "--output",
        type=click.Choice(["table", "json"]),
        default="table",
        show_default=True,
        help="Human table or JSON.",
    )(func)


def open_registry(uri: str | None):
    from modelops_registry import Registry

    with registry_errors():
        return Registry.from_uri(uri)


@click.group()
def registry() -> None:
    """Inspect the model registry."""


@registry.command("list")
@click.option("--model", default=None, help="Only this model.")
@registry_option
@output_option
def list_versions(model: str | None, registry_uri: str | None, output: str) -> None:
    """List published model versions."""
    reg = open_registry(registry_uri)
    with registry_errors():
        models = [model] if model else reg.models()
        rows = []
        for name in models:
            versions = reg.versions(name)
            if model and not versions:
                raise BadInput(f"model {model!r} has no published versions in {reg.uri}")
            rows.extend(summary_row(name, reg.metadata(name, v)) for v in versions)
    if output == "json":
        click.echo(json.dumps(rows, indent=2))
    elif rows:
        click.echo(format_table(rows, LIST_COLUMNS))
    else:
        click.echo(f"no models in {reg.uri}")


@registry.command("show")
@click.argument("model")
@click.argument("version")
@registry_option
@output_option
def show(model: str, version: str, registry_uri: str | None, output: str) -> None:
    """Show one version (VERSION may be a number, 'latest' or '@latest-approved')."""
    reg = open_registry(registry_uri)
    with registry_errors():
        resolved = reg.resolve(model, version)
        meta = reg.metadata(model, resolved)
    if output == "json":
        click.echo(json.dumps(meta, indent=2, sort_keys=True))
    else:
        click.echo(format_details(model, meta))


LIST_COLUMNS = ("model", "version", "status", "algorithm", "created", "auc", "dataset")


def summary_row(model: str, meta: dict[str, Any]) -> dict[str, Any]:
    dataset = meta.get("dataset") or {}
    return {
        "model": model,
        "version": meta.get("version"),
        "status": meta.get("status"),
        "algorithm": meta.get("algorithm"),
        "created": meta.get("created_at"),
        "auc": (meta.get("metrics") or {}).get("auc"),
        "dataset": dataset.get("name"),
    }


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(column), *(len(r[i]) for r in cells)) for i, column in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def format_details(model: str, meta: dict[str, Any]) -> str:
    dataset = meta.get("dataset") or {}
    features = meta.get("features") or {}
    lines = [
        f"model:      {model}",
        f"version:    {_cell(meta.get('version'))}",
        f"status:     {_cell(meta.get('status'))}",
        f"algorithm:  {_cell(meta.get('algorithm'))}",
        f"created:    {_cell(meta.get('created_at'))}",
        f"dataset:    {_cell(dataset.get('name'))} (sha256 {_cell(dataset.get('sha256'))})",
        f"git commit: {_cell(meta.get('git_commit'))}",
        f"features:   schema {_cell(features.get('schema_hash'))}, "
        f"package {_cell(features.get('package_version'))}, "
        f"{len(features.get('model_columns') or [])} model columns",
        "metrics:",
    ]
    for name, value in sorted((meta.get("metrics") or {}).items()):
        if not isinstance(value, dict | list):
            lines.append(f"  {name:<22} {_cell(value)}")
    lines.append("gates:")
    for name, gate in sorted((meta.get("gates") or {}).items()):
        verdict = "pass" if gate.get("passed") else "FAIL"
        lines.append(
            f"  {name:<22} {verdict}  value {_cell(gate.get('value'))}  "
            f"threshold {_cell(gate.get('threshold'))}"
        )
    lines.append("artefacts:")
    for name, digest in sorted((meta.get("artefacts") or {}).items()):
        lines.append(f"  {name:<22} sha256 {digest}")
    return "\n".join(lines)
