"""The review message's buttons (Approve, Reject, Edit, all on a page, page navigation) and the edit modal.

Every listener acks first. Approve, Reject, Approve all, Reject all and the page menu are answered in a CLICK
job (handlers/deferred.py): the web process only acks. Buttons carry ids only: agents/review.py reloads the task
or launch within the workspace, asks the policy and decides once; a denial or an earlier decision is told through
the click's response_url (ephemeral). After the commit, further jobs do the rest: a Reject or an Edit recomputes
the launch (RECOMPUTE_LAUNCH), the review and plan messages are updated in place (REVIEW_DECIDED) and the Home
tabs of the people it touches are rebuilt (REFRESH_HOME). The edit modal's submission is checked from reads alone
(one session) before its ack and saved after it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from agents.access import record_denial, stored_actor
from agents.launch_pii import HIDDEN, reveal_for_person
from agents.plan import EdgeKind
from agents.policy import Action, Actor, decide
from agents.review import (
    ReviewOutcome,
    ReviewResult,
    decide_page,
    decide_task,
    parse_page_value,
    set_review_destination,
)
from agents.review_edit import EditForm, judge_edit, load_edit_in, save_edit, split_keys
from blocks.ids import ActionId, CallbackId, ReviewEditField, row_id
from blocks.review_messages import already_decided
from blocks.review_modal import review_edit_modal
from bot.jobs import JobName
from bot.services import services_of
from handlers.access import current_actor, refuse
from handlers.deferred import DeferredClick, deferred
from handlers.home import refresh_home_later
from storage.enums import ReviewState
from storage.launches import LaunchRepository
from storage.models import Launch, Task, TaskReview
from storage.reviews import ReviewRepository
from storage.scope import Scope

log = logging.getLogger(__name__)

VERDICTS = {
    ActionId.REVIEW_APPROVE: ReviewState.APPROVED,
    ActionId.REVIEW_REJECT: ReviewState.REJECTED,
    ActionId.REVIEW_APPROVE_PAGE: ReviewState.APPROVED,
    ActionId.REVIEW_REJECT_PAGE: ReviewState.REJECTED,
}
NOT_MINE = "That button is not one of mine; nothing changed."
TOLD = {
    ReviewOutcome.MISSING: "That task is not in this workspace any more; nothing changed.",
    ReviewOutcome.NOT_OPEN: "That task is not waiting for a review; nothing changed.",
    ReviewOutcome.NOTHING_OPEN: "Every task on this page is already decided; nothing changed.",
    ReviewOutcome.STALE: "That review message is out of date: use the launch's latest review message.",
}


def message_ts_of(body: dict[str, Any]) -> str | None:
    return (body.get("container") or {}).get("message_ts")


async def _tell(respond: AsyncRespond | None, text: str) -> None:
    if respond is not None:
        await respond(response_type="ephemeral", replace_original=False, text=text)


@deferred(ActionId.REVIEW_APPROVE, ActionId.REVIEW_REJECT)
async def task_decision(run: DeferredClick) -> None:
    """Approve or Reject on one task (in a CLICK job)."""
    task_id = row_id(run.click.value)
    if task_id is None:
        await _tell(run.respond, NOT_MINE)
        return
    actor = await current_actor(run.context, run.click.user_id, run.client)
    verdict = VERDICTS[ActionId(run.click.action_id)]
    result = await decide_task(run.services.db, actor, task_id, verdict, message_ts=run.click.message_ts or None)
    await _answer(run.context, run.respond, actor, result, target=f"task:{task_id}")


@deferred(ActionId.REVIEW_APPROVE_PAGE, ActionId.REVIEW_REJECT_PAGE)
async def page_decision(run: DeferredClick) -> None:
    """Approve all or Reject all on one page (in a CLICK job)."""
    parsed = parse_page_value(run.click.value)
    if parsed is None:
        await _tell(run.respond, NOT_MINE)
        return
    launch_id, version, page = parsed
    actor = await current_actor(run.context, run.click.user_id, run.client)
    verdict = VERDICTS[ActionId(run.click.action_id)]
    result = await decide_page(run.services.db, actor, launch_id, version, page, verdict,
                               message_ts=run.click.message_ts or None)
    await _answer(run.context, run.respond, actor, result, target=f"launch:{launch_id}", page=page)


@deferred(ActionId.REVIEW_PAGE)
async def page_select(run: DeferredClick) -> None:
    """Show another page of the review message (for everyone: it is one message), in a CLICK job."""
    parsed = parse_page_value(run.click.value)
    if parsed is None:
        await _tell(run.respond, NOT_MINE)
        return
    launch_id, version, page = parsed
    services = run.services
    actor = await current_actor(run.context, run.click.user_id, run.client)
    async with services.db.reader() as session:
        launch = await LaunchRepository(session, Scope(actor.workspace_id)).get(launch_id)
    if launch is None:
        await _tell(run.respond, TOLD[ReviewOutcome.MISSING])
        return
    decision = decide(actor, Action.LAUNCH_VIEW, launch=launch)
    if not decision.allowed:
        await refuse(run.context, run.respond, actor, Action.LAUNCH_VIEW, f"launch:{launch_id}", decision)
        return
    ts = run.click.message_ts
    if version != launch.version or (ts and launch.review_ts and ts != launch.review_ts):
        await _tell(run.respond, TOLD[ReviewOutcome.STALE])
        return
    await services.jobs.enqueue(JobName.SHOW_REVIEW_PAGE, launch.workspace_id, launch.id, page)


async def on_edit_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond,
                         context: AsyncBoltContext, client: AsyncWebClient) -> None:
    """Edit: open the modal, pre-filled, for someone who may review the task while it is still open."""
    await ack()
    task_id = row_id(action.get("value"))
    if task_id is None:
        await _tell(respond, NOT_MINE)
        return
    actor = await current_actor(context, body["user"]["id"], client)
    async with services_of(context).db.reader() as session:
        found = await _edit_context(session, Scope(actor.workspace_id), task_id)
        # The modal is the editor's: the originals they may see (agents/launch_pii.py) are filled in.
        reveal = await reveal_for_person(session, Scope(actor.workspace_id), found[0], actor.user_id) \
            if found is not None else HIDDEN
    if found is None:
        await _tell(respond, TOLD[ReviewOutcome.MISSING])
        return
    launch, task, tasks, predecessors, earlier = found
    decision = decide(actor, Action.TASK_REVIEW, launch=launch, task=task) if task is not None else None
    if decision is not None and not decision.allowed:
        await refuse(context, respond, actor, Action.TASK_REVIEW, f"task:{task_id}", decision)
        return
    ts = message_ts_of(body)
    if earlier is not None:  # decided already (a rejected task is gone, its decision is not)
        await _tell(respond, already_decided(earlier.decision, earlier.decided_by, earlier.decided_at))
    elif task is None or task.review_state != ReviewState.OPEN:
        await _tell(respond, TOLD[ReviewOutcome.NOT_OPEN])
    elif ts and launch.review_ts and ts != launch.review_ts:
        await _tell(respond, TOLD[ReviewOutcome.STALE])
    else:
        await client.views_open(trigger_id=body["trigger_id"],
                                view=review_edit_modal(launch, reveal.task(task), reveal.tasks(tasks), predecessors))


async def _edit_context(
    session: AsyncSession, scope: Scope, task_id: int
) -> tuple[Launch, Task | None, list[Task], list[str], TaskReview | None] | None:
    """The launch, the task (None once rejected), the launch's tasks, the task's predecessors, its decision."""
    reviews = ReviewRepository(session, scope)
    launches = LaunchRepository(session, scope)
    task = await reviews.task(task_id)
    earlier = await reviews.decision_of_task(task_id)
    launch_id = task.launch_id if task is not None else earlier.launch_id if earlier is not None else None
    launch = await launches.get(launch_id) if launch_id is not None else None
    if launch is None:
        return None
    if task is None:
        return launch, None, [], [], earlier
    earlier = await reviews.decision(launch.id, launch.version, task.key)
    tasks = await launches.tasks(launch.id)
    keys = {t.id: t.key for t in tasks}
    predecessors = [keys[d.from_task_id] for d in await launches.dependencies(launch.id)
                    if d.to_task_id == task.id and d.kind == EdgeKind.BLOCKS and d.from_task_id in keys]
    return launch, task, tasks, predecessors, earlier


def read_edit_form(view: dict[str, Any]) -> EditForm:
    """The modal's state.values as an EditForm (block id and action id are the field name)."""
    values = view.get("state", {}).get("values", {})

    def element(name: ReviewEditField) -> dict[str, Any]:
        return values.get(name, {}).get(name, {})

    dependencies = element(ReviewEditField.DEPENDENCIES)
    if "selected_options" in dependencies:
        keys = [str(o.get("value", "")) for o in dependencies.get("selected_options") or []]
    else:
        keys = split_keys(str(dependencies.get("value") or ""))
    return EditForm(
        title=str(element(ReviewEditField.TITLE).get("value") or ""),
        owner=element(ReviewEditField.OWNER).get("selected_user"),
        estimate=str(element(ReviewEditField.ESTIMATE).get("value") or ""),
        due=element(ReviewEditField.DUE).get("selected_date"),
        dependencies=[k.replace("\x00", "") for k in keys],
    )


