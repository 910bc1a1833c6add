"""The health card: complete, within Slack's limits at 300 tasks, reachable without a name or by a near miss,
and shareable to the launch channel."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from agents.health import launch_health
from blocks.health_card import health_card
from blocks.ids import ActionId
from bot.standin.render import render_blocks
from storage.enums import LaunchStatus, TaskStatus
from storage.llm_usage import UsageSummary
from storage.models import Launch, Task
from tests.support import Stack
from tests.test_task_updates import PM, answer, command, planned_in

TODAY = date(2026, 11, 23)
Validator = Callable[[str, dict[str, Any]], list[str]]


def big_launch(size: int = 300) -> tuple[Launch, list[Task]]:
    """The worst a card can meet: long names and reasons, many teams, everything late or blocked."""
    launch = Launch(
        id=7, workspace_id="T1", name="L" * 150, target_date=TODAY + timedelta(days=40), status=LaunchStatus.PLANNED,
        version=2, critical_path=[f"K-{i}" for i in range(0, size, 3)], critical_path_days=87.5, quality_score=0.81,
        created_by=PM, channel_id="C0LAUNCH",
        risks=[{"code": f"risk_{i}", "severity": ["high", "medium", "low"][i % 3], "evidence": "e<vidence> " * 60}
               for i in range(30)],
    )
    tasks = []
    for i in range(size):
        status = [TaskStatus.DONE, TaskStatus.BLOCKED, TaskStatus.IN_PROGRESS, TaskStatus.TODO][i % 4]
        tasks.append(Task(
            id=i + 1, workspace_id="T1", launch_id=7, key=f"K-{i}", title=f"Task {i} " + "t_i*tle " * 40,
            team=f"team {i % 40} " + "x" * 60, role="engineer", assignee="A very long person name " * 8,
            assignee_slack_id=None if i % 2 else f"U{i:04d}", estimate_days=3, start=TODAY - timedelta(days=20),
            due=TODAY - timedelta(days=1 + i % 9), priority="P1", confidence=0.9, flags=[], status=status,
            milestone=i % 25 == 0, slack_days=(i % 7) / 2, position=i,
            blocked_reason="waiting on\n_legal_ <and> *procurement* " * 40 if status == TaskStatus.BLOCKED else None,
        ))
    return launch, tasks


def title(message: dict[str, Any]) -> str:
    first = message["blocks"][0]
    return first["text"]["text"] if first["type"] == "header" else ""


def sections(card: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in card["blocks"] if b["type"] == "section" and "text" in b]


def test_the_card_of_a_300_task_launch_fits_slack(blockkit_validator: Validator) -> None:
    launch, tasks = big_launch(300)
    usage = UsageSummary(calls=3, total_tokens=48_000, cost_usd=0.4321, planned_by="claude-sonnet-4-6")
    card = health_card(launch_health(launch, tasks, TODAY), usage)
    assert blockkit_validator("message", card) == []
    assert len(card["blocks"]) <= 50
    assert all(len(text) <= 3000 for text in sections(card))
    text = render_blocks(card["blocks"])
    for heading in ("Progress", "Progress by team", "Critical path", "Top risks", "Overdue", "Blocked",
                    "Next milestones", "Quality score", "LLM cost"):
        assert heading in text, heading
    assert "75 of 300 done" in text and "81%" in text and "$0.43" in text and "claude-sonnet-4-6" in text
    assert "more teams" in text and "…and" in text and "waiting on" in text and "d slack" in text
    actions = [b for b in card["blocks"] if b["type"] == "actions"]
    assert actions[0]["elements"][0]["action_id"] == ActionId.SHARE_HEALTH
    assert actions[0]["elements"][0]["value"] == "7"
    shared = health_card(launch_health(launch, tasks, TODAY), usage, shared_by=PM)
    assert blockkit_validator("message", shared) == []
    assert not any(b["type"] == "actions" for b in shared["blocks"]) and f"Shared by <@{PM}>" in str(shared)


def test_the_card_lists_blocked_work_with_owner_and_reason(blockkit_validator: Validator) -> None:
    launch, tasks = big_launch(8)
    card = health_card(launch_health(launch, tasks, TODAY))
    blocked = next(s for s in sections(card) if s.startswith("*Blocked*"))
    # Blocked critical-path work first (K-1 is not on the path, K-5 neither; K-9... is past 8 tasks).
    assert "`K-1`" in blocked and "`K-5`" in blocked and "waiting on legal" in blocked
    assert "A very long person name" in blocked
    critical = next(s for s in sections(card) if s.startswith("*Critical path*"))
    assert "`K-0`" not in critical  # done: no longer holds the launch
    assert "`K-3`" in critical and "1.5d slack" in critical
    assert "$0.00 (planned offline from templates)" in render_blocks(card["blocks"])
    assert blockkit_validator("message", card) == []


async def test_status_by_name_and_share_to_channel(stack: Stack) -> None:
    here = "C0HEALTH"
    launch = await planned_in(stack, "Health", here)
    card = await answer(stack, PM, command(stack, PM, f"status {launch.name.upper()}", "C0GENERAL"))
    text = render_blocks(card["blocks"])
    assert title(card) == f"{launch.name}: health" and "LLM cost" in text and "Critical path" in text
    assert len(card["blocks"]) <= 50

    # Shared from where it was asked: posted in the launch's own channel for everyone, and the person is told.
    posted_before = len(stack.standin.messages(here))
    reply = await answer(stack, "U103", lambda: stack.slack.click(
        "U103", action_id=ActionId.SHARE_HEALTH, value=str(launch.id), message=card, channel_id="C0GENERAL"))
    assert "Shared the health card" in reply["text"] and f"<#{here}>" in reply["text"]
    shared = [m for m in stack.standin.messages(here) if title(m) == f"{launch.name}: health"]
    assert len(stack.standin.messages(here)) == posted_before + 1 and len(shared) == 1
    assert "visible_to" not in shared[0] and "Shared by <@U103>" in str(shared[0]["blocks"])
    assert stack.standin.validation_errors == []


async def test_status_without_a_name_and_near_misses(stack: Stack) -> None:
    here = "C0NONAME"
    one = await planned_in(stack, "Checkout Revamp", here)
    # The channel's one launch.
    card = await answer(stack, PM, command(stack, PM, "status", here))
    assert title(card) == f"{one.name}: health"
    # Where no launch lives: the person's launches, each a button that shows its card.
    choices = await answer(stack, PM, command(stack, PM, "status", "C0GENERAL"))
    assert "Your launches" in choices["text"]
    shown = await answer(stack, PM, lambda: stack.slack.click(
        PM, action_id=ActionId.SHOW_HEALTH, value=str(one.id), message=choices))
    assert title(shown) == f"{one.name}: health"

    # A near miss: "did you mean", with a button that shows the card.
    typo = one.name.replace("Revamp", "Revmp")
    missed = await answer(stack, PM, command(stack, PM, f"status {typo}", here))
    assert "Did you mean" in missed["text"] and one.name in missed["text"]
    shown = await answer(stack, PM, lambda: stack.slack.click(
        PM, action_id=ActionId.SHOW_HEALTH, value=str(one.id), message=missed))
    assert title(shown) == f"{one.name}: health"
    assert stack.standin.validation_errors == []
