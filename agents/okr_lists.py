"""What `/okr list` and `/okr tree` show: a person's view of the current period's objectives."""

from __future__ import annotations

import re
from datetime import date

from agents.okr_board import Board, ObjectiveView
from agents.policy.okrs import can_see_objective
from agents.query import load_board, resolve_period
from storage.okr_enums import ObjectiveLevel
from storage.okrs import OkrRepository

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
LIST_USAGE = "Use `/okr list [mine|team|company|@person]`."


async def current_board(repo: OkrRepository, today: date, period_name: str | None = None) -> tuple[str, Board] | None:
    period = resolve_period(period_name, await repo.periods(), today)
    if period is None:
        return None
    return period.name, await load_board(repo, [period], today)


async def list_objectives(repo: OkrRepository, asker: str, which: str, today: date) -> tuple[str, list[ObjectiveView]]:
    """(title, objectives) for mine | team | company | @person; raises ValueError with the usage line."""
    which = which.strip()
    loaded = await current_board(repo, today)
    if loaded is None:
        return "No OKR period covers today. Import one with `liftoff okr import`.", []
    period, board = loaded
    role = await repo.role_of(asker)
    visible = [v for v in board.objectives.values() if can_see_objective(asker, role, v.row)]
    mention = MENTION.fullmatch(which)
    if which in ("", "mine"):
        title, chosen = f"My objectives · {period}", [v for v in visible if v.row.owner_id == asker or any(
            k.row.owner_id == asker for k in v.key_results)]
    elif which == "team":
        profile = await repo.profile(asker)
        team = profile.team if profile else None
        if not team:
            return "Your team is not set; import people with their team (`liftoff okr import`).", []
        title, chosen = f"{team} objectives · {period}", [v for v in visible if v.row.team == team]
    elif which == "company":
        title, chosen = f"Company objectives · {period}", [v for v in visible if v.row.level ==
                                                          ObjectiveLevel.COMPANY]
    elif mention:
        person = mention.group(1)
        title, chosen = f"Objectives of <@{person}> · {period}", [v for v in visible if v.row.owner_id == person]
    else:
        raise ValueError(f"I do not know the list {which!r}. {LIST_USAGE}")
    return title, sorted(chosen, key=lambda v: v.row.key)


async def tree_of(repo: OkrRepository, asker: str, key: str, today: date) -> tuple[str, list[ObjectiveView]]:
    """The alignment tree from one objective, or from every company objective; private branches hidden."""
    role = await repo.role_of(asker)
    if key:
        objective = await repo.objective_by_key(key)
        if objective is None or not can_see_objective(asker, role, objective):
            raise ValueError(f"No objective {key!r} that you can see.")
        period = await repo.period(objective.period_id)
        assert period is not None
        board = await load_board(repo, [period], today)
        root = board.objectives.get(objective.id)
        roots = [root] if root else []
        title = f"{objective.key} and what aligns to it · {period.name}"
    else:
        loaded = await current_board(repo, today)
        if loaded is None:
            return "No OKR period covers today.", []
        name, board = loaded
        roots = sorted(board.roots(), key=lambda v: v.row.key)
        title = f"OKR tree · {name}"
    for view in board.objectives.values():
        view.children = [c for c in view.children if can_see_objective(asker, role, c.row)]
    return title, [r for r in roots if can_see_objective(asker, role, r.row)]


async def my_key_results(repo: OkrRepository, asker: str, today: date) -> tuple[str | None, list]:
    """(period name, my key results with their verdicts) for the Home tab."""
    loaded = await current_board(repo, today)
    if loaded is None:
        return None, []
    period, board = loaded
    return period, sorted((k for k in board.key_results.values() if k.row.owner_id == asker), key=lambda k: k.row.key)
