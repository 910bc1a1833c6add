"""Delivers due notifications: Slack first, email when Slack fails, retries every 5 minutes for an hour, then the
App Home and an incident. Each notification is claimed before it is sent and carries its idempotency key (Slack
message metadata, the email's Message-ID); one found still `sending` after a crash is looked up first.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from agents.launch_pii import reveal_events
from agents.notification import DIGEST_KIND, Disposition, disposition, local_day_start, zone
from blocks.digest import notification_message, plain_text
from integrations.email import EmailError, EmailSender
from integrations.slack_sender import SlackSender
from storage.audit import AuditLog
from storage.db import Database
from storage.models import User, utcnow
from storage.notifications import (
    DeliveryChannel,
    Notification,
    NotificationRepository,
    NotificationStatus,
    Target,
)
from storage.scope import Scope

log = logging.getLogger(__name__)

SENDING_LEASE = timedelta(minutes=2)
RETRY_EVERY = timedelta(minutes=5)
GIVE_UP_AFTER = timedelta(hours=1)
INCIDENT_ACTION = "notification.undeliverable"
SLACK_FAILURES = (SlackApiError, aiohttp.ClientError, OSError, TimeoutError)


@dataclass
class DeliveryReport:
    sent_slack: int = 0
    sent_email: int = 0
    deferred: int = 0
    held: int = 0
    muted: int = 0
    retrying: int = 0
    on_home: int = 0
    incidents: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Claimed:
    row_id: int
    key: str
    kind: str
    recipient: str
    target: str
    recovering: bool
    message: dict[str, Any]
    email: str | None
    first_failed_at: datetime | None


async def deliver_due(db: Database, slack: SlackSender, email: EmailSender | None, workspace_id: str,
                      now: datetime | None = None, *, limit: int = 200) -> DeliveryReport:
    """Send every notification of this workspace that is due at `now`."""
    scope = Scope(workspace_id)
    report = DeliveryReport()
    now = now or utcnow()
    async with db.reader() as session:
        due = [row.id for row in await NotificationRepository(session, scope).due(now, now - SENDING_LEASE, limit)]
    for row_id in due:
        claimed = await _claim(db, scope, row_id, now, report)
        if claimed is not None:
            await _send(db, scope, slack, email, claimed, now, report)
    return report


async def _claim(db: Database, scope: Scope, row_id: int, now: datetime, report: DeliveryReport) -> Claimed | None:
    """Decide (quiet hours, cap, mute) and claim in one transaction; the message is rendered here too."""
    async with db.session() as session:
        repo = NotificationRepository(session, scope)
        row = await repo.get(row_id)
        if row is None:
            return None
        recovering = row.status == NotificationStatus.SENDING
        user = None
        if row.target == Target.DM:
            user = await session.scalar(select(User).where(User.workspace_id == scope.workspace_id,
                                                           User.slack_id == row.recipient))
        if not recovering and row.first_failed_at is None:
            tz = zone(user.tz if user else None)
            prefs = await repo.preferences(row.recipient)
            nudges = await repo.nudges_since(row.recipient, local_day_start(tz, now)) if row.target == Target.DM else 0
            what, until = disposition(prefs, tz, now, kind=row.kind, urgency=row.urgency, target=row.target,
                                      nudges_today=nudges)
            if what == Disposition.DEFER:
                await repo.set_status(row.id, NotificationStatus.PENDING, due_at=until)
                report.deferred += 1
                return None
            if what in (Disposition.HOLD, Disposition.MUTE):
                status = NotificationStatus.HELD if what == Disposition.HOLD else NotificationStatus.MUTED
                await repo.set_status(row.id, status)
                report.held += what == Disposition.HOLD
                report.muted += what == Disposition.MUTE
                return None
        if not await repo.claim(row.id, now, now - SENDING_LEASE):
            return None
        events = await reveal_events(session, scope, row.recipient, list(row.payload.get("events", [])))
        return Claimed(row.id, row.idempotency_key, row.kind, row.recipient, row.target, recovering,
                       render(row, events), user.email if user else None, row.first_failed_at)


def render(row: Notification, events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The message of a notification; `events` are its events as the reader may see them (default: as stored)."""
    if row.kind == DIGEST_KIND:
        return dict(row.payload["message"])
    return notification_message(row.kind, list(row.payload.get("events", [])) if events is None else events)


