"""The reads behind `/okr ask`: the typed query's filters as SQL, so only what the answer needs is loaded.

Every value reaches SQL as a bound parameter (names, ids and numbers from a validated query, never question text
as SQL). The status of a key result as of a day is computed here by the same rule as agents/okr_progress.py
(`status_severity`, checked against it by tests/test_okr_query_sql.py), so a status filter narrows in the database;
the caller recomputes the statuses of what it shows with the Python rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.okr_enums import ApprovalState, OkrStatus, Visibility
from storage.okr_models import KeyResult, Objective
from storage.okr_snapshot import KEY_RESULT_COLUMNS, OBJECTIVE_COLUMNS
from storage.okrs import like_pattern
from storage.scope import Scope


@dataclass(frozen=True)
class StatusRule:
    """The status rule's numbers for one period and day (agents/okr_progress.py documents the rule)."""

    off_track_below: float
    at_risk_below: float
    # A check-in before this day is older than stale_after_days.
    stale_before: date
    # No check-in yet and more than no_checkin_elapsed of the period gone.
    no_checkin_at_risk: bool


@dataclass(frozen=True)
class OkrFilter:
    """Which objectives of a period a person may see and asked about; None means not filtered."""

    period_id: int
    viewer: str
    viewer_is_admin: bool
    level: str | None = None
    department: str | None = None
    team: str | None = None
    # On objectives for an objectives question, on key results for a key results question.
    owner: str | None = None
    text: str | None = None
    severities: tuple[int, ...] = ()


def status_severity(rule: StatusRule) -> ColumnElement[int]:
    """A key result's status severity (OkrStatus.severity) from its cached facts, as SQL."""
    has_forecast = KeyResult.forecast.is_not(None)
    at_risk = OkrStatus.AT_RISK.severity
    whens: list[tuple[ColumnElement[bool], int]] = [
        (KeyResult.progress >= 1, OkrStatus.DONE.severity),
        (and_(has_forecast, KeyResult.forecast < rule.off_track_below), OkrStatus.OFF_TRACK.severity),
        (and_(has_forecast, KeyResult.forecast < rule.at_risk_below), at_risk),
        (and_(KeyResult.last_checkin_on.is_not(None), KeyResult.last_checkin_on < rule.stale_before), at_risk),
    ]
    if rule.no_checkin_at_risk:
        whens.append((KeyResult.last_checkin_on.is_(None), at_risk))
    return case(*whens, else_=OkrStatus.ON_TRACK.severity)


def _lower_equals(column: Any, value: str) -> ColumnElement[bool]:
    return func.lower(column) == value.lower()


def _text_matches(title: Any, key: Any, text: str) -> ColumnElement[bool]:
    lowered = text.lower()
    return or_(func.lower(title).like(like_pattern(lowered), escape="\\"), func.lower(key) == lowered)


class OkrQueryRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    @property
    def ws(self) -> str:
        return self.scope.workspace_id

    async def _rows(self, statement: Any) -> Any:
        """Core rows on the session's connection: no ORM row processing for thousands of plain tuples."""
        return await (await self.session.connection()).execute(statement)

    def _objectives_where(self, f: OkrFilter) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = [
            Objective.workspace_id == self.ws, Objective.period_id == f.period_id,
            Objective.approval == ApprovalState.APPROVED,
        ]
        if not f.viewer_is_admin:
            where.append(or_(Objective.visibility != Visibility.PRIVATE, Objective.owner_id == f.viewer))
        if f.level:
            where.append(Objective.level == f.level)
        # SQL lower() is ASCII-only on SQLite; other names are matched by the caller on the loaded rows.
        if f.department and f.department.isascii():
            where.append(_lower_equals(Objective.department, f.department))
        if f.team and f.team.isascii():
            where.append(_lower_equals(Objective.team, f.team))
        return where

    async def has_history_after(self, period_id: int, day: date) -> bool:
        """Whether a key result of the period has a check-in after `day` (its cached facts are not as of `day`)."""
        return bool(await self.session.scalar(select(exists().where(
            KeyResult.workspace_id == self.ws, KeyResult.last_checkin_on > day,
            KeyResult.objective_id.in_(select(Objective.id).where(Objective.workspace_id == self.ws,
                                                                  Objective.period_id == period_id)),
        ))))

    async def objective_summaries(self, f: OkrFilter, rule: StatusRule) -> list[Any]:
        """Matching objectives (id, key, title, level, department, team) with their key results' count (0: none),
        worst severity and weighted progress; `objectives` reads the full rows of those an answer shows."""
        severity = status_severity(rule)
        query = (
            # Grouped by the primary key: the objective's other columns depend on it (SQLite and PostgreSQL).
            select(Objective.id, Objective.key, Objective.title, Objective.level, Objective.department,
                   Objective.team, func.count(KeyResult.id).label("kr_count"),
                   func.max(severity).label("severity"),
                   func.sum(KeyResult.weight * KeyResult.progress).label("weighted"),
                   func.sum(KeyResult.weight).label("weights"))
            .outerjoin(KeyResult, and_(KeyResult.objective_id == Objective.id, KeyResult.workspace_id == self.ws))
            .where(*self._objectives_where(f))
            .group_by(Objective.id)
        )
        if f.owner:
            query = query.where(Objective.owner_id == f.owner)
        if f.text and f.text.isascii():
            query = query.where(_text_matches(Objective.title, Objective.key, f.text))
        if f.severities:
            # Objectives without key results take their children's status: the caller decides those.
            query = query.having(or_(func.max(severity).in_(f.severities), func.count(KeyResult.id) == 0))
        return list(await self._rows(query))

    async def key_results(self, f: OkrFilter, rule: StatusRule) -> list[Any]:
        """Matching key results of matching objectives: id, key, title and the objective's department and team."""
        query = (
            select(KeyResult.id, KeyResult.key, KeyResult.title, Objective.department, Objective.team)
            .join(Objective, Objective.id == KeyResult.objective_id)
            .where(KeyResult.workspace_id == self.ws, *self._objectives_where(f))
        )
        if f.owner:
            query = query.where(KeyResult.owner_id == f.owner)
        if f.text and f.text.isascii():
            query = query.where(_text_matches(KeyResult.title, KeyResult.key, f.text))
        if f.severities:
            query = query.where(status_severity(rule).in_(f.severities))
        return list(await self._rows(query))

    async def objectives(self, objective_ids: Sequence[int]) -> list[Any]:
        if not objective_ids:
            return []
        return list(await self._rows(
            select(*OBJECTIVE_COLUMNS).where(Objective.workspace_id == self.ws, Objective.id.in_(objective_ids))
        ))

    async def key_results_by_id(self, key_result_ids: Sequence[int]) -> list[Any]:
        if not key_result_ids:
            return []
        return list(await self._rows(
            select(*KEY_RESULT_COLUMNS)
            .where(KeyResult.workspace_id == self.ws, KeyResult.id.in_(key_result_ids))
        ))

    async def key_results_of(self, objective_ids: Sequence[int]) -> list[Any]:
        if not objective_ids:
            return []
        return list(await self._rows(
            select(*KEY_RESULT_COLUMNS)
            .where(KeyResult.workspace_id == self.ws, KeyResult.objective_id.in_(objective_ids))
            .order_by(KeyResult.key)
        ))
