"""Opening a review: a saved plan version's flagged tasks wait for a decision, and the PM gets one message.

Kept apart from agents/review.py (the decisions) so the orchestrator can call it without importing the
recompute machinery that imports the orchestrator.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from agents.access import AuditAction
from agents.notification_events import notify_review_waiting
from storage.audit import AuditLog
from storage.enums import Destination, OutboxKind, ReviewDestination
from storage.models import Launch
from storage.outbox import OutboxRepository
from storage.reviews import ReviewRepository
from storage.scope import Scope

LIFTOFF = "liftoff"


def review_recipient(launch: Launch, destination: ReviewDestination) -> str:
    """The launch channel (its plan thread) or the PM's DM."""
    if destination == ReviewDestination.THREAD and launch.channel_id:
        return launch.channel_id
    return launch.created_by


async def request_review(session: AsyncSession, scope: Scope, launch: Launch) -> int:
    """Open a review on this version's flagged tasks and ask for one review message; how many were opened.

    Call it after the plan's own announcement is in the outbox, so the review threads under the plan.
    """
    reviews = ReviewRepository(session, scope)
    opened = await reviews.open_flagged(launch.id, launch.version)
    if not opened:
        return 0
    destination = await reviews.destination()
    await OutboxRepository(session, scope).add(
        workspace_id=launch.workspace_id,
        destination=Destination.SLACK,
        kind=OutboxKind.REVIEW_REQUEST,
        idempotency_key=f"launch:{launch.id}:v{launch.version}:review",
        payload={
            "launch_id": launch.id,
            "version": launch.version,
            "channel": review_recipient(launch, destination),
            "pm": launch.created_by,
            "thread": destination == ReviewDestination.THREAD,
        },
    )
    await AuditLog(session, scope).append(
        actor=LIFTOFF, action=AuditAction.REVIEW_REQUESTED, target=f"launch:{launch.id}",
        after={"version": launch.version, "open": opened, "review_in": str(destination)},
    )
    await notify_review_waiting(session, scope, launch, opened)
    return opened
