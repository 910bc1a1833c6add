"""The App Home through signed requests on both backends: what a person sees, paging at large data, the hash,
and Admins granting and revoking PM from the Roles section; plus fast unit tests of the paging and the bound."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, update

from blocks.home import MAX_HOME_BLOCKS, home_view
from blocks.ids import ActionId
from storage.audit import AuditEntry
from storage.enums import LaunchStatus, ReviewState, Role, TaskStatus
from storage.home import (
    HomeContent,
    HomePages,
    HomeSection,
    LaunchRow,
    MyTask,
    Page,
    PendingObjective,
    PendingReview,
    parse_page,
)
from storage.models import Launch, LaunchMember, Task, User
from storage.okr_enums import ApprovalState, ObjectiveLevel
from storage.okr_models import Objective
from storage.okrs import OkrRepository
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository
from tests.support import Stack

ADMIN = "U100"  # maya: a Slack workspace admin
PM = "U101"  # omar: the small, hand-checked Home
MEMBER = "U102"  # lucia
NEW_PM = "U104"  # sara
BIG = "U105"  # ravi: made an Admin in the database, owner of the large data
OTHER = "U106"  # ife
OTHER_TEAM, STRANGER = "T0OTHER", "U0900"
TODAY = date.today()
LONG_TITLE = "Ship the <search> & ranking service to every region, " * 6  # 312 characters, escaped to more
FORM = "application/x-www-form-urlencoded"


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def task(launch: Launch, key: str, title: str, owner: str | None, due: date | None, **extra: Any) -> Task:
    values: dict[str, Any] = dict(
        workspace_id=launch.workspace_id, launch_id=launch.id, key=key, title=title[:300], team="Engineering",
        role="engineer", assignee=owner, assignee_slack_id=owner, estimate_days=2.0, due=due, priority="P1",
        confidence=0.9, flags=[], status=TaskStatus.TODO, milestone=False, slack_days=0.0,
    )
    values.update(extra)
    return Task(**values)


async def add_launch(session: Any, ws: str, name: str, created_by: str, **extra: Any) -> Launch:
    launch = Launch(workspace_id=ws, name=name, name_key=name.casefold(), brief="", target_date=day(60),
                    launch_type="software_release", channel_id="C0LAUNCH", created_by=created_by,
                    status=LaunchStatus.PLANNED, critical_path=[], risks=[], **extra)
    session.add(launch)
    await session.flush()
    return launch


async def seed_small(session: Any, ws: str) -> None:
    """Omar's world: his launch with flags under review, a task in someone else's launch, an OKR to approve."""
    search = await add_launch(session, ws, "Smart Search home", PM, plan_channel_id="C0LAUNCH", plan_ts="100.1",
                              review_channel_id="C0LAUNCH", review_ts="100.2")
    billing = await add_launch(session, ws, "Billing home", ADMIN)
    session.add(LaunchMember(workspace_id=ws, launch_id=billing.id, name="Lucia", role="engineer", slack_id=MEMBER))
    await add_launch(session, ws, "Not Omar's launch", ADMIN)
    session.add_all([
        task(search, "SS-1", "Write the search & <ranking> spec", PM, day(3)),
        task(search, "SS-2", "Fix the indexer", PM, day(-2), status=TaskStatus.IN_PROGRESS),
        task(search, "SS-3", "Sign off the release", PM, day(10), status=TaskStatus.BLOCKED),
        task(search, "SS-4", "Already done", PM, day(1), status=TaskStatus.DONE),
        task(search, "SS-5", "Flagged for Lucia", MEMBER, day(5), review_state=ReviewState.OPEN),
        task(search, "SS-6", "Flagged for Omar", PM, day(5), review_state=ReviewState.OPEN),
        task(search, "SS-7", "Approved flag", MEMBER, day(5), review_state=ReviewState.APPROVED),
        task(billing, "BL-1", "Price the new plan", PM, day(1)),
        task(billing, "BL-2", "Billing done", MEMBER, day(1), status=TaskStatus.DONE),
    ])
    okrs = OkrRepository(session, Scope(ws))
    period = await okrs.upsert_period("HOME-NOW", day(-30), day(60))
    company = await okrs.add_objective(key="CO-H", title="Delight searchers", level=ObjectiveLevel.COMPANY,
                                       owner_id=PM, period_id=period.id, approval=ApprovalState.APPROVED)
    await okrs.add_key_result(key="CO-H.1", objective_id=company.id, title="Search success rate", owner_id=PM,
                              start_value=0, target_value=100, unit="%")
    await okrs.add_objective(key="TEAM-H", title="Faster <index> & fresher results", level=ObjectiveLevel.TEAM,
                             owner_id=MEMBER, period_id=period.id, parent_id=company.id,
                             approval=ApprovalState.SUBMITTED)


async def seed_large(session: Any, ws: str) -> None:
    """Ravi (an Admin): 60 launches, 300 open tasks of his, 50 flagged tasks, 30 PMs, 12 OKRs to approve, 25 KRs."""
    launches = [await add_launch(session, ws, f"Big launch {n:02d} " + "x" * 120, BIG) for n in range(60)]
    for n in range(300):
        launch = launches[n % 60]
        session.add(task(launch, f"BIG-{n}", f"{n:03d} {LONG_TITLE}", BIG, day(n % 90 - 20)))
    for n in range(50):
        session.add(task(launches[n], f"FLAG-{n}", LONG_TITLE, OTHER, day(5), review_state=ReviewState.OPEN))
    for n in range(30):
        session.add(User(workspace_id=ws, slack_id=f"UPM{n:04d}", name=f"PM & <{n}> " + "y" * 150, role=Role.PM))
    okrs = OkrRepository(session, Scope(ws))
    period = await okrs.upsert_period("HOME-NOW", day(-30), day(60))
    holder = await okrs.add_objective(key="CO-BIG", title="Big goals", level=ObjectiveLevel.COMPANY, owner_id=BIG,
                                      period_id=period.id, approval=ApprovalState.APPROVED)
    for n in range(25):
        await okrs.add_key_result(key=f"CO-BIG.{n}", objective_id=holder.id, title=LONG_TITLE[:300], owner_id=BIG,
                                  start_value=0, target_value=10, unit="")
    for n in range(12):
        await okrs.add_objective(key=f"CO-ASK{n}", title=LONG_TITLE[:300], level=ObjectiveLevel.COMPANY,
                                 owner_id=OTHER, period_id=period.id, approval=ApprovalState.SUBMITTED)


@pytest.fixture(scope="module")
async def home_stack(stack: Stack) -> Stack:
    ws = stack.standin.team_id
    async with stack.db.session() as session:
        people = WorkspaceRepository(session, Scope(ws))
        await people.ensure()
        for slack_id, role in ((PM, Role.PM), (MEMBER, Role.MEMBER), (BIG, Role.ADMIN), (OTHER, Role.MEMBER)):
            (await people.ensure_user(slack_id, slack_id.lower())).role = role
        await seed_small(session, ws)
        await seed_large(session, ws)
        # Another workspace, with a PM whose id a forged payload will name.
        other = WorkspaceRepository(session, Scope(OTHER_TEAM))
        await other.ensure("Other")
        (await other.ensure_user(STRANGER, "stranger")).role = Role.PM
    return stack


# --- helpers ------------------------------------------------------------------------------------------------


def publishes(stack: Stack, user: str) -> list[Any]:
    return [c for c in stack.standin.calls_to("views.publish") if c.args.get("user_id") == user]


async def home_after(stack: Stack, user: str, act: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    """Do something, wait until the person's Home was published again, and return it."""
    before = len([c for c in publishes(stack, user) if c.ok])
    ack = await act()
    assert ack.status == 200 and ack.in_time
    await stack.standin.wait_for(lambda: len([c for c in publishes(stack, user) if c.ok]) > before, timeout=20)
    home = stack.standin.home(user)
    assert home is not None
    return home


