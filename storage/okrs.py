"""OKR repository: periods, objectives, key results, check-ins, comments, decisions, settings.

Every query is filtered by the scope's workspace. Text from people is only ever a bound parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.audit import AuditLog
from storage.enums import Role
from storage.models import User
from storage.okr_enums import ApprovalState, OkrAuditAction
from storage.okr_models import (
    CheckIn,
    KeyResult,
    Objective,
    OkrComment,
    OkrDecision,
    OkrPeriod,
    OkrProfile,
    OkrSettings,
)
from storage.scope import Scope
from storage.workspaces import insert_ignoring_duplicates

# Ids in payloads are text; anything past a 32-bit integer cannot be a row (and PostgreSQL would refuse it).
MAX_ROW_ID = 2**31 - 1


def row_id(value: object) -> int | None:
    """An id from a payload (button value, select option, block id): ASCII digits within range, else None."""
    text = str(value if value is not None else "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ROW_ID else None


def without_nul(text: str) -> str:
    """PostgreSQL text cannot hold NUL, and no person means one: drop it before text reaches a query."""
    return text.replace("\x00", "")


def _in_range(number: int | None) -> bool:
    return number is not None and 0 < number <= MAX_ROW_ID


def like_pattern(text: str) -> str:
    """A LIKE pattern matching text anywhere, with LIKE's wildcards escaped (used with escape='\\')."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class OkrRepository:
    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    @property
    def ws(self) -> str:
        return self.scope.workspace_id

    # --- people -----------------------------------------------------------------------------------

    async def role_of(self, slack_id: str) -> str:
        role = await self.session.scalar(
            select(User.role).where(User.workspace_id == self.ws, User.slack_id == slack_id)
        )
        return str(role or Role.MEMBER)

    async def admins(self) -> list[str]:
        return list(await self.session.scalars(
            select(User.slack_id).where(User.workspace_id == self.ws, User.role == Role.ADMIN).order_by(User.slack_id)
        ))

    async def people(self) -> dict[str, str]:
        """slack id -> name of everyone known in the workspace."""
        rows = await self.session.execute(select(User.slack_id, User.name).where(User.workspace_id == self.ws))
        return {slack_id: name for slack_id, name in rows}

    async def upsert_person(self, slack_id: str, *, name: str, role: str, department: str | None,
                            team: str | None, title: str | None) -> None:
        await self.session.execute(
            insert_ignoring_duplicates(self.session, User).values(workspace_id=self.ws, slack_id=slack_id, name=name,
                                                                  role=role)
        )
        await self.session.execute(
            update(User).where(User.workspace_id == self.ws, User.slack_id == slack_id).values(name=name, role=role)
        )
        profile = await self.profile(slack_id)
        if profile is None:
            profile = OkrProfile(workspace_id=self.ws, slack_id=slack_id)
            self.session.add(profile)
        profile.department, profile.team, profile.title = department, team, title

    async def profile(self, slack_id: str) -> OkrProfile | None:
        return await self.session.scalar(
            select(OkrProfile).where(OkrProfile.workspace_id == self.ws, OkrProfile.slack_id == slack_id)
        )

    # --- periods ----------------------------------------------------------------------------------

    async def upsert_period(self, name: str, start: date, end: date) -> OkrPeriod:
        period = await self.period_named(name)
        if period is None:
            period = OkrPeriod(workspace_id=self.ws, name=name, start=start, end=end)
            self.session.add(period)
        period.start, period.end = start, end
        await self.session.flush()
        return period

    async def period_named(self, name: str) -> OkrPeriod | None:
        return await self.session.scalar(
            select(OkrPeriod).where(OkrPeriod.workspace_id == self.ws, func.lower(OkrPeriod.name) == name.lower())
        )

    async def periods(self) -> list[OkrPeriod]:
        return list(await self.session.scalars(
            select(OkrPeriod).where(OkrPeriod.workspace_id == self.ws).order_by(OkrPeriod.start)
        ))

    async def period(self, period_id: int) -> OkrPeriod | None:
        if not _in_range(period_id):
            return None
        period = await self.session.get(OkrPeriod, period_id)
        return period if period is not None and period.workspace_id == self.ws else None

    # --- objectives -------------------------------------------------------------------------------

    async def objective(self, objective_id: int) -> Objective | None:
        if not _in_range(objective_id):
            return None
        objective = await self.session.get(Objective, objective_id)
        return objective if objective is not None and objective.workspace_id == self.ws else None

    async def objective_by_key(self, key: str) -> Objective | None:
        return await self.session.scalar(
            select(Objective).where(Objective.workspace_id == self.ws, func.upper(Objective.key) == key.upper())
        )

    async def add_objective(self, **values: Any) -> Objective:
        objective = Objective(workspace_id=self.ws, **values)
        self.session.add(objective)
        await self.session.flush()
        return objective

    async def objectives(self, *, period_id: int | None = None, owner_id: str | None = None,
                         text: str | None = None, limit: int | None = None) -> list[Objective]:
        query = select(Objective).where(Objective.workspace_id == self.ws)
        if period_id is not None:
            query = query.where(Objective.period_id == period_id)
        if owner_id is not None:
            query = query.where(Objective.owner_id == owner_id)
        if text:
            pattern = like_pattern(text)
            query = query.where(or_(func.lower(Objective.title).like(pattern, escape="\\"),
                                    func.lower(Objective.key).like(pattern, escape="\\")))
        query = query.order_by(Objective.key)
        if limit is not None:
            query = query.limit(limit)
        return list(await self.session.scalars(query))

    async def children(self, objective_id: int) -> list[Objective]:
        return list(await self.session.scalars(
            select(Objective).where(Objective.workspace_id == self.ws, Objective.parent_id == objective_id)
            .order_by(Objective.key)
        ))

    async def key_exists(self, key: str) -> bool:
        return await self.objective_by_key(key) is not None or await self.key_result_by_key(key) is not None

    async def next_key(self, prefix: str) -> str:
        """The first free PREFIX-N key."""
        count = await self.session.scalar(
            select(func.count()).select_from(Objective).where(Objective.workspace_id == self.ws)
        )
        n = int(count or 0) + 1
        while await self.objective_by_key(f"{prefix}-{n}") is not None:
            n += 1
        return f"{prefix}-{n}"

    async def set_objective_rollup(self, objective_id: int, progress: float, status: str, on: date) -> None:
        await self.session.execute(
            update(Objective).where(Objective.workspace_id == self.ws, Objective.id == objective_id)
            .values(progress=progress, status=status, status_on=on)
        )

    async def set_approval(self, objective: Objective, state: ApprovalState, actor: str, reason: str = "") -> None:
        objective.approval = state
        objective.return_reason = reason or None
        self.session.add(OkrDecision(workspace_id=self.ws, objective_id=objective.id, actor=actor,
                                     decision=state, reason=reason))
        await self.session.flush()

    async def decide_submitted(self, objective: Objective, state: ApprovalState, actor: str, reason: str = "") -> bool:
        """Approve or return `objective` only while it is still submitted; False when another decision came first.

        The condition sits in the UPDATE itself, so of two people deciding at once exactly one changes the row
        (PostgreSQL re-checks it after the first commits; SQLite has one writer). `objective` is reloaded either way.
        """
        result = await self.session.execute(
            update(Objective)
            .where(Objective.workspace_id == self.ws, Objective.id == objective.id,
                   Objective.approval == ApprovalState.SUBMITTED)
            .values(approval=state, return_reason=reason or None)
            .execution_options(synchronize_session=False)
        )
        await self.session.refresh(objective)
        if result.rowcount != 1:
            return False
        self.session.add(OkrDecision(workspace_id=self.ws, objective_id=objective.id, actor=actor,
                                     decision=state, reason=reason))
        await self.session.flush()
        return True

    async def last_decision(self, objective_id: int) -> OkrDecision | None:
        return await self.session.scalar(
            select(OkrDecision).where(OkrDecision.workspace_id == self.ws, OkrDecision.objective_id == objective_id)
            .order_by(OkrDecision.id.desc()).limit(1)
        )

    async def decisions(self, objective_id: int) -> list[OkrDecision]:
        return list(await self.session.scalars(
            select(OkrDecision).where(OkrDecision.workspace_id == self.ws, OkrDecision.objective_id == objective_id)
            .order_by(OkrDecision.id)
        ))

    # --- key results ------------------------------------------------------------------------------

    async def key_result(self, key_result_id: int) -> KeyResult | None:
        if not _in_range(key_result_id):
            return None
        kr = await self.session.get(KeyResult, key_result_id)
        return kr if kr is not None and kr.workspace_id == self.ws else None

    async def key_result_by_key(self, key: str) -> KeyResult | None:
        return await self.session.scalar(
            select(KeyResult).where(KeyResult.workspace_id == self.ws, func.upper(KeyResult.key) == key.upper())
        )

    async def add_key_result(self, **values: Any) -> KeyResult:
        kr = KeyResult(workspace_id=self.ws, **values)
        self.session.add(kr)
        await self.session.flush()
        return kr

    async def key_results_of(self, objective_ids: Sequence[int]) -> list[KeyResult]:
        if not objective_ids:
            return []
        return list(await self.session.scalars(
            select(KeyResult).where(KeyResult.workspace_id == self.ws, KeyResult.objective_id.in_(objective_ids))
            .order_by(KeyResult.key)
        ))

    async def key_results_owned(self, owner_id: str, period_id: int | None = None) -> list[KeyResult]:
        query = select(KeyResult).join(Objective, Objective.id == KeyResult.objective_id).where(
            KeyResult.workspace_id == self.ws, KeyResult.owner_id == owner_id
        )
        if period_id is not None:
            query = query.where(Objective.period_id == period_id)
        return list(await self.session.scalars(query.order_by(KeyResult.key)))

    async def key_results_by_source(self, source: str, source_ref: str | None = None) -> list[KeyResult]:
        query = select(KeyResult).where(KeyResult.workspace_id == self.ws, KeyResult.source == source)
        if source_ref is not None:
            query = query.where(KeyResult.source_ref == source_ref)
        return list(await self.session.scalars(query.order_by(KeyResult.key)))

    async def set_key_result_facts(self, kr: KeyResult, *, current: float | None, progress: float,
                                   forecast: float | None, last_checkin_on: date | None, status: str) -> None:
        kr.current_value, kr.progress, kr.forecast = current, progress, forecast
        kr.last_checkin_on, kr.status = last_checkin_on, status

    # --- check-ins --------------------------------------------------------------------------------

    async def add_checkin(self, kr: KeyResult, **values: Any) -> CheckIn | None:
        """Record a check-in; None when its source_ref was recorded before (an idempotent repeat)."""
        ref = values.get("source_ref")
        if ref is not None and await self.session.scalar(
            select(CheckIn.id).where(CheckIn.key_result_id == kr.id, CheckIn.source_ref == ref)
        ):
            return None
        checkin = CheckIn(workspace_id=self.ws, key_result_id=kr.id, **values)
        self.session.add(checkin)
        await self.session.flush()
        return checkin

    async def checkins(self, key_result_id: int) -> list[CheckIn]:
        return list(await self.session.scalars(
            select(CheckIn).where(CheckIn.workspace_id == self.ws, CheckIn.key_result_id == key_result_id)
            .order_by(CheckIn.day, CheckIn.id)
        ))

    async def checkin_points(self, key_result_ids: Sequence[int]) -> dict[int, list[tuple[date, float]]]:
        out: dict[int, list[tuple[date, float]]] = {i: [] for i in key_result_ids}
        if not key_result_ids:
            return out
        rows = await self.session.execute(
            select(CheckIn.key_result_id, CheckIn.day, CheckIn.value)
            .where(CheckIn.workspace_id == self.ws, CheckIn.key_result_id.in_(key_result_ids))
            .order_by(CheckIn.day, CheckIn.id)
        )
        for kr_id, day, value in rows:
            out[kr_id].append((day, value))
        return out

    async def checkins_since(self, since: date, objective_ids: Sequence[int]) -> list[tuple[CheckIn, KeyResult]]:
        if not objective_ids:
            return []
        rows = await self.session.execute(
            select(CheckIn, KeyResult).join(KeyResult, KeyResult.id == CheckIn.key_result_id)
            .where(CheckIn.workspace_id == self.ws, CheckIn.day >= since, KeyResult.objective_id.in_(objective_ids))
            .order_by(CheckIn.day, CheckIn.id)
        )
        return [(c, k) for c, k in rows.tuples()]

    # --- comments ---------------------------------------------------------------------------------

    async def add_comment(self, objective_id: int, author: str, text: str, mentions: list[str]) -> OkrComment:
        comment = OkrComment(workspace_id=self.ws, objective_id=objective_id, author=author, text=text,
                             mentions=mentions)
        self.session.add(comment)
        await self.session.flush()
        return comment

    async def comments(self, objective_id: int) -> list[OkrComment]:
        return list(await self.session.scalars(
            select(OkrComment).where(OkrComment.workspace_id == self.ws, OkrComment.objective_id == objective_id)
            .order_by(OkrComment.id)
        ))

    # --- settings ---------------------------------------------------------------------------------

    async def settings(self) -> OkrSettings | None:
        return await self.session.get(OkrSettings, self.ws)

    async def save_settings(self, *, rules: dict[str, Any] | None = None, metric_secret: str | None = None,
                            actor: str = "okr-settings") -> None:
        row = await self.settings()
        if row is None:
            row = OkrSettings(workspace_id=self.ws, rules={})
            self.session.add(row)
        before = {"rules": dict(row.rules or {}), "metric_secret": "set" if row.metric_secret else None}
        if rules is not None:
            row.rules = rules
        if metric_secret is not None:
            row.metric_secret = metric_secret
        await self.session.flush()
        # The secret itself never enters the log; only that one is set.
        after = {"rules": dict(row.rules or {}), "metric_secret": "set" if row.metric_secret else None}
        if after != before:
            await AuditLog(self.session, self.scope).append(actor=actor, action=OkrAuditAction.SETTINGS_CHANGED,
                                                            target="okr:settings", before=before, after=after)


async def org_names(session: AsyncSession, scope: Scope) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(departments, teams) named on objectives or people's profiles in the workspace."""
    names: tuple[set[str], set[str]] = (set(), set())
    for model in (Objective, OkrProfile):
        rows = await session.execute(
            select(model.department, model.team).where(model.workspace_id == scope.workspace_id).distinct()
        )
        for department, team in rows:
            if department:
                names[0].add(department)
            if team:
                names[1].add(team)
    return tuple(sorted(names[0])), tuple(sorted(names[1]))
