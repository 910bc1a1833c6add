"""OKR buttons: Approve, Return, Comment and Check in. Buttons carry ids; rows are reloaded in the workspace."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from agents.okr_audit import OkrAuditAction, objective_target, record_refusal
from agents.okr_objectives import NotAllowed, decide
from agents.policy.okrs import can_decide_approval, can_see_objective
from blocks import okr_messages
from blocks.okr_ids import OkrAction
from blocks.okr_modals import comment_modal, return_modal, update_modal
from bot.services import services_of
from handlers.okr_views import drain_outbox
from storage.okr_models import Objective
from storage.okrs import OkrRepository, row_id
from storage.scope import Scope


def _id(action: dict[str, Any]) -> int | None:
    return row_id(action.get("value"))


def request_message(body: dict[str, Any]) -> tuple[str, str] | None:
    """(channel, ts) of the message whose button was clicked, when chat.update can edit it (not ephemeral)."""
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if container.get("type") != "message" or container.get("is_ephemeral") or not channel or not ts:
        return None
    return str(channel), str(ts)


async def _refused(context: AsyncBoltContext, user_id: str, objective: Objective, attempted: str,
                   reason: str) -> None:
    """Write the refusal to the audit log (the caller tells the person)."""
    async with services_of(context).db.session() as session:
        repo = OkrRepository(session, Scope(context["team_id"], user_id))
        await record_refusal(repo, actor=user_id, attempted=attempted, target=objective_target(objective),
                             reason=reason)


async def on_approve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                     respond: AsyncRespond, context: AsyncBoltContext) -> None:
    await ack()
    user_id = body["user"]["id"]
    shown_at = request_message(body)
    async with services_of(context).db.session() as session:
        repo = OkrRepository(session, Scope(context["team_id"], user_id))
        objective = await repo.objective(_id(action) or 0)
        if objective is None:
            await respond(response_type="ephemeral", replace_original=False, text="That objective no longer exists.")
            return
        try:
            # The request message shows the decision in place: an outbox row written with the decision.
            await decide(repo, objective, user_id, approve=True, reason="", today=date.today(), shown_at=shown_at)
        except NotAllowed as exc:
            await respond(response_type="ephemeral", replace_original=False, text=str(exc))
            return
        notice = okr_messages.decision_notice(objective, user_id, True, "")
    if shown_at is None:  # an ephemeral message cannot be updated by the API; only its response_url replaces it
        await respond(replace_original=True, **notice)
    await drain_outbox(context)


async def on_return_clicked(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                            respond: AsyncRespond, context: AsyncBoltContext) -> None:
    await ack()
    user_id = body["user"]["id"]
    async with services_of(context).db.reader() as session:
        repo = OkrRepository(session, Scope(context["team_id"], user_id))
        objective = await repo.objective(_id(action) or 0)
        parent = await repo.objective(objective.parent_id) if objective and objective.parent_id else None
        allowed = objective is not None and can_decide_approval(user_id, await repo.role_of(user_id), parent)
    if objective is None or not allowed:
        reason = "Only the parent objective's owner or an Admin can return this objective."
        if objective is not None:
            await _refused(context, user_id, objective, OkrAuditAction.OBJECTIVE_RETURNED, reason)
        await respond(response_type="ephemeral", replace_original=False,
                      text=reason if objective is not None else "That objective no longer exists.")
        return
    channel, ts = request_message(body) or (None, None)
    await client.views_open(trigger_id=body["trigger_id"], view=return_modal(objective, channel=channel, ts=ts))


async def on_comment_clicked(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                             respond: AsyncRespond, context: AsyncBoltContext) -> None:
    await ack()
    user_id = body["user"]["id"]
    async with services_of(context).db.reader() as session:
        repo = OkrRepository(session, Scope(context["team_id"], user_id))
        objective = await repo.objective(_id(action) or 0)
        visible = objective is not None and can_see_objective(user_id, await repo.role_of(user_id), objective)
    if objective is None or not visible:
        if objective is not None:
            await _refused(context, user_id, objective, OkrAuditAction.COMMENTED, "cannot see the objective")
        await respond(response_type="ephemeral", replace_original=False, text="That objective is not available.")
        return
    await client.views_open(trigger_id=body["trigger_id"], view=comment_modal(objective))


async def on_check_in_clicked(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient,
                              respond: AsyncRespond, context: AsyncBoltContext) -> None:
    await ack()
    user_id = body["user"]["id"]
    async with services_of(context).db.reader() as session:
        kr = await OkrRepository(session, Scope(context["team_id"], user_id)).key_result(_id(action) or 0)
    if kr is None:
        text = "That key result no longer exists. `/okr update` lists yours."
        if body.get("response_url"):
            await respond(response_type="ephemeral", replace_original=False, text=text)
        else:  # a Home tab button has no response_url: say it in the app's DM
            await client.chat_postMessage(channel=user_id, text=text)
        return
    await client.views_open(trigger_id=body["trigger_id"], view=update_modal([kr]))


def register(app: AsyncApp) -> None:
    app.action(OkrAction.APPROVE)(on_approve)
    app.action(OkrAction.RETURN)(on_return_clicked)
    app.action(OkrAction.COMMENT)(on_comment_clicked)
    app.action(OkrAction.CHECK_IN)(on_check_in_clicked)
