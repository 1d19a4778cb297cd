"""Ray Serve serving the churn model on /predict (records or precomputed rows).

    python ray_peer.py PORT

One replica with max_ongoing_requests=32: Ray's default (5) queues the 16
benchmark connections behind five slots (~40 req/s in an earlier measurement).
"""

from __future__ import annotations

import signal
import sys
import threading

import orjson
import ray
from common import load_booster, predict_any
from ray import serve
from starlette.requests import Request
from starlette.responses import Response


@serve.deployment(num_replicas=1, max_ongoing_requests=32, ray_actor_options={"num_cpus": 0})
class Churn:
    def __init__(self) -> None:
        self.booster = load_booster()

    async def __call__(self, request: Request) -> Response:
        if request.method == "GET":
            return Response(b'{"ready": true}', media_type="application/json")
        payload = orjson.loads(await request.body())
        return Response(
            orjson.dumps(predict_any(self.booster, payload)), media_type="application/json"
        )


if __name__ == "__main__":
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": int(sys.argv[1])})
    serve.run(Churn.bind(), route_prefix="/")
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    serve.shutdown()
    ray.shutdown()
