"""The policy decides every permission: pure rules, checked role by role."""

from __future__ import annotations

from datetime import date

import pytest

from agents.policy import Action, Actor, decide
from storage.enums import Role
from storage.models import Launch, Task

WS = "T1"


def launch(pm: str = "UPM", workspace: str = WS, launch_id: int = 1) -> Launch:
    return Launch(
        id=launch_id,
        workspace_id=workspace,
        name="X",
        name_key="x",
        target_date=date(2030, 1, 1),
        launch_type="software_release",
        created_by=pm,
    )


def task(assignee: str | None = "UOWNER", launch_id: int = 1, workspace: str = WS) -> Task:
    return Task(id=7, workspace_id=workspace, launch_id=launch_id, assignee_slack_id=assignee)


ADMIN = Actor(WS, "UADMIN", Role.ADMIN)
PM = Actor(WS, "UPM", Role.PM)
OTHER_PM = Actor(WS, "UPM2", Role.PM)
MEMBER = Actor(WS, "UMEMBER", Role.MEMBER)
OWNER = Actor(WS, "UOWNER", Role.MEMBER)


@pytest.mark.parametrize(("actor", "allowed"), [(ADMIN, True), (PM, True), (MEMBER, False)])
def test_only_pms_and_admins_create_launches(actor: Actor, allowed: bool) -> None:
    decision = decide(actor, Action.LAUNCH_CREATE)
    assert decision.allowed is allowed
    if not allowed:
        assert "admin grant" in decision.reason


@pytest.mark.parametrize(("actor", "allowed"), [(ADMIN, True), (PM, True), (OTHER_PM, False), (MEMBER, False)])
def test_replan_is_for_the_launch_pm_and_admins(actor: Actor, allowed: bool) -> None:
    assert decide(actor, Action.LAUNCH_REPLAN, launch=launch()).allowed is allowed


@pytest.mark.parametrize(("actor", "allowed"), [(ADMIN, True), (PM, True), (OWNER, True), (MEMBER, False)])
def test_task_updates(actor: Actor, allowed: bool) -> None:
    assert decide(actor, Action.TASK_UPDATE, launch=launch(), task=task()).allowed is allowed


@pytest.mark.parametrize(("actor", "allowed"), [(ADMIN, True), (PM, True), (OWNER, False), (MEMBER, False)])
def test_task_reviews(actor: Actor, allowed: bool) -> None:
    assert decide(actor, Action.TASK_REVIEW, launch=launch(), task=task()).allowed is allowed


def test_a_task_of_another_launch_is_refused() -> None:
    assert not decide(ADMIN, Action.TASK_REVIEW, launch=launch(), task=task(launch_id=2)).allowed


@pytest.mark.parametrize("action", [Action.ROLE_GRANT, Action.TRACKER_CONNECT, Action.AUDIT_VIEW])
def test_admin_only_actions(action: Action) -> None:
    assert decide(ADMIN, action).allowed
    assert not decide(PM, action).allowed
    assert not decide(MEMBER, action).allowed


def test_objects_of_another_workspace_are_never_within_reach() -> None:
    foreign = launch(workspace="T2")
    for action in (Action.LAUNCH_VIEW, Action.LAUNCH_REPLAN):
        decision = decide(ADMIN, action, launch=foreign)
        assert not decision.allowed and "workspace" in decision.reason
    assert not decide(ADMIN, Action.TASK_UPDATE, launch=launch(), task=task(workspace="T2")).allowed


def test_unknown_actions_are_denied() -> None:
    assert not decide(ADMIN, "launch.delete_everything").allowed


def test_everyone_may_view_and_list_in_their_workspace() -> None:
    for actor in (ADMIN, PM, MEMBER):
        assert decide(actor, Action.LAUNCH_VIEW, launch=launch()).allowed
        assert decide(actor, Action.LAUNCH_LIST).allowed
