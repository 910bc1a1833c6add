"""The presidio pattern recognizers the guardrail runs, tuned for launch-planning text.

Launch text is full of numbers that are not personal data (v2.3.1, ENG-1234, build 20240611,
$49.99), so each recognizer here is the presidio one with its context words narrowed and a
validator that knows those shapes. Phone numbers are in `pii_phone`, secrets in `pii_secrets`,
the roster in `pii_roster`.
"""

from __future__ import annotations

import ipaddress
from datetime import date

import regex as re
import tldextract
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    UsBankRecognizer,
    UsPassportRecognizer,
    UsSsnRecognizer,
)

from agents.pii_entities import PiiEntity

# tldextract's module-level extractor fetches the public suffix list over HTTP on first use.
# This one reads only the snapshot bundled with the package: no network, no cache folder.
_OFFLINE_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)

_ALPHA_TLD = re.compile(r"(?:[^\W\d_]{2,63}|xn--[a-z0-9\-]{2,59})", re.IGNORECASE)


def has_public_suffix(host: str) -> bool:
    return _OFFLINE_SUFFIXES(host).fqdn != ""


def load_public_suffixes() -> None:
    """Parse the bundled suffix list now rather than inside the first request."""
    has_public_suffix("example.com")


# presidio's email pattern without "|" in the local part: Slack sends auto-linked addresses as
# "<mailto:jo@acme.com|jo@acme.com>", and "|jo@acme.com" must not become a second address.
_EMAIL_PATTERN = Pattern(
    "Email (Medium)",
    r"\b((([!#$%&'*+\-/=?^_`{}~\w])|([!#$%&'*+\-/=?^_`{}~\w][!#$%&'*+\-/=?^_`{}~\.\w]{0,}"
    r"[!#$%&'*+\-/=?^_`{}~\w]))[@]\w+(?:-+\w+)*(?:\.\w+(?:-+\w+)*)+)\b",
    0.5,
)


class OfflineEmailRecognizer(EmailRecognizer):
    """Email addresses, with the domain checked against the bundled public suffix list."""

    def __init__(self) -> None:
        super().__init__(patterns=[_EMAIL_PATTERN], supported_entity=PiiEntity.EMAIL, name="EmailRecognizer")

    def validate_result(self, pattern_text: str) -> bool | None:
        domain = pattern_text.rsplit("@", 1)[-1]
        if has_public_suffix(domain):
            return True
        # Company-internal domains (corp.internal, build.local) are still addresses; a numeric
        # "domain" is not: "pkg@1.2.3" is a version pin.
        return None if _ALPHA_TLD.fullmatch(domain.rsplit(".", 1)[-1]) else False


def in_url_path(text: str, position: int) -> bool:
    """Whether `position` starts a path segment of a URL, like the article id in /articles/1150040.

    Query values are not paths: "?phone=4155550132" is still a phone number.
    """
    if position == 0 or text[position - 1] != "/":
        return False
    token_start = max(text.rfind(" ", 0, position), text.rfind("\n", 0, position)) + 1
    token = text[token_start:position]
    return "://" in token or token.startswith("www.")


class _NotInUrlPath(PatternRecognizer):
    """Drops matches that are path segments of a URL: ids in links are not personal data."""

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if not in_url_path(text, r.start)]


# "v1.2.3.4", "version 10.0.0.1", "build 1.4.0.12": a dotted quad after these is a version.
_VERSION_PREFIX = re.compile(
    r"(?:\bv|\b(?:version|release|build|firmware|sdk|app|ver|rev)\s*[:/]?\s*)$", re.IGNORECASE
)


class LaunchTextIpRecognizer(IpRecognizer):
    """IPv4 and IPv6 addresses; not four-part version numbers, loopback or 0.0.0.0."""

    def __init__(self) -> None:
        super().__init__(supported_entity=PiiEntity.IP_ADDRESS, name="IpRecognizer")

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        return [r for r in results if not _VERSION_PREFIX.search(text[max(0, r.start - 20) : r.start])]

    def invalidate_result(self, pattern_text: str) -> bool | None:
        if super().invalidate_result(pattern_text):
            return True
        # 127.0.0.1, ::1 and 0.0.0.0 name "this machine" on every machine: they identify no one.
        address = ipaddress.ip_interface(pattern_text).ip
        return address.is_loopback or address.is_unspecified


