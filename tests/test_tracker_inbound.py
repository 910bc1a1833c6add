"""Status flowing back from the trackers: signed webhooks per tracker (Linear, Jira, Notion, Asana), the
reconcile that pulls what a lost webhook carried, the health card's sync state and links, and JQL counts as
key-result progress. Against the fake Linear and Jira servers (every request checked against the real API
descriptions) and a migrated SQLite database."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from sqlalchemy import select

from agents.okr_import import import_tree
from agents.policy import Actor
from agents.task_updates import TaskChange, update_task
from agents.tracker_inbound import (
    SECRET_KEY,
    Applied,
    apply_remote_change,
    create_webhook_secret,
    fetch_and_apply,
    receive_webhook,
    reconcile,
    webhook_path,
)
from agents.tracker_jql import refresh_jql
from agents.tracker_sync import encrypt_secrets
from agents.tracker_webhook_auth import WebhookRefused, items, sign, verify
from blocks.health_card import health_card
from bot.jobs import JobArg, JobName
from bot.services import Services
from bot.settings import Settings
from bot.tracker_webhooks import add_routes
from integrations.fakes import jira_fake, linear_fake
from integrations.fakes.faults import Faults
from integrations.fakes.sync_rig import ADMIN, KEY, WORKSPACE, Rig, build_rig
from integrations.trackers import RemoteChange
from storage.audit import AuditEntry
from storage.enums import Role, TaskStatus
from storage.migrate import upgrade_async
from storage.models import Task, utcnow
from storage.okr_models import CheckIn
from storage.okrs import OkrRepository
from storage.scope import Scope
from storage.tracker_inbound import InboundRepository, SyncHealth, TrackerSyncState, launch_tracker_view
from storage.trackers import TrackerConnection, TrackerKind, TrackerLink, TrackerRepository

SECRET = "s3cret-webhook"


class Recorded:
    """A job queue that records what was enqueued (the jobs themselves are tested on their own)."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, tuple[JobArg, ...]]] = []

    async def enqueue(self, name: JobName, *args: JobArg) -> None:
        self.jobs.append((str(name), args))


# -- signatures, without a database --------------------------------------------------------------------------

def _linear_body(age_s: float = 0.0) -> bytes:
    return json.dumps({"action": "update", "type": "Issue", "webhookTimestamp": int((time.time() - age_s) * 1000),
                       "data": {"id": "issue-1", "updatedAt": "2026-11-23T10:00:00.000Z",
                                "state": {"type": "completed"}}}).encode()


def _headers(kind: str, secret: str, body: bytes) -> dict[str, str]:
    signature = sign(secret, body)
    return {"linear": {"Linear-Signature": signature}, "jira": {"X-Hub-Signature": f"sha256={signature}"},
            "notion": {"X-Notion-Signature": f"sha256={signature}"},
            "asana": {"X-Hook-Signature": signature}}[kind]


BODIES: dict[str, Callable[[], bytes]] = {
    "linear": _linear_body,
    "jira": lambda: json.dumps({"webhookEvent": "jira:issue_updated", "issue": {"id": "10001", "fields": {
        "status": {"statusCategory": {"key": "indeterminate"}}, "updated": "2026-11-23T10:00:00.000+0000"}}}).encode(),
    "notion": lambda: json.dumps({"type": "page.properties_updated", "entity": {"id": "page-1", "type": "page"}})
    .encode(),
    "asana": lambda: json.dumps({"events": [
        {"action": "changed", "resource": {"gid": "42", "resource_type": "task"}},
        {"action": "changed", "resource": {"gid": "42", "resource_type": "task"}},
        {"action": "deleted", "resource": {"gid": "43", "resource_type": "task"}}]}).encode(),
}


@pytest.mark.parametrize("kind", ["linear", "jira", "notion", "asana"])
def test_each_trackers_signature_is_checked(kind: str) -> None:
    body = BODIES[kind]()
    named = items(kind, verify(kind, SECRET, _headers(kind, SECRET, body), body))
    assert [i.item_id for i in named] == {"linear": ["issue-1"], "jira": ["10001"], "notion": ["page-1"],
                                          "asana": ["42"]}[kind]
    # Linear and Jira say the status; Notion and Asana only name the item (it is fetched).
    assert [i.change.status if i.change else None for i in named] == \
        {"linear": ["done"], "jira": ["in_progress"], "notion": [None], "asana": [None]}[kind]
    for headers, tampered in ((_headers(kind, "another secret", body), body),
                              (_headers(kind, SECRET, body), body + b" "), ({}, body)):
        with pytest.raises(WebhookRefused) as refused:
            verify(kind, SECRET, headers, tampered)
        assert refused.value.status == 401


