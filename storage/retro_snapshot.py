"""The retro of a finished launch as a read model: computed by agents/retro.py, shown by blocks/retro_messages.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

ALL_TEAMS = "All teams"


@dataclass(frozen=True)
class TeamDates:
    """A team's planned end (its latest due date) against its actual end (its last completion)."""

    team: str
    planned_end: date | None
    last_completion: date | None
    open_tasks: int

    @property
    def slip_days(self) -> int | None:
        """Calendar days the team finished after (positive) or before (negative) its plan; None while open."""
        if self.open_tasks or self.planned_end is None or self.last_completion is None:
            return None
        return (self.last_completion - self.planned_end).days


@dataclass(frozen=True)
class LateTask:
    key: str
    title: str
    team: str
    due: date
    completed: date

    @property
    def days_late(self) -> int:
        return (self.completed - self.due).days


@dataclass(frozen=True)
class TeamLateness:
    team: str
    late: int
    done: int


@dataclass(frozen=True)
class WeekCount:
    week: str  # ISO week, e.g. "2026-W05"
    done: int


@dataclass(frozen=True)
class TeamVelocity:
    team: str
    weeks: list[WeekCount]

    @property
    def average(self) -> float:
        """Tasks done per week over the weeks from the team's first to its last completion."""
        return sum(w.done for w in self.weeks) / len(self.weeks) if self.weeks else 0.0


@dataclass(frozen=True)
class CycleTime:
    team: str
    count: int
    median_days: float
    p90_days: float


@dataclass(frozen=True)
class AddedTask:
    key: str
    title: str
    team: str
    version: int
    status: str


@dataclass
class RetroReport:
    launch_name: str
    target_date: date
    done: int
    total: int
    last_completion: date | None
    teams: list[TeamDates] = field(default_factory=list)
    late_by_team: list[TeamLateness] = field(default_factory=list)
    late_tasks: list[LateTask] = field(default_factory=list)  # latest first
    velocity: list[TeamVelocity] = field(default_factory=list)
    cycle_times: list[CycleTime] = field(default_factory=list)  # all teams first, then each team
    scope_creep: list[AddedTask] = field(default_factory=list)

    @property
    def open_tasks(self) -> int:
        return self.total - self.done

    @property
    def slip_days(self) -> int | None:
        """Calendar days from the target date to the last completion (negative: early); None before any."""
        return (self.last_completion - self.target_date).days if self.last_completion else None
