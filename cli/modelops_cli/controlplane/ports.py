"""Free loopback ports, chosen where no other program is handed one.

Several control planes may run on one machine (parallel test sessions, a
developer's `up`), so no component uses its default port.

Binding port 0 would be simpler, but the kernel hands out those ports from its
ephemeral range, the same range every other `bind(0)` and every outgoing
connection draws from. A port found free that way and released for a server
to bind can be taken in between: BentoML, for one, picks its process-manager
ports with `bind(0)` while it starts, and CI once saw a benchmark's HTTP port
become BentoML's ZeroMQ socket. So ports come from a pool below the ephemeral
range (and below Kubernetes' NodePort range, 30000-32767), checked free by
binding them; only another picker of this pool can race us, at random over
thousands of ports.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

# Below NodePorts (30000-32767) and the kernel's default ephemeral range
# (32768-60999); above the ports daemons usually claim.
POOL = range(20000, 30000)
_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")


def ephemeral_range(text: str | None = None) -> range:
    """The kernel's ephemeral ports (read from /proc unless `text` is given)."""
    if text is None:
        try:
            text = _EPHEMERAL.read_text()
        except OSError:
            text = "32768 60999"  # Linux's default
    low, high = (int(part) for part in text.split())
    return range(low, high + 1)


def pool(ephemeral: range) -> list[int]:
    """POOL without the ports the kernel may hand out by itself."""
    return [port for port in POOL if port not in ephemeral]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Return `count` distinct ports that were free on `host` a moment ago.

    All sockets are held open until every port is chosen so no port is
    returned twice. If this machine's ephemeral range covers the whole pool,
    the kernel chooses (`bind(0)`), as before.
    """
    candidates = pool(ephemeral_range())
    random.shuffle(candidates)
    sockets: list[socket.socket] = []
    try:
        while len(sockets) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            if not candidates:
                sock.bind((host, 0))
                continue
            try:
                sock.bind((host, candidates.pop()))
            except OSError:
                sockets.pop().close()  # in use (or lingering): try the next one
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def free_port(host: str = "127.0.0.1") -> int:
    """One port that was free on `host` a moment ago (see free_ports)."""
    return free_ports(1, host)[0]
