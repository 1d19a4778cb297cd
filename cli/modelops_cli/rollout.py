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
def status(name: str, namespace: str, kubeconfig: str | None) -> None:
    """Phase, step progress bar and the last analysis checks."""
    from modelops_cli.rollout_view import render_status

    click.echo(render_status(_body(_adapter(kubeconfig), namespace, name)))


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
