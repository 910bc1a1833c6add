"""Ack latency of the running app under load, and Slack API calls made before an ack.

Sends 500 signed `/launch new` commands and 500 brief-modal submissions, 20 at a time, to a real
`liftoff serve` in its own process (PostgreSQL and an RQ worker when they are up, else SQLite with
in-process jobs) wired to the local Slack stand-in. The stand-in answers every Web API call after
SLACK_LATENCY seconds, like the real network: a call the app made before acking would hold the
ack back and be answered before it.
A call counts against a request when it carries that request's trigger_id, user or channel.

Then the PMs of the first launches planned click the launch surfaces' buttons (bench/ack_interactions.py).

    python bench/ack_latency.py [--requests 500] [--concurrency 20] [--clicks 500] [--kinds ACTION_ID ...]
                                [--jobs rq|inline] [--processes N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ack_interactions import CLICKED, collector_paused, prepare, run_clicks, schedule  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.standin.api import SlackStandIn  # noqa: E402
from bot.standin.records import RecordedCall  # noqa: E402
from bot.standin.simulator import FORM, Ack, SlackSimulator  # noqa: E402
from bot.standin.state import view_state  # noqa: E402
from bot.wiring import WORKER_PROCESS  # noqa: E402
from tests.support import (  # noqa: E402
    ROOT,
    port_open,
    postgres_database,
    settings_env,
    start_worker,
    stop_worker,
)

SLACK_LATENCY = 0.25
PLANNED_FOR_CLICKS = 40
REDIS_URL = "redis://127.0.0.1:6379/8"
# The RQ worker shares this machine's cores with the web process it is measured against; in production it runs on
# machines of its own. At a lower CPU priority it takes what the web process leaves, as it would there. So do the
# PostgreSQL sessions that serve it: a re-plan's writes are the worker's work as much as its planning is. (With the
# worker paused while clicking, re-plan submissions were acked at p99 78 ms; running, at 106-164 ms.)
WORKER_NICE = 10
NICE_POLL_S = 0.05


async def nice_worker_sessions(url: str) -> None:
    """Until cancelled, keep the worker's PostgreSQL sessions (named WORKER_PROCESS) at WORKER_NICE: each job opens
    new ones. Needs the right to renice PostgreSQL's processes (root); without it they keep their priority."""
    import asyncpg

    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        while True:
            rows = await connection.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1",
                                          WORKER_PROCESS)
            for row in rows:
                with suppress(ProcessLookupError):  # ended meanwhile
                    os.setpriority(os.PRIO_PROCESS, row["pid"], WORKER_NICE)
            await asyncio.sleep(NICE_POLL_S)
    finally:
        await connection.close()


def can_renice_others() -> bool:
    return os.geteuid() == 0


def web_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by the web process `pid` and the web processes it started."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime (fields 14 and 15 of stat)
        pending.extend(int(child) for child in children)
    return total


@dataclass(frozen=True)
class RunningApp:
    url: str
    start_worker: Callable[[], None]
    web_cpu: Callable[[], float]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


async def warm_up(slack: SlackSimulator, gate: asyncio.Semaphore, user_id: str, channel_id: str) -> None:
    async with gate:
        ack = await slack.slash_command(user_id, "/launch", "help", channel_id=channel_id)
    assert ack.status == 200, ack.body


def command_body(slack: SlackSimulator, user_id: str, channel_id: str) -> tuple[str, str]:
    """A /launch new request as Slack sends it, and its trigger_id."""
    trigger_id = slack.new_trigger_id(user_id)
    fields = {
        "token": "bench", "team_id": slack.team_id, "team_domain": "bench", "channel_id": channel_id,
        "channel_name": channel_id.lower(), "user_id": user_id, "user_name": user_id.lower(), "command": "/launch",
        "text": "new", "api_app_id": slack.standin.app_id, "is_enterprise_install": "false",
        "response_url": slack.standin.new_response_url(user_id, channel_id), "trigger_id": trigger_id,
    }
    return urlencode(fields), trigger_id


