"""The Kubernetes adapter: the only module of the operator that talks to the API.

It speaks plain JSON over the official client's authenticated HTTP layer
(`kubernetes.client.ApiClient`), so every kind (Deployments, Services, Jobs,
HTTPRoutes, Leases, the ModelDeployment itself) goes through the same four
verbs and the rest of the operator handles dicts only. Errors are translated
into this module's own exceptions, so no caller needs to import `kubernetes`.

Writes:
* children: server-side apply with one field manager and force, so applying
  the same object twice is a no-op on the server (no new resourceVersion);
* status: a JSON merge patch on the status subresource carrying the observed
  resourceVersion, so a concurrent write makes it fail with Conflict (409)
  instead of overwriting newer state; the engine re-reads and retries;
* events: core/v1 Events created directly (see docs/operator.md, "Events").
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import kubernetes
import urllib3
from prometheus_client import Counter

from modelops_operator.api import names

# Plural resource names of the kinds the operator manages.
_PLURALS = {
    "Deployment": "deployments",
    "Service": "services",
    "Job": "jobs",
    "CronJob": "cronjobs",  # batch scoring on a schedule
    "Pod": "pods",  # read only: a batch run's shard summaries
    "HTTPRoute": "httproutes",
    "Lease": "leases",
    "Event": "events",
    "ConfigMap": "configmaps",
    names.KIND: names.PLURAL,
}

# Counted here, where every request passes, so no caller can forget to.
API_REQUESTS = Counter(
    "modelops_operator_api_requests_total",
    "Requests the operator's own code sent to the Kubernetes API server, by HTTP verb "
    "(kopf's watches and its annotation patches are not counted).",
    ["verb"],
)

WRITES_REFUSED = Counter(
    "modelops_operator_writes_refused_total",
    "Writes not sent because this replica did not hold the leader lease with margin.",
)

# Connections beyond the reconcile workers: drift measurements, the lease, the resync.
POOL_HEADROOM = 8

APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
MERGE_CONTENT_TYPE = "application/merge-patch+json"


class KubeError(Exception):
    """An API call failed; `status` is the HTTP status, the message the server's."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class WriteRefused(KubeError):
    """This process may not write now (it does not hold the leader lease with margin).

    Raised before the request is sent, so callers that handle a failed write
    (log it, retry on the next pass) handle this the same way.
    """


class NotFound(KubeError):
    """404: the object (or its kind) does not exist."""


class Conflict(KubeError):
    """409: the object changed since it was read (or already exists)."""


class Invalid(KubeError):
    """422: the server refused the object; the message names the field."""


def _error(status: int, body: bytes | str | None) -> KubeError:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    try:
        message = json.loads(text).get("message", text)
    except (ValueError, AttributeError):
        message = text
    cls = {404: NotFound, 409: Conflict, 422: Invalid}.get(status, KubeError)
    return cls(status, message)


def path_for(api_version: str, kind: str, namespace: str | None, name: str | None = None) -> str:
    """REST path of a kind (and optionally one object) in a namespace."""
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    plural = _PLURALS.get(kind)
    if plural is None:
        raise ValueError(f"the kube adapter does not know the plural of kind {kind!r}")
    parts = [prefix]
    if namespace:
        parts.append(f"namespaces/{namespace}")
    parts.append(plural)
    if name:
        parts.append(name)
    return "/".join(parts)


