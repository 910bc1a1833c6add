"""A launch's PII mapping (placeholder -> original) as stored: Fernet-encrypted when a key is configured.

The key is LIFTOFF_ENCRYPTION_KEY, the one Slack tokens and tracker credentials use; the Database puts it in
every session's `info` (see storage/db.py), so whoever holds a session can read and write the mapping without
being handed the key. Without a key the mapping is stored as the brief itself is: in clear. A value stored
encrypted is marked with a prefix, so a mapping written before a key was set is still read (and encrypted on
its next write), and one written with a key is never mistaken for JSON when the key is missing.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Launch
from storage.scope import Scope

ENCRYPTION_KEY = "liftoff.encryption_key"  # the session.info entry that holds the key (None: store in clear)
ENCRYPTED_PREFIX = "fernet:"


class MappingLocked(RuntimeError):
    """The stored mapping is encrypted and this process has no key (or the wrong one) to read it."""


def seal(text: str, key: str | None) -> str:
    if not key:
        return text
    return ENCRYPTED_PREFIX + Fernet(key.encode()).encrypt(text.encode()).decode()


def unseal(stored: str, key: str | None) -> str:
    if not stored.startswith(ENCRYPTED_PREFIX):
        return stored
    if not key:
        raise MappingLocked("this launch's PII mapping is encrypted and LIFTOFF_ENCRYPTION_KEY is not set")
    try:
        return Fernet(key.encode()).decrypt(stored[len(ENCRYPTED_PREFIX):].encode()).decode()
    except InvalidToken as exc:
        raise MappingLocked("this launch's PII mapping cannot be decrypted: is LIFTOFF_ENCRYPTION_KEY right?") from exc


class LaunchPiiRepository:
    """Reads and writes launches' mappings (as JSON text), always within the scope's workspace."""

    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.session = session
        self.scope = scope

    @property
    def key(self) -> str | None:
        return self.session.info.get(ENCRYPTION_KEY)

    async def load(self, launch_id: int, *, for_update: bool = False) -> str | None:
        """The mapping's JSON, or None when the launch has none; raises MappingLocked when it cannot be read."""
        query = select(Launch.pii_mapping).where(Launch.id == launch_id,
                                                 Launch.workspace_id == self.scope.workspace_id)
        if for_update:
            query = query.with_for_update()
        stored = await self.session.scalar(query)
        return unseal(stored, self.key) if stored else None

    async def load_many(self, launch_ids: list[int]) -> dict[int, str | None]:
        """Per launch id, the mapping's JSON; None for a launch without one or whose mapping cannot be read."""
        if not launch_ids:
            return {}
        rows = await self.session.execute(
            select(Launch.id, Launch.pii_mapping).where(Launch.id.in_(launch_ids),
                                                        Launch.workspace_id == self.scope.workspace_id))
        found: dict[int, str | None] = {}
        for launch_id, stored in rows:
            try:
                found[launch_id] = unseal(stored, self.key) if stored else None
            except MappingLocked:
                found[launch_id] = None
        return found

    async def raw(self, launch_id: int) -> str | None:
        """The column as stored (encrypted or not): for checks and tests."""
        return await self.session.scalar(select(Launch.pii_mapping).where(
            Launch.id == launch_id, Launch.workspace_id == self.scope.workspace_id))

    async def save(self, launch_id: int, mapping_json: str) -> None:
        await self.session.execute(
            update(Launch).where(Launch.id == launch_id, Launch.workspace_id == self.scope.workspace_id)
            .values(pii_mapping=seal(mapping_json, self.key))
        )
