"""Moved to modelops_testkit.prometheus and modelops_testkit.net (testkit/), which
the benchmarks share. Kept for existing imports (branches started before the move)."""

from modelops_testkit.net import free_port, http_open  # noqa: F401  kept for existing imports
from modelops_testkit.prometheus import (
    PROMETHEUS,  # noqa: F401  kept for existing imports
    PrometheusServer,  # noqa: F401  kept for existing imports
    prometheus,  # noqa: F401  kept for existing imports
    scrape_config,  # noqa: F401  kept for existing imports
)
