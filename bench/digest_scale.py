"""Weekly digests at scale: 10,000 people across 24 timezones over a 30-day simulated clock.

Seeds a SQLite workspace (people, launches with tasks, key results, department heads), then advances a simulated
clock in 15-minute ticks (every zone's offset is a multiple of 15 minutes) through the real sweep
(bot.digest_sweep.queue_digests, run twice a tick as a retried job or a second scheduler would), and "sends" the
due digests through the real pacer (integrations.slack_sender.Pacer: one message a second a channel) with a
sequential sender at a fixed Web API latency. Prints build time per digest, total time, the peak messages per
channel per second and in the workspace, the delivery delay after each person's local time, and duplicates.

    python bench/digest_scale.py [--people 10000] [--days 30] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, update  # noqa: E402

from bot.digest_sweep import queue_digests  # noqa: E402
from integrations.slack_sender import Pacer  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.enums import LaunchStatus  # noqa: E402
from storage.migrate import upgrade_async  # noqa: E402
from storage.models import Launch, LaunchMember, Task, User, Workspace  # noqa: E402
from storage.notifications import Notification, NotificationStatus  # noqa: E402
from storage.okr_enums import ObjectiveLevel  # noqa: E402
from storage.okr_models import KeyResult, Objective, OkrPeriod  # noqa: E402

WS = "TBENCH"
ZONES = [
    "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/Chicago",
    "America/New_York", "America/Sao_Paulo", "Atlantic/Azores", "Europe/London", "Europe/Berlin", "Europe/Athens",
    "Europe/Moscow", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Bangkok",
    "Asia/Shanghai", "Asia/Tokyo", "Australia/Adelaide", "Australia/Sydney", "Pacific/Auckland", "Pacific/Chatham",
]
TICK = timedelta(minutes=15)


async def seed(db: Database, people: int, start: date) -> None:
    async with db.session() as session:
        session.add(Workspace(id=WS, name="Bench"))
        await session.flush()
        await session.execute(insert(User), [
            {"workspace_id": WS, "slack_id": f"U{n:07d}", "name": f"Person {n}", "tz": ZONES[n % len(ZONES)],
             "email": f"p{n}@example.com", "role": "member"} for n in range(people)])
        launches = max(1, people // 50)
        for n in range(launches):
            session.add(Launch(id=n + 1, workspace_id=WS, name=f"Launch {n}", name_key=f"launch {n}",
                               target_date=start + timedelta(days=45), launch_type="software_release",
                               created_by=f"U{n:07d}", status=LaunchStatus.PLANNED,
                               risks=[{"code": "tight", "severity": "high", "evidence": "the critical path is long"}]))
        await session.flush()
        await session.execute(insert(Task), [
            {"workspace_id": WS, "launch_id": n % launches + 1, "key": f"T{n}", "title": f"Task {n}", "team": "eng",
             "role": "eng", "assignee_slack_id": f"U{n % people:07d}", "estimate_days": 2.0,
             "due": start + timedelta(days=n % 40 - 5), "priority": "P1", "confidence": 0.9, "status": "todo",
             "flags": [], "slack_days": 0.0, "position": n, "milestone": False, "added_in_version": 1}
            for n in range(people * 2)])
        await session.execute(insert(LaunchMember), [
            {"workspace_id": WS, "launch_id": n % launches + 1, "name": f"Person {n}", "role": "eng",
             "slack_id": f"U{n:07d}"} for n in range(people)])
        period = OkrPeriod(workspace_id=WS, name="Q", start=start - timedelta(days=30), end=start + timedelta(60))
        session.add(period)
        await session.flush()
        heads = max(1, people // 500)
        for d in range(heads):
            session.add(Objective(id=d + 1, workspace_id=WS, key=f"D{d}", title=f"Department {d} goal",
                                  level=ObjectiveLevel.DEPARTMENT, owner_id=f"U{d:07d}", department=f"Dept {d}",
                                  period_id=period.id))
        await session.flush()
        await session.execute(insert(KeyResult), [
            {"workspace_id": WS, "objective_id": n % heads + 1, "key": f"D{n % heads}.{n}", "title": f"KR {n}",
             "owner_id": f"U{n:07d}", "start_value": 0.0, "target_value": 100.0, "status": "at_risk",
             "progress": 0.3, "weight": 1.0, "unit": "", "source": "manual"} for n in range(0, people, 2)])


async def deliver(db: Database, now: datetime, pacer: Pacer, clock: dict[str, float], latency: float,
                  sends: list[tuple[str, float, datetime]]) -> None:
    """Send what is due: one sequential sender, the real per-channel pacer, times on the simulated clock."""
    async with db.session() as session:
        rows = list(await session.execute(select(Notification.id, Notification.recipient, Notification.due_at).where(
            Notification.status == NotificationStatus.PENDING, Notification.due_at <= now).order_by(
            Notification.due_at, Notification.id)))
        base = now.timestamp()
        clock["free"] = max(clock["free"], base)
        for _row_id, recipient, due_at in rows:
            at = pacer.reserve_at(recipient, clock["free"])
            clock["free"] = at + latency
            sends.append((recipient, at, due_at))
        for start in range(0, len(rows), 500):
            ids = [r[0] for r in rows[start:start + 500]]
            await session.execute(update(Notification).where(Notification.id.in_(ids)).values(
                status=NotificationStatus.SENT, delivered_at=now, delivered_via="slack"))


async def run(people: int, days: int, latency: float) -> int:
    start = datetime(2026, 3, 2, tzinfo=UTC)  # spans the US, EU and Australian DST changes
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/bench.db"
        await upgrade_async(url)
        db = Database(url)
        try:
            seeded = time.perf_counter()
            await seed(db, people, start.date())
            print(f"seeded {people} people in {len(ZONES)} zones in {time.perf_counter() - seeded:.1f} s")
            builds: list[float] = []
            sends: list[tuple[str, float, datetime]] = []
            pacer, clock = Pacer(1.0), {"free": 0.0}
            sweep_seconds, queued, repeats = 0.0, 0, 0
            now, end = start, start + timedelta(days=days)
            while now < end:
                nxt = now + TICK
                began = time.perf_counter()
                report = await queue_digests(db, WS, now, nxt)
                again = await queue_digests(db, WS, now, nxt)  # a retried tick or a second scheduler
                sweep_seconds += time.perf_counter() - began
                builds += report.build_seconds
                queued += report.queued
                repeats += again.queued
                await deliver(db, nxt, pacer, clock, latency, sends)
                now = nxt
            async with db.reader() as session:
                rows = list(await session.execute(select(Notification.recipient, Notification.payload["week"])))
                total = await session.scalar(select(func.count()).select_from(Notification))
        finally:
            await db.dispose()
    per_channel = Counter((recipient, int(at)) for recipient, at, _ in sends)
    per_second = Counter(int(at) for _, at, _ in sends)
    delays = [at - due.timestamp() for _, at, due in sends]
    duplicates = (len(rows) - len({(r, str(w)) for r, w in rows})) + repeats + (len(sends) - len(set(
        (r, int(due.timestamp())) for r, _, due in sends)))
    mean_build = statistics.mean(builds) if builds else 0.0
    print(f"digests built: {len(builds)} (queued {queued}, rows {total}) over {days} days")
    print(f"build time per digest: mean {1000 * mean_build:.2f} ms, p99 "
          f"{1000 * sorted(builds)[int(0.99 * (len(builds) - 1))]:.2f} ms" if builds else "no digests")
    print(f"build time for 10,000 digests: {10000 * mean_build:.1f} s (target < 60 s)")
    print(f"sweep time in total (all ticks, twice each, loading and writing): {sweep_seconds:.1f} s, "
          f"{1000 * sweep_seconds / max(1, len(builds)):.1f} ms a digest")
    print(f"peak messages per channel per second: {max(per_channel.values(), default=0)} (limit 1)")
    print(f"peak messages per second in the workspace: {max(per_second.values(), default=0)}")
    print(f"delivery after local time: max {max(delays, default=0):.1f} s, mean "
          f"{statistics.mean(delays) if delays else 0:.1f} s (target < 300 s)")
    print(f"duplicates: {duplicates}")
    ok = duplicates == 0 and 10000 * mean_build < 60 and max(delays, default=0) < 300 and \
        max(per_channel.values(), default=0) <= 1
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=10000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per chat.postMessage")
    args = parser.parse_args()
    return asyncio.run(run(args.people, args.days, args.latency))


if __name__ == "__main__":
    sys.exit(main())
