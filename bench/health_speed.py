"""Speed of the health card and of the recompute after a task update, for a 300-task launch.

    python bench/health_speed.py [--runs N]

Target: the health card of a 300-task launch is built (health computed, blocks rendered) in under 50 ms
(median). The recompute after one task update (critical path, slack, risks) is printed for reference.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.health import launch_health  # noqa: E402
from agents.task_updates import recompute  # noqa: E402
from bench.plan_speed import TODAY, big_brief, languages_for, median_seconds, pipeline  # noqa: E402
from blocks.health_card import health_card  # noqa: E402
from storage.enums import LaunchStatus, TaskStatus  # noqa: E402
from storage.llm_usage import UsageSummary  # noqa: E402
from storage.models import Dependency, Launch, LaunchMember, Task  # noqa: E402
from storage.tracker_inbound import SyncHealth, TrackerSyncState  # noqa: E402

STATUSES = [TaskStatus.DONE, TaskStatus.IN_PROGRESS, TaskStatus.TODO, TaskStatus.TODO, TaskStatus.BLOCKED]


def stored_launch(size: int) -> tuple[Launch, list[Task], list[Dependency]]:
    """A planned launch as the database would hold it: a real plan, a fifth of it done, some blocked."""
    brief = big_brief(languages_for(size), TODAY.replace(year=TODAY.year + 1))
    plan = pipeline(brief)
    launch = Launch(
        id=1, workspace_id="T1", name=brief.name, name_key=brief.name.casefold(), brief=brief.text,
        target_date=brief.target_date, launch_type=brief.launch_type, channel_id="C1", created_by="U1",
        status=LaunchStatus.PLANNED, version=1, critical_path=list(plan.critical_path),
        critical_path_days=plan.critical_path_days, risks=[r.to_json() for r in plan.risks],
        quality_score=plan.quality_score,
    )
    launch.members = [LaunchMember(workspace_id="T1", name=m.name, role=m.role, slack_id=f"U{i}")
                      for i, m in enumerate(brief.team)]
    tasks = [
        Task(id=i + 1, workspace_id="T1", launch_id=1, key=t.key, title=t.title, description=t.description,
             team=t.team, role=t.role, assignee=t.assignee, assignee_slack_id=f"U{i % 20}",
             estimate_days=t.estimate_days, start=t.start, due=t.due, priority=str(t.priority),
             confidence=t.confidence, flags=list(t.flags), milestone=t.milestone, position=i,
             slack_days=plan.slack_days.get(t.key, 0.0), status=STATUSES[i % len(STATUSES)],
             blocked_reason="waiting for the vendor's API keys" if STATUSES[i % len(STATUSES)] == "blocked" else None)
        for i, t in enumerate(plan.tasks)
    ]
    ids = {t.key: t.id for t in tasks}
    edges = [Dependency(workspace_id="T1", launch_id=1, from_task_id=ids[e.from_key], to_task_id=ids[e.to_key],
                        kind=str(e.kind), source=e.source, confidence=e.confidence) for e in plan.edges]
    return launch, tasks, edges


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    launch, tasks, edges = stored_launch(300)
    usage = UsageSummary(calls=2, total_tokens=41_000, cost_usd=0.21, planned_by="claude-sonnet-4-6")
    # With its tracker: the sync state, and every task linked to its remote item.
    tracker = TrackerSyncState("jira", "LIF", SyncHealth.FAILING, pending=12, failing_since=datetime.now(UTC),
                               last_error="GET /rest/api/3/search: 503 Service Unavailable")
    links = {t.id: f"https://example.atlassian.net/browse/LIF-{t.id}" for t in tasks}
    card = health_card(launch_health(launch, tasks, TODAY), usage, tracker=tracker, links=links)
    card_s = median_seconds(lambda: health_card(launch_health(launch, tasks, TODAY), usage, tracker=tracker,
                                                links=links), args.runs)
    print(f"health card: {len(tasks)}-task launch, {len(card['blocks'])} blocks, "
          f"median {card_s * 1000:.1f} ms over {args.runs} runs (target < 50 ms)")

    runs = max(3, args.runs // 5)
    recompute_s = median_seconds(lambda: recompute(launch, tasks, edges, TODAY), runs)
    print(f"recompute after a task update (critical path, slack, risks): {len(tasks)} tasks, {len(edges)} edges, "
          f"median {recompute_s * 1000:.1f} ms over {runs} runs")
    ok = card_s < 0.05
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
