"""Reading a launch brief's scope: which keywords it names, which languages/platforms, which features.

Keyword syntax used by the template files:
- `locali` matches at the start of a word ("localization", "localized");
- `ga$` must also end a word (so it does not match "game");
- `sales & deck` needs both parts in the same sentence.
A mention right after a negation ("no product changes", "without a beta") does not count.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from agents.template_library import Dimension, DimensionItem

_NEGATION = re.compile(r"\b(no|not|without|never|non)\b[\w\s-]{0,24}$")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n\s*[-*]\s+")


@lru_cache(maxsize=4096)
def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    word = keyword.strip().lower()
    end = r"(?![a-z0-9])" if word.endswith("$") else ""
    word = word.rstrip("$")
    return re.compile(r"(?<![a-z0-9])" + re.escape(word) + end)


@dataclass(frozen=True)
class Feature:
    """A product change named in the brief, phrased as an imperative ("add in-app purchases")."""

    text: str


class BriefText:
    """The brief's words, split into sentences, with negation-aware keyword matching."""

    def __init__(self, *parts: str) -> None:
        text = "\n\n".join(p for p in parts if p)
        self.raw = text
        self.sentences = [s.strip().lower() for s in _SENTENCE_SPLIT.split(text) if s.strip()]

    def _sentence_hits(self, sentence: str, keyword: str) -> int:
        count = 0
        for match in _keyword_pattern(keyword).finditer(sentence):
            if not _NEGATION.search(sentence[: match.start()]):
                count += 1
        return count

    def hits(self, keyword: str) -> int:
        """How many times the brief names the keyword (a `&` keyword counts sentences holding all parts)."""
        parts = [p.strip() for p in keyword.split("&") if p.strip()]
        if len(parts) == 1:
            return sum(self._sentence_hits(s, parts[0]) for s in self.sentences)
        return sum(1 for s in self.sentences if all(self._sentence_hits(s, p) for p in parts))

    def mentions(self, keyword: str) -> bool:
        return self.hits(keyword) > 0

    def rules_out(self, keyword: str) -> bool:
        """The brief names the keyword only after a negation ("no marketing", "without a beta")."""
        pattern = _keyword_pattern(keyword)
        negated = any(_NEGATION.search(s[: m.start()]) for s in self.sentences for m in pattern.finditer(s))
        return negated and not self.mentions(keyword)

    def mentions_any(self, keywords: tuple[str, ...] | list[str]) -> bool:
        return any(self.mentions(k) for k in keywords)

    def distinct_hits(self, keywords: tuple[str, ...] | list[str]) -> int:
        """How many different keywords of the list the brief names."""
        return sum(1 for k in keywords if self.mentions(k))

    def items_of(self, dimension: Dimension) -> list[DimensionItem]:
        """The items of a sizing dimension (languages, platforms, SDKs) the brief names, in library order."""
        found = [item for item in dimension.items if self.mentions_any(item.match or (item.name,))]
        return found[: dimension.max_items]


# Verbs that introduce a product change when they open a clause ("adds in-app purchases", "replaces ...").
_FEATURE_VERBS = {
    "add": "add",
    "adds": "add",
    "adding": "add",
    "introduce": "introduce",
    "introduces": "introduce",
    "replace": "replace",
    "replaces": "replace",
    "redesign": "redesign",
    "redesigns": "redesign",
    "rebuild": "rebuild",
    "rebuilds": "rebuild",
    "rewrite": "rewrite",
    "rewrites": "rewrite",
    "implement": "implement",
    "implements": "implement",
    "revamp": "revamp",
    "revamps": "revamp",
    "overhaul": "overhaul",
    "overhauls": "overhaul",
    "improve": "improve",
    "improves": "improve",
    "enable": "enable",
    "enables": "enable",
    "allow": "allow",
    "allows": "allow",
}
_CLAUSE_SPLIT = re.compile(r",|;|:|\(|\)|\band then\b|\bwhile\b")
# Verbs that start a new clause after "and": "adds dark mode and replaces the settings page" is two
# changes, "replaces the reports page and rolls out gradually" is one change and a rollout note.
_CLAUSE_VERBS = [
    *_FEATURE_VERBS,
    "rolls",
    "ships",
    "moves",
    "goes",
    "runs",
    "launches",
    "includes",
    "needs",
    "requires",
    "lets",
    "gives",
    "makes",
    "keeps",
    "removes",
    "retires",
    "drops",
    "supports",
    "will",
]
_AND_VERB = re.compile(r"\s+and\s+(?=(?:" + "|".join(_CLAUSE_VERBS) + r")\b)")
_TRAILING_NOISE = re.compile(r"\s+(for the first time|as well|too|also)$")
_MAX_FEATURE_WORDS = 14


def _clauses(sentence: str) -> list[str]:
    parts = []
    for clause in _CLAUSE_SPLIT.split(sentence):
        parts.extend(_AND_VERB.split(clause))
    return parts


def extract_features(text: str, covered: list[str], max_features: int = 10) -> list[Feature]:
    """Product changes the brief names, skipping those another planned module already covers."""
    brief = BriefText(text)
    features: list[Feature] = []
    seen: set[str] = set()
    for sentence in brief.sentences:
        for clause in _clauses(sentence):
            feature = _feature_from_clause(clause)
            if not feature or feature in seen:
                continue
            if BriefText(feature).mentions_any(covered):
                continue
            seen.add(feature)
            features.append(Feature(feature))
            if len(features) >= max_features:
                return features
    return features


def _feature_from_clause(clause: str) -> str | None:
    words = re.sub(r"^and\s+", "", clause.strip()).split()
    # The verb may follow a short subject: "the release replaces ...", "the new dashboard adds ...".
    for index, word in enumerate(words[:6]):
        verb = _FEATURE_VERBS.get(word)
        if verb is None:
            continue
        rest = words[index + 1 :]
        if index and _NEGATION.search(" ".join(words[:index]) + " "):
            return None
        if len(rest) < 2:
            return None
        phrase = " ".join([verb, *rest[:_MAX_FEATURE_WORDS]]).rstrip(".!?")
        return _TRAILING_NOISE.sub("", phrase)
    return None


_NUMBER_WORDS = {
    "one": 1,
    "a": 1,
    "an": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_DURATION = re.compile(
    r"\b(\d+|one|an?|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)[- ](business[- ])?"
    r"(day|week|month)s?\b"
)
_UNIT_DAYS = {"day": 1, "week": 5, "month": 21}


def stated_days(brief: BriefText, keywords: tuple[str, ...]) -> float | None:
    """A length the brief states for the thing a keyword names ("a two-week beta" -> 10 working days)."""
    for sentence in brief.sentences:
        if not any(BriefText(sentence).mentions(k) for k in keywords):
            continue
        match = _DURATION.search(sentence)
        if match:
            amount = match.group(1)
            count = int(amount) if amount.isdigit() else _NUMBER_WORDS[amount]
            unit = match.group(3)
            if unit == "day" and not match.group(2):
                # "30 days' notice" means calendar days: about five working days in seven.
                return float(math.ceil(count * 5 / 7))
            return float(count * _UNIT_DAYS[unit])
    return None
