"""The learning-path model's raw contract and feature schema: names, types, ranges, modules.

What a client sends (`RAW_SCHEMA`), what the features are (`FEATURE_SCHEMA`,
whose content hash the registry stores with every model), the module catalogue
the model ranks and the constants the definitions use. Data only: the
computations are in `definitions`, the readers of raw input in `readers`, the
model matrix in `encoding`.
"""

from __future__ import annotations

from modelops_features.arrays import OTHER
from modelops_features.schema import Field, Schema

SUBJECTS: tuple[str, ...] = ("math", "science", "programming", "language")
LEVELS: tuple[str, ...] = ("foundations", "advanced")
# The catalogue of candidate next modules: one foundations and one advanced
# module per subject. The model ranks all of them; a request may restrict the
# ranking to a subset (the candidates the course actually offers the student).
MODULES: tuple[str, ...] = tuple(f"{s}-{level}" for s in SUBJECTS for level in LEVELS)
MODULE_SUBJECT: dict[str, str] = {f"{s}-{level}": s for s in SUBJECTS for level in LEVELS}
LAPSED_DAYS = 30.0

TARGET = "next_module"
ID_COLUMN = "student_id"
GROUP_COLUMN = "group"
# Student groups for fairness reports (e.g. an access or language-background
# group). Never a feature: the model must rank well for every group without it.
GROUPS: tuple[str, ...] = ("group_a", "group_b", "group_c")

QUIZ_COLUMNS: tuple[str, ...] = tuple(f"quiz_avg_{s}" for s in SUBJECTS)
RAW_NUMERIC: tuple[str, ...] = (
    *QUIZ_COLUMNS,
    "video_minutes",
    "active_days",
    "items_started",
    "items_skipped",
    "prerequisites_completed",
    "confidence",
    "days_since_last_activity",
)
RAW_CATEGORICAL: dict[str, tuple[str, ...]] = {"last_subject": SUBJECTS}

RAW_SCHEMA = Schema(
    name="learning_path_raw",
    fields=(
        *(
            Field(
                col,
                "float",
                min=0,
                max=100,
                nullable=True,
                description=f"Average quiz score (0-100) in {s}; missing when no quiz was taken.",
            )
            for col, s in zip(QUIZ_COLUMNS, SUBJECTS, strict=True)
        ),
        Field(
            "video_minutes",
            "float",
            min=0,
            max=43_200,
            description="Minutes of lecture video watched in the last 30 days.",
        ),
        Field("active_days", "int", min=0, max=30, description="Days active in the last 30."),
        Field(
            "items_started", "int", min=0, max=100_000, description="Content items opened (30 d)."
        ),
        Field(
            "items_skipped",
            "int",
            min=0,
            max=100_000,
            description="Content items skipped before the end (30 d).",
        ),
        Field(
            "prerequisites_completed",
            "int",
            min=0,
            max=100,
            description="Prerequisite modules completed so far.",
        ),
        Field(
            "confidence",
            "int",
            min=1,
            max=5,
            nullable=True,
            description="Self-reported confidence, 1 (low) to 5 (high); missing when unanswered.",
        ),
        Field(
            "days_since_last_activity",
            "float",
            min=0,
            max=3650,
            description="Days since the student's last learning activity (recency).",
        ),
        Field("last_subject", "category", categories=SUBJECTS, description="Subject studied last."),
    ),
)

DERIVED_NUMERIC: tuple[str, ...] = (
    "quiz_mean",
    "subjects_quizzed",
    "video_minutes_per_active_day",
    "skip_share",
    "lapsed",
)
NUMERIC_FEATURES: tuple[str, ...] = RAW_NUMERIC + DERIVED_NUMERIC
CATEGORICAL_FEATURES: dict[str, tuple[str, ...]] = {"last_subject": SUBJECTS}


def _passthrough(name: str, lo: float, hi: float | None) -> Field:
    return Field(name, "float", min=lo, max=hi, nullable=True, description="Raw, passed through.")


FEATURE_SCHEMA = Schema(
    name="learning_path_features",
    fields=(
        *(_passthrough(c, 0, 100) for c in QUIZ_COLUMNS),
        _passthrough("video_minutes", 0, None),
        _passthrough("active_days", 0, None),
        _passthrough("items_started", 0, None),
        _passthrough("items_skipped", 0, None),
        _passthrough("prerequisites_completed", 0, None),
        _passthrough("confidence", 1, 5),
        _passthrough("days_since_last_activity", 0, None),
        Field(
            "quiz_mean",
            "float",
            min=0,
            max=100,
            nullable=True,
            description="Mean quiz score over the subjects with a quiz; missing when none.",
        ),
        Field(
            "subjects_quizzed",
            "float",
            min=0,
            max=len(SUBJECTS),
            description="Number of subjects with a quiz score.",
        ),
        Field(
            "video_minutes_per_active_day",
            "float",
            min=0,
            nullable=True,
            description="video_minutes / max(active_days, 1).",
        ),
        Field(
            "skip_share",
            "float",
            min=0,
            max=1,
            nullable=True,
            description="min(items_skipped / items_started, 1); 0 when nothing was started.",
        ),
        Field(
            "lapsed",
            "int",
            min=0,
            max=1,
            nullable=True,
            description=f"1 when days_since_last_activity > {LAPSED_DAYS:g}, else 0.",
        ),
        Field(
            "last_subject",
            "category",
            categories=(*SUBJECTS, OTHER),
            description="Raw last_subject; __other__ when missing or unknown.",
        ),
    ),
)
FEATURE_NAMES: list[str] = FEATURE_SCHEMA.names
