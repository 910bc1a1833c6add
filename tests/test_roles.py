"""Roles through signed requests: denials are explained and audited, admins grant PM, forged payloads do nothing,
and a failing PII check blocks the launch, tells the PM and alerts an admin while nothing else is posted."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bot.standin.render import render_blocks
from bot.standin.state import view_state
from storage.audit import AuditEntry
from storage.enums import LaunchStatus, Role
from storage.models import Launch, User
from tests.support import Stack
from tests.test_launch_scenarios import CHANNEL, brief_values, count, open_brief_modal

ADMIN = "U100"  # maya: a Slack workspace admin
MEMBER = "U102"  # lucia
NEW_PM = "U104"  # sara


async def command(stack: Stack, user: str, text: str) -> str:
    before = len(stack.standin.ephemerals(user))
    ack = await stack.slack.slash_command(user, "/launch", text, channel_id=CHANNEL)
    assert ack.status == 200 and ack.in_time
    await stack.standin.wait_for(lambda: len(stack.standin.ephemerals(user)) > before)
    reply = stack.standin.ephemerals(user)[-1]
    return reply.get("text", "") + render_blocks(reply.get("blocks") or [])


async def audit_actions(stack: Stack, actor: str) -> list[str]:
    async with stack.db.reader() as session:
        return list(await session.scalars(select(AuditEntry.action).where(AuditEntry.actor == actor)))


async def test_a_member_cannot_start_a_launch_and_is_told_why(stack: Stack) -> None:
    denials = (await audit_actions(stack, MEMBER)).count("access.denied")
    reply = await command(stack, MEMBER, "new")
    assert "Only PMs and admins" in reply and "/launch admin grant" in reply
    assert stack.standin.calls_to("views.open") == [] or all(
        c.args.get("trigger_id") for c in stack.standin.calls_to("views.open")
    )
    assert (await audit_actions(stack, MEMBER)).count("access.denied") == denials + 1


async def test_a_forged_submission_by_a_member_stores_nothing(stack: Stack) -> None:
    view = await open_brief_modal(stack)  # opened by the admin; a member replays its submission as their own
    before = await count(stack, Launch)
    payload = {
        "type": "view_submission",
        "team": {"id": stack.standin.team_id, "domain": "x"},
        "user": {"id": MEMBER, "team_id": stack.standin.team_id},
        "api_app_id": stack.standin.app_id,
        "view": {**view, "state": {"values": view_state(view, brief_values(f"Forged {stack.backend}"), require=True)}},
    }
    ack = await stack.slack.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
    assert ack.json is not None and ack.json["response_action"] == "errors"
    assert "Only PMs and admins" in ack.json["errors"]["name"]
    assert await count(stack, Launch) == before


async def test_admin_grants_and_revokes_pm(stack: Stack) -> None:
    assert "Only workspace admins" in await command(stack, MEMBER, f"admin grant <@{NEW_PM}>")
    assert "is now a PM" in await command(stack, ADMIN, f"admin grant <@{NEW_PM}|sara>")
    assert "already a PM" in await command(stack, ADMIN, f"admin grant {NEW_PM}")
    async with stack.db.reader() as session:
        user = await session.scalar(select(User).where(User.slack_id == NEW_PM))
    assert user is not None and user.role == Role.PM
    # The new PM may now start a launch: the brief modal opens.
    opened = len(stack.standin.calls_to("views.open"))
    await stack.slack.slash_command(NEW_PM, "/launch", "new", channel_id=CHANNEL)
    await stack.standin.wait_for(lambda: len(stack.standin.calls_to("views.open")) > opened)
    assert "no longer a PM" in await command(stack, ADMIN, f"admin revoke <@{NEW_PM}>")
    assert "Only PMs and admins" in await command(stack, NEW_PM, "new")
    assert "mention them" in await command(stack, ADMIN, "admin grant @sara")
    assert "Usage" in await command(stack, ADMIN, "admin frobnicate")
    actions = await audit_actions(stack, ADMIN)
    assert "role.granted" in actions and "role.revoked" in actions


async def test_a_forged_button_naming_an_unknown_launch_does_nothing(stack: Stack) -> None:
    fake: dict[str, Any] = {
        "ts": "1.1",
        "channel": CHANNEL,
        "blocks": [
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "launch_show_health",
                        "text": {"type": "plain_text", "text": "Health"},
                        "value": "999999",
                    }
                ],
            }
        ],
    }
    before = len(stack.standin.calls_to("response_url"))
    ack = await stack.slack.click(MEMBER, action_id="launch_show_health", value="999999", message=fake)
    assert ack.status == 200
    await stack.standin.wait_for(lambda: len(stack.standin.calls_to("response_url")) > before)
    assert "no longer exists" in stack.standin.calls_to("response_url")[-1].args.get("text", "")


async def test_a_failing_pii_check_blocks_the_launch_and_alerts_an_admin(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    if stack.backend != "sqlite-inline":
        pytest.skip("the failure is forced by monkeypatching in-process; the RQ worker is another process")
    from agents import guardrail

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise guardrail.GuardrailError("The PII check could not run, so nothing was sent.", error_id="forced")

    monkeypatch.setattr(guardrail, "redact", broken)
    view = await open_brief_modal(stack)
    name = f"Blocked {stack.backend}"
    channel_before = len(stack.standin.messages(CHANNEL))
    posts_before = len(stack.standin.calls_to("chat.postMessage"))
    await stack.slack.submit_view(ADMIN, view, brief_values(name))
    await stack.settle()
    async with stack.db.reader() as session:
        launch = await session.scalar(select(Launch).where(Launch.name == name))
    assert launch is not None and launch.status == LaunchStatus.FAILED and "PII" in (launch.error or "")
    assert len(stack.standin.messages(CHANNEL)) == channel_before
    posts = stack.standin.calls_to("chat.postMessage")[posts_before:]
    texts = [render_blocks(p.args.get("blocks") or []) for p in posts]
    dm = stack.standin.directory.dm_id(ADMIN)
    assert all(p.args["channel"] == dm for p in posts)
    assert any("could not plan" in t for t in texts) and any("Admin alert" in t for t in texts)
    assert len(posts) == 2
    assert "launch.failed" in await audit_actions(stack, "liftoff")
