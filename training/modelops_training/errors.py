"""Errors of the training job."""

from __future__ import annotations

from typing import Any


class TrainingInputError(ValueError):
    """Bad input from the user (data, gates, options): exit code 2, nothing published.

    `report` carries a machine-readable description when there is one, e.g. the
    data validation report listing every violation.
    """

    def __init__(self, message: str, report: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.report = report
