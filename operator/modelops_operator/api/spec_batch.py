"""spec.batch as the operator reads it: what a batch-scoring run reads and writes,
how it is sharded, when it runs (on request or on a schedule) and its Job template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from modelops_operator.api.spec_defaults import SpecError, field, job_template


@dataclass(frozen=True)
class BatchSpec:
    """spec.batch; present means batch scoring runs (on request, and on `schedule` if given)."""

    data: str  # input file, folder, glob or URL (`modelops score --data`)
    out: str  # output prefix; each run writes its own folder under it
    scorer: str  # the scoring code (`modelops score --model`): churn or learning-path
    shards: int  # the Indexed Job's completions
    parallelism: int  # pods at a time (default: every shard at once)
    max_reject_rate: float
    schedule: str | None  # cron: a CronJob; None: runs only when asked
    concurrency_policy: str  # the CronJob's (Forbid by default: a run never overlaps the last)
    job_template: Mapping[str, Any]  # like spec.retraining.jobTemplate, under the same rules


def parse_batch(batch: Any) -> BatchSpec | None:
    """Batch scoring settings from spec.batch, or None when it asks for none."""
    if not batch:
        return None
    template = job_template(
        batch,
        "spec.batch.jobTemplate",
        "a batch/v1 Job template (its pod: image, env, resources)",
    )
    for key in ("data", "out"):
        if not batch.get(key):
            raise SpecError(f"spec.batch.{key}", f"spec.batch.{key} is required")
    shards = int(field(batch, "shards", "spec.batch.shards"))
    return BatchSpec(
        data=str(batch["data"]),
        out=str(batch["out"]),
        scorer=str(field(batch, "scorer", "spec.batch.scorer")),
        shards=shards,
        parallelism=int(batch.get("parallelism") or shards),
        max_reject_rate=float(field(batch, "maxRejectRate", "spec.batch.maxRejectRate")),
        schedule=str(batch["schedule"]) if batch.get("schedule") else None,
        concurrency_policy=str(field(batch, "concurrencyPolicy", "spec.batch.concurrencyPolicy")),
        job_template=template,
    )
