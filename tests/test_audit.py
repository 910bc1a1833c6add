"""The audit log: a hash chain that verifies, catches tampering, survives retention, exports JSON lines."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot import audit_command
from bot.settings import Settings
from storage.audit import AuditChain, AuditEntry, AuditLog
from storage.db import Database
from storage.scope import Scope
from tests.support import migrated_database


@pytest.fixture(params=["sqlite", "postgres"])
async def settings(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Settings]:
    async with migrated_database(request.param, tmp_path) as url:
        yield Settings(database_url=url)


async def append_some(db: Database, count: int, workspace: str = "T1") -> None:
    for index in range(count):
        async with db.session() as session:
            await AuditLog(session, Scope(workspace)).append(
                actor="U1",
                action="launch.created",
                target=f"launch:{index}",
                before=None,
                after={"name": f"Launch ✓ {index}", "when": datetime(2030, 1, 1).date()},
            )
    await db.audit.flush()  # chained now, not a moment later, so the test can tamper with sealed entries


async def run(coro_fn, settings: Settings, *args) -> tuple[int, str]:  # noqa: ANN001
    out = io.StringIO()
    code = await coro_fn(settings, *args, out=out) if args else await coro_fn(settings, out=out)
    return code, out.getvalue()


async def test_a_fresh_chain_verifies_and_a_tampered_entry_is_named(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        await append_some(db, 5)
        code, text = await run(audit_command.verify, settings)
        assert code == 0 and text.startswith("ok")
        async with db.session() as session:
            third = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()[2]
            await session.execute(update(AuditEntry).where(AuditEntry.id == third.id).values(actor="U666"))
        code, text = await run(audit_command.verify, settings)
        assert code == 1 and f"entry {third.id}" in text and "content" in text
    finally:
        await db.dispose()


async def test_a_deleted_entry_in_the_middle_breaks_the_chain(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        await append_some(db, 4)
        async with db.session() as session:
            ids = list(await session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
            await session.execute(AuditEntry.__table__.delete().where(AuditEntry.id == ids[1]))
        async with db.snapshot() as session:
            result = await AuditChain(session).verify()
        assert not result.ok and result.first_bad_id == ids[2] and "prev_hash" in result.problem
    finally:
        await db.dispose()


async def test_retention_purges_old_entries_and_the_rest_still_verifies(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        await append_some(db, 6)
        async with db.session() as session:
            ids = list(await session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        # Age the first three past retention, keeping their hashes valid by re-chaining from scratch.
        old = datetime.now(UTC) - timedelta(days=settings.audit_retention_days + 5)
        async with db.session() as session:
            entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
            from storage.audit import GENESIS_HASH, entry_hash

            prev = GENESIS_HASH
            for entry in entries:
                if entry.id in ids[:3]:
                    entry.at = old
                entry.prev_hash = prev
                entry.hash = entry_hash(prev, entry)
                prev = entry.hash
        assert (await run(audit_command.verify, settings))[0] == 0
        code, text = await run(audit_command.purge, settings)
        assert code == 0 and "removed 3" in text
        code, text = await run(audit_command.verify, settings)
        # The three kept, and the purge's own entry saying what went.
        assert code == 0 and "(4 entries)" in text
        code, text = await run(audit_command.purge, settings)
        assert code == 0 and "removed 0" in text
        assert (await run(audit_command.verify, settings))[1].startswith("ok (4 entries)")
    finally:
        await db.dispose()


async def test_export_writes_json_lines_since_a_date(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        await append_some(db, 3)
        code, text = await run(audit_command.export, settings, audit_command.parse_day("2000-01-01"))
        lines = [json.loads(line) for line in text.splitlines()]
        assert code == 0 and len(lines) == 3
        assert lines[0]["after"]["name"] == "Launch ✓ 0" and lines[1]["prev_hash"] == lines[0]["hash"]
        code, text = await run(audit_command.export, settings, datetime.now(UTC) + timedelta(days=1))
        assert text == ""
    finally:
        await db.dispose()


async def test_concurrent_appends_keep_one_chain(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        await asyncio.gather(*(append_some(db, 5, workspace=f"T{n}") for n in range(4)))
        async with db.snapshot() as session:
            result = await AuditChain(session).verify()
        assert result.ok and result.checked == 20
    finally:
        await db.dispose()


def test_the_cli_reports_ok_and_refuses_a_bad_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main
    from storage.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out.startswith("ok")
    assert main(["audit", "export", "--since", "yesterday"]) == 2
    assert "--since must be a date" in capsys.readouterr().err


def test_retention_setting_defaults_to_seven_years_and_is_checked() -> None:
    assert Settings.from_env({}).audit_retention_days == 2557
    assert Settings.from_env({"AUDIT_RETENTION_DAYS": "30"}).audit_retention_days == 30
    from bot.settings import SettingsError

    with pytest.raises(SettingsError, match="AUDIT_RETENTION_DAYS"):
        Settings.from_env({"AUDIT_RETENTION_DAYS": "-3"})
    assert replace(Settings(), audit_retention_days=1).audit_retention_days == 1

