"""Free loopback ports.

Several control planes may run on one machine (parallel test sessions, a
developer's `up`), so no component uses its default port.
"""

from __future__ import annotations

import socket


def free_ports(count: int) -> list[int]:
    """Return `count` distinct ports that were free on 127.0.0.1 a moment ago.

    All sockets are held open until every port is chosen so the kernel cannot
    hand out the same port twice; a tiny race with other programs remains and
    is covered by the start-up retry.
    """
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()