def turn_page(stack: Stack, user: str, home: dict[str, Any], value: str) -> Callable[[], Awaitable[Any]]:
    return lambda: stack.slack.click(user, action_id=ActionId.HOME_MORE, value=value, view=home)


async def open_home(stack: Stack, user: str) -> dict[str, Any]:
    return await home_after(stack, user, lambda: stack.slack.open_home(user))


def texts(view: dict[str, Any]) -> str:
    """Every text of the view, raw (mrkdwn as sent), one per line."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(view["blocks"])
    return "\n".join(found)


def block(view: dict[str, Any], block_id: str) -> dict[str, Any] | None:
    return next((b for b in view["blocks"] if b.get("block_id") == block_id), None)


def buttons(view: dict[str, Any], block_id: str) -> list[tuple[str, str]]:
    found = block(view, block_id)
    assert found is not None, block_id
    return [(e["action_id"], e["value"]) for e in found["elements"]]


async def forged_click(stack: Stack, user: str, view: dict[str, Any], action: dict[str, Any]) -> Any:
    """A block_actions payload from a Home, with whatever action a forger likes."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "team_id": stack.standin.team_id},
        "api_app_id": stack.standin.app_id,
        "token": "standin-verification-token",
        "team": {"id": stack.standin.team_id, "domain": "x"},
        "trigger_id": stack.slack.new_trigger_id(user),
        "container": {"type": "view", "view_id": view["id"]},
        "view": view,
        "actions": [{"action_ts": "1.000001", "block_id": "forged", **action}],
    }
    return await stack.slack.post(urlencode({"payload": json.dumps(payload)}), FORM)


