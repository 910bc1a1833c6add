"""Outward tracker sync under faults: a 300-task launch with dependencies synced to each fake tracker.

    python bench/sync_faults.py [--tasks 300] [--faults 0.2] [--rate 50] [--kinds linear,jira,notion,asana]

Each fake validates every request against the real API description and fails a share of calls (429 with
Retry-After, 500, a timeout, a response lost after the remote side committed). The sync runs window after
window until nothing is pending. Targets: zero duplicates and zero missing tasks (and dependencies).
Throughput is requests a second as a share of the configured rate limit; `of_bucket` also counts the bucket's
initial burst (one second of requests), so 100% there means the token bucket was the only brake. The default rate
(50/s, above Linear's 1.4/s, Jira's 10/s, Notion's 3/s and Asana's 2.5/s) keeps the bench under a minute a tracker;
far higher rates measure the fakes, which run in this process and validate every request against the specs, more
than the sync.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from integrations.fakes import asana_fake, jira_fake, linear_fake, notion_fake  # noqa: E402
from integrations.fakes.faults import Faults  # noqa: E402
from integrations.fakes.sync_rig import build_rig, expected_edges, timer  # noqa: E402
from storage.models import Dependency  # noqa: E402

FAKES = {"linear": linear_fake.start, "jira": jira_fake.start, "notion": notion_fake.start, "asana": asana_fake.start}


async def run(kind: str, tasks: int, fault_rate: float, rate: float) -> dict[str, object]:
    faults = Faults(rate=fault_rate, retry_after="0", hang_s=0.25, seed=11)
    fake = await FAKES[kind](faults=faults)
    with tempfile.TemporaryDirectory() as folder:
        rig = await build_rig(f"sqlite+aiosqlite:///{folder}/bench.db", fake, tasks=tasks, rate=rate, timeout_s=0.2)
        started = timer()
        reports = await rig.sync()
        wall = timer() - started
        async with rig.db.reader() as session:
            edges = int(await session.scalar(select(func.count()).select_from(Dependency)) or 0)
        await rig.db.dispose()
    markers = fake.by_marker()
    remote_edges = expected_edges(fake)
    await fake.stop()
    requests = sum(r.requests for r in reports)
    return {
        "tracker": kind, "created": len(markers), "duplicates": sum(n - 1 for n in markers.values()),
        "missing": tasks - len(markers), "deps": f"{len(set(remote_edges))}/{edges}",
        "dup_deps": len(remote_edges) - len(set(remote_edges)), "requests": requests,
        "faults": sum(faults.injected.values()), "invalid": len(fake.invalid), "windows": len(reports),
        "wall_s": round(wall, 2), "throughput": f"{requests / wall / rate:.0%}" if wall else "-",
        "of_bucket": f"{requests / (max(1.0, rate) + wall * rate):.0%}",
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--faults", type=float, default=0.2)
    parser.add_argument("--rate", type=float, default=50.0, help="configured rate limit, requests a second")
    parser.add_argument("--kinds", default=",".join(FAKES), help="trackers to bench, comma-separated")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"{args.tasks} tasks, {args.faults:.0%} of calls failing, configured limit {args.rate:g} requests/s")
    for kind in args.kinds.split(","):
        row = await run(kind, args.tasks, args.faults, args.rate)
        print("  ".join(f"{k}={v}" for k, v in row.items()))


if __name__ == "__main__":
    asyncio.run(main())