async def _send(db: Database, scope: Scope, slack: SlackSender, email: EmailSender | None, claimed: Claimed,
                now: datetime, report: DeliveryReport) -> None:
    attempts: list[tuple[str, bool, str]] = []
    try:
        channel, ts = claimed.recipient, None
        if claimed.recovering:  # an earlier run may have posted it before it died: look for its key first
            channel = await slack.open_dm(claimed.recipient) if claimed.target == Target.DM else claimed.recipient
            ts = await slack.already_posted(channel, claimed.key)
        if ts is None:
            channel, ts = await slack.post(claimed.recipient, claimed.key, claimed.message)
        attempts.append((DeliveryChannel.SLACK, True, f"{channel}:{ts}"))
        await _finish(db, scope, claimed, now, attempts, NotificationStatus.SENT, via=DeliveryChannel.SLACK,
                      external_id=f"{channel}:{ts}")
        report.sent_slack += 1
        return
    except SLACK_FAILURES as exc:
        attempts.append((DeliveryChannel.SLACK, False, _describe(exc)))
    if claimed.target == Target.DM and email is not None:
        try:
            address = claimed.email or await _email_from_slack(slack, claimed.recipient)
            if not address:
                raise EmailError("no email address for this person")
            await email.send(address, str(claimed.message.get("text", "Liftoff"))[:200], plain_text(claimed.message),
                             key=claimed.key)
            attempts.append((DeliveryChannel.EMAIL, True, address))
            await _finish(db, scope, claimed, now, attempts, NotificationStatus.SENT, via=DeliveryChannel.EMAIL,
                          external_id=f"email:{address}")
            report.sent_email += 1
            return
        except EmailError as exc:
            attempts.append((DeliveryChannel.EMAIL, False, str(exc)))
    first_failed = claimed.first_failed_at or now
    if now - first_failed >= GIVE_UP_AFTER:
        incident = f"INC-{uuid.uuid4().hex[:8]}"
        log.error("incident %s: notification %s (%s) to %s undeliverable for an hour: %s", incident, claimed.row_id,
                  claimed.kind, claimed.recipient, "; ".join(detail for _, ok, detail in attempts if not ok))
        await _finish(db, scope, claimed, now, attempts, NotificationStatus.ON_HOME, first_failed_at=first_failed,
                      incident=incident)
        report.on_home += 1
        report.incidents.append(incident)
        return
    await _finish(db, scope, claimed, now, attempts, NotificationStatus.PENDING, first_failed_at=first_failed,
                  due_at=now + RETRY_EVERY)
    report.retrying += 1


async def _email_from_slack(slack: SlackSender, user_id: str) -> str | None:
    try:
        return await slack.email_of(user_id)
    except SLACK_FAILURES:
        return None


async def _finish(db: Database, scope: Scope, claimed: Claimed, now: datetime, attempts: list[tuple[str, bool, str]],
                  status: str, *, via: str | None = None, external_id: str | None = None,
                  first_failed_at: datetime | None = None, due_at: datetime | None = None,
                  incident: str | None = None) -> None:
    values: dict[str, Any] = {}
    if via is not None:
        values |= {"delivered_at": now, "delivered_via": via, "external_id": external_id, "last_error": None}
    else:
        values |= {"last_error": "; ".join(f"{c}: {d}" for c, ok, d in attempts if not ok)[:2000]}
    if first_failed_at is not None:
        values["first_failed_at"] = first_failed_at
    if due_at is not None:
        values["due_at"] = due_at
    async with db.session() as session:
        repo = NotificationRepository(session, scope)
        await repo.set_status(claimed.row_id, status, **values)
        for channel, ok, detail in attempts:
            await repo.record_delivery(claimed.row_id, channel, ok, detail, now)
        if incident is not None:
            await AuditLog(session, scope).append(
                actor="liftoff", action=INCIDENT_ACTION, target=f"notification:{claimed.row_id}",
                after={"incident": incident, "kind": claimed.kind, "recipient": claimed.recipient},
                note=str(values.get("last_error", "")))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return f"{type(exc).__name__}: {exc}"
