"""Loopback networking helpers."""

from __future__ import annotations

import urllib.request

from modelops_cli.controlplane import ports


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the caller binds it soon after).

    Drawn from outside the kernel's ephemeral range, so a server started on it
    cannot lose it to a port the kernel hands someone else (see
    modelops_cli.controlplane.ports).
    """
    return ports.free_port()


def http_open(url: str, data: bytes | None = None, timeout: float = 5.0):
    """urlopen without any environment proxy (loopback only)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=data)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    return opener.open(request, timeout=timeout)
