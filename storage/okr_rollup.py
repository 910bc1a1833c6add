"""The rows an incremental rollup needs, and its write: the path from one objective up to its root.

A check-in touches one key result; only the objectives on its path to the company objective change. They
are read in one recursive query, their key results and (where needed) children in one query each, and
written back with one executemany UPDATE. Plain rows, not ORM objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from storage.okr_enums import ApprovalState
from storage.okr_models import KeyResult, Objective, OkrPeriod
from storage.scope import Scope

# Deeper than any real alignment tree; it also stops a parent cycle a bad import might have made.
MAX_DEPTH = 64


@dataclass(frozen=True)
class RollupWrite:
    objective_id: int
    progress: float
    status: str


class RollupRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    @property
    def ws(self) -> str:
        return self.scope.workspace_id

    async def path_up(self, objective_id: int) -> list[Any]:
        """The objective and its ancestors, nearest first: id, key, parent_id, period_id, progress, status."""
        start = (
            select(Objective.id, Objective.parent_id, literal(0).label("depth"))
            .where(Objective.workspace_id == self.ws, Objective.id == objective_id)
            .cte("okr_path", recursive=True)
        )
        parents = (
            select(Objective.id, Objective.parent_id, (start.c.depth + 1).label("depth"))
            .join(start, Objective.id == start.c.parent_id)
            .where(Objective.workspace_id == self.ws, start.c.depth < MAX_DEPTH)
        )
        path = start.union_all(parents)
        rows = await self.session.execute(
            select(Objective.id, Objective.key, Objective.parent_id, Objective.period_id, Objective.progress,
                   Objective.status, path.c.depth)
            .join(path, path.c.id == Objective.id)
            .order_by(path.c.depth)
        )
        seen: set[int] = set()
        out = []
        for row in rows:
            if row.id in seen:  # a cycle: the path ends where it repeats
                break
            seen.add(row.id)
            out.append(row)
        return out

    async def windows(self, period_ids: Sequence[int]) -> dict[int, tuple[date, date]]:
        rows = await self.session.execute(
            select(OkrPeriod.id, OkrPeriod.start, OkrPeriod.end)
            .where(OkrPeriod.workspace_id == self.ws, OkrPeriod.id.in_(set(period_ids)))
        )
        return {row.id: (row.start, row.end) for row in rows}

    async def key_result_facts(self, objective_ids: Sequence[int]) -> list[Any]:
        """objective_id, weight and the cached facts of the key results of these objectives."""
        return list(await self.session.execute(
            select(KeyResult.objective_id, KeyResult.weight, KeyResult.start_value, KeyResult.current_value,
                   KeyResult.progress, KeyResult.forecast, KeyResult.last_checkin_on)
            .where(KeyResult.workspace_id == self.ws, KeyResult.objective_id.in_(objective_ids))
        ))

    async def approved_children(self, parent_ids: Sequence[int]) -> list[Any]:
        """parent_id, id, progress and status of the approved children of these objectives."""
        if not parent_ids:
            return []
        return list(await self.session.execute(
            select(Objective.parent_id, Objective.id, Objective.progress, Objective.status)
            .where(Objective.workspace_id == self.ws, Objective.parent_id.in_(parent_ids),
                   Objective.approval == ApprovalState.APPROVED)
        ))

    async def write(self, writes: Sequence[RollupWrite], on: date) -> None:
        """One executemany UPDATE for the changed objectives; loaded ORM copies take the new values too."""
        if not writes:
            return
        table = Objective.__table__
        statement = (
            update(table)
            .where(table.c.workspace_id == self.ws, table.c.id == bindparam("b_id"))
            .values(progress=bindparam("b_progress"), status=bindparam("b_status"), status_on=on)
        )
        await self.session.execute(statement, [
            {"b_id": w.objective_id, "b_progress": w.progress, "b_status": w.status} for w in writes
        ])
        for w in writes:
            loaded = self.session.identity_map.get(identity_key(Objective, w.objective_id))
            if loaded is not None:
                # Already written: set without marking the object dirty (no second UPDATE at flush).
                set_committed_value(loaded, "progress", w.progress)
                set_committed_value(loaded, "status", w.status)
                set_committed_value(loaded, "status_on", on)
