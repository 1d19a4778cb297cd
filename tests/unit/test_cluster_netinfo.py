"""The node's name, address and routes, from /proc/net/route and the hostname."""

from __future__ import annotations

import ipaddress

import pytest

from modelops_cli.cluster import netinfo

ROUTES = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
docker0\t000011AC\t00000000\t0000\t0\t0\t0\t0000FFFF\t0\t0\t0
wg0\t0000000A\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0
"""


def test_parse_routes_keeps_up_routes_in_network_order():
    routes = netinfo.parse_routes(ROUTES)
    assert [(r.iface, str(r.destination), r.gateway) for r in routes] == [
        ("eth0", "0.0.0.0/0", ipaddress.IPv4Address("192.0.2.1")),
        ("eth0", "192.0.2.0/24", None),
        ("wg0", "10.0.0.0/8", None),
    ]
    assert netinfo.default_route(routes).gateway == ipaddress.IPv4Address("192.0.2.1")


def test_no_default_route_asks_for_node_ip():
    header = ROUTES.splitlines()[0] + "\n"
    assert netinfo.default_route(netinfo.parse_routes(header)) is None
    with pytest.raises(netinfo.NetworkError, match="--node-ip"):
        netinfo.node_ip(header)


@pytest.mark.parametrize(
    ("cidr", "conflicting"),
    [
        ("10.244.0.0/24", ["wg0"]),  # inside 10.0.0.0/8
        ("10.96.0.0/16", ["wg0"]),
        ("172.20.0.0/16", []),  # docker0 is down
        ("192.0.2.128/25", ["eth0"]),
    ],
)
def test_conflicts_ignore_the_default_route(cidr, conflicting):
    routes = netinfo.parse_routes(ROUTES)
    assert [r.iface for r in netinfo.conflicts(cidr, routes)] == conflicting


def test_conflicts_can_ignore_the_nodes_own_bridge():
    routes = netinfo.parse_routes(ROUTES)
    assert netinfo.conflicts("10.244.0.0/24", routes, ignore_ifaces=("wg0",)) == []


@pytest.mark.parametrize(
    ("hostname", "expected"),
    [
        ("vm", "vm"),
        ("Build-Host.Example.com", "build-host.example.com"),
        ("  node-1\n", "node-1"),
    ],
)
def test_node_name_is_the_lowercased_hostname(hostname, expected):
    assert netinfo.node_name(hostname) == expected


@pytest.mark.parametrize("hostname", ["", "under_score", "-dash", "a" * 254, "dot."])
def test_node_name_refuses_what_kubernetes_refuses(hostname):
    with pytest.raises(netinfo.NetworkError, match="not a valid Kubernetes node name"):
        netinfo.node_name(hostname)


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("192.0.2.2", True),
        ("127.0.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fd00::1", False),
        ("node", False),
    ],
)
def test_check_node_ip(address, ok):
    if ok:
        assert netinfo.check_node_ip(address) == address
    else:
        with pytest.raises(netinfo.NetworkError, match="node IP"):
            netinfo.check_node_ip(address)
