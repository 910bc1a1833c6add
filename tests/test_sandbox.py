"""The sandbox without a browser: `liftoff serve` starts it, its JSON API, `liftoff sandbox reset`, loopback only."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.cli import main
from bot.sandbox.runner import DATABASE_FILE, PID_FILE, RunningSandbox, loopback
from tests.sandbox_browser import running_sandbox


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
async def sandbox(tmp_path_factory: pytest.TempPathFactory, blockkit_validator: Any) -> AsyncIterator[RunningSandbox]:
    async with running_sandbox(tmp_path_factory.mktemp("sandbox-api"), blockkit_validator) as running:
        yield running


async def call(sandbox: RunningSandbox, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        if body is None:
            async with session.get(sandbox.url + path) as response:
                return response.status, await response.json()
        async with session.post(sandbox.url + path, json=body) as response:
            return response.status, await response.json()


def test_serve_without_slack_credentials_starts_the_sandbox_on_loopback(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_", "REDIS_", "LIFTOFF_"))}
    env.update(LIFTOFF_SANDBOX_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "0.0.0.0", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "sandbox ready" in line:
                break
        assert f"open http://127.0.0.1:{port}/" in "".join(lines), "".join(lines)[-3000:]
        ready_after = time.monotonic() - started
        assert ready_after < 60, ready_after
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
            assert "Liftoff sandbox" in response.read().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/state?as=U104&c=C0GENERAL") as response:
            state = json.loads(response.read())
        people = {p["name"]: p for p in state["people"]}
        assert people["Ife Adeyemi"]["tz"] == "Africa/Lagos" and people["Maya Chen"]["title"]
        assert {"general", "launch-smart-search", "okrs"} <= {c["name"] for c in state["channels"]}
        # Asked for 0.0.0.0, it still listens on loopback only.
        with socket.socket() as sock:
            assert sock.connect_ex((_outward_address(), port)) != 0
        assert (tmp_path / "data" / DATABASE_FILE).exists()
    finally:
        process.terminate()
        code = process.wait(15)
    assert code == 0


def _outward_address() -> str:
    """This machine's address on its network (not loopback), or a documentation address when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))
            return str(sock.getsockname()[0])
        except OSError:
            return "192.0.2.1"


def test_loopback_only() -> None:
    assert loopback("127.0.0.1") == "127.0.0.1"
    assert loopback("localhost") == "127.0.0.1"
    assert loopback("0.0.0.0") == "127.0.0.1"
    assert loopback("10.1.2.3") == "127.0.0.1"


def test_sandbox_reset_deletes_its_data_and_refuses_while_one_runs(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in (DATABASE_FILE, f"{DATABASE_FILE}-wal", "keep.txt"):
        (data / name).write_text("x")
    monkeypatch.setenv("LIFTOFF_SANDBOX_DIR", str(data))
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (data / PID_FILE).write_text(str(running.pid))
        assert main(["sandbox", "reset"]) == 2
        assert (data / DATABASE_FILE).exists()
    finally:
        running.terminate()
        running.wait(10)
    assert main(["sandbox", "reset"]) == 0
    assert sorted(p.name for p in data.iterdir()) == ["keep.txt"]


async def test_a_slash_command_reaches_the_app_and_its_answer_is_only_for_the_sender(sandbox: RunningSandbox) -> None:
    status, answer = await call(sandbox, "api/send", {"as": "U101", "channel": "C0GENERAL", "text": "/launch help"})
    assert status == 200 and answer == {"ok": True}
    await sandbox.standin.wait_for(lambda: bool(sandbox.standin.ephemerals("U101")), what="the help answer")
    _, omar = await call(sandbox, "api/state?as=U101&c=C0GENERAL")
    _, sara = await call(sandbox, "api/state?as=U106&c=C0GENERAL")
    assert [m["subtype"] for m in omar["conversation"]["messages"]] == ["ephemeral"]
    assert "/launch new" in json.dumps(omar["conversation"]["messages"][0]["blocks"])
    assert sara["conversation"]["messages"] == []
    assert sandbox.standin.validation_errors == []


async def test_plain_text_is_posted_and_unknown_commands_are_reported(sandbox: RunningSandbox) -> None:
    status, _ = await call(sandbox, "api/send", {"as": "U102", "channel": "C0OKRS", "text": "hello *team*"})
    assert status == 200
    _, state = await call(sandbox, "api/state?as=U100&c=C0OKRS")
    assert [(m["user"], m["text"]) for m in state["conversation"]["messages"]] == [("U102", "hello *team*")]
    status, answer = await call(sandbox, "api/send", {"as": "U102", "channel": "C0OKRS", "text": "/nosuch thing"})
    assert status == 200 and answer["ok"] is False and "/nosuch" in answer["error"]


async def test_bad_requests_are_refused_with_a_reason(sandbox: RunningSandbox) -> None:
    status, answer = await call(sandbox, "api/submit", {"as": "U100", "view_id": "V404", "values": {}})
    assert status == 400 and "no longer open" in answer["error"]
    status, answer = await call(sandbox, "api/send", {"as": "U999", "channel": "C0GENERAL", "text": "/launch"})
    assert status == 400 and "U999" in answer["error"]
    status, _ = await call(sandbox, "api/state?as=U999")
    assert status == 404
