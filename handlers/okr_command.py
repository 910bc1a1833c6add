"""/okr: new, update, list, tree, ask, report, help. Every branch acks first; the work follows the ack."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from agents.okr_checkin import CheckInError, check_in_as, key_result_view, parse_update_text
from agents.okr_lists import list_objectives, tree_of
from agents.query import ask, resolve_period
from agents.query_llm import metered_query_model
from blocks import okr_messages
from blocks.okr_modals import new_objective_modal, update_modal
from bot.jobs import JobName
from bot.services import services_of
from storage.models import utcnow
from storage.okrs import OkrRepository, without_nul
from storage.scope import Scope


class OkrSubcommand(StrEnum):
    NEW = "new"
    UPDATE = "update"
    LIST = "list"
    TREE = "tree"
    ASK = "ask"
    REPORT = "report"
    HELP = "help"


def split_subcommand(text: str) -> tuple[OkrSubcommand, str]:
    # NUL cannot be stored in (or compared with) PostgreSQL text and is never meant.
    word, _, rest = without_nul(text or "").strip().partition(" ")
    try:
        return OkrSubcommand(word.lower()), rest.strip()
    except ValueError:
        return OkrSubcommand.HELP, ""


async def on_okr(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond,
                 context: AsyncBoltContext) -> None:
    await ack()
    subcommand, argument = split_subcommand(command.get("text", ""))
    services = services_of(context)
    user_id = command["user_id"]
    scope = Scope(context["team_id"], user_id)
    today = date.today()
    if subcommand is OkrSubcommand.NEW:
        async with services.db.reader() as session:
            periods = await OkrRepository(session, scope).periods()
        if not periods:
            await respond(response_type="ephemeral", **okr_messages.text_message(
                "No OKR periods yet. An Admin can import them with `liftoff okr import`."))
            return
        current = resolve_period(None, periods, today)
        await client.views_open(trigger_id=command["trigger_id"],
                                view=new_objective_modal(periods, current.id if current else None))
    elif subcommand is OkrSubcommand.UPDATE and not argument:
        async with services.db.reader() as session:
            repo = OkrRepository(session, scope)
            period = resolve_period(None, await repo.periods(), today)
            mine = await repo.key_results_owned(user_id, period.id if period else None)
        await client.views_open(trigger_id=command["trigger_id"], view=update_modal(mine))
    elif subcommand is OkrSubcommand.UPDATE:
        await respond(response_type="ephemeral", **await keyboard_update(context, scope, argument, today))
    elif subcommand is OkrSubcommand.LIST:
        async with services.db.reader() as session:
            try:
                title, views = await list_objectives(OkrRepository(session, scope), user_id, argument, today)
            except ValueError as exc:
                await respond(response_type="ephemeral", **okr_messages.text_message(str(exc)))
                return
        await respond(response_type="ephemeral", **okr_messages.objectives_message(title, views))
    elif subcommand is OkrSubcommand.TREE:
        async with services.db.reader() as session:
            try:
                title, roots = await tree_of(OkrRepository(session, scope), user_id, argument, today)
            except ValueError as exc:
                await respond(response_type="ephemeral", **okr_messages.text_message(str(exc)))
                return
        await respond(response_type="ephemeral", **okr_messages.tree_message(roots, title))
    elif subcommand is OkrSubcommand.ASK:
        if not argument:
            await respond(response_type="ephemeral", **okr_messages.text_message(
                "Ask a question, e.g. `/okr ask which objectives are off track?`"))
            return
        # With LLM keys set the planner's providers parse the question (validated, each call's cost recorded for
        # the workspace; rules on any failure or once the month's budget for questions is spent).
        model = await metered_query_model(services.llm, services.db, scope, utcnow())
        async with services.db.reader() as session:
            answer = await ask(OkrRepository(session, scope), argument[:500], asker=user_id, today=today,
                               model=model)
        await respond(response_type="ephemeral", **okr_messages.answer_message(answer))
    elif subcommand is OkrSubcommand.REPORT:
        channel = command.get("channel_id") or user_id
        await services.jobs.enqueue(JobName.OKR_REPORT, scope.workspace_id, channel, argument or "", user_id)
        await respond(response_type="ephemeral", **okr_messages.text_message(
            "Preparing the quarterly review with its charts; it will appear here in a moment."))
    else:
        await respond(response_type="ephemeral", **okr_messages.help_message())


async def keyboard_update(context: AsyncBoltContext, scope: Scope, text: str, today: date) -> dict[str, Any]:
    """`/okr update KEY VALUE [note]`: check in, roll up, and say where the key result now stands."""
    try:
        key, value, note = parse_update_text(text)
    except CheckInError as exc:
        return okr_messages.text_message(str(exc))
    services = services_of(context)
    actor = scope.user_id or ""
    async with services.db.session() as session:
        repo = OkrRepository(session, scope)
        kr = await repo.key_result_by_key(key)
        if kr is None:
            return okr_messages.text_message(f"No key result {key!r}. `/okr list mine` shows yours.")
        try:
            result = await check_in_as(repo, actor, kr, value=value, day=today, note=note)
        except CheckInError as exc:
            return okr_messages.text_message(str(exc))
        view = await key_result_view(repo, kr, today)
        return okr_messages.checkin_receipt(view, kr.key, value, kr.unit, result.path, result.recorded)


def register(app: AsyncApp) -> None:
    from handlers import okr_actions, okr_views

    app.command("/okr")(on_okr)
    okr_views.register(app)
    okr_actions.register(app)
