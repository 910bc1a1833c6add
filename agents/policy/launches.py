"""Who may do what with launches, their tasks, roles and trackers."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from agents.policy.core import ALLOW, Actor, Decision, deny, rule
from storage.enums import Role
from storage.models import Launch, Task

ASK_AN_ADMIN = "Ask a workspace admin to run `/launch admin grant @you`."


class Action(StrEnum):
    LAUNCH_CREATE = "launch.create"
    LAUNCH_VIEW = "launch.view"
    LAUNCH_LIST = "launch.list"
    LAUNCH_REPLAN = "launch.replan"
    LAUNCH_TRACKER = "launch.tracker"  # which tracker a launch syncs to
    TASK_UPDATE = "task.update"
    TASK_REVIEW = "task.review"
    ROLE_GRANT = "role.grant"
    TRACKER_CONNECT = "tracker.connect"
    AUDIT_VIEW = "audit.view"
    HOME_VIEW = "home.view"
    WORKSPACE_SETTINGS = "workspace.settings"  # e.g. where review messages go
    LAUNCH_PII_VIEW = "launch.pii_view"  # see the originals behind a launch's PII placeholders


class OwnedLaunch(Protocol):
    """What the PM-or-admin rules read of a launch: a stored Launch, or a check's summary of one
    (storage.versions.ReplanTarget, read before a re-plan submission's ack)."""

    @property
    def workspace_id(self) -> str: ...

    @property
    def created_by(self) -> str: ...


def is_launch_pm(actor: Actor, launch: OwnedLaunch | None) -> bool:
    return launch is not None and launch.created_by == actor.user_id


@rule(Action.LAUNCH_CREATE)
def may_create_launch(actor: Actor) -> Decision:
    if actor.role in (Role.ADMIN, Role.PM):
        return ALLOW
    return deny(f"Only PMs and admins can start a launch. {ASK_AN_ADMIN}")


@rule(Action.LAUNCH_VIEW, Action.LAUNCH_LIST, Action.HOME_VIEW)
def may_view(actor: Actor, launch: Launch | None = None) -> Decision:
    return ALLOW


@rule(Action.LAUNCH_REPLAN, Action.LAUNCH_TRACKER)
def may_replan(actor: Actor, launch: OwnedLaunch | None = None) -> Decision:
    if launch is None:
        return deny("That launch does not exist in this workspace.")
    if actor.is_admin or is_launch_pm(actor, launch):
        return ALLOW
    return deny(f"Only the launch's PM (<@{launch.created_by}>) or an admin can change its plan.")


@rule(Action.TASK_REVIEW)
def may_review_task(actor: Actor, launch: Launch | None = None, task: Task | None = None) -> Decision:
    if launch is None or task is None or task.launch_id != launch.id:
        return deny("That task does not exist in this workspace.")
    if actor.is_admin or is_launch_pm(actor, launch):
        return ALLOW
    return deny(f"Only the launch's PM (<@{launch.created_by}>) or an admin can approve or reject flagged tasks.")


@rule(Action.TASK_UPDATE)
def may_update_task(actor: Actor, launch: Launch | None = None, task: Task | None = None) -> Decision:
    if launch is None or task is None or task.launch_id != launch.id:
        return deny("That task does not exist in this workspace.")
    if actor.is_admin or is_launch_pm(actor, launch) or task.assignee_slack_id == actor.user_id:
        return ALLOW
    return deny("Only the task's owner, the launch's PM or an admin can update this task.")


def is_on_team(actor: Actor, launch: Launch) -> bool:
    return any(member.slack_id == actor.user_id for member in launch.members)


@rule(Action.LAUNCH_PII_VIEW)
def may_see_launch_pii(actor: Actor, launch: Launch | None = None) -> Decision:
    """The originals behind `<PERSON_1>`, `<EMAIL_1>`...: Admins, the launch's PM and the people on its team.

    A channel's audience is unknown, so channel posts never ask this; see agents/launch_pii.py.
    """
    if launch is None:
        return deny("That launch does not exist in this workspace.")
    if actor.is_admin or is_launch_pm(actor, launch) or is_on_team(actor, launch):
        return ALLOW
    return deny("Personal data in this launch is shown only to its team, its PM and admins.")


@rule(Action.ROLE_GRANT, Action.TRACKER_CONNECT, Action.AUDIT_VIEW, Action.WORKSPACE_SETTINGS)
def admins_only(actor: Actor) -> Decision:
    if actor.is_admin:
        return ALLOW
    return deny("Only workspace admins can do that.")
