"""The review message: one page of a launch's flagged tasks, each with Approve, Reject and Edit, or its decision.

A page holds at most ten tasks (26 blocks; Slack allows 50) and each task's text is capped, so a page stays
under Slack's 12,000 markdown characters whatever the data. Buttons carry ids only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from blocks.ids import ActionId
from blocks.text import escape, mention, short_date, truncate
from storage.enums import ReviewState
from storage.reviews import ReviewItem, ReviewPage

ITEM_TEXT_LIMIT = 900
TITLE_LIMIT = 150
EVIDENCE_LINES = 5
EVIDENCE_LIMIT = 160
MAX_PAGE_OPTIONS = 100

DECIDED = {
    ReviewState.APPROVED: ":white_check_mark: Approved",
    ReviewState.REJECTED: ":x: Rejected and removed",
    ReviewState.EDITED: ":pencil2: Edited",
}


def page_value(page: ReviewPage, number: int) -> str:
    """A page's id in buttons: "launch_id:version:page"."""
    return f"{page.launch.id}:{page.version}:{number}"


def slack_time(at: datetime) -> str:
    """A time every reader sees in their own time zone."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{at.strftime('%Y-%m-%d %H:%M UTC')}>"


def decided_line(state: str, decided_by: str | None, decided_at: datetime | None) -> str:
    line = DECIDED.get(ReviewState(state), str(state))
    if decided_by:
        line += f" by <@{decided_by}>"
    if decided_at is not None:
        line += f" {slack_time(decided_at)}"
    return line


def review_message(page: ReviewPage) -> dict[str, Any]:
    """The review message at one page; chat.update replaces it after each decision and page change."""
    launch = page.launch
    blocks: list[Block] = [
        HeaderBlock(text=truncate(f"Review flagged tasks: {launch.name}", 150)),
        SectionBlock(text=MarkdownTextObject(text=_summary(page))),
        DividerBlock(),
    ]
    for item in page.items:
        blocks.extend(_item_blocks(item))
    controls = _page_controls(page)
    if controls:
        blocks.extend([DividerBlock(), controls])
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text=f"Page {page.page + 1} of {page.pages} · plan v{page.version} · {page.total} flagged tasks"
    )]))
    if page.open:
        text = f"{page.open} flagged tasks wait for review" if page.open != 1 else "1 flagged task waits for review"
    else:
        text = "Every flagged task is reviewed"
    return {"text": text, "blocks": [b.to_dict() for b in blocks]}


def _summary(page: ReviewPage) -> str:
    launch = page.launch
    counts = " · ".join(
        f"{n} {label}" for n, label in (
            (page.open, "open"), (page.approved, "approved"), (page.rejected, "rejected"), (page.edited, "edited"),
        ) if n
    )
    if page.open:
        lead = (f"<@{launch.created_by}>, plan v{page.version} of *{escape(truncate(launch.name, 150))}* has "
                f"{page.total} flagged task{'s' if page.total != 1 else ''}. They are not announced or synced "
                "until each is approved, rejected or edited.")
    else:
        lead = (f"Every flagged task of plan v{page.version} of *{escape(truncate(launch.name, 150))}* is decided; "
                "the kept ones are part of the plan now.")
    return f"{lead}\n{counts}"


def _item_text(item: ReviewItem) -> str:
    title = escape(truncate(item.title, TITLE_LIMIT))
    if item.state == ReviewState.REJECTED:
        return f"~`{escape(item.key)}` {title}~"
    facts = [mention(item.assignee_slack_id, item.assignee)]
    if item.estimate_days is not None:
        facts.append(f"{item.estimate_days:g} working days")
    facts.append(f"due {short_date(item.due)}")
    lines = [f"*`{escape(item.key)}`* {title}", " · ".join(facts)]
    lines.extend(f"• {escape(truncate(line, EVIDENCE_LIMIT))}" for line in item.evidence[:EVIDENCE_LINES])
    return truncate("\n".join(lines), ITEM_TEXT_LIMIT)


def _item_blocks(item: ReviewItem) -> list[Block]:
    section = SectionBlock(block_id=f"review_item:{item.key}", text=MarkdownTextObject(text=_item_text(item)))
    if item.state != ReviewState.OPEN or item.task_id is None:
        decided = ContextBlock(
            block_id=f"review_decided:{item.key}",
            elements=[MarkdownTextObject(text=decided_line(item.state, item.decided_by, item.decided_at))],
        )
        return [section, decided]
    value = str(item.task_id)
    buttons = ActionsBlock(
        block_id=f"review_task:{item.task_id}",
        elements=[
            ButtonElement(text="Approve", action_id=ActionId.REVIEW_APPROVE, value=value, style="primary"),
            ButtonElement(
                text="Reject", action_id=ActionId.REVIEW_REJECT, value=value, style="danger",
                confirm=ConfirmObject(
                    title="Reject this task?",
                    text=f"`{escape(item.key)}` is removed from the plan; what came before it is linked to what "
                         "came after it.",
                    confirm="Reject", deny="Keep it",
                ),
            ),
            ButtonElement(text="Edit", action_id=ActionId.REVIEW_EDIT, value=value),
        ],
    )
    return [section, buttons]


def _page_controls(page: ReviewPage) -> ActionsBlock | None:
    elements: list[Any] = []
    value = page_value(page, page.page)
    if any(item.state == ReviewState.OPEN for item in page.items):
        elements.append(ButtonElement(text="Approve all on this page", action_id=ActionId.REVIEW_APPROVE_PAGE,
                                      value=value, style="primary"))
        elements.append(ButtonElement(
            text="Reject all on this page", action_id=ActionId.REVIEW_REJECT_PAGE, value=value, style="danger",
            confirm=ConfirmObject(title="Reject every open task here?",
                                  text="Each open task on this page is removed and its neighbours reconnected.",
                                  confirm="Reject all", deny="Cancel"),
        ))
    if page.pages > 1:
        numbers = _page_numbers(page)
        options = [Option(value=page_value(page, n), label=f"Page {n + 1} of {page.pages}") for n in numbers]
        current = options[numbers.index(page.page)]
        elements.append(StaticSelectElement(action_id=ActionId.REVIEW_PAGE, placeholder="Go to page",
                                            options=options, initial_option=current))
    if not elements:
        return None
    return ActionsBlock(block_id=f"review_page:{value}", elements=elements)


def _page_numbers(page: ReviewPage) -> list[int]:
    """Every page, or (past 100 pages) the 100 around the current one: a select holds 100 options."""
    first = max(0, min(page.page - MAX_PAGE_OPTIONS // 2, page.pages - MAX_PAGE_OPTIONS))
    return list(range(first, min(page.pages, first + MAX_PAGE_OPTIONS)))


def already_decided(state: str, decided_by: str | None, decided_at: datetime | None) -> str:
    """What a second click, a replay or a second reviewer is told: the decision that stands."""
    verb = {ReviewState.APPROVED: "approved", ReviewState.REJECTED: "rejected", ReviewState.EDITED: "edited"}
    line = f"Already {verb.get(ReviewState(state), str(state))}"
    if decided_by:
        line += f" by <@{decided_by}>"
    if decided_at is not None:
        line += f" {slack_time(decided_at)}"
    return line + "; nothing changed."