def _is_compact_date(digits: str) -> bool:
    """True for YYYYMMDD, the shape of build numbers such as 20240611."""
    if len(digits) != 8 or not digits.startswith(("19", "20")):
        return False
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return True


class LaunchTextCardRecognizer(CreditCardRecognizer):
    """Luhn-valid card numbers, including Mastercard's 2221-2720 range.

    presidio's pattern predates the 2-series Mastercard BINs (issued since 2017), so it is
    extended here with a 2[2-7]xx first group; Luhn still decides.
    """

    PATTERNS = [
        Pattern(
            "All Credit Cards (weak)",
            r"\b(?!1\d{12}(?!\d))((4\d{3})|(5[0-5]\d{2})|(2[2-7]\d{2})|(6\d{3})|(1\d{3})|(3\d{3}))"
            r"[- ]?(\d{3,4})[- ]?(\d{3,4})[- ]?(\d{3,5})\b",
            0.3,
        ),
    ]

    def __init__(self) -> None:
        super().__init__(
            patterns=list(self.PATTERNS), supported_entity=PiiEntity.CREDIT_CARD, name="CreditCardRecognizer"
        )

    def validate_result(self, pattern_text: str) -> bool:
        number = "".join(c for c in pattern_text if c.isdigit())
        # One random digit string in ten passes Luhn; a card number also has a length its
        # network issues, which "account 3622818179895" (13 digits, Diners prefix) has not.
        return _length_fits_network(number) and bool(super().validate_result(pattern_text))


# (prefixes, lengths) per card network, from the networks' published IIN ranges.
_CARD_NETWORKS: tuple[tuple[tuple[str, ...], frozenset[int]], ...] = (
    (("4",), frozenset({13, 16, 19})),  # Visa
    (tuple(str(p) for p in range(51, 56)) + tuple(str(p) for p in range(2221, 2721)), frozenset({16})),
    (("34", "37"), frozenset({15})),  # Amex
    (("36", "38", "39", "300", "301", "302", "303", "304", "305", "3095"), frozenset(range(14, 20))),
    (tuple(str(p) for p in range(3528, 3590)), frozenset(range(16, 20))),  # JCB
    (("6",), frozenset(range(12, 20))),  # Discover, UnionPay, Maestro, RuPay
    (("50",) + tuple(str(p) for p in range(56, 60)), frozenset(range(12, 20))),  # Maestro
    (("1",), frozenset({15})),  # UATP
)


def _length_fits_network(number: str) -> bool:
    return any(number.startswith(prefixes) and len(number) in lengths for prefixes, lengths in _CARD_NETWORKS)


class LaunchTextSsnRecognizer(_NotInUrlPath, UsSsnRecognizer):
    """US social security numbers; "ssid" (a Wi-Fi network name) is not a context word here."""

    def __init__(self) -> None:
        super().__init__(
            context=["social", "security", "ssn", "ssns"],
            supported_entity=PiiEntity.US_SSN,
            name="UsSsnRecognizer",
        )


class LaunchTextBankRecognizer(_NotInUrlPath, UsBankRecognizer):
    """US bank account numbers: 8-17 digits, only next to banking words."""

    CONTEXT_WORDS = ["bank", "acct", "account", "routing", "checking", "savings", "deposit", "wire"]

    def __init__(self) -> None:
        super().__init__(
            context=self.CONTEXT_WORDS, supported_entity=PiiEntity.US_BANK_NUMBER, name="UsBankRecognizer"
        )

    def invalidate_result(self, pattern_text: str) -> bool | None:
        return _is_compact_date(pattern_text)


class LaunchTextPassportRecognizer(_NotInUrlPath, UsPassportRecognizer):
    """US passport numbers, only next to the word passport.

    presidio's default context includes "us", "states" and "document", which launch text is
    full of ("send us the document").
    """

    def __init__(self) -> None:
        super().__init__(
            context=["passport"], supported_entity=PiiEntity.US_PASSPORT, name="UsPassportRecognizer"
        )


def builtin_recognizers() -> list[EntityRecognizer]:
    """presidio's recognizers for structured personal data (but phones: see `pii_phone`)."""
    return [
        OfflineEmailRecognizer(),
        LaunchTextCardRecognizer(),
        IbanRecognizer(supported_entity=PiiEntity.IBAN, name="IbanRecognizer"),
        LaunchTextSsnRecognizer(),
        LaunchTextIpRecognizer(),
        LaunchTextBankRecognizer(),
        LaunchTextPassportRecognizer(),
    ]
