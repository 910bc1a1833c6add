"""A deterministic corpus for the PII guardrail: launch-planning text with and without personal data.

`pii_samples()` gives texts that each carry labelled values of one kind (email, phone, card, IBAN,
SSN, IP, names from the roster, secrets of many vendors...), set in ordinary launch sentences
that are themselves full of numbers. `clean_samples()` gives launch-task texts with no personal
data at all but every shape that looks like it: versions, dates, tickets, prices, durations, SKUs,
build numbers, public URLs, and everyday words that are also names. Same seed, same corpus.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from random import Random

try:
    from bench import pii_values as values
    from bench.pii_launch_text import CLEAN_TEMPLATES, SLOTS, fill
except ImportError:  # run as a script from inside bench/
    import pii_values as values  # type: ignore[no-redef]
    from pii_launch_text import CLEAN_TEMPLATES, SLOTS, fill  # type: ignore[no-redef]

SEED = 20240611
PER_KIND = 300
CLEAN_COUNT = 500


@dataclass(frozen=True)
class Span:
    kind: str  # corpus kind, e.g. "SECRET/slack_bot"
    entity: str  # the PiiEntity the guardrail should report
    start: int
    end: int


@dataclass(frozen=True)
class Sample:
    text: str
    spans: tuple[Span, ...]


def clean_samples(count: int = CLEAN_COUNT, seed: int = SEED) -> list[Sample]:
    """Launch-task texts with no personal data: one to three sentences each."""
    rng = Random(seed + 1)
    return [
        Sample(fill(" ".join(rng.sample(CLEAN_TEMPLATES, rng.randint(1, 3))), rng), ()) for _ in range(count)
    ]


# --- sentences that carry personal data -----------------------------------------------------------

# Each kind: (entity, value generator, sentence templates with {v} for the value).
_PII_KINDS: dict[str, tuple[str, Callable[[Random], str], list[str]]] = {
    "EMAIL": (
        "EMAIL",
        values.email,
        [
            "Vendor contact for {project} is {v}; loop them in before {ticket}.",
            "Send the {version} release notes to {v} by {date}.",
            "Beta tester {v} reported {ticket} on {os}.",
            "Escalations go to {v} (cc the {team} channel).",
            "Reply-to for the launch email: {v}",
            "Escalations for {project}: <mailto:{v}|{v}> (as Slack sends it)",
        ],
    ),
    "PHONE": (
        "PHONE",
        values.phone,
        [
            "On-call for the {project} launch: {v}, backup in {ticket}.",
            "Call the vendor at {v} if {build} fails.",
            "Customer asked for a callback on {v} about {ticket}.",
            "Bridge line for the {time} cutover: {v}",
            "Carrier contact {v} confirmed the SMS sender for {project}.",
            "Reach the agency at {v} before {date}.",
        ],
    ),
    "PHONE/bare": (
        "PHONE",
        values.bare_phone,
        [
            "Customer's cell: {v}, re {ticket}.",
            "Mobile {v} (from the CRM export) needs a callback about {project}.",
            "Phone number on the order is {v}; refund {price}.",
        ],
    ),
    "CREDIT_CARD": (
        "CREDIT_CARD",
        values.credit_card,
        [
            "Refund {price} to card {v} for {ticket}.",
            "Test purchase on {v} failed at checkout in {build}.",
            "Customer paid with {v}, charge disputed, see {ticket}.",
            "Corporate card {v} covers the {project} ad spend of {price}.",
        ],
    ),
    "IBAN": (
        "IBAN",
        values.iban,
        [
            "Pay the agency invoice of {price} to IBAN {v} by {date}.",
            "Partner payout account for {project}: {v}",
            "Wire the deposit to {v} before the {date} signing.",
            "Reseller updated their bank details to {v} ({ticket}).",
        ],
    ),
    "US_SSN": (
        "US_SSN",
        values.us_ssn,
        [
            "Contractor onboarding for {project}: SSN {v}, start {date}.",
            "W-9 for the influencer lists {v}; payout {price}.",
            "Background check needs SSN {v} by {date}.",
            "HR ticket {ticket} includes social security number {v}.",
        ],
    ),
    "IP_ADDRESS": (
        "IP_ADDRESS",
        values.ip_address,
        [
            "Allow-list {v} on the staging firewall for {project}.",
            "Suspicious logins from {v} during the {version} beta, see {ticket}.",
            "The canary host is {v}, port {port}.",
            "Customer's egress IP {v} is blocked by the WAF ({ticket}).",
        ],
    ),
    "US_BANK_NUMBER": (
        "US_BANK_NUMBER",
        values.us_bank_number,
        [
            "Vendor bank account {v} for the {price} payout.",
            "ACH details: account number {v}, due {date}.",
            "Refund to checking account {v} per {ticket}.",
        ],
    ),
    "US_PASSPORT": (
        "US_PASSPORT",
        values.us_passport,
        [
            "Travel for the {project} launch event: passport {v}, flight on {date}.",
            "Visa letter needs passport number {v} by {date}.",
            "Speaker's US passport no. {v}, booking {ticket}.",
        ],
    ),
    "PRIVATE_KEY": (
        "PRIVATE_KEY",
        values.private_key_block,
        [
            "Deploy key for {project} (rotate after {date}):\n{v}\nthanks",
            "here is the signing key {v} — remove after {ticket}",
            "{v}",
        ],
    ),
    "CREDENTIAL_URL": (
        "CREDENTIAL_URL",
        values.credential_url,
        [
            "Migration for {project} connects with {v} during the {time} window.",
            "DATABASE_URL={v}",
            "Use {v} for the {version} backfill ({ticket}).",
        ],
    ),
    "SECRET/password": (
        "SECRET",
        values.password,
        [
            "Staging admin password: {v} (rotate after {date})",
            "DB_PASSWORD={v} for the {project} backfill",
            "login is launch-bot / password={v}",
            "pwd: {v} — for the {team} demo account",
            'db_pass: "{v}"  # staging, port {port}',
        ],
    ),
    "SECRET/api_key_field": (
        "SECRET",
        lambda r: values.chars(r, values.ALNUM, r.randint(24, 48)),
        [
            "api_key: {v} (test tenant for {project})",
            "export PARTNER_API_KEY={v}",
            "client_secret={v} for the {team} OAuth app",
            "Authorization: Bearer {v}",
            "x-api-key: {v} on the {version} webhook",
        ],
    ),
}
for _shape, _make in values.SECRET_SHAPES.items():
    _PII_KINDS[f"SECRET/{_shape}"] = (
        "SECRET",
        _make,
        [
            "Token for the {project} integration: {v} (rotate by {date})",
            "{team} bot uses {v} in {build}",
            "pasted from the runbook: {v}",
            "SLACK_TOKEN={v}" if _shape.startswith("slack") else "KEY={v}",
        ],
    )
_PII_KINDS["PERSON"] = ("PERSON", lambda r: "", [])  # filled from the roster below


_PERSON_TEMPLATES = [
    "{full} owns the {project} rollout ({ticket}).",
    "Ping {first} before the {time} deploy.",
    "{first}'s team signs off on {version} by {date}.",
    "cc {first} on {ticket}",
    "Thanks, {first}! The {build} looks good.",
    "Dr. {last} reviews the {project} privacy notes.",
    "{first} to confirm pricing ({price}) by {date}.",
    "Handover from {full} to {full2} on {date}.",
    "ask {first_lower} about {ticket}",
]


def roster(seed: int = SEED) -> list[str]:
    """The workspace's people for this corpus."""
    return values.roster(Random(seed + 2))


