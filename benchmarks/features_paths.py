"""Timings of the churn feature paths (a benchmark, not a test).

    .venv/bin/python benchmarks/features_paths.py [--smoke]

Prints the best-of-N time per call of the serving path (compute_one + model_row),
the batch-request path (model_matrix_from_records) and the training path
(compute + model_matrix). Best-of-N because the machine is shared: the minimum
is the cost of the code, the rest is other processes. `--smoke` (CI) runs every
path a few times on a 2,000-row frame: the same table, in about a second.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")

import timeit

from modelops_features import churn, synthetic


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="2,000 rows, few calls (CI)")
    args = parser.parse_args()
    # Smoke: every call count divided by 100 (at least 1), one repeat.
    scale, repeats = (100, 1) if args.smoke else (1, 15)
    big = 2_000 if args.smoke else 100_000

    def best(fn, number: int, repeat: int = repeats) -> float:
        """Best seconds per call over `repeat` runs of `number` calls."""
        number = max(number // scale, 1)
        repeat = min(repeat, repeats)
        return min(timeit.repeat(fn, number=number, repeat=repeat)) / number

    raw = synthetic.churn(big, seed=0)
    records = raw.head(100).to_dict("records")
    record = records[0]
    one = churn.compute_one(record)

    rows = [
        (
            "compute_one + model_row (1 record)",
            best(lambda: churn.model_row(churn.compute_one(record)), 2000),
            1,
        ),
        ("compute_one (1 record)", best(lambda: churn.compute_one(record), 2000), 1),
        ("model_row (1 record)", best(lambda: churn.model_row(one), 2000), 1),
        (
            "model_matrix_from_records (100 records)",
            best(lambda: churn.model_matrix_from_records(records), 100),
            100,
        ),
        (
            "compute + model_matrix on a DataFrame (100 rows)",
            best(lambda: churn.model_matrix(churn.compute(raw.head(100))), 50),
            100,
        ),
        (
            f"compute + model_matrix on a DataFrame ({big // 1000}k rows)",
            best(lambda: churn.model_matrix(churn.compute(raw)), 1, 3),
            big,
        ),
    ]
    print(f"{'path':52s} {'per call':>12s} {'per record':>12s}")
    for name, seconds, n in rows:
        print(f"{name:52s} {seconds * 1e6:10.1f} us {seconds / n * 1e6:10.2f} us")


if __name__ == "__main__":
    main()
