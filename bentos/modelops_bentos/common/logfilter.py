"""BentoML's validation-error tracebacks, as one INFO line naming the fields.

BentoML logs a full ERROR traceback, input included, for every request whose
body fails validation. A client sending bad input is not a server error, and
the input may hold personal data (customer or student ids): keep one INFO line
that names the failing fields, never their values, and let real exceptions
through untouched. The direct routes (direct.py) log the same line themselves.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

from .middleware import describe_errors

BENTOML_HTTP_LOGGER = "bentoml._internal.server.http_app"


class OneLineValidationErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, ValidationError):
            original = record.getMessage()  # "Exception on /predict [POST]"
            record.msg = "%s: rejected invalid input: %s"
            record.args = (original, describe_errors(exc.errors()))
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def install(logger_name: str = BENTOML_HTTP_LOGGER) -> None:
    """Add the filter to BentoML's HTTP app logger, once per process.

    Both services import this; a process hosting both (tests) keeps one filter.
    """
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, OneLineValidationErrors) for f in logger.filters):
        logger.addFilter(OneLineValidationErrors())
