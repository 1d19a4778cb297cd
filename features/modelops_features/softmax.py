"""A multinomial linear scorer stored as plain JSON parameters and run with numpy.

Why not a pickled scikit-learn estimator: loading a pickle runs code chosen by
whoever wrote the file, so a registry that can be written to would become a way
to run code in every serving pod. The learning-path model is a multinomial
logistic regression; everything it needs to score is a few arrays (the
standardisation centre and scale, one weight row and one intercept per
module), which JSON holds exactly (floats are written with their shortest
round-trip repr). Loading parses numbers, checks shapes and finiteness, and
can execute nothing.

Training fits scikit-learn on the *output of `standardize`* and then evaluates
with `proba` of the exported parameters, so the metrics in the registry are
those of exactly the code the service runs. The module lives in features/
(numpy only) because training and serving must both import it and may not
import each other.

Scoring rule, per row x:
    z = (x - center) / scale, NaN -> 0 (the training mean), clipped to +/- clip
    logits = z @ coef.T + intercept ;  proba = softmax(logits)
Clipping bounds the influence of one extreme (but valid) input on the scores.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

FORMAT = "modelops-softmax-linear/1"
DEFAULT_CLIP = 8.0


class ModelFormatError(ValueError):
    """The parameters file is not a valid softmax-linear model (message says why)."""


@dataclass(frozen=True)
class SoftmaxLinear:
    classes: tuple[str, ...]
    columns: tuple[str, ...]
    center: np.ndarray  # (F,)
    scale: np.ndarray  # (F,), > 0
    coef: np.ndarray  # (C, F)
    intercept: np.ndarray  # (C,)
    clip: float = DEFAULT_CLIP

    def __post_init__(self) -> None:
        c, f = len(self.classes), len(self.columns)
        shapes = {
            "center": (self.center, (f,)),
            "scale": (self.scale, (f,)),
            "coef": (self.coef, (c, f)),
            "intercept": (self.intercept, (c,)),
        }
        for name, (array, shape) in shapes.items():
            if np.shape(array) != shape:
                raise ModelFormatError(f"{name} has shape {np.shape(array)}, expected {shape}")
            if not np.all(np.isfinite(array)):
                raise ModelFormatError(f"{name} holds non-finite values")
        if np.any(self.scale <= 0):
            raise ModelFormatError("scale must be > 0 everywhere")
        if len(set(self.classes)) != c or c < 2:
            raise ModelFormatError(f"classes must be >= 2 distinct names, got {self.classes}")
        if not (math.isfinite(self.clip) and self.clip > 0):
            raise ModelFormatError(f"clip must be a finite number > 0, got {self.clip}")

    @staticmethod
    def fit_standardization(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Centre (mean of finite values) and scale (their std, 1 when constant or empty)."""
        finite = np.where(np.isfinite(x), x, np.nan)
        counts = np.sum(~np.isnan(finite), axis=0)
        center = np.zeros(x.shape[1])
        scale = np.ones(x.shape[1])
        has = counts > 0
        center[has] = np.nanmean(finite[:, has], axis=0)
        std = np.zeros(x.shape[1])
        std[has] = np.nanstd(finite[:, has], axis=0)
        scale[std > 1e-12] = std[std > 1e-12]
        return center, scale

    def standardize(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore"):
            z = (np.asarray(x, dtype=np.float64) - self.center) / self.scale
        # NaN (missing) sits at the training mean; +/-inf and huge values clip.
        z = np.where(np.isnan(z), 0.0, z)
        return np.clip(z, -self.clip, self.clip)

    def logits(self, x: np.ndarray) -> np.ndarray:
        return self.standardize(x) @ self.coef.T + self.intercept

    def proba(self, x: np.ndarray) -> np.ndarray:
        """(n, C) class probabilities; each row sums to 1."""
        logits = self.logits(x)
        logits = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)

    # -- storage ---------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "classes": list(self.classes),
            "columns": list(self.columns),
            "center": self.center.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
            "clip": self.clip,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, allow_nan=False).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes | str) -> SoftmaxLinear:
        try:
            d = json.loads(raw)
        except ValueError as exc:
            raise ModelFormatError(f"not JSON: {exc}") from exc
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            got = d.get("format") if isinstance(d, dict) else type(d).__name__
            raise ModelFormatError(f"format must be {FORMAT!r}, got {got!r}")
        try:
            return cls(
                classes=tuple(str(c) for c in d["classes"]),
                columns=tuple(str(c) for c in d["columns"]),
                center=_array(d, "center", 1),
                scale=_array(d, "scale", 1),
                coef=_array(d, "coef", 2),
                intercept=_array(d, "intercept", 1),
                clip=float(d.get("clip", DEFAULT_CLIP)),
            )
        except KeyError as exc:
            raise ModelFormatError(f"missing key {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            if isinstance(exc, ModelFormatError):
                raise
            raise ModelFormatError(str(exc)) from exc


def _array(d: dict[str, Any], key: str, ndim: int) -> np.ndarray:
    try:
        array = np.asarray(d[key], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(f"{key}: not an array of numbers ({exc})") from None
    if array.ndim != ndim:
        raise ModelFormatError(f"{key}: expected a {ndim}-D array, got {array.ndim}-D")
    return array
