"""A liveness endpoint for the time a replica waits for the leader lease.

kopf serves `--liveness` only once it runs, and it runs only on the leader.
Without this, a follower's liveness probe would fail and Kubernetes would
restart healthy standby replicas in a loop. The probe answers 200 while the
process waits, then frees the port for kopf's own endpoint.
"""

from __future__ import annotations

import http.server
import json
import threading
from urllib.parse import urlparse


class FollowerProbe:
    def __init__(self, url: str | None) -> None:
        self._server: http.server.ThreadingHTTPServer | None = None
        if not url:
            return
        parsed = urlparse(url)
        path = parsed.path or "/"

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                ok = self.path.split("?")[0] == path
                body = json.dumps({"leader": False} if ok else {"error": "not found"}).encode()
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                """Probes every few seconds would flood the log."""

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._server = http.server.ThreadingHTTPServer(
            (parsed.hostname or "0.0.0.0", parsed.port or 80), Handler
        )
        threading.Thread(
            target=self._server.serve_forever, name="follower-probe", daemon=True
        ).start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
