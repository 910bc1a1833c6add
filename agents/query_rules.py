"""The offline rule parser: a question in English -> OkrQuery, using the workspace's names."""

from __future__ import annotations

import re

from agents.query_types import Intent, OkrQuery, QueryFilters, Subject, Vocabulary
from storage.okr_enums import ObjectiveLevel, OkrStatus

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
MINE = re.compile(r"\b(my|mine|i own|owned by me|assigned to me)\b")
KEY = re.compile(r"\b[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d+(?:\.\d+)?\b")
PERIOD_NAMED = re.compile(r"\b(\d{4})[- ]?q([1-4])\b|\bq([1-4])(?:\s+(\d{4}))?\b")
RELATIVE = (
    (re.compile(r"\b(this|current) (quarter|period)\b|\bthis q\b"), "this_quarter"),
    (re.compile(r"\b(last|previous|prior) (quarter|period)\b"), "last_quarter"),
    (re.compile(r"\bnext (quarter|period)\b"), "next_quarter"),
)
STATUS_WORDS = (
    (re.compile(r"\bat[- ]risk\b"), (OkrStatus.AT_RISK, OkrStatus.OFF_TRACK)),
    (re.compile(r"\b(off[- ]track|behind)\b"), (OkrStatus.OFF_TRACK,)),
    (re.compile(r"\bon[- ]track\b"), (OkrStatus.ON_TRACK,)),
    (re.compile(r"\b(done|achieved?|completed?|finished)\b"), (OkrStatus.DONE,)),
)
ITEMS = r"(objectives?|okrs?|goals?|key results?|krs?)"
LEVEL_WORDS = {"company": ObjectiveLevel.COMPANY, "department": ObjectiveLevel.DEPARTMENT,
               "departmental": ObjectiveLevel.DEPARTMENT, "team": ObjectiveLevel.TEAM,
               "individual": ObjectiveLevel.INDIVIDUAL, "personal": ObjectiveLevel.INDIVIDUAL}
LEVEL = re.compile(r"\b(company|departmental|department|team|individual|personal)(?:[- ]level\b|\s+" + ITEMS + r")")
KEY_RESULTS = re.compile(r"\b(key results?|krs?)\b")
COUNT = re.compile(r"\b(how many|count|number of)\b")
OWNER = re.compile(r"\b(who owns|who is responsible|who'?s responsible|owners? of|who is driving|who leads)\b")
PROGRESS = re.compile(r"\b(progress|how far|how (is|are)|how'?s)\b")
TEXT = re.compile(r"\b(?:mentions?|mentioning|about|containing|contains?|titled|named|regarding|related to)\s+"
                  r"(?:the (?:word|words|term) )?[\"'“]?([\w][\w .%$&/-]{0,80}?)[\"'”]?\s*(?:\?|\.|$|\b(?:in|for)\b)")


def _blank(text: str, match: re.Match[str]) -> str:
    """Remove a matched span so later rules do not read it again."""
    return text[: match.start()] + " " * (match.end() - match.start()) + text[match.end():]


def _find_name(text: str, names: tuple[str, ...]) -> tuple[str | None, str]:
    for name in sorted(names, key=len, reverse=True):
        match = re.search(r"\b" + re.escape(name.lower()) + r"(?:'s)?\b", text)
        if match:
            return name, _blank(text, match)
    return None, text


def _find_person(question: str, text: str, vocabulary: Vocabulary) -> tuple[str | None, str]:
    by_name = sorted(vocabulary.people.items(), key=lambda item: len(item[1]), reverse=True)
    for slack_id, name in by_name:
        if not name.strip():
            continue
        match = re.search(r"\b" + re.escape(name.lower()) + r"(?:'s)?\b", text)
        if match:
            return slack_id, _blank(text, match)
    first_names: dict[str, list[str]] = {}
    for slack_id, name in vocabulary.people.items():
        if name.strip():
            first_names.setdefault(name.split()[0], []).append(slack_id)
    for first, ids in first_names.items():
        # A first name counts only when unique and written with its capital, as names are.
        match = re.search(r"\b" + re.escape(first) + r"(?:'s)?\b", question)
        if len(ids) == 1 and match and first[:1].isupper():
            return ids[0], _blank(text, match)
    return None, text


def _period(text: str) -> tuple[str | None, str]:
    for pattern, value in RELATIVE:
        match = pattern.search(text)
        if match:
            return value, _blank(text, match)
    match = PERIOD_NAMED.search(text)
    if match:
        year, quarter = match.group(1) or match.group(4), match.group(2) or match.group(3)
        return (f"{year}-Q{quarter}" if year else f"Q{quarter}"), _blank(text, match)
    return None, text


def parse_rules(question: str, vocabulary: Vocabulary) -> OkrQuery:
    """Read intent, subject and filters from the question; what it does not mention stays unfiltered."""
    original = question.strip()
    text = original.lower()
    owner: str | None = None
    mention = MENTION.search(original)
    if mention:
        owner, text = mention.group(1), _blank(text, mention)
    elif MINE.search(text):
        owner = "me"
    keys = KEY.findall(original)
    text_filter: str | None = keys[0] if keys else None
    for key in keys:
        text = text.replace(key.lower(), " " * len(key))
    match = TEXT.search(text)
    if match and text_filter is None:
        text_filter, text = match.group(1).strip(), _blank(text, match)
    period = next((name for name in vocabulary.periods if re.search(r"\b" + re.escape(name.lower()) + r"\b", text)),
                  None)
    if period:
        text = text.replace(period.lower(), " ")
    else:
        period, text = _period(text)
    if owner is None:
        owner, text = _find_person(original, text, vocabulary)
    team_first = re.search(r"\b(" + "|".join(re.escape(t.lower()) for t in vocabulary.teams) + r")\s+team\b", text) \
        if vocabulary.teams else None
    team = department = None
    if team_first:
        team, text = _find_name(text, vocabulary.teams)
    else:
        department, text = _find_name(text, vocabulary.departments)
        if department is None:
            team, text = _find_name(text, vocabulary.teams)
    level_match = LEVEL.search(text)
    level = LEVEL_WORDS[level_match.group(1)] if level_match else None
    statuses: set[OkrStatus] = set()
    for pattern, values in STATUS_WORDS:
        if pattern.search(text):
            statuses.update(values)
    subject = Subject.KEY_RESULTS if KEY_RESULTS.search(text) else Subject.OBJECTIVES
    if COUNT.search(text):
        intent = Intent.COUNT
    elif OWNER.search(text):
        intent = Intent.OWNER
    elif PROGRESS.search(text):
        intent = Intent.PROGRESS
    else:
        intent = Intent.LIST
    filters = QueryFilters(
        statuses=tuple(sorted(statuses, key=lambda s: s.severity)),
        period=period,
        level=level,
        department=department,
        team=team,
        owner=owner,
        text=text_filter,
    )
    return OkrQuery(intent, subject, filters)
