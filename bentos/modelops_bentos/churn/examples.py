"""A valid example record, shared by the CLI's sample curl, the README and tests."""

from __future__ import annotations

from typing import Any

SAMPLE_RECORD: dict[str, Any] = {
    "customer_id": "c-0001",
    "tenure_months": 4,
    "monthly_spend": 42.5,
    "total_spend": 180.0,
    "orders": 6,
    "support_tickets": 3,
    "plan": "basic",
    "region": "north",
}
