"""`modelops score`: a registry model version over files, streamed, with rejects.

Modules, by responsibility (the pure ones are table-tested in tests/unit):
  shards      parse `--shard INDEX/COUNT` and pick a shard's work units (pure)
  layout      where the scores and the rejects of a run or shard are written (pure)
  inputs      `--data` (file, folder, glob, s3://) -> input files -> work units
  readers     one work unit -> chunks (Parquet row-group batches, CSV chunks)
  rejects     per-row schema violations -> the rejects table (messages pure)
  models      the loaded model behind one small protocol: churn, learning-path
  sink        Parquet parts written aside and committed atomically (local, s3://)
  engine      the loop: read, validate, score, write; counts rows and rejects
  version     which model version: --version / --from-deployment (kube adapter)
  report      the progress bar and the summary (table or JSON)
  command     the click command and its exit codes
"""
