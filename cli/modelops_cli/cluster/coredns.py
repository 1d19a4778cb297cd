"""Cluster DNS: CoreDNS as a Deployment in kube-system behind the kube-dns Service.

CoreDNS runs as a pod rather than as a host process: it then reads the API
with a ServiceAccount token through the `kubernetes` Service (the same path
the operator takes), the kubelet restarts it if it dies, `kubectl -n
kube-system logs deploy/coredns` shows its log, and `down` needs nothing
extra to stop it. Its image is the static binary built by `make node`
(tools/node/coredns) written as an archive; it runs as a non-root user on an
unprivileged port, which the kube-dns Service maps to 53.

Names outside the cluster are forwarded to the resolvers of the
resolv.conf the kubelet gives `dnsPolicy: Default` pods: the host's.
"""

from __future__ import annotations

from .layout import CLUSTER_DOMAIN, DNS_SERVICE_IP

NAMESPACE = "kube-system"
NAME = "coredns"
SERVICE = "kube-dns"
DNS_PORT = 8053
HEALTH_PORT = 8080
READY_PORT = 8181
LABELS = {"k8s-app": "kube-dns"}


def render_corefile(
    *, domain: str = CLUSTER_DOMAIN, port: int = DNS_PORT, upstream: str = "/etc/resolv.conf"
) -> str:
    """The Corefile: cluster names from the API, everything else forwarded."""
    if not domain or domain.startswith(".") or domain.endswith("."):
        raise ValueError(f"domain: {domain!r} is not a DNS domain like cluster.local")
    if not 0 < port < 65536:
        raise ValueError(f"port: {port} is not a port number")
    return "\n".join(
        [
            f".:{port} {{",
            "    errors",
            f"    health :{HEALTH_PORT} {{",
            "        lameduck 2s",
            "    }",
            f"    ready :{READY_PORT}",
            f"    kubernetes {domain} in-addr.arpa ip6.arpa {{",
            "        pods insecure",
            "        fallthrough in-addr.arpa ip6.arpa",
            "        ttl 30",
            "    }",
            f"    forward . {upstream}",
            "    cache 30",
            # Stops with an error instead of answering forever if the
            # upstream resolver turns out to be CoreDNS itself.
            "    loop",
            "    reload",
            "    loadbalance",
            "}",
            "",
        ]
    )


def _rbac() -> list[dict]:
    # What the kubernetes plugin watches; the same rules as kubeadm's CoreDNS.
    rules = [
        {"apiGroups": [""], "resources": ["endpoints", "services", "pods", "namespaces"],
         "verbs": ["list", "watch"]},
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
         "verbs": ["list", "watch"]},
    ]  # fmt: skip
    role_name = f"system:{NAME}"
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": NAME, "namespace": NAMESPACE},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": role_name},
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": role_name},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": role_name,
            },
            "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}],
        },
    ]


def _deployment(image: str) -> dict:
    container = {
        "name": NAME,
        "image": image,
        # The image was imported from an archive; there is nothing to pull.
        "imagePullPolicy": "Never",
        "args": ["-conf", "/etc/coredns/Corefile"],
        "ports": [
            {"name": "dns", "containerPort": DNS_PORT, "protocol": "UDP"},
            {"name": "dns-tcp", "containerPort": DNS_PORT, "protocol": "TCP"},
        ],
        "resources": {"requests": {"cpu": "50m", "memory": "40Mi"}, "limits": {"memory": "170Mi"}},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/coredns", "readOnly": True}],
        "livenessProbe": {
            "httpGet": {"path": "/health", "port": HEALTH_PORT},
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
            "failureThreshold": 5,
        },
        "readinessProbe": {"httpGet": {"path": "/ready", "port": READY_PORT}, "periodSeconds": 1},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": dict(LABELS)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(LABELS)},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "serviceAccountName": NAME,
                    # Default: the node's resolv.conf, whose resolvers CoreDNS
                    # forwards to; ClusterFirst would point it at itself.
                    "dnsPolicy": "Default",
                    "priorityClassName": "system-cluster-critical",
                    "terminationGracePeriodSeconds": 5,
                    "securityContext": {
                        "runAsUser": 65532,
                        "runAsGroup": 65532,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [{"name": "config", "configMap": {"name": NAME}}],
                },
            },
        },
    }


def manifests(*, image: str, corefile: str, service_ip: str = DNS_SERVICE_IP) -> list[dict]:
    """Every object of the cluster DNS, in the order they must be created."""
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "data": {"Corefile": corefile},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": SERVICE, "namespace": NAMESPACE, "labels": dict(LABELS)},
        "spec": {
            "clusterIP": service_ip,
            "selector": dict(LABELS),
            "ports": [
                {"name": "dns", "port": 53, "targetPort": DNS_PORT, "protocol": "UDP"},
                {"name": "dns-tcp", "port": 53, "targetPort": DNS_PORT, "protocol": "TCP"},
            ],
        },
    }
    return [*_rbac(), config_map, service, _deployment(image)]