def load_api_client(
    kubeconfig: str | None = None, pool_size: int | None = None
) -> kubernetes.client.ApiClient:
    """An API client from a kubeconfig path, $KUBECONFIG, or the in-cluster service account.

    `pool_size` is how many requests may be in flight at once (the reconcile
    workers, drift measurements, the lease renewer). urllib3 opens a
    connection beyond its pool when it must, but then closes it after one
    request, so a pool smaller than the threads using it costs a TLS
    handshake on most requests under load.
    """
    configuration = kubernetes.client.Configuration()
    if pool_size is not None:
        configuration.connection_pool_maxsize = max(
            configuration.connection_pool_maxsize, pool_size + POOL_HEADROOM
        )
    try:
        if kubeconfig:
            kubernetes.config.load_kube_config(
                config_file=kubeconfig, client_configuration=configuration
            )
        else:
            try:
                kubernetes.config.load_incluster_config(client_configuration=configuration)
            except kubernetes.config.ConfigException:
                kubernetes.config.load_kube_config(client_configuration=configuration)
    except (kubernetes.config.ConfigException, OSError) as exc:
        where = kubeconfig or "$KUBECONFIG, ~/.kube/config or the in-cluster service account"
        raise KubeconfigError(
            f"no usable kubeconfig ({where}): {str(exc).rstrip('.')}. Point --kubeconfig or KUBECONFIG at a "
            'cluster\'s kubeconfig, e.g. eval "$(modelops controlplane env)"'
        ) from exc
    return kubernetes.client.ApiClient(configuration)


class KubeconfigError(RuntimeError):
    """No cluster to talk to: the message says which file was tried and how to give one.

    The CLI turns it into one line and exit 1 instead of a traceback.
    """


