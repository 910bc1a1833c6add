"""Jira JQL counts as key-result progress: the JqlCounter of agents/okr_sources.py over a workspace's Jira
connection, refreshed on the tracker sync window. The counts are taken before the transaction that records
the check-ins (nothing outside is called inside one); a key result gets a check-in only when its count moved.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from agents.okr_sources import JqlCountError, sync_jira
from agents.tracker_sync import ClientFactory, decrypt_secrets, default_client_factory
from integrations.tracker_http import TrackerError, retrying
from storage.db import Database
from storage.okr_enums import ProgressSource
from storage.okrs import OkrRepository
from storage.scope import Scope
from storage.tracker_inbound import InboundRepository

log = logging.getLogger(__name__)


class Counting(Protocol):
    async def count(self, jql: str) -> int: ...


class JiraCounter:
    """A JqlCounter over a Jira client: a tracker error is a JqlCountError (the key result keeps its value)."""

    def __init__(self, client: Counting) -> None:
        self.client = client

    async def count(self, jql: str) -> int:
        try:
            return await retrying(lambda attempt: self.client.count(jql))
        except TrackerError as exc:
            raise JqlCountError(str(exc)[:300]) from exc


@dataclass
class Counted:
    """Counts taken beforehand, answered as a JqlCounter inside the check-in transaction."""

    counts: dict[str, int | JqlCountError] = field(default_factory=dict)

    async def count(self, jql: str) -> int:
        value = self.counts.get(jql)
        if value is None:
            raise JqlCountError("not counted")
        if isinstance(value, JqlCountError):
            raise value
        return value


async def refresh_jql(db: Database, workspace_id: str, *, encryption_key: str,
                      client_factory: ClientFactory = default_client_factory, day: date | None = None) -> int:
    """Count every JQL-following key result of a workspace with its Jira connection; the new check-ins."""
    scope = Scope(workspace_id)
    day = day or date.today()
    async with db.reader() as session:
        queries = sorted({kr.source_ref for kr in await OkrRepository(session, scope).key_results_by_source(
            ProgressSource.JIRA) if kr.source_ref and kr.source_ref.strip()})
        connection = await InboundRepository(session, scope).jira_connection() if queries else None
        if connection is not None:
            session.expunge(connection)
    if connection is None:
        return 0
    client = client_factory(connection, decrypt_secrets(encryption_key, connection.credentials))
    counted = Counted()
    try:
        counter = JiraCounter(client)  # type: ignore[arg-type]
        for jql in queries:
            try:
                counted.counts[jql] = await counter.count(jql)
            except JqlCountError as exc:
                counted.counts[jql] = exc
    finally:
        await client.aclose()
    recorded = 0
    async with db.session() as session:
        repo = OkrRepository(session, scope)
        for kr in await repo.key_results_by_source(ProgressSource.JIRA):
            result = await sync_jira(repo, kr, counted, day)
            recorded += bool(result and result.recorded)
    return recorded
