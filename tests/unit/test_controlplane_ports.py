"""Free ports come from a pool the kernel never hands out by itself."""

from __future__ import annotations

import socket

import pytest

from modelops_cli.controlplane import ports


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("32768\t60999\n", range(32768, 61000)),
        ("1024 65535", range(1024, 65536)),
        ("25000 25009", range(25000, 25010)),
    ],
)
def test_ephemeral_range_reads_the_kernels_two_numbers(text, expected):
    assert ports.ephemeral_range(text) == expected


@pytest.mark.parametrize(
    ("ephemeral", "size", "excluded"),
    [
        (range(32768, 61000), 10000, None),  # the default: the whole pool
        (range(25000, 25010), 9990, 25005),  # a narrow range inside the pool
        (range(1024, 65536), 0, 20000),  # every port is ephemeral: no pool
    ],
)
def test_the_pool_leaves_out_the_ephemeral_range(ephemeral, size, excluded):
    chosen = ports.pool(ephemeral)
    assert len(chosen) == size
    assert excluded not in chosen


def test_free_ports_are_distinct_and_outside_the_ephemeral_range():
    chosen = ports.free_ports(20)
    assert len(set(chosen)) == 20
    ephemeral = ports.ephemeral_range()
    assert all(p in ports.POOL and p not in ephemeral for p in chosen)


def test_a_port_in_use_is_passed_over(monkeypatch):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        taken = busy.getsockname()[1]
        busy.listen()
        with socket.socket() as spare:
            spare.bind(("127.0.0.1", 0))
            free = spare.getsockname()[1]
        # A pool of two, the busy port tried first (candidates are popped from
        # the end, and not shuffled here): it must be passed over.
        monkeypatch.setattr(ports, "pool", lambda ephemeral: [free, taken])
        monkeypatch.setattr(ports.random, "shuffle", lambda candidates: None)
        assert ports.free_ports(1) == [free]


def test_without_a_pool_the_kernel_chooses(monkeypatch):
    monkeypatch.setattr(ports, "pool", lambda ephemeral: [])
    chosen = ports.free_ports(3)
    assert len(set(chosen)) == 3
