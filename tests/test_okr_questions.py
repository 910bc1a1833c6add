"""The sample questions in ../shared/okr are answered exactly, offline, through the rule parser and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents.okr_import import import_tree, load_tree
from agents.query import ask
from storage.db import Database
from storage.migrate import upgrade_async
from storage.okrs import OkrRepository
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository

SHARED = Path(__file__).resolve().parents[2] / "shared"
OKR_DIR = SHARED / "okr"
WORKSPACE = "T0NORTHWIND"
SAMPLES = yaml.safe_load((OKR_DIR / "northwind.questions.yaml").read_text())
TODAY = date.fromisoformat(str(SAMPLES["today"]))


@pytest.fixture(scope="module")
async def northwind(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('okr')}/northwind.db"
    await upgrade_async(url)
    db = Database(url)
    async with db.session() as session:
        await WorkspaceRepository(session, Scope(WORKSPACE)).ensure()
        await import_tree(OkrRepository(session, Scope(WORKSPACE)), load_tree(OKR_DIR / "northwind.yaml"), TODAY)
    yield db
    await db.dispose()


@pytest.mark.parametrize("sample", SAMPLES["questions"], ids=[f"{q['as']}:{q['ask']}" for q in SAMPLES["questions"]])
async def test_sample_question(northwind: Database, sample: dict[str, Any]) -> None:
    async with northwind.reader() as session:
        repo = OkrRepository(session, Scope(WORKSPACE, sample["as"]))
        answer = (await ask(repo, sample["ask"], asker=sample["as"], today=TODAY)).to_json()
    expect = sample["expect"]
    if "count" in expect:
        assert answer["intent"] == "count"
        assert answer["count"] == expect["count"]
    if "objectives" in expect:
        assert answer["filters"]["subject"] == "objectives"
        assert set(answer["objectives"]) == set(expect["objectives"])
    if "key_results" in expect:
        assert answer["filters"]["subject"] == "key_results"
        assert set(answer["key_results"]) == set(expect["key_results"])


async def test_import_twice_changes_nothing(northwind: Database) -> None:
    async with northwind.session() as session:
        summary = await import_tree(OkrRepository(session, Scope(WORKSPACE)), load_tree(OKR_DIR / "northwind.yaml"),
                                    TODAY)
    assert summary.objectives == 18 and summary.key_results == 25 and summary.checkins == 0


async def test_another_workspace_sees_nothing(northwind: Database) -> None:
    async with northwind.reader() as session:
        answer = await ask(OkrRepository(session, Scope("T0OTHER", "U100")), "list company objectives",
                           asker="U100", today=TODAY)
    assert answer.objectives == [] and answer.period is None


def test_cli_import_and_ask_print_the_documented_json(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db", "LOG_LEVEL": "WARNING"}
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", "bot.cli", "okr", "import", str(OKR_DIR / "northwind.yaml")],
                          cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "18 objectives" in done.stdout
    asked = subprocess.run(
        [sys.executable, "-m", "bot.cli", "okr", "ask", "which objectives are off track?", "--as", "U100",
         "--today", TODAY.isoformat(), "--json"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert set(answer) == {"intent", "filters", "objectives", "key_results", "count", "answer"}
    assert answer["objectives"] == ["PLAT-1", "SALES-1"] and answer["count"] == 2
    assert "forecast 45% of target" in answer["answer"] and "last check-in 9 days ago" in answer["answer"]
