"""The ordinary parts of launch-planning text, for the PII corpus: none of it is personal data.

Versions, dates, tickets, prices, durations, SKUs, build numbers, metrics, public doc URLs, ports,
times, and sentences that start with words that are also names ("Will", "May", "Grant"). Each slot
generator takes the corpus's `random.Random`; `fill` expands the `{slot}`s of a template.
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random

try:
    from bench import pii_values as values
except ImportError:  # run as a script from inside bench/
    import pii_values as values  # type: ignore[no-redef]

_TEAMS = ["Payments", "Mobile", "Growth", "Platform", "Billing", "Search", "Onboarding", "Data"]
_PROJECTS = ["Atlas", "Nimbus", "Checkout 2.0", "Pro plan", "Teams tier", "dark mode", "SSO", "offline sync"]
_DOC_URLS = [
    "https://docs.stripe.com/api/charges",
    "https://developer.apple.com/app-store/review/guidelines/",
    "https://kubernetes.io/docs/concepts/workloads/controllers/deployment/",
    "https://support.google.com/googleplay/android-developer/answer/9859152",
    "https://www.rfc-editor.org/rfc/rfc9110.html",
    "https://docs.github.com/en/actions/deployment",
    "https://learn.microsoft.com/en-us/azure/frontdoor/",
    "https://slack.com/help/articles/115004071768",
    "docs.acme.com/launch/checklist",
    "https://status.acme.com",
]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _version(r: Random) -> str:
    shapes = [
        f"v{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 30)}",
        f"{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 9)}-rc.{r.randint(1, 5)}",
        f"v{r.randint(1, 4)}.{r.randint(0, 9)}",
        f"{r.randint(1, 3)}.{r.randint(0, 40)}.{r.randint(0, 9)}.{r.randint(100, 9999)}",
    ]
    return r.choice(shapes)


def _date(r: Random) -> str:
    y, m, d = r.randint(2024, 2027), r.randint(1, 12), r.randint(1, 28)
    shapes = [
        f"{y}-{m:02d}-{d:02d}",
        f"{m:02d}/{d:02d}/{y}",
        f"{_MONTHS[m - 1]} {d}",
        f"{d} {_MONTHS[m - 1]} {y}",
        f"Q{r.randint(1, 4)} {y}",
        f"{d}.{m:02d}.{y}",
        f"week {r.randint(1, 52)}",
    ]
    return r.choice(shapes)


def _ticket(r: Random) -> str:
    return f"{r.choice(['ENG', 'MOB', 'PAY', 'OPS', 'GROW', 'SEC', 'DATA'])}-{r.randint(10, 19999)}"


def _price(r: Random) -> str:
    shapes = [
        f"${r.randint(1, 499)}.{r.choice(['99', '00', '49'])}",
        f"€{r.randint(5, 90)}",
        f"£{r.randint(3, 60)}.50/mo",
        f"${r.randint(1, 9)},{r.randint(100, 999)},000 ARR",
        f"${r.randint(10, 900)}k",
    ]
    return r.choice(shapes)


def _duration(r: Random) -> str:
    return r.choice(
        [
            f"{r.randint(2, 6)} weeks",
            f"{r.randint(1, 10)}d",
            f"{r.randint(15, 120)} min",
            f"{r.randint(24, 96)}h",
            f"{r.randint(2, 9)} sprints",
            "half a day",
        ]
    )


def _sku(r: Random) -> str:
    return r.choice(
        [
            f"SKU LP-{r.randint(2023, 2026)}-{r.choice(['BLK', 'WHT', 'RED'])}-{r.randint(1, 99):02d}",
            f"SKU {r.randint(10000, 99999)}-{r.randint(1, 9):02d}",
            f"item #{r.randint(100, 99999)}",
        ]
    )


def _build(r: Random) -> str:
    y, m, d = r.randint(2024, 2026), r.randint(1, 12), r.randint(1, 28)
    return r.choice(
        [
            f"build {y}{m:02d}{d:02d}.{r.randint(1, 9)}",
            f"build #{r.randint(100, 99999)}",
            f"build {r.randint(1000, 9999)}",
            f"build {y}{m:02d}{d:02d}",
        ]
    )


def _metric(r: Random) -> str:
    return r.choice(
        [
            f"{r.randint(1, 99)}%",
            f"{r.randint(1, 9)}.{r.randint(1, 9)}%",
            f"p95 under {r.randint(100, 900)} ms",
            f"{r.randint(1, 9)}.{r.randint(1, 9)}M users",
            f"{r.randint(100, 5000)} RPS",
            f"error rate below 0.{r.randint(1, 9)}%",
            f"{r.randint(2, 40)},{r.randint(100, 999)} sign-ups",
            f"NPS {r.randint(20, 70)}",
            f"{r.randint(3, 12)} of {r.randint(12, 20)} tasks",
        ]
    )


SLOTS: dict[str, Callable[[Random], str]] = {
    "version": _version,
    "date": _date,
    "ticket": _ticket,
    "price": _price,
    "duration": _duration,
    "sku": _sku,
    "build": _build,
    "metric": _metric,
    "url": lambda r: r.choice(_DOC_URLS),
    "team": lambda r: r.choice(_TEAMS),
    "project": lambda r: r.choice(_PROJECTS),
    "pr": lambda r: f"PR #{r.randint(100, 9999)}",
    "commit": lambda r: values.chars(r, values.HEX, 7),
    "os": lambda r: r.choice(
        ["iOS 17.5", "Android 14", "macOS 14.5", "Chrome 126.0.6478.61", "Node 20.11.1"]
    ),
    "port": lambda r: str(r.choice([443, 8080, 5432, 6379, 3000])),
    "time": lambda r: (
        f"{r.randint(8, 18)}:{r.choice(['00', '15', '30', '45'])} {r.choice(['PT', 'UTC', 'CET'])}"
    ),
}

CLEAN_TEMPLATES = [
    "Ship {version} of {project} to {metric} of users on {date}; rollback plan in {ticket}.",
    "{team}: QA sign-off for {build} is due {date}, estimate {duration}.",
    "Pricing for {project} moves to {price} starting {date} (see {ticket}).",
    "Update the launch checklist at {url} before {time} on {date}.",
    "Will the {team} team be ready? Target is {metric} by {date}.",
    "May release: {project} {version} behind a feature flag, ramp to {metric} over {duration}.",
    "Grant program copy review in {ticket}; legal needs {duration}.",
    "Price change for the {project} annual plan: {price}, effective {date}.",
    "Mark {ticket} done once {build} passes the smoke tests on {os}.",
    "Page the on-call if {metric} is missed after the {time} deploy.",
    "Long-running migration for {project}: {duration}, batch size 5,000, see {pr}.",
    "Park the {project} beta until {ticket} lands; revisit in {duration}.",
    "Password reset flow: new copy ships in {version}, owner team {team}, {ticket}.",
    "Rotate the API key for the {team} webhook before {date}; runbook at {url}.",
    "Secrets move to the vault in {ticket}; no change for {project} users.",
    "Token budget for the assistant: 4,096 per request, {metric} cache hit rate.",
    "Open port {port} on the staging load balancer for {project} ({ticket}).",
    "Cherry-pick {commit} into release/{version} and tag {build}.",
    "App Store review for {version} takes about {duration}; guidelines: {url}.",
    "{sku} sells at {price} in the launch bundle; stock check on {date}.",
    "Dry run of the {project} cutover at {time} on {date}, {duration} window.",
    "Support macro for {project}: link {url} and mention {ticket}.",
    "{team} retro on {date}: {metric}, two incidents, {ticket} and {ticket}.",
    "Merge {pr} after {build} is green; it bumps {project} to {version}.",
    "Beta feedback: {metric}; top issue {ticket} on {os}.",
    "Budget for launch ads is {price}, split over {duration}.",
    "June campaign for {project} starts {date}; creative due in {duration}.",
    "Rose-gold {sku} is back in stock for the {project} promo at {price}.",
    "Phase 2 of {project} starts {date} at {time}; freeze for {duration} before it.",
    "Load test at {metric} against {build}; results in {ticket}.",
    "Localization for {project} covers 14 locales; strings frozen {date}.",
    "Docs: {url} needs an update for {version} ({ticket}).",
    "The {project} waitlist passed {metric}; open invites on {date}.",
    "Hotfix {version} for {ticket}, {duration} to verify on {os}.",
    "Young users (13-17) are out of scope for {project} until {date}.",
    "Chase legal for the {project} terms by {date}; {ticket} tracks it.",
    "Incident window {date} 10:30-11:45 UTC; 1,204,331 requests failed ({ticket}).",
    "Feature flag checkout_v2 (id 3f2b9c1e-8a4d-4c2e-9b7a-1d2e3f4a5b6c) ramps to {metric}.",
    "Brand color #1A73E8 on the {project} banner; assets in {url}.",
    "Patch CVE-2024-3094 in {build} before {date}.",
    "Cutover at epoch 1718064000; the bridge opens 15 min early.",
    "Support hours Mon-Fri 9:00-17:00 CET; phone queue target is 30 s for {project}.",
    "Order #100234567 was the first pre-order; ship by {date}.",
    "Call with the procurement team on {date} at {time} about {project}.",
    "Contact form conversion is {metric}; sales callbacks within 24h.",
    "Resize images to 1200x630 for the {project} social cards.",
    "ZIP codes 94107 and 10001 get same-day delivery in the pilot.",
    "Token: use the staging bot from the vault, not a personal one ({ticket}).",
    "Password: required, min 12 chars, checked against the breach list in {version}.",
    "Set TTL to 86400 s and max-age=31536000 on the CDN for {project}.",
    "Run the mock server on localhost:3000 (127.0.0.1), prod listens on {port}.",
    "SDK 2.1.0.5 drops support for {os}; migration guide at {url}.",
    "Text the launch code word to the war room only after {ticket} closes.",
    "Invoice INV-2024-00831 for {price} is approved; payment terms net 30.",
    "Account managers brief the top 50 accounts by {date}; deck in {ticket}.",
]


def fill(template: str, rng: Random) -> str:
    """The template with each `{slot}` replaced by a fresh value."""
    out, rest = [], template
    while "{" in rest:
        head, _, tail = rest.partition("{")
        slot, _, rest = tail.partition("}")
        out.append(head + SLOTS[slot](rng))
    return "".join(out) + rest
