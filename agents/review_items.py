"""What a launch's review message shows: every flagged task of the current version, with its evidence, paged.

Items are ordered by task key, so a page keeps its tasks while decisions are made (a rejected task stays
listed, from its TaskReview row) and a button's page can be found again from its task.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from agents import launch_pii
from agents.dependency import CYCLE_BROKEN
from agents.evaluator import CONFIDENCE_FLOOR, LOW_CONFIDENCE, ODD_DURATION, UNOWNED
from agents.plan import EdgeKind
from agents.review_request import review_recipient
from agents.scheduler import STARTS_IN_PAST
from storage.db import Database
from storage.enums import ReviewState
from storage.launches import LaunchRepository
from storage.models import Launch, Task
from storage.reviews import ReviewItem, ReviewPage, ReviewRepository
from storage.scope import Scope

# Ten tasks of two blocks each keep a page at 26 blocks (Slack allows 50) and under 12,000 markdown characters.
PAGE_SIZE = 10
_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)$")


# --- what the review message shows -------------------------------------------------------------------------


def flag_evidence(task: Task, suggested: Iterable[str] = ()) -> tuple[str, ...]:
    """Why each flag is there, in words a PM can act on."""
    lines = []
    for flag in task.flags or []:
        if flag == LOW_CONFIDENCE:
            lines.append(f"Low confidence: {task.confidence:.0%} (under {CONFIDENCE_FLOOR:.0%})")
        elif flag == UNOWNED:
            lines.append(f"No owner: nobody on the team has the {task.role} role")
        elif flag == ODD_DURATION:
            lines.append(f"Odd duration: {task.estimate_days:g} working days (under an hour or over six months)")
        elif flag == CYCLE_BROKEN:
            lines.append("A dependency into this task was dropped to break a dependency cycle")
        elif flag == STARTS_IN_PAST:
            lines.append("Would have to start before today to finish on time")
        else:
            lines.append(str(flag).replace("_", " ").capitalize())
    suggested = list(suggested)
    if suggested:
        lines.append("Suggested dependency on " + ", ".join(suggested[:5]))
    return tuple(lines)


def _key_order(key: str) -> tuple[str, int, str]:
    match = _TRAILING_NUMBER.match(key)
    return (match.group(1), int(match.group(2)), key) if match else (key, -1, key)


async def review_items(session: AsyncSession, scope: Scope, launch: Launch) -> list[ReviewItem]:
    """Every flagged task of the launch's current version, decided or not, in a stable order for paging."""
    reviews = ReviewRepository(session, scope)
    decisions = {d.task_key: d for d in await reviews.decisions(launch.id, launch.version)}
    flagged = await reviews.reviewed_tasks(launch.id)
    suggestions = await _suggestions(session, scope, launch, {t.id for t in flagged})
    items: list[ReviewItem] = []
    for task in flagged:
        decided = decisions.get(task.key)
        if decided is None and task.review_state != ReviewState.OPEN:
            continue  # decided in an earlier version
        items.append(
            ReviewItem(
                key=task.key,
                title=task.title,
                task_id=task.id,
                state=ReviewState(decided.decision) if decided else ReviewState.OPEN,
                evidence=flag_evidence(task, suggestions.get(task.id, [])),
                assignee=task.assignee,
                assignee_slack_id=task.assignee_slack_id,
                estimate_days=task.estimate_days,
                due=task.due,
                decided_by=decided.decided_by if decided else None,
                decided_at=decided.decided_at if decided else None,
            )
        )
    shown = {item.key for item in items}
    items.extend(
        ReviewItem(key=d.task_key, title=d.task_title, task_id=None, state=ReviewState(d.decision),
                   decided_by=d.decided_by, decided_at=d.decided_at)
        for d in decisions.values()
        if d.task_key not in shown
    )
    return sorted(items, key=lambda item: _key_order(item.key))


async def _suggestions(session: AsyncSession, scope: Scope, launch: Launch, task_ids: set[int]) -> dict[int, list[str]]:
    """Per flagged task, the keys of tasks a "related" (suggested, not blocking) edge points from."""
    launches = LaunchRepository(session, scope)
    related = [d for d in await launches.dependencies(launch.id)
               if d.kind == EdgeKind.RELATED and d.to_task_id in task_ids]
    if not related:
        return {}
    keys = {t.id: t.key for t in await launches.tasks(launch.id)}
    found: dict[int, list[str]] = {}
    for edge in related:
        if edge.from_task_id in keys:
            found.setdefault(edge.to_task_id, []).append(keys[edge.from_task_id])
    return found


def paginate(launch: Launch, items: list[ReviewItem], page: int) -> ReviewPage:
    pages = max(1, math.ceil(len(items) / PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    states = [item.state for item in items]
    return ReviewPage(
        launch=launch,
        version=launch.version,
        page=page,
        pages=pages,
        items=tuple(items[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]),
        total=len(items),
        open=states.count(ReviewState.OPEN),
        approved=states.count(ReviewState.APPROVED),
        rejected=states.count(ReviewState.REJECTED),
        edited=states.count(ReviewState.EDITED),
    )


def page_of(items: list[ReviewItem], key: str) -> int:
    for index, item in enumerate(items):
        if item.key == key:
            return index // PAGE_SIZE
    return 0


async def review_page(
    session: AsyncSession, scope: Scope, launch: Launch, *, page: int = 0, key: str | None = None
) -> ReviewPage:
    """The page asked for, or the page that lists `key`, with what the message's audience may see restored."""
    items = await review_items(session, scope, launch)
    shown = paginate(launch, items, page_of(items, key) if key is not None else page)
    reveal = await launch_pii.reveal_for(session, scope, launch, await review_audience(session, scope, launch))
    return replace(shown, items=tuple(replace(item, title=reveal.text(item.title)) for item in shown.items))


async def review_audience(session: AsyncSession, scope: Scope, launch: Launch) -> str:
    """Who reads the review message: the PM (their DM) or the channel whose plan thread holds it."""
    if launch.review_channel_id:  # posted: where it is (a "D..." channel is the PM's DM with the app)
        return launch.created_by if launch.review_channel_id.startswith("D") else launch.review_channel_id
    return review_recipient(launch, await ReviewRepository(session, scope).destination())


async def load_review_page(
    db: Database, workspace_id: str, launch_id: int, *, page: int = 0, key: str | None = None
) -> ReviewPage | None:
    scope = Scope(workspace_id)
    async with db.reader() as session:
        launch = await LaunchRepository(session, scope).get(launch_id)
        if launch is None:
            return None
        return await review_page(session, scope, launch, page=page, key=key)
