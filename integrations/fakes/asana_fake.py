"""A fake Asana REST API 1.0: every request is checked against Asana's OpenAPI document (path, method, query
parameters with their types and enums, and the body, where read-only fields are refused) before the fake acts on
it. Answers are wrapped in {"data": ...} and paginated with limit/offset and next_page, as Asana does. Faults come
from faults.Faults (429 carries Retry-After)."""

from __future__ import annotations

import base64
import functools
import itertools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml
from aiohttp import web

from integrations.fakes.faults import SPECS, FakeServer, Faults, serve
from integrations.fakes.openapi import OpenApi

PREFIX = "/api/1.0"
COMPACT = ("gid", "resource_type", "name")
MARKER = re.compile(r"\[liftoff:[^\]]+\]")
# The workspace's people, as a test seeds them: (gid, name, email).
USERS = [("1500000000000001", "Ann Owner", "ann@example.com"), ("1500000000000002", "Bo Owner", "bo@example.com")]


@functools.cache
def asana_api() -> OpenApi:
    text = (SPECS / "asana" / "asana_oas.yaml").read_text()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return OpenApi(yaml.load(text, Loader=loader), prefix=PREFIX)


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class FakeAsana(FakeServer):
    token: str = "2/1200000000000000/1200000000000001:asanagood"
    workspace_gid: str = "1100000000000001"
    project_gid: str = "1200000000000042"
    project_name: str = "Launch board"
    sections: list[dict[str, str]] = field(default_factory=lambda: [{"gid": "1400000000000001",
                                                                     "name": "Untitled section"}])
    faults: Faults = field(default_factory=Faults)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)
    people: list[tuple[str, str, str]] = field(default_factory=lambda: list(USERS))
    user_lookups: Counter[str] = field(default_factory=Counter)  # user_gid asked for (an email, "me", a gid) -> times
    requests: int = 0
    revoked: bool = False
    archived: bool = False
    url: str = ""

    def __post_init__(self) -> None:
        self._gids = itertools.count(1300000000000001)
        self.runner: web.AppRunner | None = None

    async def start(self) -> str:
        asana_api()  # the spec is read before serving
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner, address = await serve(app)
        self.url = address + PREFIX
        return self.url

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if self.revoked or request.headers.get("Authorization") != f"Bearer {self.token}":
            return _errors(401, "Not Authorized")
        try:
            body = json.loads(await request.text()) if request.can_read_body else None
        except ValueError:
            return self._invalid(request, "Could not parse request data, invalid JSON")
        operation, problems = asana_api().check(request.method, request.path, request.query.items(),
                                                dict(request.headers), body)
        if operation is None or problems:
            return self._invalid(request, "; ".join(problems))
        handler = getattr(self, operation.spec.get("operationId", ""), None)
        if handler is None:
            return _errors(501, f"the fake does not do {operation.method} {operation.path}")
        fields = {f for raw in request.query.getall("opt_fields", []) for f in raw.split(",")}
        try:
            result: Any = handler(request.path[len(PREFIX):].split("/"), request.query,
                                  (body or {}).get("data") or {}, fields)
        except Refused as refused:
            if refused.status == 400:
                self.invalid.append(f"{request.method} {request.path}: {refused.message}"[:500])
            return _errors(refused.status, refused.message)
        status = 201 if request.method == "POST" and operation.path in ("/tasks", "/projects/{project_gid}/sections") \
            else 200
        return web.json_response(result, status=status)

    def _invalid(self, request: web.Request, message: str) -> web.Response:
        self.invalid.append(f"{request.method} {request.path}: {message}"[:500])
        return _errors(400, message)

    # -- operations, named by the spec's operationId --
    def getProject(self, parts: list[str], query: Any, data: Any, fields: set[str]) -> dict[str, Any]:
        self._project(parts[2])
        project = {"gid": self.project_gid, "resource_type": "project", "name": self.project_name,
                   "archived": self.archived,
                   "workspace": {"gid": self.workspace_gid, "resource_type": "workspace", "name": "Rig workspace"}}
        return {"data": {k: v for k, v in project.items() if k in COMPACT or k in fields}}

    def getTasks(self, parts: list[str], query: Any, data: Any, fields: set[str]) -> dict[str, Any]:
        if "project" not in query:
            raise Refused(400, "Must specify exactly one of project, tag, section, user task list, or assignee + "
                          "workspace")
        self._project(query["project"])
        found = [t for t in self.tasks.values() if self.project_gid in t["projects"]]
        if "modified_since" in query:
            since = datetime.fromisoformat(query["modified_since"].replace("Z", "+00:00"))
            found = [t for t in found if t["modified_at"] >= since]
        return self._page(found, query, lambda t: self._view(t, fields))

    def createTask(self, parts: list[str], query: Any, data: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        projects = data.get("projects") or []
        if not projects:
            raise Refused(400, "You should specify one of workspace, parent, projects")
        for project in projects:
            self._project(project)
        now = datetime.now(UTC)
        gid = str(next(self._gids))
        task = {"gid": gid, "name": data.get("name") or "", "notes": data.get("notes") or "",
                "due_on": data.get("due_on"), "completed": bool(data.get("completed")), "projects": list(projects),
                "assignee": self._assignee(data.get("assignee")),
                "section": self.sections[0]["gid"], "dependencies": [], "created_at": now, "modified_at": now}
        self.tasks[gid] = task
        return {"data": self._view(task, fields)}

    def updateTask(self, parts: list[str], query: Any, data: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        task = self._task(parts[2])
        if "assignee" in data:
            task["assignee"] = self._assignee(data["assignee"])
        for key in ("name", "notes", "due_on", "completed"):
            if key in data:
                task[key] = data[key]
        task["modified_at"] = datetime.now(UTC)
        return {"data": self._view(task, fields)}

    def getTask(self, parts: list[str], query: Any, data: Any, fields: set[str]) -> dict[str, Any]:
        return {"data": self._view(self._task(parts[2]), fields)}

    def getDependenciesForTask(self, parts: list[str], query: Any, data: Any, fields: set[str]) -> dict[str, Any]:
        task = self._task(parts[2])
        blockers = [self.tasks[gid] for gid in task["dependencies"]]
        return self._page(blockers, query, lambda t: {k: t[k] if k != "resource_type" else "task" for k in COMPACT
                                                      if k in t or k == "resource_type"})

    def addDependenciesForTask(self, parts: list[str], query: Any, data: dict[str, Any],
                               fields: set[str]) -> dict[str, Any]:
        task = self._task(parts[2])
        for gid in data.get("dependencies") or []:
            self._task(gid)
            if gid == task["gid"]:
                raise Refused(400, "A task cannot depend on itself")
            task["dependencies"].append(gid)  # kept as sent: a second add of one edge shows in the bench
        task["modified_at"] = datetime.now(UTC)
        return {"data": {}}

    def getSectionsForProject(self, parts: list[str], query: Any, data: Any, fields: set[str]) -> dict[str, Any]:
        self._project(parts[2])
        return self._page(self.sections, query, lambda s: {"gid": s["gid"], "resource_type": "section",
                                                           "name": s["name"]})

    def createSectionForProject(self, parts: list[str], query: Any, data: dict[str, Any],
                                fields: set[str]) -> dict[str, Any]:
        self._project(parts[2])
        if not data.get("name"):
            raise Refused(400, "name: Cannot be empty")
        section = {"gid": str(next(self._gids)), "name": data["name"]}
        self.sections.append(section)
        return {"data": {**section, "resource_type": "section"}}

    def addTaskForSection(self, parts: list[str], query: Any, data: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        section = next((s for s in self.sections if s["gid"] == parts[2]), None)
        if section is None:
            raise Refused(404, f"section: Unknown object: {parts[2]}")
        task = self._task(str(data.get("task")))
        task["section"] = section["gid"]
        task["modified_at"] = datetime.now(UTC)
        return {"data": {}}

    def getUser(self, parts: list[str], query: Any, data: Any, fields: set[str]) -> dict[str, Any]:
        self.user_lookups[parts[2]] += 1
        if "workspace" in query and query["workspace"] != self.workspace_gid:
            raise Refused(404, f"workspace: Unknown object: {query['workspace']}")
        user = self._user(parts[2])
        if user is None:
            raise Refused(404, f"user: Unknown object: {parts[2]}")
        view = {"gid": user[0], "resource_type": "user", "name": user[1], "email": user[2],
                "workspaces": [{"gid": self.workspace_gid, "resource_type": "workspace"}]}
        return {"data": {k: v for k, v in view.items() if k in COMPACT or k in fields}}

    # -- helpers --
    def _user(self, key: str) -> tuple[str, str, str] | None:
        """A user by gid or email (as the spec's user_gid takes them)."""
        return next((u for u in self.people if key in (u[0], u[2]) or key.casefold() == u[2].casefold()), None)

    def _assignee(self, value: Any) -> str | None:
        if value is None:
            return None
        user = self._user(str(value)) if value != "me" else None
        if user is None:
            raise Refused(400, f"assignee: Not a recognized ID: {value}")
        return user[0]

    def _project(self, gid: str) -> None:
        if gid != self.project_gid:
            raise Refused(404, f"project: Unknown object: {gid}")

    def _task(self, gid: str) -> dict[str, Any]:
        if gid not in self.tasks:
            raise Refused(404, f"task: Unknown object: {gid}")
        return self.tasks[gid]

    def _page(self, items: list[Any], query: Any, view: Any) -> dict[str, Any]:
        limit = int(query.get("limit", "100"))
        start = int(base64.b64decode(query["offset"]).decode()) if "offset" in query else 0
        chunk = items[start:start + limit]
        following = start + limit
        next_page = None
        if following < len(items):
            token = base64.b64encode(str(following).encode()).decode()
            next_page = {"offset": token, "path": f"?offset={token}", "uri": f"{self.url}?offset={token}"}
        return {"data": [view(item) for item in chunk], "next_page": next_page}

    def _view(self, task: dict[str, Any], fields: set[str]) -> dict[str, Any]:
        section = next(s for s in self.sections if s["gid"] == task["section"])
        full = {"gid": task["gid"], "resource_type": "task", "name": task["name"], "notes": task["notes"],
                "due_on": task["due_on"], "completed": task["completed"],
                "modified_at": _stamp(task["modified_at"]), "created_at": _stamp(task["created_at"]),
                "permalink_url": f"https://app.asana.com/0/{self.project_gid}/{task['gid']}",
                "assignee": {"gid": task["assignee"], "resource_type": "user"} if task["assignee"] else None,
                "memberships": [{"project": {"gid": p, "resource_type": "project"},
                                 "section": {"gid": section["gid"], "resource_type": "section",
                                             "name": section["name"]}} for p in task["projects"]],
                "projects": [{"gid": p, "resource_type": "project"} for p in task["projects"]]}
        wanted = {f.split(".")[0] for f in fields}
        return {k: v for k, v in full.items() if k in COMPACT or k in wanted}

    # -- what a test or bench looks at, or does as a person in Asana --
    def by_marker(self) -> Counter[str]:
        found = (MARKER.search(t["notes"] or "") for t in self.tasks.values())
        return Counter(m.group(0) for m in found if m)

    def edges(self) -> list[tuple[str, str]]:
        """(blocker, blocked) task gids, as sent."""
        return [(blocker, t["gid"]) for t in self.tasks.values() for blocker in t["dependencies"]]

    def section_of(self, gid: str) -> str:
        return next(s["name"] for s in self.sections if s["gid"] == self.tasks[gid]["section"])

    def edit(self, gid: str, *, completed: bool | None = None, section: str | None = None,
             at: datetime | None = None) -> None:
        task = self._task(gid)
        if completed is not None:
            task["completed"] = completed
        if section is not None:
            task["section"] = next(s["gid"] for s in self.sections if s["name"] == section)
        task["modified_at"] = at or datetime.now(UTC)


def _errors(status: int, message: str) -> web.Response:
    return web.json_response({"errors": [{"message": message, "help": "For more information on API status codes and "
                                          "how to handle them, read the docs on errors"}]}, status=status)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def start(**kwargs: Any) -> FakeAsana:
    fake = FakeAsana(**kwargs)
    await fake.start()
    return fake
