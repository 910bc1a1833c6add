"""New objectives and their approval flow: draft -> submitted -> approved, or returned with a reason."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

from agents.okr_audit import OkrAuditAction, objective_target, record, record_refusal
from agents.okr_checkin import roll_up_path, rules_for
from agents.okr_notify import queue_approval_requests, queue_comment, queue_decision, queue_decision_shown
from agents.policy.okrs import can_comment, can_decide_approval, can_see_objective
from storage.okr_enums import ApprovalState, ObjectiveLevel, Visibility
from storage.okr_models import Objective, OkrComment
from storage.okrs import OkrRepository, row_id

TITLE_MAX = 300
ORG_NAME_MAX = 80
UNIT_MAX = 40
KEY_PREFIX = {ObjectiveLevel.COMPANY: "CO", ObjectiveLevel.DEPARTMENT: "DEP", ObjectiveLevel.TEAM: "TEAM",
              ObjectiveLevel.INDIVIDUAL: "IND"}
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


class NotAllowed(PermissionError):
    """The policy said no; the message says who may."""


class AlreadyDecided(NotAllowed):
    """Someone decided first (a double click, a replayed payload, two approvers at once); nothing changed."""


@dataclass(frozen=True)
class ObjectiveForm:
    title: str
    level: str | None
    period_id: str | None
    parent_id: str | None
    department: str
    team: str
    visibility: str | None
    kr_title: str
    kr_start: str
    kr_target: str
    kr_unit: str


@dataclass(frozen=True)
class Submitted:
    objective: Objective
    approvers: list[str]


def _number(text: str) -> float | None:
    """A finite number, or None ("nan", "inf" and "1e999" are not amounts anyone means)."""
    try:
        value = float(text.replace(",", "").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


async def validate_objective_form(repo: OkrRepository, form: ObjectiveForm) -> dict[str, str]:
    """Field errors by field name; empty when the form can be saved."""
    errors: dict[str, str] = {}
    if not form.title.strip():
        errors["title"] = "Give the objective a title."
    elif len(form.title) > TITLE_MAX:
        errors["title"] = f"Keep the title under {TITLE_MAX} characters."
    if form.level not in {lv.value for lv in ObjectiveLevel}:
        errors["level"] = "Pick a level."
    if form.visibility not in (None, *(v.value for v in Visibility)):
        errors["visibility"] = "Pick Public or Private."
    period_id = row_id(form.period_id)
    period = await repo.period(period_id) if period_id else None
    if period is None:
        errors["period"] = "Pick a period."
    if form.parent_id:
        parent_id = row_id(form.parent_id)
        parent = await repo.objective(parent_id) if parent_id else None
        if parent is None:
            errors["parent"] = "That objective no longer exists."
        elif period is not None and parent.period_id != period.id:
            errors["parent"] = "The parent objective must be in the same period."
    elif form.level and form.level != ObjectiveLevel.COMPANY:
        errors["parent"] = "Pick the objective this one aligns to (only company objectives have none)."
    if form.level in (ObjectiveLevel.DEPARTMENT, ObjectiveLevel.TEAM, ObjectiveLevel.INDIVIDUAL) \
            and not form.department.strip():
        errors["department"] = "Name the department."
    if form.level in (ObjectiveLevel.TEAM,) and not form.team.strip():
        errors["team"] = "Name the team."
    for field, text in (("department", form.department), ("team", form.team)):
        if field not in errors and len(text.strip()) > ORG_NAME_MAX:
            errors[field] = f"Keep it under {ORG_NAME_MAX} characters."
    if form.kr_title.strip():
        if _number(form.kr_start) is None:
            errors["kr_start"] = "Enter a number, e.g. 0 or 98.5."
        if _number(form.kr_target) is None:
            errors["kr_target"] = "Enter a number, e.g. 100."
        elif _number(form.kr_start) == _number(form.kr_target):
            errors["kr_target"] = "The target must differ from the start."
        if len(form.kr_title.strip()) > TITLE_MAX:
            errors["kr_title"] = f"Keep the key result under {TITLE_MAX} characters."
        if len(form.kr_unit.strip()) > UNIT_MAX:
            errors["kr_unit"] = f"Keep the unit under {UNIT_MAX} characters."
    return errors


async def submit_objective(repo: OkrRepository, form: ObjectiveForm, actor: str) -> Submitted:
    """Store the objective as submitted (with its first key result) and name who may approve it."""
    level = ObjectiveLevel(form.level or ObjectiveLevel.TEAM)
    objective = await repo.add_objective(
        key=await repo.next_key(KEY_PREFIX[level]), title=form.title.strip(), level=level, owner_id=actor,
        department=form.department.strip() or None, team=form.team.strip() or None,
        period_id=row_id(form.period_id) or 0, parent_id=row_id(form.parent_id) if form.parent_id else None,
        visibility=form.visibility or Visibility.PUBLIC, approval=ApprovalState.DRAFT, created_by=actor,
    )
    if form.kr_title.strip():
        await repo.add_key_result(
            key=f"{objective.key}.1", objective_id=objective.id, title=form.kr_title.strip()[:TITLE_MAX],
            owner_id=actor, start_value=_number(form.kr_start) or 0.0, target_value=_number(form.kr_target) or 0.0,
            unit=form.kr_unit.strip()[:40], weight=1.0,
        )
    await repo.set_approval(objective, ApprovalState.SUBMITTED, actor)
    key_results = [kr.key for kr in await repo.key_results_of([objective.id])]
    await record(repo, actor=actor, action=OkrAuditAction.OBJECTIVE_SUBMITTED, target=objective_target(objective),
                 after={"title": objective.title, "level": objective.level, "period_id": objective.period_id,
                        "parent_id": objective.parent_id, "visibility": objective.visibility,
                        "approval": objective.approval, "key_results": key_results})
    approvers = await approvers_of(repo, objective)
    submission = await repo.last_decision(objective.id)
    assert submission is not None
    await queue_approval_requests(repo, objective, actor, approvers, submission.id)
    return Submitted(objective, approvers)


async def approvers_of(repo: OkrRepository, objective: Objective) -> list[str]:
    """The parent objective's owner, or the workspace's Admins when there is no parent."""
    parent = await repo.objective(objective.parent_id) if objective.parent_id else None
    if parent is not None:
        return [parent.owner_id]
    return (await repo.admins())[:5]


async def decide(repo: OkrRepository, objective: Objective, actor: str, *, approve: bool, reason: str,
                 today: date, shown_at: tuple[str, str] | None = None) -> Objective:
    """Approve or return a submitted objective; only the parent's owner or an Admin may. `shown_at` is the
    (channel, ts) of the request message the decider answered: it is edited to show the decision, by the outbox."""
    role = await repo.role_of(actor)
    parent = await repo.objective(objective.parent_id) if objective.parent_id else None
    action = OkrAuditAction.OBJECTIVE_APPROVED if approve else OkrAuditAction.OBJECTIVE_RETURNED
    if not can_decide_approval(actor, role, parent):
        who = f"<@{parent.owner_id}>" if parent else "an Admin"
        reason_refused = f"Only {who} (owner of the parent objective) or an Admin can decide on {objective.key}."
        await record_refusal(repo, actor=actor, attempted=action, target=objective_target(objective),
                             reason=reason_refused)
        raise NotAllowed(reason_refused)
    if objective.approval != ApprovalState.SUBMITTED:
        raise AlreadyDecided(await already_decided(repo, objective))
    if not approve and not reason.strip():
        raise ValueError("Say why you are returning it.")
    before = {"approval": objective.approval}
    state = ApprovalState.APPROVED if approve else ApprovalState.RETURNED
    if not await repo.decide_submitted(objective, state, actor, reason.strip()):
        raise AlreadyDecided(await already_decided(repo, objective))
    await record(repo, actor=actor, action=action, target=objective_target(objective), before=before,
                 after={"approval": objective.approval, "reason": reason.strip()})
    decision = await repo.last_decision(objective.id)
    assert decision is not None
    await queue_decision(repo, objective, actor, approve, reason.strip(), decision.id)
    if shown_at is not None:
        await queue_decision_shown(repo, objective, actor, approve, reason.strip(), decision.id, *shown_at)
    if approve:
        await roll_up_path(repo, objective, today, await rules_for(repo))
    return objective


async def already_decided(repo: OkrRepository, objective: Objective) -> str:
    """What the slower of two deciders is told: the objective's state now, and who decided it."""
    last = await repo.last_decision(objective.id)
    if last is not None and last.decision == objective.approval:
        return f"{objective.key} was already {objective.approval} by <@{last.actor}>; nothing changed."
    return f"{objective.key} is already {objective.approval}; nothing changed."


