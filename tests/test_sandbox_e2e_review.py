"""End to end, the surfaces that came with the review loop: a person in a real browser reviews flagged tasks in
the plan's thread, updates tasks from the App Home (a button, a modal opened from the Home, paging) and uses the
health card's buttons. One launch in #launch-mobile-v2 planned with a small team, so several tasks are flagged.

Shares the sandbox and the browser with tests/test_sandbox_e2e.py (tests/sandbox_fixtures.py is loaded as a
plugin); nothing here depends on what that module did.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.sandbox.runner import RunningSandbox
from bot.sandbox.workspace import SLASH_COMMANDS
from tests.sandbox_browser import articles, send, thread_articles

# The `sandbox`, `browser`, `maya` and `omar` fixtures, shared by the e2e modules.
pytest_plugins = ["tests.sandbox_fixtures"]

CHANNEL = "C0MOBILE"
LAUNCH = "Mobile App v2"
# Two people for a launch that needs a designer: the designer's tasks have no owner, so they are flagged.
TEAM = ("Omar Haddad", "Kenji Mori")
BRIEF = (
    "We are launching Mobile App v2, a redesigned iOS and Android app with offline mode. Engineering builds "
    "offline sync and QA runs a regression pass on both platforms. Marketing wants a launch blog post and an "
    "app store listing update."
)


@pytest.fixture(scope="module")
def conversation() -> str:
    """The shared `maya` and `omar` pages of this module open on #launch-mobile-v2."""
    return CHANNEL


def review_buttons(review: Any, key: str) -> Any:
    """The Approve / Reject / Edit row right under the flagged task `key` in the review message."""
    return review.locator(f"[data-block-id='review_item:{key}'] + .bk-block")


def home_task(home: Any, title: str) -> Any:
    """A task line in the Home's "My open tasks" (of this module's launch), by its title."""
    return home.locator("[data-block-id^='home_task:']").filter(has_text=LAUNCH).filter(has_text=title)


def home_task_buttons(home: Any, title: str) -> Any:
    return home_task(home, title).locator("xpath=following-sibling::*[1]")


async def test_plan_with_flagged_tasks_puts_the_review_message_in_its_thread(
    sandbox: RunningSandbox, maya: Any, omar: Any
) -> None:
    from playwright.async_api import expect

    await send(maya, "/launch new")
    modal = maya.get_by_role("dialog", name="New launch")
    await modal.get_by_label("Launch name").fill(LAUNCH)
    await modal.get_by_label("Brief").fill(BRIEF)
    await modal.get_by_label("Target date").fill((date.today() + timedelta(days=120)).isoformat())
    for person in TEAM:
        await modal.get_by_label("Team").select_option(label=person)
    await expect(modal.get_by_label("Launch channel")).to_have_value(CHANNEL)
    await modal.get_by_role("button", name="Plan it").click()
    await expect(modal).to_be_hidden()

    plan = articles(maya, f"Launch plan: {LAUNCH}")
    await expect(plan).to_be_visible(timeout=60_000)
    await expect(plan).to_contain_text("in review")
    # The review message is a reply in the plan's thread: the channel shows "1 reply", which opens the thread.
    await expect(articles(maya, "Review flagged tasks")).to_have_count(0)
    for page in (maya, omar):
        await articles(page, f"Launch plan: {LAUNCH}").get_by_role("button", name="1 reply").click()
        review = thread_articles(page, f"Review flagged tasks: {LAUNCH}")
        await expect(review).to_contain_text("4 open")
        await expect(review.get_by_role("button", name="Approve", exact=True)).to_have_count(4)
    # The pane starts with the plan itself, as Slack's thread view does.
    await expect(thread_articles(maya, f"Launch plan: {LAUNCH}")).to_have_count(1)
    assert sandbox.standin.validation_errors == []


async def test_approve_one_and_reject_another_updates_the_review_message_in_place(
    sandbox: RunningSandbox, maya: Any, omar: Any
) -> None:
    from playwright.async_api import expect

    review = thread_articles(maya, f"Review flagged tasks: {LAUNCH}")
    await review_buttons(review, "ENG-4").get_by_role("button", name="Approve").click()
    decided = review.locator("[data-block-id='review_decided:ENG-4']")
    await expect(decided).to_contain_text("Approved by @Maya Chen")
    # Reject asks first (a confirm dialog, which the page accepts), then removes the task from the plan.
    await review_buttons(review, "MKT-4").get_by_role("button", name="Reject").click()
    await expect(review.locator("[data-block-id='review_decided:MKT-4']")).to_contain_text(
        "Rejected and removed by @Maya Chen"
    )
    await expect(review.locator("[data-block-id='review_item:MKT-4'] s")).to_contain_text("Design the launch graphics")
    await expect(review).to_contain_text("2 open · 1 approved · 1 rejected")
    # One message, updated in place (chat.update), for everyone watching the thread.
    await expect(review).to_have_count(1)
    await expect(review).to_contain_text("(edited)")
    seen_by_omar = thread_articles(omar, f"Review flagged tasks: {LAUNCH}")
    await expect(seen_by_omar.locator("[data-block-id='review_decided:ENG-4']")).to_contain_text("@Maya Chen")
    await expect(seen_by_omar).to_contain_text("2 open · 1 approved · 1 rejected")
    await expect(review_buttons(seen_by_omar, "ENG-3").get_by_role("button", name="Approve")).to_be_visible()

    # Edit opens a modal from the thread; saving it with an owner decides the task too.
    await review_buttons(review, "ENG-3").get_by_role("button", name="Edit").click()
    modal = maya.get_by_role("dialog", name="Edit flagged task")
    await expect(modal.get_by_label("Title")).to_have_value("Design: the features in scope")
    await modal.get_by_label("Owner").select_option(label="Omar Haddad")
    await modal.get_by_role("button", name="Save").click()
    await expect(modal).to_be_hidden()
    await expect(review.locator("[data-block-id='review_decided:ENG-3']")).to_contain_text("Edited by @Maya Chen")
    await expect(review).to_contain_text("1 open · 1 approved · 1 rejected · 1 edited")
    await expect(maya.locator(".bk-unsupported")).to_have_count(0)
    assert sandbox.standin.validation_errors == []
    await maya.get_by_role("button", name="Close thread").click()
    await expect(maya.get_by_role("complementary", name="Thread")).to_be_hidden()


