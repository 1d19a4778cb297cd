"""A seeded synthetic churn data set, optionally shifted to exercise drift detection.

The generator draws customers with plausible ranges (tenure in months, spend in
currency units, Poisson orders and tickets), then a churn label from a logistic
model of what a model can observe (short tenure, many tickets per month, falling
spend, few orders) plus hidden noise, so a good model reaches an AUC near 0.8 but
not 1.0. Plan and region move churn only slightly, so the fairness gap across
segments stays modest.

`shift` moves the inputs, not the relationship (covariate shift): longer tenure,
higher spend, more tickets and a region mix leaning west. At shift=1.0 several
features have PSI well above 0.2 against unshifted data.

`concept` moves the relationship, not the inputs (concept shift): the same
customers (the very same draws, so input and prediction drift stay at zero)
churn for other reasons. In the shifted world support tickets no longer drive
churn (the help desk got better), falling spend no longer signals leaving but
rising spend does (customers consolidating elsewhere), and long tenure raises
churn (a competitor courts loyal customers). The churn logit is the mix
(1 - concept) * old + concept * new, with about the same churn rate: at
concept=1 a model trained on unshifted data ranks customers worse than chance
(AUC about 0.27) while a model retrained on the new labels reaches about 0.8.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from modelops_features.churn import ID_COLUMN, PLANS, REGIONS, TARGET
from modelops_features.sources import check_shift, synthetic_fields

PLAN_WEIGHTS = np.array([0.5, 0.35, 0.15])
PLAN_BASE_SPEND = np.array([25.0, 55.0, 120.0])
# Small segment effects on the churn logit: enough to be real, small enough that
# a fair model's per-segment quality differs only a little.
PLAN_CHURN_EFFECT = np.array([0.15, 0.0, -0.15])
REGION_WEIGHTS = np.array([0.3, 0.25, 0.25, 0.2])
REGION_SHIFTED_WEIGHTS = np.array([0.15, 0.15, 0.2, 0.5])
REGION_CHURN_EFFECT = np.array([0.0, 0.1, -0.05, 0.05])
MISSING_RATE = 0.02
# The concept-shifted world's churn logit (see the module docstring): intercept,
# log1p(tenure), ticket rate, spend trend, log1p(order rate).
NEW_WORLD = (-3.2, 0.5, 0.0, 4.5, 0.8)


def churn(n: int, seed: int = 0, shift: float = 0.0, concept: float = 0.0) -> pd.DataFrame:
    """`n` customers: the raw columns, customer_id and the 0/1 label "churned".

    The same (n, seed, shift, concept) always gives the same frame, and
    `concept` changes only the label column.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if shift < 0:
        raise ValueError(f"shift must be >= 0, got {shift}")
    if not 0.0 <= concept <= 1.0:
        raise ValueError(f"concept must be within 0..1, got {concept}")
    rng = np.random.default_rng(seed)

    plan_idx = rng.choice(len(PLANS), size=n, p=PLAN_WEIGHTS)
    region_p = (1 - min(shift, 1.0)) * REGION_WEIGHTS + min(shift, 1.0) * REGION_SHIFTED_WEIGHTS
    region_idx = rng.choice(len(REGIONS), size=n, p=region_p)

    tenure = np.minimum(np.floor(rng.gamma(1.4, 14.0 * (1 + shift), size=n)), 600)
    monthly = PLAN_BASE_SPEND[plan_idx] * rng.lognormal(0.0, 0.35, size=n) * (1 + 0.6 * shift)
    monthly = np.round(monthly, 2)
    # trend > 0: spending more now than on average; < 0: falling spend.
    trend = rng.normal(0.0, 0.3, size=n)
    months = np.maximum(tenure, 1.0)
    total = np.round(monthly * months * np.exp(-trend) * rng.lognormal(0.0, 0.1, size=n), 2)
    order_rate = rng.gamma(2.0, 0.6, size=n)
    orders = rng.poisson(order_rate * months)
    ticket_rate = rng.gamma(1.5, 0.08 * (1 + 1.5 * shift), size=n)
    tickets = rng.poisson(ticket_rate * months).astype(np.float64)

    segments = PLAN_CHURN_EFFECT[plan_idx] + REGION_CHURN_EFFECT[region_idx]
    hidden = rng.normal(0.0, 0.3, size=n)  # what no feature can see
    logit = (
        -0.3
        - 0.9 * np.log1p(tenure)
        + 12.0 * ticket_rate
        - 4.5 * trend
        - 0.5 * np.log1p(order_rate)
        + segments
        + hidden
    )
    if concept:
        b0, b_tenure, b_tickets, b_trend, b_orders = NEW_WORLD
        new = (
            b0
            + b_tenure * np.log1p(tenure)
            + b_tickets * ticket_rate
            + b_trend * trend
            + b_orders * np.log1p(order_rate)
            + segments
            + hidden
        )
        logit = (1.0 - concept) * logit + concept * new
    churned = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)

    # Nullable raw fields are sometimes missing, as in real extracts.
    total = np.where(rng.random(n) < MISSING_RATE, np.nan, total)
    tickets = np.where(rng.random(n) < MISSING_RATE, np.nan, tickets)

    return pd.DataFrame(
        {
            ID_COLUMN: [f"c{seed}-{i:07d}" for i in range(n)],
            "tenure_months": tenure.astype(np.int64),
            "monthly_spend": monthly,
            "total_spend": total,
            "orders": orders.astype(np.int64),
            "support_tickets": pd.array(tickets, dtype="Int64"),
            "plan": np.asarray(PLANS, dtype=object)[plan_idx],
            "region": np.asarray(REGIONS, dtype=object)[region_idx],
            TARGET: churned,
        }
    )


class SyntheticSource(NamedTuple):
    """A parsed "synthetic:N[:seed[:shift[:concept]]]" data source."""

    n: int
    seed: int = 0
    shift: float = 0.0
    concept: float = 0.0

    @property
    def name(self) -> str:
        """Canonical spelling, usable as a data set name in model metadata."""
        base = f"synthetic:{self.n}:{self.seed}:{self.shift:g}"
        return f"{base}:{self.concept:g}" if self.concept else base

    def generate(self) -> pd.DataFrame:
        return churn(self.n, self.seed, self.shift, self.concept)


def parse_source(source: str) -> SyntheticSource | None:
    """Parse "synthetic:N[:seed[:shift[:concept]]]"; None for any other source (a file path).

    Raises ValueError naming the bad part when the synthetic spelling is malformed.
    """
    values = synthetic_fields(
        source, (("N", int), ("seed", int), ("shift", float), ("concept", float))
    )
    if values is None:
        return None
    spec = SyntheticSource(*values)  # type: ignore[arg-type]
    check_shift(source, spec.shift)
    if not 0.0 <= spec.concept <= 1.0:
        raise ValueError(f"bad data source {source!r}: concept must be within 0..1")
    return spec
