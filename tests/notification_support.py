"""What the notification and digest tests share: a migrated SQLite database, the Slack stand-in, a local SMTP server."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from bot.services import build_web_client
from bot.settings import Settings
from bot.standin.api import SlackStandIn
from integrations.email import EmailSender, SmtpConfig
from integrations.slack_sender import SlackSender
from storage.db import Database
from storage.migrate import upgrade_async
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository
from tests.support import CHANNELS, PEOPLE, postgres_database

WS = "T0NOTIFY"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@dataclass
class World:
    db: Database
    standin: SlackStandIn
    inbox: Inbox
    smtp_port: int

    def sender(self) -> SlackSender:
        client = build_web_client(Settings(slack_api_url=self.standin.base_url), self.standin.bot_token)

        async def no_wait(_seconds: float) -> None:
            return None

        return SlackSender(client, sleep=no_wait)

    def email(self, *, up: bool = True) -> EmailSender:
        return EmailSender(SmtpConfig(host="127.0.0.1", port=self.smtp_port if up else free_port(), timeout=2))

    def dms(self, user_id: str) -> list[dict[str, Any]]:
        return self.standin.messages(self.standin.directory.dm_id(user_id))


async def make_world(tmp_path: Path, validator: Any, name: str, backend: str = "sqlite") -> AsyncIterator[World]:
    if backend == "postgresql":
        async with postgres_database() as url:
            async for world in _world(url, validator):
                yield world
    else:
        async for world in _world(f"sqlite+aiosqlite:///{tmp_path}/{name}.db", validator):
            yield world


async def _world(url: str, validator: Any) -> AsyncIterator[World]:
    await upgrade_async(url)
    db = Database(url)
    async with db.session() as session:
        people = WorkspaceRepository(session, Scope(WS))
        await people.ensure("Notify")
        for person in PEOPLE:
            user = await people.ensure_user(person["id"], person["real_name"])
            user.tz = person["tz"]
            user.email = person["profile"]["email"]
    standin = await SlackStandIn(validator=validator, users=PEOPLE, channels=CHANNELS).start()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield World(db, standin, inbox, controller.port)
    finally:
        controller.stop()
        await standin.stop()
        await db.dispose()
