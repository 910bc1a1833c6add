"""A period's OKR tree evaluated as of a day: every key result's verdict and every objective's rollup.

Lists, trees, questions, reports, digests and the Home tab all read statuses from here, so they agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from agents.okr_progress import (
    KrFacts,
    OkrRules,
    Point,
    Rollup,
    Verdict,
    Window,
    kr_facts,
    kr_verdict,
    objective_rollup,
)
from storage.okr_enums import ApprovalState, OkrStatus


@dataclass(frozen=True)
class KrView:
    row: Any
    verdict: Verdict

    @property
    def status(self) -> OkrStatus:
        return self.verdict.status


@dataclass
class ObjectiveView:
    row: Any
    progress: float = 0.0
    status: OkrStatus = OkrStatus.ON_TRACK
    key_results: list[KrView] = field(default_factory=list)
    children: list[ObjectiveView] = field(default_factory=list)

    def reason(self) -> str:
        """Which key result (or child objective) sets the status, and the figures behind it."""
        if self.key_results:
            worst = max(self.key_results, key=lambda k: (k.status.severity, -k.verdict.progress))
            return f"{worst.row.key}: {worst.verdict.reason()}"
        if self.children:
            worst_child = max(self.children, key=lambda c: (c.status.severity, -c.progress))
            return f"from {worst_child.row.key} ({worst_child.status.label})"
        return "no key results yet"


def cached_facts(row: Any) -> KrFacts:
    return KrFacts(current=row.current_value if row.current_value is not None else row.start_value,
                   progress=row.progress, forecast=row.forecast, last_checkin_on=row.last_checkin_on)


def needs_points(row: Any, today: date) -> bool:
    """The cache holds facts over every check-in; asking about a day before the last one needs the history."""
    return row.last_checkin_on is not None and row.last_checkin_on > today


class Board:
    def __init__(self, objectives: Sequence[Any], key_results: Sequence[Any], windows: Mapping[int, Window],
                 today: date, rules: OkrRules, points: Mapping[int, list[tuple[date, float]]] | None = None) -> None:
        self.today, self.rules = today, rules
        self.objectives: dict[int, ObjectiveView] = {
            o.id: ObjectiveView(o) for o in objectives if o.approval == ApprovalState.APPROVED
        }
        self.key_results: dict[int, KrView] = {}
        for kr in key_results:
            owner = self.objectives.get(kr.objective_id)
            if owner is None:
                continue
            window = windows[owner.row.period_id]
            if points is not None and kr.id in points and needs_points(kr, today):
                facts = kr_facts(kr.start_value, kr.target_value, [Point(d, v) for d, v in points[kr.id]], window,
                                 today)
            else:
                facts = cached_facts(kr)
            view = KrView(kr, kr_verdict(facts, window, today, rules))
            self.key_results[kr.id] = view
            owner.key_results.append(view)
        for view in self.objectives.values():
            parent = self.objectives.get(view.row.parent_id) if view.row.parent_id else None
            if parent is not None:
                parent.children.append(view)
        self._windows = windows
        for root in self.roots():
            self._roll(root)

    def roots(self) -> list[ObjectiveView]:
        return [v for v in self.objectives.values() if v.row.parent_id not in self.objectives]

    def _roll(self, view: ObjectiveView) -> Rollup:
        children = [self._roll(child) for child in view.children]
        krs = [(k.row.weight, k.verdict.progress, k.status) for k in view.key_results]
        rollup = objective_rollup(krs, children, self._windows[view.row.period_id], self.today, self.rules)
        view.progress, view.status = rollup.progress, rollup.status
        return rollup

    def objective_by_key(self, key: str) -> ObjectiveView | None:
        return next((v for v in self.objectives.values() if v.row.key.upper() == key.upper()), None)


def windows_of(periods: Iterable[Any]) -> dict[int, Window]:
    return {p.id: Window(p.start, p.end) for p in periods}


def group_points(rows: Iterable[tuple[int, date, float]]) -> dict[int, list[tuple[date, float]]]:
    out: dict[int, list[tuple[date, float]]] = defaultdict(list)
    for kr_id, day, value in rows:
        out[kr_id].append((day, value))
    return out
