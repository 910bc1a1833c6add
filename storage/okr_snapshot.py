"""Fast column reads of a period's OKR tree for questions, lists, reports and the Home tab.

Plain rows (attribute access by column name), not ORM objects: a question over 10,000 key results
must load in milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.okr_models import KeyResult, Objective
from storage.scope import Scope

OBJECTIVE_COLUMNS = (
    Objective.id, Objective.key, Objective.title, Objective.level, Objective.owner_id, Objective.department,
    Objective.team, Objective.period_id, Objective.parent_id, Objective.visibility, Objective.approval,
)
KEY_RESULT_COLUMNS = (
    KeyResult.id, KeyResult.key, KeyResult.title, KeyResult.objective_id, KeyResult.owner_id,
    KeyResult.start_value, KeyResult.target_value, KeyResult.unit, KeyResult.weight, KeyResult.source,
    KeyResult.current_value, KeyResult.progress, KeyResult.forecast, KeyResult.last_checkin_on,
)


async def period_rows(session: AsyncSession, scope: Scope, period_ids: Sequence[int]) -> tuple[list[Any], list[Any]]:
    """(objective rows, key result rows) of the given periods in the scope's workspace."""
    if not period_ids:
        return [], []
    objectives = list(await session.execute(
        select(*OBJECTIVE_COLUMNS).where(Objective.workspace_id == scope.workspace_id,
                                         Objective.period_id.in_(period_ids))
    ))
    key_results = list(await session.execute(
        select(*KEY_RESULT_COLUMNS).join(Objective, Objective.id == KeyResult.objective_id)
        .where(KeyResult.workspace_id == scope.workspace_id, Objective.period_id.in_(period_ids))
    ))
    return objectives, key_results
