"""Starting the sandbox: the stand-in Slack, the real app wired to it, and the page; and starting over."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import secrets
import signal
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from bot.runtime import RunningLiftoff, start_liftoff
from bot.sandbox.actions import PersonActions
from bot.sandbox.seed import seed_okrs
from bot.sandbox.server import ChangeFeed, SandboxServer
from bot.sandbox.workspace import TEAM_ID, TEAM_NAME, slack_channels, slack_users
from bot.settings import Settings
from bot.standin.api import SlackStandIn
from bot.standin.simulator import SlackSimulator

log = logging.getLogger(__name__)

DATABASE_FILE = "liftoff.db"
PID_FILE = "sandbox.pid"


class SandboxError(RuntimeError):
    """The sandbox cannot do what was asked; the message says why and what to do."""


@dataclass
class RunningSandbox:
    standin: SlackStandIn
    liftoff: RunningLiftoff
    simulator: SlackSimulator
    server: SandboxServer
    data_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    async def stop(self) -> None:
        await self.server.stop()
        await self.simulator.close()
        await self.liftoff.stop()
        await self.standin.stop()
        (self.data_dir / PID_FILE).unlink(missing_ok=True)


def loopback(host: str) -> str:
    """The sandbox signs requests with a secret it hands to no one; it only ever listens on this machine."""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        if host == "localhost":
            return "127.0.0.1"
    log.warning("the sandbox listens on 127.0.0.1 only (asked for %s)", host)
    return "127.0.0.1"


def app_settings(settings: Settings, data_dir: Path, standin: SlackStandIn, secret: str) -> Settings:
    """The real app's settings in the sandbox: its own SQLite file, in-process jobs, Slack = the stand-in."""
    return replace(
        settings,
        database_url=f"sqlite+aiosqlite:///{data_dir / DATABASE_FILE}",
        redis_url=None,
        slack_bot_token=standin.bot_token,
        slack_signing_secret=secret,
        slack_app_token=None,
        slack_api_url=standin.base_url,
    )


async def start_sandbox(settings: Settings, *, host: str = "127.0.0.1", port: int = 3000) -> RunningSandbox:
    data_dir = Path(settings.sandbox_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    standin = SlackStandIn(team_id=TEAM_ID, team_name=TEAM_NAME, users=slack_users(), channels=slack_channels())
    await standin.start()
    secret = secrets.token_hex(16)
    try:
        liftoff = await start_liftoff(app_settings(settings, data_dir, standin, secret), port=0)
    except BaseException:
        await standin.stop()
        raise
    try:
        if await seed_okrs(liftoff.services.db, date.today()):
            log.info("seeded the sandbox with the sample OKR tree")
    except BaseException:
        await liftoff.stop()
        await standin.stop()
        raise
    simulator = SlackSimulator(liftoff.url, secret, standin)
    feed = ChangeFeed()
    standin.subscribe(feed.changed)
    server = SandboxServer(standin, PersonActions(standin, simulator), feed)
    try:
        await server.start(loopback(host), port)
    except OSError as exc:
        await simulator.close()
        await liftoff.stop()
        await standin.stop()
        raise SandboxError(f"cannot listen on {host}:{port} ({exc.strerror}); try --port") from exc
    (data_dir / PID_FILE).write_text(str(os.getpid()))
    return RunningSandbox(standin, liftoff, simulator, server, data_dir)


async def serve_sandbox(settings: Settings, *, host: str, port: int) -> None:
    """Run the sandbox until Ctrl-C or SIGTERM."""
    sandbox = await start_sandbox(settings, host=host, port=port)
    print(f"Liftoff sandbox ready: open {sandbox.url}", flush=True)
    print(f"(the real app at {sandbox.liftoff.url}, Slack stand-in at {sandbox.standin.url}; "
          f"data in {sandbox.data_dir}; Ctrl-C stops, `liftoff sandbox reset` starts over)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sandbox.stop()


def _running_pid(data_dir: Path) -> int | None:
    try:
        pid = int((data_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


def reset_sandbox(settings: Settings) -> list[Path]:
    """Delete the sandbox's database and Slack state; the next start seeds a fresh workspace."""
    data_dir = Path(settings.sandbox_dir).resolve()
    pid = _running_pid(data_dir)
    if pid is not None and pid != os.getpid():
        raise SandboxError(f"a sandbox is running from {data_dir} (process {pid}); stop it first")
    removed = []
    for name in (DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm", PID_FILE):
        path = data_dir / name
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed
