"""`modelops rollout get|status|history|promote|abort|undo`: show and steer rollouts, kubectl-like.

promote and abort set the `modelops.io/promote` / `modelops.io/abort`
annotation to a new token; the operator acts on each token once and records
it in status.actions. undo writes the spec (rollout_undo.py). Without `-n`
the namespace is the kubeconfig context's (rollout_namespace.py). The text
shown lives in rollout_view.py, rollout_output.py and rollout_live.py (pure,
unit-tested); docs/cli.md lists the exit codes.
"""

from __future__ import annotations

import sys

import click

_namespace = click.option(
    "--namespace",
    "-n",
    default=None,
    help="Namespace of the ModelDeployment [default: the kubeconfig context's, else default].",
)
_kubeconfig = click.option("--kubeconfig", default=None, help="Path to a kubeconfig.")


@click.group()
def rollout() -> None:
    """Show, promote, abort or undo the rollouts of ModelDeployments (kubectl-like)."""


def _body(kube, namespace: str, name: str):
    body = kube.get_model_deployment(namespace, name)
    if body is None:
        raise click.ClickException(
            f"ModelDeployment {namespace}/{name} not found: check the name and the namespace "
            f"(`modelops rollout get -n {namespace}` lists them; -n picks another namespace)"
        )
    return body


def _ns(namespace: str | None, kubeconfig: str | None) -> str:
    from modelops_cli.rollout_namespace import resolve

    return resolve(namespace, kubeconfig)


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
def status(
    name: str, namespace: str | None, kubeconfig: str | None, wait: bool, timeout: str
) -> None:
    """Phase, step progress bar and the last analysis checks; with --wait, follow to the end."""
    namespace = _ns(namespace, kubeconfig)
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


def _act(action: str, name: str, namespace: str, kubeconfig: str | None, yes: bool) -> None:
    from modelops_cli.rollout_view import action_patch, new_token, refusal, retry_warning

    kube = _adapter(kubeconfig)
    body = _body(kube, namespace, name)
    refused = refusal(body, action)
    if refused:
        raise click.ClickException(refused)
    warning = retry_warning(body) if action == "promote" else None
    if warning and not yes:
        if not sys.stdin.isatty():
            raise click.ClickException(f"{warning}. Add --yes to do it.")
        click.confirm(f"{warning}. Go on?", abort=True, err=True)
    token = new_token()
    _patch(kube, namespace, name, action_patch(action, token))
    click.echo(f"{namespace}/{name}: modelops.io/{action}={token} (acted on once by the operator)")
    if warning:
        click.echo(f"{namespace}/{name}: restarting the canary from step 1")


def _patch(kube, namespace: str, name: str, patch: dict) -> dict:
    from modelops_operator.adapters.kube import KubeError
    from modelops_operator.api import names

    try:
        return kube.request(
            "PATCH",
            f"/apis/{names.API_VERSION}/namespaces/{namespace}/{names.PLURAL}/{name}",
            body=patch,
            content_type="application/merge-patch+json",
        )
    except KubeError as exc:
        if exc.status == 409:
            raise click.ClickException(
                f"{namespace}/{name} changed while this command ran: run it again"
            ) from None
        raise click.ClickException(f"{namespace}/{name}: the API server refused: {exc}") from None


@rollout.command()
@click.argument("name")
@_namespace
@_kubeconfig
@click.option("--yes", "-y", is_flag=True, help="Retry a rolled-back version without asking.")
def promote(name: str, namespace: str | None, kubeconfig: str | None, yes: bool) -> None:
    """Skip the remaining steps; retry a rolled-back version (from step 1)."""
    _act("promote", name, _ns(namespace, kubeconfig), kubeconfig, yes)


@rollout.command()
@click.argument("name")
@_namespace
@_kubeconfig
def abort(name: str, namespace: str | None, kubeconfig: str | None) -> None:
    """Roll the canary back now."""
    _act("abort", name, _ns(namespace, kubeconfig), kubeconfig, yes=True)


_output = click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "wide", "json", "yaml"]),
    default="table",
    show_default=True,
    help="table: one row each; wide: more columns; json / yaml: for scripts.",
)


