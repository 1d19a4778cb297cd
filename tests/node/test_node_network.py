"""Pod networking and Services on the real node: what kube-proxy, the CNI
bridge and CoreDNS must get right for the operator's Services to work."""

from __future__ import annotations

import json

import pytest

from tests.node.support import (
    apply,
    deployment,
    eventually,
    exec_probe,
    host_get,
    kubectl,
    pod_names,
    service,
    service_routes,
    wait_available,
)


@pytest.fixture
def web(node_cluster, node_namespace, probe_image):
    """A 2-replica Deployment behind a NodePort Service named `web`."""
    apply(
        node_cluster,
        deployment("web", node_namespace, probe_image, replicas=2),
        service("web", node_namespace, node_port=True),
    )
    wait_available(node_cluster, node_namespace, "web")
    # Available means the pods are ready; kube-proxy programs their
    # endpoints a moment later. Users wait for that too.
    service_routes(node_cluster, node_namespace, "web")
    return node_namespace


def _service(cluster, namespace: str) -> dict:
    return json.loads(kubectl(cluster, "-n", namespace, "get", "service", "web", "-o", "json"))


@pytest.mark.parametrize(
    "host",
    ["web", "web.{ns}", "web.{ns}.svc", "web.{ns}.svc.cluster.local"],
)
def test_service_answers_pods_by_dns_name(node_cluster, web, host):
    client = pod_names(node_cluster, web, "web")[0]
    url = f"http://{host.format(ns=web)}/from-pod"
    answer = exec_probe(node_cluster, web, client, "get", url)
    assert answer.split()[0] in pod_names(node_cluster, web, "web")
    assert answer.split()[1] == "/from-pod"


def test_service_cluster_ip_answers_the_host(node_cluster, web):
    cluster_ip = _service(node_cluster, web)["spec"]["clusterIP"]
    answer = eventually(
        lambda: host_get(f"http://{cluster_ip}/from-host"),
        what=f"an answer from ClusterIP {cluster_ip} on the host",
    )
    assert answer.split()[0] in pod_names(node_cluster, web, "web")


def test_node_port_answers_on_the_node_address(node_cluster, web):
    node_port = _service(node_cluster, web)["spec"]["ports"][0]["nodePort"]
    answer = eventually(
        lambda: host_get(f"http://{node_cluster.node_ip}:{node_port}/node-port"),
        what=f"an answer from NodePort {node_port}",
    )
    assert answer.split()[1] == "/node-port"


def test_pod_reaches_pod_by_ip(node_cluster, web):
    pods = json.loads(
        kubectl(node_cluster, "-n", web, "get", "pods", "-l", "app=web", "-o", "json")
    )
    first, second = pods["items"][:2]
    target = f"http://{second['status']['podIP']}:8080/direct"
    answer = exec_probe(node_cluster, web, first["metadata"]["name"], "get", target)
    assert answer.split() == [second["metadata"]["name"], "/direct"]


def test_pod_reaches_itself_through_its_service(node_cluster, node_namespace, probe_image):
    # One replica: the Service can only send the pod back to itself (hairpin).
    apply(
        node_cluster,
        deployment("solo", node_namespace, probe_image, replicas=1),
        service("solo", node_namespace),
    )
    wait_available(node_cluster, node_namespace, "solo")
    service_routes(node_cluster, node_namespace, "solo")
    (solo,) = pod_names(node_cluster, node_namespace, "solo")
    answer = exec_probe(node_cluster, node_namespace, solo, "get", "http://solo/hairpin")
    assert answer.split() == [solo, "/hairpin"]


def test_pods_resolve_names_outside_the_cluster(node_cluster, web):
    # CoreDNS forwards what is not cluster.local to the host's resolvers; the
    # package registries CI can reach are the names that must resolve.
    client = pod_names(node_cluster, web, "web")[0]
    addresses = exec_probe(node_cluster, web, client, "lookup", "pypi.org").split()
    assert addresses, "pypi.org resolved to nothing"


def test_kubelet_port_is_closed_to_pods(node_cluster, web):
    client = pod_names(node_cluster, web, "web")[0]
    url = f"https://{node_cluster.node_ip}:10250/pods"
    answer = exec_probe(node_cluster, web, client, "get", url, check=False)
    assert "connection refused" in answer or "reset" in answer, answer
