"""Certificates of the node, signed by the control plane's cluster CA.

* kubelet client: `system:node:<name>` in `system:nodes`, which the API
  server's Node authorizer and NodeRestriction admission recognise: the
  kubelet may only touch its own Node and the pods bound to it.
* kubelet serving: for the node's IP and name, so the API server (which
  checks it against the cluster CA) can call `kubectl logs/exec` through it.
* kube-proxy client: `system:kube-proxy`, which the built-in
  `system:node-proxier` binding covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from modelops_cli.controlplane import pki as cp_pki

NODES_GROUP = "system:nodes"
KUBE_PROXY_USER = "system:kube-proxy"


def node_user(node_name: str) -> str:
    return f"system:node:{node_name}"


@dataclass(frozen=True)
class NodePki:
    root: Path

    def cert(self, name: str) -> Path:
        return self.root / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.root / f"{name}.key"


def _load_ca(plane_pki: cp_pki.Pki):
    key = serialization.load_pem_private_key(plane_pki.ca_key.read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(plane_pki.ca_cert.read_bytes())
    return key, cert


def _write(node: NodePki, name: str, key, cert) -> None:
    cp_pki.write_key(node.key(name), key)
    cp_pki.write_cert(node.cert(name), cert)


def generate(root: Path, plane_pki: cp_pki.Pki, *, node_name: str, node_ip: str) -> NodePki:
    """Write the kubelet's and kube-proxy's certificates into `root`."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    node = NodePki(root)
    ca_key, ca_cert = _load_ca(plane_pki)
    key, cert = cp_pki.make_leaf(
        ca_key, ca_cert, node_user(node_name), organization=NODES_GROUP, client=True
    )
    _write(node, "kubelet-client", key, cert)
    key, cert = cp_pki.make_leaf(
        ca_key,
        ca_cert,
        node_user(node_name),
        organization=NODES_GROUP,
        server=True,
        dns_names=(node_name,),
        ip_addresses=(node_ip,),
    )
    _write(node, "kubelet-serving", key, cert)
    key, cert = cp_pki.make_leaf(ca_key, ca_cert, KUBE_PROXY_USER, client=True)
    _write(node, "kube-proxy", key, cert)
    return node
