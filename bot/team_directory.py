"""Fills in a launch team's names and roles from Slack profiles (users.info), once per member.

A Slack owner or admin becomes a Liftoff Admin here; that promotion is audited in the same transaction.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from agents.access import AuditAction, role_from_profile
from agents.roles import role_from_title
from storage.audit import AuditLog
from storage.db import Database
from storage.enums import Role
from storage.models import LaunchMember
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository

log = logging.getLogger(__name__)


async def resolve_team(db: Database, client: AsyncWebClient, workspace_id: str, launch_id: int) -> None:
    scope = Scope(workspace_id)
    async with db.reader() as session:
        pending = list(
            await session.scalars(
                select(LaunchMember).where(
                    LaunchMember.workspace_id == workspace_id,
                    LaunchMember.launch_id == launch_id,
                    LaunchMember.name == "",
                )
            )
        )
    profiles: dict[int, dict] = {}
    for member in pending:
        if not member.slack_id:
            continue
        try:
            profiles[member.id] = (await client.users_info(user=member.slack_id))["user"]
        except SlackApiError as exc:
            # A person we cannot look up still gets work, under their id and a generic role.
            log.warning("users.info failed for %s: %s", member.slack_id, exc.response.get("error"))
            profiles[member.id] = {"id": member.slack_id, "real_name": member.slack_id}
    if not profiles:
        return
    async with db.session() as session:
        people = WorkspaceRepository(session, scope)
        audit = AuditLog(session, scope)
        await people.ensure()
        for member_id, user in profiles.items():
            member = await session.get(LaunchMember, member_id)
            if member is None or member.workspace_id != workspace_id:
                continue
            profile = user.get("profile") or {}
            member.name = user.get("real_name") or profile.get("real_name") or user.get("name") or member.slack_id or ""
            member.role = role_from_title(profile.get("title"))
            person = await people.ensure_user(user.get("id") or member.slack_id or "", member.name)
            person.name = member.name
            person.tz = user.get("tz") or person.tz
            person.email = profile.get("email") or person.email
            if role_from_profile(user) == Role.ADMIN and person.role != Role.ADMIN:
                before = person.role
                person.role = Role.ADMIN
                await audit.append(actor="slack", action=AuditAction.ROLE_RESOLVED, target=f"user:{person.slack_id}",
                                   before={"role": before}, after={"role": Role.ADMIN},
                                   note=f"Slack workspace owner or admin, seen in launch {launch_id}'s team")