async def role_of(stack: Stack, workspace_id: str, slack_id: str) -> str | None:
    async with stack.db.reader() as session:
        return await session.scalar(
            select(User.role).where(User.workspace_id == workspace_id, User.slack_id == slack_id)
        )


async def audit(stack: Stack, actor: str, action: str) -> list[AuditEntry]:
    async with stack.db.reader() as session:
        return list(await session.scalars(
            select(AuditEntry).where(AuditEntry.actor == actor, AuditEntry.action == action).order_by(AuditEntry.id)
        ))


# --- scenarios ----------------------------------------------------------------------------------------------


async def test_home_shows_my_tasks_launches_approvals_and_okrs(home_stack: Stack) -> None:
    stack = home_stack
    home = await open_home(stack, PM)
    text = texts(home)
    # My open tasks, soonest due first; done tasks and tasks still under review are left out.
    keys = [line.split("`")[1] for line in text.splitlines() if line.startswith("`") and " · due " in line]
    assert keys == ["SS-2", "BL-1", "SS-1", "SS-3"]
    assert "Write the search &amp; &lt;ranking&gt; spec" in text and "*overdue*" in text
    assert "Already done" not in text and "Flagged for Omar" not in text
    async with stack.db.reader() as session:
        ids = dict((await session.execute(select(Task.key, Task.id).where(Task.key.like("SS-%")))).all())
    # The DM's buttons, fitting each task's status; the value is the task id.
    assert sorted(buttons(home, f"task_actions:{ids['SS-1']}")) == sorted([
        (ActionId.TASK_DONE, str(ids["SS-1"])), (ActionId.TASK_START, str(ids["SS-1"])),
        (ActionId.TASK_BLOCK, str(ids["SS-1"]))])
    assert {a for a, _ in buttons(home, f"task_actions:{ids['SS-2']}")} == {ActionId.TASK_DONE, ActionId.TASK_BLOCK}
    # My launches: mine as PM and the one I own a task in, with health; not the others.
    assert ":large_orange_circle: At risk *Smart Search home* · 1/7 done · target" in text  # overdue and blocked
    assert ":large_green_circle: On track *Billing home* · 1/2 done" in text and "Not Omar" not in text
    # Approvals: the open flags of my launch, where the review message is, and the OKR submitted to me.
    assert "*Smart Search home* · 2 flagged tasks to review · review message in the plan's thread in <#C0LAUNCH>" \
        in text
    assert "`TEAM-H` Faster &lt;index&gt; &amp; fresher results · from <@U102> · aligns to `CO-H`" in text
    assert "CO-ASK" not in text  # company objectives wait for Admins, not for a PM
    # My OKRs stays, and a PM sees no Roles section.
    assert "CO-H.1" in text and "My OKRs" in text
    assert block(home, "home_role_grant") is None
    assert not [e for b in home["blocks"] for e in b.get("elements", []) if e.get("action_id", "").startswith("role")]
    assert stack.standin.validation_errors == []


