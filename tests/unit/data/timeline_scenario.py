"""What make_demo_timeline.py records: the demo's spec, clock, load, fault and shift,
and the parts computed for real: the model versions (trained into a temporary
registry by modelops_training) and the drift windows (scored by
modelops_features.drift against the training profile).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from modelops_features import synthetic
from modelops_features.churn import contract, readers
from modelops_features.drift import compare
from modelops_features.profile import bucket_counts, build_profile
from modelops_operator.api.spec import Spec
from modelops_operator.retraining.job import job_name
from modelops_registry import Registry
from modelops_training.pipeline import train

START = dt.datetime(2026, 12, 7, 10, 14, 3, tzinfo=dt.UTC)
SEED = 7
RATE = 20.0  # requests per second from the load generator
SCRAPE_LAG = 5.0  # Prometheus is this far behind
FAULT_RATE = 0.3  # v3 answers this share of requests with HTTP 500
SHIFT = 1.0  # synthetic covariate shift of the drifted traffic
IMAGE = "modelops/churn-bento:0.1.0"
SPEC: dict[str, Any] = {
    "model": {"name": "churn", "version": "@latest-approved"},
    "image": IMAGE,
    "registry": {"uri": "file:///var/lib/modelops/registry"},
    "replicas": 4,
    "rollout": {
        "strategy": "Canary",
        "steps": [25, 50, 75],
        "interval": "30s",
        "trafficRouter": {"type": "ReplicaRatio"},
        "analysis": {
            "prometheus": {"address": "http://prometheus.monitoring:9090"},
            "minRequests": 100,
            "failureLimit": 2,
            "metrics": [
                {"name": "error-rate", "max": 0.01},
                {"name": "latency-p99", "max": 0.25},
            ],
        },
    },
    "monitoring": {
        "drift": {
            "method": "psi",
            "threshold": 0.2,
            "window": "2m",
            "minSamples": 600,
            "interval": "15s",
        }
    },
    "retraining": {
        "jobTemplate": {"spec": {}},
        "cooldown": "1h",
        "maxAttempts": 3,
        "gates": {"minMetric": {"auc": 0.75}, "maxRegression": 0.01, "maxFairnessGap": 0.08},
    },
}
TYPED = Spec(SPEC)
ROLLOUT = TYPED.rollout
INTERVAL = ROLLOUT.interval.seconds
STEPS = list(ROLLOUT.steps)
DRIFT = TYPED.drift
CHECKS, FAILURE_LIMIT = TYPED.analysis.metrics, TYPED.analysis.failure_limit
DEMO_UID = "5d1f0c2e-8a7b-4c3d-9e1f-2a3b4c5d6e7f"  # the demo ModelDeployment's uid
JOB = job_name("churn", DEMO_UID, "2", 1)
# How each version the demo publishes is trained: (data, base version).
RECIPES = {"1": ("synthetic:20000:1", None), "2": ("synthetic:40000:2", "1")}
RECIPES["3"] = ("synthetic:40000:3", "2")


def clock(t: float) -> dt.datetime:
    return START + dt.timedelta(seconds=round(t))


def stamp(t: float) -> str:
    return clock(t).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- model versions and drift, computed for real -------------------------------------------


class Trainer:
    """A temporary registry the versions are really trained into, in publishing order."""

    def __init__(self, root: str) -> None:
        self.uri = f"file://{root}"

    def publish(self, version: str, t: float, data: str, base: str | None, **extra: Any) -> dict:
        result = train(
            model="churn",
            data=data,
            registry_uri=self.uri,
            base_version=base,
            gates=SPEC["retraining"]["gates"],
            seed=SEED,
            **extra,
        )
        if result["version"] != version:
            raise RuntimeError(f"the registry numbered it {result['version']}, not {version}")
        meta = dict(Registry.from_uri(self.uri).metadata("churn", version))
        meta.pop("profile", None)  # the report does not use it; keeps the sample small
        meta["created_at"] = stamp(t)  # the run's clock, not today's
        return meta


class DriftModel:
    """Drift windows holding a share of shifted traffic, scored against the training profile."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng(SEED)
        reference = readers.compute(synthetic.churn(20000, seed=2))
        self.profile = build_profile(reference, contract.FEATURE_SCHEMA, None)
        features = self.profile["features"]
        plain = readers.compute(synthetic.churn(5000, seed=11))
        shifted = readers.compute(synthetic.churn(5000, seed=12, shift=SHIFT))
        self.plain = {f: _share(bucket_counts(plain[f], features[f])) for f in features}
        self.shifted = {f: _share(bucket_counts(shifted[f], features[f])) for f in features}

    def measure(self, share: float, samples: int, retrained: bool):
        observed = {}
        for f, reference in self.profile["features"].items():
            if retrained:
                # Once the retrained model is stable, drift is measured against its
                # own profile, built from data like the live traffic: noise only.
                p = np.asarray(reference["proportions"], dtype=float)
            else:
                p = (1 - share) * self.plain[f] + share * self.shifted[f]
            observed[f] = self.rng.multinomial(samples, p / p.sum())
        return compare(self.profile, observed, DRIFT.method, DRIFT.min_samples)


def _share(counts: Any) -> np.ndarray:
    counts = np.asarray(counts, dtype=float)
    return counts / counts.sum()
