"""The `liftoff` command: plan, migrate, demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT, SHARED, postgres_database

BRIEF = SHARED / "briefs" / "mobile-app-v2.md"


def liftoff(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "REDIS_"))}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**base, **(env or {})})


def test_plan_json_has_the_documented_shape() -> None:
    result = liftoff("plan", str(BRIEF), "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["launch"] == {"name": "Mobile App v2.0", "target_date": "2027-03-15", "launch_type": "mobile_release"}
    assert 50 <= len(plan["tasks"]) <= 300
    keys = {t["key"] for t in plan["tasks"]}
    for task in plan["tasks"]:
        assert set(task) == {"key", "title", "description", "team", "role", "assignee", "estimate_days", "start",
                             "due", "priority", "confidence", "flags"}
        assert task["priority"] in {"P0", "P1", "P2", "P3"} and 0 <= task["confidence"] <= 1
        assert task["start"] <= task["due"]
    for edge in plan["dependencies"]:
        assert edge["from"] in keys and edge["to"] in keys and edge["kind"] in {"blocks", "related"}
    assert set(plan["critical_path"]) <= keys and plan["critical_path_days"] > 0
    assert all(r["severity"] in {"low", "medium", "high"} for r in plan["risks"])
    assert 0 <= plan["quality_score"] <= 1


def test_plan_text_is_readable() -> None:
    result = liftoff("plan", str(BRIEF))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Mobile App v2.0 · mobile_release · target 2027-03-15")
    assert "Critical path:" in result.stdout and "Risks:" in result.stdout


def test_plan_rejects_a_bad_brief_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text("---\nname: X\ntarget_date: someday\n---\nbody\n")
    result = liftoff("plan", str(bad))
    assert result.returncode == 2 and "target_date" in result.stderr and result.stdout == ""
    result = liftoff("plan", str(tmp_path / "missing.md"))
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_migrate_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/m.db"
    for _ in range(2):  # idempotent
        result = liftoff("migrate", env={"DATABASE_URL": url})
        assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


async def test_migrate_on_postgresql() -> None:
    async with postgres_database() as url:
        result = liftoff("migrate", env={"DATABASE_URL": url})
        assert result.returncode == 0, result.stderr


def test_worker_needs_redis() -> None:
    result = liftoff("worker")
    assert result.returncode == 2 and "REDIS_URL" in result.stderr


def test_several_web_processes_need_rq() -> None:
    # With in-process jobs each process would run its own jobs and schedule: refused in one line.
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    result = liftoff("serve", "--processes", "2", env=env)
    assert result.returncode == 2 and "REDIS_URL" in result.stderr


def test_demo_plays_the_launch_flow() -> None:
    result = liftoff("demo", timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    for expected in ("/launch new", "NEW LAUNCH", "Plan it", "LAUNCH PLAN: SMART SEARCH 1.0", "Critical path",
                     "Top risks", "SMART SEARCH 1.0: HEALTH", "Progress by team"):
        assert expected.lower() in out.lower(), expected
