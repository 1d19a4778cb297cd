"""`modelops batch run|status NAME`: batch scoring on the cluster (spec.batch), kubectl-like.

`run` sets the `modelops.io/batch-run` annotation to a new token; the
operator starts one run per token (an Indexed Job scoring the version the
stable track serves) and records it in status.batch.lastRun. `--wait`
follows that run to its end; the exit code says how (0 succeeded, 3 failed,
1 not started / lost / error, 5 timed out). Without `-n` the namespace is
the kubeconfig context's. The text shown lives in batch_view.py (pure).
"""

from __future__ import annotations

import sys
import time

import click

from modelops_cli.rollout import _adapter, _body, _kubeconfig, _namespace, _ns, _patch, _seconds

_output = click.option(
    "--output",
    "-o",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: for people; json: for scripts.",
)
POLL_SECONDS = 1.0


@click.group()
def batch() -> None:
    """Run batch scoring on the cluster (spec.batch of a ModelDeployment) and show its runs."""


@batch.command()
@click.argument("name")
@_namespace
@_kubeconfig
@_output
@click.option("--wait", is_flag=True, help="Follow the run to its end; the exit code says how.")
@click.option(
    "--timeout",
    default="0s",
    show_default=True,
    help="With --wait: give up after this long (e.g. 90s, 10m); 0s waits forever.",
)
def run(
    name: str, namespace: str | None, kubeconfig: str | None, output: str, wait: bool, timeout: str
) -> None:
    """Score now with the version the stable track serves (one Indexed Job)."""
    from modelops_cli import batch_view
    from modelops_cli.rollout_view import new_token

    namespace = _ns(namespace, kubeconfig)
    limit = _seconds(timeout)
    kube = _adapter(kubeconfig)
    refused = batch_view.refusal(_body(kube, namespace, name))
    if refused:
        raise click.ClickException(refused)
    token = new_token()
    _patch(kube, namespace, name, batch_view.run_patch(token))
    click.echo(
        f"{namespace}/{name}: modelops.io/batch-run={token} (one run, started by the operator)",
        err=True,
    )
    if not wait:
        return
    deadline = None if limit is None else time.monotonic() + limit
    while deadline is None or time.monotonic() < deadline:
        found = batch_view.run_of(_body(kube, namespace, name), token)
        code = None if found is None else batch_view.exit_code(found)
        if code is not None:
            click.echo(batch_view.render_run(found, output))
            sys.exit(code)
        time.sleep(POLL_SECONDS)
    click.echo(f"error: timed out after {limit:g}s waiting for the batch run of {name}", err=True)
    sys.exit(batch_view.TIMED_OUT)


@batch.command()
@click.argument("name")
@_namespace
@_kubeconfig
@_output
def status(name: str, namespace: str | None, kubeconfig: str | None, output: str) -> None:
    """spec.batch, the schedule's CronJob and pinned version, the last run and the last scheduled run."""
    from modelops_cli.batch_view import render_status

    namespace = _ns(namespace, kubeconfig)
    click.echo(render_status(_body(_adapter(kubeconfig), namespace, name), output))