async def test_done_on_the_home_updates_the_task_and_rebuilds_the_home(home_stack: Stack) -> None:
    stack = home_stack
    home = await open_home(stack, MEMBER)
    async with stack.db.reader() as session:
        approved = await session.scalar(select(Task).where(Task.key == "SS-7"))
    assert approved is not None and block(home, f"home_task:{approved.id}") is not None
    home = await home_after(stack, MEMBER, lambda: stack.slack.click(MEMBER, action_id=ActionId.TASK_DONE,
                                                                     value=str(approved.id), view=home))
    assert block(home, f"home_task:{approved.id}") is None and "_Nothing assigned to you" in texts(home)
    async with stack.db.reader() as session:
        assert await session.scalar(select(Task.status).where(Task.id == approved.id)) == TaskStatus.DONE
    # The launch's recompute runs as a job after the click (and rebuilds its PM's Home if its health moved):
    # let it finish before the next scenario looks at Home tabs.
    await stack.settle()
    async with stack.db.reader() as session:
        launch = await session.get(Launch, approved.launch_id)
    assert launch is not None and launch.analyzed_changes == launch.changes == 1


async def test_home_publishes_with_the_last_hash_and_rebuilds_once_on_a_conflict(home_stack: Stack) -> None:
    stack = home_stack
    await open_home(stack, MEMBER)
    first = publishes(stack, MEMBER)[-1]
    await open_home(stack, MEMBER)
    second = publishes(stack, MEMBER)[-1]
    assert second.args.get("hash") == first.response["view"]["hash"]
    # Someone else's publish got in between: the stored hash is stale, Slack refuses, the Home is built again.
    for _ in range(100):  # the app stores the hash just after views.publish answers
        async with stack.db.reader() as session:
            stored = await session.scalar(select(User.home_hash).where(User.slack_id == MEMBER))
        if stored == second.response["view"]["hash"]:
            break
        await asyncio.sleep(0.05)
    assert stored == second.response["view"]["hash"]
    async with stack.db.session() as session:
        await session.execute(update(User).where(User.slack_id == MEMBER).values(home_hash="1.stale"))
    before = len(publishes(stack, MEMBER))
    await open_home(stack, MEMBER)
    calls = publishes(stack, MEMBER)[before:]
    assert [(c.args.get("hash"), c.ok) for c in calls] == [("1.stale", False), (None, True)]
    assert calls[0].response.get("error") == "hash_conflict"


async def test_home_stays_within_100_blocks_at_large_data_and_pages(home_stack: Stack) -> None:
    stack = home_stack
    home = await open_home(stack, BIG)
    assert len(home["blocks"]) <= MAX_HOME_BLOCKS
    assert stack.standin.validation_errors == []
    text = texts(home)
    assert "*My open tasks* · 1–8 of 300" in text and "*My launches* · 1–8 of 60" in text
    assert "*Flagged tasks waiting for your review* · 1–8 of 51" in text  # an Admin sees every launch's flags
    assert "_…and 7 more._" in text  # 12 company objectives wait for the Admins: 5 shown
    assert "*Roles · PMs* · 1–10 of 31" in text and block(home, "home_role_grant") is not None
    assert text.count("Check in") <= 20 and "/okr update" in text
    assert buttons(home, "home_more:tasks") == [(ActionId.HOME_MORE, "tasks:2")]

    home = await home_after(stack, BIG, lambda: stack.slack.click(BIG, action_id=ActionId.HOME_MORE,
                                                                  value="tasks:2", view=home))
    assert "*My open tasks* · 9–16 of 300" in texts(home) and home["private_metadata"] == "tasks:2"
    assert "`BIG-2`" in texts(home) and "`BIG-0`" not in texts(home)  # soonest due first, 8 a page
    home = await home_after(stack, BIG, lambda: stack.slack.click(BIG, action_id=ActionId.HOME_MORE,
                                                                  value="launches:2", view=home))
    text = texts(home)
    assert "*My open tasks* · 9–16 of 300" in text and "*My launches* · 9–16 of 60" in text
    assert set(home["private_metadata"].split(",")) == {"tasks:2", "launches:2"}
    assert len(home["blocks"]) <= MAX_HOME_BLOCKS

    # A stale or forged page number shows the last page, with a way back to the first.
    home = await home_after(stack, BIG, lambda: forged_click(stack, BIG, home, {
        "type": "button", "action_id": ActionId.HOME_MORE, "value": "tasks:999"}))
    assert "*My open tasks* · 297–300 of 300" in texts(home)
    assert buttons(home, "home_more:tasks") == [(ActionId.HOME_MORE, "tasks:1")]
    home = await home_after(stack, BIG, lambda: forged_click(stack, BIG, home, {
        "type": "button", "action_id": ActionId.HOME_MORE, "value": "secrets:1"}))
    assert "out of date" in texts(home) and "297–300 of 300" in texts(home)
    home = await home_after(stack, BIG, lambda: stack.slack.click(BIG, action_id=ActionId.HOME_MORE,
                                                                  value="roles:2", view=home))
    assert "*Roles · PMs* · 11–20 of 31" in texts(home)
    assert stack.standin.validation_errors == []


