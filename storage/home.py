"""What one person's App Home shows, a page at a time: a few queries, each filtered by the scope's workspace."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.enums import ReviewState, Role, TaskStatus
from storage.models import Launch, LaunchMember, Task, User
from storage.okr_enums import ApprovalState
from storage.okr_models import Objective
from storage.scope import Scope
from storage.snapshots import LaunchHealth

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, the 1-based page number actually shown and how many rows there are in all."""

    items: list[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size


@dataclass(frozen=True)
class MyTask:
    task: Task
    launch_name: str


@dataclass(frozen=True)
class PendingReview:
    """Open flags of one launch the person may review, and where its review message is."""

    launch_id: int
    launch_name: str
    open_flags: int
    review_channel_id: str | None
    review_ts: str | None
    plan_channel_id: str | None
    channel_id: str | None


@dataclass(frozen=True)
class PendingObjective:
    objective: Objective
    parent_key: str | None


@dataclass
class LaunchTasks:
    """The page's launches and all their tasks, loaded in one query."""

    launches: Page[Launch]
    tasks: dict[int, list[Task]] = field(default_factory=dict)


class HomeSection(StrEnum):
    """The Home's paged sections; a "Show more" button's value is "SECTION:PAGE"."""

    TASKS = "tasks"
    LAUNCHES = "launches"
    APPROVALS = "approvals"
    ROLES = "roles"


@dataclass(frozen=True)
class HomePages:
    """Which page of each section the Home shows (1 = the first)."""

    numbers: tuple[tuple[HomeSection, int], ...] = ()

    def page(self, section: HomeSection) -> int:
        return dict(self.numbers).get(section, 1)

    def turned(self, section: HomeSection, number: int) -> HomePages:
        numbers = dict(self.numbers)
        numbers[section] = max(1, number)
        return HomePages(tuple(sorted(numbers.items())))

    def encode(self) -> str:
        return ",".join(f"{section}:{number}" for section, number in self.numbers if number > 1)

    @classmethod
    def decode(cls, text: str | None) -> HomePages:
        """Pages from encode()'s text; anything unreadable is the first page."""
        pages = cls()
        for part in (text or "").split(",")[: len(HomeSection)]:
            parsed = parse_page(part)
            if parsed is not None:
                pages = pages.turned(*parsed)
        return pages


def parse_page(value: str) -> tuple[HomeSection, int] | None:
    """("tasks", 2) from "tasks:2"; None for anything else (a forged or stale value)."""
    section, _, number = value.strip().partition(":")
    if section not in {s.value for s in HomeSection} or not number.isdigit() or len(number) > 6:
        return None
    return HomeSection(section), max(1, int(number))


@dataclass(frozen=True)
class LaunchRow:
    launch: Launch
    health: LaunchHealth | None  # None until the launch is planned


@dataclass(frozen=True)
class HomeContent:
    """Everything one person's Home shows, loaded a page per section."""

    tasks: Page[MyTask]
    launches: Page[LaunchRow]
    reviews: Page[PendingReview]
    objectives: Page[PendingObjective]
    pms: Page[User] | None  # None: not an Admin, no Roles section
    okr_period: str | None = None
    key_results: list[Any] = field(default_factory=list)


def clamp_page(number: int, size: int, total: int) -> int:
    pages = max(1, -(-total // size))
    return min(max(1, number), pages)


# Tasks a reviewer has not confirmed (open) or took out (rejected) are not work to do yet.
HIDDEN_REVIEW_STATES = (ReviewState.OPEN, ReviewState.REJECTED)


class HomeRepository:
    """The person's tasks, launches, approvals, and (for Admins) the PMs, within the scope's workspace."""

    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        assert scope.user_id, "a personal view needs the user in its scope"
        self.session = session
        self.scope = scope
        self.ws = scope.workspace_id
        self.me: str = scope.user_id

    async def _count(self, query: Any) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    # --- my open tasks --------------------------------------------------------------------------------

    def _my_open_tasks(self) -> Any:
        return (
            select(Task, Launch.name)
            .join(Launch, Launch.id == Task.launch_id)
            .where(
                Task.workspace_id == self.ws,
                Launch.workspace_id == self.ws,
                Task.assignee_slack_id == self.me,
                Task.status != TaskStatus.DONE,
                or_(Task.review_state.is_(None), Task.review_state.not_in(HIDDEN_REVIEW_STATES)),
            )
        )

    async def open_tasks(self, page: int, size: int) -> Page[MyTask]:
        """My open tasks, the ones due soonest first (tasks without a date last)."""
        base = self._my_open_tasks()
        total = await self._count(base)
        number = clamp_page(page, size, total)
        query = base.order_by(Task.due.is_(None), Task.due, Task.id).offset((number - 1) * size).limit(size)
        rows = (await self.session.execute(query)).all()
        return Page([MyTask(task, name) for task, name in rows], number, size, total)

    # --- my launches ----------------------------------------------------------------------------------

    def _my_launch_ids(self) -> Any:
        member_of = select(LaunchMember.launch_id).where(
            LaunchMember.workspace_id == self.ws, LaunchMember.slack_id == self.me
        )
        owner_of = select(Task.launch_id).where(Task.workspace_id == self.ws, Task.assignee_slack_id == self.me)
        return (
            select(Launch.id)
            .where(
                Launch.workspace_id == self.ws,
                or_(Launch.created_by == self.me, Launch.id.in_(member_of), Launch.id.in_(owner_of)),
            )
        )

    async def launches_with_tasks(self, page: int, size: int) -> LaunchTasks:
        """A page of the launches I created, belong to or own a task of (by target date), with all their tasks."""
        mine = self._my_launch_ids()
        total = await self._count(mine)
        number = clamp_page(page, size, total)
        query = (
            select(Launch)
            .where(Launch.workspace_id == self.ws, Launch.id.in_(mine))
            .order_by(Launch.target_date, Launch.id)
            .offset((number - 1) * size)
            .limit(size)
        )
        launches = list(await self.session.scalars(query))
        result = LaunchTasks(Page(launches, number, size, total))
        if not launches:
            return result
        tasks = await self.session.scalars(
            select(Task)
            .where(Task.workspace_id == self.ws, Task.launch_id.in_([launch.id for launch in launches]))
            .order_by(Task.launch_id, Task.position)
        )
        by_launch: dict[int, list[Task]] = defaultdict(list)
        for task in tasks:
            by_launch[task.launch_id].append(task)
        result.tasks = dict(by_launch)
        return result

    # --- approvals waiting for me ---------------------------------------------------------------------

    async def pending_reviews(self, page: int, size: int, *, everywhere: bool) -> Page[PendingReview]:
        """Launches with flagged tasks still open: those I am PM of, or all of the workspace's (`everywhere`)."""
        base = (
            select(
                Launch.id,
                Launch.name,
                func.count(Task.id),
                Launch.review_channel_id,
                Launch.review_ts,
                Launch.plan_channel_id,
                Launch.channel_id,
                Launch.target_date,
            )
            .join(Task, Task.launch_id == Launch.id)
            .where(
                Launch.workspace_id == self.ws,
                Task.workspace_id == self.ws,
                Task.review_state == ReviewState.OPEN,
            )
            .group_by(
                Launch.id,
                Launch.name,
                Launch.review_channel_id,
                Launch.review_ts,
                Launch.plan_channel_id,
                Launch.channel_id,
                Launch.target_date,
            )
        )
        if not everywhere:
            base = base.where(Launch.created_by == self.me)
        total = await self._count(base)
        number = clamp_page(page, size, total)
        rows = await self.session.execute(
            base.order_by(Launch.target_date, Launch.id).offset((number - 1) * size).limit(size)
        )
        items = [PendingReview(i, name, n, rc, rts, pc, ch) for i, name, n, rc, rts, pc, ch, _ in rows.all()]
        return Page(items, number, size, total)

    async def objectives_to_approve(self, limit: int, *, admin: bool) -> Page[PendingObjective]:
        """Submitted objectives whose parent I own, and (for an Admin) those with no parent: who approves them."""
        parent = aliased(Objective)
        mine = parent.owner_id == self.me
        query = (
            select(Objective, parent.key)
            .outerjoin(parent, (parent.id == Objective.parent_id) & (parent.workspace_id == self.ws))
            .where(
                Objective.workspace_id == self.ws,
                Objective.approval == ApprovalState.SUBMITTED,
                or_(mine, Objective.parent_id.is_(None)) if admin else mine,
            )
        )
        total = await self._count(query)
        rows = (await self.session.execute(query.order_by(Objective.created_at, Objective.id).limit(limit))).all()
        return Page([PendingObjective(o, key) for o, key in rows], 1, limit, total)

    # --- roles (Admins) -------------------------------------------------------------------------------

    async def pms(self, page: int, size: int) -> Page[User]:
        base = select(User).where(User.workspace_id == self.ws, User.role == Role.PM)
        total = await self._count(base)
        number = clamp_page(page, size, total)
        users = await self.session.scalars(base.order_by(User.name, User.slack_id).offset((number - 1) * size)
                                           .limit(size))
        return Page(list(users), number, size, total)

    # --- the hash of the last published view ----------------------------------------------------------

    async def last_hash(self) -> str | None:
        return await self.session.scalar(
            select(User.home_hash).where(User.workspace_id == self.ws, User.slack_id == self.me)
        )

    async def remember_hash(self, view_hash: str | None) -> None:
        await self.session.execute(
            update(User).where(User.workspace_id == self.ws, User.slack_id == self.me).values(home_hash=view_hash)
        )
