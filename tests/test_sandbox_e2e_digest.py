"""End to end, the weekly digest DM: a seeded person (Grace Liu, Platform Lead in America/Toronto, owner of key
results in the sample tree) on a freshly planned launch moves her digest to this hour from the App Home's
Notification settings; the digest sweep (bot/digest_sweep.py) runs over a window ending now, the notification job
delivers it, and her DM with the app shows it live: her overdue tasks, the launch, and the key results waiting for a
check-in, whose button opens the check-in modal.

Shares the sandbox and the browser with the other end-to-end modules (tests/sandbox_fixtures.py); it adds a launch
in #general and one person's settings, which nothing else looks at.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from agents import orchestrator
from agents.digest import CHECKIN_EVERY, digest_due_between
from agents.notification import zone
from bot.digest_sweep import queue_digests
from bot.jobs import JobName
from bot.sandbox.runner import RunningSandbox
from bot.sandbox.workspace import GENERAL, TEAM_ID
from bot.scheduler import refresh_people
from storage.enums import TaskStatus
from storage.launches import LaunchRepository
from storage.models import Task, User, utcnow
from storage.notifications import NotificationRepository
from storage.okr_enums import OkrStatus
from storage.okr_models import KeyResult
from storage.scope import Scope
from tests.sandbox_browser import articles, person_page

pytest_plugins = ["tests.sandbox_fixtures"]  # the shared `sandbox` and `browser`

GRACE = "U112"
LAUNCH = "Public Status Page"
BRIEF = ("We are launching a public status page for the platform. Engineering builds the status service and "
         "the alerting behind it; QA tests it before release.")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@pytest.fixture(scope="module")
async def grace(browser: Any, sandbox: RunningSandbox) -> AsyncIterator[Any]:
    """Grace's page, open on her DM with the app."""
    async with person_page(browser, sandbox, GRACE, sandbox.standin.directory.dm_id(GRACE)) as page:
        yield page


async def plan_launch_with_grace(sandbox: RunningSandbox) -> None:
    """A launch planned by the real planner (templates) three weeks out: Grace leads it, so her first tasks are
    already overdue."""
    db = sandbox.liftoff.services.db
    today = date.today()
    async with db.session() as session:
        launch = await LaunchRepository(session, Scope(TEAM_ID)).create_draft(
            name=LAUNCH, brief=BRIEF, target_date=today + timedelta(days=21), launch_type="web_feature",
            channel_id=GENERAL, created_by=GRACE,
            members=[("Grace Liu", "eng_lead", GRACE), ("Jonas Berg", "engineer", "U103")])
    assert await orchestrator.plan_launch(db, TEAM_ID, launch.id, today=today) == "planned"


async def expected(sandbox: RunningSandbox, local_today: date) -> tuple[list[str], list[KeyResult]]:
    """From the database: Grace's overdue task titles (digest order) and her key results waiting for a check-in."""
    async with sandbox.liftoff.services.db.reader() as session:
        tasks = list(await session.scalars(select(Task).where(
            Task.workspace_id == TEAM_ID, Task.assignee_slack_id == GRACE, Task.status != TaskStatus.DONE,
            Task.due < local_today).order_by(Task.due, Task.id)))
        krs = list(await session.scalars(select(KeyResult).where(
            KeyResult.workspace_id == TEAM_ID, KeyResult.owner_id == GRACE).order_by(KeyResult.key)))
    waiting = [kr for kr in krs if kr.status != OkrStatus.DONE
               and (kr.last_checkin_on is None or kr.last_checkin_on <= local_today - CHECKIN_EVERY)]
    return [t.title for t in tasks], waiting


async def test_weekly_digest_reaches_the_dm_and_its_check_in_button_opens_the_modal(
    sandbox: RunningSandbox, grace: Any
) -> None:
    from playwright.async_api import expect

    services = sandbox.liftoff.services
    await plan_launch_with_grace(sandbox)
    # The scheduler's daily job learns everyone's timezone from Slack (users.list); the sandbox's first tick runs
    # it a minute after start, so here it runs now.
    await refresh_people(services)

    # Grace moves her digest to this hour of today, her time, from the App Home.
    await grace.get_by_role("button", name="Liftoff — Home").click()
    home = grace.get_by_label("App Home")
    await expect(home.get_by_role("button", name="Notification settings")).to_be_visible()
    async with services.db.reader() as session:
        tz_name = await session.scalar(select(User.tz).where(User.workspace_id == TEAM_ID, User.slack_id == GRACE))
    assert tz_name == "America/Toronto"
    local_now = utcnow().astimezone(zone(tz_name))
    await home.get_by_role("button", name="Notification settings").click()
    settings = grace.get_by_role("dialog", name="Notifications")
    await settings.get_by_label("Weekly digest day").select_option(label=WEEKDAYS[local_now.weekday()])
    await settings.get_by_label("Weekly digest time").select_option(value=str(local_now.hour))
    await settings.get_by_role("button", name="Save").click()
    await expect(settings).to_be_hidden()
    await expect(home).to_contain_text("Notification settings saved.")
    async with services.db.reader() as session:
        prefs = await NotificationRepository(session, Scope(TEAM_ID)).preferences(GRACE)
    assert (prefs.digest_weekday, prefs.digest_hour) == (local_now.weekday(), local_now.hour)

    # The sweep over a window ending now finds her digest due at the top of this hour and queues it once.
    now = utcnow()
    (due_at, week), = digest_due_between(prefs, zone(tz_name), now - timedelta(hours=2), now)
    report = await queue_digests(services.db, TEAM_ID, due_at - timedelta(seconds=1), now)
    assert report.due >= 1 and report.queued >= 1
    again = await queue_digests(services.db, TEAM_ID, due_at - timedelta(seconds=1), now)
    assert again.queued == 0 and again.already == again.due >= 1
    await services.jobs.enqueue(JobName.DELIVER_NOTIFICATIONS, TEAM_ID)

    await grace.get_by_role("button", name="Liftoff (app)").click()
    digest = articles(grace, f"Your week · {week}")
    await expect(digest).to_have_count(1)
    overdue, waiting = await expected(sandbox, due_at.astimezone(zone(tz_name)).date())
    assert overdue and waiting
    await expect(digest.locator("[data-block-id='digest_overdue']")).to_contain_text(overdue[0])
    await expect(digest.locator("[data-block-id='digest_launches']")).to_contain_text(LAUNCH)
    await expect(digest).to_contain_text("Key results waiting for a check-in")
    for kr in waiting[:5]:
        line = digest.locator(f"[data-block-id='digest_kr:{kr.id}']")
        await expect(line).to_contain_text(kr.key)
        await expect(line.get_by_role("button", name="Check in")).to_be_visible()
    await expect(digest.locator(".bk-unsupported")).to_have_count(0)
    assert sandbox.standin.validation_errors == []

    # The button opens the check-in modal for that key result.
    first = waiting[0]
    await digest.locator(f"[data-block-id='digest_kr:{first.id}']").get_by_role("button", name="Check in").click()
    modal = grace.get_by_role("dialog", name="Check in")
    await expect(modal).to_be_visible()
    await expect(modal).to_contain_text(f"{first.key} · {first.title}")
    await modal.get_by_role("button", name="Cancel").click()
    await expect(grace.get_by_role("dialog")).to_have_count(0)
