"""`modelops train`: train, evaluate, gate and publish a model version.

With `-o json` (the default when stdout is not a terminal: scripts, the
operator's Jobs) prints exactly one JSON line on stdout: {"model", "version",
"status", "metrics", "gates", "registry"}, and one line per gate on stderr
(threshold, value, whether it is a default). With `-o table` (the default at a
terminal) the same outcome as tables, and a spinner on stderr while it trains. Exit codes: 0 published and approved,
3 published but rejected by a gate (the evidence is kept in the registry),
2 bad input (nothing published; the reason, e.g. the full data validation
report, goes to stderr).

The model's default gates apply unless overridden gate by gate (--min-auc,
--max-baseline-regression, --gates...); `--no-gates` approves without any
check and must be asked for explicitly.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import click

from modelops_cli.registry import BadInput, registry_errors, registry_option

EXIT_REJECTED = 3


def parse_gates_option(
    gates_json: str | None,
    min_auc: float | None,
    max_regression: float | None,
    max_fairness_gap: float | None,
    min_top3_accuracy: float | None = None,
    max_baseline_regression: float | None = None,
) -> dict[str, Any] | None:
    """Merge --gates (JSON text or @file) with the shorthand flags; flags win."""
    gates: dict[str, Any] = {}
    if gates_json:
        text = gates_json
        if gates_json.startswith("@"):
            try:
                text = Path(gates_json[1:]).read_text()
            except OSError as exc:
                raise BadInput(f"--gates {gates_json}: {exc}") from exc
        try:
            gates = json.loads(text)
        except ValueError as exc:
            raise BadInput(f"--gates is not valid JSON: {exc}") from exc
        if not isinstance(gates, dict):
            raise BadInput('--gates must be a JSON object, e.g. \'{"minMetric": {"auc": 0.75}}\'')
    if min_auc is not None:
        gates.setdefault("minMetric", {})["auc"] = min_auc
    if min_top3_accuracy is not None:
        gates.setdefault("minMetric", {})["top3_accuracy"] = min_top3_accuracy
    if max_regression is not None:
        gates["maxRegression"] = max_regression
    if max_baseline_regression is not None:
        gates["maxBaselineRegression"] = max_baseline_regression
    if max_fairness_gap is not None:
        gates["maxFairnessGap"] = max_fairness_gap
    return gates or None


def model_params(model: str, n_estimators: int | None) -> Any:
    """The trainer's hyper-parameters from the model-specific flags (None = defaults)."""
    if n_estimators is None:
        return None
    if model != "churn":
        raise BadInput(f"--n-estimators applies to --model churn only, not {model}")
    from modelops_training import XGBParams

    return XGBParams(n_estimators=n_estimators)


def rejection_message(result: dict[str, Any]) -> str:
    """One stderr line naming every failed gate, its value, threshold and groups."""
    parts = []
    for name, gate in result["gates"].items():
        if gate["passed"]:
            continue
        text = f"{name} (value {gate['value']}, threshold {gate['threshold']}"
        detail = gate.get("detail") or {}
        if detail.get("groups"):
            text += f", {detail.get('metric')} between groups {' and '.join(detail['groups'])}"
            if detail.get("module"):
                text += f" for module {detail['module']}"
        parts.append(text + ")")
    return f"version {result['version']} published as REJECTED; failed gate(s): " + ", ".join(parts)


def gate_lines(result: dict[str, Any]) -> list[str]:
    """One stderr line per gate: what was required, what was measured, where it came from."""
    if not result["gates"]:
        return [
            f"modelops: version {result['version']} approved WITHOUT gates (--no-gates): "
            "nothing checked its quality"
        ]
    lines = []
    for name, gate in result["gates"].items():
        op = ">=" if name.startswith("minMetric.") else "<="
        origin = " (default)" if gate.get("default") else ""
        verdict = "passed" if gate["passed"] else "FAILED"
        lines.append(
            f"gate {name} {op} {gate['threshold']}{origin}: {verdict} (value {gate['value']})"
        )
    return lines


MODELS = ("churn", "learning-path")


def retraining_request(job: str | None) -> dict[str, Any] | None:
    """What the operator's Job said about this run (env set by the operator), or None."""
    if not job:
        return None
    drift: Any = None
    text = os.environ.get("MODELOPS_DRIFT_REPORT")
    if text:
        try:
            drift = json.loads(text)
        except ValueError:
            drift = None  # provenance only: a garbled report must not fail training
    request = {"job": job, "reason": os.environ.get("MODELOPS_RETRAIN_REASON"), "drift": drift}
    # The ModelDeployment's uid: the operator looks the candidate up by it and the Job.
    owner_uid = os.environ.get("MODELOPS_RETRAIN_OWNER_UID")
    if owner_uid:
        request["owner_uid"] = owner_uid
    # spec.monitoring.performance's measurement that started the Job (reason Performance).
    text = os.environ.get("MODELOPS_PERFORMANCE_REPORT")
    if text:
        with contextlib.suppress(ValueError):  # provenance only, as the drift report
            request["performance"] = json.loads(text)
    return request


@click.command()
@click.option(
    "--model",
    type=click.Choice(MODELS),
    default="churn",
    show_default=True,
    envvar="MODELOPS_MODEL",
    help="Model to train ($MODELOPS_MODEL).",
)
@click.option(
    "--data",
    "data_source",
    required=True,
    metavar="SOURCE",
    envvar="MODELOPS_TRAIN_DATA",
    help="A .csv / .parquet file, synthetic:N[:seed[:shift]] "
    "(learning-path: synthetic:N[:seed[:shift[:bias]]]), or inference-log:<model>[:window] "
    "($MODELOPS_TRAIN_DATA: a retraining Job of a ModelDeployment that monitors performance "
    "is offered its logged, labelled predictions).",
)
@registry_option
@click.option(
    "--base-version",
    default=None,
    metavar="V",
    envvar="MODELOPS_BASE_VERSION",
    help="Compare with this version (number, latest, @latest-approved) on the same held-out rows "
    "($MODELOPS_BASE_VERSION).",
)
@click.option(
    "--gates",
    "gates_json",
    default=None,
    metavar="JSON",
    envvar="MODELOPS_GATES",
    help="($MODELOPS_GATES) "
    + 'Gates as JSON or @file, e.g. \'{"minMetric": {"auc": 0.75}, "maxRegression": 0.01, '
    '"maxFairnessGap": 0.05}\'.',
)
@click.option("--min-auc", type=float, default=None, help="Shorthand for minMetric.auc.")
@click.option(
    "--min-top3-accuracy",
    type=float,
    default=None,
    help="Shorthand for minMetric.top3_accuracy (learning-path).",
)
@click.option("--max-regression", type=float, default=None, help="Shorthand for maxRegression.")
@click.option(
    "--max-baseline-regression",
    type=float,
    default=None,
    help="Shorthand for maxBaselineRegression: how far the primary metric may fall below the "
    "model's own simple baseline (default 0.01).",
)
@click.option("--max-fairness-gap", type=float, default=None, help="Shorthand for maxFairnessGap.")
@click.option(
    "--no-gates",
    is_flag=True,
    default=False,
    help="Approve without any gate, not even the defaults (cannot be combined with gate options).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--retraining-job",
    default=None,
    metavar="NAME",
    envvar="MODELOPS_RETRAIN_JOB",
    help="Name of the operator's retraining Job running this ($MODELOPS_RETRAIN_JOB); recorded in "
    "metadata.retraining with $MODELOPS_RETRAIN_REASON and $MODELOPS_DRIFT_REPORT.",
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(["auto", "table", "json"]),
    default="auto",
    show_default=True,
    help="table: a summary for people; json: one line for scripts; auto: table at a terminal.",
)
@click.option(
    "--n-estimators",
    type=click.IntRange(1, 5000),
    default=None,
    help="Boosting rounds (default 200).",
)
def train(
    model: str,
    data_source: str,
    registry_uri: str | None,
    base_version: str | None,
    gates_json: str | None,
    min_auc: float | None,
    min_top3_accuracy: float | None,
    max_regression: float | None,
    max_fairness_gap: float | None,
    max_baseline_regression: float | None,
    no_gates: bool,
    seed: int,
    retraining_job: str | None,
    output: str,
    n_estimators: int | None,
) -> None:
    """Train a model, evaluate it on held-out data, apply gates and publish it."""
    # xgboost's OpenMP pool fights other processes for the CPU; one thread is
    # faster on a shared machine (see FACTS.md). Must be set before import.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from modelops_training import TrainingInputError
    from modelops_training import train as run_training

    gates = parse_gates_option(
        gates_json,
        min_auc,
        max_regression,
        max_fairness_gap,
        min_top3_accuracy,
        max_baseline_regression,
    )
    if no_gates and gates:
        raise BadInput(
            "--no-gates cannot be combined with gates (--gates, $MODELOPS_GATES, --min-auc, "
            f"--max-regression, ...): got {json.dumps(gates, sort_keys=True)}"
        )
    params = model_params(model, n_estimators)
    table = output == "table" or (output == "auto" and click.get_text_stream("stdout").isatty())
    with registry_errors(), _progress(table, f"training {model} on {data_source}"):
        try:
            result = run_training(
                model=model,
                data=data_source,
                registry_uri=registry_uri,
                base_version=base_version,
                gates=gates,
                seed=seed,
                params=params,
                retraining=retraining_request(retraining_job),
                default_gates=not no_gates,
            )
        except TrainingInputError as exc:
            raise BadInput(str(exc)) from exc
    if table:
        from modelops_cli.train_view import print_summary

        print_summary(result)
    else:
        click.echo(json.dumps(result, separators=(",", ":")))
        for line in gate_lines(result):
            click.echo(line, err=True)
    if result["status"] != "approved":
        click.echo(rejection_message(result), err=True)
        raise SystemExit(EXIT_REJECTED)


def _progress(shown: bool, what: str) -> Any:
    """A spinner on stderr while training runs (only for a person at a terminal)."""
    import contextlib

    if not shown or not click.get_text_stream("stderr").isatty():
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(what + " ...")
