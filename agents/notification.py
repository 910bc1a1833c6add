"""The notification agent: decides who hears about what, and records it in the outbox.

It never calls Slack itself: the outbox row is written in the same transaction as the change,
and a drain job renders and sends it (see bot/delivery.py).
"""

from __future__ import annotations

from storage.enums import Destination, OutboxKind
from storage.models import Launch
from storage.outbox import OutboxRepository


def plan_recipient(launch: Launch) -> str:
    """The launch channel, or the PM's DM when the brief named no channel."""
    return launch.channel_id or launch.created_by


async def announce_plan(outbox: OutboxRepository, launch: Launch) -> None:
    await outbox.add(
        workspace_id=launch.workspace_id,
        destination=Destination.SLACK,
        kind=OutboxKind.LAUNCH_PLAN,
        idempotency_key=f"launch:{launch.id}:v{launch.version}:plan",
        payload={"launch_id": launch.id, "channel": plan_recipient(launch), "pm": launch.created_by},
    )


async def alert_admins(outbox: OutboxRepository, launch: Launch, reason: str, admin_ids: list[str]) -> None:
    """Tell each workspace admin, by DM, that the PII check failed and the launch was blocked."""
    for admin_id in admin_ids:
        await outbox.add(
            workspace_id=launch.workspace_id,
            destination=Destination.SLACK,
            kind=OutboxKind.GUARDRAIL_ALERT,
            idempotency_key=f"launch:{launch.id}:v{launch.version}:guardrail-alert:{admin_id}",
            payload={"launch_id": launch.id, "channel": admin_id, "reason": reason},
        )


async def announce_planning_failed(outbox: OutboxRepository, launch: Launch, reason: str) -> None:
    """Tell the PM, by DM, why the plan could not be made."""
    await outbox.add(
        workspace_id=launch.workspace_id,
        destination=Destination.SLACK,
        kind=OutboxKind.LAUNCH_FAILED,
        idempotency_key=f"launch:{launch.id}:v{launch.version}:failed",
        payload={"launch_id": launch.id, "channel": launch.created_by, "reason": reason},
    )
