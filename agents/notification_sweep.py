"""The morning sweep: tasks due tomorrow and overdue, and key results waiting for a check-in, as notifications.

It runs every hour and takes each person once their own morning has begun (SWEEP_LOCAL_HOUR in their IANA zone
from the users table), so a reminder arrives at the start of their day, not at midnight UTC. Each person's
"today" is their own local day. Event keys name the task
and its due date (or the key result and the week), so a second sweep the same day records nothing, and an
overdue task is announced once per due date, not every day. Quiet hours, mutes and the nudge cap are applied
at delivery (agents/notification.disposition), like for every other notification.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from agents.digest import iso_week
from agents.notification import DomainEvent, EventKind, is_person, notify, zone
from agents.notification_events import LIFTOFF, NotificationAudit
from agents.notification_text import event_text
from storage.audit import AuditLog
from storage.db import Database
from storage.models import utcnow
from storage.notification_sources import DueTask, NotificationSources, StaleKeyResult
from storage.scope import Scope

CHECKIN_EVERY_DAYS = 7
SWEEP_LOCAL_HOUR = 9
# The furthest any local "today" is ahead of UTC (UTC+14), plus tomorrow.
_AHEAD = timedelta(days=2)


@dataclass
class SweepReport:
    due_tomorrow: int = 0
    overdue: int = 0
    checkin_due: int = 0

    @property
    def total(self) -> int:
        return self.due_tomorrow + self.overdue + self.checkin_due


def task_event(item: DueTask, today: date) -> DomainEvent | None:
    """DUE_TOMORROW or OVERDUE for one open task, as of its assignee's local `today`; None when neither."""
    task, who = item.task, str(item.task.assignee_slack_id)
    if task.due is None:
        return None
    if task.due == today + timedelta(days=1):
        kind, key = EventKind.DUE_TOMORROW, f"due:{task.id}:{task.due.isoformat()}"
        text = event_text(kind, task=task, launch=item.launch_name)
    elif task.due < today:
        kind, key = EventKind.OVERDUE, f"overdue:{task.id}:{task.due.isoformat()}"
        text = event_text(kind, task=task, launch=item.launch_name, days=(today - task.due).days)
    else:
        return None
    return DomainEvent(kind, key, text, recipient=who, group=f"{kind}:{today.isoformat()}", launch_id=task.launch_id)


def checkin_event(item: StaleKeyResult, today: date) -> DomainEvent | None:
    """CHECKIN_DUE for a key result whose last check-in is a week old (or none, a week into the period),
    as of its owner's local `today`; at most one a week while it stays so."""
    kr = item.key_result
    if not item.period_start <= today <= item.period_end:
        return None
    cutoff = today - timedelta(days=CHECKIN_EVERY_DAYS)
    stale = kr.last_checkin_on <= cutoff if kr.last_checkin_on else item.period_start <= cutoff
    if not stale:
        return None
    return DomainEvent(EventKind.CHECKIN_DUE, f"checkin:{kr.id}:{iso_week(today)}",
                       event_text(EventKind.CHECKIN_DUE, kr=kr), recipient=kr.owner_id,
                       group=f"{EventKind.CHECKIN_DUE}:{today.isoformat()}")


async def sweep(db: Database, workspace_id: str, now: datetime | None = None) -> SweepReport:
    """Record today's due-tomorrow, overdue and check-in-due events of one workspace, in one transaction."""
    now = now or utcnow()
    scope = Scope(workspace_id)
    report = SweepReport()
    async with db.session() as session:
        sources = NotificationSources(session, scope)
        tasks = [t for t in await sources.open_tasks_due_by(now.date() + _AHEAD) if is_person(t.task.assignee_slack_id)]
        stale = [k for k in await sources.stale_manual_key_results(now.date() + timedelta(days=1), CHECKIN_EVERY_DAYS)
                 if is_person(k.key_result.owner_id)]
        zones = await sources.zones({str(t.task.assignee_slack_id) for t in tasks}
                                    | {k.key_result.owner_id for k in stale})

        def local_today(slack_id: str) -> date | None:
            """The person's local date once their morning has begun; None before it (a later sweep takes them)."""
            local = now.astimezone(zone(zones.get(slack_id)))
            return local.date() if local.hour >= SWEEP_LOCAL_HOUR else None

        events: list[DomainEvent | None] = []
        for t in tasks:
            today = local_today(str(t.task.assignee_slack_id))
            events.append(task_event(t, today) if today else None)
        for k in stale:
            today = local_today(k.key_result.owner_id)
            events.append(checkin_event(k, today) if today else None)
        for event in events:
            if event is None or await notify(session, scope, event, now) is None:
                continue
            if event.kind == EventKind.DUE_TOMORROW:
                report.due_tomorrow += 1
            elif event.kind == EventKind.OVERDUE:
                report.overdue += 1
            else:
                report.checkin_due += 1
        if report.total:
            await AuditLog(session, scope).append(
                actor=LIFTOFF, action=NotificationAudit.SWEPT, target=f"sweep:{now.date().isoformat()}",
                after={"due_tomorrow": report.due_tomorrow, "overdue": report.overdue,
                       "checkin_due": report.checkin_due})
    return report
