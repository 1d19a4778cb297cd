"""Predicting with an XGBoost booster on float32 rows, without the wrapper's per-call work.

`Booster.inplace_predict` spends more CPU in Python than in XGBoost for a
request-sized input: it probes the input against pandas, polars, arrow and
cuDF, JSON-encodes its arguments and the array interface with `json.dumps`,
and wraps the output through two more array-interface round trips. Profiled
under load, that wrapper was ~60% of the predict time of a one-record request
(docs/serving-performance.md).

`DensePredictor` calls the same C function (`XGBoosterPredictFromDense`) with
the same arguments, encoded once, so its output is bit-for-bit the output of
`inplace_predict` (a unit test and the end-to-end parity test check it). It
only accepts what the service produces: a 2-D float32 array with the model's
number of columns.

It also hands XGBoost a *persistent* proxy DMatrix. Given none, XGBoost builds
a fresh one per call, and building one reads the cgroup CPU quota files
(`/sys/fs/cgroup/...`: three stats, two open/read/close) every time -- about a
third of a one-row predict's CPU on these machines (strace + a same-process
micro-benchmark: 184 -> 127 us). The proxy only carries the array of the call
in progress; one per thread, since concurrent calls must not share it.
"""

from __future__ import annotations

import ctypes
import math
import threading

import numpy as np
import xgboost as xgb
from xgboost.core import _LIB, _check_call, c_bst_ulong, make_jcargs


class DensePredictor:
    """`booster.inplace_predict(rows)` for float32 rows (output: float32, one value per row)."""

    def __init__(self, booster: xgb.Booster) -> None:
        self.booster = booster  # keeps the handle alive
        self.num_features = booster.num_features()
        # The arguments inplace_predict passes for a default call (value output,
        # all trees, NaN as missing), encoded once.
        self._args = make_jcargs(
            type=0,
            training=False,
            iteration_begin=0,
            iteration_end=0,
            missing=math.nan,
            strict_shape=False,
            cache_id=0,
        )
        self._proxies = threading.local()
        self._all_proxies: list[ctypes.c_void_p] = []
        self._lock = threading.Lock()

    def _proxy(self) -> ctypes.c_void_p:
        proxy = getattr(self._proxies, "handle", None)
        if proxy is None:
            proxy = ctypes.c_void_p()
            _check_call(_LIB.XGProxyDMatrixCreate(ctypes.byref(proxy)))
            self._proxies.handle = proxy
            with self._lock:
                self._all_proxies.append(proxy)
        return proxy

    def __del__(self) -> None:
        for proxy in getattr(self, "_all_proxies", ()):
            _LIB.XGDMatrixFree(proxy)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        if rows.dtype != np.float32 or rows.ndim != 2 or rows.shape[1] != self.num_features:
            raise ValueError(
                f"expected float32 rows of {self.num_features} columns, got {rows.dtype} "
                f"of shape {rows.shape}"
            )
        rows = np.ascontiguousarray(rows)
        if rows.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)
        interface = b'{"data": [%d, true], "shape": [%d, %d], "typestr": "<f4", "version": 3}' % (
            rows.ctypes.data,
            rows.shape[0],
            rows.shape[1],
        )
        shape = ctypes.POINTER(c_bst_ulong)()
        dims = c_bst_ulong()
        preds = ctypes.POINTER(ctypes.c_float)()
        _check_call(
            _LIB.XGBoosterPredictFromDense(
                self.booster.handle,
                interface,
                self._args,
                self._proxy(),
                ctypes.byref(shape),
                ctypes.byref(dims),
                ctypes.byref(preds),
            )
        )
        size = 1
        for i in range(dims.value):
            size *= shape[i]
        # The buffer belongs to the booster and is reused by its next call: copy it.
        return np.ctypeslib.as_array(preds, shape=(size,)).copy()
