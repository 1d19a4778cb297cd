"""Process entry point: metrics, leader election, then kopf.

`modelops operator run` builds an OperatorSettings and calls `run`. The order
matters: the metrics and liveness endpoints come up first (a follower waiting
for the lease is alive and observable), kopf starts only once this process
leads, and losing the lease stops kopf and exits non-zero so the supervisor
(Kubernetes, or the test harness) restarts the process as a follower.
"""

from __future__ import annotations

import logging
import os
import threading

from modelops_operator.settings import OperatorSettings

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

    from modelops_operator import handlers
    from modelops_operator.adapters.kube import KubeAdapter
    from modelops_operator.engine import Engine
    from modelops_operator.leader import LeaderElector
    from modelops_operator.resync import Resyncer

    if not settings.verbose:
        # kopf logs every handler success at INFO: one line per watch event.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    if settings.metrics_port is not None:
        start_http_server(settings.metrics_port, addr=settings.metrics_host)
        log.info("metrics on http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)

    kube = KubeAdapter.from_kubeconfig(settings.kubeconfig)
    engine = Engine(kube=kube, instance=settings.identity)
    handlers.install(engine, settings)

    stop = threading.Event()
    lost = threading.Event()
    elector = None
    if settings.leader_election:
        elector = LeaderElector(
            kube,
            namespace=settings.lease_namespace,
            name=settings.lease_name,
            identity=settings.identity,
            lease_seconds=settings.lease_seconds,
            renew_seconds=settings.renew_seconds,
        )
        log.info("%s waiting for the leader lease", settings.identity)
        if not elector.acquire():
            return 0

        def on_lost() -> None:
            lost.set()
            stop.set()

        elector.keep_renewing(on_lost)

    resyncer = Resyncer(
        kube, engine, namespaces=settings.namespaces, period=settings.resync_seconds
    )
    resyncer.start()
    try:
        kopf.run(
            standalone=True,
            clusterwide=settings.all_namespaces,
            namespaces=list(settings.namespaces),
            liveness_endpoint=settings.liveness,
            stop_flag=stop,
        )
    finally:
        resyncer.stop()
        if elector is not None and not lost.is_set():
            elector.release()
    return EXIT_LOST_LEADERSHIP if lost.is_set() else 0
