"""Controllers of the real control plane: the behaviour the operator builds on.

The operator creates Deployments and Jobs and relies on owner references for
clean-up, so these tests check that kube-controller-manager and kube-scheduler
actually run: Deployment -> ReplicaSet -> Pods, Job -> Pod, and garbage
collection of dependants. There are no nodes, so Pods stay Pending, which the
scheduler reports as Unschedulable.
"""

from __future__ import annotations

from kubernetes.dynamic import DynamicClient

from tests.plugins.controlplane import eventually

# Never pulled: without nodes no container runs. An unroutable registry makes
# that explicit should a node ever appear.
IMAGE = "registry.invalid/modelops/placeholder:0"


def resource(kube_client, api_version: str, kind: str):
    return DynamicClient(kube_client).resources.get(api_version=api_version, kind=kind)


def deployment(name: str, replicas: int) -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": IMAGE}]},
            },
        },
    }


def owned_by(obj: dict, owner: dict) -> bool:
    return any(
        ref["uid"] == owner["metadata"]["uid"]
        for ref in obj["metadata"].get("ownerReferences") or []
    )


def children(res, namespace: str, owner: dict) -> list[dict]:
    return [o for o in res.get(namespace=namespace).to_dict()["items"] if owned_by(o, owner)]


def test_deployment_gets_replicaset_and_pods(kube_client, namespace):
    deployments = resource(kube_client, "apps/v1", "Deployment")
    replicasets = resource(kube_client, "apps/v1", "ReplicaSet")
    pods = resource(kube_client, "v1", "Pod")
    created = deployments.create(body=deployment("web", 2), namespace=namespace).to_dict()

    (rs,) = eventually(
        lambda: children(replicasets, namespace, created), what="ReplicaSet owned by the Deployment"
    )
    assert rs["spec"]["replicas"] == 2

    def two_pods():
        found = children(pods, namespace, rs)
        return found if len(found) == 2 else None

    owned_pods = eventually(two_pods, what="two Pods owned by the ReplicaSet")
    assert {p["spec"]["containers"][0]["image"] for p in owned_pods} == {IMAGE}

    def unschedulable():
        found = []
        for pod in children(pods, namespace, rs):
            for cond in pod.get("status", {}).get("conditions") or []:
                if cond["type"] == "PodScheduled" and cond.get("reason") == "Unschedulable":
                    found.append(pod["metadata"]["name"])
        return len(found) == 2

    # The scheduler has looked at both Pods and found no node for them.
    eventually(unschedulable, what="both Pods marked Unschedulable by the scheduler")


def test_job_creates_a_pod(kube_client, namespace):
    jobs = resource(kube_client, "batch/v1", "Job")
    pods = resource(kube_client, "v1", "Pod")
    job = jobs.create(
        body={
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "retrain"},
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "main", "image": IMAGE}],
                    }
                },
            },
        },
        namespace=namespace,
    ).to_dict()
    (pod,) = eventually(lambda: children(pods, namespace, job), what="a Pod owned by the Job")
    assert pod["metadata"]["labels"]["job-name"] == "retrain"


def test_deleting_owner_garbage_collects_children(kube_client, namespace):
    configmaps = resource(kube_client, "v1", "ConfigMap")
    owner = configmaps.create(
        body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}},
        namespace=namespace,
    ).to_dict()
    reference = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner["metadata"]["uid"],
    }
    for name in ("child-a", "child-b"):
        configmaps.create(
            body={
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name, "ownerReferences": [reference]},
                "data": {"k": "v"},
            },
            namespace=namespace,
        )
    unrelated = configmaps.create(
        body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "unrelated"}},
        namespace=namespace,
    ).to_dict()

    configmaps.delete(name="owner", namespace=namespace, propagation_policy="Background")

    def names():
        return {
            o["metadata"]["name"] for o in configmaps.get(namespace=namespace).to_dict()["items"]
        }

    eventually(lambda: not ({"child-a", "child-b"} & names()), what="children garbage-collected")
    assert "unrelated" in names()
    assert (
        configmaps.get(name="unrelated", namespace=namespace).metadata.uid
        == unrelated["metadata"]["uid"]
    )


def test_deleting_deployment_cascades_to_replicasets_and_pods(kube_client, namespace):
    deployments = resource(kube_client, "apps/v1", "Deployment")
    replicasets = resource(kube_client, "apps/v1", "ReplicaSet")
    pods = resource(kube_client, "v1", "Pod")
    created = deployments.create(body=deployment("gone", 1), namespace=namespace).to_dict()
    (rs,) = eventually(lambda: children(replicasets, namespace, created), what="ReplicaSet")
    eventually(lambda: children(pods, namespace, rs), what="Pod")

    deployments.delete(name="gone", namespace=namespace, propagation_policy="Background")

    eventually(
        lambda: (
            not replicasets.get(namespace=namespace).to_dict()["items"]
            and not pods.get(namespace=namespace).to_dict()["items"]
        ),
        what="ReplicaSet and Pods garbage-collected",
    )
