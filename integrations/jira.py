"""Jira Cloud over REST v3: issues, transitions by status category, and "Blocks" issue links.

The idempotency marker is a label on the issue (labels cannot hold ':' or spaces, so it is the marker with
'-'), found with a JQL search. Auth is basic: the account's email and an API token.
"""

from __future__ import annotations

import base64
import math
from datetime import UTC, datetime
from typing import Any

from integrations.tracker_http import HttpTracker, PermanentError, RequestError, TokenBucket
from integrations.tracker_owner import OwnerDirectory
from integrations.trackers import RemoteChange, RemoteItem, RemoteTask

API = "/rest/api/3"
PRIORITY = {"P0": "Highest", "P1": "High", "P2": "Medium", "P3": "Low"}
# Our status -> Jira status category key (new, indeterminate, done).
CATEGORY = {"todo": "new", "in_progress": "indeterminate", "blocked": "indeterminate", "done": "done"}
# Jira status category key -> our status.
STATUS_OF_CATEGORY = {"new": "todo", "indeterminate": "in_progress", "done": "done"}
LINK_TYPE = "Blocks"
PAGE = 100


def marker_label(marker: str) -> str:
    return marker.strip("[]").replace(":", "-").replace(" ", "-")


class JiraClient:
    kind = "jira"
    supports_dependencies = True
    creates_with_status = False

    def __init__(self, site: str, email: str, api_token: str, project_key: str, *, rate: float,
                 timeout_s: float = 30.0) -> None:
        self.site = site.rstrip("/")
        self.project_key = project_key
        auth = base64.b64encode(f"{email}:{api_token}".encode()).decode()
        self.http = HttpTracker(self.site, {"Authorization": f"Basic {auth}", "Accept": "application/json"},
                                TokenBucket(rate), timeout_s)
        self.owners = OwnerDirectory(self._account_id)

    async def check(self) -> str:
        # 404 here means the project is gone (or hidden from this account): that will not heal either.
        project = await self.http.call("GET", f"{API}/project/{self.project_key}",
                                       permanent=frozenset({401, 403, 404}))
        return f"{project.get('name', self.project_key)} ({project.get('key', self.project_key)})"

    async def find(self, marker: str) -> RemoteItem | None:
        jql = f'project = "{self.project_key}" AND labels = "{marker_label(marker)}"'
        body = await self.http.call("GET", f"{API}/search", params={"jql": jql, "maxResults": "2", "fields": "summary"})
        issues = (body or {}).get("issues") or []
        return self._item(issues[0]) if issues else None

    async def create(self, task: RemoteTask) -> RemoteItem:
        fields = {"project": {"key": self.project_key}, "issuetype": {"name": "Task"},
                  "labels": [marker_label(task.marker)], **await self._content(task)}
        if fields.get("assignee") is None:
            fields.pop("assignee", None)  # unassigned: the project's default assignee rule decides
        # A 404 on create means the project was deleted: stop the destination.
        body = await self.http.call("POST", f"{API}/issue", json={"fields": fields},
                                    permanent=frozenset({401, 403, 404}))
        item = self._item(body)
        if task.status != "todo":
            await self._transition(item.id, task.status)
        return item

    async def update(self, item_id: str, task: RemoteTask, *, content: bool, status: bool) -> None:
        if content:
            await self.http.call("PUT", f"{API}/issue/{item_id}", json={"fields": await self._content(task)})
        if status:
            await self._transition(item_id, task.status)

    async def close(self, item_id: str) -> None:
        await self._transition(item_id, "done")

    async def has_blocker(self, item_id: str, blocker_id: str) -> bool:
        body = await self.http.call("GET", f"{API}/issue/{item_id}", params={"fields": "issuelinks"})
        links = ((body or {}).get("fields") or {}).get("issuelinks") or []
        return any(link.get("type", {}).get("name") == LINK_TYPE and
                   str((link.get("inwardIssue") or {}).get("id")) == blocker_id for link in links)

    async def add_blocker(self, item_id: str, blocker_id: str) -> None:
        # The inward issue of a "Blocks" link is the blocker ("is blocked by" is read from the outward one).
        await self.http.call("POST", f"{API}/issueLink", json={
            "type": {"name": LINK_TYPE}, "inwardIssue": {"id": blocker_id}, "outwardIssue": {"id": item_id}})

    async def status_of(self, item_id: str) -> RemoteChange | None:
        try:
            body = await self.http.call("GET", f"{API}/issue/{item_id}", params={"fields": "status,updated"})
        except RequestError as exc:
            if ": 404 " in str(exc):
                return None
            raise
        return change_of(body or {})

    async def changed_since(self, since: datetime) -> list[RemoteChange]:
        # JQL reads an absolute date in the Jira user's own time zone; a relative one ("-15m") is the same
        # everywhere. A minute more than asked: JQL compares to the minute.
        minutes = max(1, math.ceil((datetime.now(UTC) - since).total_seconds() / 60) + 1)
        jql = f'project = "{self.project_key}" AND updated >= "-{minutes}m" ORDER BY updated ASC'
        changes: list[RemoteChange] = []
        start = 0
        while True:
            body = await self.http.call("GET", f"{API}/search", params={
                "jql": jql, "startAt": str(start), "maxResults": str(PAGE), "fields": "status,updated"})
            issues = (body or {}).get("issues") or []
            changes += [change for change in map(change_of, issues) if change is not None]
            start += len(issues)
            if not issues or start >= int((body or {}).get("total") or 0):
                return changes

    async def count(self, jql: str) -> int:
        """How many issues `jql` matches: a search asking for no issues, only the total."""
        body = await self.http.call("GET", f"{API}/search", params={"jql": jql, "maxResults": "0"})
        total = (body or {}).get("total")
        if isinstance(total, bool) or not isinstance(total, int):
            raise RequestError(f"Jira answered a count without a total: {str(body)[:200]}")
        return total

    async def aclose(self) -> None:
        await self.http.close()

    async def _transition(self, item_id: str, status: str) -> None:
        wanted = CATEGORY.get(status, "new")
        body = await self.http.call("GET", f"{API}/issue/{item_id}/transitions")
        for transition in (body or {}).get("transitions") or []:
            category = ((transition.get("to") or {}).get("statusCategory") or {}).get("key")
            if category == wanted:
                await self.http.call("POST", f"{API}/issue/{item_id}/transitions",
                                     json={"transition": {"id": str(transition["id"])}})
                return
        raise RequestError(f"Jira issue {item_id} has no transition to a {wanted!r} status")

    async def _content(self, task: RemoteTask) -> dict[str, Any]:
        account = await self.owners.user_id(task.owner_email)
        return {"summary": task.title[:255], "description": _adf(task.description),
                "priority": {"name": PRIORITY.get(task.priority, "Medium")},
                "duedate": task.due.isoformat() if task.due else None,
                "assignee": {"accountId": account} if account else None}

    async def _account_id(self, email: str) -> str | None:
        """The account whose email is `email`. User search matches a prefix of the display name or the email, and
        hides the email of people who chose so: an exact email match wins, else a single person found."""
        found = await self.http.call("GET", f"{API}/user/search", params={"query": email, "maxResults": "10"},
                                     permanent=frozenset({401}))
        people = [u for u in found or [] if isinstance(u, dict) and u.get("accountId")
                  and u.get("accountType", "atlassian") == "atlassian" and u.get("active", True)]
        exact = [u for u in people if str(u.get("emailAddress") or "").casefold() == email]
        if exact:
            return str(exact[0]["accountId"])
        hidden = [u for u in people if not u.get("emailAddress")]
        return str(hidden[0]["accountId"]) if len(people) == len(hidden) == 1 else None

    def _item(self, body: Any) -> RemoteItem:
        if not isinstance(body, dict) or "id" not in body:
            raise RequestError(f"Jira answered without an issue: {str(body)[:200]}")
        key = str(body.get("key", body["id"]))
        return RemoteItem(id=str(body["id"]), key=key, url=f"{self.site}/browse/{key}")


def change_of(issue: dict[str, Any]) -> RemoteChange | None:
    """An issue's id, its status category mapped to our status, and its `updated` time (a webhook's `issue` has
    the same shape)."""
    fields = issue.get("fields") or {}
    category = str(((fields.get("status") or {}).get("statusCategory") or {}).get("key") or "")
    status = STATUS_OF_CATEGORY.get(category)
    if status is None or not issue.get("id") or not fields.get("updated"):
        return None
    return RemoteChange(item_id=str(issue["id"]), status=status, changed_at=parse_time(str(fields["updated"])))


def parse_time(value: str) -> datetime:
    """Jira's "2026-11-23T10:15:30.000+0000" (or any ISO 8601 time) as an aware datetime."""
    try:
        at = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document: one paragraph per line."""
    paragraphs = [{"type": "paragraph", "content": [{"type": "text", "text": line}]}
                  for line in text.splitlines() if line.strip()]
    return {"type": "doc", "version": 1, "content": paragraphs}


__all__ = ["JiraClient", "PermanentError", "marker_label"]
