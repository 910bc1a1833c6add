"""Speed of OKR check-ins with rollup and of `/okr ask` (rule path), plus the sample questions.

    python bench/okr_speed.py [--runs N]

Targets: a check-in with rollup under 50 ms on a tree of 500 objectives and 2,500 key results;
`/okr ask` p95 under 100 ms on 10,000 key results; every sample question in ../shared/okr answered exactly.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.okr_checkin import check_in_as  # noqa: E402
from agents.okr_import import import_tree, load_tree  # noqa: E402
from agents.query import ask  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade_async  # noqa: E402
from storage.okrs import OkrRepository  # noqa: E402
from storage.scope import Scope  # noqa: E402
from storage.workspaces import WorkspaceRepository  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "okr"
TODAY = date(2026, 8, 19)
WS = "T0BENCH"
DEPARTMENTS = ["Engineering", "Sales", "Marketing", "People", "Finance"]
QUESTIONS = ["show me at-risk OKRs", "how many key results are off track?", "list engineering OKRs",
             "my key results", "team level objectives at risk", "which key results mention revenue?",
             "on track objectives for the Team 3 team", "how many company objectives are done this quarter?"]


def synthetic_tree(objectives: int, krs_per_objective: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    people = [{"slack_id": f"U{i:04d}", "name": f"Person {i}", "department": DEPARTMENTS[i % 5],
               "team": f"Team {i % 40}", "role": "admin" if i == 0 else "member"} for i in range(200)]
    items: list[dict[str, Any]] = []
    levels = [("company", 5), ("department", 45), ("team", 150)]
    parents: list[str] = []
    for index in range(objectives):
        level = next((name for name, limit in _cumulative(levels) if index < limit), "individual")
        key = f"O-{index}"
        owner = people[rng.randrange(len(people))]
        entry: dict[str, Any] = {"key": key, "title": f"Objective {index} on revenue and growth", "level": level,
                                 "owner": owner["slack_id"], "period": "2026-Q3",
                                 "department": DEPARTMENTS[index % 5], "team": f"Team {index % 40}",
                                 "visibility": "private" if index % 17 == 0 else "public"}
        if parents:
            entry["parent"] = rng.choice(parents[: max(5, len(parents) // 2)])
        parents.append(key)
        entry["key_results"] = [
            {"key": f"{key}.{k}", "title": f"Key result {k} of {index}",
             "owner": people[rng.randrange(200)]["slack_id"],
             "start": 0, "target": 100, "unit": "%",
             "checkins": [{"date": (date(2026, 7, 1) + timedelta(days=d)).isoformat(), "value": rng.uniform(0, 80),
                           "confidence": 0.7, "author": owner["slack_id"]} for d in sorted(rng.sample(range(45), 3))]}
            for k in range(krs_per_objective)
        ]
        items.append(entry)
    return {"periods": [{"name": "2026-Q2", "start": "2026-04-01", "end": "2026-06-30"},
                        {"name": "2026-Q3", "start": "2026-07-01", "end": "2026-09-30"}],
            "people": people, "objectives": items}


def _cumulative(levels: list[tuple[str, int]]) -> list[tuple[str, int]]:
    total, out = 0, []
    for name, count in levels:
        total += count
        out.append((name, total))
    return out


async def load(url: str, data: dict[str, Any]) -> Database:
    await upgrade_async(url)
    db = Database(url)
    async with db.session() as session:
        await WorkspaceRepository(session, Scope(WS)).ensure()
        await import_tree(OkrRepository(session, Scope(WS)), data, TODAY)
    return db


async def bench_checkin(folder: Path, runs: int) -> None:
    db = await load(f"sqlite+aiosqlite:///{folder}/checkin.db", synthetic_tree(500, 5))
    timings = []
    for run in range(runs):
        key = f"O-{499 - run % 300}.{run % 5}"
        started = time.perf_counter()
        async with db.session() as session:
            repo = OkrRepository(session, Scope(WS, "U0000"))
            kr = await repo.key_result_by_key(key)
            assert kr is not None
            result = await check_in_as(repo, "U0000", kr, value=50 + run % 30, day=TODAY)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    print(f"check-in with rollup, 500 objectives / 2,500 key results: median {statistics.median(timings):.1f} ms, "
          f"p95 {timings[int(0.95 * len(timings)) - 1]:.1f} ms (target < 50 ms; path {len(result.path)} objectives)")
    await db.dispose()


async def bench_ask(folder: Path, runs: int) -> None:
    db = await load(f"sqlite+aiosqlite:///{folder}/ask.db", synthetic_tree(2000, 5))
    timings = []
    for run in range(runs):
        question = QUESTIONS[run % len(QUESTIONS)]
        asker = f"U{run % 200:04d}"
        started = time.perf_counter()
        async with db.reader() as session:
            await ask(OkrRepository(session, Scope(WS, asker)), question, asker=asker, today=TODAY)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    print(f"/okr ask (rule path), 10,000 key results: median {statistics.median(timings):.1f} ms, "
          f"p95 {timings[int(0.95 * len(timings)) - 1]:.1f} ms (target < 100 ms)")
    await db.dispose()


async def bench_samples(folder: Path) -> None:
    samples = yaml.safe_load((SHARED / "northwind.questions.yaml").read_text())
    today = date.fromisoformat(str(samples["today"]))
    db = await load(f"sqlite+aiosqlite:///{folder}/northwind.db", load_tree(SHARED / "northwind.yaml"))
    exact = 0
    for sample in samples["questions"]:
        async with db.reader() as session:
            answer = (await ask(OkrRepository(session, Scope(WS, sample["as"])), sample["ask"], asker=sample["as"],
                                today=today)).to_json()
        expect = sample["expect"]
        exact += all((answer["count"] == v) if k == "count" else (set(answer[k]) == set(v)) for k, v in expect.items())
    print(f"sample questions answered exactly: {exact}/{len(samples['questions'])}")
    await db.dispose()


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        await bench_checkin(Path(folder), runs)
        await bench_ask(Path(folder), runs)
        await bench_samples(Path(folder))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    asyncio.run(main(parser.parse_args().runs))