def submission_body(slack: SlackSimulator, user_id: str, view: dict[str, Any], values: dict[str, Any]) -> str:
    """A view_submission of the brief modal with `values`, as Slack sends it."""
    submitted = {**view, "state": {"values": view_state(view, values, require=True)}}
    payload = {
        "type": "view_submission",
        "team": {"id": slack.team_id, "domain": "bench"},
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": slack.team_id},
        "api_app_id": slack.standin.app_id,
        "token": "bench",
        "trigger_id": slack.new_trigger_id(user_id),
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})


def line(label: str, latencies: list[float], before_ack: int) -> str:
    return (
        f"{label:<22} n={len(latencies):<4} p50={percentile(latencies, 50):6.1f} ms  "
        f"p95={percentile(latencies, 95):6.1f} ms  p99={percentile(latencies, 99):6.1f} ms  "
        f"max={max(latencies):6.1f} ms  slack_calls_before_ack={before_ack}"
    )


def calls_before_ack(calls: list[RecordedCall], acks: dict[str, Ack]) -> int:
    """Calls made while a request waited for its ack and belonging to it (by trigger, user or channel)."""
    count = 0
    for call in calls:
        args = call.args
        for key in (args.get("trigger_id"), args.get("user"), args.get("users"), args.get("channel")):
            ack = acks.get(str(key)) if key else None
            if ack is not None and ack.sent_at <= call.at < ack.acked_at:
                count += 1
                break
    return count


@asynccontextmanager
async def app_process(
    standin: SlackStandIn, secret: str, folder: Path, database: str, jobs: str, processes: int = 1
) -> AsyncIterator[RunningApp]:
    """`liftoff serve` in its own process (plus an RQ worker), as in production."""
    async with AsyncExitStack() as stack:
        if database == "postgres":
            url = await stack.enter_async_context(postgres_database())
        else:
            url = f"sqlite+aiosqlite:///{folder}/bench.db"
        settings = Settings(
            database_url=url,
            slack_bot_token=standin.bot_token,
            slack_signing_secret=secret,
            slack_api_url=standin.base_url,
            log_level="WARNING",
            redis_url=REDIS_URL if jobs == "rq" else None,
            queue_name=f"liftoff-bench-{secrets.token_hex(4)}",
        )
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = settings_env(settings)
        log = open(folder / "serve.log", "wb")  # noqa: SIM115
        server = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(port), "--processes", str(processes)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
        worker: list[subprocess.Popen[bytes]] = []
        nicing: list[asyncio.Task[None]] = []

        def start_worker_now() -> None:
            worker.append(start_worker(settings, folder / "worker.log", nice=WORKER_NICE))
            if database == "postgres" and can_renice_others():
                nicing.append(asyncio.create_task(nice_worker_sessions(url)))

        try:
            app_url = f"http://127.0.0.1:{port}"
            # Every web process listening first: connections made while only the first one is up all stay with
            # it (keep-alive), and the others would sit idle through the whole run.
            for _ in range(600):
                if (folder / "serve.log").read_text().count("Liftoff is running") >= processes:
                    break
                if server.poll() is not None:
                    raise RuntimeError((folder / "serve.log").read_text())
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"not all {processes} web processes started:\n{(folder / 'serve.log').read_text()}")
            async with aiohttp.ClientSession() as http, http.get(app_url + "/healthz") as response:
                assert response.status == 200, await response.text()
            yield RunningApp(app_url, start_worker_now, lambda: web_cpu_seconds(server.pid))
        finally:
            for task in nicing:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            stop_worker(server)
            for process in worker:
                stop_worker(process)


