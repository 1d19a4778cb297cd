"""The churn model's raw contract and feature schema: names, types, ranges, categories.

This is what a client sends (`RAW_SCHEMA`), what the features are
(`FEATURE_SCHEMA`, whose content hash the registry stores with every model) and
the constants the definitions use. Data only: the computations are in
`definitions`, the readers of raw input in `readers`, the model matrix in `encoding`.
"""

from __future__ import annotations

import numpy as np

from modelops_features.arrays import OTHER
from modelops_features.schema import Field, Schema

PLANS: tuple[str, ...] = ("basic", "standard", "premium")
REGIONS: tuple[str, ...] = ("north", "south", "east", "west")
TENURE_BUCKETS: tuple[str, ...] = ("0-6", "6-12", "12-24", "24+")
# Upper-exclusive month edges of TENURE_BUCKETS: [0, 6), [6, 12), [12, 24), [24, inf).
TENURE_BUCKET_EDGES = np.array([6.0, 12.0, 24.0])
NEW_CUSTOMER_MONTHS = 3.0

TARGET = "churned"
ID_COLUMN = "customer_id"
SEGMENT_COLUMNS = ("plan", "region")

RAW_NUMERIC: tuple[str, ...] = (
    "tenure_months",
    "monthly_spend",
    "total_spend",
    "orders",
    "support_tickets",
)
RAW_CATEGORICAL: dict[str, tuple[str, ...]] = {"plan": PLANS, "region": REGIONS}

RAW_SCHEMA = Schema(
    name="churn_raw",
    fields=(
        Field("tenure_months", "int", min=0, max=600, description="Whole months as a customer."),
        Field("monthly_spend", "float", min=0, max=100_000, description="Spend in the last month."),
        Field(
            "total_spend",
            "float",
            min=0,
            max=10_000_000,
            nullable=True,
            description="Lifetime spend; missing for accounts migrated without history.",
        ),
        Field("orders", "int", min=0, max=100_000, description="Lifetime number of orders."),
        Field(
            "support_tickets",
            "int",
            min=0,
            max=10_000,
            nullable=True,
            description="Lifetime support tickets; missing when the help desk has no record.",
        ),
        Field("plan", "category", categories=PLANS, description="Subscription plan."),
        Field("region", "category", categories=REGIONS, description="Sales region."),
    ),
)

# The derived numeric features, in model column order after the raw pass-throughs.
DERIVED_NUMERIC: tuple[str, ...] = (
    "avg_order_value",
    "spend_per_tenure_month",
    "spend_ratio",
    "tickets_per_month",
    "tickets_per_order",
    "is_new_customer",
)
NUMERIC_FEATURES: tuple[str, ...] = RAW_NUMERIC + DERIVED_NUMERIC
CATEGORICAL_FEATURES: dict[str, tuple[str, ...]] = {
    "tenure_bucket": TENURE_BUCKETS,
    "plan": PLANS,
    "region": REGIONS,
}

FEATURE_SCHEMA = Schema(
    name="churn_features",
    fields=(
        Field("tenure_months", "float", min=0, nullable=True, description="Raw, passed through."),
        Field("monthly_spend", "float", min=0, nullable=True, description="Raw, passed through."),
        Field("total_spend", "float", min=0, nullable=True, description="Raw, passed through."),
        Field("orders", "float", min=0, nullable=True, description="Raw, passed through."),
        Field("support_tickets", "float", min=0, nullable=True, description="Raw, passed through."),
        Field(
            "avg_order_value",
            "float",
            min=0,
            nullable=True,
            description="total_spend / orders; 0 when orders == 0.",
        ),
        Field(
            "spend_per_tenure_month",
            "float",
            min=0,
            nullable=True,
            description="total_spend / max(tenure_months, 1).",
        ),
        Field(
            "spend_ratio",
            "float",
            min=0,
            nullable=True,
            description="monthly_spend / spend_per_tenure_month; 0 when the average is 0. "
            "Below 1: the customer spends less now than on average (a churn signal).",
        ),
        Field(
            "tickets_per_month",
            "float",
            min=0,
            nullable=True,
            description="support_tickets / max(tenure_months, 1).",
        ),
        Field(
            "tickets_per_order",
            "float",
            min=0,
            nullable=True,
            description="support_tickets / orders; 0 when orders == 0.",
        ),
        Field(
            "is_new_customer",
            "int",
            min=0,
            max=1,
            nullable=True,
            description=f"1 when 0 <= tenure_months < {NEW_CUSTOMER_MONTHS:g}, 0 when above; "
            "missing when tenure is missing, negative or infinite.",
        ),
        Field(
            "tenure_bucket",
            "category",
            categories=(*TENURE_BUCKETS, OTHER),
            description="Tenure band [0,6) [6,12) [12,24) [24,inf); __other__ when tenure "
            "is missing, negative or infinite.",
        ),
        Field(
            "plan",
            "category",
            categories=(*PLANS, OTHER),
            description="Raw plan; __other__ when missing or unknown.",
        ),
        Field(
            "region",
            "category",
            categories=(*REGIONS, OTHER),
            description="Raw region; __other__ when missing or unknown.",
        ),
    ),
)
FEATURE_NAMES: list[str] = FEATURE_SCHEMA.names
