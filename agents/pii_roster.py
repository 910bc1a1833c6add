"""A deny-list recognizer for the workspace's people, built from the roster.

There is no NER model offline, so names are found by looking for the people we know. Full names
match in any case. A single first or last name matches when written as a name ("Priya",
"priya", "PRIYA") unless it is also an everyday English word ("Will", "Grant", "Price"): those
match only capitalised and in mid-sentence, where the capital says it is a name, so "Will ship
on Friday" and "Price change for Pro" stay as they are while "ask Will" is redacted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

import regex as re
from presidio_analyzer import Pattern, PatternRecognizer

from agents.pii_entities import PiiEntity

FULL_NAME_SCORE = 1.0
NAME_PART_SCORE = 0.9
AMBIGUOUS_NAME_PART_SCORE = 0.7

# Parts shorter than this are initials or particles ("J.", "Li" is kept by the full name).
_MIN_PART_LENGTH = 3
_PARTICLES = frozenset(
    {"van", "von", "der", "den", "del", "della", "de", "da", "di", "du", "la", "le", "bin", "al"}
)

# Everyday English words that are also common first or last names. Not exhaustive: a name missing
# here is matched as a name wherever it appears, which errs towards redacting.
COMMON_WORD_NAMES = frozenset(
    """
    will may mark grant bill chase hope june april august rose faith joy dawn summer sunny art
    frank gene guy miles pat rich sky victor max jack dean drew hunter ray rob sue don ed bob
    joe lane long young king brown white black green gray grey hall wood rice price cook baker
    hill moss park fox sharp best little strong swift bell day case page stone wise ward cash
    banks fields holmes rivers lee low small short love power powers early north west south
    east march may christian major judge bishop booth bush bird crane hawk lamb wolf lion
    berry cherry olive ivy iris holly heather daisy lily violet ruby pearl amber crystal
    jade storm rain river forest field brook brooks cliff glen dale heath moore more street
    waters winter spring autumn noble golden silver gold sterling steel iron mason carter
    porter taylor turner walker fisher miller smith hunt shepherd sage star penny bishop
    nick norm patience prudence constance charity destiny grace harmony melody mercy trinity
    lincoln jordan cross chance gay ernest earnest frank free hardy hale hart sweet sterling
    read reed reid rush ross dash chip bud buck colt duke earl prince queen king knight page
    bond banks barn beach bolt boone bowman burns butler chapman clay cole coles dove dunn
    fair finch fish ford frost gill glass hay haven hood horn house hurst jay kidd lake lord
    mann marsh mills nash oakley pope quick ridge roach rock rowe sands snow spencer stark
    tanner todd wells west whale wild wren yates eve jan kay ash wade val sol tucker story
    """.split()
)


def name_parts(full_name: str) -> list[str]:
    """The first, middle and last names worth matching on their own."""
    return [
        part
        for part in full_name.split()
        if len(part.strip(".")) >= _MIN_PART_LENGTH and part.lower() not in _PARTICLES
    ]


def _alternation(words: Iterable[str]) -> str:
    # Longest first, so "Priya Sharma" wins over "Priya" at the same position.
    unique = sorted(set(words), key=lambda w: (-len(w), w))
    return "|".join(re.escape(w) for w in unique)


def _full_name_regex(names: Sequence[str]) -> str:
    escaped = sorted(
        {r"\s+".join(re.escape(p) for p in n.split()) for n in names}, key=lambda w: (-len(w), w)
    )
    return r"(?<!\w)(?i:" + "|".join(escaped) + r")(?!\w)"


def _name_part_variants(part: str) -> set[str]:
    return {part, part.lower(), part.upper(), part[:1].upper() + part[1:]}


def _mid_sentence_regex(parts: Iterable[str]) -> str:
    # After a word and a space, a comma, an opening bracket, "@" or a title ("Dr. Park"): not at
    # the start of a sentence, where every word is capitalised.
    after = r"(?<=(?:[\w,;)]\s{1,3}|[(@]|\b(?:Dr|Mr|Mrs|Ms|Mx|Prof)\.?\s{1,3}))"
    return after + r"(?:" + _alternation(parts) + r")(?!\w)"


def _possessive_regex(parts: Iterable[str]) -> str:
    # "Will's team", "Grant’s draft": the verb "will" and the noun "grant" take no possessive.
    return r"(?<!\w)(?:" + _alternation(parts) + r")(?=['’]s\b)"


@lru_cache(maxsize=64)
def _roster_recognizer(names: tuple[str, ...]) -> PatternRecognizer | None:
    full_names = [n for n in names if len(n.split()) > 1]
    plain_parts: set[str] = set()
    ambiguous_parts: set[str] = set()
    for name in names:
        for part in name_parts(name):
            if part.lower() in COMMON_WORD_NAMES:
                ambiguous_parts.add(part[:1].upper() + part[1:])
            else:
                plain_parts.update(_name_part_variants(part))
    patterns: list[Pattern] = []
    if full_names:
        patterns.append(Pattern("roster full name", _full_name_regex(full_names), FULL_NAME_SCORE))
    if plain_parts:
        patterns.append(
            Pattern("roster name", r"(?<!\w)(?:" + _alternation(plain_parts) + r")(?!\w)", NAME_PART_SCORE)
        )
    if ambiguous_parts:
        patterns.append(
            Pattern("roster name (word)", _mid_sentence_regex(ambiguous_parts), AMBIGUOUS_NAME_PART_SCORE)
        )
        patterns.append(
            Pattern("roster name (possessive)", _possessive_regex(ambiguous_parts), NAME_PART_SCORE)
        )
    if not patterns:
        return None
    return PatternRecognizer(
        supported_entity=PiiEntity.PERSON,
        name="RosterRecognizer",
        patterns=patterns,
        # Case is part of the rule above, so the engine's default IGNORECASE is off here.
        global_regex_flags=re.MULTILINE,
    )


def roster_recognizer(roster: Sequence[str]) -> PatternRecognizer | None:
    """A recognizer for these people, or None for an empty roster. Cached per roster."""
    names = tuple(sorted({" ".join(n.split()) for n in roster if n and n.strip()}))
    return _roster_recognizer(names) if names else None
