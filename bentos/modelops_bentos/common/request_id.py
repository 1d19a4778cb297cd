"""The request id every API response carries (X-Request-Id), and where the handler finds it.

A caller that sends `X-Request-Id` gets it back, and the inference log records
it, so the caller can later send the outcome of exactly that prediction to
`POST /feedback`. Without one (or with one that is not a plain token), the
service makes one up (32 hex characters) and returns it.

The middleware sets it in a context variable before the route runs; the
service's handler reads it from there. Context variables follow the request's
task (and the threads starlette hands sync work to), so neither BentoML's
route nor our direct route needs a parameter for it. BentoML's adaptive
batching calls the batched method from its own task, where the variable is
unset: /predict_batch rows are logged without a request id.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

HEADER = b"x-request-id"
MAX_LENGTH = 128
# Printable token characters only: the id goes into a response header, a log
# file and a Parquet column, and must not carry header injection or newlines.
_VALID = re.compile(rb"^[A-Za-z0-9._:@/+=-]{1,128}$")

current: ContextVar[str | None] = ContextVar("modelops_request_id", default=None)


def from_header(value: bytes | None) -> str:
    """The caller's id when it is a valid token, else a fresh one."""
    if value is not None and _VALID.match(value):
        return value.decode("ascii")
    return uuid.uuid4().hex


def get() -> str | None:
    """The current request's id (None outside a request, e.g. in /predict_batch)."""
    return current.get()
