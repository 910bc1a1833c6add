"""Placeholders for one launch: the same value always gets the same `<EMAIL_1>` across its texts.

A launch's mapping is stored with the launch (as JSON) and passed back to every later redaction,
so that the planner sees `<PERSON_2>` for the same person in the brief, the tasks and the updates,
and the notification step can put the original back where the reader may see it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import phonenumbers
import regex as re

from agents.pii_entities import NEVER_RESTORED, PHONE_REGIONS, PiiEntity

FORMAT_VERSION = 1
# Secrets are never restored, so a mapping keeps only their digest: enough to give the same key the same
# placeholder again, useless to anyone who reads the stored mapping.
DIGEST_PREFIX = "sha256:"

# "<EMAIL_1>"; matched case-insensitively and with stray inner spaces because LLMs retype them.
PLACEHOLDER = re.compile(r"<\s*([A-Za-z][A-Za-z_]*?)_(\d+)\s*>")


def placeholder_text(entity: str, number: int) -> str:
    return f"<{entity}_{number}>"


def _phone_key(value: str) -> str:
    """E.164 form, so "(415) 555-0132" and "+1 415 555 0132" are one number."""
    for region in (None,) if value.lstrip().startswith("+") else PHONE_REGIONS:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if region is None or phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return "".join(c for c in value if c.isdigit())


def normalized(entity: str, value: str) -> str:
    """The form under which two spellings of one value share a placeholder (a digest, for a secret)."""
    if entity in NEVER_RESTORED:
        if value.startswith(DIGEST_PREFIX):
            return value
        return DIGEST_PREFIX + hashlib.sha256(value.encode()).hexdigest()
    if entity == PiiEntity.PHONE:
        return _phone_key(value)
    if entity in (PiiEntity.CREDIT_CARD, PiiEntity.IBAN, PiiEntity.US_SSN, PiiEntity.US_BANK_NUMBER):
        return "".join(c for c in value if c.isalnum()).upper()
    if entity in (PiiEntity.EMAIL, PiiEntity.PERSON, PiiEntity.IP_ADDRESS):
        return " ".join(value.split()).casefold()
    return value


@dataclass(frozen=True)
class MappingEntry:
    placeholder: str
    entity: str
    original: str


class PiiMapping:
    """Placeholder <-> original value for one launch, with a counter per entity type."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_value: dict[tuple[str, str], str] = {}
        self._entries: dict[str, MappingEntry] = {}
        self._counters: dict[str, int] = {}

    def placeholder_for(self, entity: str, value: str) -> str:
        """The placeholder for this value, numbering a new one if the value is new."""
        key = (entity, normalized(entity, value))
        with self._lock:
            existing = self._by_value.get(key)
            if existing is not None:
                return existing
            number = self._counters.get(entity, 0) + 1
            placeholder = placeholder_text(entity, number)
            self._counters[entity] = number
            self._by_value[key] = placeholder
            kept = key[1] if entity in NEVER_RESTORED else value
            self._entries[placeholder] = MappingEntry(placeholder, entity, kept)
            return placeholder

    def lookup(self, placeholder: str) -> MappingEntry | None:
        """The entry behind a placeholder as written in text, tolerating case and inner spaces."""
        match = PLACEHOLDER.fullmatch(placeholder.strip())
        if match is None:
            return None
        return self._entries.get(placeholder_text(match.group(1).upper(), int(match.group(2))))

    def counters(self) -> dict[str, int]:
        return dict(self._counters)

    def entries(self) -> list[MappingEntry]:
        return list(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[MappingEntry]:
        return iter(self.entries())

    def __contains__(self, placeholder: object) -> bool:
        return isinstance(placeholder, str) and self.lookup(placeholder) is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "counters": dict(self._counters),
            "entries": [
                {"placeholder": e.placeholder, "entity": e.entity, "original": e.original}
                for e in self._entries.values()
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PiiMapping:
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported PII mapping version: {data.get('version')!r}")
        mapping = cls()
        # Counters are kept, not recomputed, so a number is never handed out twice even if an
        # entry was dropped by hand from the stored JSON.
        counters = {str(k): int(v) for k, v in data.get("counters", {}).items()}
        for item in data["entries"]:
            entry = MappingEntry(str(item["placeholder"]), str(item["entity"]), str(item["original"]))
            match = PLACEHOLDER.fullmatch(entry.placeholder)
            if match is None or match.group(1) != entry.entity:
                raise ValueError(f"malformed placeholder in PII mapping: {entry.placeholder!r}")
            mapping._entries[entry.placeholder] = entry
            mapping._by_value[(entry.entity, normalized(entry.entity, entry.original))] = entry.placeholder
            counters[entry.entity] = max(counters.get(entry.entity, 0), int(match.group(2)))
        mapping._counters = counters
        return mapping

    @classmethod
    def from_json(cls, text: str) -> PiiMapping:
        return cls.from_dict(json.loads(text))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PiiMapping) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"PiiMapping({len(self)} placeholders)"
