"""`modelops rollout status|promote|abort NAME`: watch and steer a canary rollout.

promote and abort set the `modelops.io/promote` / `modelops.io/abort`
annotation to a new token; the operator acts on each token once and records
it in status.actions. The text shown lives in rollout_view.py (pure, unit-tested).
"""

from __future__ import annotations

import sys

import click

_namespace = click.option("--namespace", "-n", default="default", show_default=True)
_kubeconfig = click.option("--kubeconfig", default=None, help="Path to a kubeconfig.")


@click.group()
def rollout() -> None:
    """Show, promote or abort the canary rollout of a ModelDeployment."""


def _body(kube, namespace: str, name: str):
    body = kube.get_model_deployment(namespace, name)
    if body is None:
        click.echo(f"ModelDeployment {namespace}/{name} not found", err=True)
        sys.exit(1)
    return body


def _adapter(kubeconfig: str | None):
    from modelops_operator.adapters.kube import KubeAdapter

    return KubeAdapter.from_kubeconfig(kubeconfig)


@rollout.command()
@click.argument("name")
@_namespace
@_kubeconfig
@click.option(
    "--wait",
    is_flag=True,
    help="Block until the rollout ends (watching the object); the exit code says how: "
    "0 rolled out, 3 rolled back, 4 degraded, 5 timed out, 1 error.",
)
@click.option(
    "--timeout",
    default="0s",
    show_default=True,
    help="With --wait: give up after this long (e.g. 90s, 10m); 0s waits forever.",
)
def status(name: str, namespace: str, kubeconfig: str | None, wait: bool, timeout: str) -> None:
    """Phase, step progress bar and the last analysis checks; with --wait, follow to the end."""
    if wait:
        sys.exit(_wait(name, namespace, kubeconfig, _seconds(timeout)))
    from modelops_cli.rollout_view import render_status

    click.echo(render_status(_body(_adapter(kubeconfig), namespace, name)))


def _seconds(timeout: str) -> float | None:
    """--timeout in seconds, None for no limit; a bad value is a usage error naming the option."""
    from modelops_operator.api.durations import parse_duration

    if timeout.strip() in ("0", "0s"):
        return None
    try:
        return parse_duration(timeout.strip(), field="--timeout")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--timeout") from None


def _wait(name: str, namespace: str, kubeconfig: str | None, timeout: float | None) -> int:
    """Follow the rollout like `kubectl rollout status`; returns the exit code (rollout_wait.py)."""
    import time

    from modelops_cli import rollout_wait, rollout_watch

    deadline = None if timeout is None else time.monotonic() + timeout
    seen: list[str] = []

    def echo(line: str) -> None:
        seen.append(line)
        click.echo(line)

    try:
        bodies = rollout_watch.versions(kubeconfig, namespace, name, deadline=deadline)
        final = rollout_wait.follow(bodies, echo)
    except rollout_watch.WatchError as exc:
        click.echo(f"error: ModelDeployment {namespace}/{name}: {exc}", err=True)
        return rollout_wait.ERROR
    if final is None:
        where = seen[-1] if seen else "no status yet"
        click.echo(f"error: timed out after {timeout:g}s waiting for {name}: {where}", err=True)
        return rollout_wait.TIMED_OUT
    return final.code


def _act(action: str, name: str, namespace: str, kubeconfig: str | None) -> None:
    from modelops_cli.rollout_view import action_patch, new_token
    from modelops_operator.api import names

    kube = _adapter(kubeconfig)
    _body(kube, namespace, name)
    token = new_token()
    kube.request(
        "PATCH",
        f"/apis/{names.API_VERSION}/namespaces/{namespace}/{names.PLURAL}/{name}",
        body=action_patch(action, token),
        content_type="application/merge-patch+json",
    )
    click.echo(f"{namespace}/{name}: modelops.io/{action}={token} (acted on once by the operator)")


@rollout.command()
@click.argument("name")
@_namespace
@_kubeconfig
def promote(name: str, namespace: str, kubeconfig: str | None) -> None:
    """Skip the remaining steps (or retry a rejected version)."""
    _act("promote", name, namespace, kubeconfig)


@rollout.command()
@click.argument("name")
@_namespace
@_kubeconfig
def abort(name: str, namespace: str, kubeconfig: str | None) -> None:
    """Roll the canary back now."""
    _act("abort", name, namespace, kubeconfig)
