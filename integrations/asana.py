"""Asana over REST API 1.0: a task is an Asana task in the connection's project.

- Idempotency marker: Asana's `external` field would do, but it needs OAuth and a connection here uses a personal
  access token, so the marker is the last line of the task's notes, found by listing the project's tasks
  (`GET /tasks?project=`, paginated) and reading their notes.
- Status: Asana has only `completed`. A task is completed when done; its other states are sections of the project
  ("To do", "In progress", "Blocked", "Done", matched by name, created when missing: the spec makes a task's
  memberships read-only, so a created task is moved with `POST /sections/{gid}/addTask`). status_of and
  changed_since read the state back the same way: completed is done, otherwise the section's state, else todo.
- No built-in priority (custom fields need a paid plan): the priority is the first line of the notes.
- Owner: the assignee, a user gid found with `GET /users/{email}` (the spec lets the path name a user by email)
  filtered on the project's workspace (read once per client); no such user leaves the task unassigned.
- Dependencies: `POST /tasks/{gid}/addDependencies` (the blocker is the dependency), read with
  `GET /tasks/{gid}/dependencies`. 429 carries Retry-After, which the shared HTTP layer honours.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from integrations.tracker_http import HttpTracker, PermanentError, RequestError, TokenBucket
from integrations.tracker_owner import OwnerDirectory
from integrations.trackers import RemoteChange, RemoteItem, RemoteTask

API_URL = "https://app.asana.com/api/1.0"
PAGE_SIZE = "100"
SECTION_NAMES = {"todo": "To do", "in_progress": "In progress", "blocked": "Blocked", "done": "Done"}
SECTION_STATUS = {"to do": "todo", "todo": "todo", "not started": "todo", "backlog": "todo",
                  "in progress": "in_progress", "doing": "in_progress", "blocked": "blocked",
                  "done": "done", "complete": "done", "completed": "done"}
STATE_FIELDS = "completed,modified_at,memberships.project,memberships.section.name"


class AsanaClient:
    kind = "asana"
    supports_dependencies = True
    creates_with_status = False

    def __init__(self, token: str, project_gid: str, *, rate: float, timeout_s: float = 30.0,
                 base_url: str = API_URL) -> None:
        self.project_gid = project_gid
        self.http = HttpTracker(base_url, {"Authorization": f"Bearer {token}", "Accept": "application/json"},
                                TokenBucket(rate), timeout_s)
        self._sections: dict[str, str] | None = None  # our status -> section gid
        self._sections_lock = asyncio.Lock()  # concurrent workers must not each create the missing sections
        self.owners = OwnerDirectory(self._user_gid)
        self._workspace: str | None = None  # the project's workspace gid, read with the first owner lookup
        self._workspace_lock = asyncio.Lock()

    async def data(self, method: str, path: str, *, body: dict[str, Any] | None = None,
                   params: dict[str, str] | None = None, project_call: bool = False) -> Any:
        """One call; Asana wraps bodies and answers in {"data": ...}. A 404 on a project call means the project is
        gone (or hidden from this token), which will not heal."""
        permanent = frozenset({401, 403, 404}) if project_call else frozenset({401, 403})
        answer = await self.http.call(method, path, json={"data": body} if body is not None else None,
                                      params=params, permanent=permanent)
        return (answer or {}).get("data")

    async def check(self) -> str:
        project = await self.data("GET", f"/projects/{self.project_gid}", params={"opt_fields": "name,archived"},
                                  project_call=True)
        if (project or {}).get("archived"):
            raise PermanentError("the Asana project is archived", status=404)
        return str((project or {}).get("name") or f"project {self.project_gid}")

    async def find(self, marker: str) -> RemoteItem | None:
        async for task in self._project_tasks({"opt_fields": "name,notes,permalink_url"}):
            if marker in str(task.get("notes") or ""):
                return self._item(task)
        return None

    async def create(self, task: RemoteTask) -> RemoteItem:
        fields = {**await self._content(task), "completed": task.status == "done", "projects": [self.project_gid]}
        created = await self.data("POST", "/tasks", body=fields, params={"opt_fields": "name,permalink_url"},
                                  project_call=True)
        item = self._item(created)
        await self._move(item.id, task.status)
        return item

    async def update(self, item_id: str, task: RemoteTask, *, content: bool, status: bool) -> None:
        fields = {**(await self._content(task) if content else {}),
                  **({"completed": task.status == "done"} if status else {})}
        if fields:
            await self.data("PUT", f"/tasks/{item_id}", body=fields, params={"opt_fields": "completed"})
        if status:
            await self._move(item_id, task.status)

    async def close(self, item_id: str) -> None:
        await self.data("PUT", f"/tasks/{item_id}", body={"completed": True}, params={"opt_fields": "completed"})

    async def has_blocker(self, item_id: str, blocker_id: str) -> bool:
        params = {"limit": PAGE_SIZE, "opt_fields": "name"}
        while True:
            answer = await self.http.call("GET", f"/tasks/{item_id}/dependencies", params=params)
            if any(str(t.get("gid")) == blocker_id for t in (answer or {}).get("data") or []):
                return True
            offset = ((answer or {}).get("next_page") or {}).get("offset")
            if not offset:
                return False
            params = {**params, "offset": str(offset)}

    async def add_blocker(self, item_id: str, blocker_id: str) -> None:
        await self.data("POST", f"/tasks/{item_id}/addDependencies", body={"dependencies": [blocker_id]})

    async def status_of(self, item_id: str) -> RemoteChange | None:
        try:
            task = await self.data("GET", f"/tasks/{item_id}", params={"opt_fields": STATE_FIELDS})
        except RequestError as exc:
            if exc.status == 404:
                return None
            raise
        return self._change(task)

    async def changed_since(self, since: datetime) -> list[RemoteChange]:
        changes = []
        async for task in self._project_tasks({"modified_since": _iso(since), "opt_fields": STATE_FIELDS}):
            change = self._change(task)
            if change is not None:
                changes.append(change)
        return changes

    async def aclose(self) -> None:
        await self.http.close()

    async def _content(self, task: RemoteTask) -> dict[str, Any]:
        return {**_content(task), "assignee": await self.owners.user_id(task.owner_email)}

    async def _user_gid(self, email: str) -> str | None:
        """The gid of the workspace's user with this email; a 404 (no such user) is None (tracker_owner.py)."""
        async with self._workspace_lock:
            if self._workspace is None:
                project = await self.data("GET", f"/projects/{self.project_gid}", params={"opt_fields": "workspace"},
                                          project_call=True)
                self._workspace = str(((project or {}).get("workspace") or {}).get("gid") or "")
        params = {"opt_fields": "name"} | ({"workspace": self._workspace} if self._workspace else {})
        answer = await self.http.call("GET", f"/users/{quote(email, safe='@')}", params=params,
                                      permanent=frozenset({401}))
        return str(((answer or {}).get("data") or {}).get("gid") or "") or None

    async def _project_tasks(self, params: dict[str, str]) -> Any:
        """The project's tasks, page after page."""
        params = {"project": self.project_gid, "limit": PAGE_SIZE, **params}
        while True:
            answer = await self.http.call("GET", "/tasks", params=params, permanent=frozenset({401, 403, 404}))
            for task in (answer or {}).get("data") or []:
                yield task
            offset = ((answer or {}).get("next_page") or {}).get("offset")
            if not offset:
                return
            params = {**params, "offset": str(offset)}

    async def _move(self, item_id: str, status: str) -> None:
        """Put the task in its status's section."""
        sections = await self._status_sections()
        await self.data("POST", f"/sections/{sections[status]}/addTask", body={"task": item_id})

    async def _status_sections(self) -> dict[str, str]:
        """The project's section per status, matched by name; missing ones are made once."""
        async with self._sections_lock:
            if self._sections is None:
                self._sections = await self._load_sections()
        return self._sections

    async def _load_sections(self) -> dict[str, str]:
        found: dict[str, str] = {}
        params = {"limit": PAGE_SIZE, "opt_fields": "name"}
        while True:
            answer = await self.http.call("GET", f"/projects/{self.project_gid}/sections", params=params,
                                          permanent=frozenset({401, 403, 404}))
            for section in (answer or {}).get("data") or []:
                status = SECTION_STATUS.get(str(section.get("name", "")).strip().casefold())
                if status is not None:
                    found.setdefault(status, str(section["gid"]))
            offset = ((answer or {}).get("next_page") or {}).get("offset")
            if not offset:
                break
            params = {**params, "offset": str(offset)}
        for status, name in SECTION_NAMES.items():
            if status not in found:
                section = await self.data("POST", f"/projects/{self.project_gid}/sections", body={"name": name},
                                          params={"opt_fields": "name"}, project_call=True)
                found[status] = str(section["gid"])
        return found

    def _change(self, task: Any) -> RemoteChange | None:
        if not isinstance(task, dict) or not task.get("modified_at"):
            return None
        status = "done" if task.get("completed") else "todo"
        if status != "done":
            for membership in task.get("memberships") or []:
                if str((membership.get("project") or {}).get("gid")) == self.project_gid:
                    name = str((membership.get("section") or {}).get("name") or "").strip().casefold()
                    status = SECTION_STATUS.get(name, status)
                    if status == "done":  # in the Done section but reopened: it is being worked on again
                        status = "in_progress"
        changed = datetime.fromisoformat(str(task["modified_at"]).replace("Z", "+00:00"))
        return RemoteChange(item_id=str(task["gid"]), status=status, changed_at=changed)

    def _item(self, task: Any) -> RemoteItem:
        if not isinstance(task, dict) or "gid" not in task:
            raise RequestError(f"Asana answered without a task: {str(task)[:200]}")
        gid = str(task["gid"])
        url = str(task.get("permalink_url") or f"https://app.asana.com/0/{self.project_gid}/{gid}")
        return RemoteItem(id=gid, key=gid, url=url)


def _content(task: RemoteTask) -> dict[str, Any]:
    return {"name": task.title[:1024], "notes": f"Priority: {task.priority}\n\n{task.description}",
            "due_on": task.due.isoformat() if task.due else None}


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