async def click_through(slack: SlackSimulator, standin: SlackStandIn, gate: asyncio.Semaphore,
                        users: list[dict[str, Any]], channels: list[dict[str, Any]], clicks: int,
                        concurrency: int, web_cpu: Callable[[], float], kinds: tuple[str, ...] = CLICKED) -> None:
    """The launch surfaces' buttons and modals on the launches planned (their PMs click).

    Clicks start once the worker has planned every launch of the load above: a backlog of hundreds of plans is
    an artifact of this bench, and on a small machine the worker chewing it competes with the web process for
    the same cores. The jobs the clicks themselves cause run while they are measured."""
    started = time.monotonic()
    await standin.wait_for(lambda: all(standin.messages(channel["id"]) for channel in channels), timeout=1800)
    await asyncio.sleep(SLACK_LATENCY * 8)  # the review message follows its plan
    print(f"(all {len(channels)} plans posted {time.monotonic() - started:.0f} s after the load; clicking now)")
    planned = [i for i, channel in enumerate(channels) if standin.messages(channel["id"])][:PLANNED_FOR_CLICKS]
    people = [(users[i]["id"], channels[i]["id"], f"Bench launch {i}") for i in planned]
    targets = await prepare(slack, standin, gate, people)
    cpu_before, clicking_since = web_cpu(), time.monotonic()
    acks, gone = await run_clicks(slack, standin, gate, schedule(targets, clicks, kinds))
    cpu, clicking = web_cpu() - cpu_before, time.monotonic() - clicking_since
    calls = list(standin.calls)
    everything = [ack for kind_acks in acks.values() for ack in kind_acks]
    print(f"clicks and modal submissions on {len(planned)} planned launches, {concurrency} at a time:")
    for kind, kind_acks in sorted(acks.items()):
        by_trigger = {ack.trigger_id: ack for ack in kind_acks if ack.trigger_id}
        print(line(kind, [a.elapsed_ms for a in kind_acks], calls_before_ack(calls, by_trigger)))
    by_trigger = {ack.trigger_id: ack for ack in everything if ack.trigger_id}
    print(line("all interactions", [a.elapsed_ms for a in everything], calls_before_ack(calls, by_trigger)))
    print(f"web process CPU while clicking: {cpu * 1000 / max(1, len(everything)):.1f} ms per interaction, "
          f"its work after the acks included ({100 * cpu / clicking:.0f}% of a core for {clicking:.1f} s)")
    if gone:
        print(f"({len(gone)} buttons could not be found on their surface and were not clicked)")


