"""`liftoff serve`: the app over HTTP at /slack/events, or over Socket Mode with SLACK_APP_TOKEN."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys

from bot.runtime import WARM_CONNECTIONS, start_liftoff
from bot.settings import Settings

log = logging.getLogger(__name__)


async def serve_forever(settings: Settings, *, host: str, port: int, processes: int = 1, child: bool = False) -> None:
    """Serve until stopped. With processes > 1 (HTTP and RQ only), this process migrates, then it and
    processes - 1 children listen on the same port (SO_REUSEPORT), one event loop per core."""
    shared = processes > 1 or child
    liftoff = await start_liftoff(settings, host=host, port=port, migrate=not child, reuse_port=shared,
                                  warm_connections=WARM_CONNECTIONS)
    children = [_spawn_child(host, port) for _ in range(processes - 1)] if not child else []
    socket_handler = None
    if settings.uses_socket_mode:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        socket_handler = AsyncSocketModeHandler(liftoff.bolt, settings.slack_app_token)
        await socket_handler.connect_async()
        log.info("Socket Mode connected; /healthz on %s", liftoff.url)
    else:
        log.info("listening for Slack at %s/slack/events", liftoff.url)
    print(f"Liftoff is running: {liftoff.url}/healthz", flush=True)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)  # so the children below are stopped too
    watch = asyncio.create_task(_exit_with_parent(stopped)) if child else None
    try:
        await stopped.wait()
    finally:
        if watch is not None:
            watch.cancel()
        for process in children:
            process.terminate()
        for process in children:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        if socket_handler is not None:
            await socket_handler.close_async()
        await liftoff.stop()


def _spawn_child(host: str, port: int) -> subprocess.Popen[bytes]:
    """One more web process on the same port; it reads the same environment and skips the migration."""
    command = [sys.executable, "-m", "bot.cli", "serve", "--host", host, "--port", str(port), "--child"]
    return subprocess.Popen(command)


async def _exit_with_parent(stopped: asyncio.Event) -> None:
    """A child web process stops when the process that started it is gone, however that one ended."""
    parent = os.getppid()
    while os.getppid() == parent:
        await asyncio.sleep(1.0)
    stopped.set()
