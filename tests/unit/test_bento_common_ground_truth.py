"""The bento's inference-log machinery off the request path: bounded queue, batches,
bounded shutdown, configuration, sampling, and the files it writes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.core import Metric

from modelops_bentos.common import request_id
from modelops_bentos.common.batch_writer import BatchWriter
from modelops_bentos.common.ground_truth import GroundTruth, LogConfig, LogConfigError
from modelops_features import churn, groundtruth
from modelops_features import inference_log as il
from modelops_registry.datalog import DataLog


class Sink:
    """A write function that records batches and can be made to block or fail."""

    def __init__(self) -> None:
        self.batches: list[list] = []
        self.gate = threading.Event()
        self.gate.set()
        self.failures = 0

    def __call__(self, items: list) -> None:
        self.gate.wait(30)
        if self.failures:
            self.failures -= 1
            raise OSError("store unreachable")
        self.batches.append(items)


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_full_queue_drops_and_counts_without_blocking() -> None:
    sink = Sink()
    sink.gate.clear()  # the store hangs
    writer = BatchWriter("inference-log", sink, capacity=10, batch=4, flush_seconds=60)
    writer.start()
    assert writer.offer("a", 4)  # taken by the thread (batch full), now in flight
    wait_for(lambda: writer.queued == 4 and not writer._items)
    assert writer.offer("b", 6)
    started = time.perf_counter()
    assert not writer.offer("c", 1)  # 4 in flight + 6 queued: full
    assert time.perf_counter() - started < 0.05  # never waits for the store
    assert writer.counts["dropped_queue_full"] == 1
    sink.gate.set()
    wait_for(lambda: writer.counts["written"] >= 4)
    writer.close(5)
    assert writer.counts == {
        "written": 10,
        "dropped_queue_full": 1,
        "dropped_write_error": 0,
        "dropped_shutdown": 0,
    }
    assert sink.batches == [["a"], ["b"]]


def test_flushes_on_time_and_retries_a_failed_write(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("modelops_bentos.common.batch_writer.RETRY_SECONDS", 0.01)
    sink = Sink()
    sink.failures = 1
    writer = BatchWriter("feedback", sink, capacity=100, batch=100, flush_seconds=0.05)
    writer.start()
    writer.offer("x", 1)
    wait_for(lambda: writer.counts["written"] == 1)
    assert sink.batches == [["x"]]
    sink.failures = 3  # every attempt fails: the batch is dropped and counted
    writer.offer("y", 2)
    wait_for(lambda: writer.counts["dropped_write_error"] == 2)
    assert writer.queued == 0
    writer.close(1)


def test_close_flushes_what_is_queued() -> None:
    sink = Sink()
    writer = BatchWriter("inference-log", sink, capacity=100, batch=100, flush_seconds=3600)
    writer.start()
    writer.offer("a", 3)
    writer.close(5)
    assert sink.batches == [["a"]] and writer.counts["written"] == 3
    assert not writer.offer("late", 1)
    assert writer.counts["dropped_shutdown"] == 1


def test_close_waits_a_bounded_time_for_a_hung_store() -> None:
    sink = Sink()
    sink.gate.clear()
    writer = BatchWriter("inference-log", sink, capacity=100, batch=1, flush_seconds=3600)
    writer.start()
    writer.offer("a", 5)
    wait_for(lambda: not writer._items)
    started = time.monotonic()
    writer.close(0.3)
    assert time.monotonic() - started < 2
    assert writer.counts["dropped_shutdown"] == 5
    sink.gate.set()  # the late write neither counts twice nor goes negative
    time.sleep(0.1)
    assert writer.counts["written"] == 0 and writer.queued == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MODELOPS_LOG_SAMPLE": "half"}, "MODELOPS_LOG_SAMPLE='half' is not a number"),
        ({"MODELOPS_LOG_SAMPLE": "1.5"}, "MODELOPS_LOG_SAMPLE='1.5' must be within 0..1"),
        ({"MODELOPS_LOG_QUEUE_RECORDS": "0"}, "MODELOPS_LOG_QUEUE_RECORDS='0' must be within"),
        (
            {"MODELOPS_LOG_BATCH_RECORDS": "1e3"},
            "MODELOPS_LOG_BATCH_RECORDS='1e3' is not an integer",
        ),
        ({"MODELOPS_LOG_FLUSH_SECONDS": "-1"}, "MODELOPS_LOG_FLUSH_SECONDS='-1' must be within"),
        (
            {"MODELOPS_LOG_SHUTDOWN_SECONDS": "x"},
            "MODELOPS_LOG_SHUTDOWN_SECONDS='x' is not a number",
        ),
        ({"MODELOPS_LOG_IDENTIFIERS": "plain"}, "MODELOPS_LOG_IDENTIFIERS='plain'"),
    ],
)
def test_malformed_configuration_names_the_variable(env: dict, message: str) -> None:
    with pytest.raises(LogConfigError, match=message):
        LogConfig.from_env("file:///reg", env)


def test_configuration_defaults_and_overrides() -> None:
    default = LogConfig.from_env("file:///reg", {})
    assert (default.uri, default.sample, default.identifiers.mode) == ("file:///reg", 0.0, "hash")
    config = LogConfig.from_env(
        "file:///reg",
        {"MODELOPS_LOG_URI": "s3://logs/x", "MODELOPS_LOG_SAMPLE": "0.1",
         "MODELOPS_LOG_HASH_KEY": "k", "MODELOPS_LOG_FLUSH_SECONDS": "5"},
    )  # fmt: skip
    assert (config.uri, config.sample, config.flush_seconds) == ("s3://logs/x", 0.1, 5.0)
    assert config.identifiers.key == b"k"


def test_sampling_follows_the_request_id() -> None:
    half = GroundTruth("churn", "churn", LogConfig("file:///unused", sample=0.5))
    ids = [f"req-{i}" for i in range(4000)]
    chosen = [half.sampled(i) for i in ids]
    assert 0.45 < np.mean(chosen) < 0.55
    assert chosen == [half.sampled(i) for i in ids]  # every replica decides the same
    assert not GroundTruth("churn", "churn", LogConfig("file:///u")).sampled("req-1")
    everything = GroundTruth("churn", "churn", LogConfig("file:///u", sample=1.0))
    assert all(everything.sampled(i) for i in ids[:100]) and everything.sampled(None)


def test_logged_rows_and_feedback_reach_the_store(tmp_path: Path) -> None:
    config = LogConfig(f"file://{tmp_path}", sample=1.0, flush_seconds=3600,
                       identifiers=il.IdentifierPolicy("hash", b"k"))  # fmt: skip
    gt = GroundTruth("churn", "churn-eu", config)
    gt.start()
    record = {"tenure_months": 3, "monthly_spend": 50.0, "total_spend": 150.0, "orders": 4,
              "support_tickets": 1, "plan": "basic", "region": "north", "customer_id": "c-1"}  # fmt: skip
    token = request_id.current.set("req-7")
    try:
        gt.log("predict", "4", [record], churn.compute_one(record), np.array([0.3]))
    finally:
        request_id.current.reset(token)
    gt.log(
        "predict_batch",
        "4",
        [record],
        churn.compute_one(record),
        np.array([0.3]),
        attributable=False,
    )
    now = time.time_ns() // 1000
    assert gt.feedback([{"request_id": "req-7", "record": 0, "entity_id": None, "outcome": 1,
                         "observed_at": now, "received_at": now, "source": "api"},
                        {"request_id": None, "record": None, "entity_id": "c-1", "outcome": 0,
                         "observed_at": now, "received_at": now, "source": "api"}])  # fmt: skip
    gt.close()

    store = DataLog(f"file://{tmp_path}")
    log = groundtruth.read_stream(store, "churn-eu", il.LOG_STREAM, None, None)
    assert log.rows == 2 and log.kind == "churn"
    assert log.data["request_id"].tolist() == ["req-7", None]
    assert log.data["model"].tolist() == ["churn-eu"] * 2
    assert log.data["entity_id"].tolist() == [il.IdentifierPolicy("hash", b"k").apply("c-1")] * 2
    feedback = groundtruth.read_stream(store, "churn-eu", il.FEEDBACK_STREAM, None, None)
    assert feedback.data["entity_id"].tolist()[1].startswith("hmac-sha256:")
    assert b"c-1" not in b"".join(
        store.read(k) for k in store.files("churn-eu", il.FEEDBACK_STREAM)
    )
    joined = groundtruth.join(log, feedback)
    # By request id, and the customer's latest prediction (the batch row) by entity.
    assert joined.outcomes.tolist() == [1, 0]
    families: list[Metric] = gt.families()
    written = {
        (s.labels["stream"], s.labels["outcome"]): s.value
        for s in families[0].samples
        if s.name.endswith("_total")
    }
    assert written[("inference-log", "written")] == 2 and written[("feedback", "written")] == 2


def test_log_is_a_no_op_when_sampling_is_off(tmp_path: Path) -> None:
    gt = GroundTruth("churn", "churn", LogConfig(f"file://{tmp_path}", sample=0.0))
    gt.start()
    gt.log("predict", "1", [{"plan": "basic"}], {}, np.array([0.5]))
    gt.close()
    assert gt.log_writer.counts["written"] == 0 and not list(tmp_path.rglob("*.parquet"))
