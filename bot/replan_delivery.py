"""Rendering of the re-plan and retro outbox rows (called by bot/delivery.py), and Home refreshes after a re-plan."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from agents.retro import build_retro
from blocks import plan_diff, retro_messages
from bot.services import SERVICES_KEY, Services
from storage.enums import OutboxKind
from storage.launches import LaunchRepository
from storage.models import Launch, Outbox
from storage.scope import Scope
from storage.versions import PlanChanges, VersionRepository, is_pending

log = logging.getLogger(__name__)

KINDS = {OutboxKind.PLAN_DIFF, OutboxKind.REPLAN_FAILED, OutboxKind.LAUNCH_RETRO}


async def render_followup(session: AsyncSession, scope: Scope, row: Outbox, launch: Launch) -> dict[str, Any] | None:
    """The message of a re-plan or retro row, from the database as it is now; None when there is nothing to send."""
    if row.kind == OutboxKind.REPLAN_FAILED:
        return plan_diff.replan_failed(launch, str(row.payload.get("reason", "")))
    if row.kind == OutboxKind.LAUNCH_RETRO:
        tasks = await LaunchRepository(session, scope).tasks(launch.id)
        return retro_messages.retro_message(build_retro(launch.name, launch.target_date, tasks))
    version = int(row.payload["version"])
    stored = await VersionRepository(session, scope).get(launch.id, version)
    if stored is None or is_pending(stored):
        return None
    # The thread (payload["thread_ts"]) is chosen by the delivery, as for every threaded row.
    return plan_diff.diff_message(launch, version, PlanChanges.from_json(stored.plan.get("changes")),
                                  stored.created_by)


async def refresh_homes(services: Services, client: AsyncWebClient, workspace_id: str, people: set[str]) -> None:
    """Rebuild the Home tab of each person a re-plan touched; one failure does not stop the others."""
    from handlers.home import publish_home

    context: dict[str, Any] = {"team_id": workspace_id, SERVICES_KEY: services}
    for user_id in sorted(p for p in people if p):
        try:
            await publish_home(context, client, user_id)  # type: ignore[arg-type]
        except Exception:
            log.warning("could not refresh the Home tab of %s in %s", user_id, workspace_id, exc_info=True)


