"""Workloads on the real node: Deployments, logs, Jobs, memory limits, and
containers going away with their pods."""

from __future__ import annotations

import json

from tests.node.support import (
    apply,
    deployment,
    eventually,
    kubectl,
    pod,
    pod_names,
    terminated,
    wait_available,
)


def test_deployment_becomes_available_and_logs_are_readable(
    node_cluster, node_namespace, probe_image
):
    apply(node_cluster, deployment("hello", node_namespace, probe_image, replicas=2))
    wait_available(node_cluster, node_namespace, "hello")
    names = pod_names(node_cluster, node_namespace, "hello")
    assert len(names) == 2
    # `kubectl logs` goes API server -> kubelet (its client certificate,
    # the kubelet's webhook authorisation) -> containerd.
    log = kubectl(node_cluster, "-n", node_namespace, "logs", names[0])
    assert f"serving on :8080 as {names[0]}" in log


def test_job_runs_to_completion(node_cluster, node_namespace, probe_image):
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "once", "namespace": node_namespace},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "terminationGracePeriodSeconds": 2,
                    "containers": [
                        {
                            "name": "probe",
                            "image": probe_image,
                            "imagePullPolicy": "Never",
                            "args": ["echo", "job", "done"],
                        }
                    ],
                }
            },
        },
    }
    apply(node_cluster, job)
    kubectl(
        node_cluster, "-n", node_namespace, "wait", "job/once",
        "--for=condition=Complete", "--timeout=120s", timeout=150,
    )  # fmt: skip
    assert kubectl(node_cluster, "-n", node_namespace, "logs", "job/once").strip() == "job done"


def test_memory_limit_is_enforced(node_cluster, node_namespace, probe_image):
    limits = {"requests": {"memory": "16Mi"}, "limits": {"memory": "32Mi"}}
    greedy = pod("greedy", node_namespace, probe_image, ["alloc", "96"])
    greedy["spec"]["containers"][0]["resources"] = limits
    apply(node_cluster, greedy)
    state = eventually(
        lambda: terminated(node_cluster, node_namespace, "greedy"),
        timeout=120,
        what="the pod over its memory limit to end",
    )
    assert state["reason"] == "OOMKilled", state


def test_deleting_a_deployment_removes_its_containers(node_cluster, node_namespace, probe_image):
    apply(node_cluster, deployment("gone", node_namespace, probe_image, replicas=2))
    wait_available(node_cluster, node_namespace, "gone")
    ours = node_cluster.containers(node_namespace)
    assert len(node_cluster.containers(node_namespace, "container")) == 2
    assert len(node_cluster.containers(node_namespace, "sandbox")) == 2
    kubectl(node_cluster, "-n", node_namespace, "delete", "deployment", "gone", "--wait=true")
    eventually(
        lambda: (
            not json.loads(
                kubectl(node_cluster, "-n", node_namespace, "get", "pods", "-o", "json")
            )["items"]
        ),
        timeout=60,
        what="the Deployment's pods to be deleted",
    )
    # The kubelet kills the pods' processes and removes their containers at
    # once; no process of theirs may outlive the pods.
    eventually(
        lambda: (
            node_cluster.containers(node_namespace, "container") == []
            and not set(ours) & set(node_cluster.running_tasks())
        ),
        timeout=60,
        what="containerd to hold no container and run no process of the deleted pods",
    )
    # The pods' sandboxes go in the kubelet's next garbage collection, which
    # runs once a minute.
    eventually(
        lambda: node_cluster.containers(node_namespace) == [],
        timeout=150,
        interval=2,
        what="containerd to hold no sandbox of the deleted pods",
    )