async def test_admin_grants_and_revokes_pm_from_the_home(home_stack: Stack) -> None:
    stack = home_stack
    home = await open_home(stack, ADMIN)
    granted = len(await audit(stack, ADMIN, "role.granted"))
    target_publishes = len(publishes(stack, NEW_PM))
    home = await home_after(stack, ADMIN, lambda: stack.slack.click(ADMIN, action_id=ActionId.ROLE_GRANT_PM,
                                                                    value=NEW_PM, view=home))
    assert "<@U104> is now a PM" in texts(home)
    assert await role_of(stack, stack.standin.team_id, NEW_PM) == Role.PM
    entries = await audit(stack, ADMIN, "role.granted")
    assert len(entries) == granted + 1 and entries[-1].target == f"user:{NEW_PM}"
    assert entries[-1].before == {"role": "member"} and entries[-1].after == {"role": "pm"}
    await stack.standin.wait_for(lambda: len(publishes(stack, NEW_PM)) > target_publishes)  # her Home too

    # Granting again changes nothing and says so.
    home = await home_after(stack, ADMIN, lambda: stack.slack.click(ADMIN, action_id=ActionId.ROLE_GRANT_PM,
                                                                    value=NEW_PM, view=home))
    assert "already a PM" in texts(home) and len(await audit(stack, ADMIN, "role.granted")) == granted + 1

    # Her Revoke button is on the Roles page that lists her.
    while block(home, f"home_pm:{NEW_PM}") is None:
        more = buttons(home, "home_more:roles")[0][1]
        assert more != "roles:1", "the new PM is on no page of the Roles section"
        home = await home_after(stack, ADMIN, turn_page(stack, ADMIN, home, more))
    revoked = len(await audit(stack, ADMIN, "role.revoked"))
    home = await home_after(stack, ADMIN, lambda: stack.slack.click(ADMIN, action_id=ActionId.ROLE_REVOKE_PM,
                                                                    value=NEW_PM, view=home))
    assert "<@U104> is no longer a PM" in texts(home) and block(home, f"home_pm:{NEW_PM}") is None
    assert await role_of(stack, stack.standin.team_id, NEW_PM) == Role.MEMBER
    assert len(await audit(stack, ADMIN, "role.revoked")) == revoked + 1
    assert stack.standin.validation_errors == []


async def test_a_member_sees_no_roles_and_is_refused_with_an_audit_entry(home_stack: Stack) -> None:
    stack = home_stack
    mine = await open_home(stack, MEMBER)
    assert block(mine, "home_role_grant") is None and "Roles" not in texts(mine)
    admin_home = await open_home(stack, ADMIN)
    denials = len(await audit(stack, MEMBER, "access.denied"))
    # The member replays the Admin's picker and a Revoke as their own clicks.
    mine = await home_after(stack, MEMBER, lambda: stack.slack.click(
        MEMBER, action_id=ActionId.ROLE_GRANT_PM, value=OTHER, view=admin_home))
    assert ":no_entry: Only workspace admins" in texts(mine) and block(mine, "home_role_grant") is None
    mine = await home_after(stack, MEMBER, lambda: forged_click(stack, MEMBER, mine, {
        "type": "button", "action_id": ActionId.ROLE_REVOKE_PM, "value": PM}))
    assert ":no_entry: Only workspace admins" in texts(mine)
    assert await role_of(stack, stack.standin.team_id, OTHER) == Role.MEMBER
    assert await role_of(stack, stack.standin.team_id, PM) == Role.PM
    entries = await audit(stack, MEMBER, "access.denied")
    assert len(entries) == denials + 2 and all(e.after["attempted"] == "role.grant" for e in entries[-2:])


