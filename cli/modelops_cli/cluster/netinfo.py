"""The node's identity on this machine: its name, its IPv4 address, its routes.

The node IP is the source address of the default route: the address other
machines and the host's own programs use, which differs per machine (and is
never a loopback address, which pods could not reach). The node name is the
machine's hostname: the API server dials the kubelet by InternalIP first,
but a made-up name breaks `kubectl logs/exec` where it falls back to it.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_RTF_UP = 0x1
_RTF_GATEWAY = 0x2


class NetworkError(RuntimeError):
    """The machine's network does not allow a node (message says why)."""


@dataclass(frozen=True)
class Route:
    iface: str
    destination: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address | None


def _hex_ip(value: str) -> ipaddress.IPv4Address:
    # /proc/net/route prints addresses as host-order (little-endian) hex.
    return ipaddress.IPv4Address(struct.pack("<I", int(value, 16)))


def parse_routes(text: str) -> list[Route]:
    """The up IPv4 routes in /proc/net/route's text."""
    routes = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8 or not int(fields[3], 16) & _RTF_UP:
            continue
        destination, mask = _hex_ip(fields[1]), _hex_ip(fields[7])
        gateway = _hex_ip(fields[2]) if int(fields[3], 16) & _RTF_GATEWAY else None
        network = ipaddress.IPv4Network(f"{destination}/{mask}", strict=False)
        routes.append(Route(fields[0], network, gateway))
    return routes


def default_route(routes: list[Route]) -> Route | None:
    defaults = [r for r in routes if r.destination.prefixlen == 0]
    return defaults[0] if defaults else None


def conflicts(cidr: str, routes: list[Route], ignore_ifaces: tuple[str, ...] = ()) -> list[Route]:
    """Routes other than the default that overlap `cidr` (a pod or Service range
    the host already routes elsewhere would make pods unreachable)."""
    network = ipaddress.ip_network(cidr)
    return [
        r
        for r in routes
        if r.destination.prefixlen > 0
        and r.iface not in ignore_ifaces
        and r.destination.overlaps(network)
    ]


def source_address(destination: str) -> str:
    """The local address the kernel would send from to reach `destination`.

    Connecting a UDP socket sends nothing; it only runs the route lookup.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((destination, 9))
        return probe.getsockname()[0]


def node_ip(route_text: str | None = None) -> str:
    """The source address of the default route, or NetworkError."""
    if route_text is None:
        route_text = Path("/proc/net/route").read_text()
    route = default_route(parse_routes(route_text))
    if route is None:
        raise NetworkError(
            "no IPv4 default route: the node needs the address pods and the host share; "
            "pass --node-ip ADDRESS"
        )
    target = str(route.gateway) if route.gateway else "192.0.2.1"
    address = source_address(target)
    if ipaddress.ip_address(address).is_loopback:
        raise NetworkError(f"the default route's source address {address} is loopback")
    return address


def check_node_ip(address: str) -> str:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError as exc:
        raise NetworkError(f"node IP: {address!r} is not an IP address") from exc
    if parsed.version != 4 or parsed.is_loopback or parsed.is_unspecified:
        raise NetworkError(f"node IP: {address} must be a non-loopback IPv4 address")
    return address


def node_name(hostname: str | None = None) -> str:
    """The machine's hostname as a Node name (lower case, DNS-1123 subdomain)."""
    name = (hostname if hostname is not None else socket.gethostname()).strip().lower()
    if not name or len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        raise NetworkError(
            f"hostname {name!r} is not a valid Kubernetes node name "
            "(lower-case letters, digits, '-' and '.'); set a hostname that is"
        )
    return name
