"""Resource conflicts across a workspace's concurrent launches, found when the next launch is planned."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from agents.orchestrator import PlanOutcome, plan_launch
from storage.db import Database
from storage.launches import LaunchRepository
from storage.migrate import upgrade_async
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository

TEAM = [("Omar Haddad", "eng_lead", "U101"), ("Lucia Romero", "engineer", "U102"), ("Tom Becker", "qa", "U103")]
BRIEF = "Ship the new search service with load testing, a regression pass and QA sign-off on the release candidate."


async def plan(db: Database, scope: Scope, name: str, target: date) -> list[dict]:
    async with db.session() as session:
        await WorkspaceRepository(session, scope).ensure()
        launch = await LaunchRepository(session, scope).create_draft(
            name=name, brief=BRIEF, target_date=target, launch_type="software_release", channel_id=None,
            created_by="U101", members=TEAM,
        )
    assert await plan_launch(db, scope.workspace_id, launch.id) is PlanOutcome.PLANNED
    async with db.reader() as session:
        stored = await LaunchRepository(session, scope).get(launch.id)
    assert stored is not None
    return stored.risks


def overbooked_weeks(risks: list[dict]) -> int:
    """Person-weeks over capacity, from the resource_conflict risk's evidence (0 without one)."""
    for risk in risks:
        if risk["code"] == "resource_conflict":
            match = re.search(r"over capacity in (\d+) week", risk["evidence"])
            assert match, risk["evidence"]
            return int(match.group(1))
    return 0


async def test_a_second_launch_over_the_same_people_is_a_resource_conflict(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/x.db"
    await upgrade_async(url)
    db = Database(url)
    try:
        target = date.today() + timedelta(days=75)
        alone = overbooked_weeks(await plan(db, Scope("T1"), "Search", target))
        # The same plan again, for the same three people at the same time: their weeks fill up twice.
        together = overbooked_weeks(await plan(db, Scope("T1"), "Search for teams", target))
        assert together > alone
        # Another workspace's launches are not this workspace's load.
        assert overbooked_weeks(await plan(db, Scope("T2"), "Search", target)) == alone
    finally:
        await db.dispose()
