"""A launch's PII mapping across its life, and what one reader may see of it.

Every redaction of a launch's text (the brief, its name and examples for the planner, a re-plan, a PM's edit,
the tracker items) uses the launch's one stored mapping, so `<PERSON_2>` is the same person in all of them.
Stored task text keeps the placeholders the planner wrote; originals are put back only at the edges, for one
reader at a time, by the functions here:

- a person (the review message in the PM's DM, task DMs, the App Home, the ephemeral `/launch status` card, the
  review Edit modal): every placeholder but secrets, when the policy allows (Action.LAUNCH_PII_VIEW: Admins, the
  launch's PM, the people on its team); otherwise none.
- a channel (the plan, the re-plan diff, a shared health card, a review message in the plan's thread): the
  audience is unknown, so only PERSON placeholders whose original is on the launch's team. Those names are
  already in the channel's plan as task owners; emails, phones and every other kind stay placeholders.

Secrets (API keys, credential URLs, private keys) are never restored; the mapping does not even keep them,
only their digest (agents/pii_mapping.py). Tracker items and LLM prompts never get originals.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from agents import guardrail
from agents.access import stored_actor
from agents.notification import is_person
from agents.pii_entities import NEVER_RESTORED, PiiEntity
from agents.pii_mapping import FORMAT_VERSION, PiiMapping, normalized
from agents.policy import Action, decide
from storage.launch_pii import LaunchPiiRepository, MappingLocked
from storage.launches import LaunchRepository
from storage.models import Launch, Task
from storage.scope import Scope

log = logging.getLogger(__name__)

__all__ = ["HIDDEN", "MappingLocked", "Reveal", "reveal_for", "reveal_for_channel", "reveal_for_person",
           "save_mapping", "stored_mapping"]


# --- the stored mapping ---------------------------------------------------------------------------------------


async def stored_mapping(session: AsyncSession, scope: Scope, launch_id: int, *, for_update: bool = False
                         ) -> PiiMapping:
    """The launch's mapping (empty when it has none yet). Raises MappingLocked when it is stored encrypted and
    cannot be decrypted: a redaction must not start numbering afresh beside placeholders already in use."""
    stored = await LaunchPiiRepository(session, scope).load(launch_id, for_update=for_update)
    return PiiMapping.from_json(stored) if stored else PiiMapping()


async def save_mapping(session: AsyncSession, scope: Scope, launch_id: int, mapping: PiiMapping) -> None:
    """Store the mapping, keeping any placeholder another writer stored meanwhile (a re-plan runs for a while)."""
    repo = LaunchPiiRepository(session, scope)
    stored = await repo.load(launch_id, for_update=True)
    merged = _merged(PiiMapping.from_json(stored), mapping) if stored else mapping
    await repo.save(launch_id, merged.to_json())


def _merged(stored: PiiMapping, ours: PiiMapping) -> PiiMapping:
    """Ours, plus the stored entries whose placeholders ours does not use."""
    data = ours.to_dict()
    taken = {entry["placeholder"] for entry in data["entries"]}
    data["entries"] += [{"placeholder": e.placeholder, "entity": e.entity, "original": e.original}
                        for e in stored if e.placeholder not in taken]
    counters = stored.counters()
    data["counters"] = {k: max(v, counters.get(k, 0)) for k, v in data["counters"].items()} | {
        k: v for k, v in counters.items() if k not in data["counters"]}
    return PiiMapping.from_dict(data)


async def redact_for_launch(session: AsyncSession, scope: Scope, launch: Launch, text: str) -> str:
    """`text` redacted with the launch's mapping (its team as the roster), the mapping saved with any new
    placeholder. For text a person typed that is stored on the launch, e.g. a title edited in the review modal.
    Raises GuardrailError (nothing saved) when the text cannot be checked."""
    mapping = await stored_mapping(session, scope, launch.id, for_update=True)
    roster = [m.name for m in launch.members if m.name]
    before = len(mapping)
    redaction = await asyncio.to_thread(guardrail.redact, text, roster=roster, mapping=mapping)
    if len(mapping) != before:
        await save_mapping(session, scope, launch.id, mapping)
    return redaction.text


# --- what one reader may see ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reveal:
    """The placeholders one reader may see the originals of, for one launch (None: none of them)."""

    mapping: PiiMapping | None = None

    def text(self, text: str) -> str:
        if self.mapping is None or not text or not len(self.mapping):
            return text
        return guardrail.restore(text, self.mapping, allowed=True)

    def task(self, task: Task) -> Task:
        """The task as this reader sees it: a detached copy with its text restored (the stored row is untouched)."""
        title, description = self.text(task.title), self.text(task.description or "")
        if title == task.title and description == (task.description or ""):
            return task
        values = {attr.key: getattr(task, attr.key) for attr in sa_inspect(Task).column_attrs}
        return Task(**(values | {"title": title, "description": description}))

    def tasks(self, tasks: Iterable[Task]) -> list[Task]:
        return [self.task(task) for task in tasks]


HIDDEN = Reveal()


def _readable(entry_entity: str) -> bool:
    return entry_entity not in NEVER_RESTORED


def _subset(mapping: PiiMapping, keep: Iterable[str]) -> PiiMapping:
    wanted = set(keep)
    data = {"version": FORMAT_VERSION, "counters": mapping.counters(),
            "entries": [{"placeholder": e.placeholder, "entity": e.entity, "original": e.original}
                        for e in mapping if e.placeholder in wanted and _readable(e.entity)]}
    return PiiMapping.from_dict(data)


def team_people(mapping: PiiMapping, launch: Launch) -> PiiMapping:
    """Only the PERSON placeholders whose original is someone on the launch's team (their name, or part of it)."""
    names = [set(normalized(PiiEntity.PERSON, m.name).split()) for m in launch.members if m.name]
    keep = []
    for entry in mapping:
        if entry.entity != PiiEntity.PERSON:
            continue
        words = set(normalized(PiiEntity.PERSON, entry.original).split())
        if words and any(words <= name for name in names):
            keep.append(entry.placeholder)
    return _subset(mapping, keep)


