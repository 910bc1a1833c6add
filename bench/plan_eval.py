"""Score plans for the sample briefs against their .expect.yaml (see ../shared/briefs/README.md).

    python bench/plan_eval.py [BRIEFS_DIR]

Each plan is the JSON `liftoff plan BRIEF --json` prints (run as `python -m bot.cli`). Prints one line
per brief and an overall line; exits 1 when a target is missed. Targets: coverage >= 95%,
ordering >= 95%, irrelevant <= 2%, every plan within its size range.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BRIEFS = REPO.parent / "shared" / "briefs"
TARGET_COVERAGE = 0.95
TARGET_ORDERING = 0.95
TARGET_IRRELEVANT = 0.02


def plan_json(path: str | Path) -> dict[str, Any]:
    """The plan for a brief file, as the CLI prints it."""
    command = [sys.executable, "-m", "bot.cli", "plan", str(path), "--json"]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


@dataclass
class Score:
    name: str
    tasks: int
    size_range: tuple[int, int]
    coverage: float
    ordering: float
    irrelevant: float
    missing: list[str]
    unordered: list[str]
    irrelevant_tasks: list[str]

    @property
    def size_ok(self) -> bool:
        return self.size_range[0] <= self.tasks <= self.size_range[1]


def _text(task: dict[str, Any]) -> str:
    return f"{task.get('title', '')}\n{task.get('description', '')}".lower()


def _tasks_of(area: list[str], tasks: list[dict[str, Any]]) -> set[str]:
    phrases = [p.lower() for p in area]
    return {t["key"] for t in tasks if any(p in _text(t) for p in phrases)}


def _reachable(start: set[str], successors: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(start)
    while stack:
        for nxt in successors.get(stack.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def score_plan(name: str, plan: dict[str, Any], expect: dict[str, Any]) -> Score:
    tasks = plan["tasks"]
    areas = {area: _tasks_of(phrases, tasks) for area, phrases in expect.get("must_cover", {}).items()}
    missing = [area for area, keys in areas.items() if not keys]
    coverage = 1 - len(missing) / len(areas) if areas else 1.0

    successors: dict[str, list[str]] = {}
    for edge in plan["dependencies"]:
        if edge["kind"] == "blocks":
            successors.setdefault(edge["from"], []).append(edge["to"])
    pairs = expect.get("must_order", [])
    unordered = []
    for before, after in pairs:
        if not areas.get(before) or not areas.get(after):
            unordered.append(f"{before}->{after}")
            continue
        if not _reachable(areas[before], successors) & areas[after]:
            unordered.append(f"{before}->{after}")
    ordering = 1 - len(unordered) / len(pairs) if pairs else 1.0

    bad_phrases = [p for phrases in expect.get("must_not_cover", {}).values() for p in phrases]
    irrelevant_tasks = sorted(_tasks_of(bad_phrases, tasks)) if bad_phrases else []
    irrelevant = len(irrelevant_tasks) / len(tasks) if tasks else 0.0
    low, high = expect.get("size", [0, 10**9])
    return Score(
        name, len(tasks), (low, high), coverage, ordering, irrelevant, missing, unordered, irrelevant_tasks
    )


def evaluate_dir(briefs: Path) -> list[Score]:
    scores = []
    for expect_path in sorted(briefs.glob("*.expect.yaml")):
        name = expect_path.name.removesuffix(".expect.yaml")
        expect = yaml.safe_load(expect_path.read_text(encoding="utf-8"))
        scores.append(score_plan(name, plan_json(briefs / f"{name}.md"), expect))
    return scores


def main(argv: list[str]) -> int:
    briefs = Path(argv[1]) if len(argv) > 1 else DEFAULT_BRIEFS
    scores = evaluate_dir(briefs)
    for s in scores:
        line = (
            f"{s.name:24} tasks={s.tasks:3d} size={list(s.size_range)} {'ok' if s.size_ok else 'OUT'}  "
            f"coverage={s.coverage:6.1%} ordering={s.ordering:6.1%} irrelevant={s.irrelevant:5.1%}"
        )
        notes = [
            f"missing {s.missing}" if s.missing else "",
            f"unordered {s.unordered}" if s.unordered else "",
            f"irrelevant {s.irrelevant_tasks}" if s.irrelevant_tasks else "",
        ]
        print(line + "".join(f"  {n}" for n in notes if n))
    count = max(len(scores), 1)
    coverage = sum(s.coverage for s in scores) / count
    ordering = sum(s.ordering for s in scores) / count
    irrelevant = sum(s.irrelevant for s in scores) / count
    sizes_ok = all(s.size_ok for s in scores)
    passed = (
        coverage >= TARGET_COVERAGE
        and ordering >= TARGET_ORDERING
        and irrelevant <= TARGET_IRRELEVANT
        and sizes_ok
    )
    print(
        f"OVERALL {len(scores)} briefs: coverage={coverage:.1%} ordering={ordering:.1%} "
        f"irrelevant={irrelevant:.1%} sizes={'all in range' if sizes_ok else 'OUT OF RANGE'} "
        f"-> {'PASS' if passed else 'FAIL'}"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
