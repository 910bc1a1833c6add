"""Notion over its REST API (Notion-Version 2025-09-03): a task is a page in a database.

The database is the connection's setting; its first data source holds the pages, and its properties are read
once per client (GET /v1/databases, then GET /v1/data_sources). It must have:
- a title property (any name): the task's title;
- "Liftoff marker", rich text: the idempotency marker, found with a data source query filter (`equals`);
- "Status", of type status or select: todo / in progress / blocked / done. A status property maps by option name
  first ("Blocked", "Canceled"), then by its group (To-do, In progress, Complete); a select property by name;
- "Blocked by", a relation to the same database: the task's blockers.
Used when present: "Description" (rich text), "Due" (date), "Priority" (select, P0..P3), "Owner" (people): the
task's owner, found by email in the workspace's users (GET /v1/users, paged, read once per client; the integration
needs the "read user information including email addresses" capability, else the owner stays unset).

Notion rounds `last_edited_time` to the minute, so status_of and changed_since report changes to the minute:
reconcile asks with an overlap. Relations are replaced as a whole by a page update, so adding a blocker reads the
relation's full (paginated) list first.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from integrations.tracker_http import HttpTracker, PermanentError, RequestError, TokenBucket
from integrations.tracker_owner import OwnerDirectory
from integrations.trackers import RemoteChange, RemoteItem, RemoteTask

API_URL = "https://api.notion.com"
VERSION = "2025-09-03"
MARKER = "Liftoff marker"
STATUS = "Status"
BLOCKED_BY = "Blocked by"
DESCRIPTION = "Description"
DUE = "Due"
PRIORITY = "Priority"
OWNER = "Owner"
TEXT_LIMIT = 2000  # characters in one rich text object
TEXT_PARTS = 100  # rich text objects in one property value
PAGE_SIZE = 100
# Our status -> the Notion status group it belongs in, and the option names a select property uses.
GROUP = {"todo": "to-do", "in_progress": "in progress", "blocked": "in progress", "done": "complete"}
SELECT_NAME = {"todo": "To do", "in_progress": "In progress", "blocked": "Blocked", "done": "Done"}
NAMES = {"to do": "todo", "todo": "todo", "not started": "todo", "in progress": "in_progress", "doing": "in_progress",
         "blocked": "blocked", "done": "done", "complete": "done", "completed": "done"}
CANCELED = ("canceled", "cancelled", "won't do")
# 409 conflict_error: "the transaction could not be completed, potentially due to a data collision": retry it.
TRANSIENT = frozenset({409})


class NotionClient:
    kind = "notion"
    supports_dependencies = True
    creates_with_status = True

    def __init__(self, token: str, database_id: str, *, rate: float, timeout_s: float = 30.0,
                 base_url: str = API_URL) -> None:
        self.database_id = database_id
        self.http = HttpTracker(base_url, {"Authorization": f"Bearer {token}", "Notion-Version": VERSION,
                                           "Content-Type": "application/json"}, TokenBucket(rate), timeout_s)
        self._schema: Schema | None = None
        self._schema_lock = asyncio.Lock()  # concurrent workers read the schema once
        self.owners = OwnerDirectory(self._user_id)
        self._people: dict[str, str] | None = None  # email -> user id of every person, read once
        self._people_lock = asyncio.Lock()

    async def call(self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None,
                   missing_is_permanent: bool = False) -> Any:
        permanent = frozenset({401, 403, 404}) if missing_is_permanent else frozenset({401, 403})
        return await self.http.call(method, path, json=json, params=params, permanent=permanent, transient=TRANSIENT)

    async def check(self) -> str:
        schema = await self.schema()
        return schema.title or "Notion database"

    async def schema(self) -> Schema:
        """The database's data source and its properties; a 404 means the database is gone or not shared with
        the integration, which will not heal by waiting."""
        async with self._schema_lock:
            if self._schema is None:
                self._schema = await self._read_schema()
        return self._schema

    async def _read_schema(self) -> Schema:
        database = await self.call("GET", f"/v1/databases/{self.database_id}", missing_is_permanent=True)
        sources = (database or {}).get("data_sources") or []
        if not sources:
            raise PermanentError("the Notion database has no data source", status=404)
        source = await self.call("GET", f"/v1/data_sources/{sources[0]['id']}", missing_is_permanent=True)
        return Schema.of(_plain_text(database.get("title")), str(sources[0]["id"]), source.get("properties") or {})

    async def find(self, marker: str) -> RemoteItem | None:
        schema = await self.schema()
        body = await self.call("POST", f"/v1/data_sources/{schema.source_id}/query", missing_is_permanent=True,
                               json={"filter": {"property": MARKER, "rich_text": {"equals": marker}}, "page_size": 2})
        pages = (body or {}).get("results") or []
        return self._item(pages[0]) if pages else None

    async def create(self, task: RemoteTask) -> RemoteItem:
        schema = await self.schema()
        properties = {MARKER: _rich_text(task.marker), **await self._content(schema, task),
                      **self._status(schema, task.status)}
        page = await self.call("POST", "/v1/pages", missing_is_permanent=True,
                               json={"parent": {"database_id": self.database_id}, "properties": properties})
        return self._item(page)

    async def update(self, item_id: str, task: RemoteTask, *, content: bool, status: bool) -> None:
        schema = await self.schema()
        properties = {**(await self._content(schema, task) if content else {}),
                      **(self._status(schema, task.status) if status else {})}
        if properties:
            await self.call("PATCH", f"/v1/pages/{item_id}", json={"properties": properties})

    async def close(self, item_id: str) -> None:
        schema = await self.schema()
        await self.call("PATCH", f"/v1/pages/{item_id}", json={"properties": self._status(schema, "canceled")})

    async def has_blocker(self, item_id: str, blocker_id: str) -> bool:
        return _same_id(blocker_id) in {_same_id(i) for i in await self._blockers(item_id)}

    async def add_blocker(self, item_id: str, blocker_id: str) -> None:
        current = await self._blockers(item_id)
        if _same_id(blocker_id) in {_same_id(i) for i in current}:
            return
        relation = [{"id": page_id} for page_id in [*current, blocker_id]]
        await self.call("PATCH", f"/v1/pages/{item_id}", json={"properties": {BLOCKED_BY: {"relation": relation}}})

    async def status_of(self, item_id: str) -> RemoteChange | None:
        schema = await self.schema()
        try:
            page = await self.call("GET", f"/v1/pages/{item_id}")
        except RequestError as exc:
            if exc.status == 404:
                return None
            raise
        if page.get("in_trash") or page.get("archived"):
            return None
        return schema.change(page)

    async def changed_since(self, since: datetime) -> list[RemoteChange]:
        schema = await self.schema()
        query: dict[str, Any] = {"filter": {"timestamp": "last_edited_time",
                                            "last_edited_time": {"on_or_after": _iso(since)}},
                                 "page_size": PAGE_SIZE}
        changes: list[RemoteChange] = []
        while True:
            body = await self.call("POST", f"/v1/data_sources/{schema.source_id}/query", json=query,
                                   missing_is_permanent=True)
            changes += [change for page in (body or {}).get("results") or []
                        if (change := schema.change(page)) is not None]
            if not body.get("has_more") or not body.get("next_cursor"):
                return changes
            query["start_cursor"] = body["next_cursor"]

    async def aclose(self) -> None:
        await self.http.close()

    async def _blockers(self, item_id: str) -> list[str]:
        """Every page in the item's "Blocked by" relation (the page object shows only the first 25)."""
        schema = await self.schema()
        ids: list[str] = []
        params = {"page_size": str(PAGE_SIZE)}
        while True:
            body = await self.call("GET", f"/v1/pages/{item_id}/properties/{schema.blocked_by_id}", params=params)
            ids += [str(r["relation"]["id"]) for r in (body or {}).get("results") or [] if r.get("type") == "relation"]
            if not body.get("has_more") or not body.get("next_cursor"):
                return ids
            params = {**params, "start_cursor": str(body["next_cursor"])}

    async def _user_id(self, email: str) -> str | None:
        async with self._people_lock:
            if self._people is None:
                self._people = await self._read_people()
        return self._people.get(email)

    async def _read_people(self) -> dict[str, str]:
        """Every person of the workspace by email (bots have none; emails need the user-information capability)."""
        people: dict[str, str] = {}
        params = {"page_size": str(PAGE_SIZE)}
        while True:
            # 403 here is a missing capability, not a revoked token: the owner stays unset (tracker_owner.py).
            body = await self.http.call("GET", "/v1/users", params=params, permanent=frozenset({401}),
                                        transient=TRANSIENT)
            for user in (body or {}).get("results") or []:
                email = str(((user.get("person") or {}).get("email")) or "").strip().casefold()
                if user.get("type") == "person" and email and user.get("id"):
                    people.setdefault(email, str(user["id"]))
            if not (body or {}).get("has_more") or not body.get("next_cursor"):
                return people
            params = {**params, "start_cursor": str(body["next_cursor"])}

    async def _content(self, schema: Schema, task: RemoteTask) -> dict[str, Any]:
        properties: dict[str, Any] = {schema.title_property: {"title": _text_parts(task.title)}}
        if schema.has(DESCRIPTION, "rich_text"):
            properties[DESCRIPTION] = {"rich_text": _text_parts(task.description)}
        if schema.has(DUE, "date"):
            properties[DUE] = {"date": {"start": task.due.isoformat()} if task.due else None}
        if schema.has(PRIORITY, "select"):
            properties[PRIORITY] = {"select": {"name": task.priority}}
        if schema.has(OWNER, "people"):
            owner = await self.owners.user_id(task.owner_email)
            properties[OWNER] = {"people": [{"object": "user", "id": owner}] if owner else []}
        return properties

    def _status(self, schema: Schema, status: str) -> dict[str, Any]:
        kind = schema.status_type
        return {STATUS: {kind: {"name": schema.option_for(status)}}}

    def _item(self, page: Any) -> RemoteItem:
        if not isinstance(page, dict) or "id" not in page:
            raise RequestError(f"Notion answered without a page: {str(page)[:200]}")
        page_id = str(page["id"])
        return RemoteItem(id=page_id, key=page_id.replace("-", "")[:8], url=str(page.get("url") or ""))


