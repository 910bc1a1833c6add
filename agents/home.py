"""What a person's App Home holds: their tasks, launches with health, approvals, OKRs and (Admins) the PMs."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from agents.health import launch_health
from agents.launch_pii import HIDDEN, reveals_for_person
from agents.okr_lists import my_key_results
from agents.policy import Action, Actor, decide
from storage.enums import LaunchStatus
from storage.home import HomeContent, HomePages, HomeRepository, HomeSection, LaunchRow, MyTask, Page
from storage.launches import LaunchRepository
from storage.okrs import OkrRepository
from storage.scope import Scope

PAGE_SIZE = {HomeSection.TASKS: 8, HomeSection.LAUNCHES: 8, HomeSection.APPROVALS: 8, HomeSection.ROLES: 10}
OBJECTIVES_SHOWN = 5


def sees_roles(actor: Actor) -> bool:
    return decide(actor, Action.ROLE_GRANT).allowed


async def shown_tasks(session: AsyncSession, scope: Scope, actor: Actor, page: Page[MyTask]) -> Page[MyTask]:
    """The person's tasks with the placeholders of each launch restored as far as they may see them."""
    launches = LaunchRepository(session, scope)
    found = [await launches.get(launch_id) for launch_id in sorted({m.task.launch_id for m in page.items})]
    reveals = await reveals_for_person(session, scope, [launch for launch in found if launch], actor.user_id)
    items = [MyTask(reveals.get(m.task.launch_id, HIDDEN).task(m.task), m.launch_name) for m in page.items]
    return Page(items, page.number, page.size, page.total)


async def load_home(session: AsyncSession, actor: Actor, pages: HomePages, today: date) -> HomeContent:
    """One read of the Home: a page per section, the health of the launches shown from one task query."""
    scope = Scope(actor.workspace_id, actor.user_id)
    home = HomeRepository(session, scope)
    tasks = await shown_tasks(session, scope, actor,
                              await home.open_tasks(pages.page(HomeSection.TASKS), PAGE_SIZE[HomeSection.TASKS]))
    mine = await home.launches_with_tasks(pages.page(HomeSection.LAUNCHES), PAGE_SIZE[HomeSection.LAUNCHES])
    rows = [
        LaunchRow(launch, launch_health(launch, mine.tasks.get(launch.id, []), today)
                  if launch.status == LaunchStatus.PLANNED else None)
        for launch in mine.launches.items
    ]
    launches = Page(rows, mine.launches.number, mine.launches.size, mine.launches.total)
    reviews = await home.pending_reviews(
        pages.page(HomeSection.APPROVALS), PAGE_SIZE[HomeSection.APPROVALS], everywhere=actor.is_admin
    )
    objectives = await home.objectives_to_approve(OBJECTIVES_SHOWN, admin=actor.is_admin)
    pms = await home.pms(pages.page(HomeSection.ROLES), PAGE_SIZE[HomeSection.ROLES]) if sees_roles(actor) else None
    period, key_results = await my_key_results(OkrRepository(session, scope), actor.user_id, today)
    return HomeContent(tasks, launches, reviews, objectives, pms, period, key_results)