async def on_edit_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext,
                            client: AsyncWebClient) -> None:
    """Check the edit from reads alone (field errors keep the modal open); ack; then save it and update the message."""
    services = services_of(context)
    user_id = body["user"]["id"]
    task_id = row_id(view.get("private_metadata"))
    if task_id is None:
        await ack(response_action="errors", errors={ReviewEditField.TITLE: NOT_MINE})
        return
    # Before the ack, short reads in one session (no lock, no write, no Slack call): the person was resolved when
    # they pressed Edit.
    form = read_edit_form(view)
    async with services.db.reader() as session:
        actor = await stored_actor(session, context["team_id"], user_id)
        subject = await load_edit_in(session, context["team_id"], task_id)
    refused = subject if isinstance(subject, ReviewResult) else judge_edit(subject, actor, form)
    if refused is not None:
        await ack(response_action="errors", errors=_edit_errors(refused))
        if refused.outcome is ReviewOutcome.DENIED:
            assert refused.decision is not None
            await record_denial(services.db, actor, Action.TASK_REVIEW, refused.target, refused.decision)
        return
    await ack()
    # Saved under the launch lock, checked again: a decision or a graph change made meanwhile wins.
    result = await save_edit(services.db, actor, task_id, form)
    if result.outcome is ReviewOutcome.DECIDED:
        await _after_decision(context, result, key=result.decided[0])
        return
    if result.outcome is ReviewOutcome.DENIED:
        assert result.decision is not None
        await record_denial(services.db, actor, Action.TASK_REVIEW, result.target, result.decision)
    text = "Your edit was not saved: " + " ".join(_edit_errors(result).values())
    await _tell_later(client, result.launch, user_id, text)


