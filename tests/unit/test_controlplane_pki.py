"""The certificates a local control plane is started with."""

from __future__ import annotations

import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from modelops_cli.controlplane import pki


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return pki.generate(tmp_path_factory.mktemp("pki"))


def load(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def usages(cert: x509.Certificate) -> set:
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_serving_cert_is_signed_by_ca_and_valid_for_loopback(bundle):
    ca, serving = load(bundle.ca_cert), load(bundle.serving_cert)
    serving.verify_directly_issued_by(ca)
    san = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert "kubernetes.default.svc" in san.get_values_for_type(x509.DNSName)
    assert usages(serving) == {ExtendedKeyUsageOID.SERVER_AUTH}


def test_admin_client_cert_is_in_system_masters(bundle):
    admin = load(bundle.admin_cert)
    admin.verify_directly_issued_by(load(bundle.ca_cert))
    organisations = admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    assert [o.value for o in organisations] == ["system:masters"]
    assert usages(admin) == {ExtendedKeyUsageOID.CLIENT_AUTH}


def test_ca_is_a_ca_and_leaf_is_not(bundle):
    ca = load(bundle.ca_cert)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    leaf = load(bundle.serving_cert)
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_front_proxy_client_is_signed_by_its_own_ca(bundle):
    client = load(bundle.front_proxy_client_cert)
    client.verify_directly_issued_by(load(bundle.front_proxy_ca_cert))
    with pytest.raises(ValueError):
        client.verify_directly_issued_by(load(bundle.ca_cert))
    cn = client.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == pki.FRONT_PROXY_CLIENT_NAME


def test_service_account_keys_are_a_pair(bundle):
    private = serialization.load_pem_private_key(bundle.sa_key.read_bytes(), password=None)
    public = serialization.load_pem_public_key(bundle.sa_pub.read_bytes())
    assert private.public_key().public_numbers() == public.public_numbers()


def test_private_keys_are_owner_only(bundle):
    for path in (bundle.ca_key, bundle.serving_key, bundle.admin_key, bundle.sa_key):
        assert path.stat().st_mode & 0o077 == 0, path


def test_each_generation_is_fresh(bundle, tmp_path):
    other = pki.generate(tmp_path)
    assert other.ca_cert.read_bytes() != bundle.ca_cert.read_bytes()
    assert other.sa_key.read_bytes() != bundle.sa_key.read_bytes()
