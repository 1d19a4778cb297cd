"""What `cluster up` checks before starting anything, and how it says so."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from modelops_cli.cluster import assets, preflight
from modelops_cli.cluster.layout import Layout, default_state_dir
from modelops_cli.cluster.preflight import Facts

NODE_ENV = {
    "KUBELET": "/c/kubelet",
    "KUBE_PROXY": "/c/kube-proxy",
    "KUBECTL": "/c/kubectl",
    "COREDNS": "/c/coredns",
    "PAUSE_IMAGE": "/c/pause.tar",
    "PAUSE_REF": "modelops.local/pause:1",
    "COREDNS_IMAGE": "/c/coredns.tar",
    "COREDNS_REF": "modelops.local/coredns:1",
}
# A pytest-like temporary state dir: its containerd ttrpc socket path has 108 characters.
DEEP = Layout(Path("/tmp/pytest-of-root/pytest-12/test_cluster_page0/xdg-state/modelops/cluster"))
GOOD = Facts(
    is_root=True,
    filesystems=frozenset({"ext4", "overlay", "cgroup", "tmpfs"}),
    cgroup_v1=frozenset(preflight.CGROUP_V1_CONTROLLERS),
    cgroup_v2=False,
    tools={name: Path(f"/usr/bin/{name}") for name in assets.SYSTEM_TOOLS},
    cni_dir=Path("/usr/lib/cni"),
    node_env=dict(NODE_ENV),
    node_env_path=Path("/cache/node/node.env"),
    plane_error=None,
    bridge_netfilter=True,
    existing_files=frozenset(v for k, v in NODE_ENV.items() if k in preflight.NODE_ENV_FILES),
    socket_path=str(Layout(Path("/root/.local/state/modelops/cluster")).longest_socket),
)


def test_the_default_state_dir_of_root_leaves_room_for_the_sockets():
    assert len(str(Layout(default_state_dir()).longest_socket)) <= 104


def test_a_ready_machine_has_no_problems():
    assert preflight.problems(GOOD) == []


def test_cgroup_v2_alone_is_enough():
    facts = dataclasses.replace(GOOD, cgroup_v1=frozenset(), cgroup_v2=True)
    assert preflight.problems(facts) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"is_root": False}, "not root"),
        ({"filesystems": frozenset({"ext4"})}, "no overlay filesystem"),
        ({"cgroup_v1": frozenset({"cpu", "cpuacct"})}, "cgroup controllers not mounted: cpuset"),
        ({"bridge_netfilter": False}, "br_netfilter"),
        ({"cni_dir": None}, "no CNI plugins (bridge, host-local, loopback, portmap)"),
        ({"node_env": None}, "/cache/node/node.env is missing): run `make node`"),
        ({"plane_error": "missing control-plane binaries: etcd"}, "missing control-plane"),
        ({"busy_ports": (10250,)}, "port 10250 is already in use"),
        (
            {"route_conflicts": ("10.244.0.0/24 overlaps the host's route 10.0.0.0/8 on eth1",)},
            "pods or Services there would be unreachable",
        ),
        (
            {"socket_path": str(DEEP.longest_socket)},
            f"{DEEP.longest_socket} has 108 characters, containerd accepts 104; "
            "pass a shorter --state-dir",
        ),
    ],
)
def test_each_missing_part_is_named_with_its_remedy(change, expected):
    found = preflight.problems(dataclasses.replace(GOOD, **change))
    assert len(found) == 1
    assert expected in found[0]


def test_missing_programs_name_their_debian_packages():
    tools = dict(GOOD.tools, containerd=None, runc=None, nft=None)
    (problem,) = preflight.problems(dataclasses.replace(GOOD, tools=tools))
    assert problem.startswith("missing programs: containerd, nft, runc")
    assert "(Debian packages containerd nftables runc)" in problem
    assert "make node" in problem


def test_node_env_naming_a_deleted_file_asks_for_make_node_again():
    files = GOOD.existing_files - {"/c/kubelet"}
    env = {k: v for k, v in NODE_ENV.items() if k != "COREDNS_REF"}
    (problem,) = preflight.problems(dataclasses.replace(GOOD, existing_files=files, node_env=env))
    assert "lacks KUBELET, COREDNS_REF" in problem
    assert "`make node`" in problem


def test_everything_missing_is_reported_at_once():
    facts = dataclasses.replace(
        GOOD, is_root=False, cni_dir=None, node_env=None, filesystems=frozenset()
    )
    assert len(preflight.problems(facts)) == 4


@pytest.mark.parametrize(
    ("mounts", "v1", "v2"),
    [
        (
            "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
            "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n"
            "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n",
            {"memory", "cpu", "cpuacct"},
            False,
        ),
        ("cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n", set(), True),
        ("/dev/vda / ext4 rw 0 0\n", set(), False),
    ],
)
def test_mounted_cgroups(mounts, v1, v2):
    assert preflight._mounted_cgroups(mounts) == (frozenset(v1), v2)


def test_parse_env_reads_provision_output():
    text = "# wrote 0\nKUBELET=/c/kubelet\nPAUSE_REF='modelops.local/pause:1'\n\nbroken line\n"
    assert assets.parse_env(text) == {
        "KUBELET": "/c/kubelet",
        "PAUSE_REF": "modelops.local/pause:1",
    }


GiB = 2**30


@pytest.mark.parametrize(
    ("free", "total", "refused"),
    [
        (20 * GiB, 250 * GiB, False),
        # 6 GiB for the node plus the kubelet's 1% reserve of 250 GiB.
        (int(8.5 * GiB), 250 * GiB, False),
        (int(8.4 * GiB), 250 * GiB, True),
        (5 * GiB, 20 * GiB, True),
        (None, None, False),  # unknown: not checked
    ],
)
def test_too_little_disk_is_named_with_what_it_needs(free, total, refused):
    found = preflight.problems(dataclasses.replace(GOOD, disk_free=free, disk_total=total))
    if not refused:
        assert found == []
        return
    (message,) = found
    assert message.startswith(f"{free / GiB:.1f} GiB free for the node's state directory")
    assert f"needs {preflight.disk_needed(total) / GiB:.1f} GiB" in message
    assert "--state-dir" in message


def test_the_disk_of_a_state_dir_not_made_yet_is_its_parents(tmp_path):
    disk = preflight._disk(tmp_path / "not" / "made" / "yet")
    assert disk["disk_total"] > 0
    assert 0 <= disk["disk_free"] <= disk["disk_total"]
