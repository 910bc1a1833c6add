"""Recognizers for credentials people paste into briefs: API keys, tokens, key blocks, passwords.

Vendor tokens are found by their published prefixes, so a match is near-certain and scores 1.0.
Shapes without a prefix (`password=...`, `Bearer ...`) are found next to the word that names them,
and their values are checked so prose such as "token: see ENG-1234" is not taken for a secret.
"""

from __future__ import annotations

import regex as re
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer

from agents.pii_entities import PiiEntity

# Case matters for token prefixes (AKIA, AIza, ghp_), so these recognizers do not ignore case.
_CASE_SENSITIVE = re.DOTALL | re.MULTILINE

# A token ends where the run of token characters ends; a trailing "." or "," is prose.
_START = r"(?<![A-Za-z0-9_\-])"
_END = r"(?![A-Za-z0-9_\-])"

_VENDOR_TOKENS: tuple[tuple[str, str], ...] = (
    ("slack token", r"xox[abposre]-[A-Za-z0-9\-]{10,}"),
    ("slack app token", r"xapp-\d-[A-Za-z0-9\-]{10,}"),
    ("slack webhook", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_\-]{20,}"),
    ("aws access key id", r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[A-Z0-9]{16}"),
    ("github token", r"gh[pousr]_[A-Za-z0-9]{36,251}"),
    ("github fine-grained token", r"github_pat_[A-Za-z0-9_]{22,255}"),
    ("stripe key", r"(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    ("stripe webhook secret", r"whsec_[A-Za-z0-9]{24,}"),
    ("google api key", r"AIza[0-9A-Za-z_\-]{35}"),
    ("google oauth token", r"ya29\.[0-9A-Za-z_\-]{20,}"),
    ("google oauth client secret", r"GOCSPX-[0-9A-Za-z_\-]{20,}"),
    ("gitlab token", r"glpat-[0-9A-Za-z_\-]{20,}"),
    ("npm token", r"npm_[A-Za-z0-9]{36}"),
    ("sendgrid key", r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}"),
    ("hugging face token", r"hf_[A-Za-z0-9]{30,}"),
    ("jwt", r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"),
)

# OpenAI and Anthropic keys share "sk-"; the body must look random (mixed case and digits), which
# tells a key apart from a kebab-case slug such as "sk-learn-compat-checklist".
_SK_KEY = r"sk-(?:ant-(?:api|admin)\d{2}-|proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"

# Fields named for a password: "password", "DB_PASS", "user.pwd" (but not "bypass").
_PASSWORD_FIELD = (
    r"(?i:(?:[A-Za-z0-9]+[_.\-])*(?:password|passwd|passphrase|pwd|pass)(?:[_.\-][A-Za-z0-9]+)*)"
)
# Fields named for another secret: "api_key", "SLACK_BOT_TOKEN", "clientSecret", "x-api-key".
_SECRET_FIELD = (
    r"(?i:[A-Za-z0-9_.\-]*(?:secret|token|api[_\-]?key|access[_\-]?key|auth[_\-]?key|private[_\-]?key"
    r"|credentials?)[A-Za-z0-9_.\-]*)"
)


_ASSIGNMENT = r"\s{0,3}(?:=>|:=|[:=])\s{0,3}"
# In prose: "the password is hunter22".
_SAID_TO_BE = r"\s{1,3}(?i:is|was)\s{1,3}"


def _assigned_value(field: str, separator: str = _ASSIGNMENT) -> str:
    """The value after `field=`, `field: `, `field => ` or `field := `, possibly quoted.

    Only the value is matched, so the text still reads "password=<SECRET_1>".
    """
    return (
        r"(?<=(?<![A-Za-z0-9])" + field + r"[\"']?" + separator + r"[\"']?)"
        r"[^\s\"'`<>]+?(?=[.,;:)\]]*(?:\s|$|[\"'`<>]))"
    )


_BEARER_VALUE = r"(?<=(?i:\bbearer)\s{1,3})[A-Za-z0-9._~+/\-]{16,}=*"

_PRIVATE_KEY_BLOCK = (
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
    # A paste cut before its END line still gives the key away: take the base64 that follows.
    r"|(?:\s*[A-Za-z0-9+/=]{16,})+)"
)

# scheme://user:password@host — the whole URL goes, since the host often says what it unlocks.
_CREDENTIAL_URL = (
    r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s/?#@:<>\"']*:[^\s/?#@<>\"']+@"
    r"[^\s/?#<>\"']+(?:[/?#][^\s<>\"']*?)?(?=[.,;:)\]]*(?:\s|$|[<>\"']))"
)

# What follows "password:" in a spec rather than a paste ("Password: required, min 12 chars").
_SPEC_WORDS = frozenset(
    "required optional none null empty hidden redacted masked reset changed rotated expired updated "
    "unchanged removed pending tbd n/a same sent stored managed shared saved correct incorrect wrong "
    "invalid valid weak strong missing still also being".split()
)
_TICKET = re.compile(r"[A-Z][A-Z0-9]{1,9}-\d+")
_VERSION = re.compile(r"v?\d+(?:\.\d+)+")
# ${DB_PASSWORD}, $DB_PASSWORD, %DB_PASSWORD%, {{ secret }}, <redacted>, [hidden], ****, xxxx
# (Case matters: "$DB_PASSWORD" is a variable, "$ecret42" is a password.)
_TEMPLATE_REFERENCE = re.compile(
    r"\$\{.*|\$[A-Z][A-Z0-9_]*|%[A-Za-z][A-Za-z0-9_]*%|\{\{.*|<.*|\[.*\]|\*{3,}.*|[xX]{4,}"
)


def looks_random(body: str) -> bool:
    """True when a token body mixes upper case, lower case and digits, as generated keys do."""
    return (
        any(c.isupper() for c in body) and any(c.islower() for c in body) and any(c.isdigit() for c in body)
    )


def _is_reference(value: str) -> bool:
    """${DB_PASSWORD}, <redacted>, ****, a ticket, a version, or a link to where the secret lives."""
    return bool(
        _TEMPLATE_REFERENCE.fullmatch(value)
        or value.lower().startswith(("http://", "https://"))
        or _TICKET.fullmatch(value)
        or _VERSION.fullmatch(value)
    )


def looks_like_password(value: str) -> bool:
    """Whether the value after `password:` is one. Weak passwords are passwords too."""
    return len(value) >= 4 and not _is_reference(value) and value.lower() not in _SPEC_WORDS


def looks_like_secret_value(value: str) -> bool:
    """Whether the value after `token=`/`api_key:` is a credential rather than prose or a number."""
    if len(value) < 6 or len(set(value)) < 3 or _is_reference(value):
        return False
    if value.replace(",", "").replace(".", "").isdigit() and len(value) < 16:
        return False  # "context tokens: 200000" is a budget, not a token
    has_digit = any(c.isdigit() for c in value)
    has_symbol = any(not c.isalnum() for c in value)
    has_inner_upper = any(c.isupper() for c in value[1:])
    # A plain lower-case word after "token:" is far more often prose ("token: rotated") than a
    # password; long runs of letters are kept because passphrases look like that.
    return has_digit or has_symbol or has_inner_upper or len(value) >= 16


class VendorTokenRecognizer(PatternRecognizer):
    """API keys and tokens identified by their vendor prefix."""

    def __init__(self) -> None:
        patterns = [Pattern(name, _START + regex + _END, 1.0) for name, regex in _VENDOR_TOKENS]
        patterns.append(Pattern("openai or anthropic key", _START + _SK_KEY + _END, 1.0))
        super().__init__(
            supported_entity=PiiEntity.SECRET,
            name="VendorTokenRecognizer",
            patterns=patterns,
            global_regex_flags=_CASE_SENSITIVE,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        if pattern_text.startswith("sk-") and not pattern_text.startswith("sk-ant-"):
            return looks_random(pattern_text.removeprefix("sk-"))
        return None


class PasswordAssignmentRecognizer(PatternRecognizer):
    """`password=...`, `DB_PASS: ...`: the value is the secret."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity=PiiEntity.SECRET,
            name="PasswordAssignmentRecognizer",
            patterns=[
                Pattern("password assignment", _assigned_value(_PASSWORD_FIELD), 0.9),
                Pattern("password in prose", _assigned_value(_PASSWORD_FIELD, _SAID_TO_BE), 0.9),
            ],
            global_regex_flags=_CASE_SENSITIVE,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        # None keeps the pattern score; False drops the match.
        return None if looks_like_password(pattern_text) else False


class SecretAssignmentRecognizer(PatternRecognizer):
    """`api_key: ...`, `SLACK_BOT_TOKEN=...`, `Authorization: Bearer ...`: the value is the secret."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity=PiiEntity.SECRET,
            name="SecretAssignmentRecognizer",
            patterns=[
                Pattern("secret assignment", _assigned_value(_SECRET_FIELD), 0.9),
                Pattern("bearer token", _BEARER_VALUE, 0.9),
            ],
            global_regex_flags=_CASE_SENSITIVE,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        return None if looks_like_secret_value(pattern_text) else False


class PrivateKeyRecognizer(PatternRecognizer):
    """PEM, OpenSSH and PGP private key blocks, whole or cut short."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity=PiiEntity.PRIVATE_KEY,
            name="PrivateKeyRecognizer",
            patterns=[Pattern("private key block", _PRIVATE_KEY_BLOCK, 1.0)],
            global_regex_flags=_CASE_SENSITIVE,
        )


class CredentialUrlRecognizer(PatternRecognizer):
    """URLs that carry a user name and password, such as database connection strings."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity=PiiEntity.CREDENTIAL_URL,
            name="CredentialUrlRecognizer",
            patterns=[Pattern("url with credentials", _CREDENTIAL_URL, 1.0)],
            global_regex_flags=_CASE_SENSITIVE,
        )


def secret_recognizers() -> list[EntityRecognizer]:
    return [
        VendorTokenRecognizer(),
        PasswordAssignmentRecognizer(),
        SecretAssignmentRecognizer(),
        PrivateKeyRecognizer(),
        CredentialUrlRecognizer(),
    ]
