"""Contract-layer fixtures: a real S3-compatible server (moto in server mode).

The server speaks the S3 HTTP API on a loopback port, so the registry's
s3fs / botocore stack runs exactly as against AWS or MinIO, requests and all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        pytest.fail(
            f"moto's server mode is missing ({exc}); install the dev dependencies: tools/bootstrap.sh"
        )
    # Port 0: the OS picks a free port, so parallel runs never collide.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(moto_s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, empty bucket; the S3 environment points every client at moto."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("FSSPEC_S3_ENDPOINT_URL", raising=False)
    import fsspec

    fs = fsspec.filesystem(
        "s3", client_kwargs={"endpoint_url": moto_s3_endpoint}, skip_instance_cache=True
    )
    bucket = f"models-{uuid.uuid4().hex[:12]}"
    fs.mkdir(bucket)
    return bucket
