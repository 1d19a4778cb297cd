"""Certificates and API server flags for a control plane that serves a real node."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from modelops_cli.cluster import pki as node_pki
from modelops_cli.controlplane import flags
from modelops_cli.controlplane import pki as cp_pki
from modelops_cli.controlplane.runner import _kubelet_api_binding

NODE_IP = "192.0.2.2"


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    root = tmp_path_factory.mktemp("pki")
    plane = cp_pki.generate(root / "plane", extra_ips=(NODE_IP,))
    node = node_pki.generate(root / "node", plane, node_name="vm", node_ip=NODE_IP)
    return plane, node


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def subject(cert: x509.Certificate) -> tuple[str, list[str]]:
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    orgs = [o.value for o in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return cn, orgs


def sans(cert: x509.Certificate) -> tuple[list, list[str]]:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return san.get_values_for_type(x509.IPAddress), san.get_values_for_type(x509.DNSName)


def usages(cert: x509.Certificate) -> set:
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_apiserver_serves_the_node_address_and_the_kubernetes_service(bundles):
    plane, _ = bundles
    ips, names = sans(load(plane.serving_cert))
    for address in ("127.0.0.1", "10.96.0.1", NODE_IP):
        assert ipaddress.ip_address(address) in ips
    assert "kubernetes.default.svc.cluster.local" in names


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ((), ("127.0.0.1", "10.96.0.1")),
        (("192.0.2.2",), ("127.0.0.1", "10.96.0.1", "192.0.2.2")),
        (("127.0.0.1",), ("127.0.0.1", "10.96.0.1")),
    ],
)
def test_serving_names(extra, expected):
    assert cp_pki.serving_names(extra)[1] == expected


def test_apiserver_kubelet_client_is_not_a_master(bundles):
    plane, _ = bundles
    cert = load(plane.kubelet_client_cert)
    cert.verify_directly_issued_by(load(plane.ca_cert))
    assert subject(cert) == (cp_pki.KUBELET_CLIENT_USER, [])
    assert usages(cert) == {ExtendedKeyUsageOID.CLIENT_AUTH}
    binding = _kubelet_api_binding()
    assert binding["roleRef"]["name"] == "system:kubelet-api-admin"
    assert binding["subjects"][0]["name"] == cp_pki.KUBELET_CLIENT_USER


@pytest.mark.parametrize(
    ("name", "cn", "orgs", "usage"),
    [
        ("kubelet-client", "system:node:vm", ["system:nodes"], ExtendedKeyUsageOID.CLIENT_AUTH),
        ("kubelet-serving", "system:node:vm", ["system:nodes"], ExtendedKeyUsageOID.SERVER_AUTH),
        ("kube-proxy", "system:kube-proxy", [], ExtendedKeyUsageOID.CLIENT_AUTH),
    ],
)
def test_node_identities(bundles, name, cn, orgs, usage):
    plane, node = bundles
    cert = load(node.cert(name))
    cert.verify_directly_issued_by(load(plane.ca_cert))
    assert subject(cert) == (cn, orgs)
    assert usages(cert) == {usage}
    assert node.key(name).stat().st_mode & 0o077 == 0


def test_kubelet_serving_cert_names_the_node(bundles):
    _, node = bundles
    ips, names = sans(load(node.cert("kubelet-serving")))
    assert ips == [ipaddress.ip_address(NODE_IP)]
    assert names == ["vm"]


def _args(argv: list[str]) -> dict[str, str]:
    return dict(a[2:].split("=", 1) for a in argv[1:])


def test_apiserver_flags_for_a_real_node(tmp_path):
    layout = flags.Layout(tmp_path)
    ports = flags.Ports(2379, 2380, 6443, 10257, 10259)
    args = _args(
        flags.apiserver_args(Path("/bin/kube-apiserver"), layout, ports, node_address=NODE_IP)
    )
    assert args["bind-address"] == args["advertise-address"] == NODE_IP
    # The lease reconciler (the default) publishes the address as the
    # `kubernetes` Service's endpoint, which pods then reach.
    assert "endpoint-reconciler-type" not in args
    assert args["kubelet-client-certificate"] == str(layout.pki.kubelet_client_cert)
    assert args["kubelet-certificate-authority"] == str(layout.pki.ca_cert)
    assert args["kubelet-preferred-address-types"].split(",")[0] == "InternalIP"
    assert args["enable-admission-plugins"] == "NodeRestriction"
    assert args["authorization-mode"] == "Node,RBAC"
    assert flags.apiserver_url(ports, NODE_IP) == f"https://{NODE_IP}:6443"


def test_apiserver_flags_without_a_node_are_unchanged(tmp_path):
    layout = flags.Layout(tmp_path)
    ports = flags.Ports(2379, 2380, 6443, 10257, 10259)
    args = _args(flags.apiserver_args(Path("/bin/kube-apiserver"), layout, ports))
    assert args["endpoint-reconciler-type"] == "none"
    assert not any(key.startswith("kubelet-") for key in args)