async def _readable_mapping(session: AsyncSession, scope: Scope, launch: Launch) -> PiiMapping | None:
    """The launch's mapping for restoring; None when there is none or it cannot be read (placeholders stay)."""
    try:
        mapping = await stored_mapping(session, scope, launch.id)
    except MappingLocked as exc:
        log.warning("launch %s: placeholders stay (%s)", launch.id, exc)
        return None
    return mapping if len(mapping) else None


async def reveal_for_person(session: AsyncSession, scope: Scope, launch: Launch, user_id: str) -> Reveal:
    """What `user_id` may see of the launch's placeholders: all but secrets if the policy allows, else none."""
    actor = await stored_actor(session, scope.workspace_id, user_id)
    if not decide(actor, Action.LAUNCH_PII_VIEW, launch=launch).allowed:
        return HIDDEN
    mapping = await _readable_mapping(session, scope, launch)
    return Reveal(_subset(mapping, [e.placeholder for e in mapping])) if mapping is not None else HIDDEN


async def reveal_for_channel(session: AsyncSession, scope: Scope, launch: Launch) -> Reveal:
    """What a channel may see: the names of the launch's own team, nothing else."""
    mapping = await _readable_mapping(session, scope, launch)
    return Reveal(team_people(mapping, launch)) if mapping is not None else HIDDEN


async def reveal_for(session: AsyncSession, scope: Scope, launch: Launch, recipient: str | None) -> Reveal:
    """For a message sent to `recipient`: a person (their DM) or a channel (anything else, or unknown)."""
    if recipient and is_person(recipient):
        return await reveal_for_person(session, scope, launch, recipient)
    return await reveal_for_channel(session, scope, launch)


async def reveals_for_person(session: AsyncSession, scope: Scope, launches: Iterable[Launch], user_id: str
                             ) -> dict[int, Reveal]:
    """reveal_for_person for several launches (a Home lists tasks of many), one actor lookup, one mapping query."""
    launches = list(launches)
    if not launches:
        return {}
    actor = await stored_actor(session, scope.workspace_id, user_id)
    allowed = [launch for launch in launches if decide(actor, Action.LAUNCH_PII_VIEW, launch=launch).allowed]
    stored = await LaunchPiiRepository(session, scope).load_many([launch.id for launch in allowed])
    found = {launch.id: HIDDEN for launch in launches}
    for launch in allowed:
        text = stored.get(launch.id)
        if text:
            mapping = PiiMapping.from_json(text)
            found[launch.id] = Reveal(_subset(mapping, [e.placeholder for e in mapping]))
    return found


async def reveal_events(session: AsyncSession, scope: Scope, recipient: str, events: list[dict[str, Any]]
                        ) -> list[dict[str, Any]]:
    """A notification's events as `recipient` may read them: an event quoting a launch's task text (its
    "launch_id") gets that launch's placeholders restored for this reader (a person or a channel)."""
    ids = {int(e["launch_id"]) for e in events if e.get("launch_id") is not None}
    reveals: dict[int, Reveal] = {}
    for launch_id in sorted(ids):
        launch = await LaunchRepository(session, scope).get(launch_id)
        reveals[launch_id] = await reveal_for(session, scope, launch, recipient) if launch is not None else HIDDEN
    return [e | {"text": reveals[int(e["launch_id"])].text(str(e.get("text", "")))}
            if e.get("launch_id") is not None else e for e in events]
