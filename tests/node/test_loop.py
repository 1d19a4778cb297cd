"""The whole loop on the real node, as a user would check it.

The system is the one `modelops demo` runs: the images built from the
project's files and imported into the node, the registry (versitygw) and
Prometheus (Kubernetes pod discovery) in the cluster, the operator installed
by its Helm chart, a ModelDeployment following `@latest-approved`, steady
traffic to its Service's ClusterIP. The tests act only as a user or the world
would (publish a version, shift the traffic, delete the object) and check
what a user would check: no failed request on the stable version, the weights
the operator reported against the share of requests each track served (read
from Prometheus), the retraining Job's pod running `modelops train` and its
candidate in the registry, and nothing left behind after a delete.

The tests share one scene and run in file order: promotion, rollback, drift,
deletion.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.parse
import urllib.request

import pytest

from modelops_cli.demo import figures
from modelops_cli.demo.manifests import Settings
from modelops_cli.demo.play import set_the_scene
from modelops_cli.demo.stack import LocalStack
from modelops_cli.demo.timeline import Timeline
from tests.node.support import uninstall_stack

# 10 s canary steps (the demo's default is 20) and a 45 s drift window (90):
# every act plays the same decisions, in less time. minRequests follows the
# shorter interval (Settings.required_requests: 20 here, 40 at 20 s), so an
# analysis is judged on the same share of its expected traffic.
# (benchmarks/real_loop.py measures the demo at its own settings.)
SETTINGS = Settings(interval_seconds=10, drift_window="45s")
# ReplicaRatio over 4 replicas: kube-proxy spreads new connections evenly
# over ready pods, so a track's share is its share of pods; with ~200 requests
# per step (20/s) one standard deviation of the share is 3.5 points at 50 %
# (3 at 25 %), so 12 points is more than 3 of them.
SHARE_TOLERANCE = 0.12


@pytest.fixture(scope="module")
def scene(node_cluster, tmp_path_factory):
    timeline = Timeline(
        started_at="", namespace=SETTINGS.namespace, name=SETTINGS.name, model=SETTINGS.model
    )
    stack = LocalStack(SETTINGS, echo=print, cluster=node_cluster)
    stack.up()
    director = set_the_scene(stack, timeline)
    out = tmp_path_factory.mktemp("loop")
    try:
        yield stack, director, timeline
    finally:
        director.stop()
        stack.down()
        timeline.save(out / "timeline.json")
        print(f"\nloop timeline: {out / 'timeline.json'}")
        uninstall_stack(stack, SETTINGS.namespace)


def wall(timeline: Timeline, t: float) -> float:
    """A timeline time as a Unix timestamp (for Prometheus' `time=`)."""
    return dt.datetime.fromisoformat(timeline.started_at).timestamp() + t


def served_share_by_track(stack: LocalStack, at: float, seconds: int) -> dict[str, float]:
    """Each track's share of the /predict requests its pods counted over `seconds`
    before `at`, as Prometheus scraped them."""
    s = SETTINGS
    promql = (
        f'sum by (track) (increase(modelops_requests_total{{namespace="{s.namespace}",'
        f'deployment="{s.name}",endpoint="predict"}}[{seconds}s]))'
    )
    values = _query_at(stack.prometheus_url, promql, at)
    total = sum(values.values())
    return {track: v / total for track, v in values.items()} if total else {}


def _query_at(base_url: str, promql: str, at: float) -> dict[str, float]:
    query = urllib.parse.urlencode({"query": promql, "time": f"{at:.3f}"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{base_url}/api/v1/query?{query}", timeout=10) as response:
        body = json.loads(response.read())
    return {
        item["metric"].get("track", ""): float(item["value"][1]) for item in body["data"]["result"]
    }


def test_a_better_version_is_promoted_step_by_step_with_no_failed_request(scene):
    stack, director, timeline = scene
    act = director.play_promote(stable="1")
    assert act.passed, act.figures
    assert act.figures["stable_errors"] == 0 and act.figures["unanswered"] == 0
    assert act.figures["canary_errors"] == 0
    weights = [step["weight"] for step in act.figures["steps"]]
    assert weights[: len(SETTINGS.steps)] == list(SETTINGS.steps), weights

    # The weight the operator reported at each step against what the pods
    # served meanwhile, as Prometheus counted it — over the part of the step
    # where the pods realise the split (ReplicaRatio: the canary's share of
    # ready pods equals the weight; new canary pods take a few seconds to start).
    held = figures.within(timeline.samples, act.started, act.ended)
    stretches = _realised(held, canary=act.figures["version"])
    assert [w for w, _, _ in stretches] == list(SETTINGS.steps), stretches
    for weight, start, end in stretches:
        seconds = int(end - start)
        assert seconds >= 4, f"the {weight}% split held for only {seconds} s: nothing to compare"
        share = served_share_by_track(stack, wall(timeline, end), seconds)
        assert share, f"Prometheus has no /predict counts for the step at {weight}%"
        assert abs(share.get("canary", 0.0) - weight / 100) <= SHARE_TOLERANCE, (weight, share)


def _realised(samples, canary: str) -> list[tuple[int, float, float]]:
    """(weight, first t, last t) of each stretch where the canary held a weight
    during analysis and the ready pods matched it."""
    out: list[list] = []
    for sample in samples:
        pods = sample.ready_pods
        total = pods.get("stable", 0) + pods.get("canary", 0)
        if (
            sample.phase != "Progressing"
            or sample.canary_version != canary
            or not sample.weight
            or not total
            or pods.get("canary", 0) * 100 != sample.weight * total
        ):
            continue
        if out and out[-1][0] == sample.weight:
            out[-1][2] = sample.t
        else:
            out.append([sample.weight, sample.t, sample.t])
    return [tuple(x) for x in out]


def test_a_faulty_version_is_rolled_back_and_stays_rejected(scene):
    stack, director, timeline = scene
    stable = timeline.last.stable_version
    act = director.play_rollback(stable=stable)
    assert act.passed, act.figures
    assert act.figures["stable_errors"] == 0 and act.figures["unanswered"] == 0
    assert act.figures["canary_errors"] > 0  # the fault was real and seen by callers
    assert act.figures["retried_while_rejected"] is False
    body = stack.kube.get_model_deployment(SETTINGS.namespace, SETTINGS.name)
    status = body["status"]
    assert status["stable"]["version"] == stable
    assert status["rejected"]["version"] == act.figures["version"]
    assert status["history"][-1]["outcome"] == "RolledBack"
    # Rolled back by the analysis that counted the failureLimit-th failure.
    assert f"{SETTINGS.failure_limit}/{SETTINGS.failure_limit}" in status["rejected"]["reason"]


def test_drift_retrains_in_a_job_pod_and_the_candidate_reaches_stable(scene):
    stack, director, timeline = scene
    stable = timeline.last.stable_version
    act = director.play_drift(stable=stable, shift=SETTINGS.drift_shift)
    assert act.passed, act.figures
    assert act.figures["stable_errors"] == 0 and act.figures["unanswered"] == 0
    job, candidate = act.figures["job"], act.figures["candidate"]

    # The Job's pod ran `modelops train` from the training image...
    pods = stack.kube.request(
        "GET",
        f"/api/v1/namespaces/{SETTINGS.namespace}/pods",
        query={"labelSelector": f"job-name={job}"},
    )["items"]
    assert pods, f"no pod of Job {job}"
    container = pods[0]["spec"]["containers"][0]
    assert container["image"] == stack.images["modelops-training"]
    assert pods[0]["status"]["phase"] == "Succeeded"
    # `modelops train` prints one JSON line on stdout; the gate lines go to
    # stderr, which the container log interleaves.
    lines = [line for line in stack.job_logs(job).splitlines() if line.startswith("{")]
    assert lines, f"no JSON line in the logs of Job {job}:\n{stack.job_logs(job)}"
    printed = json.loads(lines[-1])
    assert printed["version"] == candidate and printed["status"] == "approved"

    # ...and its candidate is in the registry, published by that Job.
    from modelops_registry import Registry

    meta = Registry.from_uri(SETTINGS.registry_uri).metadata(SETTINGS.model, candidate)
    assert meta["retraining"]["job"] == job
    assert meta["retraining"]["base_version"] == stable
    assert meta["status"] == "approved"


def test_deleting_the_modeldeployment_removes_every_pod(scene, node_cluster):
    stack, director, _ = scene
    director.stop()
    stack.traffic.stop()
    stack.kubectl("delete", "modeldeployment", SETTINGS.name, "-n", SETTINGS.namespace)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        pods = stack.kube.request("GET", f"/api/v1/namespaces/{SETTINGS.namespace}/pods")["items"]
        containers = node_cluster.containers(SETTINGS.namespace)
        if not pods and not containers:
            return
        time.sleep(0.5)
    names = [p["metadata"]["name"] for p in pods]
    pytest.fail(f"after 180 s, pods {names} and containers {containers} are still there")
