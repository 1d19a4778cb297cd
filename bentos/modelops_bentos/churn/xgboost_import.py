"""Importing XGBoost in a serving process without its scikit-learn wrapper.

`import xgboost` runs the package's __init__, which imports its scikit-learn
wrapper, which imports scikit-learn (and through it scipy's extras, pandas and
pyarrow) whenever they are installed: about 130 MB in every process that only
calls `Booster.inplace_predict` on numpy arrays. The bento images do not
install scikit-learn, so they never pay it; a development environment (the
workspace's .venv, where training needs scikit-learn) does, and then
`modelops serve`, the benchmarks and the serving tests would measure a process
larger than the one that runs in the cluster.

With MODELOPS_XGBOOST_WITHOUT_SKLEARN=1 (set by `modelops_bentos.launch`, so
by `modelops serve`, the demo's local runs, the benchmarks and the serving
tests), XGBoost is imported with scikit-learn hidden, exactly
as if it were not installed: XGBoost's own fallback for that case. Hiding is
skipped when scikit-learn or XGBoost is already imported (a test session, a
notebook), so a process that trains is never given a crippled XGBClassifier.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

ENV = "MODELOPS_XGBOOST_WITHOUT_SKLEARN"


def import_xgboost() -> ModuleType:
    """The xgboost module, imported without scikit-learn when the environment asks for it."""
    if os.environ.get(ENV) != "1" or "xgboost" in sys.modules or "sklearn" in sys.modules:
        import xgboost

        return xgboost
    # A None entry makes `import sklearn` raise ImportError, which XGBoost's
    # compat module catches (SKLEARN_INSTALLED = False).
    sys.modules["sklearn"] = None  # type: ignore[assignment]
    try:
        import xgboost
    finally:
        if sys.modules.get("sklearn", ...) is None:
            del sys.modules["sklearn"]
    return xgboost
