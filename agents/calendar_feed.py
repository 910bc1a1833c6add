"""Deadlines and milestones as an iCalendar (RFC 5545) feed that Google Calendar and Outlook subscribe to.

A person's feed: their open tasks with a due date, the milestones of the launches they are on, and those
launches' target dates. A launch's feed: its open dated tasks, milestones and target date. Every event is an
all-day event with a UID that never changes (task-<id>@<workspace>.liftoff), so a moved due date moves the
event; SEQUENCE, LAST-MODIFIED and DTSTAMP come from the task's updated_at (a feed has no METHOD, so DTSTAMP is
when the information last changed, RFC 5545 §3.8.7.2), which keeps the body, and its ETag, the same between
changes.

The feed leaves the workspace for Google's or Microsoft's servers, so every text in it (titles, launch names,
blocked reasons, owners) goes through the PII guardrail first, like a tracker sync: names of the workspace's
people, emails, phone numbers and secrets become placeholders. Only the subscriber's own name is kept (it is
their calendar). If the guardrail cannot check a text, no feed is served.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event

from agents import guardrail
from agents.policy import Actor
from storage.audit import AuditLog
from storage.calendar import CalendarFeed, CalendarRepository, FeedData, FeedKind, feed_for_token
from storage.db import Database
from storage.enums import TaskStatus
from storage.models import Launch, Task
from storage.scope import Scope

PRODID = "-//Liftoff//Launch deadlines//EN"
SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
REFRESH = timedelta(hours=1)
FEED_CREATED = "calendar.feed_created"
FEED_REVOKED = "calendar.feed_revoked"
STATUS_WORDS = {TaskStatus.TODO: "To do", TaskStatus.IN_PROGRESS: "In progress", TaskStatus.BLOCKED: "Blocked",
                TaskStatus.DONE: "Done"}
NO_PUBLIC_URL = "https://YOUR-LIFTOFF-HOST"


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    day: date
    summary: str
    description: str
    modified: datetime
    url: str | None = None

    @property
    def sequence(self) -> int:
        """Grows with every change of the event: seconds since 2020 of its last change."""
        return max(0, int((self.modified - SEQUENCE_EPOCH).total_seconds()))


@dataclass(frozen=True)
class RenderedFeed:
    body: bytes
    etag: str
    last_modified: datetime


def feed_url(public_url: str | None, kind: FeedKind, token: str) -> str:
    return f"{(public_url or NO_PUBLIC_URL).rstrip('/')}/calendar/{kind}/{token}.ics"


def slack_link(app_id: str | None, workspace_id: str) -> str | None:
    """A link that opens Liftoff's Home in the workspace, when the app's id is known."""
    return f"https://slack.com/app_redirect?app={app_id}&team={workspace_id}" if app_id else None


def _domain(workspace_id: str) -> str:
    return f"{workspace_id.lower()}.liftoff"


def _launch_changed(launch: Launch) -> datetime:
    return launch.planned_at or launch.created_at


def task_event(task: Task, launch: Launch, workspace_id: str, link: str | None) -> FeedEvent:
    assert task.due is not None
    kind = "Milestone" if task.milestone else "Due"
    lines = [f"Status: {STATUS_WORDS.get(TaskStatus(task.status), task.status)}",
             f"Owner: {task.assignee or 'nobody yet'}",
             f"Launch: {launch.name} (target {launch.target_date.isoformat()})"]
    if task.status == TaskStatus.BLOCKED and task.blocked_reason:
        lines.append(f"Blocked: {task.blocked_reason}")
    return FeedEvent(
        uid=f"task-{task.id}@{_domain(workspace_id)}",
        day=task.due,
        summary=f"{kind}: {task.title} ({launch.name} · {task.key})",
        description="\n".join(lines),
        modified=task.updated_at or _launch_changed(launch),
        url=link,
    )


def target_event(launch: Launch, workspace_id: str, link: str | None) -> FeedEvent:
    return FeedEvent(
        uid=f"launch-{launch.id}-target@{_domain(workspace_id)}",
        day=launch.target_date,
        summary=f"Launch: {launch.name}",
        description=f"Target date of {launch.name} (plan v{launch.version}, {launch.status})",
        modified=_launch_changed(launch),
        url=link,
    )


def feed_events(data: FeedData, workspace_id: str, link: str | None) -> list[FeedEvent]:
    events = [task_event(task, data.launches[task.launch_id], workspace_id, link)
              for task in data.tasks if task.launch_id in data.launches]
    events += [target_event(launch, workspace_id, link) for launch in data.launches.values()]
    return sorted(events, key=lambda e: (e.day, e.uid))


def redacted(events: Sequence[FeedEvent], roster: Sequence[str], me: str | None) -> list[FeedEvent]:
    """Every text through the guardrail (raises GuardrailError when it cannot check one); my own name stays."""
    others = [name for name in roster if name != me]
    mapping = guardrail.PiiMapping()
    seen: dict[str, str] = {}

    def clean(text: str) -> str:
        if text not in seen:
            seen[text] = guardrail.redact(text, roster=others, mapping=mapping).text
        return seen[text]

    return [replace(e, summary=clean(e.summary), description=clean(e.description)) for e in events]


def build_calendar(name: str, events: Sequence[FeedEvent]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")  # Outlook's refresh hint, the same hour as REFRESH-INTERVAL
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", item.modified)
        event.add("last-modified", item.modified)
        event.add("sequence", item.sequence)
        event.add("dtstart", item.day)
        event.add("dtend", item.day + timedelta(days=1))
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy all day
        if item.url:
            event.add("url", item.url)
        calendar.add_component(event)
    return calendar.to_ical()


def render(name: str, events: Sequence[FeedEvent], since: datetime) -> RenderedFeed:
    body = build_calendar(name, events)
    last = max([since, *(e.modified for e in events)])
    return RenderedFeed(body, f'"{hashlib.sha256(body).hexdigest()[:32]}"', last)


async def load_feed(db: Database, kind: FeedKind, token: str) -> RenderedFeed | None:
    """The feed a secret URL opens, or None for a token that is unknown, revoked, or whose launch is gone."""
    async with db.reader() as session:
        feed = await feed_for_token(session, kind, token)
        if feed is None:
            return None
        repo = CalendarRepository(session, Scope(feed.workspace_id, feed.owner))
        if kind == FeedKind.PERSON:
            data: FeedData | None = await repo.person_feed(feed.owner)
            name = "Liftoff: my deadlines"
        else:
            data = await repo.launch_feed(feed.launch_id, feed.owner) if feed.launch_id is not None else None
            name = f"Liftoff: {data.launches[feed.launch_id].name}" if data and feed.launch_id else ""
        if data is None:
            return None
        events = feed_events(data, feed.workspace_id, slack_link(feed.app_id, feed.workspace_id))
        since = feed.created_at
    return await asyncio.to_thread(_clean_and_render, name, events, data, since)


def _clean_and_render(name: str, events: list[FeedEvent], data: FeedData, since: datetime) -> RenderedFeed:
    title = redacted([FeedEvent("name", since.date(), name, "", since)], data.roster, data.me)[0].summary
    return render(title, redacted(events, data.roster, data.me), since)


@dataclass(frozen=True)
class NewFeed:
    url: str
    replaced: bool


async def new_feed(db: Database, actor: Actor, kind: FeedKind, *, launch_id: int | None = None,
                   app_id: str | None = None, public_url: str | None = None) -> NewFeed | None:
    """Make the person a new secret URL (revoking their previous one), audited; None if the launch is not there."""
    scope = Scope(actor.workspace_id, actor.user_id)
    async with db.session() as session:
        repo = CalendarRepository(session, scope)
        if launch_id is not None and await repo.launch(launch_id) is None:
            return None
        row, token, revoked = await repo.create(actor.user_id, kind, launch_id, app_id=app_id)
        await AuditLog(session, scope).append(actor=actor.user_id, action=FEED_CREATED, target=_target(row),
                                              before={"revoked": [r.id for r in revoked]}, after={"feed": row.id})
    return NewFeed(feed_url(public_url, kind, token), replaced=bool(revoked))


async def turn_off(db: Database, actor: Actor, kind: FeedKind, launch_id: int | None = None) -> int:
    """Revoke the person's live URL(s) of this kind; returns how many stopped working."""
    scope = Scope(actor.workspace_id, actor.user_id)
    async with db.session() as session:
        revoked = await CalendarRepository(session, scope).revoke(actor.user_id, kind, launch_id)
        for row in revoked:
            await AuditLog(session, scope).append(actor=actor.user_id, action=FEED_REVOKED, target=_target(row),
                                                  before={"feed": row.id}, after=None)
    return len(revoked)


def _target(row: CalendarFeed) -> str:
    return f"calendar:{row.kind}:{row.owner}" + (f":launch:{row.launch_id}" if row.launch_id else "")
