"""A local Kubernetes control plane made of real processes.

etcd and kube-apiserver always; kube-controller-manager and kube-scheduler
with `with_controllers` (garbage collection, Deployments -> ReplicaSets ->
Pods, Jobs, service accounts); kwok and one simulated node with `with_kwok`
(Pods Running, Deployments Available). Everything listens on free loopback ports
(with `node_address`, the apiserver listens on that address instead, for a
real node and its pods: see modelops_cli.cluster) and lives in one state directory: certificates, etcd data, logs, kubeconfig and
state.json, which lets `modelops controlplane down` find the processes again.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path

from . import assets as assets_mod
from . import flags, kubeconfig, kwok, pki, ports, processes
from .processes import Proc

DEFAULT_STARTUP_TIMEOUT = 180.0
POLL_SECONDS = 0.2
# Files from a previous run that a fresh start must not reuse. Logs are kept
# (appended to) because they are what explains a crash after the fact.
_STALE = ("pki", "etcd", "certs", "kubeconfig", "state.json")


class StartupError(RuntimeError):
    """The control plane did not become ready; the message carries log tails."""


class AlreadyRunningError(RuntimeError):
    """The state directory already belongs to a running control plane."""


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "modelops" / "controlplane"


def prepare_state_dir(root: Path, stale: Iterable[Path], logs: Path) -> None:
    """Make a launcher's state dir (owner only) and its `logs` dir, first deleting
    what a previous run left that must not be reused: each `stale` folder or file.
    The control plane and the node (modelops_cli.cluster) both start this way."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    logs.mkdir(exist_ok=True)


def _client_context(layout: flags.Layout) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(layout.pki.ca_cert))
    context.load_cert_chain(str(layout.pki.admin_cert), str(layout.pki.admin_key))
    return context


def _self_signed_context() -> ssl.SSLContext:
    # The controller-manager and scheduler serve /healthz with a certificate
    # they generate themselves; only liveness on loopback is being checked.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _open(request, context: ssl.SSLContext | None, timeout: float):
    # Everything is on loopback: an http(s)_proxy from the environment must
    # not route these requests elsewhere.
    handlers = [urllib.request.ProxyHandler({})]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers).open(request, timeout=timeout)


def _probe(url: str, context: ssl.SSLContext | None) -> tuple[bool, str]:
    try:
        with _open(url, context, timeout=3) as response:
            body = response.read(1 << 20).decode(errors="replace")
            return response.status == 200, body
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}: {exc.read(2048).decode(errors='replace')}"
    except (urllib.error.URLError, OSError) as exc:
        return False, str(exc)


def _api(server: str, context: ssl.SSLContext, method: str, path: str, body: dict) -> dict:
    """One JSON request to the apiserver (the CLI does not need a client library)."""
    request = urllib.request.Request(
        f"{server}{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with _open(request, context, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise StartupError(
            f"{method} {path} failed: HTTP {exc.code}: {exc.read(2048).decode(errors='replace')}"
        ) from exc


_CLUSTER_ROLE_BINDINGS = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings"


def _kubelet_api_binding() -> dict:
    """Lets the apiserver's kubelet client identity call kubelets (logs, exec):
    the built-in role kubeadm binds to the same user."""
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "modelops:kube-apiserver-kubelet-client"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "system:kubelet-api-admin",
        },
        "subjects": [
            {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "User",
                "name": pki.KUBELET_CLIENT_USER,
            }
        ],
    }


def _node_ready(body: str) -> bool:
    try:
        conditions = json.loads(body).get("status", {}).get("conditions") or []
    except ValueError:
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


