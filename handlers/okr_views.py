"""OKR modal submissions and the parent picker's search-as-you-type options."""

from __future__ import annotations

import json
import logging
import math
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from agents.okr_checkin import CheckInError, check_in_as
from agents.okr_objectives import (
    NotAllowed,
    ObjectiveForm,
    add_comment,
    decide,
    submit_objective,
    validate_objective_form,
)
from agents.policy.okrs import can_see_objective
from blocks import okr_messages
from blocks.okr_ids import UPDATE_VALUE_PREFIX, OkrCallback, OkrField
from blocks.rich_text import rich_text_to_markdown
from bot.jobs import JobName
from bot.services import services_of
from storage.okrs import OkrRepository, row_id, without_nul
from storage.scope import Scope

log = logging.getLogger(__name__)
PARENT_OPTIONS = 50


async def send_dm(client: AsyncWebClient, user_id: str, message: dict[str, Any]) -> None:
    """A reply to the person who acted (notifications to others go through the outbox)."""
    channel = (await client.conversations_open(users=user_id))["channel"]["id"]
    await client.chat_postMessage(channel=channel, **message)


async def drain_outbox(context: AsyncBoltContext) -> None:
    """Send the notifications the change just committed to the outbox."""
    await services_of(context).jobs.enqueue(JobName.DRAIN_SLACK_OUTBOX, context["team_id"])


def _value(values: dict[str, Any], field: str) -> str | None:
    """A field's text (None for an unpicked select); whatever a forged payload holds comes back as plain text."""
    block = values.get(field)
    element = block.get(field) if isinstance(block, dict) else None
    if not isinstance(element, dict):
        return ""
    if "selected_option" in element:
        option = element.get("selected_option")
        picked = option.get("value") if isinstance(option, dict) else None
        return None if picked is None else without_nul(str(picked))
    if "rich_text_value" in element:
        try:
            return without_nul(rich_text_to_markdown(element.get("rich_text_value")))
        except (AttributeError, KeyError, TypeError, ValueError):
            return ""
    return without_nul(str(element.get("value") or ""))


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The modal's private_metadata as a dict ({} when missing or not ours)."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def read_objective_form(values: dict[str, Any]) -> ObjectiveForm:
    get = lambda field: _value(values, field)  # noqa: E731
    return ObjectiveForm(
        title=get(OkrField.TITLE) or "", level=get(OkrField.LEVEL), period_id=get(OkrField.PERIOD),
        parent_id=get(OkrField.PARENT) or None, department=get(OkrField.DEPARTMENT) or "",
        team=get(OkrField.TEAM) or "", visibility=get(OkrField.VISIBILITY), kr_title=get(OkrField.KR_TITLE) or "",
        kr_start=get(OkrField.KR_START) or "", kr_target=get(OkrField.KR_TARGET) or "",
        kr_unit=get(OkrField.KR_UNIT) or "",
    )


async def on_new_objective(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient,
                           context: AsyncBoltContext) -> None:
    services = services_of(context)
    user_id = body["user"]["id"]
    scope = Scope(context["team_id"], user_id)
    form = read_objective_form(view["state"]["values"])
    async with services.db.session() as session:
        repo = OkrRepository(session, scope)
        errors = await validate_objective_form(repo, form)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        submitted = await submit_objective(repo, form, user_id)
    await ack()
    await drain_outbox(context)
    await send_dm(client, user_id, okr_messages.text_message(
        f"Submitted *{submitted.objective.key}* for approval by "
        + (", ".join(f"<@{a}>" for a in submitted.approvers) or "an Admin") + "."))


