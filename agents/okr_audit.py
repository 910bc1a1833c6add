"""Audit entries for every OKR state change and every OKR refusal, appended in the change's own transaction.

The okr_decisions table keeps the approval history for the OKR surfaces; the hash-chained audit log
gets the same facts (who, what, when, before and after) next to every other change in the workspace.
"""

from __future__ import annotations

from typing import Any

from storage.audit import AuditLog
from storage.okr_enums import OkrAuditAction
from storage.okr_models import KeyResult, Objective
from storage.okrs import OkrRepository

__all__ = ["OkrAuditAction", "key_result_state", "key_result_target", "objective_target", "record",
           "record_refusal"]


def objective_target(objective: Objective) -> str:
    return f"objective:{objective.key}"


def key_result_target(kr: KeyResult) -> str:
    return f"key_result:{kr.key}"


def key_result_state(kr: KeyResult) -> dict[str, Any]:
    return {"current": kr.current_value, "progress": round(kr.progress or 0.0, 4), "status": kr.status}


async def record(repo: OkrRepository, *, actor: str, action: OkrAuditAction, target: str, before: Any = None,
                 after: Any = None, note: str = "") -> None:
    """Append one entry for repo's workspace in repo's session (so it commits, or not, with the change)."""
    await AuditLog(repo.session, repo.scope).append(actor=actor, action=action, target=target, before=before,
                                                    after=after, note=note)


async def record_refusal(repo: OkrRepository, *, actor: str, attempted: str, target: str, reason: str) -> None:
    """A policy refusal: the person is told why, and the log keeps who tried what."""
    await record(repo, actor=actor, action=OkrAuditAction.DENIED, target=target,
                 after={"attempted": attempted, "role": await repo.role_of(actor)}, note=reason)
