"""Tracker webhooks as they arrive: each tracker's signature scheme, and the items a payload names.

Linear: `Linear-Signature` is the hex HMAC-SHA256 of the raw body with the webhook's secret, and the body's
`webhookTimestamp` (milliseconds) must be within a minute. Jira: `X-Hub-Signature: sha256=<hex>` with the secret
set on the webhook. Notion: `X-Notion-Signature: sha256=<hex>` keyed with the verification_token Notion posted
once. Asana: the first request carries `X-Hook-Secret` (echoed back), later ones `X-Hook-Signature` (hex).
Linear and Jira send the new status; Notion and Asana only ids, so their items are fetched (status_of).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from integrations import jira, linear
from integrations.trackers import RemoteChange

MAX_AGE_S = 60.0
SHA256_PREFIX = "sha256="
LINEAR_SIGNATURE = "Linear-Signature"
JIRA_SIGNATURE = "X-Hub-Signature"
NOTION_SIGNATURE = "X-Notion-Signature"
ASANA_SIGNATURE = "X-Hook-Signature"
ASANA_HANDSHAKE = "X-Hook-Secret"
JIRA_ISSUE_EVENTS = {"jira:issue_updated", "jira:issue_created"}
ASANA_ACTIONS = {"changed", "added", "undeleted"}


class WebhookRefused(Exception):
    """A request that is not a valid webhook of this connection; `status` goes back (401, 400)."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class InboundItem:
    """A remote item a webhook names; `change` None: the payload lacks the status (fetch it)."""

    item_id: str
    change: RemoteChange | None = None


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_hex(secret: str, body: bytes, signature: str, *, prefix: str = "") -> None:
    """Raise WebhookRefused unless `signature` is `prefix` + the hex HMAC-SHA256 of the body."""
    if not signature.startswith(prefix) or not hmac.compare_digest(
            signature[len(prefix):].strip().lower(), sign(secret, body)):
        raise WebhookRefused("bad signature")


def load(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError as exc:
        raise WebhookRefused("the body is not JSON", status=400) from exc


def verify(kind: str, secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> Any:
    """The verified payload of a signed event (not a handshake); raises WebhookRefused."""
    if kind == "linear":
        check_hex(secret, body, headers.get(LINEAR_SIGNATURE, ""))
        payload = load(body)
        sent = payload.get("webhookTimestamp") if isinstance(payload, dict) else None
        if isinstance(sent, bool) or not isinstance(sent, int | float):
            raise WebhookRefused("no webhookTimestamp")
        if abs((now if now is not None else time.time()) - sent / 1000) > MAX_AGE_S:
            raise WebhookRefused("stale webhookTimestamp")
        return payload
    if kind == "jira":
        check_hex(secret, body, headers.get(JIRA_SIGNATURE, ""), prefix=SHA256_PREFIX)
    elif kind == "notion":
        check_hex(secret, body, headers.get(NOTION_SIGNATURE, ""), prefix=SHA256_PREFIX)
    elif kind == "asana":
        check_hex(secret, body, headers.get(ASANA_SIGNATURE, ""))
    else:
        raise WebhookRefused(f"no webhooks for {kind!r}", status=404)
    return load(body)


def items(kind: str, payload: Any) -> list[InboundItem]:
    """The items a verified payload is about (none for events that do not concern an item's status)."""
    if not isinstance(payload, dict):
        return []
    if kind == "linear":
        data = payload.get("data")
        if payload.get("type") != "Issue" or payload.get("action") == "remove" or not isinstance(data, dict):
            return []
        change = linear.change_of(data)
        return [InboundItem(change.item_id, change)] if change else []
    if kind == "jira":
        issue = payload.get("issue")
        if payload.get("webhookEvent") not in JIRA_ISSUE_EVENTS or not isinstance(issue, dict):
            return []
        change = jira.change_of(issue)
        return [InboundItem(change.item_id, change)] if change else []
    if kind == "notion":
        entity = payload.get("entity") or {}
        event = str(payload.get("type") or "")
        if entity.get("type") != "page" or not event.startswith("page.") or event == "page.deleted":
            return []
        return [InboundItem(str(entity["id"]))] if entity.get("id") else []
    if kind == "asana":
        found: dict[str, InboundItem] = {}
        for event in payload.get("events") or []:
            resource = (event or {}).get("resource") or {}
            if resource.get("resource_type") == "task" and event.get("action") in ASANA_ACTIONS and resource.get("gid"):
                found.setdefault(str(resource["gid"]), InboundItem(str(resource["gid"])))
        return list(found.values())
    return []


def notion_verification_token(payload: Any) -> str | None:
    """The one-time POST Notion sends when a subscription is made: {"verification_token": "secret_..."}."""
    if isinstance(payload, dict) and set(payload) == {"verification_token"}:
        token = payload["verification_token"]
        return token if isinstance(token, str) and 0 < len(token) <= 500 else None
    return None
