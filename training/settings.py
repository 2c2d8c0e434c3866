"""The shop's training settings (``Shop.config["training"]``), defaults filled in; a bad
key is refused naming it (``training.boost_days``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from csdesk.training.courses import CourseError
from csdesk.training.effect import DEFAULT_MIN_CHATS, DEFAULT_WINDOW_DAYS
from csdesk.training.points import PointsRules, parse_points_rules

KEYS: Final = (
    "boost_days",
    "boost_factor",
    "remind_before_hours",
    "effect_window_days",
    "effect_min_chats",
    "trainee_chat_capacity",
    "points",
)

TRAINING_LIMITS: Final = {
    "boost_days": (0, 90),
    "remind_before_hours": (1, 240),
    "effect_window_days": (1, 180),
    "effect_min_chats": (1, 1000),
    "trainee_chat_capacity": (0, 50),
}
"""Each whole-number setting's range (the API document states the same)."""


@dataclass(frozen=True)
class TrainingSettings:
    boost_days: int = 14
    """After passing a course the agent's QC sample rate is raised for this many days."""
    boost_factor: float = 2.0
    """… by this factor (QC's training follow-up, ``csdesk.qc.sampling``); trainees too."""
    remind_before_hours: int = 24
    """The ``due_soon`` reminder goes out this long before the due date."""
    effect_window_days: int = DEFAULT_WINDOW_DAYS
    effect_min_chats: int = DEFAULT_MIN_CHATS
    trainee_chat_capacity: int = 2
    """A new starter (新人) goes busy (自动挂起) at this many open chats until their starter
    courses are passed; 0: no lower limit."""
    points: PointsRules = field(default_factory=PointsRules)

    @property
    def remind_lead(self) -> timedelta:
        return timedelta(hours=self.remind_before_hours)

    def to_json(self) -> dict[str, Any]:
        return {
            "boost_days": self.boost_days,
            "boost_factor": self.boost_factor,
            "remind_before_hours": self.remind_before_hours,
            "effect_window_days": self.effect_window_days,
            "effect_min_chats": self.effect_min_chats,
            "trainee_chat_capacity": self.trainee_chat_capacity,
            "points": self.points.to_json(),
        }


def _whole(section: Mapping[str, Any], key: str, default: int) -> int:
    low, high = TRAINING_LIMITS[key]
    value = section.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise CourseError(f"training.{key}", f"must be a whole number from {low} to {high}")
    return value


def parse_training_settings(config: Mapping[str, Any] | None) -> TrainingSettings:
    section = (config or {}).get("training")
    if section is None:
        section = {}
    if not isinstance(section, Mapping):
        raise CourseError("training", "must be an object")
    for key in section:
        if key not in KEYS:
            raise CourseError(f"training.{key}", f"unknown; one of {', '.join(KEYS)}")
    base = TrainingSettings()
    factor = section.get("boost_factor", base.boost_factor)
    if (
        not isinstance(factor, int | float)
        or isinstance(factor, bool)
        or not 1.0 <= float(factor) <= 10.0
    ):
        raise CourseError("training.boost_factor", "must be a number from 1 to 10")
    return TrainingSettings(
        boost_days=_whole(section, "boost_days", base.boost_days),
        boost_factor=float(factor),
        remind_before_hours=_whole(section, "remind_before_hours", base.remind_before_hours),
        effect_window_days=_whole(section, "effect_window_days", base.effect_window_days),
        effect_min_chats=_whole(section, "effect_min_chats", base.effect_min_chats),
        trainee_chat_capacity=_whole(section, "trainee_chat_capacity", base.trainee_chat_capacity),
        points=parse_points_rules(section.get("points")),
    )
