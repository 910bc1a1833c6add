"""The launch's analysis (critical path, slack, risks), recomputed after changes, off the click path and coalesced.

A change (a task's status, a reject, an edit) only counts Launch.changes up in its own short transaction and
enqueues this recompute. The recompute reads the count, returns at once when the stored analysis already covers
it, and otherwise locks the launch row (no change commits meanwhile: each takes that row), recomputes with the
pipeline's own agents and stores the count it covered. Many changes, one recompute; running it twice changes
nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from agents.health import launch_health
from agents.launch_turns import launch_turn
from agents.notification_events import launch_health_moved
from agents.orchestrator import booked_work
from agents.task_updates import recompute
from storage.analysis import AnalysisRepository
from storage.db import Database
from storage.launches import LaunchRepository
from storage.scope import Scope
from storage.snapshots import HealthState


class RefreshOutcome(StrEnum):
    REFRESHED = "refreshed"
    CURRENT = "current"  # the stored analysis already covers every change: nothing done
    MISSING = "missing"  # no such launch in this workspace


@dataclass(frozen=True)
class Refresh:
    outcome: RefreshOutcome
    pm: str | None = None
    health_before: HealthState | None = None
    health_after: HealthState | None = None
    covered: int = 0  # the change count the stored analysis now covers
    alerted: bool = False  # an urgent "launch at risk" notification was recorded (deliver it now)

    @property
    def health_changed(self) -> bool:
        return self.outcome is RefreshOutcome.REFRESHED and self.health_before != self.health_after


async def refresh_analysis(db: Database, workspace_id: str, launch_id: int, *, today: date | None = None) -> Refresh:
    """Recompute and save the launch's analysis if a change since the last one asks for it."""
    today = today or date.today()
    scope = Scope(workspace_id)
    async with db.reader() as session:
        progress = await AnalysisRepository(session, scope).progress(launch_id)
        if progress is None:
            return Refresh(RefreshOutcome.MISSING)
        if progress.current:
            return Refresh(RefreshOutcome.CURRENT, covered=progress.analyzed_changes)
        # Other launches' work (the bulk of the rows) is read before the lock: this launch's count does not cover it.
        concurrent = await LaunchRepository(session, scope).concurrent_tasks(launch_id, today)
    others = [[booked_work(t) for t in rows] for rows in concurrent.values()]
    async with launch_turn(db, workspace_id, launch_id), db.session() as session:
        analyses = AnalysisRepository(session, scope)
        launch = await analyses.lock_launch(launch_id)
        if launch is None:
            return Refresh(RefreshOutcome.MISSING)
        changes = launch.changes
        if launch.analyzed_changes >= changes:  # another run got here first
            return Refresh(RefreshOutcome.CURRENT, launch.created_by, covered=launch.analyzed_changes)
        launches = LaunchRepository(session, scope)
        tasks = await launches.tasks(launch.id)
        dependencies = await launches.dependencies(launch.id)
        before = launch_health(launch, tasks, today).state
        result = recompute(launch, tasks, dependencies, today, others)
        await analyses.save(launch, tasks, result.analysis, result.slack_days, analyzed_changes=changes)
        health = launch_health(launch, tasks, today)
        after = health.state
        # Into at risk (or off track): the PM hears it, urgently, once per transition.
        alerted = await launch_health_moved(session, scope, launch, before, health, changes)
        return Refresh(RefreshOutcome.REFRESHED, launch.created_by, before, after, covered=changes, alerted=alerted)