async def on_update(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient,
                    context: AsyncBoltContext) -> None:
    values = view["state"]["values"]
    updates: dict[int, float] = {}
    errors: dict[str, str] = {}
    for block_id, entry in values.items():
        if not block_id.startswith(UPDATE_VALUE_PREFIX):
            continue
        element = entry.get(block_id) if isinstance(entry, dict) else None
        raw = str((element or {}).get("value") or "").strip() if isinstance(element, dict) else ""
        if not raw:
            continue
        kr_id = row_id(block_id.removeprefix(UPDATE_VALUE_PREFIX))
        try:
            value = float(raw.replace(",", "").rstrip("%"))
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            errors[block_id] = "Enter a number, e.g. 42 or 99.5."
        elif kr_id is None:
            errors[block_id] = "That key result no longer exists; close this and run `/okr update` again."
        else:
            updates[kr_id] = value
    if not updates and not errors:
        first = next((b for b in values if b.startswith(UPDATE_VALUE_PREFIX)), None)
        if first is not None:
            errors[first] = "Enter a new value for at least one key result."
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    user_id = body["user"]["id"]
    note = _value(values, OkrField.NOTE) or ""
    lines = []
    async with services_of(context).db.session() as session:
        repo = OkrRepository(session, Scope(context["team_id"], user_id))
        for kr_id, value in updates.items():
            kr = await repo.key_result(kr_id)
            if kr is None:
                lines.append("A key result in that form no longer exists; nothing was saved for it.")
                continue
            try:
                result = await check_in_as(repo, user_id, kr, value=value, day=date.today(), note=note)
            except CheckInError as exc:
                lines.append(str(exc))
                continue
            lines.append(f"{kr.key}: {value:g} {kr.unit} · {result.status.label} · {round(100 * result.progress)}%")
    if lines:
        await send_dm(client, user_id, okr_messages.text_message(
            "Checked in:\n" + "\n".join(lines)))


async def on_comment(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient,
                     context: AsyncBoltContext) -> None:
    user_id = body["user"]["id"]
    text = _value(view["state"]["values"], OkrField.COMMENT) or ""
    objective_id = row_id(_metadata(view).get("objective_id")) or 0
    async with services_of(context).db.session() as session:
        repo = OkrRepository(session, Scope(context["team_id"], user_id))
        objective = await repo.objective(objective_id)
        if objective is None:
            await ack(response_action="errors", errors={OkrField.COMMENT: "That objective no longer exists."})
            return
        try:
            await add_comment(repo, objective, user_id, text)
        except (NotAllowed, ValueError) as exc:
            await ack(response_action="errors", errors={OkrField.COMMENT: str(exc)})
            return
    await ack()
    await drain_outbox(context)


async def on_return(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient,
                    context: AsyncBoltContext) -> None:
    user_id = body["user"]["id"]
    reason = _value(view["state"]["values"], OkrField.REASON) or ""
    meta = _metadata(view)
    async with services_of(context).db.session() as session:
        repo = OkrRepository(session, Scope(context["team_id"], user_id))
        objective = await repo.objective(row_id(meta.get("objective_id")) or 0)
        if objective is None:
            await ack(response_action="errors", errors={OkrField.REASON: "That objective no longer exists."})
            return
        # The approver's own request message shows the outcome in place: like the owner's notice, an outbox row
        # written with the decision and sent by the drain.
        shown_at = (str(meta["channel"]), str(meta["ts"])) if meta.get("channel") and meta.get("ts") else None
        try:
            await decide(repo, objective, user_id, approve=False, reason=reason, today=date.today(),
                         shown_at=shown_at)
        except (NotAllowed, ValueError) as exc:
            await ack(response_action="errors", errors={OkrField.REASON: str(exc)})
            return
    await ack()
    await drain_outbox(context)


async def on_parent_options(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """Search objectives by key or title as the person types; only what they may see."""
    user_id = body["user"]["id"]
    typed = without_nul(str(body.get("value") or ""))[:100]
    async with services_of(context).db.reader() as session:
        repo = OkrRepository(session, Scope(context["team_id"], user_id))
        role = await repo.role_of(user_id)
        found = await repo.objectives(text=typed or None, limit=PARENT_OPTIONS * 2)
    options = [
        {"text": {"type": "plain_text", "text": f"{o.key} · {o.title}"[:75]}, "value": str(o.id)}
        for o in found if can_see_objective(user_id, role, o)
    ][:PARENT_OPTIONS]
    await ack(options=options)


def register(app: AsyncApp) -> None:
    app.view(OkrCallback.NEW_OBJECTIVE)(on_new_objective)
    app.view(OkrCallback.UPDATE)(on_update)
    app.view(OkrCallback.COMMENT)(on_comment)
    app.view(OkrCallback.RETURN)(on_return)
    app.options(OkrField.PARENT)(on_parent_options)
