"""A fake Notion API (version 2025-09-03): every request is checked against Notion's OpenAPI document (path,
method, parameters, body) and then against the database's own schema the way Notion checks property values
(names that exist, the value shape of each property type, 2,000 characters a text object, relations to pages
that exist), before the fake acts on it. Faults come from faults.Faults."""

from __future__ import annotations

import functools
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from integrations.fakes.faults import SPECS, FakeServer, Faults, serve
from integrations.fakes.openapi import OpenApi

VERSIONS = {"2025-09-03"}
STATUS_OPTIONS = [("opt-todo", "Not started", "To-do"), ("opt-doing", "In progress", "In progress"),
                  ("opt-blocked", "Blocked", "In progress"), ("opt-done", "Done", "Complete")]
BLOCKED_BY_ID = "blk%3A"
# The workspace's users, as a test seeds them: (id, name, email; None: a bot, which has no email).
USERS = [("6f1c2d4e-0000-4000-8000-00000000a001", "Ann Owner", "ann@example.com"),
         ("6f1c2d4e-0000-4000-8000-00000000b002", "Bo Owner", "bo@example.com"),
         ("6f1c2d4e-0000-4000-8000-00000000c003", "Liftoff", None)]


@functools.cache
def notion_api() -> OpenApi:
    return OpenApi(json.loads((SPECS / "notion" / "notion-openapi.json").read_text()))