def pii_samples(per_kind: int = PER_KIND, seed: int = SEED) -> list[Sample]:
    """`per_kind` texts for each kind of personal data, each with its values labelled."""
    rng = Random(seed)
    people = roster(seed)
    samples: list[Sample] = []
    for kind, (entity, make, templates) in _PII_KINDS.items():
        count = per_kind if "/" not in kind else max(per_kind // 6, 30)
        for _ in range(count):
            if kind == "PERSON":
                samples.append(_person_sample(rng, people))
            else:
                samples.append(_sample(rng.choice(templates), rng, {"v": (kind, entity, make(rng))}))
    return samples


def _person_sample(rng: Random, people: list[str]) -> Sample:
    full, full2 = rng.sample(people, 2)
    first, last = full.split()[0], full.split()[-1]
    fields = {
        "full": ("PERSON", "PERSON", full),
        "full2": ("PERSON", "PERSON", full2),
        "first": ("PERSON", "PERSON", first),
        "last": ("PERSON", "PERSON", last),
        "first_lower": ("PERSON", "PERSON", first.lower()),
    }
    return _sample(rng.choice(_PERSON_TEMPLATES), rng, fields)


def _sample(template: str, rng: Random, labelled: dict[str, tuple[str, str, str]]) -> Sample:
    """Fill a template; labelled slots are recorded as spans, the rest are ordinary launch text."""
    out: list[str] = []
    spans: list[Span] = []
    position = 0
    rest = template
    while "{" in rest:
        head, _, tail = rest.partition("{")
        slot, _, rest = tail.partition("}")
        out.append(head)
        position += len(head)
        if slot in labelled:
            kind, entity, value = labelled[slot]
            spans.append(Span(kind, entity, position, position + len(value)))
        else:
            value = SLOTS[slot](rng)
        out.append(value)
        position += len(value)
    out.append(rest)
    return Sample("".join(out), tuple(spans))


def kinds() -> list[str]:
    return list(_PII_KINDS)
