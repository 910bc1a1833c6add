"""The weekly OKR insight per department: what moved, what is at risk and why, which check-ins are missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from agents.okr_board import KrView, ObjectiveView
from agents.okr_lists import current_board
from agents.okr_progress import progress_of
from storage.okr_enums import OkrStatus
from storage.okrs import OkrRepository

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Movement:
    key_result: KrView
    before: float
    after: float


@dataclass(frozen=True)
class DepartmentInsight:
    department: str
    period: str
    moved: list[Movement]
    at_risk: list[ObjectiveView]
    missing: list[KrView]

    def summary(self) -> str:
        """Plain text for the weekly digest."""
        lines = [f"{self.department} · {self.period}"]
        for m in self.moved:
            lines.append(f"moved: {m.key_result.row.key} {round(100 * m.before)}% → {round(100 * m.after)}%")
        for view in self.at_risk:
            lines.append(f"{view.status.label}: {view.row.key} {view.row.title} ({view.reason()})")
        for kr in self.missing:
            lines.append(f"no check-in this week: {kr.row.key} (owner <@{kr.row.owner_id}>)")
        if len(lines) == 1:
            lines.append("nothing moved, nothing at risk")
        return "\n".join(lines)


async def weekly_insights(repo: OkrRepository, today: date) -> list[DepartmentInsight]:
    """One insight per department with objectives in the current period (public objectives only: it is broadcast)."""
    loaded = await current_board(repo, today)
    if loaded is None:
        return []
    period, board = loaded
    views = [v for v in board.objectives.values() if v.row.visibility != "private" and v.row.department]
    since = today - WEEK
    history = await repo.checkin_points([k.row.id for v in views for k in v.key_results])
    insights = []
    for department in sorted({v.row.department for v in views}):
        mine = [v for v in views if v.row.department == department]
        moved, missing = [], []
        for view in mine:
            for kr in view.key_results:
                points = [(d, value) for d, value in history.get(kr.row.id, []) if d <= today]
                # The week is the seven days ending today: a check-in exactly a week ago belongs to last week.
                before = [value for d, value in points if d <= since]
                week = [value for d, value in points if since < d]
                start, target = kr.row.start_value, kr.row.target_value
                if week:
                    old = progress_of(start, target, before[-1] if before else start)
                    new = progress_of(start, target, week[-1])
                    if new != old:
                        moved.append(Movement(kr, old, new))
                elif kr.status is not OkrStatus.DONE:
                    missing.append(kr)
        at_risk = [v for v in mine if v.status in (OkrStatus.AT_RISK, OkrStatus.OFF_TRACK)]
        insights.append(DepartmentInsight(department, period, sorted(moved, key=lambda m: m.key_result.row.key),
                                          sorted(at_risk, key=lambda v: v.row.key),
                                          sorted(missing, key=lambda k: k.row.key)))
    return insights
