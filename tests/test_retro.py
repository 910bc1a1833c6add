"""The retro: metrics on a constructed launch whose answers are known, and its message at 300 tasks.

`/launch retro` through signed requests is in tests/test_replan.py, which shares its running stack (one RQ
worker warm-up fewer for the suite)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from agents.retro import available_from, build_retro, percentile, retro_available
from blocks.retro_messages import retro_message
from bot.standin.render import render_blocks
from storage.enums import TaskStatus
from storage.models import Task
from storage.retro_snapshot import ALL_TEAMS
from tests.standin_samples import VALIDATE

TARGET = date(2026, 3, 6)


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def task(key: str, team: str, due: str, *, started: datetime | None = None, completed: datetime | None = None,
         status: str = TaskStatus.DONE, version: int = 1, title: str = "") -> Task:
    return Task(key=key, title=title or f"Task {key}", team=team, due=date.fromisoformat(due), status=status,
                started_at=started, completed_at=completed, added_in_version=version)


def constructed() -> list[Task]:
    return [
        task("ENG-1", "engineering", "2026-03-02", started=at("2026-02-23"), completed=at("2026-02-25")),  # 2d
        task("ENG-2", "engineering", "2026-03-02", started=at("2026-02-24"), completed=at("2026-03-04")),  # 8d late
        task("ENG-3", "engineering", "2026-03-05", started=at("2026-03-02"), completed=at("2026-03-03", 21)),  # 1.5d
        task("ENG-4", "engineering", "2026-03-06", started=at("2026-03-09"), completed=at("2026-03-19")),  # 10d late
        task("MKT-1", "marketing", "2026-03-04", started=at("2026-03-01", 0), completed=at("2026-03-02", 0)),  # 1d
        task("MKT-2", "marketing", "2026-03-06", status=TaskStatus.TODO, version=2),
        task("MKT-3", "marketing", "2026-03-03", completed=at("2026-03-05", 12), version=3),  # late, no start
    ]


def test_retro_of_a_constructed_launch() -> None:
    report = build_retro("Smart Search", TARGET, constructed())
    assert (report.done, report.total, report.open_tasks) == (6, 7, 1)
    assert report.last_completion == date(2026, 3, 19) and report.slip_days == 13

    teams = {t.team: t for t in report.teams}
    assert teams["engineering"].planned_end == date(2026, 3, 6)
    assert teams["engineering"].last_completion == date(2026, 3, 19) and teams["engineering"].slip_days == 13
    assert teams["marketing"].open_tasks == 1 and teams["marketing"].slip_days is None

    assert [(t.team, t.late, t.done) for t in report.late_by_team] == [("engineering", 2, 4), ("marketing", 1, 2)]
    assert [(t.key, t.days_late) for t in report.late_tasks] == [("ENG-4", 13), ("ENG-2", 2), ("MKT-3", 2)]

    velocity = {v.team: v for v in report.velocity}
    assert [(w.week, w.done) for w in velocity["engineering"].weeks] == [
        ("2026-W09", 1), ("2026-W10", 2), ("2026-W11", 0), ("2026-W12", 1)
    ]
    assert velocity["engineering"].average == 1.0
    assert [(w.week, w.done) for w in velocity["marketing"].weeks] == [("2026-W10", 2)]

    cycle = {c.team: c for c in report.cycle_times}
    assert [c.team for c in report.cycle_times] == [ALL_TEAMS, "engineering", "marketing"]
    assert (cycle[ALL_TEAMS].count, cycle[ALL_TEAMS].median_days, cycle[ALL_TEAMS].p90_days) == (5, 2.0, 10.0)
    assert (cycle["engineering"].median_days, cycle["engineering"].p90_days) == (5.0, 10.0)
    assert (cycle["marketing"].count, cycle["marketing"].median_days) == (1, 1.0)

    assert [(t.key, t.version) for t in report.scope_creep] == [("MKT-2", 2), ("MKT-3", 3)]


def test_percentile_and_availability() -> None:
    assert percentile(range(1, 11), 90) == 9
    assert percentile([4.0], 90) == 4.0
    assert percentile([3, 1, 2], 50) == 2
    assert not retro_available(TARGET, TARGET) and retro_available(TARGET, TARGET + timedelta(days=1))
    assert available_from(TARGET) == date(2026, 3, 7)


def test_an_empty_launch_has_a_retro_without_metrics() -> None:
    report = build_retro("Nothing", TARGET, [task("A-1", "qa", "2026-03-01", status=TaskStatus.TODO)])
    assert report.last_completion is None and report.slip_days is None
    assert report.velocity == [] and report.cycle_times == [] and report.late_tasks == []
    message = retro_message(report)
    assert VALIDATE("message", message) == []
    assert "not finished" in render_blocks(message["blocks"])


def test_retro_message_at_300_tasks_stays_within_block_kit_limits() -> None:
    tasks = []
    start = at("2025-09-01")
    for n in range(300):
        done = start + timedelta(days=n // 2, hours=n % 7)
        tasks.append(task(
            f"T{n % 15:02d}-{n}", f"team {n % 15} " + "x" * 60, "2025-09-10", started=start + timedelta(hours=n),
            completed=done, version=1 + n % 3, title=f"A long task title number {n} " + "<&>" * 30,
        ))
    message = retro_message(build_retro("Big " * 40, TARGET, tasks))
    assert VALIDATE("message", message) == []
    text = render_blocks(message["blocks"])
    assert "more_" in text or "more" in text
    assert len(message["blocks"]) <= 50
