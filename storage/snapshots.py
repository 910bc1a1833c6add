"""Read models computed from rows, handed from agents to blocks (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from storage.models import Launch, Task


class HealthState(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    DONE = "done"


@dataclass
class TeamProgress:
    team: str
    done: int
    total: int


@dataclass
class LaunchHealth:
    launch: Launch
    state: HealthState
    done: int
    total: int
    business_days_left: int
    by_team: list[TeamProgress] = field(default_factory=list)
    critical_path: list[Task] = field(default_factory=list)
    overdue: list[Task] = field(default_factory=list)
    blocked: list[Task] = field(default_factory=list)
    next_milestones: list[Task] = field(default_factory=list)

    @property
    def percent_done(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0
