"""Who is asking: their role from storage (Slack owners and admins become admins), role changes, denials.

Slack is reached only through a `ProfileLookup` the caller passes in (users.info in the app), and only
on first sight of a person, after the request was acknowledged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agents.policy import Action, Actor, Decision, decide
from storage.audit import AuditLog
from storage.db import Database
from storage.enums import Role
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository

log = logging.getLogger(__name__)

ProfileLookup = Callable[[str], Awaitable[Mapping[str, Any] | None]]


class AuditAction(StrEnum):
    """What the audit log records; the policy's actions name what was attempted."""

    DENIED = "access.denied"
    ROLE_GRANTED = "role.granted"
    ROLE_REVOKED = "role.revoked"
    ROLE_RESOLVED = "role.resolved"
    LAUNCH_CREATED = "launch.created"
    LAUNCH_PLANNED = "launch.planned"
    LAUNCH_FAILED = "launch.failed"
    APP_INSTALLED = "app.installed"
    APP_UNINSTALLED = "app.uninstalled"
    TOKENS_REVOKED = "tokens.revoked"
    REVIEW_REQUESTED = "review.requested"
    TASK_APPROVED = "review.approved"
    TASK_REJECTED = "review.rejected"
    TASK_EDITED = "review.edited"
    REVIEW_DESTINATION_CHANGED = "review.destination_changed"
    LAUNCH_REPLAN_REQUESTED = "launch.replan_requested"
    LAUNCH_REPLANNED = "launch.replanned"
    LAUNCH_REPLAN_FAILED = "launch.replan_failed"
    TASK_UPDATED = "task.updated"


def role_from_profile(profile: Mapping[str, Any]) -> Role:
    return Role.ADMIN if profile.get("is_admin") or profile.get("is_owner") else Role.MEMBER


async def load_actor(db: Database, workspace_id: str, user_id: str) -> Actor:
    """The actor as stored; a person never seen is a Member. No Slack call."""
    async with db.reader() as session:
        return await stored_actor(session, workspace_id, user_id)


async def stored_actor(session: AsyncSession, workspace_id: str, user_id: str) -> Actor:
    """load_actor within a session the caller already holds (one connection for the whole request)."""
    user = await WorkspaceRepository(session, Scope(workspace_id)).user(user_id)
    return Actor(workspace_id, user_id, Role(user.role) if user is not None else Role.MEMBER)


async def resolve_actor(db: Database, workspace_id: str, user_id: str, lookup: ProfileLookup | None) -> Actor:
    """The actor, looking the person up in Slack on first sight (call it after the ack)."""
    async with db.reader() as session:
        known = await WorkspaceRepository(session, Scope(workspace_id)).user(user_id)
    actor = Actor(workspace_id, user_id, Role(known.role) if known is not None else Role.MEMBER)
    if known is not None or lookup is None:
        return actor
    try:
        profile = await lookup(user_id) or {}
    except Exception:  # Slack unreachable: the person stays a Member until next time
        log.warning("could not look up %s in %s", user_id, workspace_id, exc_info=True)
        return actor
    role = role_from_profile(profile)
    scope = Scope(workspace_id, user_id)
    async with db.session() as session:
        people = WorkspaceRepository(session, scope)
        await people.ensure()
        user = await people.ensure_user(user_id, str(profile.get("real_name") or profile.get("name") or ""))
        # The key a task's tracker item finds its assignee by (agents/tracker_items.py); never shown in text.
        user.email = (profile.get("profile") or {}).get("email") or user.email
        # Their timezone from the first sight on, not only after the daily refresh: digests and reminders use it.
        user.tz = profile.get("tz") or user.tz
        if role == Role.ADMIN and user.role != Role.ADMIN:
            before = user.role
            user.role = Role.ADMIN
            await AuditLog(session, scope).append(
                actor="slack",
                action=AuditAction.ROLE_RESOLVED,
                target=f"user:{user_id}",
                before={"role": before},
                after={"role": Role.ADMIN},
                note="Slack workspace owner or admin",
            )
        return Actor(workspace_id, user_id, Role(user.role))


async def record_denial(db: Database, actor: Actor, action: str, target: str, decision: Decision) -> None:
    async with db.session() as session:
        await AuditLog(session, Scope(actor.workspace_id, actor.user_id)).append(
            actor=actor.user_id,
            action=AuditAction.DENIED,
            target=target,
            after={"attempted": str(action), "role": str(actor.role)},
            note=decision.reason,
        )


async def workspace_person(
    db: Database, workspace_id: str, user_id: str, lookup: ProfileLookup | None
) -> ProfileLookup | None:
    """A lookup answering for user_id if they are a person of this workspace (stored, or found in Slack); else None."""
    async with db.reader() as session:
        known = await WorkspaceRepository(session, Scope(workspace_id)).user(user_id)
    profile: Mapping[str, Any] | None = None
    if known is None and lookup is not None:
        try:
            profile = await lookup(user_id)
        except Exception:  # not found, or Slack unreachable: not someone we can vouch for
            log.info("no profile for %s in %s", user_id, workspace_id, exc_info=True)
            return None
        foreign = profile is not None and profile.get("team_id") not in (None, workspace_id)
        if profile is None or foreign or profile.get("deleted") or profile.get("is_bot"):
            return None
    if known is None and profile is None:
        return None

    async def answer(_: str) -> Mapping[str, Any] | None:
        return profile

    return answer


@dataclass(frozen=True)
class RoleChange:
    changed: bool
    message: str


async def change_pm_role(
    db: Database, admin: Actor, user_id: str, *, grant: bool, lookup: ProfileLookup | None
) -> RoleChange:
    """Grant or revoke the PM role. The caller has checked ROLE_GRANT; this checks again."""
    decision = decide(admin, Action.ROLE_GRANT)
    if not decision.allowed:
        return RoleChange(False, decision.reason)
    if grant:
        # Only a person of this workspace can become its PM: a forged id from elsewhere changes nothing.
        found = await workspace_person(db, admin.workspace_id, user_id, lookup)
        if found is None:
            shown = "".join(c for c in user_id if c.isalnum())[:32]
            return RoleChange(False, f"I could not find {shown} in this workspace; nothing changed.")
        lookup = found
    target = await resolve_actor(db, admin.workspace_id, user_id, lookup)
    if target.role == Role.ADMIN:
        return RoleChange(False, f"<@{user_id}> is a workspace admin and already has every permission.")
    wanted = Role.PM if grant else Role.MEMBER
    if target.role == wanted:
        state = "already a PM" if grant else "not a PM"
        return RoleChange(False, f"<@{user_id}> is {state}; nothing changed.")
    scope = Scope(admin.workspace_id, admin.user_id)
    async with db.session() as session:
        people = WorkspaceRepository(session, scope)
        await people.ensure()
        user = await people.ensure_user(user_id)
        before = user.role
        user.role = wanted
        await AuditLog(session, scope).append(
            actor=admin.user_id,
            action=AuditAction.ROLE_GRANTED if grant else AuditAction.ROLE_REVOKED,
            target=f"user:{user_id}",
            before={"role": before},
            after={"role": wanted},
        )
    verb = "is now a PM and can start launches" if grant else "is no longer a PM"
    return RoleChange(True, f"<@{user_id}> {verb}.")
