"""A deterministic train / held-out split.

With a customer_id column, a row is held out when the sha256 of its id falls
in the lowest HOLDOUT_FRACTION of the hash space. The split then depends on
the customer alone, not on the seed, the row order or the other rows: a
customer held out today is held out in every retraining, so a base model and
its candidate are compared on customers neither was trained on (when the base
was trained on a data set with overlapping ids), and duplicated rows of one
customer never straddle the split. Without ids, a permutation seeded by
--seed is used.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

import numpy as np
import pandas as pd

from modelops_features.churn import ID_COLUMN, TARGET
from modelops_training.errors import TrainingInputError

HOLDOUT_FRACTION = 0.2
_HASH_SPACE = 2**64


class Split(NamedTuple):
    train: np.ndarray  # boolean mask over the rows
    holdout: np.ndarray
    method: str  # "customer_id_hash" | "seeded_permutation"


def holdout_mask_by_id(ids: pd.Series, fraction: float = HOLDOUT_FRACTION) -> np.ndarray:
    threshold = int(fraction * _HASH_SPACE)
    return np.fromiter(
        (
            int.from_bytes(hashlib.sha256(str(i).encode()).digest()[:8], "big") < threshold
            for i in ids
        ),
        dtype=bool,
        count=len(ids),
    )


def holdout_mask_by_seed(n: int, seed: int, fraction: float = HOLDOUT_FRACTION) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(seed).permutation(n)[: round(fraction * n)]] = True
    return mask


def split(frame: pd.DataFrame, seed: int) -> Split:
    if ID_COLUMN in frame.columns and frame[ID_COLUMN].notna().all():
        holdout, method = holdout_mask_by_id(frame[ID_COLUMN]), "customer_id_hash"
    else:
        holdout, method = holdout_mask_by_seed(len(frame), seed), "seeded_permutation"
    result = Split(~holdout, holdout, method)
    labels = frame[TARGET].to_numpy()
    for part, mask in (("training", result.train), ("held-out", result.holdout)):
        if len(set(labels[mask].tolist())) < 2:
            raise TrainingInputError(
                f"the {part} split ({int(mask.sum())} rows) does not hold both classes of "
                f"{TARGET!r}; provide more data"
            )
    return result
