"""Controllers of the real control plane: the behaviour the operator builds on.

The operator creates Deployments and Jobs and relies on owner references for
clean-up, so these tests check that kube-controller-manager, kube-scheduler
and kwok's simulated node actually run: Deployment -> ReplicaSet -> Pods that
get scheduled, Running and Available; Job -> Pod -> Complete; and garbage
collection of dependants. No container ever runs: kwok writes the status a
kubelet would.
"""

from __future__ import annotations

from kubernetes.dynamic import DynamicClient

from tests.plugins.controlplane import eventually

# Never pulled: kwok simulates the container, and an unroutable registry
# makes sure nothing could ever be fetched.
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
    refs = obj["metadata"].get("ownerReferences") or []
    return any(ref["uid"] == owner["metadata"]["uid"] for ref in refs)


def children(res, namespace: str, owner: dict) -> list[dict]:
    return [o for o in res.get(namespace=namespace).to_dict()["items"] if owned_by(o, owner)]


def with_condition(instance, kind: str) -> dict | None:
    """The object as a dict if its condition `kind` is True, else None."""
    obj = instance.to_dict()
    conditions = obj.get("status", {}).get("conditions") or []
    return obj if any(c["type"] == kind and c["status"] == "True" for c in conditions) else None


def test_deployment_gets_replicaset_and_pods(control_plane, kube_client, namespace):
    deployments = resource(kube_client, "apps/v1", "Deployment")
    replicasets = resource(kube_client, "apps/v1", "ReplicaSet")
    pods = resource(kube_client, "v1", "Pod")
    created = deployments.create(body=deployment("web", 2), namespace=namespace).to_dict()

    (rs,) = eventually(
        lambda: children(replicasets, namespace, created),
        what="ReplicaSet owned by the Deployment",
    )
    assert rs["spec"]["replicas"] == 2

    def two_pods():
        found = children(pods, namespace, rs)
        return found if len(found) == 2 else None

    owned_pods = eventually(two_pods, what="two Pods owned by the ReplicaSet")
    assert {p["spec"]["containers"][0]["image"] for p in owned_pods} == {IMAGE}

    if not control_plane.with_kwok:
        return
    # With kwok's node the scheduler binds the Pods, kwok reports them
    # Running and Ready, and the Deployment controller declares it Available.
    eventually(
        lambda: all(
            p["spec"].get("nodeName") and p.get("status", {}).get("phase") == "Running"
            for p in children(pods, namespace, rs)
        ),
        what="both Pods scheduled and Running",
    )
    available = eventually(
        lambda: with_condition(deployments.get(name="web", namespace=namespace), "Available"),
        what="Deployment Available",
    )
    assert available["status"]["readyReplicas"] == 2


def test_job_creates_a_pod_and_completes(control_plane, kube_client, namespace):
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

    if not control_plane.with_kwok:
        return
    done = eventually(
        lambda: with_condition(jobs.get(name="retrain", namespace=namespace), "Complete"),
        what="Job Complete",
    )
    assert done["status"]["succeeded"] == 1


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
        items = configmaps.get(namespace=namespace).to_dict()["items"]
        return {o["metadata"]["name"] for o in items}

    eventually(lambda: not ({"child-a", "child-b"} & names()), what="children garbage-collected")
    survivor = configmaps.get(name="unrelated", namespace=namespace)
    assert survivor.metadata.uid == unrelated["metadata"]["uid"]


def test_deleting_deployment_cascades_to_replicasets_and_pods(kube_client, namespace):
    deployments = resource(kube_client, "apps/v1", "Deployment")
    replicasets = resource(kube_client, "apps/v1", "ReplicaSet")
    pods = resource(kube_client, "v1", "Pod")
    created = deployments.create(body=deployment("gone", 1), namespace=namespace).to_dict()
    (rs,) = eventually(lambda: children(replicasets, namespace, created), what="ReplicaSet")
    eventually(lambda: children(pods, namespace, rs), what="Pod")

    deployments.delete(name="gone", namespace=namespace, propagation_policy="Background")

    # Pods bound to a node are deleted gracefully and need the node (here
    # kwok) to confirm; this also checks that nothing is left Terminating.
    eventually(
        lambda: (
            not replicasets.get(namespace=namespace).to_dict()["items"]
            and not pods.get(namespace=namespace).to_dict()["items"]
        ),
        what="ReplicaSet and Pods garbage-collected",
    )
