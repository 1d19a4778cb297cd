"""Manifests and commands shared by the node tests.

Pods run the probe image (tests/node/probe): `serve` answers HTTP on 8080 with
the pod's name; the other sub-commands are clients run with `kubectl exec`
or as a pod's command. Every pod gets a short grace period: the probe ends
on SIGTERM anyway, and a slow deletion would only slow the tests down.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

GRACE_SECONDS = 2
PORT = 8080


def kubectl(cluster, *args: str, check: bool = True, timeout: float = 120) -> str:
    """Run the cluster's own kubectl; fail the test with its output on error."""
    result = subprocess.run(
        [str(cluster.kubectl), *args],
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"kubectl {' '.join(args)} failed (exit {result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    return result.stdout if check else result.stdout + result.stderr


def apply(cluster, *objects: dict) -> None:
    document = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
    result = subprocess.run(
        [str(cluster.kubectl), "apply", "-f", "-"],
        input=json.dumps(document),
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"kubectl apply failed:\n{result.stderr}", pytrace=False)


def container(image: str, args: list[str] | None = None, **extra) -> dict:
    spec = {
        "name": "probe",
        "image": image,
        # Imported from an archive: there is nothing to pull, ever.
        "imagePullPolicy": "Never",
        "args": args or ["serve"],
    }
    spec.update(extra)
    return spec


def pod_spec(image: str, args: list[str] | None = None, **extra) -> dict:
    spec = {
        "terminationGracePeriodSeconds": GRACE_SECONDS,
        "containers": [container(image, args)],
    }
    spec.update(extra)
    return spec


def deployment(name: str, namespace: str, image: str, replicas: int = 2) -> dict:
    labels = {"app": name}
    probe = {"httpGet": {"path": "/healthz", "port": PORT}, "periodSeconds": 1}
    spec = pod_spec(image)
    spec["containers"][0]["readinessProbe"] = probe
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


def service(name: str, namespace: str, *, node_port: bool = False) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "type": "NodePort" if node_port else "ClusterIP",
            "selector": {"app": name},
            "ports": [{"port": 80, "targetPort": PORT}],
        },
    }


def pod(name: str, namespace: str, image: str, args: list[str], **extra) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": pod_spec(image, args, restartPolicy="Never", **extra),
    }


def wait_available(cluster, namespace: str, name: str, timeout: int = 120) -> None:
    kubectl(
        cluster,
        "-n",
        namespace,
        "wait",
        f"deployment/{name}",
        "--for=condition=Available",
        f"--timeout={timeout}s",
        timeout=timeout + 30,
    )


def pod_names(cluster, namespace: str, app: str) -> list[str]:
    out = kubectl(cluster, "-n", namespace, "get", "pods", "-l", f"app={app}", "-o", "name")
    return [line.removeprefix("pod/") for line in out.split()]


def exec_probe(cluster, namespace: str, pod_name: str, *args: str, check: bool = True) -> str:
    return kubectl(cluster, "-n", namespace, "exec", pod_name, "--", "/probe", *args, check=check)


def host_get(url: str) -> str | None:
    """GET from the host itself (no proxy: ClusterIPs and NodePorts are
    routed by this machine's iptables); None while it does not answer 200."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as response:
            return response.read().decode() if response.status == 200 else None
    except (urllib.error.URLError, OSError):
        return None


def eventually(
    check,
    *,
    timeout: float = 60.0,
    interval: float = 0.5,
    what: str = "condition",
    diagnose: Callable[[], str] | None = None,
):
    """Poll `check()` until it returns something truthy and return it.

    On timeout the test fails with the last value and, when given, what
    `diagnose()` says of the system (its text is appended as it is).
    """
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    detail = diagnose() if diagnose is not None else ""
    pytest.fail(
        f"{what} not reached within {timeout:.0f} s (last value: {last!r}){detail}", pytrace=False
    )


def service_routes(cluster, namespace: str, name: str, timeout: float = 60.0) -> None:
    """Wait until the Service's ClusterIP answers from one of its own pods."""
    client = pod_names(cluster, namespace, name)[0]
    cluster_ip = kubectl(
        cluster, "-n", namespace, "get", "service", name, "-o", "jsonpath={.spec.clusterIP}"
    ).strip()

    def answers() -> bool:
        out = exec_probe(cluster, namespace, client, "get", f"http://{cluster_ip}/", check=False)
        return out.split()[:1] != [] and out.split()[0].startswith(f"{name}-")

    eventually(answers, timeout=timeout, what=f"Service {name} routing to its pods")


def pod_status(cluster, namespace: str, name: str) -> dict:
    return json.loads(kubectl(cluster, "-n", namespace, "get", "pod", name, "-o", "json"))["status"]


def terminated(cluster, namespace: str, name: str) -> dict | None:
    """The terminated state of the pod's container, once it has ended."""
    statuses = pod_status(cluster, namespace, name).get("containerStatuses") or []
    for status in statuses:
        state = status.get("state", {}).get("terminated") or status.get("lastState", {}).get(
            "terminated"
        )
        if state:
            return state
    return None


def uninstall_stack(stack, namespace: str) -> None:
    """Leave the shared node as the other node tests expect it: the demo stack's Helm
    release gone, and its namespaces deleted *and gone*. A namespace still terminating
    refuses new content, so the next module's `helm install` into the same namespace
    failed ("unable to create new content in namespace modelops-system because it is
    being terminated") when the two modules ran back to back."""
    from modelops_cli.demo.stack import OPERATOR_NAMESPACE, RELEASE, _helm

    subprocess.run(
        [_helm(), "uninstall", RELEASE, "-n", OPERATOR_NAMESPACE, "--wait"],
        env=stack.cluster.env(), capture_output=True, timeout=180, check=False,
    )  # fmt: skip
    namespaces = (namespace, "monitoring", "registry", OPERATOR_NAMESPACE)
    stack.kubectl("delete", "namespace", *namespaces, "--ignore-not-found", "--wait=true",
                  "--timeout=180s", timeout=200)  # fmt: skip
