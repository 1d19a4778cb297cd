"""`modelops demo`: bring the system up, play the three acts, write the report.

Everything the operator does here it does alone: the demo trains and
publishes versions (as a data scientist or a retraining pipeline would),
sends traffic (as callers would), shifts that traffic (as the world does),
and watches. The live view is rich's; without a terminal, the act
transitions are printed as lines instead.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live

from .acts import ActFailed, Director, Timing
from .manifests import Settings
from .stack import LocalStack, StackError, describe
from .timeline import Timeline


def default_out_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(base) / "modelops" / "demo" / stamp


class Demo:
    """One run: `run()` returns True when every act passed."""

    def __init__(
        self,
        settings: Settings,
        out_dir: Path,
        *,
        keep: bool = False,
        console: Console | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.settings, self.out_dir, self.keep = settings, out_dir, keep
        # soft_wrap: without a terminal (CI logs), lines are not cut at 80 columns.
        self.console = console or Console(soft_wrap=True)
        self.stack = LocalStack(settings, echo=self._say, state_dir=state_dir)
        self.timeline = Timeline(
            started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            namespace=settings.namespace,
            name=settings.name,
            model=settings.model,
            interval_seconds=float(settings.interval_seconds),
        )
        self.director: Director | None = None
        self.failure: str | None = None

    def _say(self, message: str) -> None:
        self.console.print(f"[dim]demo:[/dim] {message}", highlight=False, markup=True)

    # -- the run ---------------------------------------------------------------

    def run(self) -> bool:
        try:
            self._setup()
            self._play()
        except (ActFailed, StackError) as exc:
            self.failure = str(exc)
            self.console.print(f"[red]demo stopped:[/red] {exc}", highlight=False)
        except KeyboardInterrupt:
            self.failure = "interrupted (Ctrl-C)"
            self.console.print("[yellow]interrupted: cleaning up[/yellow]")
        finally:
            self._finish()
        return self.failure is None and all(a.passed for a in self.timeline.acts)

    def _setup(self) -> None:
        self._say(
            "bringing up a local cluster with a real node, images, registry, Prometheus, operator"
        )
        self.stack.up()
        self.director = set_the_scene(self.stack, self.timeline, self._say)

    def _play(self) -> None:
        director = self.director
        assert director is not None
        stable = next(iter(self.timeline.versions))
        acts = [
            lambda stable: director.play_promote(stable),
            lambda stable: director.play_rollback(stable),
            lambda stable: director.play_drift(stable, self.settings.drift_shift),
        ]
        with self._live():
            for play in acts:
                act = play(stable)
                mark = "[green]passed[/green]" if act.passed else "[red]FAILED[/red]"
                self.console.print(f"act {act.name}: {act.outcome} — {mark}", highlight=False)
                self.timeline.save(self.out_dir / "timeline.json")
                last = self.timeline.last
                stable = (last.stable_version if last else None) or stable

    def _live(self):
        if not self.console.is_terminal:
            return _Nothing()
        from .view import render

        director = self.director
        return Live(
            get_renderable=lambda: render(self.timeline, director.now() if director else None),
            console=self.console,
            refresh_per_second=1,
            transient=False,
        )

    def _finish(self) -> None:
        if self.director:
            self.director.stop()
        if self.stack.traffic:
            self.stack.traffic.stop()
        self._collect_versions()
        self.timeline.settings.setdefault("system", {})["failure"] = self.failure
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.timeline.save(self.out_dir / "timeline.json")
        self._write_report()
        if self.keep and self.stack.cluster is not None:
            self._print_keep()
        else:
            self._say("tearing the cluster down (use --keep to leave it running)")
            problems = _uninterruptible(self.stack.down)
            for problem in problems or []:
                self.console.print(f"[yellow]teardown:[/yellow] {problem}", highlight=False)

    def _collect_versions(self) -> None:
        if self.stack.cluster is None:
            return
        try:
            for version, meta in self.stack.version_metadata().items():
                self.timeline.versions[version] = {
                    **self.timeline.versions.get(version, {}),
                    "metadata": meta,
                }
        except Exception as exc:  # the report still renders without them
            self._say(f"could not read the registry's metadata: {exc}")

    def _write_report(self) -> None:
        from modelops_cli.reports.figures import ReportExtraMissing

        from .report import write_report

        try:
            html = write_report(self.timeline, self.out_dir)
        except ReportExtraMissing as exc:
            self._say(str(exc))
            return
        self.console.print(f"report:   {html}", highlight=False)
        self.console.print(f"summary:  {html.with_name('summary.json')}", highlight=False)
        self.console.print(f"timeline: {self.out_dir / 'timeline.json'}", highlight=False)

    def _print_keep(self) -> None:
        cluster, s = self.stack.cluster, self.settings
        lines = [
            "The cluster keeps running. Explore it:",
            f"  export KUBECONFIG={cluster.kubeconfig}",
            f"  export PATH={Path(cluster.kubectl).parent}:$PATH",
            f"  kubectl get md,deploy,pods,jobs -n {s.namespace}",
            f"  kubectl get events -n {s.namespace} --field-selector involvedObject.kind=ModelDeployment",
            f"  .venv/bin/modelops rollout status {s.name} -n {s.namespace}",
            f"  curl -s {self.stack.prometheus_url}/api/v1/targets | head -c 300",
            "  .venv/bin/modelops cluster down     # when done",
        ]
        self.console.print("\n".join(lines), highlight=False)


def set_the_scene(stack: LocalStack, timeline: Timeline, say=print) -> Director:
    """From a system that is up to the first act: churn v1 published and served
    by the ModelDeployment, steady traffic through its Service, and a director
    polling the cluster into `timeline`. (The node tests start from here too.)"""
    s = stack.settings
    first = stack.publish(seed=1)
    timeline.versions[str(first["version"])] = first
    say(f"published churn v{first['version']} ({first['status']})")
    body = stack.apply_modeldeployment()
    spec = body["spec"]
    timeline.settings.update(
        {
            "demo": asdict(s),
            "rollout": spec["rollout"],
            "monitoring": spec["monitoring"],
            "retraining": {k: v for k, v in spec["retraining"].items() if k != "jobTemplate"},
            "system": describe(stack),
        }
    )
    seconds = stack.wait_serving()
    timeline.settings["system"]["apply_to_first_prediction_seconds"] = round(seconds, 1)
    say(
        f"ModelDeployment {s.namespace}/{s.name} serves v{first['version']} through its "
        f"Service ({stack.service_ip}) {seconds:.1f} s after apply"
    )
    stack.start_traffic()
    timing = Timing(interval=float(s.interval_seconds), steps=len(s.steps))
    return Director(stack, timeline, timing).start()


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: Any) -> None:
        return None


def _uninterruptible(run):
    """Run the teardown to the end even if Ctrl-C is pressed again."""
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(run()), name="teardown")
    worker.start()
    while worker.is_alive():
        try:
            worker.join(0.5)
        except KeyboardInterrupt:
            continue
    return result[0] if result else None
