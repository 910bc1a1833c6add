"""Seeding a fresh sandbox with the sample OKR tree, moved in time so its last period is today's quarter."""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.sandbox.workspace import TEAM_ID, TEAM_NAME
from storage.db import Database
from storage.scope import Scope

SEED_OKRS = Path(__file__).with_name("seed_okrs.yaml")


def add_months(day: date, months: int) -> date:
    """The same day `months` later; a month's last day stays its month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    was_last = day.day == calendar.monthrange(day.year, day.month)[1]
    return date(year, month + 1, last if was_last else min(day.day, last))


def quarter_name(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _shift(value: Any, months: int) -> Any:
    if isinstance(value, date):
        return add_months(value, months)
    if isinstance(value, list):
        return [_shift(item, months) for item in value]
    if isinstance(value, dict):
        return {key: _shift(item, months) for key, item in value.items()}
    return value


def tree_for(today: date, path: Path = SEED_OKRS) -> dict[str, Any]:
    """The seed tree with every date moved by whole quarters so its last period holds today; check-ins that
    would then lie in the future are left out."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    last = max(date.fromisoformat(str(p["start"])) for p in data["periods"])
    this_quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    months = (this_quarter.year - last.year) * 12 + this_quarter.month - last.month
    shifted = _shift(data, months)
    names = {}
    for period in shifted["periods"]:
        new_name = quarter_name(period["start"])
        names[period["name"]] = new_name
        period["name"] = new_name
    for objective in shifted["objectives"]:
        objective["period"] = names.get(objective["period"], objective["period"])
        for key_result in objective.get("key_results") or []:
            key_result["checkins"] = [c for c in key_result.get("checkins") or [] if c["date"] <= today]
    return shifted


async def seed_okrs(db: Database, today: date) -> bool:
    """Import the seed tree through `liftoff okr import`'s importer, once: False when OKRs are already there."""
    from agents.okr_import import import_tree
    from storage.okrs import OkrRepository
    from storage.workspaces import WorkspaceRepository

    async with db.session() as session:
        scope = Scope(TEAM_ID)
        await WorkspaceRepository(session, scope).ensure(TEAM_NAME)
        repo = OkrRepository(session, scope)
        if await repo.periods():
            return False
        await import_tree(repo, tree_for(today), today)
        return True
