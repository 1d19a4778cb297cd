"""The in-process runners batch.py compares with `modelops score`, each run in its own
process (`batch.py --worker NAME`), and the per-stage CPU profile of score's loop.

* floor: the whole file in memory, then the features package's arrays and
  `Booster.inplace_predict` (what the model itself costs);
* naive: `pd.read_parquet`, the pandas features, `predict_proba`, `to_parquet`;
* stages: `modelops score`'s loop run one stage after another, CPU per stage.

Each returns the JSON-able dict the driver reads from the process's last line.
"""

from __future__ import annotations

import time


def floor_worker(data: str, artefact: str, threads: int) -> dict:
    import pandas as pd
    import xgboost as xgb

    from modelops_features import churn

    frame = pd.read_parquet(data)  # in memory before the clock starts: that is the floor
    booster = xgb.Booster()
    booster.load_model(artefact)
    booster.set_param({"nthread": threads})
    started, cpu = time.perf_counter(), time.process_time()
    matrix = churn.model_matrix_from_arrays(churn.feature_arrays_from_frame(frame))
    probabilities = booster.inplace_predict(matrix)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert len(probabilities) == len(frame)
    return {"rows": len(frame), "seconds": seconds, "cpu_seconds": cpu}


def naive_worker(data: str, artefact: str, threads: int, out: str) -> dict:
    import pandas as pd
    import xgboost as xgb

    from modelops_features import churn

    model = xgb.XGBClassifier(n_jobs=threads or None)
    model.load_model(artefact)
    started, cpu = time.perf_counter(), time.process_time()
    frame = pd.read_parquet(data)
    features = churn.compute(frame)
    frame["churn_probability"] = model.predict_proba(churn.model_matrix(features))[:, 1]
    frame[["customer_id", "churn_probability"]].to_parquet(out, index=False)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"rows": len(frame), "seconds": seconds, "cpu_seconds": cpu}


def stages_worker(data: str, registry: str, threads: int, out: str) -> dict:
    """CPU seconds per stage of `modelops score`'s loop, run one stage after another.

    The same calls the engine makes (readers, rejects, features, the bento's
    predictor, the Parquet writer), without the prefetch thread, so each
    stage's CPU is its own: where a run's work goes.
    """
    import datetime as dt

    import pyarrow.parquet as pq

    from modelops_cli.score import engine, inputs, layout, models, readers, rejects

    model = models.load("churn", registry, "churn", "1", threads=threads, top_k=None)
    fs, files = inputs.list_files(data)
    plan = inputs.plan(fs, files, model.id_column, model.raw_schema.names)
    job = engine.Job(
        fs, plan.units, model.id_column, plan.id_type, 100_000,
        layout.output_paths(out, None), dt.datetime.now(dt.UTC),
    )  # fmt: skip
    schema = engine.scores_schema(model, job.id_column, job.id_type)
    writer = pq.ParquetWriter(out, schema, use_dictionary=["model", "model_version",
                                                           "feature_schema_hash"])  # fmt: skip
    cpu = dict.fromkeys(("read", "check", "features", "predict", "write"), 0.0)
    rows = 0
    for unit in job.units:
        chunks = readers.read_unit(fs, unit, job.id_column, model.raw_schema.names, 100_000)
        while True:
            mark = time.process_time()
            chunk = next(chunks, None)
            if chunk is None:
                break
            mark = _charge(cpu, "read", mark)
            checked = rejects.check_rows(chunk.raw, model.raw_schema, chunk.ids, job.id_column)
            mark = _charge(cpu, "check", mark)
            matrix = model.matrix(chunk.raw)
            mark = _charge(cpu, "features", mark)
            prepared = engine.Prepared(chunk, checked, chunk.ids.cast(job.id_type), matrix)
            table = engine.scores_table(prepared, model, job, schema)
            mark = _charge(cpu, "predict", mark)
            writer.write_table(table)
            _charge(cpu, "write", mark)
            rows += len(chunk)
    writer.close()
    return {"rows": rows, "cpu": cpu}


def _charge(cpu: dict[str, float], stage: str, mark: float) -> float:
    now = time.process_time()
    cpu[stage] += now - mark
    return now
