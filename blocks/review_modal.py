"""The modal that edits a flagged task: title, owner, estimate, due date and what it depends on."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from blocks.ids import CallbackId, ReviewEditField
from blocks.text import escape, short_date, truncate
from storage.models import Launch, Task

# A multi static select holds at most 100 options; a bigger launch gets a text field of task keys.
MAX_SELECT_OPTIONS = 100
OPTION_TEXT_LIMIT = 75
TITLE_MAX = 300


def dependency_options(tasks: list[Task], task: Task) -> list[Task]:
    """The tasks this one may depend on: every other task of the launch, in plan order."""
    return [t for t in tasks if t.id != task.id]


def review_edit_modal(launch: Launch, task: Task, tasks: list[Task], predecessors: list[str]) -> dict[str, Any]:
    """The edit modal for one flagged task; `tasks` are the launch's tasks, `predecessors` the keys it now waits on.

    The task id travels in private_metadata; the submission reloads it within the workspace.
    """
    candidates = dependency_options(tasks, task)
    blocks: list[Any] = [
        ContextBlock(elements=[MarkdownTextObject(
            text=f"`{escape(task.key)}` of *{escape(truncate(launch.name, 150))}* · target date "
                 f"{short_date(launch.target_date)}"
        )]),
        InputBlock(
            block_id=ReviewEditField.TITLE,
            label="Title",
            element=PlainTextInputElement(action_id=ReviewEditField.TITLE, initial_value=task.title[:TITLE_MAX],
                                          max_length=TITLE_MAX),
        ),
        InputBlock(
            block_id=ReviewEditField.OWNER,
            label="Owner",
            optional=True,
            element=UserSelectElement(action_id=ReviewEditField.OWNER, placeholder="Pick the owner",
                                      initial_user=task.assignee_slack_id or None),
        ),
        InputBlock(
            block_id=ReviewEditField.ESTIMATE,
            label="Estimate (working days)",
            hint="A positive number, e.g. 0.5 or 3.",
            element=PlainTextInputElement(action_id=ReviewEditField.ESTIMATE, initial_value=f"{task.estimate_days:g}",
                                          max_length=20),
        ),
        InputBlock(
            block_id=ReviewEditField.DUE,
            label="Due date",
            optional=True,
            hint=f"On or before the target date, {short_date(launch.target_date)}.",
            element=DatePickerElement(action_id=ReviewEditField.DUE,
                                      initial_date=task.due.isoformat() if task.due else None),
        ),
        _dependencies_input(candidates, predecessors),
    ]
    view = View(
        type="modal",
        callback_id=CallbackId.REVIEW_EDIT,
        private_metadata=str(task.id),
        title=PlainTextObject(text="Edit flagged task"),
        submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"),
        blocks=blocks,
    )
    return view.to_dict()


def _dependencies_input(candidates: list[Task], predecessors: list[str]) -> InputBlock:
    hint = "The tasks that must be done before this one can start."
    if not candidates or len(candidates) > MAX_SELECT_OPTIONS:
        return InputBlock(
            block_id=ReviewEditField.DEPENDENCIES,
            label="Depends on (task keys)",
            optional=True,
            hint=hint + " Separate keys with commas, e.g. ENG-3, QA-1.",
            element=PlainTextInputElement(action_id=ReviewEditField.DEPENDENCIES, multiline=True, max_length=3000,
                                          initial_value=", ".join(predecessors) or None),
        )
    options = {t.key: Option(value=t.key, label=truncate(f"{t.key} · {t.title}", OPTION_TEXT_LIMIT))
               for t in candidates}
    initial = [options[key] for key in predecessors if key in options]
    return InputBlock(
        block_id=ReviewEditField.DEPENDENCIES,
        label="Depends on",
        optional=True,
        hint=hint,
        element=StaticMultiSelectElement(action_id=ReviewEditField.DEPENDENCIES, placeholder="Pick tasks",
                                         options=list(options.values()), initial_options=initial or None),
    )
