"""`modelops operator run`: the ModelDeployment operator (kopf) against any kubeconfig."""

from __future__ import annotations

import sys

import click


@click.group()
def operator() -> None:
    """Run the modelops Kubernetes operator."""


@operator.command("run")
@click.option(
    "--namespace", "-n", "namespaces", multiple=True, help="Watch this namespace (repeatable)."
)
@click.option("--all-namespaces", "-A", is_flag=True, help="Watch every namespace.")
@click.option(
    "--kubeconfig",
    envvar="KUBECONFIG",
    help="Kubeconfig file (default: $KUBECONFIG, then in-cluster).",
)
@click.option(
    "--liveness", default=None, help="Liveness endpoint URL, e.g. http://0.0.0.0:8081/healthz."
)
@click.option(
    "--metrics-port",
    type=int,
    default=8080,
    show_default=True,
    help="Prometheus metrics port; 0 disables.",
)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    help="Address the metrics server binds.",
)
@click.option(
    "--resync",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds between level-based re-reconciles.",
)
@click.option(
    "--workers", type=int, default=8, show_default=True, help="Threads running reconciles."
)
@click.option(
    "--leader-election/--no-leader-election",
    default=True,
    show_default=True,
    help="Hold a coordination.k8s.io Lease before acting (safe with several replicas).",
)
@click.option(
    "--lease-namespace", default="default", show_default=True, help="Namespace of the leader Lease."
)
@click.option(
    "--lease-name", default="modelops-operator", show_default=True, help="Name of the leader Lease."
)
@click.option(
    "--lease-seconds",
    type=float,
    default=15.0,
    show_default=True,
    help="Lease duration: a standby takes over when the Lease has not changed for this long.",
)
@click.option(
    "--renew-seconds",
    type=float,
    default=2.0,
    show_default=True,
    help="Retry period: the leader renews (and a standby tries) this often.",
)
@click.option(
    "--lease-renew-deadline",
    type=float,
    default=None,
    help="The leader stops writing and steps down when it has not renewed for this long "
    "(default: 2/3 of --lease-seconds; must lie between --renew-seconds and --lease-seconds).",
)
@click.option(
    "--identity", default=None, help="This replica's name in the Lease (default: host-pid)."
)
@click.option(
    "--retraining-service-accounts",
    default=None,
    metavar="A,B",
    help="ServiceAccounts retraining Jobs may run as (comma-separated); a jobTemplate naming "
    "another starts no Job. Default: not restricted by the operator.",
)
@click.option("--verbose", "-v", is_flag=True, help="Debug logging.")
def run(
    namespaces: tuple[str, ...],
    all_namespaces: bool,
    kubeconfig: str | None,
    liveness: str | None,
    metrics_port: int,
    metrics_host: str,
    resync: float,
    workers: int,
    leader_election: bool,
    lease_namespace: str,
    lease_name: str,
    lease_seconds: float,
    renew_seconds: float,
    lease_renew_deadline: float | None,
    identity: str | None,
    retraining_service_accounts: str | None,
    verbose: bool,
) -> None:
    """Reconcile ModelDeployments into Deployments and Services (wraps kopf's run).

    \b
    Environment:
      MODELOPS_METRICS_PROVIDER_FILE  a JSON file that replaces Prometheus for
                                      canary analysis (tests, demos; never in
                                      production); logged as a warning at start.
    """
    from modelops_operator.runtime.main import run as run_operator
    from modelops_operator.runtime.settings import OperatorSettings, default_identity

    try:
        settings = OperatorSettings(
            namespaces=namespaces,
            all_namespaces=all_namespaces,
            kubeconfig=kubeconfig,
            liveness=liveness,
            metrics_port=metrics_port or None,
            metrics_host=metrics_host,
            resync_seconds=resync,
            workers=workers,
            leader_election=leader_election,
            lease_namespace=lease_namespace,
            lease_name=lease_name,
            lease_seconds=lease_seconds,
            renew_seconds=renew_seconds,
            renew_deadline_seconds=lease_renew_deadline,
            identity=identity or default_identity(),
            verbose=verbose,
            retraining_service_accounts=_accounts(retraining_service_accounts),
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    _warn_about_test_seams()
    sys.exit(run_operator(settings))


def _warn_about_test_seams() -> None:
    """Say so at start-up when canary analysis will not read Prometheus."""
    import logging
    import os

    from modelops_operator.providers import FILE_PROVIDER_ENV

    path = os.environ.get(FILE_PROVIDER_ENV)
    if path:
        logging.getLogger("modelops.operator").warning(
            "%s=%s: canary analysis reads this file instead of Prometheus "
            "(a test and demo seam; unset it in production)",
            FILE_PROVIDER_ENV,
            path,
        )


def _accounts(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    accounts = tuple(a.strip() for a in text.split(",") if a.strip())
    if not accounts:
        raise click.BadParameter(
            "name at least one ServiceAccount", param_hint="--retraining-service-accounts"
        )
    return accounts
