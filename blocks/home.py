"""The App Home tab: my open tasks, my launches with health, approvals waiting for me, my OKRs and (Admins) roles.

Each section shows one page; a "Show more" button turns it. The view stays within Slack's 100 blocks whatever
the data size: at most 2 + 18 + 11 + 12 + 23 + 14 + 1 blocks (header and notice, tasks, launches, approvals,
OKRs, roles, footer).
"""

from __future__ import annotations

from datetime import date
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
    SectionBlock,
    UserSelectElement,
)

from blocks.ids import ActionId
from blocks.launch_messages import STATE_LABEL
from blocks.okr_home import my_okrs_blocks
from blocks.task_blocks import task_actions
from blocks.text import escape, render, truncate
from storage.home import HomeContent, HomePages, HomeSection, MyTask, Page, PendingReview
from storage.models import User

SECTION_LIMIT = 3000
MAX_HOME_BLOCKS = 100
EMPTY = {
    HomeSection.TASKS: "_Nothing assigned to you. Enjoy the quiet._",
    HomeSection.LAUNCHES: "_No launches yet. Start one with_ `/launch new`.",
    HomeSection.APPROVALS: "_Nothing waiting for your review._",
    HomeSection.ROLES: "_No PMs yet: only admins can start launches._",
}
TITLES = {
    HomeSection.TASKS: "My open tasks",
    HomeSection.LAUNCHES: "My launches",
    HomeSection.APPROVALS: "Flagged tasks waiting for your review",
    HomeSection.ROLES: "Roles · PMs",
}


def _section(text: str, block_id: str | None = None, accessory: Any = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=MarkdownTextObject(text=truncate(text, SECTION_LIMIT)),
                        accessory=accessory)


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, SECTION_LIMIT))])


def _title(section: HomeSection, page: Page[Any]) -> SectionBlock:
    shown = ""
    if page.total > page.size:
        first = page.first_index + 1
        shown = f" · {first}–{first + len(page.items) - 1} of {page.total}"
    return _section(f"*{TITLES[section]}*{shown}", block_id=f"home_title:{section}")


def _more(section: HomeSection, page: Page[Any]) -> list[Block]:
    """One button: the next page, or back to the first from the last; nothing when everything fits."""
    if page.pages <= 1:
        return []
    if page.number < page.pages:
        button = ButtonElement(text="Show more", action_id=ActionId.HOME_MORE, value=f"{section}:{page.number + 1}")
    else:
        button = ButtonElement(text="Back to the start", action_id=ActionId.HOME_MORE, value=f"{section}:1")
    return [ActionsBlock(block_id=f"home_more:{section}", elements=[button])]


def _task_blocks(mine: MyTask, today: date) -> list[Block]:
    task = mine.task
    overdue = task.due is not None and task.due < today
    text = render("home_task.md.j2", task=task, launch_name=mine.launch_name, overdue=overdue)
    return [_section(text, block_id=f"home_task:{task.id}"), task_actions(task)]  # the DM's buttons


def tasks_blocks(page: Page[MyTask], today: date) -> list[Block]:
    blocks: list[Block] = [_title(HomeSection.TASKS, page)]
    if not page.items:
        return [*blocks, _context(EMPTY[HomeSection.TASKS])]
    for mine in page.items:
        blocks += _task_blocks(mine, today)
    return blocks + _more(HomeSection.TASKS, page)


def launches_blocks(content: HomeContent) -> list[Block]:
    page = content.launches
    blocks: list[Block] = [DividerBlock(), _title(HomeSection.LAUNCHES, page)]
    if not page.items:
        return [*blocks, _context(EMPTY[HomeSection.LAUNCHES])]
    for row in page.items:
        state = STATE_LABEL[row.health.state] if row.health else ""
        text = render("home_launch.md.j2", launch=row.launch, health=row.health, state=state)
        blocks.append(_section(text, block_id=f"home_launch:{row.launch.id}"))
    return blocks + _more(HomeSection.LAUNCHES, page)


def review_location(review: PendingReview) -> str:
    """Where the PM finds the review message, in words."""
    if not review.review_ts or not review.review_channel_id:
        return "the review message is on its way"
    if review.review_channel_id.startswith("D"):
        return "review message in your DM with Liftoff"
    if review.review_channel_id == review.plan_channel_id:
        return f"review message in the plan's thread in <#{review.review_channel_id}>"
    return f"review message in <#{review.review_channel_id}>"


def approvals_blocks(content: HomeContent) -> list[Block]:
    page = content.reviews
    blocks: list[Block] = [DividerBlock(), _title(HomeSection.APPROVALS, page)]
    if not page.items:
        blocks.append(_context(EMPTY[HomeSection.APPROVALS]))
    for review in page.items:
        text = render("home_review.md.j2", review=review, where=review_location(review))
        blocks.append(_section(text, block_id=f"home_review:{review.launch_id}"))
    blocks += _more(HomeSection.APPROVALS, page)
    objectives = content.objectives
    if objectives.items:
        more = objectives.total - len(objectives.items)
        text = render("home_objectives.md.j2", objectives=objectives.items, more=more)
        blocks.append(_section(text, block_id="home_okr_approvals"))
    return blocks


def roles_blocks(pms: Page[User]) -> list[Block]:
    """For Admins: the PMs, each with Revoke, and a picker that makes someone a PM."""
    blocks: list[Block] = [
        DividerBlock(),
        _title(HomeSection.ROLES, pms),
        ActionsBlock(block_id="home_role_grant", elements=[
            UserSelectElement(action_id=ActionId.ROLE_GRANT_PM, placeholder="Make someone a PM…"),
        ]),
    ]
    if not pms.items:
        blocks.append(_context(EMPTY[HomeSection.ROLES]))
    for user in pms.items:
        name = f" ({escape(truncate(user.name, 80))})" if user.name else ""
        revoke = ButtonElement(
            text="Revoke", action_id=ActionId.ROLE_REVOKE_PM, value=user.slack_id, style="danger",
            confirm=ConfirmObject(title="Revoke PM?", text=f"<@{user.slack_id}> will no longer start launches.",
                                  confirm="Revoke", deny="Cancel"),
        )
        blocks.append(_section(f"<@{user.slack_id}>{name} · PM", block_id=f"home_pm:{user.slack_id}",
                               accessory=revoke))
    return blocks + _more(HomeSection.ROLES, pms)


def home_view(content: HomeContent, pages: HomePages, today: date, notice: str | None = None,
              personal: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The Home view; `notice` (the outcome of the person's last click) shows at the top; `personal` (notification
    settings, the calendar feed and undelivered messages, at most 3 blocks) just before the footer."""
    blocks: list[Block] = [HeaderBlock(text="Liftoff")]
    if notice:
        blocks.append(_context(notice))
    blocks += tasks_blocks(content.tasks, today) + launches_blocks(content) + approvals_blocks(content)
    rendered = [b.to_dict() for b in blocks] + my_okrs_blocks(content.key_results, content.okr_period)
    if content.pms is not None:
        rendered += [b.to_dict() for b in roles_blocks(content.pms)]
    rendered += list(personal or [])[:3]
    rendered.append(_context("`/launch new` plans a launch · `/launch status` shows its health · "
                             "`/launch help` for more").to_dict())
    assert len(rendered) <= MAX_HOME_BLOCKS, f"the Home grew to {len(rendered)} blocks"
    return {"type": "home", "private_metadata": pages.encode(), "blocks": rendered}
