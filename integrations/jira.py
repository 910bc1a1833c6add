"""Jira Cloud over REST v3: issues, transitions by status category, and "Blocks" issue links.

The idempotency marker is a label on the issue (labels cannot hold ':' or spaces, so it is the marker with
'-'), found with a JQL search. Auth is basic: the account's email and an API token.
"""

from __future__ import annotations

import base64
from typing import Any

from integrations.tracker_http import HttpTracker, PermanentError, RequestError, TokenBucket
from integrations.trackers import RemoteItem, RemoteTask

API = "/rest/api/3"
PRIORITY = {"P0": "Highest", "P1": "High", "P2": "Medium", "P3": "Low"}
# Our status -> Jira status category key (new, indeterminate, done).
CATEGORY = {"todo": "new", "in_progress": "indeterminate", "blocked": "indeterminate", "done": "done"}
LINK_TYPE = "Blocks"


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
                  "labels": [marker_label(task.marker)], **self._content(task)}
        # A 404 on create means the project was deleted: stop the destination.
        body = await self.http.call("POST", f"{API}/issue", json={"fields": fields},
                                    permanent=frozenset({401, 403, 404}))
        item = self._item(body)
        if task.status != "todo":
            await self._transition(item.id, task.status)
        return item

    async def update(self, item_id: str, task: RemoteTask, *, content: bool, status: bool) -> None:
        if content:
            await self.http.call("PUT", f"{API}/issue/{item_id}", json={"fields": self._content(task)})
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

    def _content(self, task: RemoteTask) -> dict[str, Any]:
        return {"summary": task.title[:255], "description": _adf(task.description),
                "priority": {"name": PRIORITY.get(task.priority, "Medium")},
                "duedate": task.due.isoformat() if task.due else None}

    def _item(self, body: Any) -> RemoteItem:
        if not isinstance(body, dict) or "id" not in body:
            raise RequestError(f"Jira answered without an issue: {str(body)[:200]}")
        key = str(body.get("key", body["id"]))
        return RemoteItem(id=str(body["id"]), key=key, url=f"{self.site}/browse/{key}")


def _adf(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document: one paragraph per line."""
    paragraphs = [{"type": "paragraph", "content": [{"type": "text", "text": line}]}
                  for line in text.splitlines() if line.strip()]
    return {"type": "doc", "version": 1, "content": paragraphs}


__all__ = ["JiraClient", "PermanentError", "marker_label"]