async def run(requests: int, concurrency: int, jobs: str, database: str, worker_during_load: bool,
              clicks: int = 0, processes: int = 1, kinds: tuple[str, ...] = CLICKED) -> None:
    users = [
        {
            "id": f"UB{i:04d}",
            "name": f"bench{i}",
            "real_name": f"Bench Person {i}",
            "tz": "Europe/Berlin",
            "profile": {"title": "Software Engineer"},
            # Admins, so the policy lets every bench user start a launch.
            "is_admin": True,
        }
        for i in range(requests)
    ]
    channels = [{"id": f"CB{i:04d}", "name": f"bench-{i}"} for i in range(requests)]
    standin = await SlackStandIn(users=users, channels=channels, trigger_ttl=None).start()
    standin.latency = SLACK_LATENCY
    secret = secrets.token_hex(16)
    target = (date.today() + timedelta(days=120)).isoformat()
    with tempfile.TemporaryDirectory(prefix="liftoff-bench-") as folder:
        async with app_process(standin, secret, Path(folder), database, jobs, processes) as app:
            if jobs == "rq" and worker_during_load:
                app.start_worker()
            slack = SlackSimulator(app.url, secret, standin)
            gate = asyncio.Semaphore(concurrency)
            try:
                # Requests are built before the clock starts, so the load generator's own work
                # (it shares the machine's two cores with the app) stays out of the figures.
                # Steady state: everyone has used Liftoff before, so the one-time profile lookup on a
                # person's first request (after its ack) is not what is measured.
                pairs = zip(users, channels, strict=True)
                await asyncio.gather(*(warm_up(slack, gate, u["id"], c["id"]) for u, c in pairs))
                await asyncio.sleep(SLACK_LATENCY * 4)
                commands = [command_body(slack, users[i]["id"], channels[i]["id"]) for i in range(requests)]
                command_acks: dict[str, Ack] = {}

                async def command(i: int) -> None:
                    body, trigger_id = commands[i]
                    async with gate:
                        ack = await slack.post(body, FORM)
                    assert ack.status == 200, ack.body
                    command_acks[trigger_id] = ack

                cpu_before = app.web_cpu()
                with collector_paused():
                    await asyncio.gather(*(command(i) for i in range(requests)))
                await standin.wait_for(lambda: len(standin.calls_to("views.open")) >= requests, timeout=120)
                command_cpu = app.web_cpu() - cpu_before
                submissions = []
                for i, trigger_id in enumerate(commands[i][1] for i in range(requests)):
                    view = standin.view_opened_by(trigger_id)
                    assert view is not None
                    values = {
                        "name": f"Bench launch {i}",
                        "brief": "Ship the new search page with QA sign-off.",
                        "target_date": target,
                        "team": [users[i]["id"]],
                        "channel": channels[i]["id"],
                        "launch_type": "software_release",
                    }
                    submissions.append(submission_body(slack, users[i]["id"], view, values))
                submit_acks: dict[str, Ack] = {}

                async def submit(i: int) -> None:
                    async with gate:
                        ack = await slack.post(submissions[i], FORM)
                    assert ack.status == 200 and not ack.body.strip(), ack.body
                    submit_acks[users[i]["id"]] = ack
                    submit_acks[channels[i]["id"]] = ack

                cpu_before = app.web_cpu()
                with collector_paused():
                    await asyncio.gather(*(submit(i) for i in range(requests)))
                await asyncio.sleep(SLACK_LATENCY * 2)  # the work after the last acks
                submit_cpu = app.web_cpu() - cpu_before
                submit_latencies = [a.elapsed_ms for k, a in submit_acks.items() if k.startswith("U")]
                if jobs == "rq" and not worker_during_load:
                    app.start_worker()
                # Give the jobs a while so the calls they make are in the record too; a job that
                # starts after every ack (worker started after the load) cannot call Slack before one.
                wanted = requests if worker_during_load or jobs == "inline" else min(requests, 40)
                await standin.wait_for(lambda: len(standin.calls_to("chat.postMessage")) >= wanted, timeout=900)
                calls = list(standin.calls)
                where = "during" if worker_during_load or jobs == "inline" else "after"
                niced = database == "postgres" and can_renice_others()
                sessions_niced = " and its PostgreSQL sessions" if niced else ""
                print(f"ack latency: {requests} requests per kind, {concurrency} at a time, "
                      f"app in {processes} process(es) of its own, database={database}, "
                      f"jobs={jobs} (running {where} the load, worker{sessions_niced} at nice {WORKER_NICE}), "
                      f"Slack answering in {SLACK_LATENCY * 1000:.0f} ms")
                print(line("/launch new", [a.elapsed_ms for a in command_acks.values()],
                           calls_before_ack(calls, command_acks)))
                print(line("brief submission", submit_latencies, calls_before_ack(calls, submit_acks)))
                print(f"web process CPU: /launch new {command_cpu * 1000 / requests:.1f} ms per request, brief "
                      f"submission {submit_cpu * 1000 / requests:.1f} ms, their work after the acks included")
                print(f"plans posted when measured: {len(standin.calls_to('chat.postMessage'))} of {requests}")
                if clicks:
                    await click_through(slack, standin, gate, users, channels, clicks, concurrency, app.web_cpu, kinds)
            finally:
                await slack.close()
    await standin.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--jobs", choices=["rq", "inline"], default="rq" if port_open("127.0.0.1", 6379) else "inline"
    )
    parser.add_argument(
        "--database",
        choices=["postgres", "sqlite"],
        default="postgres" if port_open("127.0.0.1", 5432) else "sqlite",
    )
    parser.add_argument("--processes", type=int, default=1,
                        help="web processes sharing the port (`liftoff serve --processes`; needs --jobs rq)")
    parser.add_argument("--clicks", type=int, default=500,
                        help="then this many button clicks (and the modals they open) on the planned launches")
    parser.add_argument("--kinds", nargs="+", choices=[str(k) for k in CLICKED], default=list(CLICKED),
                        help="only these buttons (action ids) are clicked; all of them by default")
    parser.add_argument("--worker-during-load", action="store_true",
                        help="run the RQ worker while requests arrive (on a 2-core box it competes with the app)")
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.concurrency, args.jobs, args.database, args.worker_during_load, args.clicks,
                     args.processes, tuple(args.kinds)))


if __name__ == "__main__":
    main()