class KubeAdapter:
    """Every Kubernetes call the operator makes.

    `may_write`, when given, is asked right before every write request is
    sent (POST, PUT, PATCH, DELETE); on False the write is refused with
    WriteRefused and never reaches the API server. The leader election sets
    it (runtime/main.py), so status patches, child applies, Job creates and
    Events all stop the moment this replica can no longer be sure it leads.
    """

    def __init__(
        self,
        api_client: kubernetes.client.ApiClient,
        *,
        timeout: float = 30.0,
        may_write: Callable[[], bool] | None = None,
    ) -> None:
        self._api = api_client
        self._timeout = timeout
        self._may_write = may_write

    @classmethod
    def from_kubeconfig(
        cls,
        kubeconfig: str | None = None,
        *,
        pool_size: int | None = None,
        user_agent: str | None = None,
    ) -> KubeAdapter:
        api_client = load_api_client(kubeconfig, pool_size)
        if user_agent:
            # The API server's audit log names the replica that sent each request;
            # the part before "/" stays the field manager of non-apply writes.
            api_client.user_agent = user_agent
        return cls(api_client)

    def with_timeout(self, seconds: float) -> KubeAdapter:
        """The same connection with another per-request timeout (the leader lease's calls)."""
        return KubeAdapter(self._api, timeout=seconds, may_write=self._may_write)

    def with_write_guard(self, may_write: Callable[[], bool]) -> KubeAdapter:
        """The same connection, refusing every write while `may_write()` is False."""
        return KubeAdapter(self._api, timeout=self._timeout, may_write=may_write)

    # --- raw verbs -------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        """One HTTP call; returns the decoded JSON answer or raises a KubeError subclass."""
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        if query:
            path = f"{path}?{urlencode(query)}"
        request = self._api.param_serialize(
            method=method,
            resource_path=path,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        if method != "GET" and self._may_write is not None and not self._may_write():
            # Checked after everything else is ready, so the request leaves
            # as soon after the check as it can.
            WRITES_REFUSED.inc()
            raise WriteRefused(0, f"{method} {path} refused: this replica does not hold the lease")
        API_REQUESTS.labels(verb=method).inc()
        try:
            response = self._api.call_api(*request, _request_timeout=self._timeout)
            response.read()
        except kubernetes.client.ApiException as exc:
            raise _error(exc.status or 0, exc.body) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # The API server is unreachable (refused, reset, timed out, TLS).
            # Callers handle KubeError; a raw transport error used to escape
            # them and kill the lease-renewer and resync threads, leaving an
            # operator that neither acted nor gave up its lease nor exited.
            raise KubeError(0, f"API server unreachable: {exc}") from exc
        if not 200 <= response.status <= 299:
            raise _error(response.status, response.data)
        return json.loads(response.data) if response.data else {}

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", path_for(api_version, kind, namespace, name))
        except NotFound:
            return None

    def list(
        self, api_version: str, kind: str, namespace: str | None, *, labels: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        return self.list_snapshot(api_version, kind, namespace, labels=labels)[0]

    def list_snapshot(
        self, api_version: str, kind: str, namespace: str | None, *, labels: Mapping[str, str]
    ) -> tuple[list[dict[str, Any]], str | None]:
        """(items, the list's resourceVersion): the version tells an object deleted
        before the list was served (older than it) from one created after."""
        selector = ",".join(f"{k}={v}" for k, v in labels.items())
        answer = self.request(
            "GET", path_for(api_version, kind, namespace), query={"labelSelector": selector}
        )
        version = (answer.get("metadata") or {}).get("resourceVersion")
        return list(answer.get("items") or []), version

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Create or update `obj` by server-side apply (forcing our ownership of its fields)."""
        metadata = obj["metadata"]
        path = path_for(obj["apiVersion"], obj["kind"], metadata.get("namespace"), metadata["name"])
        return self.request(
            "PATCH",
            path,
            query={"fieldManager": names.FIELD_MANAGER, "force": "true"},
            body=dict(obj),
            content_type=APPLY_CONTENT_TYPE,
        )

    def delete(self, api_version: str, kind: str, namespace: str, name: str) -> bool:
        """Delete in the background (children follow by GC); False when already gone."""
        try:
            self.request(
                "DELETE",
                path_for(api_version, kind, namespace, name),
                body={"propagationPolicy": "Background"},
            )
        except NotFound:
            return False
        return True

    def create(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        metadata = obj["metadata"]
        return self.request(
            "POST",
            path_for(obj["apiVersion"], obj["kind"], metadata.get("namespace")),
            body=dict(obj),
        )

    def replace(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """PUT with the object's resourceVersion: Conflict when someone wrote in between."""
        metadata = obj["metadata"]
        path = path_for(obj["apiVersion"], obj["kind"], metadata.get("namespace"), metadata["name"])
        return self.request("PUT", path, body=dict(obj))

    # --- ModelDeployments ----------------------------------------------------------

    def get_model_deployment(self, namespace: str, name: str) -> dict[str, Any] | None:
        return self.get(names.API_VERSION, names.KIND, namespace, name)

    def list_model_deployments(self, namespace: str | None) -> list[dict[str, Any]]:
        answer = self.request("GET", path_for(names.API_VERSION, names.KIND, namespace))
        return list(answer.get("items") or [])

    def children(self, namespace: str, md_name: str, kind: str = "Deployment") -> list[dict]:
        """The operator's children of one ModelDeployment, found by label."""
        api_version = {"Deployment": "apps/v1", "Service": "v1", "Job": "batch/v1"}[kind]
        return self.list(
            api_version,
            kind,
            namespace,
            labels={names.LABEL_MANAGED_BY: names.MANAGED_BY, names.LABEL_DEPLOYMENT: md_name},
        )

    def patch_status(
        self, namespace: str, name: str, status: Mapping[str, Any], *, resource_version: str | None
    ) -> dict[str, Any]:
        """Write the whole status in one merge patch, guarded by resource_version when given."""
        body: dict[str, Any] = {"status": dict(status)}
        if resource_version:
            body["metadata"] = {"resourceVersion": resource_version}
        path = path_for(names.API_VERSION, names.KIND, namespace, name) + "/status"
        return self.request("PATCH", path, body=body, content_type=MERGE_CONTENT_TYPE)

    # --- events ------------------------------------------------------------------

    def post_event(
        self,
        involved: Mapping[str, Any],
        *,
        type: str,
        reason: str,
        message: str,
        instance: str,
    ) -> dict[str, Any]:
        """Create a core/v1 Event about `involved` (apiVersion, kind, name, namespace, uid)."""
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        namespace = involved["namespace"]
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{involved['name']}.{uuid.uuid4().hex[:16]}",
                "namespace": namespace,
            },
            "involvedObject": dict(involved),
            "type": type,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": names.EVENT_COMPONENT},
            "reportingComponent": names.EVENT_COMPONENT,
            "reportingInstance": instance[:128],
            "firstTimestamp": now[:19] + "Z",
            "lastTimestamp": now[:19] + "Z",
            "count": 1,
        }
        return self.request("POST", path_for("v1", "Event", namespace), body=event)