async def test_forged_ids_of_another_workspace_do_nothing(home_stack: Stack) -> None:
    stack = home_stack
    home = await open_home(stack, ADMIN)
    home = await home_after(stack, ADMIN, lambda: forged_click(stack, ADMIN, home, {
        "type": "button", "action_id": ActionId.ROLE_REVOKE_PM, "value": STRANGER}))
    assert "not a PM; nothing changed" in texts(home)
    home = await home_after(stack, ADMIN, lambda: forged_click(stack, ADMIN, home, {
        "type": "users_select", "action_id": ActionId.ROLE_GRANT_PM, "selected_user": STRANGER}))
    assert "could not find U0900 in this workspace" in texts(home)
    home = await home_after(stack, ADMIN, lambda: forged_click(stack, ADMIN, home, {
        "type": "button", "action_id": ActionId.ROLE_REVOKE_PM, "value": "<!channel>"}))
    assert "Pick a person first." in texts(home) and "<!channel>" not in texts(home)
    assert await role_of(stack, OTHER_TEAM, STRANGER) == Role.PM
    assert await role_of(stack, stack.standin.team_id, STRANGER) is None


# --- units --------------------------------------------------------------------------------------------------


def test_page_values_parse_and_round_trip() -> None:
    assert parse_page("tasks:2") == (HomeSection.TASKS, 2)
    assert parse_page("roles:0") == (HomeSection.ROLES, 1)
    for bad in ("", "tasks", "tasks:x", "tasks:-1", "other:2", "tasks:99999999", "tasks:2:3"):
        assert parse_page(bad) is None, bad
    pages = HomePages().turned(HomeSection.LAUNCHES, 3).turned(HomeSection.TASKS, 2)
    assert HomePages.decode(pages.encode()) == pages and pages.page(HomeSection.APPROVALS) == 1
    assert HomePages.decode("garbage,,:").encode() == HomePages.decode("tasks:1").encode() == ""


def full_content(*, admin: bool) -> HomeContent:
    """Every section at its fullest, every text at its longest."""
    launches = [Launch(id=n, workspace_id="T1", name="<" * 150, target_date=TODAY, status=LaunchStatus.PLANNING,
                       risks=[], critical_path=[], created_by=ADMIN) for n in range(8)]
    launch = launches[0]
    tasks = [MyTask(task(launch, f"K-{n}", "&<>" * 100, BIG, day(-1), id=n), "&" * 150) for n in range(8)]
    reviews = [PendingReview(n, "<" * 150, 300, "D1", "1.1", "C1", "C1") for n in range(8)]
    objectives = [PendingObjective(Objective(id=n, key="K" * 40, title="&" * 300, owner_id=OTHER), "P" * 40)
                  for n in range(5)]
    users = [User(slack_id=f"U{n:08d}", name="&" * 200, role=Role.PM) for n in range(10)]
    return HomeContent(
        tasks=Page(tasks, 2, 8, 10_000),
        launches=Page([LaunchRow(row, None) for row in launches], 2, 8, 10_000),
        reviews=Page(reviews, 2, 8, 10_000),
        objectives=Page(objectives, 1, 5, 10_000),
        pms=Page(users, 2, 10, 10_000) if admin else None,
    )


def test_the_fullest_home_is_within_the_block_and_text_limits(
    blockkit_validator: Callable[[str, dict[str, Any]], list[str]],
) -> None:
    view = home_view(full_content(admin=True), HomePages().turned(HomeSection.TASKS, 2), TODAY,
                     notice="x" * 5000)
    # The OKR section is at most 23 blocks; with it this Home would still fit.
    assert len(view["blocks"]) + 23 - 3 <= MAX_HOME_BLOCKS
    assert blockkit_validator("home", view) == []
    member = home_view(full_content(admin=False), HomePages(), TODAY)
    assert not any(b.get("block_id", "").startswith("home_pm") for b in member["blocks"])
