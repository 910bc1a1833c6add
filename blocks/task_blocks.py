"""Task lines with Done / Start / Blocked buttons, the blocked-reason modal and the replies to task updates.

Buttons carry the task id only; the listener reloads the task within the workspace and asks the policy.
The Home tab and DMs can reuse `task_line_with_buttons` (two blocks a task).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from blocks.ids import ActionId, CallbackId
from blocks.text import escape, render, truncate
from storage.enums import TaskStatus
from storage.models import Launch, Task

SECTION_LIMIT = 3000
# Slack's message limit is 50 blocks: a heading and one block per launch to choose from.
MAX_CHOICES = 40
BLOCK_REASON_MAX = 2000

STATUS_LABEL = {
    TaskStatus.TODO: "to do",
    TaskStatus.IN_PROGRESS: "in progress",
    TaskStatus.BLOCKED: "blocked",
    TaskStatus.DONE: "done",
}


class BlockReasonField(StrEnum):
    """Block id (and action id) of the blocked-reason modal's one input."""

    REASON = "reason"


def status_label(status: str) -> str:
    try:
        return STATUS_LABEL[TaskStatus(status)]
    except ValueError:
        return escape(status)


def task_line(task: Task, launch_name: str = "") -> str:
    """Two lines of mrkdwn: status, key, title, launch; then status, owner, due date (and why it is blocked)."""
    return render("task_update_line.md.j2", task=task, launch_name=launch_name, status_label=status_label(task.status))


def task_actions(task: Task) -> ActionsBlock:
    """The buttons that fit the task's status: Start, Done, Blocked… (Reopen once done)."""
    value = str(task.id)
    buttons: list[ButtonElement] = []
    if task.status == TaskStatus.DONE:
        buttons.append(ButtonElement(text="Reopen", action_id=ActionId.TASK_START, value=value))
    else:
        if task.status != TaskStatus.IN_PROGRESS:
            label = "Resume" if task.status == TaskStatus.BLOCKED else "Start"
            buttons.append(ButtonElement(text=label, action_id=ActionId.TASK_START, value=value))
        buttons.append(ButtonElement(text="Done", action_id=ActionId.TASK_DONE, value=value, style="primary"))
        label = "Change reason…" if task.status == TaskStatus.BLOCKED else "Blocked…"
        buttons.append(ButtonElement(text=label, action_id=ActionId.TASK_BLOCK, value=value))
    return ActionsBlock(block_id=f"task_actions:{task.id}", elements=buttons)


def task_line_with_buttons(task: Task, launch_name: str = "") -> list[Block]:
    """The task's line and its buttons: two blocks."""
    text = truncate(task_line(task, launch_name), SECTION_LIMIT)
    return [SectionBlock(block_id=f"task_line:{task.id}", text=MarkdownTextObject(text=text)), task_actions(task)]


def update_reply(task: Task, launch_name: str, headline: str) -> dict[str, Any]:
    """The answer to an update: what happened, then the task's line with its buttons."""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(headline, SECTION_LIMIT))),
        *task_line_with_buttons(task, launch_name),
    ]
    return {"text": headline, "blocks": [b.to_dict() for b in blocks]}


def updated_headline(task: Task, *, changed: bool, alerted_pm: str | None) -> str:
    key = f"`{task.key}`"
    if not changed:
        return f"{key} is already {status_label(task.status)}; nothing changed."
    headline = f":white_check_mark: {key} is now *{status_label(task.status)}*."
    if alerted_pm:
        headline += f" It is on the critical path, so I told <@{alerted_pm}>."
    return headline


def block_reason_modal(task: Task, *, channel_id: str | None) -> dict[str, Any]:
    """Why is the task blocked? One required field; `private_metadata` carries the task id and the channel."""
    current = task.blocked_reason if task.status == TaskStatus.BLOCKED else None
    element = PlainTextInputElement(
        action_id=BlockReasonField.REASON,
        multiline=True,
        max_length=BLOCK_REASON_MAX,
        placeholder="What is in the way, and who or what could unblock it?",
        initial_value=current[:BLOCK_REASON_MAX] if current else None,
    )
    view = View(
        type="modal",
        callback_id=CallbackId.TASK_BLOCK,
        title="Blocked task",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"task_id": task.id, "channel": channel_id}),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f"`{task.key}` {escape(truncate(task.title, 250))}")),
            InputBlock(block_id=BlockReasonField.REASON, label="Why is it blocked?", element=element),
        ],
    )
    return view.to_dict()


def ambiguous_key(key: str, matches: Sequence[tuple[Task, Launch]], action_id: ActionId, verb: str) -> dict[str, Any]:
    """`key` names tasks in several launches: one button per launch (the value is that task's id)."""
    text = f"`{escape(key)}` is a task in {len(matches)} launches. Which one did you mean?"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=text))]
    for task, launch in list(matches)[:MAX_CHOICES]:
        line = f"*{escape(truncate(launch.name, 120))}* · `{task.key}` {escape(truncate(task.title, 120))}"
        button = ButtonElement(text=truncate(verb, 75), action_id=action_id, value=str(task.id))
        blocks.append(SectionBlock(block_id=f"task_choice:{task.id}", text=MarkdownTextObject(text=line),
                                   accessory=button))
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def unknown_key(key: str, suggestions: Sequence[str]) -> dict[str, Any]:
    text = f"I found no task `{escape(truncate(key, 40))}` in this workspace's launches."
    if suggestions:
        text += " Close matches: " + ", ".join(f"`{escape(s)}`" for s in suggestions) + "."
    text += " Task keys look like `ENG-3`; the health card (`/launch status NAME`) lists them."
    return {"text": text, "blocks": [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]}


def task_usage(verb: str, example: str) -> dict[str, Any]:
    text = f"Tell me which task: `/launch {verb} {example}`."
    return {"text": text, "blocks": [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]}


def critical_blocked_alert(launch: Launch, task: Task) -> dict[str, Any]:
    """The PM's DM when a critical-path task becomes blocked."""
    text = render("critical_blocked.md.j2", launch=launch, task=task)
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT))),
        ActionsBlock(
            block_id=f"critical_blocked:{task.id}",
            elements=[ButtonElement(text="Show health", action_id=ActionId.SHOW_HEALTH, value=str(launch.id))],
        ),
    ]
    fallback = f"{task.key} on the critical path of {launch.name} is blocked"
    return {"text": fallback, "blocks": [b.to_dict() for b in blocks]}
