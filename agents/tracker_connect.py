"""Adding a tracker connection: the form's fields checked, the credentials proven with one cheap API call, then
stored encrypted with an audit entry. Whatever a person can fix comes back as a field error by block id."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from agents.tracker_sync import encrypt_secrets
from integrations.tracker_http import PermanentError, RequestError, TrackerError, TransientError
from integrations.trackers import TrackerClient, build_client
from storage.audit import AuditLog
from storage.db import Database
from storage.scope import Scope
from storage.trackers import TrackerConnection, TrackerKind, TrackerRepository

CONNECTED = "tracker.connected"
# A modal submission must be answered within 3 seconds; the check gets most of that.
CHECK_TIMEOUT_S = 2.2
SECRET_FIELDS = {TrackerKind.LINEAR: ("api_key",), TrackerKind.JIRA: ("email", "api_token"),
                 TrackerKind.NOTION: ("token",), TrackerKind.ASANA: ("token",)}
SETTING_FIELDS = {TrackerKind.LINEAR: ("team_id",), TrackerKind.JIRA: ("site", "project_key"),
                  TrackerKind.NOTION: ("database_id",), TrackerKind.ASANA: ("project_gid",)}
LABEL = {"linear": "Linear", "jira": "Jira", "notion": "Notion", "asana": "Asana"}
# The field a refusal of the request itself (not of the key) points at.
TARGET_FIELD = {"linear": "team_id", "jira": "site", "notion": "database_id", "asana": "project_gid"}
JIRA_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,9}$")
# A Notion database id: 32 hex digits, with or without dashes, alone or at the end of the database's link.
NOTION_ID = re.compile(r"(?<![0-9a-f])([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})"
                       r"(?![0-9a-f])", re.I)
# An Asana project gid: digits, alone or in the project's link (app.asana.com/0/PROJECT/... or /project/PROJECT/).
ASANA_GID = re.compile(r"^(?:https://app\.asana\.com/(?:0|1/\d+/project)/)?(\d{6,20})(?:[/?#].*)?$")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
ClientBuilder = Callable[[str, dict[str, str], dict[str, Any]], TrackerClient]


@dataclass(frozen=True)
class Connected:
    connection_id: int
    kind: str
    name: str
    # The status webhook's signing secret (Linear, Jira), shown once to the Admin who connected; None where the
    # tracker hands its own over in a handshake (Notion, Asana).
    webhook_secret: str | None = None
    webhook_path: str = ""


def connectable(kind: str) -> bool:
    return kind in SECRET_FIELDS


def read_fields(kind: str, values: dict[str, str]) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(secrets, settings, field errors) from the modal's values, trimmed; NUL is never meant and is dropped."""
    clean = {k: (v or "").replace("\x00", "").strip() for k, v in values.items()}
    kind = TrackerKind(kind)
    errors = {name: "Required." for name in SECRET_FIELDS[kind] + SETTING_FIELDS[kind] if not clean.get(name)}
    secrets = {name: clean.get(name, "") for name in SECRET_FIELDS[kind]}
    settings = {name: clean.get(name, "") for name in SETTING_FIELDS[kind]}
    if kind == TrackerKind.JIRA:
        settings["project_key"] = settings["project_key"].upper()
        site = urlparse(settings["site"])
        secure = site.scheme == "https" or (site.scheme == "http" and site.hostname in LOCAL_HOSTS)
        if settings["site"] and (not secure or not site.hostname):
            errors["site"] = "Give the site's https address, e.g. https://yourcompany.atlassian.net."
        settings["site"] = f"{site.scheme}://{site.netloc}" if site.netloc else settings["site"]
        if settings["project_key"] and not JIRA_PROJECT_KEY.match(settings["project_key"]):
            errors["project_key"] = "A Jira project key is 2 to 10 capital letters or digits, e.g. LIF."
        if secrets["email"] and "@" not in secrets["email"]:
            errors["email"] = "Give the email address of the Atlassian account the API token belongs to."
    if kind == TrackerKind.NOTION and settings["database_id"]:
        found = NOTION_ID.findall(settings["database_id"].split("?")[0])
        if found:
            settings["database_id"] = "-".join(found[-1]).lower()
        else:
            errors["database_id"] = "Give the database's id (32 letters and digits) or its link from Notion."
    if kind == TrackerKind.ASANA and settings["project_gid"]:
        gid = ASANA_GID.match(settings["project_gid"])
        if gid:
            settings["project_gid"] = gid.group(1)
        else:
            errors["project_gid"] = "Give the project's gid (the number in its link) or the link itself."
    return secrets, settings, errors


async def check_credentials(kind: str, secrets: dict[str, str], settings: dict[str, Any], *,
                            build: ClientBuilder = build_client) -> str | dict[str, str]:
    """The tracker's name for the team or project, or field errors: one call, bounded by CHECK_TIMEOUT_S."""
    client = build(kind, secrets, settings)
    label = LABEL[kind]
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            return await client.check()
    except PermanentError as exc:
        return _refusal(kind, exc)
    except (TransientError, TimeoutError) as exc:
        first = (SETTING_FIELDS if kind == TrackerKind.JIRA else SECRET_FIELDS)[TrackerKind(kind)][0]
        return {first: f"{label} did not answer in time ({_short(exc)}). Nothing was saved; please try again."}
    except (RequestError, TrackerError) as exc:
        return {TARGET_FIELD[kind]: f"{label} rejected the request: {_short(exc)}"}
    finally:
        await client.aclose()


def _refusal(kind: str, exc: PermanentError) -> dict[str, str]:
    if kind == TrackerKind.LINEAR:
        if exc.status == 404:
            return {"team_id": "Linear has no team with this id that this key can see."}
        return {"api_key": "Linear refused this API key. Check it, or create a new personal API key."}
    if kind == TrackerKind.NOTION:
        if exc.status == 404:
            return {"database_id": "Notion has no database with this id shared with this integration. Open the "
                    "database, then ••• > Connections, and add the integration."}
        if exc.status == 422:
            return {"database_id": f"This database cannot hold Liftoff's tasks: {_short(exc)}."}
        return {"token": "Notion refused this integration token. Check it, or create a new internal integration."}
    if kind == TrackerKind.ASANA:
        if exc.status == 404:
            return {"project_gid": "Asana has no open project with this gid that this token can see."}
        return {"token": "Asana refused this personal access token. Check it, or create a new one."}
    if exc.status == 404:
        return {"project_key": "Jira has no project with this key that this account can see."}
    if exc.status == 403:
        return {"api_token": "This account may not use the project's API. Ask a Jira admin for access."}
    return {"api_token": "Jira refused this email and API token. Check both, or create a new API token."}


def _short(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:150]


async def save_connection(db: Database, scope: Scope, actor_id: str, kind: str, name: str,
                          secrets: dict[str, str], settings: dict[str, Any], *, encryption_key: str) -> Connected:
    """Store the connection, its secrets encrypted, and an audit entry that names no secret."""
    async with db.session() as session:
        row: TrackerConnection = await TrackerRepository(session, scope).add_connection(
            kind=TrackerKind(kind), name=name[:200], credentials=encrypt_secrets(encryption_key, secrets),
            settings=settings, created_by=actor_id)
        await AuditLog(session, scope).append(
            actor=actor_id, action=CONNECTED, target=f"tracker:{row.id}", before=None,
            after={"kind": kind, "name": row.name, "settings": settings, "secrets": sorted(secrets)})
        from agents.tracker_inbound import GENERATED_SECRET, create_webhook_secret, webhook_path

        secret = await create_webhook_secret(session, scope, row.id, encryption_key=encryption_key) \
            if kind in GENERATED_SECRET else None
        return Connected(row.id, kind, row.name, secret, webhook_path(kind, row.id))


async def connect(db: Database, scope: Scope, actor_id: str, kind: str, values: dict[str, str], *,
                  encryption_key: str, build: ClientBuilder = build_client) -> Connected | dict[str, str]:
    """The whole submission: fields, the credential check, then the save; field errors when anything is off."""
    secrets, settings, errors = read_fields(kind, values)
    if errors:
        return errors
    checked = await check_credentials(kind, secrets, settings, build=build)
    if isinstance(checked, dict):
        return checked
    return await save_connection(db, scope, actor_id, kind, checked, secrets, settings, encryption_key=encryption_key)


CHOSEN = "launch.tracker_chosen"
NONE = "none"


def pick_connection(connections: list[TrackerConnection], wanted: str) -> TrackerConnection | str | None:
    """The connection `wanted` names (its kind when only one has it, or its name); None for "none"; else a message."""
    wanted = wanted.strip().casefold()
    if wanted == NONE:
        return None
    by_name = [c for c in connections if c.name.casefold() == wanted]
    by_kind = [c for c in connections if c.kind == wanted]
    if len(by_name) == 1:
        return by_name[0]
    if len(by_kind) == 1:
        return by_kind[0]
    names = ", ".join(f"{c.kind} *{c.name}*" for c in connections) or \
        "none yet (`/launch connect linear|jira|notion|asana`)"
    if len(by_kind) > 1:
        return f"More than one {wanted} connection: name one of them. Connected: {names}."
    return f"No tracker connection called {wanted!r}. Connected: {names}."


async def choose_tracker(db: Database, scope: Scope, actor_id: str, launch_id: int,
                         connection: TrackerConnection | None) -> None:
    """The launch syncs to `connection` (or nowhere); its tasks are queued for it in the same transaction."""
    from agents.tracker_sync import queue_launch

    async with db.session() as session:
        trackers = TrackerRepository(session, scope)
        before = await trackers.launch_connection(launch_id)
        await trackers.choose(launch_id, connection.id if connection is not None else None)
        await AuditLog(session, scope).append(
            actor=actor_id, action=CHOSEN, target=f"launch:{launch_id}",
            before={"tracker": before.id if before is not None else None},
            after={"tracker": connection.id if connection is not None else None})
        if connection is not None:
            await queue_launch(session, scope, launch_id)
