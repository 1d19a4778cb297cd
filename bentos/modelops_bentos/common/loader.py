"""Which model version a service loads, and loading it in the background.

The bento image carries code only; the model version arrives at start from the
registry named by the environment (MODELOPS_REGISTRY, MODELOPS_MODEL,
MODELOPS_MODEL_VERSION, MODELOPS_LOAD_RETRY_SECONDS). Each service supplies
its own `load(request)`: fetch, verify (checksum, feature schema, columns) and
deserialise; this module owns what is the same for every service.

`ModelHolder` loads in a background thread and retries with back-off, so a pod
whose registry is briefly unreachable (or whose version is not published yet)
stays alive and not-ready, logs why on every attempt, and becomes ready by
itself once the load succeeds, instead of crash-looping.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from modelops_registry import ChecksumError, default_uri

logger = logging.getLogger("bentoml.modelops.loader")

ENV_REGISTRY = "MODELOPS_REGISTRY"
ENV_MODEL = "MODELOPS_MODEL"
ENV_VERSION = "MODELOPS_MODEL_VERSION"
ENV_RETRY = "MODELOPS_LOAD_RETRY_SECONDS"
DEFAULT_VERSION = "latest"
MAX_RETRY_SECONDS = 60.0


class ModelLoadError(RuntimeError):
    """The model version cannot be served (the message says why)."""


@dataclass(frozen=True)
class LoadRequest:
    """Which model to load, as configured by the environment."""

    registry_uri: str
    model: str
    ref: str = DEFAULT_VERSION
    retry_seconds: float = 5.0

    @classmethod
    def from_env(cls, default_model: str, env: dict[str, str] | None = None) -> LoadRequest:
        """The request the environment names; `default_model` when MODELOPS_MODEL is unset."""
        source = os.environ if env is None else env
        retry_raw = source.get(ENV_RETRY, "5")
        try:
            retry = float(retry_raw)
        except ValueError:
            raise ModelLoadError(f"{ENV_RETRY}={retry_raw!r} is not a number") from None
        return cls(
            registry_uri=source.get(ENV_REGISTRY) or default_uri(),
            model=source.get(ENV_MODEL) or default_model,
            ref=source.get(ENV_VERSION) or DEFAULT_VERSION,
            retry_seconds=max(retry, 0.05),
        )


@dataclass(frozen=True)
class LoadedVersion:
    """A verified model version; each service's loaded model extends it with what it scores with."""

    model: str
    version: str
    metadata: dict[str, Any]

    @property
    def profile(self) -> dict[str, Any]:
        """The reference profile training recorded (the metrics' bucket edges)."""
        return self.metadata.get("profile") or {}


@dataclass
class ModelHolder:
    """The service's current model: loading, ready, or failed (with the reason).

    `load(request)` is the service's loader: it returns the loaded model (a
    LoadedVersion) or raises with the reason.
    """

    request: LoadRequest
    load: Callable[[LoadRequest], Any]
    loaded: Any = None
    error: str | None = None
    attempts: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _on_loaded: list[Callable[[Any], None]] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.loaded is not None

    def status(self) -> str:
        if self.loaded is not None:
            return f"ready: {self.loaded.model} version {self.loaded.version}"
        if self.error is not None:
            return f"not ready after {self.attempts} attempt(s): {self.error}"
        return "loading"

    def on_loaded(self, callback: Callable[[Any], None]) -> None:
        """Call `callback(loaded)` once the model is ready (used to build metrics)."""
        self._on_loaded.append(callback)

    def try_load(self) -> bool:
        """One load attempt; records the reason on failure instead of raising."""
        self.attempts += 1
        try:
            loaded = self.load(self.request)
            # Callbacks (metrics built from the profile) run before the model
            # counts as loaded: a profile they cannot use keeps it not ready.
            for callback in self._on_loaded:
                callback(loaded)
        except Exception as exc:  # any failure keeps the service alive and not ready
            self.error = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, ChecksumError):
                # Say what it means to whoever reads the pod's log: these bytes
                # are not the ones published, and they are never served.
                self.error += " (the artefact is corrupt or was tampered with; not serving it)"
            logger.error(
                "modelops: cannot load model %r ref %r from %s (attempt %d): %s",
                self.request.model,
                self.request.ref,
                self.request.registry_uri,
                self.attempts,
                self.error,
            )
            return False
        self.loaded = loaded
        self.error = None
        logger.info(
            "modelops: serving %s version %s from %s",
            loaded.model,
            loaded.version,
            self.request.registry_uri,
        )
        return True

    def start(self) -> None:
        """Load in the background, retrying with back-off until it works or stop()."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="modelops-loader", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        delay = self.request.retry_seconds
        while not self._stop.is_set():
            if self.try_load():
                return
            self._stop.wait(delay)
            delay = min(delay * 2, max(self.request.retry_seconds, MAX_RETRY_SECONDS))

    def wait(self, timeout: float) -> bool:
        """Block until loaded or `timeout` seconds passed (for tests and tools)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.ready:
            time.sleep(0.02)
        return self.ready

    def stop(self) -> None:
        self._stop.set()