async def add_comment(repo: OkrRepository, objective: Objective, actor: str, text: str) -> OkrComment:
    """A comment; its @mentions who may see the objective (and its owner) are notified through the outbox."""
    role = await repo.role_of(actor)
    if not can_comment(actor, role, objective):
        await record_refusal(repo, actor=actor, attempted=OkrAuditAction.COMMENTED,
                             target=objective_target(objective), reason="cannot see the objective")
        raise NotAllowed("You cannot see that objective.")
    if not text.strip():
        raise ValueError("Write something to comment.")
    mentions = list(dict.fromkeys(MENTION.findall(text)))
    comment = await repo.add_comment(objective.id, actor, text.strip()[:3000], mentions)
    # The text stays in okr_comments; the log keeps that it was said, by whom, and who was named.
    await record(repo, actor=actor, action=OkrAuditAction.COMMENTED, target=objective_target(objective),
                 after={"comment_id": comment.id, "mentions": mentions, "length": len(comment.text)})
    await queue_comment(repo, objective, comment, await notify_for_comment(repo, objective, comment))
    return comment


async def notify_for_comment(repo: OkrRepository, objective: Objective, comment: OkrComment) -> list[str]:
    """Who hears about a comment: the people mentioned who may see the objective, and its owner."""
    targets = []
    for person in [*comment.mentions, objective.owner_id]:
        if person != comment.author and person not in targets \
                and can_see_objective(person, await repo.role_of(person), objective):
            targets.append(person)
    return targets
