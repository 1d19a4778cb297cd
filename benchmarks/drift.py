"""Drift benchmark (not a test): modelops vs Evidently vs NannyML offline, and the online check.

    .venv/bin/python benchmarks/drift.py [--rows 1000000] [--features 20] [--skip-peers]
    .venv/bin/python benchmarks/drift.py --smoke    # 2,000 rows x 4 features, peers included (CI)

Offline: a reference and a current sample of `--rows` rows x `--features`
numeric features (half of them shifted by one standard deviation, half not),
saved as .npy. Each tool runs in its own fresh process on the same files and
reports its wall time (data loading and the DataFrame it reads excluded, the
same for every tool), its peak RSS, and its per-feature verdicts. "fit" is the one-off reference work (modelops: the
profile, built once at training time and stored in the registry; NannyML:
fit()), "check" the comparison of a current sample (bucket_counts + compare;
calculate()); Evidently has no separate fit:

* modelops: `build_profile`-style quantile edges (10 buckets) on the reference,
  `bucket_counts` on the current sample, `compare(method="psi")`, drifted when
  PSI > 0.2 (and, for the NannyML comparison, `compare(method="js")` > 0.1).
* Evidently (legacy Report + DataDriftPreset, stattest psi, threshold 0.2:
  the same statistic and rule, so verdicts are comparable).
* NannyML (UnivariateDriftCalculator, Jensen-Shannon, one chunk, a constant
  threshold 0.1).

The peers run in bench-only venvs (drift-evidently with pandas<3,
drift-nannyml), never in the product venv: the script creates them on first
use and caches them under ~/.cache/modelops/bench-envs/<name>-<hash of the
pins>/ (benchmarks/peers/envs.py, shared with serving.py).

Online: the operator's drift measurement (three Prometheus queries over HTTP,
de-cumulation, PSI) against a local HTTP server answering like Prometheus with
the bucket counts of 1 and of 1,000,000 requests in the window: the answer has
the same number of series either way, so the time must be flat.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")

import numpy as np

HERE = Path(__file__).resolve().parent
# tool -> its bench environment in benchmarks/peers/envs.py
PEERS = {"evidently": "drift-evidently", "nannyml": "drift-nannyml"}

COMMON = textwrap.dedent(
    """
    import json, resource, sys, time
    import numpy as np
    ref = np.load(sys.argv[1]); cur = np.load(sys.argv[2])
    names = [f"f{i:02d}" for i in range(ref.shape[1])]
    def rss_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    loaded = rss_mb()
    """
)

MODELOPS = COMMON + textwrap.dedent(
    """
    import pandas as pd
    from modelops_features.drift import compare
    from modelops_features.profile import bucket_counts, numeric_profile
    # The same input the peers get, built before the clock starts as theirs is: a
    # DataFrame, whose columns are contiguous (a column of the 2-D .npy array is
    # strided, and gathering it cost ~20 ms per 1M-row column). It is also what
    # build_profile reads at training time.
    rdf = pd.DataFrame(ref, columns=names); cdf = pd.DataFrame(cur, columns=names)
    loaded = rss_mb()
    t0 = time.perf_counter()
    profile = {"features": {n: numeric_profile(rdf[n], 10) for n in names}}
    t1 = time.perf_counter()
    observed = {n: bucket_counts(cdf[n], profile["features"][n]) for n in names}
    psi = compare(profile, observed, method="psi")
    js = compare(profile, observed, method="js")
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "peak_mb": rss_mb(), "loaded_mb": loaded,
        "fit_seconds": t1 - t0, "check_seconds": time.perf_counter() - t1,
        "verdicts": {n: psi.features[n] > 0.2 for n in names},
        "js_verdicts": {n: js.features[n] > 0.1 for n in names},
        "scores": psi.features}))
    """
)

EVIDENTLY = COMMON + textwrap.dedent(
    """
    import pandas as pd
    from evidently.legacy.metric_preset import DataDriftPreset
    from evidently.legacy.report import Report
    from evidently.legacy.pipeline.column_mapping import ColumnMapping
    rdf = pd.DataFrame(ref, columns=names); cdf = pd.DataFrame(cur, columns=names)
    loaded = rss_mb()
    t0 = time.perf_counter()
    report = Report(metrics=[DataDriftPreset(stattest="psi", stattest_threshold=0.2)])
    report.run(reference_data=rdf, current_data=cdf,
               column_mapping=ColumnMapping(numerical_features=names))
    result = report.as_dict()
    seconds = time.perf_counter() - t0
    by_col = next(m["result"]["drift_by_columns"] for m in result["metrics"]
                  if "drift_by_columns" in m["result"])
    print(json.dumps({"seconds": seconds, "peak_mb": rss_mb(), "loaded_mb": loaded,
        "verdicts": {n: bool(by_col[n]["drift_detected"]) for n in names},
        "scores": {n: float(by_col[n]["drift_score"]) for n in names}}))
    """
)

NANNYML = COMMON + textwrap.dedent(
    """
    import pandas as pd
    import nannyml as nml
    rdf = pd.DataFrame(ref, columns=names); cdf = pd.DataFrame(cur, columns=names)
    loaded = rss_mb()
    t0 = time.perf_counter()
    # One chunk has no spread to derive NannyML's default (standard-deviation)
    # threshold from, so the constant 0.1 is given explicitly.
    from nannyml.thresholds import ConstantThreshold
    calc = nml.UnivariateDriftCalculator(column_names=names, continuous_methods=["jensen_shannon"],
                                         chunk_number=1,
                                         thresholds={"jensen_shannon": ConstantThreshold(upper=0.1)})
    calc.fit(rdf)
    t1 = time.perf_counter()
    res = calc.calculate(cdf).filter(period="analysis").to_df()
    seconds = time.perf_counter() - t0
    fit_seconds, check_seconds = t1 - t0, time.perf_counter() - t1
    verdicts = {n: bool(res[(n, "jensen_shannon", "alert")].iloc[-1]) for n in names}
    scores = {n: float(res[(n, "jensen_shannon", "value")].iloc[-1]) for n in names}
    print(json.dumps({"seconds": seconds, "peak_mb": rss_mb(), "loaded_mb": loaded,
        "fit_seconds": fit_seconds, "check_seconds": check_seconds,
        "verdicts": verdicts, "scores": scores}))
    """
)


def make_data(rows: int, features: int, workdir: Path) -> tuple[Path, Path, list[bool]]:
    rng = np.random.default_rng(42)
    ref = rng.normal(0.0, 1.0, size=(rows, features))
    cur = rng.normal(0.0, 1.0, size=(rows, features))
    shifted = [i % 2 == 1 for i in range(features)]
    for i, s in enumerate(shifted):
        if s:
            cur[:, i] += 1.0
    ref_path, cur_path = workdir / "ref.npy", workdir / "cur.npy"
    np.save(ref_path, ref)
    np.save(cur_path, cur)
    return ref_path, cur_path, shifted


def run_tool(python: str, code: str, ref: Path, cur: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    out = subprocess.run(
        [python, "-c", code, str(ref), str(cur)],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def offline(args) -> bool:
    """Prints the offline table; False when a tool failed (its row says why)."""
    with tempfile.TemporaryDirectory() as tmp:
        ref, cur, truth = make_data(args.rows, args.features, Path(tmp))
        names = [f"f{i:02d}" for i in range(args.features)]
        results = {"modelops": run_tool(sys.executable, MODELOPS, ref, cur)}
        if not args.skip_peers:
            sys.path.insert(0, str(HERE))
            from peers import envs

            for tool, code in (("evidently", EVIDENTLY), ("nannyml", NANNYML)):
                results[tool] = run_tool(str(envs.ensure(PEERS[tool])), code, ref, cur)
    mine = results["modelops"]
    if "error" in mine:
        print(f"modelops error: {mine['error']}")
        return False
    print(
        f"\nOffline: {args.rows:,} rows x {args.features} features (reference and current), "
        f"{sum(truth)} shifted by 1 sd"
    )
    print(
        f"{'tool':<10} {'seconds':>9} {'fit s':>7} {'check s':>8} {'peak RSS MB':>12} "
        f"{'above data MB':>14} "
        f"{'x slower':>9}  verdicts"
    )
    for tool, r in results.items():
        if "error" in r:
            print(f"{tool:<10} error: {r['error']}")
            continue
        ref_verdicts = mine["js_verdicts"] if tool == "nannyml" else mine["verdicts"]
        agree = sum(r["verdicts"][n] == ref_verdicts[n] for n in names)
        correct = sum(r["verdicts"][n] == truth[i] for i, n in enumerate(names))
        fit = f"{r['fit_seconds']:7.2f}" if "fit_seconds" in r else f"{'-':>7}"
        check = f"{r['check_seconds']:8.2f}" if "check_seconds" in r else f"{'-':>8}"
        print(
            f"{tool:<10} {r['seconds']:9.2f} {fit} {check} {r['peak_mb']:12.0f} "
            f"{r['peak_mb'] - r['loaded_mb']:14.0f} {r['seconds'] / mine['seconds']:9.1f}  "
            f"agree with modelops {agree}/{len(names)}, match truth {correct}/{len(names)}"
        )
    return not any("error" in r for r in results.values())


class _Canned(BaseHTTPRequestHandler):
    answers: dict[str, bytes] = {}

    def do_GET(self) -> None:
        from urllib.parse import parse_qs, urlparse

        expr = parse_qs(urlparse(self.path).query)["query"][0]
        key = next((k for k in self.answers if k in expr), None)
        body = self.answers.get(
            key, b'{"status":"success","data":{"resultType":"vector","result":[]}}'
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_) -> None:
        pass


def _vector(samples: list[tuple[dict, float]]) -> bytes:
    result = [{"metric": m, "value": [0, repr(float(v))]} for m, v in samples]
    return json.dumps(
        {"status": "success", "data": {"resultType": "vector", "result": result}}
    ).encode()


def online(args) -> None:
    from modelops_features import synthetic
    from modelops_features.churn import FEATURE_SCHEMA, compute
    from modelops_features.profile import build_profile
    from modelops_operator.api.spec import Spec
    from modelops_operator.drift.counts import DriftScope, measure
    from modelops_operator.providers.prometheus import PrometheusProvider

    reference = compute(synthetic.churn(20_000, seed=1))
    profile = build_profile(reference, FEATURE_SCHEMA, np.linspace(0, 1, 20_000), n_buckets=10)

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"http://127.0.0.1:{server.server_address[1]}"
    spec = Spec(
        {
            "model": {"name": "churn", "version": "1"},
            "registry": {"uri": "file:///unused"},
            "monitoring": {
                "prometheus": {"address": address},
                "drift": {"window": "1h", "minSamples": 1, "interval": "1s"},
            },
        }
    )
    settings = spec.drift
    # What the operator does per measurement (runtime/observe.py): the three
    # grouped queries through the Prometheus provider, then the pure measurement.
    provider = PrometheusProvider(address)
    scope = DriftScope("churn", "1", "ml", "churn", settings.window.text)
    print(
        "\nOnline: one drift measurement (3 HTTP queries, de-cumulation, PSI over "
        f"{len(profile['features'])} features), best of {args.repeat}"
    )
    for requests in (1, 1_000_000):
        numeric, categorical = [], []
        for name, ref in profile["features"].items():
            counts = np.round(np.asarray(ref["proportions"]) * requests)
            if ref["kind"] == "numeric":
                cum = np.cumsum(counts)
                for edge, c in zip([*ref["edges"], math.inf], cum, strict=True):
                    le = "+Inf" if math.isinf(edge) else repr(edge)
                    numeric.append(({"feature": name, "le": le}, c))
            else:
                for cat, c in zip(ref["categories"], counts, strict=True):
                    categorical.append(({"feature": name, "value": cat}, c))
        pred = profile["prediction"]
        pcum = np.cumsum(np.round(np.asarray(pred["proportions"]) * requests))
        prediction = [
            ({"le": "+Inf" if math.isinf(e) else repr(e)}, c)
            for e, c in zip([*pred["edges"], math.inf], pcum, strict=True)
        ]
        _Canned.answers = {
            "modelops_feature_value_bucket": _vector(numeric),
            "modelops_feature_category_total": _vector(categorical),
            "modelops_prediction_bucket": _vector(prediction),
        }
        best = math.inf
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            report = measure(profile, provider.histograms(scope), settings)
            best = min(best, time.perf_counter() - t0)
        print(
            f"  {requests:>9,} requests in the window: {best * 1e3:7.2f} ms "
            f"(samples {report.samples:,}, score {report.score:.4f})"
        )
    server.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--online-only", action="store_true")
    parser.add_argument(
        "--smoke", action="store_true", help="2,000 rows x 4 features, 2 repeats, peers included"
    )
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.features, args.repeat = 2_000, 4, 2
    ok = True
    if not args.online_only:
        ok = offline(args)
    online(args)
    # A tool that failed is a broken benchmark, not a slow one: the exit status says so.
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
