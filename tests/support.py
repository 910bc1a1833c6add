"""Shared test plumbing: where shared/ is, which services are up, and a whole running Liftoff."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from bot.runtime import RunningLiftoff, start_liftoff
from bot.settings import Settings
from bot.standin.api import SlackStandIn
from bot.standin.simulator import SlackSimulator

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ADMIN_URL = os.environ.get("LIFTOFF_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_TEST_URL = os.environ.get("LIFTOFF_TEST_REDIS", "redis://127.0.0.1:6379/9")

PEOPLE = [
    {
        "id": "U100",
        "name": "maya",
        "real_name": "Maya Chen",
        "tz": "America/New_York",
        "profile": {"title": "Senior Product Manager", "email": "maya@example.com"},
        "is_admin": True,  # a Slack workspace admin: a Liftoff Admin, so she may start launches
    },
    {
        "id": "U101",
        "name": "omar",
        "real_name": "Omar Haddad",
        "tz": "Europe/Berlin",
        "profile": {"title": "Engineering Lead", "email": "omar@example.com"},
    },
    {
        "id": "U102",
        "name": "lucia",
        "real_name": "Lucia Romero",
        "tz": "Europe/Madrid",
        "profile": {"title": "Software Engineer", "email": "lucia@example.com"},
    },
    {
        "id": "U103",
        "name": "tom",
        "real_name": "Tom Becker",
        "tz": "Europe/Berlin",
        "profile": {"title": "QA Engineer", "email": "tom@example.com"},
    },
    {
        "id": "U104",
        "name": "sara",
        "real_name": "Sara Kim",
        "tz": "Asia/Seoul",
        "profile": {"title": "Product Marketing Manager", "email": "sara@example.com"},
    },
    {
        "id": "U105",
        "name": "ravi",
        "real_name": "Ravi Patel",
        "tz": "Asia/Kolkata",
        "profile": {"title": "Support Lead", "email": "ravi@example.com"},
    },
    {
        "id": "U106",
        "name": "ife",
        "real_name": "Ife Adeyemi",
        "tz": "Africa/Lagos",
        "profile": {"title": "Product Designer", "email": "ife@example.com"},
    },
]
CHANNELS = [{"id": "C0GENERAL", "name": "general"}, {"id": "C0LAUNCH", "name": "launch-smart-search"}]


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip when a service is down on a laptop; fail under CI=true, where it must run."""
    if port_open(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if IN_CI:
        pytest.fail(message + " (CI=true: these tests must run)")
    pytest.skip(message)


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test module; dropped afterwards."""
    import asyncpg

    require_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"liftoff_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()



@asynccontextmanager
async def migrated_database(backend: str, folder: Path) -> AsyncIterator[str]:
    """The URL of a migrated, empty database: a SQLite file in `folder` ("sqlite") or a fresh PostgreSQL database
    ("postgres", dropped afterwards)."""
    from storage.migrate import upgrade_async

    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{folder}/liftoff.db"
        await upgrade_async(url)
        yield url
        return
    async with postgres_database() as url:
        await upgrade_async(url)
        yield url

@dataclass
class Stack:
    """A whole running Liftoff: the app, its Slack stand-in, a simulated Slack client, maybe a worker."""

    backend: str
    settings: Settings
    liftoff: RunningLiftoff
    standin: SlackStandIn
    slack: SlackSimulator
    worker: subprocess.Popen[bytes] | None = None

    @property
    def db(self):  # noqa: ANN201
        return self.liftoff.services.db

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until queued jobs have run: in-process by draining, on RQ by watching the queue."""
        jobs = self.liftoff.services.jobs
        if hasattr(jobs, "drain"):
            await jobs.drain(timeout)
            return
        from rq import Queue
        from rq.registry import StartedJobRegistry

        queue: Queue = jobs.queue  # type: ignore[attr-defined]
        registry = StartedJobRegistry(queue=queue)
        async with asyncio.timeout(timeout):
            while queue.count or registry.count:
                if self.worker is not None and self.worker.poll() is not None:
                    raise RuntimeError(f"the RQ worker exited with {self.worker.returncode}")
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.1)
            while queue.count or registry.count:
                await asyncio.sleep(0.05)