def test_a_linear_webhook_older_than_a_minute_is_refused() -> None:
    stale = _linear_body(age_s=90)
    with pytest.raises(WebhookRefused, match="stale"):
        verify("linear", SECRET, _headers("linear", SECRET, stale), stale)
    fresh = _linear_body(age_s=20)
    assert verify("linear", SECRET, _headers("linear", SECRET, fresh), fresh)["type"] == "Issue"


# -- against the fakes ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
async def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database file; each rig starts from a copy (migrating afresh costs most of a rig)."""
    path = tmp_path_factory.mktemp("inbound") / "template.db"
    await upgrade_async(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def rig_for(tmp_path: Path, migrated: Path) -> AsyncIterator[Callable[..., Any]]:
    made: list[Rig] = []

    async def make(kind: str, *, tasks: int = 3) -> Rig:
        fake = await (linear_fake.start(faults=Faults()) if kind == "linear" else jira_fake.start(faults=Faults()))
        shutil.copy(migrated, tmp_path / f"{kind}.db")
        rig = await build_rig(f"sqlite+aiosqlite:///{tmp_path}/{kind}.db", fake, tasks=tasks, rate=500,
                              timeout_s=0.5)
        made.append(rig)
        await rig.sync()
        return rig

    yield make
    for rig in made:
        await rig.db.dispose()
        await rig.fake.stop()


async def _links(rig: Rig) -> dict[str, TrackerLink]:
    async with rig.db.reader() as session:
        rows = await session.execute(select(Task.key, TrackerLink).join(TrackerLink, TrackerLink.task_id == Task.id))
        return {key: link for key, link in rows}


async def _task(rig: Rig, key: str) -> Task:
    async with rig.db.reader() as session:
        task = await session.scalar(select(Task).where(Task.key == key))
        assert task is not None
        return task


async def _connection(rig: Rig) -> TrackerConnection:
    async with rig.db.reader() as session:
        connection = await TrackerRepository(session, Scope(WORKSPACE)).connection(rig.connection_id)
        assert connection is not None
        return connection


async def _audit(rig: Rig, actor: str) -> list[AuditEntry]:
    async with rig.db.reader() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.actor == actor)))


def _remote_move(rig: Rig, item_id: str, status: str) -> dict[str, Any]:
    if isinstance(rig.fake, linear_fake.FakeLinear):
        state = {"todo": "unstarted", "in_progress": "started", "done": "completed"}[status]
        return {"action": "update", "type": "Issue", "data": rig.fake.move(item_id, state),
                "webhookTimestamp": int(time.time() * 1000)}
    category = {"todo": "new", "in_progress": "indeterminate", "done": "done"}[status]
    return {"webhookEvent": "jira:issue_updated", "issue": rig.fake.move(item_id, category)}


@pytest.fixture
async def served(rig_for: Callable[..., Any]) -> AsyncIterator[Callable[..., Any]]:
    runners: list[web.AppRunner] = []

    async def serve(kind: str) -> tuple[Rig, str, Recorded]:
        rig = await rig_for(kind)
        jobs = Recorded()
        app = web.Application()
        add_routes(app, Services(settings=Settings(encryption_key=KEY), db=rig.db, jobs=jobs, slack=None))  # type: ignore[arg-type]
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return rig, f"http://127.0.0.1:{port}", jobs

    yield serve
    for runner in runners:
        await runner.cleanup()


@pytest.mark.parametrize("kind", ["linear", "jira"])
async def test_a_signed_webhook_applies_the_status_like_a_slack_change(kind: str, served) -> None:  # noqa: ANN001
    rig, url, jobs = await served(kind)
    async with rig.db.session() as session:
        secret = await create_webhook_secret(session, Scope(WORKSPACE), rig.connection_id, encryption_key=KEY)
    link = (await _links(rig))["T1"]
    body = json.dumps(_remote_move(rig, str(link.external_id), "done")).encode()
    path = url + webhook_path(kind, rig.connection_id)
    async with ClientSession() as http:
        started = time.perf_counter()
        async with http.post(path, data=body, headers=_headers(kind, secret, body)) as response:
            assert response.status == 200, await response.text()
            assert (await response.json())["applied"] == 1
        assert time.perf_counter() - started < 5  # reflected well within the 5 s target: applied in the request
        task = await _task(rig, "T1")
        assert task.status == TaskStatus.DONE and task.completed_at is not None
        entries = await _audit(rig, f"tracker:{kind}")
        assert [(e.action, e.target, e.after["status"]) for e in entries] == \
            [("task.updated", f"task:{task.id}", "done")]
        assert (str(JobName.RECOMPUTE_LAUNCH), (WORKSPACE, rig.launch_id)) in jobs.jobs
        # Redelivered: nothing changes, nothing is recomputed again.
        jobs.jobs.clear()
        async with http.post(path, data=body, headers=_headers(kind, secret, body)) as response:
            assert response.status == 200 and (await response.json())["applied"] == 0
        assert len(await _audit(rig, f"tracker:{kind}")) == 1 and jobs.jobs == []
        # The status it applied is the item's synced status: the outward sync sends nothing back.
        requests = rig.fake.requests
        assert sum(r.sent for r in await rig.sync()) == 1 and rig.fake.requests == requests
        # Bad signature 401, unknown connection 404, a body that is not a webhook of ours 401.
        async with http.post(path, data=body, headers=_headers(kind, "wrong", body)) as response:
            assert response.status == 401
        async with http.post(url + webhook_path(kind, 999), data=body, headers=_headers(kind, secret, body)) as r:
            assert r.status == 404
        other = "jira" if kind == "linear" else "linear"
        async with http.post(url + webhook_path(other, rig.connection_id), data=body) as response:
            assert response.status == 404
        async with http.post(path, data=b"{not json", headers=_headers(kind, secret, b"{not json")) as response:
            assert response.status in (400, 401)
    assert rig.fake.invalid == []


async def test_our_own_push_coming_back_is_not_a_change(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for("linear")
    task = await _task(rig, "T0")
    pm = Actor(WORKSPACE, ADMIN, Role.ADMIN)
    assert (await update_task(rig.db, pm, task.id, TaskChange.BLOCK, reason="vendor late")).outcome == "updated"
    await rig.sync()  # pushed: Linear shows a blocked task as started
    link = (await _links(rig))["T0"]
    issue = rig.fake.store[str(link.external_id)]
    assert issue["stateId"] == "st-doing"
    # The webhook Linear sends for our own push: newer than the change, and still nothing new.
    echo = linear_fake.FakeLinear.move(rig.fake, str(link.external_id), "started")
    result = await apply_remote_change(rig.db, await _connection(rig), _change(echo))
    assert result.outcome is Applied.ECHO
    assert (await _task(rig, "T0")).status == TaskStatus.BLOCKED


def _change(data: dict[str, Any]) -> RemoteChange:
    from integrations.linear import change_of

    change = change_of(data)
    assert change is not None
    return change


async def test_last_write_wins_on_the_change_time(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for("jira")
    task = await _task(rig, "T2")
    link = (await _links(rig))["T2"]
    pm = Actor(WORKSPACE, ADMIN, Role.ADMIN)
    await update_task(rig.db, pm, task.id, TaskChange.START)
    connection = await _connection(rig)
    # Done in Jira a minute before it was started in Liftoff: Liftoff's later write stands.
    earlier = RemoteChange(str(link.external_id), "done", utcnow() - timedelta(minutes=1))
    assert (await apply_remote_change(rig.db, connection, earlier)).outcome is Applied.STALE
    assert (await _task(rig, "T2")).status == TaskStatus.IN_PROGRESS
    later = RemoteChange(str(link.external_id), "done", utcnow() + timedelta(seconds=1))
    assert (await apply_remote_change(rig.db, connection, later)).outcome is Applied.APPLIED
    assert (await _task(rig, "T2")).status == TaskStatus.DONE
    unknown = RemoteChange("no-such-item", "done", utcnow())
    assert (await apply_remote_change(rig.db, connection, unknown)).outcome is Applied.UNKNOWN


@pytest.mark.parametrize("kind", ["linear", "jira"])
async def test_reconcile_picks_up_what_a_lost_webhook_carried(kind: str, rig_for) -> None:  # noqa: ANN001
    rig = await rig_for(kind)
    first = await reconcile(rig.db, WORKSPACE, rig.connection_id, encryption_key=KEY, client_factory=rig.factory)
    assert first.error is None and first.changes == 3 and {r.outcome for r in first.results} == {Applied.ECHO}
    link = (await _links(rig))["T1"]
    _remote_move(rig, str(link.external_id), "in_progress")  # the webhook for this never arrives
    report = await reconcile(rig.db, WORKSPACE, rig.connection_id, encryption_key=KEY, client_factory=rig.factory)
    assert [r.outcome for r in report.results if r.outcome is Applied.APPLIED] == [Applied.APPLIED]
    assert (await _task(rig, "T1")).status == TaskStatus.IN_PROGRESS
    again = await reconcile(rig.db, WORKSPACE, rig.connection_id, encryption_key=KEY, client_factory=rig.factory)
    assert Applied.APPLIED not in {r.outcome for r in again.results}
    async with rig.db.reader() as session:
        state = await InboundRepository(session, Scope(WORKSPACE)).state(rig.connection_id)
    assert state is not None and state.reconciled_at is not None and state.failing_since is None
    assert rig.fake.invalid == []
    # A fetch by id (what an Asana or Notion webhook leads to) goes the same way.
    _remote_move(rig, str(link.external_id), "todo")
    fetched = await fetch_and_apply(rig.db, WORKSPACE, rig.connection_id, str(link.external_id),
                                    encryption_key=KEY, client_factory=rig.factory)
    assert fetched.outcome is Applied.APPLIED and (await _task(rig, "T1")).status == TaskStatus.TODO


async def test_a_failing_reconcile_shows_on_the_health_card(rig_for, blockkit_validator) -> None:  # noqa: ANN001
    rig = await rig_for("jira")
    async with rig.db.reader() as session:
        state, links = await launch_tracker_view(session, Scope(WORKSPACE), rig.launch_id)
    assert state is not None and state.state == SyncHealth.IN_SYNC and len(links) == 3
    task = await _task(rig, "T0")
    pm = Actor(WORKSPACE, ADMIN, Role.ADMIN)  # blocked: listed on the card, and one change pending for Jira
    assert (await update_task(rig.db, pm, task.id, TaskChange.BLOCK, reason="legal review")).outcome == "updated"
    rig.fake.revoked = True
    report = await reconcile(rig.db, WORKSPACE, rig.connection_id, encryption_key=KEY, client_factory=rig.factory)
    assert report.error and "401" in report.error
    async with rig.db.reader() as session:
        state, links = await launch_tracker_view(session, Scope(WORKSPACE), rig.launch_id)
    assert state is not None and state.state == SyncHealth.FAILING and state.pending == 1
    assert state.failing_since is not None and "401" in (state.last_error or "")
    from agents.health import launch_health
    from storage.launches import LaunchRepository

    async with rig.db.reader() as session:
        launch = await LaunchRepository(session, Scope(WORKSPACE)).get(rig.launch_id)
        tasks = await LaunchRepository(session, Scope(WORKSPACE)).tasks(rig.launch_id)
    assert launch is not None
    card = health_card(launch_health(launch, tasks, date.today()), tracker=state, links=links)
    assert blockkit_validator("message", card) == []
    text = json.dumps(card)
    assert "failing since" in text and "401" in text
    assert any(f"<{url}|" in text for url in links.values())  # tasks on the card link to their Jira issues


def test_the_card_says_in_sync_or_pending() -> None:
    from blocks.health_card import tracker_line

    assert tracker_line(TrackerSyncState("linear", "Eng", SyncHealth.IN_SYNC)) == "Linear Eng: in sync"
    assert tracker_line(TrackerSyncState("jira", "LIF", SyncHealth.PENDING, pending=4)) == "Jira LIF: 4 pending"


async def _handshake_rig(rig: Rig, kind: TrackerKind) -> int:
    async with rig.db.session() as session:
        connection = await TrackerRepository(session, Scope(WORKSPACE)).add_connection(
            kind=kind, name=kind, credentials=encrypt_secrets(KEY, {"token": "x"}), settings={}, created_by=ADMIN)
        return connection.id


async def test_asana_handshake_and_notion_verification_keep_the_first_secret(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for("linear", tasks=1)
    asana = await _handshake_rig(rig, TrackerKind.ASANA)
    answer = await receive_webhook(rig.db, "asana", asana, {"X-Hook-Secret": "hook-1"}, b"", encryption_key=KEY)
    assert answer.status == 200 and answer.headers == {"X-Hook-Secret": "hook-1"}
    again = await receive_webhook(rig.db, "asana", asana, {"X-Hook-Secret": "hook-1"}, b"", encryption_key=KEY)
    assert again.status == 200
    hijack = await receive_webhook(rig.db, "asana", asana, {"X-Hook-Secret": "evil"}, b"", encryption_key=KEY)
    assert hijack.status == 401
    body = BODIES["asana"]()
    signed = await receive_webhook(rig.db, "asana", asana, _headers("asana", "hook-1", body), body,
                                   encryption_key=KEY)
    assert signed.status == 200 and signed.fetch == ["42"]
    bad = await receive_webhook(rig.db, "asana", asana, _headers("asana", "evil", body), body, encryption_key=KEY)
    assert bad.status == 401

    notion = await _handshake_rig(rig, TrackerKind.NOTION)
    body = BODIES["notion"]()
    early = await receive_webhook(rig.db, "notion", notion, _headers("notion", "tok", body), body, encryption_key=KEY)
    assert early.status == 401  # no verification token yet: nothing is trusted
    token = json.dumps({"verification_token": "secret_tok"}).encode()
    assert (await receive_webhook(rig.db, "notion", notion, {}, token, encryption_key=KEY)).status == 200
    other = json.dumps({"verification_token": "secret_other"}).encode()
    assert (await receive_webhook(rig.db, "notion", notion, {}, other, encryption_key=KEY)).status == 401
    event = await receive_webhook(rig.db, "notion", notion, _headers("notion", "secret_tok", body), body,
                                  encryption_key=KEY)
    assert event.status == 200 and event.fetch == ["page-1"]
    async with rig.db.reader() as session:
        stored = await InboundRepository(session, Scope(WORKSPACE)).state(notion)
    assert stored is not None and "secret_tok" not in (stored.webhook_secret or "")  # encrypted at rest
    assert SECRET_KEY


JQL = 'project = "LIF" AND statusCategory = Done'


async def test_a_jql_count_is_a_key_result_source(rig_for) -> None:  # noqa: ANN001
    rig = await rig_for("jira", tasks=4)
    today = date.today()
    async with rig.db.session() as session:
        await import_tree(OkrRepository(session, Scope(WORKSPACE)), {
            "periods": [{"name": "Now", "start": (today - timedelta(days=30)).isoformat(),
                         "end": (today + timedelta(days=60)).isoformat()}],
            "people": [{"slack_id": ADMIN, "name": "Dana Lee", "role": "admin"}],
            "objectives": [{"key": "ENG-1", "title": "Ship", "level": "company", "owner": ADMIN, "period": "Now",
                            "key_results": [{"key": "ENG-1.1", "title": "Issues done", "owner": ADMIN, "start": 0,
                                             "target": 4, "source": "jira", "source_ref": JQL}]}],
        }, today)
    links = await _links(rig)
    for key in ("T0", "T1"):
        _remote_move(rig, str(links[key].external_id), "done")
    assert await refresh_jql(rig.db, WORKSPACE, encryption_key=KEY, client_factory=rig.factory) == 1
    assert await refresh_jql(rig.db, WORKSPACE, encryption_key=KEY, client_factory=rig.factory) == 0  # unchanged
    _remote_move(rig, str(links["T2"].external_id), "done")
    assert await refresh_jql(rig.db, WORKSPACE, encryption_key=KEY, client_factory=rig.factory) == 1
    async with rig.db.reader() as session:
        rows = list(await session.execute(select(CheckIn.value, CheckIn.author, CheckIn.source).order_by(CheckIn.id)))
    assert [tuple(r) for r in rows] == [(2.0, "Liftoff", "jira"), (3.0, "Liftoff", "jira")]
    assert rig.fake.invalid == []
    # The sync window asks for the reconcile of the connection and the refresh of this workspace's counts.
    from bot.tracker_window import enqueue_inbound

    jobs = Recorded()
    await enqueue_inbound(Services(settings=Settings(encryption_key=KEY), db=rig.db, jobs=jobs, slack=None))  # type: ignore[arg-type]
    assert jobs.jobs == [(str(JobName.RECONCILE_TRACKER), (WORKSPACE, rig.connection_id)),
                         (str(JobName.REFRESH_JQL), (WORKSPACE,))]
