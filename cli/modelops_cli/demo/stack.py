"""The system the demo plays on, brought up the way a platform team would.

1. A local cluster with a real node (`modelops cluster up`).
2. The images built from the project's own Dockerfiles and bentofile
   (`modelops images build`) and imported into the node.
3. The model registry's object store (deploy/local/s3.yaml) and Prometheus
   with Kubernetes pod discovery (deploy/local/prometheus.yaml).
4. The operator, installed from charts/modelops-operator by helm, under the
   chart's own ServiceAccount, RBAC and admission policy.
5. Namespace `ml` (Pod Security "restricted") with the registry credentials.

`LocalStack` is also the acts' `Stage`: it publishes model versions (training
on this machine, into the cluster's registry through its Service), shifts the
callers' traffic, and samples the cluster.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import manifests
from .manifests import Settings
from .observe import Observer
from .traffic import LoadGenerator

REPO_ROOT = Path(__file__).resolve().parents[3]
IMAGES = ("modelops-operator", "modelops-training", "churn-bento", "prometheus", "s3")
OPERATOR_NAMESPACE = "modelops-system"
# The README's release name: the chart then names its objects `modelops-operator`
# (Deployment, Lease, metrics Service), as docs/runbooks.md's commands expect.
RELEASE = "modelops-operator"
S3_NAMESPACE, S3_SERVICE, S3_PORT = "registry", "s3", 7070
PROMETHEUS_NAMESPACE, PROMETHEUS_SERVICE, PROMETHEUS_PORT = "monitoring", "prometheus", 9090
SERVICE_CIDR = "10.96.0.0/16"
REGION = "us-east-1"


class StackError(RuntimeError):
    """A step of bringing the system up failed; the message says which and why."""


@dataclass
class Step:
    name: str
    seconds: float


@dataclass
class LocalStack:
    """Everything the demo runs on. `up()` then `stage` methods; `down()` at the end.

    Given a running `cluster` (the node tests' session cluster), `up()` uses it
    instead of starting one, and `down()` leaves it to its owner.
    """

    settings: Settings
    echo: Callable[[str], None] = print
    state_dir: Path | None = None
    cluster: Any = None
    kube: Any = None
    images: dict[str, str] = field(default_factory=dict)  # name -> ref
    steps: list[Step] = field(default_factory=list)
    traffic: LoadGenerator | None = None
    observer: Observer | None = None
    credentials: dict[str, str] = field(default_factory=dict)
    service_ip: str | None = None  # the ModelDeployment's Service ClusterIP

    # -- bringing it up ------------------------------------------------------

    def up(self) -> LocalStack:
        built = self._step("images", self._build_images)
        if self.cluster is None:
            self._step("cluster", self._start_cluster)
        self._bypass_proxies()
        self._step("import", lambda: self._import(built))
        self.kube = _kube_adapter(self.cluster.kubeconfig)
        self._step("registry", self._install_registry)
        self._step("prometheus", self._install_prometheus)
        self._step("operator", self._install_operator)
        return self

    def down(self) -> list[str]:
        if self.traffic:
            self.traffic.stop()
        if self.cluster is None or not self._owns_cluster:
            return []
        return self.cluster.stop()

    @property
    def _owns_cluster(self) -> bool:
        return any(step.name == "cluster" for step in self.steps)

    def _step(self, name: str, run: Callable[[], Any]) -> Any:
        started = time.monotonic()
        result = run()
        seconds = time.monotonic() - started
        self.steps.append(Step(name, round(seconds, 1)))
        self.echo(f"{name}: done in {seconds:.1f} s")
        return result

    def _build_images(self) -> list[Any]:
        from modelops_cli.images import ensure

        built = ensure(list(IMAGES), echo=self.echo)
        self.images = {b.name: b.ref for b in built}
        return built

    def _import(self, built: list[Any]) -> list[str]:
        """Import the archives the node does not hold yet (its image store
        outlives `down`, and an image's name changes whenever its inputs do)."""
        present = set(self.cluster.images())
        missing = [b.archive for b in built if b.ref not in present]
        if missing:
            self.echo(f"importing {len(missing)} of {len(built)} images into the node")
            self.cluster.import_images(missing)
        return [b.ref for b in built]

    def _start_cluster(self) -> None:
        from modelops_cli.cluster import Cluster

        self.cluster = Cluster(self.state_dir).start()

    def _bypass_proxies(self) -> None:
        # Requests from this process to the node's API server and to ClusterIPs
        # must never go through a proxy from the environment.
        bypass = [self.cluster.node_ip, SERVICE_CIDR, "127.0.0.1", "localhost"]
        for key in ("NO_PROXY", "no_proxy"):
            os.environ[key] = ",".join(filter(None, [os.environ.get(key), *bypass]))

    def kubectl(self, *args: str, input: str | None = None, timeout: float = 300) -> str:
        proc = subprocess.run(
            [str(self.cluster.kubectl), *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.cluster.env(),
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise StackError(f"kubectl {shlex.join(args)} failed: {proc.stderr.strip()[-2000:]}")
        return proc.stdout

    def apply(self, objects: list[dict[str, Any]]) -> None:
        text = yaml.safe_dump_all(objects, sort_keys=False)
        self.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=text)

    def wait_available(self, namespace: str, deployment: str, timeout: int = 180) -> None:
        self.kubectl(
            "rollout", "status", f"deployment/{deployment}", "-n", namespace,
            f"--timeout={timeout}s", timeout=timeout + 30,
        )  # fmt: skip

    def cluster_ip(self, namespace: str, service: str) -> str:
        body = self.kube.request("GET", f"/api/v1/namespaces/{namespace}/services/{service}")
        return body["spec"]["clusterIP"]

    def _install_registry(self) -> None:
        self.credentials = {
            "AWS_ACCESS_KEY_ID": "modelops",
            "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(24),
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": f"http://{S3_SERVICE}.{S3_NAMESPACE}.svc:{S3_PORT}",
        }
        objects = local_manifest("s3.yaml", {"s3": self.images["s3"]})
        for obj in objects:
            if obj["kind"] == "Secret":
                obj["stringData"] = {
                    "ROOT_ACCESS_KEY_ID": self.credentials["AWS_ACCESS_KEY_ID"],
                    "ROOT_SECRET_ACCESS_KEY": self.credentials["AWS_SECRET_ACCESS_KEY"],
                }
        self.apply(objects)
        # The same credentials for everything that reads or writes models.
        namespaces = [manifests.namespace(self.settings.namespace), _plain_namespace()]
        self.apply(namespaces)
        self.apply(
            [
                manifests.registry_secret(ns, self.credentials)
                for ns in (self.settings.namespace, OPERATOR_NAMESPACE)
            ]
        )
        self.wait_available(S3_NAMESPACE, "s3")
        # This process trains and publishes through the Service's ClusterIP
        # (kube-proxy routes it from the host as it does from pods).
        ip = self.cluster_ip(S3_NAMESPACE, S3_SERVICE)
        os.environ.update({**self.credentials, "AWS_ENDPOINT_URL": f"http://{ip}:{S3_PORT}"})

    def _install_prometheus(self) -> None:
        self.apply(local_manifest("prometheus.yaml", {"prometheus": self.images["prometheus"]}))
        self.wait_available(PROMETHEUS_NAMESPACE, PROMETHEUS_SERVICE)

    @property
    def prometheus_url(self) -> str:
        ip = self.cluster_ip(PROMETHEUS_NAMESPACE, PROMETHEUS_SERVICE)
        return f"http://{ip}:{PROMETHEUS_PORT}"

    def _install_operator(self) -> None:
        values = manifests.helm_values(operator_image=self.images["modelops-operator"])
        values_file = self.cluster.state_dir / "demo-operator-values.yaml"
        values_file.write_text(yaml.safe_dump(values, sort_keys=False))
        helm = _helm()
        proc = subprocess.run(
            [
                helm, "upgrade", "--install", RELEASE, str(REPO_ROOT / "charts" / "modelops-operator"),
                "--namespace", OPERATOR_NAMESPACE, "--values", str(values_file),
                "--wait", "--timeout", "3m",
            ],
            capture_output=True, text=True, env=self.cluster.env(), timeout=240, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise StackError(f"helm install of the operator failed: {proc.stderr.strip()[-2000:]}")

    # -- the stage the acts play on --------------------------------------------

    def publish(self, *, seed: int, shift: float = 0.0) -> dict[str, Any]:
        """Train churn on this machine and publish it into the cluster's registry."""
        from modelops_training.pipeline import train

        s = self.settings
        data = f"synthetic:{s.training_rows}:{seed}:{shift:g}"
        return train(model=s.model, data=data, registry_uri=s.registry_uri, seed=seed)

    def apply_modeldeployment(self) -> dict[str, Any]:
        body = manifests.modeldeployment(
            self.settings,
            bento_image=self.images["churn-bento"],
            training_image=self.images["modelops-training"],
        )
        self.apply([body])
        return body

    def wait_serving(self, timeout: float = 300) -> float:
        """Seconds until the Service answers a prediction (from the host, by ClusterIP)."""
        s = self.settings
        started = time.monotonic()
        deadline = started + timeout
        probe: LoadGenerator | None = None
        while time.monotonic() < deadline:
            try:
                self.service_ip = self.cluster_ip(s.namespace, s.name)
            except Exception:  # not created yet
                time.sleep(1)
                continue
            probe = probe or LoadGenerator(self.service_ip, 80, timeout=3)
            _version, status, _ = probe.send(probe.next_body())
            if status == 200:
                return time.monotonic() - started
            time.sleep(1)
        raise StackError(
            f"the ModelDeployment {s.namespace}/{s.name} answered no prediction within "
            f"{timeout:.0f} s; look at `kubectl get md,pods -n {s.namespace}`"
        )

    def start_traffic(self) -> LoadGenerator:
        assert self.service_ip, "wait_serving() first"
        self.traffic = LoadGenerator(self.service_ip, 80, rate=self.settings.rate).start()
        self.observer = Observer(
            self.kube,
            self.settings.namespace,
            self.settings.name,
            prometheus_url=self.prometheus_url,
            drain_traffic=self.traffic.drain,
        )
        return self.traffic

    def set_traffic_shift(self, shift: float) -> None:
        assert self.traffic
        self.traffic.set_shift(shift)

    def sample(self, t: float, act: str | None):
        assert self.observer
        return self.observer.sample(t, act)

    def events(self, t: float):
        assert self.observer
        return self.observer.events(t)

    def version_metadata(self) -> dict[str, dict[str, Any]]:
        """Every version's registry metadata (without the bulky reference profile)."""
        from modelops_registry import Registry

        registry = Registry.from_uri(self.settings.registry_uri)
        out = {}
        for version in registry.versions(self.settings.model):
            meta = copy.deepcopy(registry.metadata(self.settings.model, version))
            meta.pop("profile", None)
            out[str(version)] = meta
        return out

    def job_logs(self, job: str) -> str:
        return self.kubectl("logs", f"job/{job}", "-n", self.settings.namespace, "--tail=50")


def local_manifest(name: str, images: dict[str, str]) -> list[dict[str, Any]]:
    """deploy/local/<name> with each `modelops.local/<image>:local` placeholder
    replaced by the image this run built."""
    text = (REPO_ROOT / "deploy" / "local" / name).read_text()
    for image, ref in images.items():
        text = text.replace(f"modelops.local/{image}:local", ref)
    return [doc for doc in yaml.safe_load_all(text) if doc]


def _plain_namespace() -> dict[str, Any]:
    # The operator's namespace: the chart's pods pass "restricted" too.
    return manifests.namespace(OPERATOR_NAMESPACE)


def _helm() -> str:
    proc = subprocess.run(
        [str(REPO_ROOT / "tools" / "helm" / "provision.sh"), "--print-env"],
        capture_output=True, text=True, timeout=1800, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise StackError(f"helm is not available (`make helm`): {proc.stderr.strip()[-1500:]}")
    for line in proc.stdout.splitlines():
        if line.startswith("export MODELOPS_HELM="):
            return line.split("=", 1)[1]
    raise StackError("tools/helm/provision.sh printed no MODELOPS_HELM")


def _kube_adapter(kubeconfig: Path):
    import kubernetes

    from modelops_operator.adapters.kube import KubeAdapter

    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(
        config_file=str(kubeconfig), client_configuration=configuration
    )
    configuration.proxy = None
    return KubeAdapter(kubernetes.client.ApiClient(configuration))


def describe(stack: LocalStack) -> dict[str, Any]:
    """What the report's settings table shows about the system."""
    return {
        "images": dict(stack.images),
        "setup_seconds": {step.name: step.seconds for step in stack.steps},
        "node": getattr(stack.cluster, "node_name", None),
    }


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=1, sort_keys=True, default=str)