def single_workspace_settings(standin: SlackStandIn) -> Settings:
    """The app installed in the stand-in's one workspace with its bot token (no database yet)."""
    return Settings(
        slack_bot_token=standin.bot_token,
        slack_signing_secret=secrets.token_hex(16),
        slack_api_url=standin.base_url,
        log_level="WARNING",
    )


@asynccontextmanager
async def running_stack(
    backend: str, tmp_dir: Path, validator,  # noqa: ANN001
    *, settings_for: Callable[[SlackStandIn], Settings] = single_workspace_settings, team_id: str | None = None,
) -> AsyncIterator[Stack]:
    """Liftoff on `backend` ("sqlite-inline", or "postgres-rq" with a worker), wired to a new Slack stand-in;
    `settings_for` gives its settings but the database's, and the simulated client clicks from `team_id`
    (the stand-in's workspace by default)."""
    standin = await SlackStandIn(validator=validator, users=PEOPLE, channels=CHANNELS).start()
    base = settings_for(standin)
    try:
        if backend == "sqlite-inline":
            settings = replace(base, database_url=f"sqlite+aiosqlite:///{tmp_dir}/liftoff.db")
            async with _stack(backend, settings, standin, None, team_id) as stack:
                yield stack
            return
        require_service("Redis", "127.0.0.1", 6379)
        async with postgres_database() as url:
            # A queue of its own: test runs side by side on one Redis never take each other's jobs.
            queue = f"liftoff-test-{uuid.uuid4().hex[:8]}"
            settings = replace(base, database_url=url, redis_url=REDIS_TEST_URL, queue_name=queue)
            worker = start_worker(settings, tmp_dir / "worker.log")
            try:
                async with _stack(backend, settings, standin, worker, team_id) as stack:
                    yield stack
            finally:
                # Before the database is dropped: a job cut off from its database mid-way would keep the worker
                # from its warm shutdown past stop_worker's patience (10 s lost per module).
                await asyncio.to_thread(stop_worker, worker)
    finally:
        await standin.stop()


@asynccontextmanager
async def _stack(
    backend: str, settings: Settings, standin: SlackStandIn, worker: subprocess.Popen[bytes] | None,
    team_id: str | None,
) -> AsyncIterator[Stack]:
    liftoff = await start_liftoff(settings, port=0)
    slack = SlackSimulator(liftoff.url, settings.slack_signing_secret or "", standin, team_id=team_id)
    try:
        yield Stack(backend, settings, liftoff, standin, slack, worker)
    finally:
        await slack.close()
        await liftoff.stop()


def settings_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "REDIS_", "LIFTOFF_"))}
    env.update(
        DATABASE_URL=settings.database_url,
        REDIS_URL=settings.redis_url or "",
        SLACK_BOT_TOKEN=settings.slack_bot_token or "",
        SLACK_SIGNING_SECRET=settings.slack_signing_secret or "",
        SLACK_API_URL=settings.slack_api_url,
        LIFTOFF_QUEUE=settings.queue_name,
        SLACK_CLIENT_ID=settings.slack_client_id or "",  # multi-workspace mode
        SLACK_CLIENT_SECRET=settings.slack_client_secret or "",
        LIFTOFF_ENCRYPTION_KEY=settings.encryption_key or "",
        LOG_LEVEL="INFO",
    )
    return env


def start_worker(settings: Settings, log_path: Path, *, nice: int = 0) -> subprocess.Popen[bytes]:
    """`liftoff worker` in its own process; `nice` lowers its CPU priority (a bench sharing cores with the app)."""
    log = open(log_path, "wb")  # noqa: SIM115 - the worker writes to it for the module's lifetime
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"], cwd=ROOT, env=settings_env(settings), stdout=log, stderr=log,
        preexec_fn=(lambda: os.nice(nice)) if nice else None,  # noqa: PLW1509 - only os.nice, before exec
    )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    """Ask the worker to stop after its current job; kill it if it will not."""
    worker.terminate()
    try:
        worker.wait(10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(10)
