"""Queues the weekly digests that fell due in a window: built from data loaded once, written once per person and
ISO week (the unique key), then sent by the notification delivery like any other notification."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime

from agents.digest import (
    CATCH_UP,
    Person,
    build_digest,
    digest_due_between,
    digest_key,
    load_digest_data,
    load_people,
    person_zone,
    zones_in_use,
)
from agents.insight import weekly_insights
from agents.notification import DIGEST_KIND, is_person, zone
from blocks.digest import digest_message
from storage.db import Database
from storage.notifications import NewNotification, NotificationRepository, Preferences, Urgency
from storage.okrs import OkrRepository
from storage.scope import Scope

log = logging.getLogger(__name__)
DEFAULT_PREFERENCES = Preferences()


@dataclass
class SweepReport:
    due: int = 0
    queued: int = 0
    already: int = 0
    build_seconds: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class DueDigest:
    person: Person
    due_at: datetime
    week: str
    key: str


def due_digests(workspace_id: str, people: list[Person], prefs: dict[str, Preferences], since: datetime,
                until: datetime) -> list[DueDigest]:
    """Digests due in (since, until]; computed once per distinct zone and preference (people share a few dozen)."""
    since = max(since, until - CATCH_UP)
    windows: dict[tuple[str | None, Preferences], list[tuple[datetime, str]]] = {}
    found = []
    for person in people:
        mine = prefs.get(person.slack_id, DEFAULT_PREFERENCES)
        key = (person.tz, mine)
        if key not in windows:
            windows[key] = digest_due_between(mine, person_zone(person), since, until)
        for due_at, week in windows[key]:
            found.append(DueDigest(person, due_at, week, digest_key(workspace_id, person.slack_id, week)))
    return found


async def queue_digests(db: Database, workspace_id: str, since: datetime, until: datetime) -> SweepReport:
    """Build and queue every digest due in (since, until] that is not queued yet. Safe to run twice."""
    scope = Scope(workspace_id)
    report = SweepReport()
    async with db.reader() as session:
        repo = NotificationRepository(session, scope)
        prefs = await repo.all_preferences()
        # Most minutes nobody's digest is due: look at the zones first, load people only from zones with one due.
        window = max(since, until - CATCH_UP)
        zones = [z for z in await zones_in_use(session, scope)
                 if digest_due_between(DEFAULT_PREFERENCES, zone(z), window, until)]
        if not zones and not prefs:
            return report
        people = [p for p in await load_people(session, scope, zones=zones, also=list(prefs))
                  if is_person(p.slack_id)]
        due = due_digests(workspace_id, people, prefs, since, until)
        report.due = len(due)
        if not due:
            return report
        done = await repo.existing_keys([d.key for d in due])
        due = [d for d in due if d.key not in done]
        report.already = report.due - len(due)
        if not due:
            return report
        today = until.date()
        data = await load_digest_data(session, scope, {d.person.slack_id for d in due}, today)
        if data.departments_by_head:  # the insight agent's summaries, only when a department head is due
            data.department_summaries = {i.department: i.summary()
                                         for i in await weekly_insights(OkrRepository(session, scope), today)}
        held = await repo.held_by_recipient()
    rows, digested = [], []
    for item in due:
        started = time.perf_counter()
        local_today = item.due_at.astimezone(person_zone(item.person)).date()
        waiting = held.get(item.person.slack_id, [])
        texts = [str(e.get("text", "")) for row in waiting for e in row.payload.get("events", [])]
        digest = build_digest(item.person, data, local_today, item.week, texts)
        message = digest_message(digest)
        rows.append(NewNotification(recipient=item.person.slack_id, kind=DIGEST_KIND, idempotency_key=item.key,
                                    payload={"message": message, "week": item.week}, due_at=item.due_at,
                                    urgency=Urgency.NORMAL, group_key=DIGEST_KIND))
        digested += [row.id for row in waiting]
        report.build_seconds.append(time.perf_counter() - started)
    async with db.session() as session:
        repo = NotificationRepository(session, scope)
        report.queued = await repo.add_many_once(rows)
        await repo.mark_digested(digested)
    log.info("digests for %s: %d due, %d queued, %d already queued", workspace_id, report.due, report.queued,
             report.already)
    return report
