"""The quarterly review: each company objective with its progress, and a progress chart image per objective."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from agents.okr_board import ObjectiveView
from agents.okr_lists import current_board
from agents.okr_progress import Window, progress_of
from agents.policy.okrs import can_see_objective
from storage.okr_enums import ObjectiveLevel
from storage.okrs import OkrRepository

MAX_CHARTS = 10


@dataclass(frozen=True)
class ReviewItem:
    view: ObjectiveView
    histories: dict[str, list[tuple[date, float]]]


@dataclass(frozen=True)
class Review:
    period: str
    window: Window
    items: list[ReviewItem]


async def quarterly_review(repo: OkrRepository, asker: str, period_name: str | None, today: date) -> Review | None:
    loaded = await current_board(repo, today, period_name or None)
    if loaded is None:
        return None
    name, board = loaded
    period = await repo.period_named(name)
    assert period is not None
    role = await repo.role_of(asker)
    companies = sorted((v for v in board.objectives.values() if v.row.level == ObjectiveLevel.COMPANY
                        and can_see_objective(asker, role, v.row)), key=lambda v: v.row.key)
    items = []
    for view in companies[:MAX_CHARTS]:
        krs = view.key_results or [k for c in view.children for k in c.key_results]
        points = await repo.checkin_points([k.row.id for k in krs])
        histories = {
            k.row.key: [(period.start, 0.0)] + [(d, progress_of(k.row.start_value, k.row.target_value, v))
                                                for d, v in points.get(k.row.id, []) if d <= today]
            for k in krs[:12]
        }
        items.append(ReviewItem(view, histories))
    return Review(name, Window(period.start, period.end), items)


def progress_chart(item: ReviewItem, window: Window) -> bytes:
    """A PNG: each key result's progress over the period, against the straight line to 100% at the end."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=100)
    try:
        axes.plot([window.start, window.end], [0, 100], linestyle="--", color="#999999", label="pace")
        for key, series in item.histories.items():
            if series:
                axes.plot([d for d, _ in series], [100 * p for _, p in series], marker="o", label=key)
        axes.set_ylim(0, 105)
        axes.set_xlim(window.start, window.end)
        axes.set_ylabel("progress %")
        axes.set_title(f"{item.view.row.key}: {item.view.row.title}"[:80])
        axes.legend(loc="upper left", fontsize="small")
        figure.autofmt_xdate()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
