"""`modelops controlplane up|down|env|status`."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import click

from .assets import MissingBinariesError
from .runner import AlreadyRunningError, ControlPlane, StartupError

_state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where certificates, etcd data, logs and the kubeconfig live "
    "(default ~/.local/state/modelops/controlplane).",
)


@click.group()
def controlplane() -> None:
    """A local Kubernetes control plane (etcd + kube-apiserver [+ controllers])."""


@controlplane.command()
@click.option(
    "--with-controllers",
    is_flag=True,
    help="Also run kube-controller-manager and kube-scheduler "
    "(garbage collection, Deployments -> ReplicaSets -> Pods, Jobs).",
)
@click.option(
    "--with-kwok",
    is_flag=True,
    help="Also run kwok with one simulated node, so Pods become Running and "
    "Deployments Available (implies --with-controllers).",
)
@_state_dir_option
@click.option(
    "--timeout", type=float, default=180.0, show_default=True, help="Seconds to wait for ready."
)
def up(with_controllers: bool, with_kwok: bool, state_dir: Path | None, timeout: float) -> None:
    """Start the control plane and print how to point kubectl at it."""
    plane = ControlPlane(
        state_dir,
        with_controllers=with_controllers,
        with_kwok=with_kwok,
        startup_timeout=timeout,
    )
    started = time.monotonic()
    try:
        plane.start()
    except (MissingBinariesError, AlreadyRunningError, StartupError) as exc:
        raise click.ClickException(str(exc)) from exc
    components = ", ".join(p.name for p in plane.procs)
    click.echo(
        f"control plane ready in {time.monotonic() - started:.1f} s at {plane.server} "
        f"({components})",
        err=True,
    )
    click.echo(f"logs: {plane.layout.logs}", err=True)
    _echo_env(plane.kubeconfig)


@controlplane.command()
@_state_dir_option
def down(state_dir: Path | None) -> None:
    """Stop the control plane started by `up` (only its own processes)."""
    plane = ControlPlane.attach(state_dir)
    if plane is None:
        click.echo("no control plane is recorded as running", err=True)
        return
    names = ", ".join(p.name for p in plane.procs)
    plane.stop()
    plane.kubeconfig.unlink(missing_ok=True)
    click.echo(f"stopped {names}", err=True)


@controlplane.command()
@_state_dir_option
def env(state_dir: Path | None) -> None:
    """Print `export KUBECONFIG=...` for the running control plane (use with eval).

    Also puts the kubectl built with the control plane first on PATH when there
    is one, so `kubectl` in the docs is the cluster's own version even on a
    machine that has none.
    """
    _echo_env(_running(state_dir).kubeconfig)


def _echo_env(kubeconfig: Path) -> None:
    """The shell lines `up` and `env` print: KUBECONFIG, and the built kubectl on PATH."""
    click.echo(_export_line(kubeconfig))
    path_line = kubectl_path_line(_kubectl_dir())
    if path_line:
        click.echo(path_line)


def _kubectl_dir() -> Path | None:
    from modelops_cli.controlplane.assets import _assets_dir

    directory, _ = _assets_dir()
    return directory if directory is not None and (directory / "kubectl").is_file() else None


def kubectl_path_line(directory: Path | None) -> str | None:
    """`export PATH=<dir>:$PATH` for a directory holding kubectl, or None."""
    if directory is None:
        return None
    return f'export PATH={shlex.quote(str(directory))}:"$PATH"'


@controlplane.command()
@_state_dir_option
def status(state_dir: Path | None) -> None:
    """Show each component's PID and whether it still runs."""
    plane = _running(state_dir, require_alive=False)
    click.echo(f"server: {plane.server}")
    click.echo(f"kubeconfig: {plane.kubeconfig}")
    alive = plane.status()
    for proc in plane.procs:
        click.echo(f"{proc.name:<25} pid {proc.pid:<8} {'running' if alive[proc.name] else 'DEAD'}")
    if not all(alive.values()):
        sys.exit(1)


def _running(state_dir: Path | None, *, require_alive: bool = True) -> ControlPlane:
    plane = ControlPlane.attach(state_dir)
    if plane is None or (require_alive and not any(plane.status().values())):
        raise click.ClickException(
            "no control plane is running; start one with `modelops controlplane up`"
        )
    return plane


def _export_line(path: Path) -> str:
    return f"export KUBECONFIG={shlex.quote(str(path))}"