def default_properties(status_type: str = "status") -> dict[str, dict[str, Any]]:
    """A task database as an Admin would set it up for Liftoff."""
    if status_type == "status":
        groups: dict[str, list[str]] = {}
        for option_id, _, group in STATUS_OPTIONS:
            groups.setdefault(group, []).append(option_id)
        status: dict[str, Any] = {
            "options": [{"id": i, "name": n, "color": "default"} for i, n, _ in STATUS_OPTIONS],
            "groups": [{"id": f"grp-{g}", "name": g, "color": "default", "option_ids": ids}
                       for g, ids in groups.items()]}
    else:
        status = {"options": [{"id": "sel-todo", "name": "To do", "color": "default"}]}
    return {
        "Name": {"id": "title", "type": "title", "title": {}},
        "Liftoff marker": {"id": "mrk%3A", "type": "rich_text", "rich_text": {}},
        "Description": {"id": "dsc%3A", "type": "rich_text", "rich_text": {}},
        "Status": {"id": "sts%3A", "type": status_type, status_type: status},
        "Due": {"id": "due%3A", "type": "date", "date": {}},
        "Priority": {"id": "pri%3A", "type": "select", "select": {"options": []}},
        "Blocked by": {"id": BLOCKED_BY_ID, "type": "relation", "relation": {"type": "single_property"}},
        "Owner": {"id": "own%3A", "type": "people", "people": {}},
    }


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class FakeNotion(FakeServer):
    token: str = "secret_notion_good"
    database_id: str = "2f26ee68-df30-4251-aad4-8ddc420cba3d"
    data_source_id: str = "9c1b7a52-0f4e-4d5b-8a9a-3f1c2d4e5f60"
    title: str = "Launch tasks"
    properties: dict[str, dict[str, Any]] = field(default_factory=default_properties)
    faults: Faults = field(default_factory=Faults)
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    invalid: list[str] = field(default_factory=list)
    people: list[tuple[str, str, str | None]] = field(default_factory=lambda: list(USERS))
    user_pages: int = 0  # GET /v1/users answered
    requests: int = 0
    revoked: bool = False
    url: str = ""

    def __post_init__(self) -> None:
        self.runner: web.AppRunner | None = None

    async def start(self) -> str:
        notion_api()  # the spec is read before serving
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner, self.url = await serve(app)
        return self.url

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if self.revoked or request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "unauthorized", "API token is invalid.")
        version = request.headers.get("Notion-Version")
        if version is None:
            return self._invalid(request, 400, "missing_version", "Notion-Version header failed validation: "
                                 "Notion-Version should be defined, instead was `undefined`.")
        if version not in VERSIONS:
            return self._invalid(request, 400, "validation_error", f"Notion-Version {version!r} is not supported "
                                 "by this fake; the data source API needs 2025-09-03.")
        try:
            body = json.loads(await request.text()) if request.can_read_body else None
        except ValueError:
            return self._invalid(request, 400, "invalid_json", "Error parsing JSON body.")
        operation, problems = notion_api().check(request.method, request.path, request.query.items(),
                                                 dict(request.headers), body)
        if operation is None or problems:
            return self._invalid(request, 400, "validation_error", "; ".join(problems))
        handler = getattr(self, operation.spec.get("operationId", "").replace("-", "_"), None)
        if handler is None:
            return _error(501, "not_implemented", f"the fake does not do {operation.method} {operation.path}")
        try:
            result: Any = handler(request.path.split("/"), request.query, body or {})
        except Refused as refused:
            if refused.status == 400:
                self.invalid.append(f"{request.method} {request.path}: {refused.message}"[:500])
            return _error(refused.status, refused.code, refused.message)
        return web.json_response(result)

    def _invalid(self, request: web.Request, status: int, code: str, message: str) -> web.Response:
        self.invalid.append(f"{request.method} {request.path}: {message}"[:500])
        return _error(status, code, message)

    # -- operations, named by the spec's operationId --
    def retrieve_a_database(self, parts: list[str], query: Any, body: Any) -> dict[str, Any]:
        self._database(parts[3])
        return {"object": "database", "id": self.database_id, "title": _text(self.title),
                "data_sources": [{"id": self.data_source_id, "name": self.title}], "in_trash": False}

    def retrieve_a_data_source(self, parts: list[str], query: Any, body: Any) -> dict[str, Any]:
        self._source(parts[3])
        return {"object": "data_source", "id": self.data_source_id, "title": _text(self.title),
                "parent": {"type": "database_id", "database_id": self.database_id}, "properties": self.properties}

    def query_data_source(self, parts: list[str], query: Any, body: dict[str, Any]) -> dict[str, Any]:
        self._source(parts[3])
        matches = self._filter(body.get("filter"))
        pages = sorted((p for p in self.pages.values() if not p["in_trash"] and matches(p)),
                       key=lambda p: p["created"])
        size = int(body.get("page_size", 100))
        if not 1 <= size <= 100:
            raise Refused(400, "validation_error", "body.page_size should be between 1 and 100")
        start = int(body.get("start_cursor") or 0)
        chunk = pages[start:start + size]
        more = start + size < len(pages)
        return {"object": "list", "results": [self._view(p) for p in chunk], "has_more": more,
                "next_cursor": str(start + size) if more else None, "type": "page_or_data_source"}

    def post_page(self, parts: list[str], query: Any, body: dict[str, Any]) -> dict[str, Any]:
        parent = body["parent"]
        if "database_id" not in parent:
            raise Refused(400, "validation_error", "the fake only creates pages in its database")
        self._database(parent["database_id"])
        now = datetime.now(UTC)
        page = {"id": str(uuid.uuid4()), "created": now, "edited": now, "in_trash": False,
                "values": {name: _empty(p["type"]) for name, p in self.properties.items()}}
        page["values"].update(self._values(body["properties"], page["id"]))
        self.pages[page["id"]] = page
        return self._view(page)

    def patch_page(self, parts: list[str], query: Any, body: dict[str, Any]) -> dict[str, Any]:
        page = self._page(parts[3])
        if page["in_trash"]:
            raise Refused(400, "validation_error", "Can't edit block that is archived. You must unarchive the block "
                          "before editing.")
        page["values"].update(self._values(body.get("properties") or {}, page["id"]))
        if body.get("in_trash") is not None or body.get("archived") is not None:
            page["in_trash"] = bool(body.get("in_trash") or body.get("archived"))
        page["edited"] = datetime.now(UTC)
        return self._view(page)

    def retrieve_a_page(self, parts: list[str], query: Any, body: Any) -> dict[str, Any]:
        return self._view(self._page(parts[3]))

    def retrieve_a_page_property(self, parts: list[str], query: Any, body: Any) -> dict[str, Any]:
        page = self._page(parts[3])
        name = self._property_name(parts[5])
        prop = self.properties[name]
        if prop["type"] != "relation":
            raise Refused(400, "validation_error", "the fake paginates relation properties only")
        size = int(query.get("page_size", "100"))
        if not 1 <= size <= 100:
            raise Refused(400, "validation_error", "page_size should be between 1 and 100")
        start = int(query.get("start_cursor") or 0)
        ids = page["values"][name]
        more = start + size < len(ids)
        return {"object": "list", "type": "property_item", "has_more": more,
                "next_cursor": str(start + size) if more else None,
                "property_item": {"id": prop["id"], "next_url": None, "type": "relation", "relation": {}},
                "results": [{"object": "property_item", "id": prop["id"], "type": "relation",
                             "relation": {"id": i}} for i in ids[start:start + size]]}

    def get_users(self, parts: list[str], query: Any, body: Any) -> dict[str, Any]:
        size = int(query.get("page_size", "100"))
        if not 1 <= size <= 100:
            raise Refused(400, "validation_error", "page_size should be between 1 and 100")
        self.user_pages += 1
        start = int(query.get("start_cursor") or 0)
        chunk = self.people[start:start + size]
        more = start + size < len(self.people)
        return {"object": "list", "type": "user", "user": {}, "has_more": more,
                "next_cursor": str(start + size) if more else None,
                "results": [{"object": "user", "id": i, "name": n, "avatar_url": None,
                             **({"type": "person", "person": {"email": e}} if e else {"type": "bot", "bot": {}})}
                            for i, n, e in chunk]}

    # -- checks the way Notion makes them --
    def _database(self, database_id: str) -> None:
        if _bare(database_id) != _bare(self.database_id):
            raise Refused(404, "object_not_found", f"Could not find database with ID: {database_id}. Make sure the "
                          "relevant pages and databases are shared with your integration.")

    def _source(self, source_id: str) -> None:
        if _bare(source_id) != _bare(self.data_source_id):
            raise Refused(404, "object_not_found", f"Could not find data source with ID: {source_id}.")

    def _page(self, page_id: str) -> dict[str, Any]:
        found = next((p for p in self.pages.values() if _bare(p["id"]) == _bare(page_id)), None)
        if found is None:
            raise Refused(404, "object_not_found", f"Could not find page with ID: {page_id}.")
        return found

    def _property_name(self, key: str) -> str:
        for name, prop in self.properties.items():
            if key in (name, prop["id"], unquote(prop["id"])):
                return name
        raise Refused(400, "validation_error", f"{key} is not a property that exists.")

    def _values(self, given: dict[str, Any], page_id: str) -> dict[str, Any]:
        values = {}
        for key, value in given.items():
            name = self._property_name(key)
            kind = self.properties[name]["type"]
            if not isinstance(value, dict) or kind not in value or set(value) - {kind, "type", "id"}:
                raise Refused(400, "validation_error", f"body.properties.{name} should be an object with a "
                              f"`{kind}` value.")
            values[name] = self._value(name, kind, value[kind], page_id)
        return values

    def _value(self, name: str, kind: str, value: Any, page_id: str) -> Any:
        if kind in ("title", "rich_text"):
            if not isinstance(value, list) or len(value) > 100:
                raise Refused(400, "validation_error", f"{name}: a list of at most 100 rich text objects")
            validator = notion_api()._validator({"$ref": "#/components/schemas/richTextRequest"})
            for part in value:
                errors = [e.message for e in validator.iter_errors(part)]
                if errors:
                    raise Refused(400, "validation_error", f"{name}: {'; '.join(errors)}")
                if len(part["text"]["content"]) > 2000:
                    raise Refused(400, "validation_error", f"{name}: text.content.length should be ≤ 2000")
            return "".join(part["text"]["content"] for part in value)
        if kind in ("select", "status"):
            if value is None and kind == "select":
                return None
            if not isinstance(value, dict) or not isinstance(value.get("name"), str) or "," in value["name"]:
                raise Refused(400, "validation_error", f"{name}: {{name}} of an option, without commas")
            options = self.properties[name][kind].setdefault("options", [])
            if not any(o["name"] == value["name"] for o in options):
                if kind == "status":  # a status property takes only its existing options
                    raise Refused(400, "validation_error", f"Invalid status option. Status option "
                                  f"\"{value['name']}\" does not exist.")
                options.append({"id": f"sel-{len(options)}", "name": value["name"], "color": "default"})
            return value["name"]
        if kind == "date":
            if value is None:
                return None
            if not isinstance(value, dict) or not isinstance(value.get("start"), str):
                raise Refused(400, "validation_error", f"{name}: {{start}} of a date")
            try:
                date.fromisoformat(value["start"])
            except ValueError as exc:
                raise Refused(400, "validation_error", f"{name}: start is not an ISO date") from exc
            return value["start"]
        if kind == "relation":
            if not isinstance(value, list) or len(value) > 100 or not all(isinstance(v, dict) and "id" in v
                                                                           for v in value):
                raise Refused(400, "validation_error", f"{name}: a list of at most 100 {{id}} objects")
            ids = [self._page(v["id"])["id"] for v in value]
            return ids
        if kind == "people":
            if not isinstance(value, list) or len(value) > 100 or not all(
                    isinstance(v, dict) and isinstance(v.get("id"), str) and set(v) <= {"object", "id"}
                    and v.get("object", "user") == "user" for v in value):
                raise Refused(400, "validation_error", f"{name}: a list of at most 100 user objects {{id}}")
            known = {_bare(i) for i, _, _ in self.people}
            unknown = [v["id"] for v in value if _bare(v["id"]) not in known]
            if unknown:
                raise Refused(400, "validation_error", f"{name}: could not find user with ID: {unknown[0]}")
            return [v["id"] for v in value]
        raise Refused(400, "validation_error", f"the fake does not write {kind} properties")

    def _filter(self, spec: Any) -> Any:
        if spec is None:
            return lambda page: True
        if not isinstance(spec, dict):
            raise Refused(400, "validation_error", "body.filter should be an object")
        if spec.get("timestamp") == "last_edited_time":
            condition = spec.get("last_edited_time") or {}
            if set(condition) != {"on_or_after"}:
                raise Refused(400, "validation_error", "the fake filters last_edited_time on_or_after only")
            since = datetime.fromisoformat(str(condition["on_or_after"]).replace("Z", "+00:00"))
            return lambda page: _minute(page["edited"]) >= since
        name = self._property_name(str(spec.get("property", "")))
        if self.properties[name]["type"] != "rich_text" or set(spec.get("rich_text") or {}) != {"equals"}:
            raise Refused(400, "validation_error", "the fake filters rich_text equals only")
        wanted = spec["rich_text"]["equals"]
        return lambda page: page["values"][name] == wanted

    def _view(self, page: dict[str, Any]) -> dict[str, Any]:
        properties = {}
        for name, prop in self.properties.items():
            value = page["values"][name]
            kind = prop["type"]
            shown: Any
            if kind in ("title", "rich_text"):
                shown = _text(value) if value else []
            elif kind in ("select", "status"):
                shown = {"id": f"opt-{value}", "name": value, "color": "default"} if value else None
            elif kind == "date":
                shown = {"start": value, "end": None, "time_zone": None} if value else None
            elif kind == "people":
                shown = [{"object": "user", "id": i} for i in value]
            else:
                shown = [{"id": i} for i in value[:25]]
            properties[name] = {"id": prop["id"], "type": kind, kind: shown,
                                **({"has_more": len(value) > 25} if kind == "relation" else {})}
        return {"object": "page", "id": page["id"], "created_time": _stamp(page["created"]),
                "last_edited_time": _stamp(page["edited"]), "in_trash": page["in_trash"],
                "archived": page["in_trash"], "url": f"https://www.notion.so/{_bare(page['id'])}",
                "parent": {"type": "data_source_id", "data_source_id": self.data_source_id,
                           "database_id": self.database_id}, "properties": properties}

    # -- what a test or bench looks at, or does as a person in Notion --
    def by_marker(self) -> Counter[str]:
        return Counter(p["values"]["Liftoff marker"] for p in self.pages.values() if p["values"]["Liftoff marker"])

    def edges(self) -> list[tuple[str, str]]:
        """(blocker, blocked) page ids, as sent."""
        return [(blocker, p["id"]) for p in self.pages.values() for blocker in p["values"]["Blocked by"]]

    def edit_status(self, page_id: str, option: str, at: datetime | None = None) -> None:
        page = self._page(page_id)
        page["values"]["Status"] = option
        page["edited"] = at or datetime.now(UTC)


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"object": "error", "status": status, "code": code, "message": message}, status=status)


def _text(content: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": {"content": content, "link": None}, "plain_text": content, "href": None}]


def _empty(kind: str) -> Any:
    return [] if kind in ("relation", "people") else ("" if kind in ("title", "rich_text") else None)


def _bare(object_id: str) -> str:
    return object_id.replace("-", "").lower()


def _minute(moment: datetime) -> datetime:
    """Notion reports last_edited_time rounded down to the minute."""
    return moment.replace(second=0, microsecond=0)


def _stamp(moment: datetime) -> str:
    return _minute(moment).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def start(**kwargs: Any) -> FakeNotion:
    fake = FakeNotion(**kwargs)
    await fake.start()
    return fake
