"""`liftoff okr import TREE.yaml`: periods, people, objectives, key results and check-ins, upserted by key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from agents.okr_audit import OkrAuditAction, record
from agents.okr_board import Board, windows_of
from agents.okr_checkin import refresh_key_result, rules_for
from agents.okr_progress import Window
from storage.enums import Role
from storage.okr_enums import ApprovalState, ObjectiveLevel, ProgressSource, Visibility
from storage.okr_snapshot import period_rows
from storage.okrs import OkrRepository


class TreeFileError(ValueError):
    """The tree file is not in the import format; the message names the entry and the field."""


@dataclass(frozen=True)
class ImportSummary:
    periods: int
    people: int
    objectives: int
    key_results: int
    checkins: int


def load_tree(path: str | Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TreeFileError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise TreeFileError("the tree file must be a mapping with periods, people and objectives")
    return data


def _need(entry: dict[str, Any], field: str, where: str) -> Any:
    value = entry.get(field)
    if value is None or value == "":
        raise TreeFileError(f"{where}: missing {field}")
    return value


def _day(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise TreeFileError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from exc


def _number(value: Any, where: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise TreeFileError(f"{where}: {value!r} is not a number") from exc


def _choice(value: Any, allowed: type, where: str) -> str:
    try:
        return str(allowed(str(value)))
    except ValueError as exc:
        raise TreeFileError(f"{where}: {value!r} must be one of {', '.join(a.value for a in allowed)}") from exc


async def import_tree(repo: OkrRepository, data: dict[str, Any], today: date, *,
                      actor: str = "okr-import") -> ImportSummary:
    periods = {}
    for entry in data.get("periods") or []:
        name = str(_need(entry, "name", "period"))
        start, end = _day(_need(entry, "start", name), name), _day(_need(entry, "end", name), name)
        if end <= start:
            raise TreeFileError(f"period {name}: end must be after start")
        periods[name] = await repo.upsert_period(name, start, end)
    for period in await repo.periods():
        periods.setdefault(period.name, period)
    people = data.get("people") or []
    known = await repo.people()
    for entry in people:
        slack_id = str(_need(entry, "slack_id", "person"))
        role = _choice(entry.get("role") or Role.MEMBER, Role, slack_id)
        before = await repo.role_of(slack_id) if slack_id in known else None
        await repo.upsert_person(slack_id, name=str(entry.get("name") or slack_id), role=role,
                                 department=entry.get("department"), team=entry.get("team"), title=entry.get("title"))
        if before != role:
            await record(repo, actor=actor, action=OkrAuditAction.ROLE_SET, target=f"user:{slack_id}",
                         before=None if before is None else {"role": before}, after={"role": role},
                         note="from an OKR tree import")
    objectives = data.get("objectives") or []
    by_key = {}
    counts = {"key_results": 0, "checkins": 0}
    for entry in objectives:
        key = str(_need(entry, "key", "objective"))
        period_name = str(_need(entry, "period", key))
        if period_name not in periods:
            raise TreeFileError(f"{key}: unknown period {period_name}")
        values = dict(
            title=str(_need(entry, "title", key)),
            level=_choice(_need(entry, "level", key), ObjectiveLevel, key),
            owner_id=str(_need(entry, "owner", key)),
            department=entry.get("department"),
            team=entry.get("team"),
            period_id=periods[period_name].id,
            visibility=_choice(entry.get("visibility") or Visibility.PUBLIC, Visibility, key),
            approval=ApprovalState.APPROVED,
        )
        objective = await repo.objective_by_key(key)
        if objective is None:
            objective = await repo.add_objective(key=key, **values)
        else:
            for name, value in values.items():
                setattr(objective, name, value)
        by_key[key] = objective
    for entry in objectives:
        parent_key = entry.get("parent")
        objective = by_key[str(entry["key"])]
        if parent_key:
            parent = by_key.get(str(parent_key)) or await repo.objective_by_key(str(parent_key))
            if parent is None:
                raise TreeFileError(f"{objective.key}: unknown parent {parent_key}")
            objective.parent_id = parent.id
        period = periods_by_id(periods)[objective.period_id]
        window = Window(period.start, period.end)
        for kr_entry in entry.get("key_results") or []:
            await _import_key_result(repo, objective, kr_entry, window, today, counts)
    await repo.session.flush()
    await refresh_objective_caches(repo, [p.id for p in periods.values()], today)
    summary = ImportSummary(len(periods), len(people), len(objectives), counts["key_results"], counts["checkins"])
    await record(repo, actor=actor, action=OkrAuditAction.IMPORTED, target="okr:tree",
                 after={**summary.__dict__, "objective_keys": sorted(by_key)[:200]})
    return summary


def periods_by_id(periods: dict[str, Any]) -> dict[int, Any]:
    return {p.id: p for p in periods.values()}


async def _import_key_result(repo: OkrRepository, objective: Any, entry: dict[str, Any], window: Window,
                             today: date, counts: dict[str, int]) -> None:
    key = str(_need(entry, "key", f"{objective.key} key result"))
    values = dict(
        objective_id=objective.id,
        title=str(_need(entry, "title", key)),
        owner_id=str(_need(entry, "owner", key)),
        start_value=_number(_need(entry, "start", key), key),
        target_value=_number(_need(entry, "target", key), key),
        unit=str(entry.get("unit") or ""),
        weight=_number(entry.get("weight", 1), key),
        source=_choice(entry.get("source") or ProgressSource.MANUAL, ProgressSource, key),
        source_ref=entry.get("source_ref"),
    )
    if values["weight"] <= 0:
        raise TreeFileError(f"{key}: weight must be above 0")
    kr = await repo.key_result_by_key(key)
    if kr is None:
        kr = await repo.add_key_result(key=key, **values)
    else:
        for name, value in values.items():
            setattr(kr, name, value)
    for checkin in entry.get("checkins") or []:
        day = _day(_need(checkin, "date", key), key)
        confidence = checkin.get("confidence")
        if confidence is not None and not 0 <= float(confidence) <= 1:
            raise TreeFileError(f"{key} check-in {day}: confidence must be within 0..1")
        added = await repo.add_checkin(
            kr, day=day, value=_number(_need(checkin, "value", key), key),
            confidence=None if confidence is None else float(confidence), note=str(checkin.get("note") or ""),
            author=str(checkin.get("author") or kr.owner_id), source=ProgressSource.MANUAL,
            source_ref=f"import:{day.isoformat()}",
        )
        counts["checkins"] += added is not None
    counts["key_results"] += 1
    await refresh_key_result(repo, kr, window, today, await rules_for(repo))


async def refresh_objective_caches(repo: OkrRepository, period_ids: list[int], today: date) -> None:
    """Recompute every objective's cached rollup in these periods (after a bulk change)."""
    rules = await rules_for(repo)
    objectives, key_results = await period_rows(repo.session, repo.scope, period_ids)
    windows = windows_of([p for p in await repo.periods() if p.id in period_ids])
    board = Board(objectives, key_results, windows, today, rules)
    for view in board.objectives.values():
        await repo.set_objective_rollup(view.row.id, view.progress, view.status, today)
