"""Cadence: the operator's and each workspace's rhythm (working hours, nudge patience, digest)."""

from bot.cadence.config import (
    CadenceConfig,
    CadenceConfigError,
    DigestSchedule,
    NudgeRules,
    Retention,
    Weekday,
    WorkingHours,
    apply_overrides,
    load_cadence_file,
)

__all__ = [
    "CadenceConfig",
    "CadenceConfigError",
    "DigestSchedule",
    "NudgeRules",
    "Retention",
    "Weekday",
    "WorkingHours",
    "apply_overrides",
    "load_cadence_file",
]
