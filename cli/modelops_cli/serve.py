"""`modelops serve`: serve a model version from the registry with BentoML.

A thin wrapper over `bentoml serve`: it resolves the version ("latest" and
"@latest-approved" become a number, so what is printed is what is served;
"latest" is the newest *approved* version, and a version its gates rejected
is served only with --allow-rejected, with a warning), sets
the environment the bento reads, waits until /readyz says the model is loaded
and verified, prints the endpoint and a sample curl, and stays in the
foreground until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import click


@click.command()
@click.argument("service", type=click.Choice(["churn", "learning-path"]))
@click.option(
    "--registry",
    "registry_uri",
    default=None,
    help="Registry URI (file://, s3://). Default: $MODELOPS_REGISTRY, else a local folder.",
)
@click.option("--model", default=None, help="Model name in the registry (default: the service's).")
@click.option(
    "--version",
    "version",
    default="latest",
    show_default=True,
    help='A version number, "latest" (the newest approved) or "@latest-approved".',
)
@click.option(
    "--allow-rejected",
    is_flag=True,
    default=False,
    help='Serve a version its gates rejected ("latest" then means the newest of any status).',
)
@click.option("--host", default="127.0.0.1", show_default=True)
# A TCP port: 0 would make bentoml pick a random port (so the printed URL would lie),
# and above 65535 bentoml bound some other port and printed the one asked for.
@click.option("--port", default=3000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--ready-timeout", default=120.0, show_default=True, help="Seconds to wait for /readyz."
)
def serve(
    service: str,
    registry_uri: str | None,
    model: str | None,
    version: str,
    allow_rejected: bool,
    host: str,
    port: int,
    ready_timeout: float,
) -> None:
    """Serve SERVICE (churn or learning-path) over HTTP with BentoML."""
    from modelops_bentos import launch
    from modelops_registry import default_uri

    uri = registry_uri or default_uri()
    model_name = model or launch.SERVICES[service][1]
    try:
        resolved = launch.resolve_version(uri, model_name, version, allow_rejected=allow_rejected)
    except launch.ServeError as exc:
        raise click.ClickException(str(exc)) from exc
    concrete = resolved.version
    if resolved.note:
        click.echo(f"modelops: {resolved.note}", err=True)
    if resolved.warning:
        click.echo(f"modelops: WARNING: {resolved.warning}", err=True)

    cmd = launch.serve_command(launch.service_target(service), host, port)
    env = launch.serve_env(uri, model_name, concrete)
    url = launch.base_url(host, port)
    click.echo(f"modelops: serving {model_name} version {concrete} from {uri}", err=True)
    process = subprocess.Popen(cmd, env=env)
    # `kill` (SIGTERM) must stop bentoml as Ctrl-C does: Python's default SIGTERM ends this
    # process at once, skipping `finally`, and leaves bentoml serving the port.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        launch.wait_ready(url, process, timeout=ready_timeout)
        click.echo(f"\nmodelops: {model_name} v{concrete} ready at {url}", err=True)
        paths = [*launch.ENDPOINTS[service][0], "/metrics", "/docs", f"/v2/models/{model_name}"]
        click.echo("  endpoints: " + "  ".join(f"{url}{p}" for p in paths), err=True)
        click.echo("  try:", err=True)
        click.echo(launch.sample_curl(url, service))
        click.echo("  (Ctrl-C to stop)", err=True)
        process.wait()
    except launch.ServeError as exc:
        _stop(process)
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:
        click.echo("\nmodelops: stopping", err=True)
    finally:
        _stop(process)
    if process.returncode not in (0, -signal.SIGINT, -signal.SIGTERM):
        sys.exit(process.returncode)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop(process: subprocess.Popen) -> None:
    """SIGINT first (bentoml shuts its workers down cleanly), then SIGKILL."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
