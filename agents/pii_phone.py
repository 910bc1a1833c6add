"""Phone numbers, national and international, found with python-phonenumbers.

presidio's PhoneRecognizer runs the phonenumbers matcher over the whole text once per region,
which is slow, and it takes version numbers, dates and ids in links for phone numbers. This one
runs the matcher only on short windows around digit runs that could be phone numbers, and drops
matches that are shaped like versions or dates.
"""

from __future__ import annotations

from datetime import date

import phonenumbers
import regex as re
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from agents.pii_entities import PHONE_REGIONS, PiiEntity
from agents.pii_recognizers import in_url_path

# Words that say a number is a phone number. Matched as substrings of lower-cased words, so
# "phone" also covers "phones" and "telephone". Not "number": "account number" and "passport
# number" are followed by digits that are not phone numbers.
_PHONE_CONTEXT = [
    "phone", "tel", "cell", "mobile", "call", "text", "sms", "whatsapp", "reach", "dial",
    "contact", "fax", "landline", "ring",
]  # fmt: skip

# A run of digits with an optional leading "+" or "(" and separators in between; windows of text
# around these are all that the (slow, per-region) phonenumbers matcher needs to see.
_PHONE_CANDIDATE = re.compile(r"[+(]?\d(?:[\d\s().\-/]{0,30}\d)?")
_PHONE_WINDOW_MARGIN = 12
_MIN_PHONE_DIGITS = 7


class LaunchTextPhoneRecognizer(PhoneRecognizer):
    """Phone numbers in national and international formats, via python-phonenumbers."""

    # A bare run of digits with no separators is as often an order or build number as a phone
    # number, so it needs a context word ("call", "mobile") to clear the threshold.
    BARE_DIGITS_SCORE = 0.3

    def __init__(self) -> None:
        super().__init__(
            context=_PHONE_CONTEXT,
            supported_entity=PiiEntity.PHONE,
            supported_regions=PHONE_REGIONS,
            name="PhoneRecognizer",
        )

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for start, end in _candidate_windows(text):
            window = text[start:end]
            for match in self._matches(window):
                raw = match.raw_string
                if not (
                    _looks_like_version(raw)
                    or _starts_with_date(raw)
                    or in_url_path(text, start + match.start)
                ):
                    results.append(self._result_for(match, start))
        return EntityRecognizer.remove_duplicates(results)

    def _matches(self, window: str) -> list[phonenumbers.PhoneNumberMatch]:
        matches = [
            match
            for region in self.supported_regions
            for match in phonenumbers.PhoneNumberMatcher(window, region, leniency=self.leniency)
        ]
        # A number written with its "+country" prefix says what it is; it only has to have a
        # possible length, not sit in a range this copy of the numbering metadata knows about
        # (ranges are allocated all the time, and the metadata ships with the package).
        matches += [
            match
            for match in phonenumbers.PhoneNumberMatcher(
                window, "US", leniency=phonenumbers.Leniency.POSSIBLE
            )
            if match.raw_string.startswith("+")
        ]
        return matches

    def _result_for(self, match: phonenumbers.PhoneNumberMatch, offset: int) -> RecognizerResult:
        score = self.SCORE if _has_separator(match.raw_string) else self.BARE_DIGITS_SCORE
        region = phonenumbers.region_code_for_number(match.number) or "unknown"
        return RecognizerResult(
            entity_type=self.supported_entities[0],
            start=offset + match.start,
            end=offset + match.end,
            score=score,
            analysis_explanation=self._get_analysis_explanation(region),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


def _has_separator(raw: str) -> bool:
    return raw.startswith("+") or any(not c.isdigit() for c in raw)


def _looks_like_version(raw: str) -> bool:
    """Dotted numbers with a one-digit group ("126.0.6478.61", "2.0 2.20.4.4915") are versions.

    Phone numbers written with dots group their digits in twos, threes and fours (415.555.0132,
    01.42.68.53.00); only a "+1." country code is a single digit, and that starts with "+".
    """
    if raw.startswith("+") or "." not in raw or not set(raw) <= set("0123456789. "):
        return False
    return any(len(group) == 1 for group in re.split(r"[. ]+", raw))


_DATE_PREFIX = re.compile(
    r"(?:(?P<d1>\d{1,2})\.(?P<m1>\d{1,2})\.(?P<y1>\d{4})|(?P<y2>\d{4})-(?P<m2>\d{2})-(?P<d2>\d{2})"
    r"|(?P<m3>\d{1,2})/(?P<d3>\d{1,2})/(?P<y3>\d{4}))(?!\d)"
)


def _starts_with_date(raw: str) -> bool:
    """ "16.04.2027 10" (a date and the hour after it) or "2024-06-11": a date, not a number to call."""
    match = _DATE_PREFIX.match(raw)
    if match is None:
        return False
    for n in "123":
        if match.group(f"y{n}"):
            try:
                date(int(match.group(f"y{n}")), int(match.group(f"m{n}")), int(match.group(f"d{n}")))
            except ValueError:
                return False
            return True
    return False


def _could_be_phone(text: str, match: re.Match[str]) -> bool:
    """Cheap checks that spare the phonenumbers matcher most of the numbers in launch text."""
    candidate = match.group()
    if sum(c.isdigit() for c in candidate) < _MIN_PHONE_DIGITS:
        return False
    before = text[max(0, match.start() - 2) : match.start()]
    if before[-1:].isalpha() or before[-1:] == "_" or (before[-1:] == "-" and before[:1].isalnum()):
        return False  # glued to a word: ENG-12345678, CVE-2024-3094, xoxp-..., an IBAN's digits
    if in_url_path(text, match.start()):
        return False
    date_match = _DATE_PREFIX.match(candidate)
    if date_match is not None and _starts_with_date(candidate):
        return sum(c.isdigit() for c in candidate[date_match.end() :]) >= _MIN_PHONE_DIGITS
    return True


def _candidate_windows(text: str) -> list[tuple[int, int]]:
    """Merged windows around digit runs that could be phone numbers."""
    windows: list[tuple[int, int]] = []
    for match in _PHONE_CANDIDATE.finditer(text):
        if not _could_be_phone(text, match):
            continue
        start = max(0, match.start() - _PHONE_WINDOW_MARGIN)
        end = min(len(text), match.end() + _PHONE_WINDOW_MARGIN)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows
