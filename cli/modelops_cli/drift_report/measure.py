"""The operator's drift measurement, run offline on a data file.

Nothing here re-implements the maths. The pieces are the ones the running
system uses:

* the reference profile is read the way the operator reads it
  (`modelops_operator.adapters.registry.RegistryReader.profile`);
* features come from the model kind's own `compute` (modelops_features, as
  training and batch scoring derive them), and are counted into the
  profile's buckets by `modelops_features.profile.bucket_counts`, the rule the
  bentos' histograms follow (`le` buckets, unknown categories as __other__);
* the score is `modelops_features.drift.compare` with the spec's method and
  minSamples (what `modelops_operator.drift.counts.measure` runs once it has
  de-cumulated Prometheus' buckets), and the verdict and the Drifted
  condition are `modelops_operator.drift.verdict`'s.

The DriftSpec is parsed by the operator's `Spec`, so the CRD's defaults
(psi, 0.2, minSamples 1000) apply to any setting not given.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelops_features.drift import DriftReport, compare
from modelops_features.profile import bucket_counts
from modelops_operator.api.spec import Duration, Spec, SpecError
from modelops_operator.drift import verdict as verdicts

KINDS = ("churn", "learning-path")
READERS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class DriftInputError(ValueError):
    """Bad input (file, column, setting, registry entry); the message names it."""


@dataclass(frozen=True)
class FeatureDrift:
    """One profiled feature: its buckets, both distributions and its score."""

    name: str
    kind: str  # numeric | categorical
    profile: Mapping[str, Any]  # the feature's entry of the reference profile
    observed: list[int]  # counts of the data in the profile's buckets
    missing: int  # values of the data that were missing (NaN; not in any bucket)
    score: float
    drifts: bool  # score above the threshold (what makes the overall verdict Drifted)


@dataclass(frozen=True)
class Measurement:
    model: str
    version: str
    kind: str
    registry: str
    data: str
    rows: int
    settings: Any  # modelops_operator.api.spec.DriftSpec
    report: DriftReport
    verdict: str  # Drifted | NotDrifted | InsufficientData (verdict.py's names)
    condition: Any  # modelops_operator.api.conditions.Cond, as the operator would set it
    features: list[FeatureDrift]  # highest score first

    @property
    def drifted(self) -> list[str]:
        return [f.name for f in self.features if f.drifts]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "kind": self.kind,
            "registry": self.registry,
            "data": self.data,
            "rows": self.rows,
            "method": self.settings.method,
            "threshold": self.settings.threshold,
            "minSamples": self.settings.min_samples,
            "verdict": self.verdict,
            "score": self.report.score,
            "samples": self.report.samples,
            "insufficient": self.report.insufficient,
            "drifted": self.drifted,
            "condition": {
                "type": "Drifted",
                "status": self.condition.status,
                "reason": self.condition.reason,
                "message": self.condition.message,
            },
            "features": {
                f.name: {"kind": f.kind, "score": f.score, "drifts": f.drifts}
                for f in self.features
            },
        }


def drift_settings(method: str | None, threshold: float | None, min_samples: int | None) -> Any:
    """The DriftSpec the operator would read from spec.monitoring.drift with these fields."""
    raw = {"method": method, "threshold": threshold, "minSamples": min_samples}
    drift = {key: value for key, value in raw.items() if value is not None}
    try:
        return Spec({"monitoring": {"drift": drift}}).drift
    except SpecError as exc:
        raise DriftInputError(str(exc)) from exc


def kind_of(metadata: Mapping[str, Any], model: str, version: str) -> str:
    """churn or learning-path: the kind whose feature schema the version was trained with."""
    from modelops_features import churn, learning_path

    trained = (metadata.get("features") or {}).get("schema_hash")
    for kind, package in (("churn", churn), ("learning-path", learning_path)):
        if trained == package.FEATURE_SCHEMA.content_hash():
            return kind
    raise DriftInputError(
        f"model {model} version {version}: its feature schema ({trained or 'none recorded'}) is "
        f"neither of the known kinds ({', '.join(KINDS)}); give --kind if it was trained by "
        "this package's trainers"
    )


def read_data(path: Path) -> pd.DataFrame:
    """The rows of a .csv or .parquet file (DriftInputError naming --data otherwise)."""
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise DriftInputError(
            f"--data {path}: unknown file type {path.suffix or '(none)'!r}; "
            "give a .csv or .parquet file of raw records"
        )
    if not path.is_file():
        raise DriftInputError(f"--data {path}: no such file")
    try:
        frame = pd.read_parquet(path) if reader == "parquet" else pd.read_csv(path)
    except Exception as exc:  # pyarrow, the CSV parser, encodings: the file is bad input
        raise DriftInputError(f"--data {path}: cannot read it as {reader}: {exc}") from exc
    if frame.empty:
        raise DriftInputError(f"--data {path}: no rows")
    return frame


def features_of(kind: str, raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """The features the serving side would count, from raw records of model kind `kind`."""
    from modelops_features import churn, learning_path

    package = churn if kind == "churn" else learning_path
    missing = [name for name in package.RAW_SCHEMA.names if name not in raw.columns]
    if missing:
        # compute() reads an absent column as all-missing: that would report drift
        # that is only a wrong file, so the columns are required here.
        raise DriftInputError(
            f"--data {source}: raw column(s) of the {kind} model missing: {', '.join(missing)}"
        )
    return package.compute(raw)


def measure(
    profile: Mapping[str, Any],
    features: pd.DataFrame,
    settings: Any,
    *,
    window: str,
) -> tuple[DriftReport, str, Any, list[FeatureDrift]]:
    """(report, verdict, Drifted condition, per-feature rows) of `features` against `profile`."""
    references = profile.get("features") or {}
    observed: dict[str, np.ndarray] = {}
    missing: dict[str, int] = {}
    for name, reference in references.items():
        if name not in features.columns:
            continue
        column = features[name]
        observed[name] = bucket_counts(column, dict(reference))
        missing[name] = int(column.isna().sum())
    if not observed:
        raise DriftInputError(
            "the data has none of the profiled features: "
            f"{', '.join(sorted(references)) or '(the profile is empty)'}"
        )
    report = compare(profile, observed, method=settings.method, min_samples=settings.min_samples)
    # The condition's "in <window>" names what was measured: here the file, not a time window.
    named = dataclasses.replace(settings, window=Duration(window, 0.0))
    verdict = verdicts.verdict(report, settings)
    condition = verdicts.drifted_condition(verdict, report, named)
    rows = [
        FeatureDrift(
            name=name,
            kind=str(references[name].get("kind")),
            profile=references[name],
            observed=[int(c) for c in observed[name]],
            missing=missing[name],
            score=float(report.features[name]),
            drifts=report.features[name] > settings.threshold,
        )
        for name, _ in report.top(len(report.features))
    ]
    return report, verdict, condition, rows


def run(
    *,
    model: str,
    version: str,
    registry_uri: str | None,
    data: Path,
    settings: Any,
    kind: str | None = None,
) -> Measurement:
    """Resolve the version, read its profile and the data, and measure."""
    from modelops_operator.adapters.registry import ProfileNotAvailable, RegistryReader
    from modelops_registry import Registry

    registry = Registry.from_uri(registry_uri)
    resolved = registry.resolve(model, version)
    metadata = registry.metadata(model, resolved)
    try:
        profile = RegistryReader().profile(registry.uri, model, resolved)
    except ProfileNotAvailable as exc:
        raise DriftInputError(str(exc)) from exc
    kind = kind or kind_of(metadata, model, resolved)
    raw = read_data(data)
    features = features_of(kind, raw, str(data))
    report, verdict, condition, rows = measure(profile, features, settings, window=data.name)
    return Measurement(
        model=model,
        version=resolved,
        kind=kind,
        registry=registry.uri,
        data=str(data),
        rows=len(raw),
        settings=settings,
        report=report,
        verdict=verdict,
        condition=condition,
        features=rows,
    )
