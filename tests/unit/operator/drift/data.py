"""The reference profile and drift spec the drift unit tests share."""

from __future__ import annotations

PROFILE = {
    "version": 1,
    "samples": 1000,
    "features": {
        "tenure": {
            "kind": "numeric",
            "edges": [1.0, 5.0, 10.0],
            "proportions": [0.25, 0.25, 0.25, 0.25],
            "missing_rate": 0.0,
        },
        "plan": {
            "kind": "categorical",
            "categories": ["basic", "premium", "__other__"],
            "proportions": [0.5, 0.5, 0.0],
            "missing_rate": 0.0,
        },
    },
    "prediction": {
        "kind": "numeric",
        "edges": [0.5],
        "proportions": [0.5, 0.5],
        "missing_rate": 0.0,
    },
}

SPEC = {
    "monitoring": {
        "drift": {
            "method": "psi",
            "threshold": 0.2,
            "window": "1h",
            "minSamples": 100,
            "interval": "5m",
        }
    }
}
