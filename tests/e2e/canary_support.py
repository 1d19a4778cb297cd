"""Real parts for the canary end-to-end tests: Prometheus, two churn servers, load.

Moved to modelops_testkit (testkit/), which the benchmarks share: the
Prometheus launcher (modelops_testkit.prometheus) and the load generator and
weight watcher (modelops_testkit.traffic). Kept for existing imports.
"""

from modelops_testkit.prometheus import prometheus  # noqa: F401  kept for existing imports
from modelops_testkit.traffic import (
    LoadGenerator,  # noqa: F401  kept for existing imports
    WeightWatcher,  # noqa: F401  kept for existing imports
)