def _edit_errors(result: ReviewResult) -> dict[str, str]:
    """Why an edit cannot be saved, by the modal's field."""
    if result.outcome is ReviewOutcome.INVALID:
        return result.errors
    if result.outcome is ReviewOutcome.DENIED and result.decision is not None:
        return {ReviewEditField.TITLE: result.decision.reason}
    if result.outcome is ReviewOutcome.ALREADY and result.earlier is not None:
        earlier = result.earlier
        return {ReviewEditField.TITLE: already_decided(earlier.decision, earlier.decided_by, earlier.decided_at)}
    return {ReviewEditField.TITLE: TOLD.get(result.outcome, NOT_MINE)}


async def _tell_later(client: AsyncWebClient, launch: Launch | None, user_id: str, text: str) -> None:
    """Tell someone whose modal has closed: an ephemeral by the review message, else a direct message."""
    try:
        if launch is not None and launch.review_channel_id:
            await client.chat_postEphemeral(channel=launch.review_channel_id, user=user_id, text=text)
        else:
            await client.chat_postMessage(channel=user_id, text=text)
    except SlackApiError as exc:
        log.info("could not tell %s: %s", user_id, exc.response.get("error"))


async def _answer(context: Mapping[str, Any], respond: AsyncRespond | None, actor: Actor, result: ReviewResult, *,
                  target: str, page: int | None = None) -> None:
    """Tell the person what happened (or update the message when something was decided)."""
    if result.outcome is ReviewOutcome.DENIED:
        assert result.decision is not None
        await refuse(context, respond, actor, Action.TASK_REVIEW, result.target or target, result.decision)
    elif result.outcome is ReviewOutcome.ALREADY and result.earlier is not None:
        earlier = result.earlier
        await _tell(respond, already_decided(earlier.decision, earlier.decided_by, earlier.decided_at))
    elif result.outcome is ReviewOutcome.DECIDED:
        key = result.decided[0] if page is None else None
        await _after_decision(context, result, key=key, page=page or 0)
    else:
        await _tell(respond, TOLD.get(result.outcome, NOT_MINE))


async def _after_decision(context: Mapping[str, Any], result: ReviewResult, *, key: str | None = None,
                          page: int = 0) -> None:
    """After the commit, in jobs: the recompute, the review and plan messages in place, the Home tabs."""
    assert result.launch is not None
    services = services_of(context)
    workspace_id, launch_id = result.launch.workspace_id, result.launch.id
    if result.stale:  # the graph changed: its critical path, slack and risks are recomputed off this path
        await services.jobs.enqueue(JobName.RECOMPUTE_LAUNCH, workspace_id, launch_id)
    await services.jobs.enqueue(JobName.REVIEW_DECIDED, workspace_id, launch_id, page, key or "")
    for person in result.touched:  # a stale Home tab would heal on the next app_home_opened anyway
        await refresh_home_later(services, workspace_id, person)


async def run_review_setting(context: AsyncBoltContext, actor: Actor, argument: str, respond: AsyncRespond) -> None:
    """`/launch admin review thread|dm` (the command has been acked)."""
    change = await set_review_destination(services_of(context).db, actor, argument)
    if not change.decision.allowed:
        await refuse(context, respond, actor, Action.WORKSPACE_SETTINGS, "workspace:review_in", change.decision)
        return
    await respond(response_type="ephemeral", text=change.message)


def register(app: AsyncApp) -> None:
    # Approve, Reject, their page-wide forms and the page menu answer in CLICK jobs (handlers/deferred.py).
    app.action(ActionId.REVIEW_EDIT)(on_edit_button)
    app.view(CallbackId.REVIEW_EDIT)(on_edit_submitted)