class Schema:
    """The database's title, data source, and the properties the sync writes."""

    def __init__(self, title: str, source_id: str, properties: dict[str, Any]) -> None:
        self.title = title
        self.source_id = source_id
        self.properties = properties

    @classmethod
    def of(cls, title: str, source_id: str, properties: dict[str, Any]) -> Schema:
        schema = cls(title, source_id, properties)
        missing = schema.missing()
        if missing:
            # The database is there but cannot hold tasks: an Admin has to add the properties.
            raise PermanentError("the Notion database needs " + "; ".join(missing), status=422)
        return schema

    def missing(self) -> list[str]:
        wanted = []
        if not any(p.get("type") == "title" for p in self.properties.values()):
            wanted.append("a title property")
        if not self.has(MARKER, "rich_text"):
            wanted.append(f'a text property "{MARKER}"')
        if not (self.has(STATUS, "status") or self.has(STATUS, "select")):
            wanted.append(f'a status or select property "{STATUS}"')
        if not self.has(BLOCKED_BY, "relation"):
            wanted.append(f'a relation property "{BLOCKED_BY}" to this database')
        return wanted

    def has(self, name: str, kind: str) -> bool:
        return (self.properties.get(name) or {}).get("type") == kind

    @property
    def title_property(self) -> str:
        return next(name for name, p in self.properties.items() if p.get("type") == "title")

    @property
    def blocked_by_id(self) -> str:
        return str(self.properties[BLOCKED_BY].get("id") or BLOCKED_BY)

    @property
    def status_type(self) -> str:
        return str(self.properties[STATUS]["type"])

    def option_for(self, status: str) -> str:
        """The option of the Status property our status maps to ("canceled": a removed task)."""
        config = self.properties[STATUS].get(self.status_type) or {}
        options = config.get("options") or []
        by_name = {str(o.get("name", "")).casefold(): str(o["name"]) for o in options}
        if status == "canceled":
            named = next((by_name[n] for n in CANCELED if n in by_name), None)
            return named or self.option_for("done")
        if self.status_type == "select":
            wanted = SELECT_NAME[status]
            return by_name.get(wanted.casefold(), wanted)  # a select property takes a new option by name
        if status == "blocked" and "blocked" in by_name:
            return by_name["blocked"]
        for group in config.get("groups") or []:
            if str(group.get("name", "")).casefold() == GROUP[status]:
                names = [str(o["name"]) for o in options if o.get("id") in (group.get("option_ids") or [])]
                if names:
                    return names[0]
        raise PermanentError(f'the Notion "{STATUS}" property has no option for {status!r}', status=422)

    def status_from(self, option: str | None) -> str | None:
        """Our status for a Status option (by name, else by the group it is in); None when unset or unknown."""
        if not option:
            return None
        if option.casefold() in NAMES:
            return NAMES[option.casefold()]
        if option.casefold() in CANCELED:
            return "done"
        config = self.properties[STATUS].get(self.status_type) or {}
        ids = {o.get("id") for o in config.get("options") or [] if o.get("name") == option}
        for group in config.get("groups") or []:
            if ids & set(group.get("option_ids") or []):
                return {"to-do": "todo", "in progress": "in_progress", "complete": "done"}.get(
                    str(group.get("name", "")).casefold())
        return None

    def change(self, page: dict[str, Any]) -> RemoteChange | None:
        value = ((page.get("properties") or {}).get(STATUS) or {})
        option = (value.get(value.get("type") or self.status_type) or {}).get("name")
        status = self.status_from(option)
        if status is None or not page.get("last_edited_time"):
            return None
        changed = datetime.fromisoformat(str(page["last_edited_time"]).replace("Z", "+00:00"))
        return RemoteChange(item_id=str(page["id"]), status=status, changed_at=changed)


def _text_parts(text: str) -> list[dict[str, Any]]:
    """Text as rich text objects of at most TEXT_LIMIT characters (the rest is cut at TEXT_PARTS objects)."""
    parts = [text[i:i + TEXT_LIMIT] for i in range(0, len(text), TEXT_LIMIT)][:TEXT_PARTS]
    return [{"type": "text", "text": {"content": part}} for part in parts]


def _rich_text(text: str) -> dict[str, Any]:
    return {"rich_text": _text_parts(text)}


def _plain_text(parts: Any) -> str:
    return "".join(str(p.get("plain_text") or (p.get("text") or {}).get("content") or "") for p in parts or [])


def _same_id(page_id: str) -> str:
    """Notion takes ids with or without dashes; compare them without."""
    return page_id.replace("-", "").lower()


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