class ControlPlane:
    """Start, stop and describe one local control plane.

    Usable as a context manager. `kubeconfig`, `server` and `env()` are what
    clients need; `env()` is a full environment for subprocesses (for example
    the operator) with KUBECONFIG pointing here.
    """

    def __init__(
        self,
        state_dir: str | Path | None = None,
        *,
        with_controllers: bool = False,
        with_kwok: bool = False,
        assets: assets_mod.Assets | None = None,
        tie_to_parent: bool = False,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        node_address: str | None = None,
    ) -> None:
        self.layout = flags.Layout(Path(state_dir) if state_dir else default_state_dir())
        # Simulated Pods need the scheduler to place them and the controllers
        # to create them, so kwok implies the controllers.
        self.with_kwok = with_kwok
        self.with_controllers = with_controllers or with_kwok
        self._assets = assets
        self.tie_to_parent = tie_to_parent
        self.startup_timeout = startup_timeout
        self.node_address = node_address
        self.procs: list[Proc] = []
        self.server: str | None = None

    # -- what clients use -------------------------------------------------

    @property
    def kubeconfig(self) -> Path:
        return self.layout.kubeconfig

    @property
    def state_dir(self) -> Path:
        return self.layout.root

    def env(self) -> dict[str, str]:
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        # Some clients (the Python kubernetes client among them) would send
        # even loopback traffic through an https_proxy from the environment.
        local = ["127.0.0.1", "localhost", *([self.node_address] if self.node_address else [])]
        for key in ("NO_PROXY", "no_proxy"):
            env[key] = ",".join(filter(None, [env.get(key), *local]))
        return env

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> ControlPlane:
        """Start every component and return once the API answers /readyz.

        A port taken by another program between choosing and binding it makes
        one attempt fail; a second attempt with new ports covers that race.
        """
        assets = self._assets or assets_mod.discover(
            controllers=self.with_controllers, kwok=self.with_kwok
        )
        self._refuse_if_running()
        last_error: StartupError | None = None
        for _ in range(2):
            try:
                self._start_once(assets)
                return self
            except StartupError as exc:
                last_error = exc
                self.stop()
                if "address already in use" not in str(exc):
                    break
        assert last_error is not None
        raise last_error

    def stop(self) -> None:
        """Stop our processes, newest first, and forget the running state."""
        for proc in reversed(self.procs):
            processes.stop(proc)
        self.procs = []
        self.layout.state_file.unlink(missing_ok=True)

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def status(self) -> dict[str, bool]:
        return {proc.name: processes.is_alive(proc) for proc in self.procs}

    @classmethod
    def attach(cls, state_dir: str | Path | None = None) -> ControlPlane | None:
        """Rebuild a handle from state.json (for `down`, `env`, `status`)."""
        plane = cls(state_dir)
        if not plane.layout.state_file.is_file():
            return None
        state = json.loads(plane.layout.state_file.read_text())
        plane.server = state.get("server")
        plane.with_controllers = bool(state.get("with_controllers"))
        plane.with_kwok = bool(state.get("with_kwok"))
        plane.node_address = state.get("node_address")
        plane.procs = [Proc.from_json(p) for p in state.get("processes", [])]
        return plane

    # -- internals ---------------------------------------------------------

    def _refuse_if_running(self) -> None:
        existing = ControlPlane.attach(self.layout.root)
        if existing and any(existing.status().values()):
            raise AlreadyRunningError(
                f"a control plane is already running from {self.layout.root} "
                f"(server {existing.server}); run `modelops controlplane down` first"
            )

    def _start_once(self, assets: assets_mod.Assets) -> None:
        root = self.layout.root
        prepare_state_dir(root, [root / name for name in _STALE], self.layout.logs)
        layout = self.layout
        extra_ips = (self.node_address,) if self.node_address else ()
        bundle = pki.generate(layout.pki.root, extra_ips=extra_ips)
        port_set = flags.Ports.from_list(ports.free_ports(6))
        self.server = flags.apiserver_url(port_set, self.node_address or "127.0.0.1")
        kubeconfig.write(
            layout.kubeconfig,
            kubeconfig.render(
                self.server,
                bundle.ca_cert.read_bytes(),
                bundle.admin_cert.read_bytes(),
                bundle.admin_key.read_bytes(),
            ),
        )
        deadline = time.monotonic() + self.startup_timeout

        etcd = self._spawn("etcd", flags.etcd_args(assets["etcd"], layout, port_set))
        self._wait(etcd, f"{flags.etcd_url(port_set)}/health", None, deadline)

        apiserver = self._spawn(
            "kube-apiserver",
            flags.apiserver_args(
                assets["kube-apiserver"], layout, port_set, node_address=self.node_address
            ),
        )
        client = _client_context(layout)
        self._wait(apiserver, f"{self.server}/readyz", client, deadline)
        # /readyz can pass a moment before the bootstrap controller has made
        # the system namespaces; clients expect `default` to exist.
        self._wait(apiserver, f"{self.server}/api/v1/namespaces/default", client, deadline)
        if self.node_address:
            _api(self.server, client, "POST", _CLUSTER_ROLE_BINDINGS, _kubelet_api_binding())

        if self.with_controllers:
            insecure = _self_signed_context()
            cm = self._spawn(
                "kube-controller-manager",
                flags.controller_manager_args(
                    assets["kube-controller-manager"], layout, port_set, layout.kubeconfig
                ),
            )
            scheduler = self._spawn(
                "kube-scheduler",
                flags.scheduler_args(assets["kube-scheduler"], layout, port_set, layout.kubeconfig),
            )
            cm_url = f"https://127.0.0.1:{port_set.controller_manager}/healthz"
            self._wait(cm, cm_url, insecure, deadline)
            sched_url = f"https://127.0.0.1:{port_set.scheduler}/healthz"
            self._wait(scheduler, sched_url, insecure, deadline)

        if self.with_kwok:
            self._start_kwok(assets["kwok"], port_set, client, deadline)

    def _start_kwok(self, binary: Path, port_set: flags.Ports, client, deadline: float) -> None:
        if not kwok.stages_path(binary).is_file():
            raise assets_mod.MissingBinariesError(
                f"kwok's stage configuration {kwok.stages_path(binary)} is missing; "
                "run `make controlplane` (it writes stages.yaml beside the kwok binary)"
            )
        proc = self._spawn(
            "kwok",
            kwok.kwok_args(binary, self.layout.kubeconfig, port_set.kwok),
        )
        self._wait(proc, f"http://127.0.0.1:{port_set.kwok}/healthz", None, deadline)
        node = kwok.fake_node()
        _api(self.server, client, "POST", "/api/v1/nodes", node)
        node_url = f"{self.server}/api/v1/nodes/{node['metadata']['name']}"
        self._wait(proc, node_url, client, deadline, accept=_node_ready)

    def _spawn(self, name: str, argv: list[str]) -> Proc:
        proc = processes.spawn(name, argv, self.layout.log(name), tie_to_parent=self.tie_to_parent)
        self.procs.append(proc)
        self._save_state()
        return proc

    def _save_state(self) -> None:
        state = {
            "server": self.server,
            "kubeconfig": str(self.kubeconfig),
            "with_controllers": self.with_controllers,
            "with_kwok": self.with_kwok,
            "node_address": self.node_address,
            "processes": [p.to_json() for p in self.procs],
        }
        tmp = self.layout.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self.layout.state_file)

    def _wait(self, proc: Proc, url: str, context, deadline: float, accept=None) -> None:
        """Poll `url` until it answers 200 (and `accept(body)` holds, if given)."""
        detail = "not probed yet"
        while time.monotonic() < deadline:
            if not processes.is_alive(proc):
                raise StartupError(self._failure(f"{proc.name} exited during start-up", detail))
            ok, detail = _probe(url, context)
            if ok and (accept is None or accept(detail)):
                return
            time.sleep(POLL_SECONDS)
        raise StartupError(
            self._failure(
                f"{proc.name} not ready at {url} within {self.startup_timeout:.0f} s", detail
            )
        )

    def _failure(self, headline: str, detail: str) -> str:
        parts = [f"control plane start-up failed: {headline}", f"last probe: {detail.strip()}"]
        for proc in self.procs:
            parts.append(f"--- last lines of {proc.log} ---\n{processes.tail(proc.log)}")
        return "\n".join(parts)
