"""The brief modal's submission: validate, store a draft, enqueue planning, ack. No Slack call first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from sqlalchemy.exc import IntegrityError

from agents.access import AuditAction, record_denial
from agents.intake import BriefForm, ValidBrief, validate_brief_form
from agents.policy import Action, Actor, Decision, decide
from blocks.ids import BriefField, CallbackId
from blocks.rich_text import rich_text_to_markdown
from bot.jobs import JobName
from bot.services import services_of
from storage.audit import AuditLog
from storage.db import Database
from storage.enums import Role
from storage.launches import LaunchRepository
from storage.models import Launch
from storage.scope import Scope
from storage.trackers import choose_tracker_in
from storage.workspaces import WorkspaceRepository

# A date is "in the past" only once it has passed everywhere: the last time zone to reach a day is UTC-12.
LATEST_TIME_ZONE = ZoneInfo("Etc/GMT+12")


def read_brief_form(values: dict[str, dict[str, dict[str, Any]]]) -> BriefForm:
    """The modal's state.values as a BriefForm (block id and action id are the field name)."""

    def element(field: BriefField) -> dict[str, Any]:
        return values.get(field, {}).get(field, {})

    brief = element(BriefField.BRIEF)
    # NUL cannot be stored in PostgreSQL text and is never meant: it is dropped before validation.
    return BriefForm(
        name=(element(BriefField.NAME).get("value") or "").replace("\x00", ""),
        brief=(rich_text_to_markdown(brief.get("rich_text_value")) if "rich_text_value" in brief
               else brief.get("value") or "").replace("\x00", ""),
        target_date=element(BriefField.TARGET_DATE).get("selected_date"),
        team=list(element(BriefField.TEAM).get("selected_users") or []),
        channel=element(BriefField.CHANNEL).get("selected_conversation"),
        launch_type=(element(BriefField.LAUNCH_TYPE).get("selected_option") or {}).get("value"),
    )


async def on_brief_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any],
                             context: AsyncBoltContext) -> None:
    services = services_of(context)
    form = read_brief_form(view["state"]["values"])
    user_id = body["user"]["id"]
    scope = Scope(context["team_id"], user_id)
    today = datetime.now(LATEST_TIME_ZONE).date()
    tracker = (view["state"]["values"].get(BriefField.TRACKER, {}).get(BriefField.TRACKER, {})
               .get("selected_option") or {}).get("value")
    try:
        launch = await store_draft(services.db, scope, form, today, body.get("team", {}).get("domain", ""),
                                   tracker_id=int(tracker) if tracker and tracker.isdigit() else None)
    except IntegrityError:
        # Two submissions raced for the same name and the other one won; anything else is a bug.
        async with services.db.reader() as session:
            if not await LaunchRepository(session, scope).name_taken(" ".join(form.name.split())):
                raise
        await ack(response_action="errors", errors={BriefField.NAME: "A launch with this name was just created."})
        return
    if isinstance(launch, Refusal):
        await record_denial(services.db, launch.actor, Action.LAUNCH_CREATE, "launch:new", launch.decision)
        await ack(response_action="errors", errors={BriefField.NAME: launch.decision.reason})
        return
    if not isinstance(launch, Launch):
        await ack(response_action="errors", errors=launch)
        return
    await services.jobs.enqueue(JobName.PLAN_LAUNCH, scope.workspace_id, launch.id)
    await ack()


@dataclass(frozen=True)
class Refusal:
    actor: Actor
    decision: Decision


async def store_draft(db: Database, scope: Scope, form: BriefForm, today: date,
                      team_domain: str, *, tracker_id: int | None = None) -> Launch | Refusal | dict[str, str]:
    """The draft launch, a policy refusal, or the form's field errors; one connection for all of it.

    Before the ack, so from storage only: the person was resolved when they typed /launch new.
    """
    async with db.session() as session:
        launches = LaunchRepository(session, scope)
        # The validator collapses whitespace in the name; check the name as it will be stored.
        known, taken = await launches.creator_check(scope.user_id or "", " ".join(form.name.split()))
        actor = Actor(scope.workspace_id, scope.user_id or "", Role(known) if known else Role.MEMBER)
        decision = decide(actor, Action.LAUNCH_CREATE)
        if not decision.allowed:
            return Refusal(actor, decision)
        checked = validate_brief_form(form, today=today, name_taken=taken)
        if not isinstance(checked, ValidBrief):
            return checked
        if known is None:  # a person's row exists only in a workspace that does
            await WorkspaceRepository(session, scope).ensure(team_domain)
        launch = await launches.create_draft(
            name=checked.name,
            brief=checked.brief,
            target_date=checked.target_date,
            launch_type=checked.launch_type,
            channel_id=checked.channel,
            created_by=actor.user_id,
            members=[("", "", slack_id) for slack_id in checked.team],
        )
        # The tracker id came from the form: it counts only as one of this workspace's active connections.
        chosen = tracker_id is not None and await choose_tracker_in(session, scope, launch.id, tracker_id)
        await AuditLog(session, scope).append(
            actor=actor.user_id, action=AuditAction.LAUNCH_CREATED, target=f"launch:{launch.id}", before=None,
            after={"name": launch.name, "target_date": launch.target_date, "launch_type": launch.launch_type,
                   "channel_id": launch.channel_id, "team": checked.team, "status": launch.status,
                   "tracker": tracker_id if chosen else None},
        )
        return launch


def register(app: AsyncApp) -> None:
    app.view(CallbackId.LAUNCH_BRIEF)(on_brief_submitted)
