"""Check-ins and the incremental rollup: a check-in recomputes its key result, then only the path up to the root."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from agents.notification_events import notify_key_result_risk
from agents.okr_audit import OkrAuditAction, key_result_state, key_result_target, record, record_refusal
from agents.okr_board import KrView, cached_facts
from agents.okr_progress import OkrRules, Point, Rollup, Window, kr_facts, kr_verdict, objective_rollup
from storage.okr_enums import OkrStatus, ProgressSource
from storage.okr_models import KeyResult, Objective
from storage.okr_rollup import RollupRepository, RollupWrite
from storage.okrs import OkrRepository

ALL_DAYS = date.max


class CheckInError(ValueError):
    """A check-in a person can fix (the message says how)."""


@dataclass(frozen=True)
class CheckInResult:
    key_result: KeyResult
    recorded: bool
    status: OkrStatus
    progress: float
    path: list[str]


async def rules_for(repo: OkrRepository) -> OkrRules:
    settings = await repo.settings()
    return OkrRules.from_json(settings.rules if settings else None)


async def window_of(repo: OkrRepository, objective: Objective) -> Window:
    period = await repo.period(objective.period_id)
    assert period is not None
    return Window(period.start, period.end)


async def refresh_key_result(repo: OkrRepository, kr: KeyResult, window: Window, today: date,
                             rules: OkrRules) -> OkrStatus:
    """Rewrite a key result's cached facts from its whole history."""
    points = [Point(c.day, c.value) for c in await repo.checkins(kr.id)]
    facts = kr_facts(kr.start_value, kr.target_value, points, window, ALL_DAYS)
    status = kr_verdict(facts, window, today, rules).status
    await repo.set_key_result_facts(kr, current=facts.current if points else None, progress=facts.progress,
                                    forecast=facts.forecast, last_checkin_on=facts.last_checkin_on, status=status)
    return status


async def roll_up_path(repo: OkrRepository, objective: Objective, today: date, rules: OkrRules,
                       known: dict[int, Window] | None = None) -> list[str]:
    """Recompute this objective and each ancestor from their key results' facts and children's caches.

    Incremental: the path is read in one query, its key results in one, the children of path objectives
    without key results in one, and the new rollups are written in one executemany UPDATE.
    """
    rollups = RollupRepository(repo.session, repo.scope)
    path = await rollups.path_up(objective.id)
    if not path:
        return []
    windows = dict(known or {})
    if missing := {r.period_id for r in path} - set(windows):  # a path normally lies in one period, known already
        windows |= {pid: Window(*bounds) for pid, bounds in (await rollups.windows(list(missing))).items()}
    ids = [row.id for row in path]
    measured: dict[int, list[tuple[float, float, OkrStatus]]] = {i: [] for i in ids}
    for k in await rollups.key_result_facts(ids):
        facts = cached_facts(k)
        measured[k.objective_id].append(
            (k.weight, k.progress, kr_verdict(facts, windows[_period_of(path, k.objective_id)], today, rules).status)
        )
    children: dict[int, dict[int, Rollup]] = {i: {} for i in ids}
    for c in await rollups.approved_children([i for i in ids if not measured[i]]):
        children[c.parent_id][c.id] = Rollup(c.progress, OkrStatus(c.status))
    writes: list[RollupWrite] = []
    below: tuple[int, Rollup] | None = None
    for row in path:
        mine = children[row.id]
        if below is not None and below[0] in mine:
            mine[below[0]] = below[1]  # the child just recomputed, not its old cache
        rollup = objective_rollup(measured[row.id], list(mine.values()), windows[row.period_id], today, rules)
        writes.append(RollupWrite(row.id, rollup.progress, rollup.status))
        below = (row.id, rollup)
    await rollups.write(writes, today)
    return [row.key for row in path]


def _period_of(path: list[Any], objective_id: int) -> int:
    return next(row.period_id for row in path if row.id == objective_id)


async def check_in(repo: OkrRepository, kr: KeyResult, *, value: float, author: str, day: date,
                   confidence: float | None = None, note: str = "", source: str = ProgressSource.MANUAL,
                   source_ref: str | None = None, rules: OkrRules | None = None) -> CheckInResult:
    """Record a check-in (idempotent per source_ref) and roll it up to the company objective."""
    if not math.isfinite(value):
        raise CheckInError("Enter a finite number, e.g. 42 or 99.5.")
    if confidence is not None and not 0 <= confidence <= 1:
        raise CheckInError("Confidence must be between 0 and 1.")
    rules = rules or await rules_for(repo)
    objective = await repo.objective(kr.objective_id)
    assert objective is not None
    before = key_result_state(kr)
    status_before = kr.status
    checkin = await repo.add_checkin(kr, day=day, value=value, confidence=confidence, note=note[:3000],
                                     author=author, source=source, source_ref=source_ref)
    window = await window_of(repo, objective)
    status = await refresh_key_result(repo, kr, window, day, rules)
    path = await roll_up_path(repo, objective, day, rules, {objective.period_id: window})
    if checkin is not None:
        await record(repo, actor=author, action=OkrAuditAction.CHECKED_IN, target=key_result_target(kr),
                     before=before, after={**key_result_state(kr), "value": value, "day": day, "source": source},
                     note=f"rolled up {' → '.join(path)}")
        await notify_key_result_risk(repo.session, repo.scope, kr, status_before, status, checkin_id=checkin.id,
                                     author=author, value=value)
    return CheckInResult(kr, checkin is not None, status, kr.progress, path)


async def key_result_view(repo: OkrRepository, kr: KeyResult, today: date) -> KrView:
    """A key result's verdict as of today from its cached facts (no need to load its period's tree)."""
    objective = await repo.objective(kr.objective_id)
    assert objective is not None
    return KrView(kr, kr_verdict(cached_facts(kr), await window_of(repo, objective), today, await rules_for(repo)))


UPDATE_USAGE = "Use `/okr update KEY VALUE [note]`, e.g. `/okr update ENG-1.1 560 shipped the cache`."


def parse_update_text(text: str) -> tuple[str, float, str]:
    """KEY VALUE [note] from the keyboard; raises CheckInError with the usage line."""
    parts = text.split(maxsplit=2)
    if len(parts) < 2:
        raise CheckInError(UPDATE_USAGE)
    try:
        value = float(parts[1].replace(",", "").rstrip("%"))
    except ValueError as exc:
        raise CheckInError(f"{parts[1]!r} is not a number. {UPDATE_USAGE}") from exc
    return parts[0], value, parts[2] if len(parts) > 2 else ""


async def check_in_as(repo: OkrRepository, actor: str, key_result: KeyResult, *, value: float, day: date,
                      note: str = "", confidence: float | None = None) -> CheckInResult:
    """A person's check-in: allowed for the key result's owner, the objective's owner or an Admin."""
    from agents.policy.okrs import can_check_in

    objective = await repo.objective(key_result.objective_id)
    assert objective is not None
    if not can_check_in(actor, await repo.role_of(actor), key_result, objective):
        reason = (f"Only <@{key_result.owner_id}>, <@{objective.owner_id}> or an Admin can check in on "
                  f"{key_result.key}.")
        await record_refusal(repo, actor=actor, attempted=OkrAuditAction.CHECKED_IN,
                             target=key_result_target(key_result), reason=reason)
        raise CheckInError(reason)
    return await check_in(repo, key_result, value=value, author=actor, day=day, note=note, confidence=confidence)
