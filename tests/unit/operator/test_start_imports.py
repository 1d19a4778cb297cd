"""The operator's start-up imports stay light: numpy (0.3-0.7 s here) waits for drift.

Every operator start pays its imports before it answers liveness: a rolling update,
a crash restart, and the chaos tests' hundred kills. The drift and quality maths
need numpy, but only when a measurement is taken, so the modules the running
operator loads at start (runtime/main.py's imports) must not pull it in.
"""

from __future__ import annotations

import subprocess
import sys

START_MODULES = (
    "modelops_operator.runtime.main",
    "modelops_operator.runtime.leader",
    "modelops_operator.runtime.probe",
    "modelops_operator.runtime.resync",
    "modelops_operator.adapters.kube",
    "modelops_operator.reconcile.plan",
    "modelops_operator.runtime.handlers",
    "modelops_operator.runtime.engine",
    "modelops_operator.runtime.queue",
    "modelops_operator.runtime.requeue",
    "modelops_operator.providers",
)


def test_operator_start_does_not_import_numpy_pandas_or_pyarrow():
    code = (
        "import importlib, sys\n"
        f"for name in {START_MODULES!r}: importlib.import_module(name)\n"
        "print(' '.join(m for m in ('numpy', 'pandas', 'pyarrow') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"imported at operator start: {out.stdout.strip()}"
