"""Who may see, approve, return and check in on OKRs: pure functions over (actor id, actor role, objects)."""

from __future__ import annotations

from typing import Protocol

ADMIN_ROLE = "admin"
PRIVATE = "private"


class OwnedObjective(Protocol):
    owner_id: str
    visibility: str


class OwnedKeyResult(Protocol):
    owner_id: str


def is_admin(actor_role: str | None) -> bool:
    return actor_role == ADMIN_ROLE


def can_see_objective(actor_id: str, actor_role: str | None, objective: OwnedObjective) -> bool:
    """Public objectives are seen by everyone in the workspace; private ones by their owner and Admins."""
    if objective.visibility != PRIVATE:
        return True
    return objective.owner_id == actor_id or is_admin(actor_role)


def can_decide_approval(actor_id: str, actor_role: str | None, parent: OwnedObjective | None) -> bool:
    """Approve or return a submitted objective: the parent objective's owner, or an Admin."""
    if is_admin(actor_role):
        return True
    return parent is not None and parent.owner_id == actor_id


def can_check_in(actor_id: str, actor_role: str | None, key_result: OwnedKeyResult, objective: OwnedObjective) -> bool:
    """Check in on a key result: its owner, its objective's owner, or an Admin."""
    return key_result.owner_id == actor_id or objective.owner_id == actor_id or is_admin(actor_role)


def can_comment(actor_id: str, actor_role: str | None, objective: OwnedObjective) -> bool:
    """Anyone who may see an objective may comment on it."""
    return can_see_objective(actor_id, actor_role, objective)