@rollout.command()
@click.argument("name", required=False)
@_namespace
@_kubeconfig
@_output
@click.option(
    "--watch", "-w", is_flag=True, help="A live view of NAME, redrawn on each change (Ctrl-C ends)."
)
def get(
    name: str | None, namespace: str | None, kubeconfig: str | None, output: str, watch: bool
) -> None:
    """List ModelDeployments (or NAME) like kubectl get; --watch: a live view of NAME."""
    import datetime as dt

    from modelops_cli.rollout_output import render_get

    namespace = _ns(namespace, kubeconfig)
    if watch:
        if not name:
            raise click.UsageError("--watch needs a NAME: modelops rollout get NAME --watch")
        sys.exit(_watch(name, namespace, kubeconfig))
    kube = _adapter(kubeconfig)
    if name:
        bodies = [_body(kube, namespace, name)]
    else:
        bodies = kube.list_model_deployments(namespace)
        if not bodies and output in ("table", "wide"):
            click.echo(f"No ModelDeployments found in namespace {namespace}.", err=True)
            return
    now = dt.datetime.now(dt.UTC)
    click.echo(render_get(bodies, output, now, single=bool(name)))


def _watch(name: str, namespace: str, kubeconfig: str | None) -> int:
    from rich.console import Console

    from modelops_cli import rollout_live, rollout_watch

    try:
        rollout_live.show(
            rollout_watch.versions(kubeconfig, namespace, name, deadline=None), Console()
        )
    except KeyboardInterrupt:
        return 0  # Ctrl-C is how a watch ends, as with kubectl get -w
    except rollout_watch.WatchError as exc:
        click.echo(f"error: ModelDeployment {namespace}/{name}: {exc}", err=True)
        return 1
    return 0


@rollout.command()
@click.argument("name")
@_namespace
@_kubeconfig
@_output
def history(name: str, namespace: str | None, kubeconfig: str | None, output: str) -> None:
    """Past rollouts, newest first: version, outcome, reason, time (status.history)."""
    from modelops_cli.rollout_output import render_history

    namespace = _ns(namespace, kubeconfig)
    click.echo(render_history(_body(_adapter(kubeconfig), namespace, name), output))


@rollout.command()
@click.argument("name")
@_namespace
@_kubeconfig
@click.option(
    "--timeout",
    default="2m",
    show_default=True,
    help="How long to wait for the operator to serve the version rolled back to.",
)
def undo(name: str, namespace: str | None, kubeconfig: str | None, timeout: str) -> None:
    """Roll back now, no canary, to the version before the spec's."""
    import time

    from modelops_cli import rollout_undo

    namespace = _ns(namespace, kubeconfig)
    seconds = _seconds(timeout)
    kube = _adapter(kubeconfig)
    try:
        plan = rollout_undo.plan(_body(kube, namespace, name))
    except rollout_undo.Refused as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{namespace}/{name}: {plan.why}")
    deadline = None if seconds is None else time.monotonic() + seconds
    generation = _patch(kube, namespace, name, plan.patch)["metadata"]["generation"]
    if not _until_served(kubeconfig, namespace, name, plan.target, generation, deadline):
        restore = ""
        if plan.restore:
            restore = (
                "; spec.rollout.strategy is Immediate until it does: run undo again, or put "
                "back strategy Canary and its steps (kubectl edit md "
                f"{name} -n {namespace})"
            )
        raise click.ClickException(
            f"{namespace}/{name}: the operator did not serve version {plan.target['version']} "
            f"within {timeout} (is it running? modelops rollout get {name} -n {namespace} -w)"
            f"{restore}"
        )
    if plan.restore:
        _patch(kube, namespace, name, plan.restore)
    click.echo(f"{namespace}/{name}: rolled back, serving version {plan.target['version']}")


def _until_served(kubeconfig, namespace, name, target, generation, deadline) -> bool:
    """Watch until the operator serves `target` (rollout_undo.served); False at the deadline."""
    from modelops_cli import rollout_undo, rollout_watch

    try:
        for body in rollout_watch.versions(kubeconfig, namespace, name, deadline=deadline):
            if rollout_undo.served(body, target, generation):
                return True
    except rollout_watch.WatchError as exc:
        raise click.ClickException(f"ModelDeployment {namespace}/{name}: {exc}") from None
    return False
