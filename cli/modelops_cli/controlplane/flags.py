"""Command lines of the control-plane components (pure functions).

Kept apart from process handling so the flags, which carry most of the
hard-won knowledge, can be read and unit-tested in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .pki import FRONT_PROXY_CLIENT_NAME, Pki

# A range that loopback-only clusters never route; Services get ClusterIPs
# from it, nothing listens on them.
SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"


@dataclass(frozen=True)
class Ports:
    etcd_client: int
    etcd_peer: int
    apiserver: int
    controller_manager: int
    scheduler: int
    kwok: int = 0

    @classmethod
    def from_list(cls, ports: list[int]) -> Ports:
        return cls(*ports)


@dataclass(frozen=True)
class Layout:
    """Where a control plane keeps its files, all under one state directory."""

    root: Path

    @property
    def pki(self) -> Pki:
        return Pki(self.root / "pki")

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def kubeconfig(self) -> Path:
        return self.root / "kubeconfig"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    def cert_dir(self, component: str) -> Path:
        return self.root / "certs" / component

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"


def etcd_url(ports: Ports) -> str:
    return f"http://127.0.0.1:{ports.etcd_client}"


def apiserver_url(ports: Ports, host: str = "127.0.0.1") -> str:
    return f"https://{host}:{ports.apiserver}"


def etcd_args(binary: Path, layout: Layout, ports: Ports) -> list[str]:
    peer = f"http://127.0.0.1:{ports.etcd_peer}"
    return [
        str(binary),
        "--name=default",
        f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={etcd_url(ports)}",
        f"--advertise-client-urls={etcd_url(ports)}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=default={peer}",
        "--initial-cluster-state=new",
        "--logger=zap",
        "--log-level=warn",
    ]


def _address_args(node_address: str | None) -> list[str]:
    if node_address is None:
        # The apiserver publishes its own address as the `kubernetes` Service
        # endpoint; a loopback address is not allowed there, so the endpoint
        # reconciler is switched off instead.
        return [
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            "--endpoint-reconciler-type=none",
        ]
    # With a real node, pods must reach the API through the `kubernetes`
    # Service: the apiserver listens on the node's address and the (default)
    # lease reconciler publishes it as that Service's endpoint.
    return [f"--bind-address={node_address}", f"--advertise-address={node_address}"]


def _kubelet_args(pki: Pki) -> list[str]:
    # `kubectl logs/exec` are proxied by the apiserver to the kubelet, which
    # serves with a certificate from the cluster CA and authorises the
    # apiserver's own client certificate through RBAC. InternalIP first: the
    # node's hostname may resolve to loopback (/etc/hosts) or not at all.
    return [
        f"--kubelet-client-certificate={pki.kubelet_client_cert}",
        f"--kubelet-client-key={pki.kubelet_client_key}",
        f"--kubelet-certificate-authority={pki.ca_cert}",
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        # A node may only modify its own Node object and its own pods' status.
        "--enable-admission-plugins=NodeRestriction",
    ]


def apiserver_args(
    binary: Path, layout: Layout, ports: Ports, *, node_address: str | None = None
) -> list[str]:
    """Flags of kube-apiserver; `node_address` serves a real node (see _address_args)."""
    pki = layout.pki
    return [
        str(binary),
        f"--etcd-servers={etcd_url(ports)}",
        *_address_args(node_address),
        *(_kubelet_args(pki) if node_address else []),
        f"--secure-port={ports.apiserver}",
        f"--cert-dir={layout.cert_dir('kube-apiserver')}",
        f"--tls-cert-file={pki.serving_cert}",
        f"--tls-private-key-file={pki.serving_key}",
        f"--client-ca-file={pki.ca_cert}",
        "--authorization-mode=Node,RBAC",
        "--allow-privileged=true",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        f"--service-account-key-file={pki.sa_pub}",
        f"--service-account-signing-key-file={pki.sa_key}",
        # Request-header (front-proxy) authentication: without these the
        # extension-apiserver-authentication ConfigMap lacks the CA, and the
        # controller-manager and scheduler log missing-CA errors forever.
        f"--requestheader-client-ca-file={pki.front_proxy_ca_cert}",
        f"--requestheader-allowed-names={FRONT_PROXY_CLIENT_NAME}",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-username-headers=X-Remote-User",
        f"--proxy-client-cert-file={pki.front_proxy_client_cert}",
        f"--proxy-client-key-file={pki.front_proxy_client_key}",
        # Streaming lists (WatchList) need etcd's RequestWatchProgress, which
        # Debian's etcd 3.4 lacks: the apiserver would accept such watches and
        # then end them with an error, so clients like kwok relist and lag by
        # seconds. Switched off, the request is refused up front and every
        # client-go falls back to a plain LIST at once.
        "--feature-gates=WatchList=false",
        "--profiling=false",
    ]


def controller_manager_args(
    binary: Path, layout: Layout, ports: Ports, controllers_kubeconfig: Path
) -> list[str]:
    pki = layout.pki
    kubeconfig = str(controllers_kubeconfig)
    return [
        str(binary),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={ports.controller_manager}",
        f"--cert-dir={layout.cert_dir('kube-controller-manager')}",
        "--leader-elect=false",
        "--controllers=*",
        # One admin identity for all controllers keeps RBAC out of the way of
        # a test cluster; per-controller service accounts add nothing here.
        "--use-service-account-credentials=false",
        f"--service-account-private-key-file={pki.sa_key}",
        f"--root-ca-file={pki.ca_cert}",
        f"--cluster-signing-cert-file={pki.ca_cert}",
        f"--cluster-signing-key-file={pki.ca_key}",
        f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
        # A node is declared NotReady after this long without a heartbeat (the
        # default is 50 s). A restart of this API server (tests do it, and a
        # laptop that sleeps does it) stops every heartbeat for 30-50 s, and
        # the node-lifecycle controller then marks every pod NotReady. A
        # kubelet re-reports its pods Ready afterwards, but kwok's simulated
        # node never does: its Deployments stayed unavailable for good, and a
        # rollout waited on them until the test timed out (about one run in
        # three of tests/cluster/test_chaos_outage.py's API-restart test).
        "--node-monitor-grace-period=180s",
        "--profiling=false",
    ]


def scheduler_args(
    binary: Path, layout: Layout, ports: Ports, controllers_kubeconfig: Path
) -> list[str]:
    kubeconfig = str(controllers_kubeconfig)
    return [
        str(binary),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={ports.scheduler}",
        f"--cert-dir={layout.cert_dir('kube-scheduler')}",
        "--leader-elect=false",
        "--profiling=false",
    ]
