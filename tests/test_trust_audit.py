"""Audit coverage of OKR changes and of admin promotion from Slack profiles; audit retention on the daily schedule;
Socket Mode with the installation store refused at start."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from agents.okr_checkin import CheckInError, check_in_as
from agents.okr_import import import_tree
from agents.okr_objectives import NotAllowed, ObjectiveForm, add_comment, decide, submit_objective
from bot.jobs import JobName, RqJobs
from bot.scheduler import tick
from bot.settings import Settings, SettingsError
from bot.team_directory import resolve_team
from bot.wiring import build_services
from storage.audit import ALL_WORKSPACES, PURGED_ACTION, AuditChain, AuditEntry, AuditLog
from storage.db import Database
from storage.enums import Role
from storage.launches import LaunchRepository
from storage.migrate import upgrade_async
from storage.okr_models import OkrDecision
from storage.okrs import OkrRepository
from storage.scope import Scope
from storage.workspaces import WorkspaceRepository
from tests.support import REDIS_TEST_URL, require_service
from tests.test_okr_scenarios import ADMIN, MEMBER, PM, tree

WS = "T0AUDIT"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path}/trust.db"
    await upgrade_async(url)
    database = Database(url)
    try:
        yield database
    finally:
        await database.dispose()


async def actions(db: Database, workspace: str = WS) -> list[tuple[str, str, str]]:
    async with db.reader() as session:
        rows = await session.scalars(select(AuditEntry).where(AuditEntry.workspace_id == workspace)
                                     .order_by(AuditEntry.id))
        return [(e.actor, e.action, e.target) for e in rows]


async def test_every_okr_change_and_refusal_is_in_the_audit_log(db: Database) -> None:
    scope = Scope(WS)
    async with db.session() as session:
        await WorkspaceRepository(session, scope).ensure()
        await import_tree(OkrRepository(session, scope), tree(), date.today(), actor="U100")
    logged = await actions(db)
    assert ("U100", "okr.imported", "okr:tree") in logged
    assert {t for _, a, t in logged if a == "okr.role_set"} == {f"user:{p}" for p in (ADMIN, PM, MEMBER)}

    async with db.session() as session:
        repo = OkrRepository(session, scope)
        parent = await repo.objective_by_key("ENG-A")
        assert parent is not None
        period = str(parent.period_id)
        form = ObjectiveForm(title="Faster search", level="team", period_id=period, parent_id=str(parent.id),
                             department="Engineering", team="Search", visibility="public", kr_title="Cut p95",
                             kr_start="800", kr_target="300", kr_unit="ms")
        submitted = (await submit_objective(repo, form, MEMBER)).objective
    # A refusal rolls nothing back: the caller's transaction commits the denial entry.
    async with db.session() as session:
        repo = OkrRepository(session, scope)
        objective = await repo.objective(submitted.id)
        assert objective is not None
        with pytest.raises(NotAllowed):
            await decide(repo, objective, MEMBER, approve=True, reason="", today=date.today())
    async with db.session() as session:
        repo = OkrRepository(session, scope)
        objective = await repo.objective(submitted.id)
        assert objective is not None
        await decide(repo, objective, PM, approve=True, reason="", today=date.today())
        kr = await repo.key_result_by_key(f"{objective.key}.1")
        assert kr is not None
        await check_in_as(repo, MEMBER, kr, value=500, day=date.today(), note="cache")
        with pytest.raises(CheckInError):
            await check_in_as(repo, MEMBER, kr, value=float("nan"), day=date.today())
        other = await repo.key_result_by_key("CO-A.1")
        assert other is not None
        with pytest.raises(CheckInError):
            await check_in_as(repo, MEMBER, other, value=1, day=date.today())
        await add_comment(repo, objective, PM, f"Nice, <@{ADMIN}>")
    key = submitted.key
    logged = await actions(db)
    assert (MEMBER, "okr.objective_submitted", f"objective:{key}") in logged
    assert (MEMBER, "access.denied", f"objective:{key}") in logged
    assert (PM, "okr.objective_approved", f"objective:{key}") in logged
    assert (MEMBER, "okr.checked_in", f"key_result:{key}.1") in logged
    assert (MEMBER, "access.denied", "key_result:CO-A.1") in logged
    assert (PM, "okr.commented", f"objective:{key}") in logged
    async with db.snapshot() as session:
        # okr_decisions keeps its own history next to the log.
        decisions = list(await session.scalars(select(OkrDecision.decision).where(
            OkrDecision.objective_id == submitted.id).order_by(OkrDecision.id)))
        checked = await session.scalar(select(AuditEntry).where(AuditEntry.action == "okr.checked_in",
                                                                AuditEntry.target == f"key_result:{key}.1"))
        assert (await AuditChain(session).verify()).ok
    assert decisions == ["submitted", "approved"]
    assert checked is not None and checked.before["current"] is None and checked.after["value"] == 500
    assert checked.after["progress"] == pytest.approx(0.6)


async def test_metric_secret_changes_are_audited_without_the_secret(db: Database) -> None:
    async with db.session() as session:
        await WorkspaceRepository(session, Scope(WS)).ensure()
        await OkrRepository(session, Scope(WS)).save_settings(metric_secret="s3cret-value", actor="U100")
        await OkrRepository(session, Scope(WS)).save_settings(metric_secret="s3cret-value", actor="U100")
    async with db.reader() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "okr.settings_changed")))
    assert len(entries) == 1 and entries[0].after["metric_secret"] == "set"
    assert "s3cret" not in str(entries[0].after) + str(entries[0].before)


class FakeSlack:
    """users.info answers: one Slack admin, one ordinary member (the client is the only thing faked)."""

    async def users_info(self, user: str) -> dict[str, Any]:
        return {"user": {"id": user, "real_name": f"Person {user}", "is_admin": user == "U900",
                         "profile": {"title": "Engineer"}}}


async def test_admin_promotion_from_slack_profiles_is_audited_once(db: Database) -> None:
    scope = Scope(WS)
    async with db.session() as session:
        await WorkspaceRepository(session, scope).ensure()
        launch = await LaunchRepository(session, scope).create_draft(
            name="Promo", brief="b", target_date=date.today() + timedelta(days=30), launch_type="software_release",
            channel_id=None, created_by="U100", members=[("", "", "U900"), ("", "", "U901")])
    await resolve_team(db, FakeSlack(), WS, launch.id)  # type: ignore[arg-type]
    await resolve_team(db, FakeSlack(), WS, launch.id)  # type: ignore[arg-type]
    assert [a for a in await actions(db) if a[1] == "role.resolved"] == [("slack", "role.resolved", "user:U900")]
    async with db.reader() as session:
        admin = await WorkspaceRepository(session, scope).user("U900")
        member = await WorkspaceRepository(session, scope).user("U901")
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "role.resolved"))
    assert admin is not None and admin.role == Role.ADMIN and member is not None and member.role == Role.MEMBER
    assert entry is not None and entry.before == {"role": "member"} and entry.after == {"role": "admin"}


async def age_entries(db: Database, monkeypatch: pytest.MonkeyPatch, days: int, count: int) -> None:
    """Append count entries as if written days ago (the chain stays valid: `at` is hashed as written)."""
    import storage.audit

    then = datetime.now(UTC) - timedelta(days=days)
    monkeypatch.setattr(storage.audit, "utcnow", lambda: then)
    for n in range(count):
        async with db.session() as session:
            await AuditLog(session, Scope(WS)).append(actor="U1", action="launch.created", target=f"launch:{n}")
    monkeypatch.undo()


def purges(jobs: list[tuple[str, list[Any]]]) -> list[list[Any]]:
    return [args for name, args in jobs if name == JobName.AUDIT_PURGE]


async def test_the_daily_purge_runs_once_a_day_from_the_scheduler_and_the_chain_still_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/retention.db"
    await upgrade_async(url)
    services = build_services(Settings(database_url=url, audit_retention_days=30))
    try:
        await age_entries(services.db, monkeypatch, 40, 3)
        async with services.db.session() as session:
            await AuditLog(session, Scope(WS)).append(actor="U1", action="launch.created", target="launch:new")
        now = datetime.now(UTC)
        assert "audit_purge" in (await tick(services, now, deliver=False)).daily
        assert "audit_purge" not in (await tick(services, now + timedelta(hours=1), deliver=False)).daily
        await services.jobs.drain()  # type: ignore[union-attr]
        async with services.db.snapshot() as session:
            chain = AuditChain(session)
            assert await chain.count() == 2 and (await chain.verify()).ok
        purged = await actions(services.db, ALL_WORKSPACES)
        assert purged == [("retention", PURGED_ACTION, "audit_entries")]
        # The purge itself is idempotent: run again (a lost claim, a restart), it removes and writes nothing.
        assert "audit_purge" in (await tick(services, now + timedelta(days=1), deliver=False)).daily
        await services.jobs.drain()  # type: ignore[union-attr]
        async with services.db.snapshot() as session:
            assert await AuditChain(session).count() == 2 and (await AuditChain(session).verify()).ok
    finally:
        await services.db.dispose()


async def test_two_schedulers_on_rq_enqueue_one_purge_a_day_between_them(tmp_path: Path) -> None:
    require_service("Redis", "127.0.0.1", 6379)
    url = f"sqlite+aiosqlite:///{tmp_path}/rq.db"
    await upgrade_async(url)
    settings = Settings(database_url=url, redis_url=REDIS_TEST_URL, queue_name=f"liftoff-test-{uuid.uuid4().hex[:8]}")
    first, second = build_services(settings), build_services(settings)
    now = datetime.now(UTC)
    assert isinstance(first.jobs, RqJobs)
    queue = first.jobs.queue
    try:
        for services in (first, second, first):
            await tick(services, now, deliver=False)
        enqueued = [(job.args[0], list(job.args[1])) for job in queue.jobs]
        assert purges(enqueued) == [[now.date().isoformat()]]
    finally:
        queue.delete(delete_jobs=True)
        for services in (first, second):
            await services.db.dispose()


async def test_serving_starts_the_scheduler_and_stops_it(tmp_path: Path, blockkit_validator: Any) -> None:
    from bot.runtime import start_liftoff
    from bot.standin.api import SlackStandIn
    from tests.support import CHANNELS, PEOPLE

    standin = await SlackStandIn(validator=blockkit_validator, users=PEOPLE, channels=CHANNELS).start()
    try:
        liftoff = await start_liftoff(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/serve.db",
                                               slack_bot_token=standin.bot_token, slack_signing_secret="x",
                                               slack_api_url=standin.base_url), port=0)
        scheduler = liftoff.scheduler
        assert scheduler is not None and scheduler._task is not None and not scheduler._task.done()
        await liftoff.stop()
        assert scheduler._task is None
    finally:
        await standin.stop()


def test_socket_mode_with_the_installation_store_is_refused_in_one_line() -> None:
    env = {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_SIGNING_SECRET": "x",
           "LIFTOFF_ENCRYPTION_KEY": Fernet.generate_key().decode(), "SLACK_APP_TOKEN": "xapp-1-A-1-abc"}
    with pytest.raises(SettingsError, match="Socket Mode") as refused:
        Settings.from_env(env)
    assert "\n" not in str(refused.value)
    with pytest.raises(SettingsError, match="Socket Mode"):
        Settings.from_env({**env, "SLACK_BOT_TOKEN": "xoxb-1"})
    single = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "x", "SLACK_APP_TOKEN": "xapp-1-A-1-abc"}
    assert Settings.from_env(single).uses_socket_mode
    assert replace(Settings(), slack_app_token=None).uses_socket_mode is False
