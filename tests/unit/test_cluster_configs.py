"""The node's configuration renderers: containerd, CNI, kubelet, kube-proxy, CoreDNS."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from modelops_cli.cluster import cni, containerd, coredns, kubelet, kubeproxy
from modelops_cli.cluster.layout import DNS_SERVICE_IP, POD_CIDR, Layout

LAYOUT = Layout(Path("/state"))
CRI = ("plugins", "io.containerd.grpc.v1.cri")


def _containerd() -> dict:
    text = containerd.render_config(
        LAYOUT,
        pause_ref="modelops.local/pause:abc",
        cni_bin_dir=Path("/usr/lib/cni"),
        runc=Path("/usr/sbin/runc"),
    )
    return tomllib.loads(text)


def _get(document: dict, *keys: str):
    for key in keys:
        document = document[key]
    return document


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (("version",), 2),
        (("root",), "/state/containerd/root"),
        (("state",), "/state/containerd/state"),
        (("grpc", "address"), "/state/containerd/containerd.sock"),
        (("plugins", "io.containerd.internal.v1.opt", "path"), "/state/containerd/opt"),
        ((*CRI, "sandbox_image"), "modelops.local/pause:abc"),
        # Root here lacks CAP_SYS_RESOURCE: runc must never lower oom_score_adj.
        ((*CRI, "restrict_oom_score_adj"), True),
        ((*CRI, "netns_mounts_under_state_dir"), True),
        ((*CRI, "stream_server_address"), "127.0.0.1"),
        ((*CRI, "containerd", "snapshotter"), "overlayfs"),
        ((*CRI, "containerd", "runtimes", "runc", "runtime_type"), "io.containerd.runc.v2"),
        ((*CRI, "containerd", "runtimes", "runc", "options", "SystemdCgroup"), False),
        ((*CRI, "containerd", "runtimes", "runc", "options", "Root"), "/state/containerd/runc"),
        ((*CRI, "containerd", "runtimes", "runc", "options", "BinaryName"), "/usr/sbin/runc"),
        ((*CRI, "cni", "bin_dir"), "/usr/lib/cni"),
        ((*CRI, "cni", "conf_dir"), "/state/cni/net.d"),
    ],
)
def test_containerd_config(keys, expected):
    assert _get(_containerd(), *keys) == expected


def test_containerd_config_quotes_unusual_paths():
    layout = Layout(Path('/tmp/a "quoted" dir'))
    text = containerd.render_config(
        layout, pause_ref="p:1", cni_bin_dir=Path("/cni"), runc=Path("/runc")
    )
    assert tomllib.loads(text)["root"] == '/tmp/a "quoted" dir/containerd/root'


def test_ctr_commands_target_the_private_socket_and_cri_namespace():
    argv = containerd.import_args(Path("/usr/bin/ctr"), LAYOUT, Path("/x/img.tar"))
    assert argv[:3] == [
        "/usr/bin/ctr",
        "--address=/state/containerd/containerd.sock",
        "--namespace=k8s.io",
    ]
    assert argv[3:5] == ["images", "import"]
    assert "--snapshotter=overlayfs" in argv and argv[-1] == "/x/img.tar"


@pytest.mark.parametrize(
    ("output", "running"),
    [
        ("TASK    PID    STATUS\n", []),
        ("TASK PID STATUS\nabc 12 RUNNING\ndef 13 STOPPED\nghi 0 CREATED\n", ["abc"]),
    ],
)
def test_parse_running_tasks(output, running):
    assert containerd.parse_running_tasks(output) == running


def test_cni_conflist_bridge_with_masquerade_hairpin_and_private_ipam():
    conflist = cni.render_conflist(
        name="modelops", bridge="modelops0", pod_cidr="10.244.0.0/24", ipam_dir=Path("/s/ipam")
    )
    bridge, portmap = conflist["plugins"]
    assert conflist["cniVersion"] == "1.0.0"
    assert (bridge["type"], bridge["bridge"]) == ("bridge", "modelops0")
    assert bridge["isGateway"] and bridge["ipMasq"] and bridge["hairpinMode"]
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.244.0.0/24", "gateway": "10.244.0.1"}]]
    assert bridge["ipam"]["dataDir"] == "/s/ipam"
    assert bridge["ipam"]["routes"] == [{"dst": "0.0.0.0/0"}]
    assert portmap["capabilities"] == {"portMappings": True}


@pytest.mark.parametrize("cidr", ["fd00::/64", "10.244.0.0/33", "not-a-cidr"])
def test_cni_conflist_refuses_bad_pod_cidr(cidr):
    with pytest.raises(ValueError, match=r"pod_cidr|does not appear|prefix|not a valid"):
        cni.render_conflist(name="n", bridge="b", pod_cidr=cidr, ipam_dir=Path("/x"))


def _kubelet() -> dict:
    return kubelet.render_config(
        LAYOUT,
        node_ip="192.0.2.2",
        ca_cert=Path("/pki/ca.crt"),
        serving_cert=Path("/pki/kubelet.crt"),
        serving_key=Path("/pki/kubelet.key"),
        resolv_conf=Path("/etc/resolv.conf"),
    )


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (("kind",), "KubeletConfiguration"),
        # Authenticated and authorised by the API server; never anonymous.
        (("authentication", "anonymous", "enabled"), False),
        (("authentication", "webhook", "enabled"), True),
        (("authentication", "x509", "clientCAFile"), "/pki/ca.crt"),
        (("authorization", "mode"), "Webhook"),
        (("readOnlyPort",), 0),
        (("address",), "192.0.2.2"),
        (("healthzBindAddress",), "127.0.0.1"),
        (("tlsCertFile",), "/pki/kubelet.crt"),
        (("containerRuntimeEndpoint",), "unix:///state/containerd/containerd.sock"),
        (("cgroupDriver",), "cgroupfs"),
        (("failCgroupV1",), False),
        (("clusterDNS",), [DNS_SERVICE_IP]),
        (("clusterDomain",), "cluster.local"),
        (("podCIDR",), POD_CIDR),
        (("podLogsDir",), "/state/kubelet/pod-logs"),
        # Imported images cannot be pulled again: image GC never runs.
        (("imageGCHighThresholdPercent",), 100),
        (("imageMaximumGCAge",), "0s"),
    ],
)
def test_kubelet_config(keys, expected):
    assert _get(_kubelet(), *keys) == expected


def test_kubelet_eviction_names_every_signal_loosely():
    hard = _kubelet()["evictionHard"]
    assert set(hard) == {
        "memory.available",
        "nodefs.available",
        "nodefs.inodesFree",
        "imagefs.available",
        "imagefs.inodesFree",
    }
    assert all(v in ("1%", "100Mi") for v in hard.values())


def test_kubelet_args_keep_its_files_under_the_state_dir():
    argv = kubelet.kubelet_args(
        Path("/bin/kubelet"),
        LAYOUT,
        config=Path("/state/kubelet/config.yaml"),
        kubeconfig=Path("/state/kubelet/kubeconfig"),
        node_name="vm",
        node_ip="192.0.2.2",
    )
    flags = dict(a[2:].split("=", 1) for a in argv[1:])
    assert flags["root-dir"] == "/state/kubelet/root"
    assert flags["hostname-override"] == "vm"
    assert flags["node-ip"] == "192.0.2.2"


@pytest.mark.parametrize(
    ("resolv", "resolved_exists", "expected"),
    [
        ("nameserver 10.255.255.53\n", True, "/etc/resolv.conf"),
        ("nameserver 127.0.0.53\noptions edns0\n", True, "/run/systemd/resolve/resolv.conf"),
        ("nameserver 127.0.0.53\n", False, "/etc/resolv.conf"),
        ("nameserver 127.0.0.53\nnameserver 1.1.1.1\n", True, "/etc/resolv.conf"),
        ("# empty\n", True, "/etc/resolv.conf"),
    ],
)
def test_pick_resolv_conf_avoids_a_loopback_stub(resolv, resolved_exists, expected):
    alt = Path("/run/systemd/resolve/resolv.conf") if resolved_exists else None
    assert str(kubelet.pick_resolv_conf(resolv, alt)) == expected


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (("mode",), "iptables"),
        (("clusterCIDR",), POD_CIDR),
        (("hostnameOverride",), "vm"),
        (("clientConnection", "kubeconfig"), "/state/kube-proxy/kubeconfig"),
        # Machine-wide conntrack sysctls are left alone.
        (("conntrack", "maxPerCore"), 0),
        (("conntrack", "min"), 0),
        # No route_localnet: NodePorts do not answer on 127.0.0.1.
        (("iptables", "localhostNodePorts"), False),
        (("healthzBindAddress",), "127.0.0.1:10256"),
        (("metricsBindAddress",), "127.0.0.1:10249"),
    ],
)
def test_kube_proxy_config(keys, expected):
    config = kubeproxy.render_config(
        kubeconfig=Path("/state/kube-proxy/kubeconfig"), node_name="vm"
    )
    assert _get(config, *keys) == expected


def test_corefile_serves_the_cluster_domain_and_forwards_the_rest():
    corefile = coredns.render_corefile()
    assert corefile.startswith(".:8053 {")
    assert "kubernetes cluster.local in-addr.arpa ip6.arpa {" in corefile
    assert "forward . /etc/resolv.conf" in corefile
    assert "ready :8181" in corefile and "health :8080" in corefile
    assert corefile.count("{") == corefile.count("}")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"domain": ""}, "domain"),
        ({"domain": ".cluster.local"}, "domain"),
        ({"domain": "cluster.local."}, "domain"),
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
    ],
)
def test_corefile_refuses_bad_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        coredns.render_corefile(**kwargs)


def test_coredns_manifests():
    objects = coredns.manifests(image="modelops.local/coredns:1", corefile="X")
    kinds = [o["kind"] for o in objects]
    assert kinds == [
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "Service",
        "Deployment",
    ]
    by_kind = {o["kind"]: o for o in objects}
    service = by_kind["Service"]["spec"]
    assert service["clusterIP"] == DNS_SERVICE_IP
    assert {(p["port"], p["targetPort"], p["protocol"]) for p in service["ports"]} == {
        (53, 8053, "UDP"),
        (53, 8053, "TCP"),
    }
    pod = by_kind["Deployment"]["spec"]["template"]["spec"]
    assert pod["dnsPolicy"] == "Default"
    assert pod["serviceAccountName"] == "coredns"
    container = pod["containers"][0]
    assert container["imagePullPolicy"] == "Never"
    assert container["securityContext"]["runAsNonRoot"] is True
    assert by_kind["ConfigMap"]["data"] == {"Corefile": "X"}
    verbs = {v for rule in by_kind["ClusterRole"]["rules"] for v in rule["verbs"]}
    assert verbs == {"list", "watch"}


@pytest.mark.parametrize(
    ("namespace", "kind", "expected"),
    [
        (None, None, []),
        ("ml", None, ['labels."io.kubernetes.pod.namespace"==ml']),
        (None, "sandbox", ['labels."io.cri-containerd.kind"==sandbox']),
        # One argument: ctr ORs separate filters and ANDs the commas in one.
        (
            "ml",
            "container",
            ['labels."io.kubernetes.pod.namespace"==ml,labels."io.cri-containerd.kind"==container'],
        ),
    ],
)
def test_container_filter(namespace, kind, expected):
    assert containerd.container_filter(namespace, kind) == expected
