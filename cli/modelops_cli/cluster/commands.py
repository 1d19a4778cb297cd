"""`modelops cluster up|down|status|env|load`."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import click

from modelops_cli.controlplane import MissingBinariesError
from modelops_cli.controlplane import StartupError as PlaneStartupError

from .archive import ArchiveError
from .boot import StartupError
from .layout import default_state_dir
from .lock import NodeBusyError
from .netinfo import NetworkError
from .preflight import PreflightError
from .runner import Cluster

_state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the cluster keeps certificates, configuration, logs, etcd data and "
    f"containerd's image store (default {default_state_dir()}).",
)
_START_ERRORS = (
    MissingBinariesError,
    PreflightError,
    NodeBusyError,
    NetworkError,
    StartupError,
    PlaneStartupError,
)


@click.group()
def cluster() -> None:
    """A local Kubernetes cluster with a real node (kubelet, containerd, kube-proxy, CoreDNS)."""


@cluster.command()
@_state_dir_option
@click.option(
    "--node-ip",
    default=None,
    help="The node's IPv4 address (default: the source address of the default route).",
)
@click.option(
    "--timeout", type=float, default=180.0, show_default=True, help="Seconds to wait for ready."
)
def up(state_dir: Path | None, node_ip: str | None, timeout: float) -> None:
    """Start the control plane and a node on this machine (root; one per machine).

    Prints `export KUBECONFIG=...` on stdout, so `eval "$(modelops cluster up)"`
    points kubectl at it. Ctrl-C stops whatever was started.
    """
    node = Cluster(state_dir, node_ip=node_ip, startup_timeout=timeout)
    try:
        node.start()
    except _START_ERRORS as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        click.echo("interrupted: stopped what was started and restored the host", err=True)
        sys.exit(130)
    for note in node.notes:
        click.echo(note, err=True)
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in node.timings.items())
    click.echo(f"node {node.node_name} ({node.node_ip}) Ready; {steps}", err=True)
    click.echo(f"state and logs: {node.state_dir}", err=True)
    click.echo(_export_line(node.kubeconfig))


@cluster.command()
@_state_dir_option
def down(state_dir: Path | None) -> None:
    """Stop every process of the cluster (pods included) and restore the host."""
    node = Cluster.attach(state_dir)
    if node is None:
        layout_root = state_dir or default_state_dir()
        if not (Path(layout_root) / "host-before.json").is_file():
            click.echo(f"no cluster is recorded as running in {layout_root}", err=True)
            return
        # A start that died before recording its processes still changed the
        # host; restoring needs only the state recorded before `up`.
        node = Cluster(state_dir)
    started = time.monotonic()
    problems = node.stop()
    node.kubeconfig.unlink(missing_ok=True)
    if problems:
        raise click.ClickException(
            "stopped, but could not undo everything:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    click.echo(f"stopped and restored the host in {time.monotonic() - started:.1f} s", err=True)


@cluster.command()
@_state_dir_option
def status(state_dir: Path | None) -> None:
    """Show each process and the node's Ready condition (exit 1 if anything is down)."""
    node = _attached(state_dir)
    click.echo(f"node: {node.node_name} ({node.node_ip})")
    click.echo(f"server: {node.server}")
    click.echo(f"kubeconfig: {node.kubeconfig}")
    alive = node.status()
    procs = list(node.plane.procs if node.plane else []) + list(node.procs)
    for proc in procs:
        state = "running" if alive.get(proc.name) else "DEAD"
        click.echo(f"{proc.name:<25} pid {proc.pid:<8} {state}")
    ready = node.node_ready()
    click.echo(f"{'node Ready':<25} {'':<12} {'True' if ready else 'False'}")
    if not ready or not all(alive.values()):
        sys.exit(1)


@cluster.command()
@_state_dir_option
def env(state_dir: Path | None) -> None:
    """Print `export KUBECONFIG=...` for the running cluster (use with eval),
    and put the cluster's own kubectl (built by `make node`) first on PATH."""
    from modelops_cli.controlplane.commands import kubectl_path_line

    cluster = _attached(state_dir)
    click.echo(_export_line(cluster.kubeconfig))
    try:
        kubectl = cluster.kubectl
    except RuntimeError:
        return  # no recorded kubectl: KUBECONFIG alone still serves any kubectl
    if kubectl.is_file():
        click.echo(kubectl_path_line(kubectl.parent))


@cluster.command()
@_state_dir_option
@click.argument(
    "archives", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
def load(state_dir: Path | None, archives: tuple[Path, ...]) -> None:
    """Import docker-archive or OCI tarballs into the node's containerd.

    Like `kind load image-archive`: pods then run them with
    `imagePullPolicy: Never` (or IfNotPresent), no registry involved.
    """
    node = _attached(state_dir)
    started = time.monotonic()
    try:
        refs = node.import_images(list(archives))
    except (ArchiveError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"loaded {', '.join(refs)} in {time.monotonic() - started:.1f} s", err=True)


def _attached(state_dir: Path | None) -> Cluster:
    node = Cluster.attach(state_dir)
    if node is None:
        raise click.ClickException(
            "no cluster is running; start one with `modelops cluster up` (as root)"
        )
    if not any(node.status().values()):
        flag = f" --state-dir {state_dir}" if state_dir else ""
        raise click.ClickException(
            f"the cluster recorded in {node.state_dir} is not running (its processes are "
            f"gone); `modelops cluster down{flag}` cleans up after it"
        )
    return node


def _export_line(path: Path) -> str:
    return f"export KUBECONFIG={shlex.quote(str(path))}"
