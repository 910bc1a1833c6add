"""The weekly OKR insight per department on a constructed tree whose answer is known: what moved this week, what
is at risk and why, which check-ins are missing; private objectives and other departments stay out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest

from agents.insight import DepartmentInsight, weekly_insights
from agents.okr_import import import_tree
from storage.db import Database
from storage.migrate import upgrade_async
from storage.okr_enums import OkrStatus
from storage.okrs import OkrRepository
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository

WS = "T0INSIGHT"
TODAY = date(2026, 8, 19)


def day(n: int) -> str:
    """n days before today (negative: after it)."""
    return (TODAY - timedelta(days=n)).isoformat()


def kr(key: str, checkins: list[tuple[int, float]], target: float = 100) -> dict[str, Any]:
    return {"key": key, "title": f"Measure {key}", "owner": "U2", "start": 0, "target": target,
            "checkins": [{"date": day(n), "value": v, "author": "U2"} for n, v in checkins]}


def objective(key: str, department: str | None, krs: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    level = "department" if department else "company"
    return {"key": key, "title": f"Objective {key}", "level": level, "department": department, "owner": "U1",
            "period": "Q3", "key_results": krs, **({"parent": "CO-1"} if department else {}), **extra}


def tree() -> dict[str, Any]:
    return {
        "periods": [{"name": "Q3", "start": "2026-07-01", "end": "2026-09-30"}],
        "people": [{"slack_id": "U1", "name": "Ana Lee", "role": "admin"},
                   {"slack_id": "U2", "name": "Bo Park", "role": "member"}],
        "objectives": [
            objective("CO-1", None, [kr("CO-1.1", [(1, 80)])]),  # no department: in no department's summary
            objective("ENG-1", "Engineering", [
                kr("ENG-1.1", [(18, 40), (4, 60), (-6, 90)]),  # moved 40% -> 60% (the check-in after today waits)
                kr("ENG-1.2", [(30, 10), (7, 30)]),  # exactly a week ago: last week's, so missing this week
            ]),
            objective("ENG-2", "Engineering", [kr("ENG-2.1", [(20, 100)])]),  # done: nothing to check in
            objective("ENG-9", "Engineering", [kr("ENG-9.1", [(2, 5), (1, 9)])], visibility="private"),
            objective("SAL-1", "Sales", [
                kr("SAL-1.1", [(40, 2)]),  # off track, and silent for 40 days
                kr("SAL-1.2", [(18, 50), (1, 50)]),  # checked in, but nothing moved
            ]),
        ],
    }


@pytest.fixture(scope="module")
async def insights(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[dict[str, DepartmentInsight]]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('insight')}/insight.db"
    await upgrade_async(url)
    db = Database(url)
    async with db.session() as session:
        await WorkspaceRepository(session, Scope(WS)).ensure()
        await import_tree(OkrRepository(session, Scope(WS)), tree(), TODAY)
    async with db.reader() as session:
        found = await weekly_insights(OkrRepository(session, Scope(WS)), TODAY)
    yield {i.department: i for i in found}
    await db.dispose()


def test_one_insight_per_department_of_public_objectives(insights: dict[str, DepartmentInsight]) -> None:
    assert sorted(insights) == ["Engineering", "Sales"]
    assert all(i.period == "Q3" for i in insights.values())
    text = "\n".join(i.summary() for i in insights.values())
    assert "ENG-9" not in text and "CO-1" not in text


def test_what_moved_this_week(insights: dict[str, DepartmentInsight]) -> None:
    moved = [(m.key_result.row.key, round(m.before, 2), round(m.after, 2)) for m in insights["Engineering"].moved]
    assert moved == [("ENG-1.1", 0.4, 0.6)]
    assert insights["Sales"].moved == []  # SAL-1.2 was checked in at the same value


def test_what_is_at_risk_and_why(insights: dict[str, DepartmentInsight]) -> None:
    eng = insights["Engineering"]
    assert [(v.row.key, v.status) for v in eng.at_risk] == [("ENG-1", OkrStatus.AT_RISK)]
    assert eng.at_risk[0].reason().startswith("ENG-1.2: forecast under 80%")
    sales = insights["Sales"]
    assert [(v.row.key, v.status) for v in sales.at_risk] == [("SAL-1", OkrStatus.OFF_TRACK)]
    assert "SAL-1.1" in sales.at_risk[0].reason() and "last check-in 40 days ago" in sales.at_risk[0].reason()


def test_missing_check_ins(insights: dict[str, DepartmentInsight]) -> None:
    assert [k.row.key for k in insights["Engineering"].missing] == ["ENG-1.2"]
    assert [k.row.key for k in insights["Sales"].missing] == ["SAL-1.1"]


def test_the_summary_reads_as_the_digest_shows_it(insights: dict[str, DepartmentInsight]) -> None:
    lines = insights["Engineering"].summary().splitlines()
    assert lines[0] == "Engineering · Q3"
    assert "moved: ENG-1.1 40% → 60%" in lines
    assert any(line.startswith("at risk: ENG-1 Objective ENG-1 (ENG-1.2: forecast under 80%") for line in lines)
    assert "no check-in this week: ENG-1.2 (owner <@U2>)" in lines
