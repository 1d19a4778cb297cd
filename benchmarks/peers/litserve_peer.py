"""LitServe serving the churn model on /predict (records or precomputed rows); one worker.

python litserve_peer.py PORT
"""

import sys
from typing import Any

import litserve as ls
from common import load_booster, predict_any


class ChurnAPI(ls.LitAPI):
    def setup(self, device: str) -> None:
        self.booster = load_booster()

    # No annotation on `request`: LitServe builds its route from it, and any
    # annotation other than a pydantic model turns the body into a query field.
    def decode_request(self, request):
        return request

    def predict(self, payload: dict[str, Any]) -> dict[str, Any]:
        return predict_any(self.booster, payload)

    def encode_response(self, output: dict[str, Any]) -> dict[str, Any]:
        return output


if __name__ == "__main__":
    server = ls.LitServer(ChurnAPI(), accelerator="cpu", workers_per_device=1, timeout=30)
    server.run(
        host="127.0.0.1", port=int(sys.argv[1]), num_api_servers=1,
        generate_client_file=False, log_level="warning",
    )  # fmt: skip
