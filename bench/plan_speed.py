"""Speed of the offline planning pipeline and of the cross-launch conflict analysis.

    python bench/plan_speed.py [--runs N]

Targets: a 300-task plan in under 1 s (median), and the resource-conflict analysis over 30 concurrent
launches of 300 tasks each (9,000 tasks) in under 2 s (median).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.dependency import analyze, infer_edges, resource_conflicts  # noqa: E402
from agents.evaluator import evaluate  # noqa: E402
from agents.plan import Brief, Plan, PlannedTask, TeamMember  # noqa: E402
from agents.planner import plan_from_templates  # noqa: E402
from agents.scheduler import schedule_backwards  # noqa: E402

TODAY = date(2026, 11, 23)
ROLES = [
    "pm",
    "eng_lead",
    "engineer",
    "engineer",
    "engineer",
    "engineer",
    "qa",
    "qa",
    "designer",
    "marketing",
    "marketing",
    "support",
    "docs",
    "legal",
    "security",
    "sre",
    "sales",
    "finance",
    "data",
    "partnerships",
    "pr",
]
LANGUAGES = [
    "German",
    "French",
    "Spanish",
    "Italian",
    "Portuguese",
    "Dutch",
    "Swedish",
    "Danish",
    "Japanese",
    "Korean",
    "Chinese",
    "Arabic",
]
SDKS = "Python, JavaScript, Golang, Java, Ruby, PHP, Swift SDK and .NET"
FEATURES = (
    "The release adds dark mode, adds offline sync, replaces the search page, introduces team "
    "workspaces, adds audit logs, adds SAML single sign-on, redesigns the settings, adds bulk export, "
    "adds comment threads and improves the onboarding checklist."
)


def big_brief(languages: int, target: date, team_prefix: str = "") -> Brief:
    """A launch that names nearly every module, so the plan is as big as the library makes it."""
    text = f"""Version 5 of our web app, iOS and Android apps and public API, with a database change.
{FEATURES}
We ship in {", ".join(LANGUAGES[:languages])}. We run a four-week beta through TestFlight.
We publish official {SDKS} SDKs. New pricing with a price book, checkout changes and a discount policy;
sales needs a deck and training. Security review and penetration test, load testing, status page and an
on-call runbook. Legal reviews the terms and privacy. Press briefings under embargo, a launch webinar, launch
partners, a paid ads campaign, an analytics dashboard, help center articles and new docs."""
    team = tuple(TeamMember(f"{team_prefix}Person {i}", role) for i, role in enumerate(ROLES))
    return Brief("Big launch", target, text, "software_release", team)


def languages_for(size: int) -> int:
    """How many languages bring the big brief's plan closest to `size` tasks."""
    return min(
        range(len(LANGUAGES) + 1),
        key=lambda n: abs(len(plan_from_templates(big_brief(n, date(2027, 9, 1)))[0]) - size),
    )


def pipeline(brief: Brief) -> Plan:
    tasks, template_edges = plan_from_templates(brief)
    edges = infer_edges(tasks, template_edges)
    analysis = analyze(tasks, edges)
    schedule_backwards(tasks, analysis.edges, brief.target_date, TODAY)
    evaluation = evaluate(brief, tasks, analysis, TODAY)
    return Plan(
        brief,
        tasks,
        analysis.edges,
        analysis.critical_path,
        analysis.critical_path_days,
        evaluation.risks,
        evaluation.quality_score,
    )


def median_seconds(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    languages = languages_for(300)
    brief = big_brief(languages, date(2027, 9, 1))
    plan = pipeline(brief)
    pipeline_s = median_seconds(lambda: pipeline(brief), args.runs)
    print(
        f"offline pipeline: {len(plan.tasks)}-task plan, {len(plan.edges)} edges, "
        f"median {pipeline_s * 1000:.0f} ms over {args.runs} runs (target < 1000 ms)"
    )

    try:
        from agents.pipeline import build_plan
    except ImportError:
        build_plan = None
    if build_plan is not None:
        app_s = median_seconds(lambda: build_plan(brief, TODAY), args.runs)
        print(f"agents.pipeline.build_plan on the same brief: median {app_s * 1000:.0f} ms")

    # 30 concurrent launches, one shared team, target dates a week apart so their work overlaps.
    launches: list[list[PlannedTask]] = []
    for index in range(30):
        launch_brief = big_brief(languages, date(2027, 6, 1) + timedelta(weeks=index % 10))
        launches.append(pipeline(launch_brief).tasks)
    total = sum(len(tasks) for tasks in launches)
    conflicts = resource_conflicts(launches)
    conflict_s = median_seconds(lambda: resource_conflicts(launches), args.runs)
    print(
        f"cross-launch conflicts: {len(launches)} launches, {total} tasks, {len(conflicts)} overbooked "
        f"person-weeks, median {conflict_s * 1000:.0f} ms over {args.runs} runs (target < 2000 ms)"
    )
    ok = pipeline_s < 1.0 and conflict_s < 2.0
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
