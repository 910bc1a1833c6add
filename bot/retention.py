"""Audit retention: the `audit_purge` job, which bot/scheduler.py asks for once a day (its "audit_purge" daily job,
claimed in the database, so several schedulers enqueue one between them). The purge is idempotent: a second run
the same day removes and writes nothing, so a claim lost to a restart costs nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from bot.services import Services
from storage.audit import AuditChain

log = logging.getLogger(__name__)


async def purge_audit(services: Services, day: str = "") -> None:
    """The job: delete audit entries past AUDIT_RETENTION_DAYS; the kept chain still verifies."""
    now = datetime.now(UTC)
    cutoff = now - timedelta(days=services.settings.audit_retention_days)
    async with services.db.session() as session:
        removed = await AuditChain(session).purge_expired(cutoff)
    log.info("audit retention (%s): removed %d entries older than %s", day or now.date(), removed, cutoff.date())