async def test_done_and_blocked_from_the_app_home_rebuild_it(sandbox: RunningSandbox, maya: Any) -> None:
    from playwright.async_api import expect

    await maya.get_by_role("button", name="Liftoff — Home").click()
    home = maya.get_by_label("App Home")
    await expect(home).to_contain_text("My open tasks")
    await expect(home.locator("[data-block-id^='home_review:']").filter(has_text=LAUNCH)).to_contain_text(
        "1 flagged task"
    )
    kickoff = "Kick off the launch with the team"
    await expect(home_task(home, kickoff)).to_have_count(1)
    await home_task_buttons(home, kickoff).get_by_role("button", name="Done").click()
    # views.publish rebuilt the Home: the task is done, so it left "My open tasks".
    await expect(home_task(home, kickoff)).to_have_count(0)

    # Blocked… opens a modal from the Home; the reason is required, and the Home shows the task blocked after.
    goals = "Agree launch goals and success metrics"
    await home_task_buttons(home, goals).get_by_role("button", name="Blocked…").click()
    modal = maya.get_by_role("dialog", name="Blocked task")
    await expect(modal).to_contain_text(goals)
    await modal.get_by_role("button", name="Save").click()
    await expect(modal.locator(".bk-field-error", has_text="required")).to_have_count(1)
    await modal.get_by_label("Why is it blocked?").fill("Waiting for the metrics from the data team")
    await modal.get_by_role("button", name="Save").click()
    await expect(modal).to_be_hidden()
    await expect(home_task(home, goals)).to_contain_text("blocked")
    await expect(home.locator(".bk-unsupported")).to_have_count(0)
    await expect(home_task_buttons(home, goals).get_by_role("button", name="Resume")).to_be_visible()
    await expect(home_task_buttons(home, goals).get_by_role("button", name="Change reason…")).to_be_visible()

    # "Show more" turns the page of "My open tasks".
    title = home.locator("[data-block-id='home_title:tasks']")
    await expect(title).to_contain_text("1–8 of")
    await home.get_by_role("button", name="Show more").first.click()
    await expect(title).to_contain_text("9–16 of")
    assert sandbox.standin.validation_errors == []
    await maya.get_by_role("button", name="# launch-mobile-v2").click()


async def test_launch_status_health_card_shares_to_the_channel_and_offers_a_replan(
    sandbox: RunningSandbox, maya: Any, omar: Any
) -> None:
    from playwright.async_api import expect

    await send(maya, f"/launch status {LAUNCH}")
    card = articles(maya, f"{LAUNCH}: health")
    await expect(card).to_have_count(1)
    await expect(card).to_contain_text("Only visible to you")
    await expect(card).to_contain_text("Progress by team")
    await expect(card.locator(".bk-unsupported")).to_have_count(0)
    await expect(articles(omar, f"{LAUNCH}: health")).to_have_count(0)

    await card.get_by_role("button", name="Re-plan").click()
    replan = maya.get_by_role("dialog", name="Re-plan launch")
    await expect(replan).to_be_visible()
    await replan.get_by_role("button", name="Cancel").click()
    await expect(replan).to_be_hidden()

    await card.get_by_role("button", name="Share to channel").click()
    shared = articles(omar, f"{LAUNCH}: health")
    await expect(shared).to_have_count(1)
    await expect(shared).not_to_contain_text("Only visible to you")
    await expect(articles(maya, "Shared the health card")).to_be_visible()
    assert sandbox.standin.validation_errors == []


def test_the_composer_hints_are_the_manifests_slash_commands() -> None:
    """The sandbox's command hints say what Slack would show from manifest.yml, so a new subcommand shows up."""
    manifest = yaml.safe_load((Path(__file__).resolve().parents[1] / "manifest.yml").read_text(encoding="utf-8"))
    declared = {c["command"]: (c["usage_hint"], c["description"]) for c in manifest["features"]["slash_commands"]}
    assert {command: (usage, description) for command, usage, description in SLASH_COMMANDS} == declared
