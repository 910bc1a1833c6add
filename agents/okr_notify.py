"""OKR notifications as outbox rows, written in the session (and so the transaction) of the change itself.

A drain (bot/delivery.py, rendering with bot/okr_notices.py) sends each one exactly once, after the commit;
a rolled-back change leaves no notification behind, and a repeat of the same change adds none. Comment mentions
are notifications to people (agents/notification.py), recorded in the same transaction.
"""

from __future__ import annotations

from agents.notification_events import notify_comment
from storage.enums import Destination
from storage.okr_enums import OkrOutboxKind
from storage.okr_models import Objective, OkrComment
from storage.okrs import OkrRepository
from storage.outbox import OutboxRepository


async def _queue(repo: OkrRepository, kind: OkrOutboxKind, key: str, payload: dict[str, object]) -> None:
    await OutboxRepository(repo.session, repo.scope).add(
        workspace_id=repo.ws, destination=Destination.SLACK, kind=kind, idempotency_key=f"{repo.ws}:{key}",
        payload=payload,
    )


async def queue_approval_requests(repo: OkrRepository, objective: Objective, submitter: str,
                                  approvers: list[str], decision_id: int) -> None:
    """One request with Approve and Return buttons per approver, for this submission."""
    for approver in approvers:
        await _queue(repo, OkrOutboxKind.APPROVAL_REQUEST, f"okr:approval:{decision_id}:{approver}",
                     {"objective_id": objective.id, "channel": approver, "submitter": submitter})


async def queue_decision(repo: OkrRepository, objective: Objective, decider: str, approved: bool, reason: str,
                         decision_id: int) -> None:
    """The owner hears that the objective was approved, or returned and why."""
    if objective.owner_id == decider:
        return
    await _queue(repo, OkrOutboxKind.DECISION, f"okr:decision:{decision_id}",
                 {"objective_id": objective.id, "channel": objective.owner_id, "decider": decider,
                  "approved": approved, "reason": reason})


async def queue_decision_shown(repo: OkrRepository, objective: Objective, decider: str, approved: bool, reason: str,
                               decision_id: int, channel: str, ts: str) -> None:
    """The request message the decider clicked on shows the outcome instead of its buttons (a chat.update)."""
    await _queue(repo, OkrOutboxKind.DECISION_SHOWN, f"okr:decision_shown:{decision_id}:{channel}:{ts}",
                 {"objective_id": objective.id, "channel": channel, "update_ts": ts, "decider": decider,
                  "approved": approved, "reason": reason})


async def queue_comment(repo: OkrRepository, objective: Objective, comment: OkrComment, people: list[str]) -> None:
    """Each person mentioned (and the owner) hears through the notification agent: grouped, within their quiet
    hours and nudge cap (agents/notification_events.py)."""
    await notify_comment(repo.session, repo.scope, objective, comment, people)
