"""Drift scores of synthetic churn data against its training profile (not a test).

    .venv/bin/python benchmarks/drift_offline.py [--rows 5000] [--buckets 10]
    .venv/bin/python benchmarks/drift_offline.py --smoke   # 2,000-row reference, 1,000-row samples

Builds a reference profile from unshifted synthetic data, then scores fresh
samples at growing `shift` with PSI, binned KS and JS: the table shows what the
operator's threshold (e.g. PSI 0.2) means on this data, and how long counting and
comparing takes (the drift check only ever sees bucket counts).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")

from modelops_features import synthetic
from modelops_features.churn import FEATURE_SCHEMA, compute
from modelops_features.drift import METHODS, compare
from modelops_features.profile import bucket_counts, build_profile

SHIFTS = (0.0, 0.1, 0.25, 0.5, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000, help="rows per live sample")
    parser.add_argument("--buckets", type=int, default=10, help="profile buckets per feature")
    parser.add_argument("--smoke", action="store_true", help="small frames, same table (CI)")
    args = parser.parse_args()
    reference_rows = 20_000
    if args.smoke:
        # compare() needs min_samples (1000) live rows to score at all.
        reference_rows, args.rows = 2_000, 1_000

    reference = compute(synthetic.churn(reference_rows, seed=1))
    profile = build_profile(reference, FEATURE_SCHEMA, None, n_buckets=args.buckets)

    header = f"{'shift':>6s} " + " ".join(f"{m:>6s}" for m in METHODS)
    print(f"{header}  {'PSI > 0.2':>9s}  top features by PSI")
    count_s, compare_s = [], []
    for shift in SHIFTS:
        live = compute(synthetic.churn(args.rows, seed=100, shift=shift))
        t0 = time.perf_counter()
        observed = {n: bucket_counts(live[n], entry) for n, entry in profile["features"].items()}
        count_s.append(time.perf_counter() - t0)
        reports = {}
        for method in METHODS:
            t0 = time.perf_counter()
            reports[method] = compare(profile, observed, method=method, min_samples=1000)
            compare_s.append(time.perf_counter() - t0)
        drifted = sum(score > 0.2 for score in reports["psi"].features.values())
        top = ", ".join(f"{n} {s:.2f}" for n, s in reports["psi"].top(3))
        scores = " ".join(f"{reports[m].score:6.3f}" for m in METHODS)
        print(f"{shift:6.2f} {scores}  {drifted:9d}  {top}")
    features = len(profile["features"])
    print(
        f"\n{features} features, {args.rows} rows: bucket_counts for all features "
        f"{min(count_s) * 1e3:.1f} ms; compare() {min(compare_s) * 1e6:.0f} us (best of runs)"
    )


if __name__ == "__main__":
    main()
