"""A valid example request, shared by the CLI's sample curl, the README and tests."""

from __future__ import annotations

from typing import Any

SAMPLE_ACTIVITY: dict[str, Any] = {
    "quiz_avg_math": 82.5,
    "quiz_avg_science": 61.0,
    "quiz_avg_programming": None,
    "quiz_avg_language": 70.0,
    "video_minutes": 340.0,
    "active_days": 12,
    "items_started": 40,
    "items_skipped": 6,
    "prerequisites_completed": 4,
    "confidence": 4,
    "days_since_last_activity": 2.0,
    "last_subject": "math",
}
SAMPLE_REQUEST: dict[str, Any] = {
    "student_id": "stu-0001",
    "activity": SAMPLE_ACTIVITY,
    "k": 3,
}
