"""Generators of realistic personal data and secrets for the PII corpus, one function per kind.

Every value is synthetic but shaped like the real thing: card numbers pass Luhn, IBANs carry
their country's length and check digits, phone numbers sit in allocated number ranges, tokens
have their vendor's prefix and length. Each function takes the corpus's `random.Random`.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import string
from random import Random

ALNUM = string.ascii_letters + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
URLSAFE = ALNUM + "-_"
HEX = "0123456789abcdef"


def chars(rng: Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def digits(rng: Random, n: int) -> str:
    return chars(rng, string.digits, n)


# --- people -------------------------------------------------------------------------------------

FIRST_NAMES = [
    "Priya", "Mateo", "Aisha", "Kenji", "Olga", "Tunde", "Sofia", "Liam", "Mei", "Rafael", "Zanele",
    "Noah", "Fatima", "Lars", "Ananya", "Diego", "Hannah", "Kwame", "Yuki", "Elena", "Omar", "Ingrid",
    "Carlos", "Leilani", "Siddharth", "Nadia", "Will", "Grant", "June", "Mark", "Rose", "Chloé",
]  # fmt: skip
LAST_NAMES = [
    "Sharma", "Okafor", "Nakamura", "Fernández", "Kowalski", "Haddad", "Lindqvist", "Chen", "Adeyemi",
    "Rossi", "Novak", "Mensah", "Gupta", "Schneider", "Moreau", "O'Brien", "Dubois", "Kim", "Alvarez",
    "Petrov", "Ibrahim", "Tanaka", "Byrne", "Park", "Price", "Long", "Young", "Castillo", "Nguyen",
]  # fmt: skip


def roster(rng: Random, size: int = 40) -> list[str]:
    """`size` distinct full names (at most every first-last pair there is)."""
    size = min(size, len(set(FIRST_NAMES)) * len(set(LAST_NAMES)))
    names: set[str] = set()
    while len(names) < size:
        names.add(f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}")
    return sorted(names)


# --- contact details ----------------------------------------------------------------------------

EMAIL_DOMAINS = [
    "acme.com", "globex.io", "initech.co.uk", "umbrella-corp.de", "gmail.com", "outlook.com",
    "fastmail.fm", "eng.hooli.com", "example.org", "stark-industries.net", "corp.internal", "wayne.ai",
]  # fmt: skip


def email(rng: Random) -> str:
    first = rng.choice(FIRST_NAMES).lower().replace("é", "e")
    last = rng.choice(LAST_NAMES).lower().replace("'", "").replace("á", "a")
    local = rng.choice(
        [f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}{rng.randint(1, 99)}", f"{first}+launch",
         f"{last}.{first[0]}", "release-team", "billing", f"{first}{rng.randint(70, 99)}"]
    )  # fmt: skip
    value = f"{local}@{rng.choice(EMAIL_DOMAINS)}"
    return value.upper() if rng.random() < 0.03 else value


US_AREA_CODES = ["212", "310", "415", "512", "617", "646", "702", "206", "303", "404", "312", "713", "919"]


def _us_number(rng: Random) -> tuple[str, str, str]:
    exchange = str(rng.randint(2, 9)) + digits(rng, 2)
    if exchange[1:] == "11":
        exchange = exchange[0] + "23"
    return rng.choice(US_AREA_CODES), exchange, digits(rng, 4)


def phone(rng: Random) -> str:
    """A phone number in one of the formats people type, national or international."""
    area, exchange, line = _us_number(rng)
    formats = [
        lambda: f"({area}) {exchange}-{line}",
        lambda: f"{area}-{exchange}-{line}",
        lambda: f"{area}.{exchange}.{line}",
        lambda: f"+1 {area} {exchange} {line}",
        lambda: f"+1-{area}-{exchange}-{line}",
        lambda: f"+1 ({area}) {exchange}-{line}",
        lambda: f"1-{area}-{exchange}-{line}",
        lambda: f"{area}-{exchange}-{line} x{rng.randint(10, 999)}",
        lambda: f"+44 20 7{digits(rng, 3)} {digits(rng, 4)}",
        lambda: f"+44 7{rng.choice('45789')}{digits(rng, 2)} {digits(rng, 6)}",
        lambda: f"020 7{digits(rng, 3)} {digits(rng, 4)}",
        lambda: f"07{rng.choice('45789')}{digits(rng, 2)} {digits(rng, 6)}",
        lambda: f"+49 30 {digits(rng, 8)}",
        lambda: f"+49 15{rng.choice('12')} {digits(rng, 8)}",
        lambda: f"+33 1 {digits(rng, 2)} {digits(rng, 2)} {digits(rng, 2)} {digits(rng, 2)}",
        lambda: f"+33 6 {digits(rng, 2)} {digits(rng, 2)} {digits(rng, 2)} {digits(rng, 2)}",
        lambda: f"+91 9{digits(rng, 4)} {digits(rng, 5)}",
        lambda: f"+61 2 9{digits(rng, 3)} {digits(rng, 4)}",
        lambda: f"+61 4{digits(rng, 2)} {digits(rng, 3)} {digits(rng, 3)}",
        lambda: f"+81 3-{digits(rng, 4)}-{digits(rng, 4)}",
        lambda: f"+55 11 9{digits(rng, 4)}-{digits(rng, 4)}",
        lambda: f"+34 6{digits(rng, 2)} {digits(rng, 2)} {digits(rng, 2)} {digits(rng, 2)}",
        lambda: f"+31 6 {digits(rng, 8)}",
        lambda: f"+65 6{digits(rng, 3)} {digits(rng, 4)}",
        lambda: f"+52 55 {digits(rng, 4)} {digits(rng, 4)}",
        lambda: f"+353 87 {digits(rng, 3)} {digits(rng, 4)}",
    ]
    return rng.choice(formats)()


def bare_phone(rng: Random) -> str:
    """Ten digits with no separators, as pasted from a CRM export."""
    return "".join(_us_number(rng))


# --- payment data -------------------------------------------------------------------------------


def luhn_complete(prefix: str, length: int, rng: Random) -> str:
    body = prefix + digits(rng, length - len(prefix) - 1)
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d)
        if i % 2 == 0:
            n *= 2
            n -= 9 if n > 9 else 0
        total += n
    return body + str((10 - total % 10) % 10)


CARD_PREFIXES: list[tuple[str, int, tuple[int, ...]]] = [
    ("4", 16, (4, 4, 4, 4)),  # Visa
    ("51", 16, (4, 4, 4, 4)),  # Mastercard
    ("55", 16, (4, 4, 4, 4)),
    ("2221", 16, (4, 4, 4, 4)),  # Mastercard 2-series
    ("2720", 16, (4, 4, 4, 4)),
    ("34", 15, (4, 6, 5)),  # Amex
    ("37", 15, (4, 6, 5)),
    ("6011", 16, (4, 4, 4, 4)),  # Discover
    ("65", 16, (4, 4, 4, 4)),
    ("3528", 16, (4, 4, 4, 4)),  # JCB
    ("36", 14, (4, 6, 4)),  # Diners
]


def credit_card(rng: Random) -> str:
    prefix, length, groups = rng.choice(CARD_PREFIXES)
    number = luhn_complete(prefix, length, rng)
    separator = rng.choice([" ", "-", ""])
    parts, at = [], 0
    for size in groups:
        parts.append(number[at : at + size])
        at += size
    return separator.join(parts)


# country: (bank/branch/account layout as (alphabet, length) pairs)
IBAN_LAYOUTS: dict[str, list[tuple[str, int]]] = {
    "DE": [("n", 18)],
    "GB": [("a", 4), ("n", 14)],
    "FR": [("n", 10), ("c", 11), ("n", 2)],
    "ES": [("n", 20)],
    "IT": [("a", 1), ("n", 10), ("c", 12)],
    "NL": [("a", 4), ("n", 10)],
    "BE": [("n", 12)],
    "CH": [("n", 5), ("c", 12)],
    "AT": [("n", 16)],
    "PL": [("n", 24)],
    "SE": [("n", 20)],
    "IE": [("a", 4), ("n", 14)],
    "PT": [("n", 21)],
    "NO": [("n", 11)],
    "DK": [("n", 14)],
}
_ALPHABETS = {
    "n": string.digits,
    "a": string.ascii_uppercase,
    "c": string.digits * 3 + string.ascii_uppercase,
}


def iban(rng: Random) -> str:
    country = rng.choice(sorted(IBAN_LAYOUTS))
    bban = "".join(chars(rng, _ALPHABETS[kind], n) for kind, n in IBAN_LAYOUTS[country])
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    value = f"{country}{check:02d}{bban}"
    if rng.random() < 0.6:
        value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value


def us_ssn(rng: Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    number = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
    separator = rng.choice(["-", "-", "-", " "])
    return f"{number[:3]}{separator}{number[3:5]}{separator}{number[5:]}"


def us_bank_number(rng: Random) -> str:
    return digits(rng, rng.randint(8, 14))


def us_passport(rng: Random) -> str:
    return rng.choice(string.ascii_uppercase) + digits(rng, 8) if rng.random() < 0.5 else digits(rng, 9)


def _public_first_octet(rng: Random) -> int:
    # 127/8 is loopback: it names the local machine, not a host anywhere.
    return rng.choice([octet for octet in range(11, 224) if octet != 127])


def ip_address(rng: Random) -> str:
    choice = rng.randrange(8)
    if choice == 0:
        return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if choice == 1:
        return f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if choice == 2:
        return f"{_public_first_octet(rng)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if choice == 3:
        return f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.0/{rng.choice([16, 20, 24])}"
    if choice == 4:
        return str(ipaddress.IPv6Address(rng.getrandbits(128)).exploded)
    if choice == 5:
        return str(ipaddress.IPv6Address((0x2001_0DB8 << 96) | rng.getrandbits(64)))
    if choice == 6:
        return f"fe80::{rng.getrandbits(16):x}:{rng.getrandbits(16):x}"
    return (
        f"::ffff:{_public_first_octet(rng)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


# --- secrets --------------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(rng: Random) -> str:
    header = _b64url(json.dumps({"alg": rng.choice(["HS256", "RS256"]), "typ": "JWT"}).encode())
    claims = {"sub": digits(rng, 10), "iat": 1718000000 + rng.randint(0, 10**6), "scope": "launch:read"}
    payload = _b64url(json.dumps(claims).encode())
    return f"{header}.{payload}.{_b64url(rng.randbytes(32))}"


SECRET_SHAPES = {
    "slack_bot": lambda r: f"xoxb-{digits(r, 12)}-{digits(r, 13)}-{chars(r, ALNUM, 24)}",
    "slack_user": lambda r: f"xoxp-{digits(r, 12)}-{digits(r, 12)}-{digits(r, 13)}-{chars(r, HEX, 32)}",
    "slack_app": lambda r: f"xapp-1-A{chars(r, UPPER_ALNUM, 10)}-{digits(r, 13)}-{chars(r, HEX, 64)}",
    "slack_webhook": lambda r: (
        f"https://hooks.slack.com/services/T{chars(r, UPPER_ALNUM, 8)}/B{chars(r, UPPER_ALNUM, 10)}/"
        f"{chars(r, ALNUM, 24)}"
    ),
    "aws_key_id": lambda r: r.choice(["AKIA", "ASIA"]) + chars(r, UPPER_ALNUM, 16),
    "github_classic": lambda r: r.choice(["ghp_", "gho_", "ghs_"]) + chars(r, ALNUM, 36),
    "github_fine_grained": lambda r: f"github_pat_{chars(r, ALNUM, 22)}_{chars(r, ALNUM, 59)}",
    "openai": lambda r: r.choice(
        [f"sk-proj-{chars(r, URLSAFE, 156)}", f"sk-{chars(r, ALNUM, 20)}T3BlbkFJ{chars(r, ALNUM, 20)}"]
    ),
    "anthropic": lambda r: f"sk-ant-api03-{chars(r, URLSAFE, 93)}AA",
    "stripe": lambda r: f"{r.choice(['sk', 'pk', 'rk'])}_{r.choice(['live', 'test'])}_{chars(r, ALNUM, 99)}",
    "google_api": lambda r: "AIza" + chars(r, URLSAFE, 35),
    "jwt": jwt,
}

PASSWORD_WORDS = ["orbit", "maple", "falcon", "harbor", "copper", "meadow", "quartz", "lantern"]


def password(rng: Random) -> str:
    kind = rng.randrange(5)
    if kind == 4:  # weak, and common: two lower-case words
        return "".join(rng.sample(PASSWORD_WORDS, 2))
    if kind == 0:
        return chars(rng, ALNUM + "!@#%^&*", rng.randint(12, 24))
    if kind == 1:
        return f"{rng.choice(PASSWORD_WORDS).title()}{rng.randint(1990, 2025)}{rng.choice('!?#$')}"
    if kind == 2:
        return "-".join(rng.sample(PASSWORD_WORDS, 4))
    return f"{rng.choice(PASSWORD_WORDS)}{rng.randint(1, 99)}"


def private_key_block(rng: Random) -> str:
    kind = rng.choice(
        ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "PGP PRIVATE KEY BLOCK"]
    )
    body = base64.b64encode(rng.randbytes(rng.randint(120, 900))).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    style = rng.randrange(5)
    if style == 0:  # Slack turned the newlines into spaces
        return f"-----BEGIN {kind}----- {' '.join(lines)} -----END {kind}-----"
    if style == 1:  # cut short while pasting
        return "\n".join([f"-----BEGIN {kind}-----", *lines[: max(2, len(lines) // 2)]])
    return "\n".join([f"-----BEGIN {kind}-----", *lines, f"-----END {kind}-----"])


def credential_url(rng: Random) -> str:
    user = rng.choice(["admin", "app", "svc_launch", "deploy", "readonly", "postgres", "root"])
    secret = chars(rng, ALNUM, rng.randint(10, 24))
    host = rng.choice(
        ["db.internal", "10.0.3.17", "pg-prod.acme.com", "cluster0.ab1cd.mongodb.net", "cache-1.local"]
    )
    shapes = [
        f"postgres://{user}:{secret}@{host}:5432/launches",
        f"postgresql://{user}:{secret}@{host}/app?sslmode=require",
        f"mysql://{user}:{secret}@{host}:3306/liftoff",
        f"mongodb+srv://{user}:{secret}@{host}/?retryWrites=true",
        f"redis://:{secret}@{host}:6379/0",
        f"amqp://{user}:{secret}@{host}:5672/%2f",
        f"https://{user}:{secret}@git.acme.com/platform/launch.git",
        f"ftp://{user}:{secret}@files.acme.com/exports/",
    ]
    return rng.choice(shapes)
