"""Process entry point: metrics, leader election, then the workers, the resync and kopf.

`modelops operator run` builds an OperatorSettings and calls `run`. The order
matters: the metrics and liveness endpoints come up first (a follower waiting
for the lease is alive and observable), the workers and kopf start only once
this process leads, and losing the lease stops kopf and exits non-zero so the
supervisor (Kubernetes, or the test harness) restarts the process as a
follower.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading

from modelops_operator.runtime.settings import OperatorSettings

log = logging.getLogger("modelops.operator")

EXIT_LOST_LEADERSHIP = 3


def run(settings: OperatorSettings) -> int:
    """Run the operator until stopped; returns the process exit code."""
    os.environ.setdefault("BENTOML_DO_NOT_TRACK", "true")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if settings.kubeconfig:
        # kopf logs in through the same kubeconfig as the adapter.
        os.environ["KUBECONFIG"] = settings.kubeconfig
    logging.basicConfig(
        level=logging.DEBUG if settings.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    # Imported here: kopf registers handlers at import time, and only this
    # command needs kopf, aiohttp and the Kubernetes client loaded.
    import kopf
    from prometheus_client import start_http_server

    from modelops_operator.runtime.leader import LeaderElector
    from modelops_operator.runtime.probe import FollowerProbe
    from modelops_operator.runtime.resync import Resyncer

    if not settings.verbose:
        # kopf logs every handler success at INFO: one line per watch event.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    if settings.metrics_port is not None:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
        log.info("metrics on http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)

    kube = _kube(settings)
    elector = None
    if settings.leader_election:
        elector = LeaderElector(
            kube,
            namespace=settings.lease_namespace,
            name=settings.lease_name,
            identity=settings.identity,
            timing=settings.timing,
        )
        # One guard for every writer (status patches, child applies, Job
        # creates, Events, from any thread): each write is sent only while the
        # lease is held with margin, so a leader that was frozen or cut off
        # stops writing before another replica can take over.
        kube = kube.with_write_guard(elector.held)
    queue, engine, workers = _assemble(settings, kube)

    if elector is not None:
        log.info("%s waiting for the leader lease", settings.identity)
        probe = FollowerProbe(settings.liveness)
        try:
            if not _acquire_interruptibly(elector):
                log.info("stopped before becoming the leader")
                return 0
        finally:
            probe.close()

    # Only the leader reconciles, so only it loads its children into memory.
    namespaces = settings.namespaces or (None,)  # (None,): every namespace
    engine.prime(namespaces)
    engine.events.start()
    workers.start()
    resyncer = Resyncer(
        kube,
        queue,
        namespaces=settings.namespaces,
        period=settings.resync_seconds,
        # Reconciles read children from memory that only the watches update:
        # each pass relists them, so an event a watch missed is corrected.
        before_pass=lambda: engine.prime(namespaces),
    )

    async def serve() -> None:
        # The stop flag is an asyncio.Event of kopf's own loop: kopf waits for
        # thread-based flags in an executor thread that asyncio.run() would
        # then wait for forever at shutdown.
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        if elector is not None:

            def on_lost() -> None:
                # Writes are already refused by the guard; this only ends the process.
                loop.call_soon_threadsafe(stop.set)

            elector.keep_renewing(on_lost)
        try:
            await kopf.operator(
                standalone=True,
                clusterwide=settings.all_namespaces,
                namespaces=list(settings.namespaces),
                liveness_endpoint=settings.liveness,
                stop_flag=stop,
            )
        finally:
            # Queued reconciles are dropped (the next leader lists everything anyway);
            # those in flight finish, then the Events they decided are posted.
            workers.stop()
            engine.stop()

    resyncer.start()
    try:
        asyncio.run(serve())
    finally:
        resyncer.stop()
        if elector is not None and not elector.lost:
            elector.release()
    return EXIT_LOST_LEADERSHIP if elector is not None and elector.lost else 0


def _kube(settings: OperatorSettings):
    from modelops_operator.adapters.kube import KubeAdapter

    # The identity in the User-Agent lets the API server's audit log name the
    # replica behind every request (tests/cluster/test_leader_*.py rely on it).
    return KubeAdapter.from_kubeconfig(
        settings.kubeconfig,
        pool_size=settings.workers,
        user_agent=f"modelops-operator/{settings.identity}",
    )


def _assemble(settings: OperatorSettings, kube):
    """The work queue, the engine and its workers, wired to the handlers.

    Every trigger (kopf's watches, the resync, wake-up timers, finished drift
    measurements) feeds one queue; `--workers` threads reconcile from it.
    """
    from modelops_operator.reconcile.plan import Policy
    from modelops_operator.runtime import handlers
    from modelops_operator.runtime.engine import ConflictRetriesExhausted, Engine
    from modelops_operator.runtime.queue import Workers, WorkQueue
    from modelops_operator.runtime.requeue import Requeuer

    queue = WorkQueue()
    engine = Engine(
        kube=kube,
        instance=settings.identity,
        policy=Policy(retraining_service_accounts=settings.retraining_service_accounts),
        requeuer=Requeuer(lambda namespace, name: queue.add(namespace, name)),
    )
    workers = Workers(
        queue,
        engine.reconcile,
        engine.requeuer.schedule,
        count=settings.workers,
        busy_error=ConflictRetriesExhausted,
    )
    handlers.install(engine, queue, settings)
    return queue, engine, workers


def _acquire_interruptibly(elector) -> bool:
    """Wait for the lease; SIGTERM / SIGINT while waiting end the wait cleanly."""
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        return elector.acquire(stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
