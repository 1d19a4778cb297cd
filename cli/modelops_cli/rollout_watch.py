"""The versions of one ModelDeployment as the API server changes it: a watch, not a poll.

`modelops rollout status --wait` judges each version (rollout_wait.py). The
object is read once, then watched from that resourceVersion with a field
selector on its name, so the CLI wakes only when the operator (or anyone)
writes it. A watch the server ends (its timeout, or a resourceVersion too old:
410 Gone) is resumed from a fresh read, as client-go's reflector does, so a
long rollout survives the API server's watch timeouts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import kubernetes
import urllib3

from modelops_operator.adapters.kube import load_api_client
from modelops_operator.api import names

# A server-side watch lasts at most this long before it is resumed (the API
# server's own limit is 30-60 min; a shorter one notices a dead connection sooner).
WATCH_SECONDS = 60


class WatchError(Exception):
    """The object cannot be read or watched (API server unreachable, forbidden, ...)."""


class Gone(WatchError):
    """The ModelDeployment does not exist (or was deleted while waiting)."""


def versions(
    kubeconfig: str | None, namespace: str, name: str, *, deadline: float | None
) -> Iterator[dict[str, Any]]:
    """Each version of the object until `deadline` (time.monotonic()).

    Raises Gone when it is absent, WatchError when the API server cannot be
    read; the client's own exceptions never escape.
    """
    try:
        yield from _versions(kubeconfig, namespace, name, deadline)
    except kubernetes.client.ApiException as exc:
        raise WatchError(f"the API server answered {exc.status}: {exc.reason}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise WatchError(f"API server unreachable: {exc}") from exc


def _versions(
    kubeconfig: str | None, namespace: str, name: str, deadline: float | None
) -> Iterator[dict[str, Any]]:
    api = kubernetes.client.CustomObjectsApi(load_api_client(kubeconfig))
    group, version = names.API_VERSION.split("/")
    while deadline is None or time.monotonic() < deadline:
        try:
            body = api.get_namespaced_custom_object(group, version, namespace, names.PLURAL, name)
        except kubernetes.client.ApiException as exc:
            if exc.status == 404:
                raise Gone(f"ModelDeployment {namespace}/{name} not found") from exc
            raise
        yield body
        resource_version = body["metadata"]["resourceVersion"]
        left = WATCH_SECONDS if deadline is None else deadline - time.monotonic()
        seconds = max(1, min(WATCH_SECONDS, int(left) + 1))
        watch = kubernetes.watch.Watch()
        try:
            for event in watch.stream(
                api.list_namespaced_custom_object,
                group,
                version,
                namespace,
                names.PLURAL,
                field_selector=f"metadata.name={name}",
                resource_version=resource_version,
                timeout_seconds=seconds,
                _request_timeout=seconds + 10,
            ):
                kind, obj = event["type"], event["raw_object"]
                if kind == "DELETED":
                    raise Gone(f"ModelDeployment {namespace}/{name} was deleted while waiting")
                if kind == "ERROR":
                    break  # e.g. 410 Gone: read the object afresh and watch again
                yield obj
                if deadline is not None and time.monotonic() >= deadline:
                    return
        except kubernetes.client.ApiException as exc:
            if exc.status != 410:
                raise
        finally:
            watch.stop()
