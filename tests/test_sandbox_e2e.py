"""End to end: a person in a real browser (Debian's Chromium) uses the sandbox page; the real app answers.

Every click and command on the page reaches the app as a signed request, exactly as Slack sends it; what
the app sends back through the Web API is checked against the Block Kit schema and rendered by the page.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.sandbox.runner import RunningSandbox
from storage.okr_models import Objective
from tests.sandbox_browser import articles, screenshot, send

# The `sandbox`, `browser`, `maya` and `omar` fixtures, shared by the e2e modules (pages open on #launch-smart-search).
pytest_plugins = ["tests.sandbox_fixtures"]

MAYA, OMAR = "U100", "U101"
LAUNCH_CHANNEL = "C0LAUNCH"
OBJECTIVE = "Make search the fastest way to find a launch"
BRIEF = (
    "We are launching Smart Search, a new search experience in our web app that understands natural-language "
    "queries. Engineering builds the search service and the indexing pipeline; QA runs a regression pass and "
    "signs off on the release candidate. Marketing wants a launch blog post and an announcement email. "
    "Support needs help center articles and a training session."
)


async def test_launch_new_modal_field_error_then_the_plan_appears_live(
    sandbox: RunningSandbox, maya: Any, omar: Any
) -> None:
    from playwright.async_api import expect

    await send(maya, "/launch new")
    modal = maya.get_by_role("dialog", name="New launch")
    await expect(modal).to_be_visible()
    await modal.get_by_label("Launch name").fill("Smart Search")
    await modal.get_by_label("Brief").fill(BRIEF)
    await modal.get_by_label("Target date").fill((date.today() - timedelta(days=3)).isoformat())
    for person in ("Omar Haddad", "Lucia Romero", "Jonas Berg", "Ife Adeyemi", "Tom Becker", "Sara Kim", "Ravi Patel"):
        await modal.get_by_label("Team").select_option(label=person)
    await expect(modal.locator(".chip")).to_have_count(8)
    await expect(modal.get_by_label("Launch channel")).to_have_value(LAUNCH_CHANNEL)

    await modal.get_by_role("button", name="Plan it").click()
    # The app answers with response_action errors; the page shows them under the field, keeping what was typed.
    date_error = modal.locator(".bk-input-block.has-error .bk-field-error")
    await expect(date_error).to_have_count(1)
    await expect(date_error).to_contain_text("past")
    await expect(modal.get_by_label("Launch name")).to_have_value("Smart Search")

    await modal.get_by_label("Target date").fill((date.today() + timedelta(days=120)).isoformat())
    await modal.get_by_role("button", name="Plan it").click()
    await expect(modal).to_be_hidden()

    plan = articles(maya, "Launch plan: Smart Search")
    await expect(plan).to_be_visible(timeout=60_000)
    for text in ("Critical path", "Top risks", "Quality score", "Next milestones"):
        await expect(plan).to_contain_text(text)
    await expect(plan.get_by_role("button", name="Show health")).to_be_visible()
    # Omar had the channel open all along: the plan reached his page without a reload.
    await expect(articles(omar, "Launch plan: Smart Search")).to_be_visible()
    assert sandbox.standin.validation_errors == []
    await screenshot(maya, plan, "sandbox-plan.png")


async def test_show_health_button_answers_only_the_person_who_clicked(maya: Any, omar: Any) -> None:
    from playwright.async_api import expect

    plan = articles(maya, "Launch plan: Smart Search")
    await plan.get_by_role("button", name="Show health").click()
    card = articles(maya, "Smart Search: health")
    await expect(card).to_have_count(1)
    await expect(card).to_contain_text("Only visible to you")
    await expect(card).to_contain_text("Progress by team")
    await screenshot(maya, card, "sandbox-health.png")
    await expect(articles(omar, "Launch plan: Smart Search")).to_be_visible()
    await expect(articles(omar, "Smart Search: health")).to_have_count(0)


async def test_launch_status_shows_the_health_card(maya: Any) -> None:
    from playwright.async_api import expect

    await send(maya, "/launch status Smart Search")
    await expect(articles(maya, "Smart Search: health")).to_have_count(2)
    await send(maya, "/launch status Smart Serch")
    await expect(articles(maya, "Did you mean")).to_contain_text("Smart Search")


async def test_app_home_lists_my_launches(sandbox: RunningSandbox, maya: Any) -> None:
    from playwright.async_api import expect

    await maya.get_by_role("button", name="Liftoff — Home").click()
    home = maya.get_by_label("App Home")
    await expect(home).to_contain_text("My launches")
    await expect(home).to_contain_text("Smart Search")
    assert sandbox.standin.home(MAYA) is not None
    await maya.get_by_role("button", name="# launch-smart-search").click()
    await expect(articles(maya, "Launch plan: Smart Search")).to_be_visible()


async def test_okr_question_is_answered_from_the_seeded_tree(maya: Any) -> None:
    from playwright.async_api import expect

    await maya.get_by_role("button", name="# okrs").click()
    await send(maya, "/okr ask which company OKRs are at risk?")
    answer = articles(maya, "at risk or off track")
    await expect(answer).to_be_visible()
    await expect(answer).to_contain_text("Become the launch tool mid-market teams rely on")
    await expect(answer.locator(".mention", has_text="@Dana Whitfield").first).to_be_visible()
    await maya.get_by_role("button", name="# launch-smart-search").click()


async def test_okr_new_objective_searches_its_parent_through_the_app(sandbox: RunningSandbox, maya: Any) -> None:
    from playwright.async_api import expect

    await maya.get_by_role("button", name="# okrs").click()
    await send(maya, "/okr new")
    modal = maya.get_by_role("dialog", name="New objective")
    await modal.get_by_label("Objective", exact=True).fill(OBJECTIVE)
    await modal.get_by_label("Level").select_option(label="Team")
    # "Aligns to" is an external select: what is typed goes to the app (block_suggestion), which answers options.
    await modal.get_by_label("Aligns to").fill("launch tool")
    matches = modal.locator("select[data-external]")
    parent = matches.locator("option", has_text="Become the launch tool mid-market teams rely on")
    await expect(parent).to_have_count(1)
    await matches.select_option(await parent.get_attribute("value"))
    await modal.get_by_role("button", name="Submit").click()
    # A team objective needs its department and team: the app says so under those fields.
    await expect(modal.locator(".bk-input-block.has-error > label")).to_have_text(
        ["Department (optional)", "Team (optional)"]
    )
    await modal.get_by_label("Department (optional)").fill("Engineering")
    await modal.get_by_label("Team (optional)").fill("Search")
    await modal.get_by_role("button", name="Submit").click()
    await expect(modal).to_be_hidden()
    await maya.get_by_role("button", name="Liftoff (app)").click()
    await expect(articles(maya, "for approval by")).to_contain_text("@Dana Whitfield")
    async with sandbox.liftoff.services.db.reader() as session:
        child = await session.scalar(select(Objective).where(Objective.title == OBJECTIVE))
        parent = await session.get(Objective, child.parent_id) if child and child.parent_id else None
    assert parent is not None and parent.title == "Become the launch tool mid-market teams rely on"
    assert sandbox.standin.validation_errors == []
    await maya.get_by_role("button", name="# launch-smart-search").click()


async def test_chat_update_and_views_update_appear_live(sandbox: RunningSandbox, maya: Any) -> None:
    from playwright.async_api import expect

    client = AsyncWebClient(token=sandbox.standin.bot_token, base_url=sandbox.standin.base_url)
    posted = await client.chat_postMessage(channel=LAUNCH_CHANNEL, text="Deploy window opens at *14:00*")
    await expect(articles(maya, "Deploy window opens at 14:00")).to_be_visible()
    await client.chat_update(channel=LAUNCH_CHANNEL, ts=posted["ts"], text="Deploy window moved to *16:00*")
    moved = articles(maya, "Deploy window moved to 16:00")
    await expect(moved).to_contain_text("(edited)")
    await expect(moved.locator("b")).to_have_text("16:00")

    sandbox.standin.register_trigger("e2e-trigger", MAYA)
    opened = await client.views_open(trigger_id="e2e-trigger", view=_modal("Step 1 of 2"))
    await expect(maya.get_by_role("dialog", name="Step 1 of 2")).to_be_visible()
    await client.views_update(view_id=opened["view"]["id"], view=_modal("Step 2 of 2"))
    await expect(maya.get_by_role("dialog", name="Step 2 of 2")).to_be_visible()
    await maya.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    await expect(maya.get_by_role("dialog")).to_have_count(0)


async def test_block_kit_renders_as_slack_shows_it(sandbox: RunningSandbox, maya: Any) -> None:
    from playwright.async_api import expect

    client = AsyncWebClient(token=sandbox.standin.bot_token, base_url=sandbox.standin.base_url)
    await client.chat_postMessage(channel=LAUNCH_CHANNEL, text="kitchen sink", blocks=_kitchen_sink())
    assert sandbox.standin.validation_errors == []
    message = articles(maya, "Release train")
    await expect(message).to_be_visible()
    await expect(message.locator(".bk-header")).to_have_text("Release train")
    await expect(message.locator("b").first).to_have_text("bold")
    await expect(message.locator("i").first).to_have_text("italic")
    await expect(message.locator("s").first).to_have_text("struck")
    await expect(message.locator("code").first).to_have_text("code")
    await expect(message.get_by_role("link", name="the runbook")).to_have_attribute("href", "https://example.com/run")
    await expect(message.locator(".mention").filter(has_text="@Omar Haddad").first).to_be_visible()
    await expect(message.locator(".mention").filter(has_text="#launch-smart-search").first).to_be_visible()
    await expect(message).to_contain_text("🚀")
    await expect(message.locator(".bk-fields > div")).to_have_count(2)
    await expect(message.locator(".bk-divider")).to_have_count(1)
    await expect(message.locator("img[alt='launch chart']")).to_have_count(1)
    await expect(message.locator(".bk-context img")).to_have_count(1)
    await expect(message.get_by_role("button", name="Approve")).to_have_class(re.compile("primary"))
    await expect(message.get_by_role("button", name="Reject")).to_have_class(re.compile("danger"))
    await expect(message.locator("select[data-action-id='pick_option'] option")).to_have_count(3)
    await expect(message.locator("select[data-action-id='pick_user'] option", has_text="Sara Kim")).to_have_count(1)
    await expect(message.locator("select[data-action-id='pick_channel'] option", has_text="# okrs")).to_have_count(1)
    await expect(message.locator("input[type=date][data-action-id='pick_date']")).to_have_value("2030-01-15")
    await expect(message.get_by_role("button", name="More actions")).to_have_count(2)
    await expect(message.locator("ul.bk-rich-list li")).to_have_count(2)
    await expect(message.locator("blockquote")).to_contain_text("quoted")
    await expect(message.locator("pre")).to_contain_text("make run")
    await expect(message.locator(".bk-unsupported")).to_have_count(0)


async def test_unknown_blocks_and_elements_show_a_visible_placeholder(sandbox: RunningSandbox, maya: Any) -> None:
    from playwright.async_api import expect

    blocks = [
        {"type": "section", "block_id": "s1", "text": {"type": "mrkdwn", "text": "Placeholder check"},
          "accessory": {"type": "hologram_picker", "action_id": "h"}},
        {"type": "weather_forecast", "block_id": "w1"},
    ]
    sandbox.standin.message_store.post(LAUNCH_CHANNEL, text="placeholders", blocks=blocks)
    sandbox.server.feed.changed()
    message = articles(maya, "Placeholder check")
    await expect(message.locator(".bk-unsupported")).to_have_count(2)
    await expect(message).to_contain_text("[unsupported: hologram_picker]")
    await expect(message).to_contain_text("[unsupported: weather_forecast]")


async def test_modal_inputs_render_every_kind_and_check_required_fields(sandbox: RunningSandbox, maya: Any) -> None:
    from playwright.async_api import expect

    client = AsyncWebClient(token=sandbox.standin.bot_token, base_url=sandbox.standin.base_url)
    sandbox.standin.register_trigger("e2e-inputs", MAYA)
    await client.views_open(trigger_id="e2e-inputs", view=_input_modal())
    assert sandbox.standin.validation_errors == []
    modal = maya.get_by_role("dialog", name="Every input")
    await expect(modal).to_be_visible()
    await expect(modal.get_by_label("Summary")).to_have_value("first line")
    assert await modal.get_by_label("Notes").evaluate("node => node.tagName") == "TEXTAREA"
    await expect(modal.get_by_label("Confidence")).to_have_attribute("type", "number")
    await expect(modal.get_by_label("Due")).to_have_value("2030-02-01")
    await expect(modal.get_by_label("Owner")).to_have_value(OMAR)
    await expect(modal.get_by_label("Reviewers")).to_be_visible()
    await expect(modal.get_by_label("Where")).to_have_value(LAUNCH_CHANNEL)
    await expect(modal.get_by_label("Priority")).to_have_value("high")
    await expect(modal.get_by_role("checkbox", name="Needs legal")).to_be_checked()
    await expect(modal.get_by_role("radio", name="Private")).to_be_visible()
    await expect(modal.get_by_text("(optional)")).to_have_count(1)
    await modal.get_by_label("Summary").fill("")
    await modal.get_by_role("button", name="Save").click()
    # Like Slack's client, the page does not send a form with a required field left empty.
    # Summary was emptied; Confidence, Reviewers and Visibility never had a value.
    await expect(modal.locator(".bk-field-error", has_text="required")).to_have_count(4)
    await expect(modal.locator(".bk-input-block.has-error > label")).to_have_text(
        ["Summary", "Confidence", "Reviewers", "Visibility"]
    )
    await modal.get_by_role("button", name="Cancel").click()
    await expect(maya.get_by_role("dialog")).to_have_count(0)


def _modal(title: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f"This is *{title}*"}}],
    }


def _option(value: str, text: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text}, "value": value}


def _kitchen_sink() -> list[dict[str, Any]]:
    mrkdwn = ("*bold* _italic_ ~struck~ `code` <https://example.com/run|the runbook> <@U101> <#C0LAUNCH> "
              ":rocket: snake_case_stays")
    return [
        {"type": "header", "text": {"type": "plain_text", "text": "Release train"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn},
         "accessory": {"type": "overflow", "action_id": "more",
                       "options": [_option("a", "Edit"), _option("b", "Mute")]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Owner*\n<@U101>"},
                                       {"type": "mrkdwn", "text": "*Due*\nFriday"}],
         "accessory": {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "avatar"}},
        {"type": "divider"},
        {"type": "context", "elements": [{"type": "image", "image_url": "https://example.com/i.png", "alt_text": "i"},
                                         {"type": "mrkdwn", "text": "made by Liftoff"}]},
        {"type": "actions", "elements": [
            {"type": "button", "action_id": "approve", "style": "primary", "value": "1",
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": "reject", "style": "danger", "value": "1",
             "text": {"type": "plain_text", "text": "Reject"}},
            {"type": "static_select", "action_id": "pick_option", "placeholder": {"type": "plain_text", "text": "Pick"},
             "options": [_option("x", "X-ray"), _option("y", "Yankee")]},
            {"type": "users_select", "action_id": "pick_user", "placeholder": {"type": "plain_text", "text": "Who"}},
            {"type": "conversations_select", "action_id": "pick_channel",
             "placeholder": {"type": "plain_text", "text": "Where"}},
            {"type": "datepicker", "action_id": "pick_date", "initial_date": "2030-01-15"},
            {"type": "overflow", "action_id": "more2", "options": [_option("c", "Archive"), _option("d", "Copy")]},
        ]},
        {"type": "image", "image_url": "https://example.com/chart.png", "alt_text": "launch chart",
         "title": {"type": "plain_text", "text": "Burn-down"}},
        {"type": "rich_text", "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "Steps "},
                                                       {"type": "user", "user_id": "U104"}]},
            {"type": "rich_text_list", "style": "bullet", "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": "one", "style": {"bold": True}}]},
                {"type": "rich_text_section", "elements": [{"type": "text", "text": "two"}]},
            ]},
            {"type": "rich_text_quote", "elements": [{"type": "text", "text": "quoted"}]},
            {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "make run"}]},
        ]},
    ]


def _input(block_id: str, label: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
            "element": {"action_id": block_id, **element}, **extra}


def _input_modal() -> dict[str, Any]:
    options = [_option("high", "High"), _option("low", "Low")]
    return {
        "type": "modal",
        "callback_id": "e2e_inputs",
        "title": {"type": "plain_text", "text": "Every input"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _input("summary", "Summary", {"type": "plain_text_input", "initial_value": "first line"}),
            _input("notes", "Notes", {"type": "plain_text_input", "multiline": True}, optional=True),
            _input("confidence", "Confidence", {"type": "number_input", "is_decimal_allowed": True}),
            _input("due", "Due", {"type": "datepicker", "initial_date": "2030-02-01"}),
            _input("owner", "Owner", {"type": "users_select", "initial_user": OMAR}),
            _input("reviewers", "Reviewers", {"type": "multi_users_select"}),
            _input("where", "Where", {"type": "conversations_select", "initial_conversation": LAUNCH_CHANNEL}),
            _input("priority", "Priority", {"type": "static_select", "options": options, "initial_option": options[0]}),
            _input("flags", "Flags", {"type": "checkboxes", "options": [_option("legal", "Needs legal")],
                                      "initial_options": [_option("legal", "Needs legal")]}),
            _input("visibility", "Visibility",
                   {"type": "radio_buttons", "options": [_option("public", "Public"), _option("private", "Private")]}),
        ],
    }
