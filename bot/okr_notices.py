"""Rendering of the OKR outbox rows (called by bot/delivery.py at send time, from the database as it is now).

A DECISION_SHOWN row names the request message it edits (`update_ts`): bot/delivery.py updates it in place."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from blocks import okr_messages
from storage.okr_enums import ApprovalState, OkrOutboxKind
from storage.okr_models import OkrComment
from storage.okrs import OkrRepository
from storage.scope import Scope

KINDS = {kind.value for kind in OkrOutboxKind}


async def render_okr_notice(session: AsyncSession, scope: Scope, kind: str, payload: dict[str, Any]
                            ) -> dict[str, Any] | None:
    """The message of an OKR row; None when there is nothing left to say (the objective is gone or decided)."""
    repo = OkrRepository(session, scope)
    objective = await repo.objective(int(payload.get("objective_id") or 0))
    if objective is None:
        return None
    if kind == OkrOutboxKind.APPROVAL_REQUEST:
        if objective.approval != ApprovalState.SUBMITTED:
            return None  # decided before the request went out: no buttons for a closed question
        parent = await repo.objective(objective.parent_id) if objective.parent_id else None
        return okr_messages.approval_request(objective, str(payload["submitter"]), parent.key if parent else None)
    if kind in (OkrOutboxKind.DECISION, OkrOutboxKind.DECISION_SHOWN):
        return okr_messages.decision_notice(objective, str(payload["decider"]), bool(payload["approved"]),
                                            str(payload.get("reason") or ""))
    if kind == OkrOutboxKind.COMMENT:
        comment = await session.get(OkrComment, int(payload.get("comment_id") or 0))
        if comment is None or comment.workspace_id != scope.workspace_id:
            return None
        return okr_messages.comment_notice(objective, comment.author, comment.text)
    raise ValueError(f"unknown OKR outbox kind {kind!r}")
