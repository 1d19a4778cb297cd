"""The `modelops` command.

Sub-commands are loaded lazily: `modelops registry list` must not pay for
importing xgboost, BentoML or kopf. Each group lives in its own module and is
registered here by dotted path only.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

import click

# name -> "module:attribute" of a click command or group.
COMMANDS: dict[str, str] = {
    "train": "modelops_cli.train:train",
    "registry": "modelops_cli.registry:registry",
    "serve": "modelops_cli.serve:serve",
    "controlplane": "modelops_cli.controlplane:controlplane",
    "cluster": "modelops_cli.cluster:cluster",
    "operator": "modelops_cli.operator:operator",
    "rollout": "modelops_cli.rollout:rollout",
    "batch": "modelops_cli.batch:batch",
    "demo": "modelops_cli.demo.commands:demo",
    "images": "modelops_cli.images.commands:images",
    "score": "modelops_cli.score.command:score",
    "feedback": "modelops_cli.feedback:feedback",
    "drift": "modelops_cli.drift_report.command:drift",
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported only when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, target in COMMANDS.items() if _module_exists(target))

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            # No kubeconfig is a user's setup, not a bug: one line, not a traceback.
            # (Checked through sys.modules: only a command that talked to a cluster
            # has loaded the adapter, and the CLI must not import it for the others.)
            kube = sys.modules.get("modelops_operator.adapters.kube")
            if kube is not None and isinstance(exc, kube.KubeconfigError):
                raise click.ClickException(str(exc)) from None
            raise

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None or not _module_exists(target):
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)


def _module_exists(target: str) -> bool:
    # A command whose package is not installed (the images leave the local
    # cluster tools out) is simply not offered. find_spec raises, rather than
    # answering None, when the missing part is a parent package.
    try:
        return importlib.util.find_spec(target.split(":")[0]) is not None
    except ModuleNotFoundError:
        return False


@click.group(cls=LazyGroup)
@click.version_option(package_name="modelops")
def cli() -> None:
    """modelops: train, register, serve and roll out ML models on Kubernetes."""
    # BentoML phones home unless told not to; nothing in modelops should.
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")


if __name__ == "__main__":
    cli()
