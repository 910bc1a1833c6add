"""A fake Jira Cloud REST v3: each request's path, method, query parameters and JSON body are checked against
Atlassian's OpenAPI document (bodies with jsonschema) before the fake acts on it."""

from __future__ import annotations

import base64
import functools
import itertools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from jsonschema import Draft7Validator

from integrations.fakes.faults import SPECS, FakeServer, Faults, serve

Route = tuple[str, re.Pattern[str], str, dict[str, Any]]


@functools.cache
def jira_spec() -> dict[str, Any]:
    return dict(json.loads((SPECS / "jira" / "platform-swagger.v3.json").read_text()))


@functools.cache
def routes() -> list[Route]:
    table: list[Route] = []
    for path, item in jira_spec()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch"):
                table.append((method.upper(), pattern, path, operation))
    # Literal paths first: /issue/createmeta must not match /issue/{issueIdOrKey}.
    table.sort(key=lambda r: r[2].count("{"))
    return table


def check_request(method: str, path: str, query: dict[str, str], body: Any) -> tuple[str, list[str]]:
    """The spec path of a request and what is wrong with it by the spec (empty: valid)."""
    candidates = [r for r in routes() if r[1].match(path)]
    if not candidates:
        return "", [f"{path} is not a path of the Jira API"]
    operation = next((r for r in candidates if r[0] == method), None)
    if operation is None:
        return candidates[0][2], [f"{method} is not a method of {candidates[0][2]}"]
    _, _, spec_path, op = operation
    problems = []
    known = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
    problems += [f"unknown query parameter {name!r}" for name in query if name not in known]
    problems += [f"missing query parameter {p['name']!r}" for p in op.get("parameters", [])
                 if p.get("in") == "query" and p.get("required") and p["name"] not in query]
    schema = ((op.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema")
    if schema is not None and body is not None:
        validator = body_validator(method, spec_path)
        problems += [f"body: {e.message} at {list(e.absolute_path)}" for e in validator.iter_errors(body)]
    elif schema is None and body is not None:
        problems.append(f"{method} {spec_path} takes no JSON body")
    return spec_path, problems


@functools.cache
def body_validator(method: str, spec_path: str) -> Draft7Validator:
    """One validator per operation (building one per request costs more than the fake's work)."""
    op = jira_spec()["paths"][spec_path][method.lower()]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    return Draft7Validator({**schema, "components": jira_spec()["components"]})


# The site's people, as a test seeds them: (accountId, display name, email; None: hidden by the person's profile
# visibility, as Jira hides it).
USERS = [("5b10a2844c20165700ede21g", "Ann Owner", "ann@example.com"),
         ("5b10ac8d82e05b22cc7d4ef5", "Bo Owner", "bo@example.com")]
TRANSITIONS = [("11", "To Do", "new"), ("21", "In Progress", "indeterminate"), ("31", "Done", "done")]


@dataclass
class FakeJira(FakeServer):
    email: str = "bot@example.com"
    api_token: str = "jira-good"
    project_key: str = "LIF"
    faults: Faults = field(default_factory=Faults)
    store: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)  # (inward = blocker, outward = blocked)
    invalid: list[str] = field(default_factory=list)
    people: list[tuple[str, str, str | None]] = field(default_factory=lambda: list(USERS))
    user_lookups: Counter[str] = field(default_factory=Counter)  # query asked for -> times
    requests: int = 0
    revoked: bool = False
    url: str = ""

    def __post_init__(self) -> None:
        self._ids = itertools.count(10001)
        self.runner: web.AppRunner | None = None

    async def start(self) -> str:
        routes()  # the spec is read before serving, not on the first request
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner, self.url = await serve(app)
        return self.url

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        expected = "Basic " + base64.b64encode(f"{self.email}:{self.api_token}".encode()).decode()
        if self.revoked or request.headers.get("Authorization") != expected:
            return web.json_response({"errorMessages": ["Unauthorized"]}, status=401)
        body = await request.json() if request.can_read_body else None
        spec_path, problems = check_request(request.method, request.path, dict(request.query), body)
        if problems:
            self.invalid.append(f"{request.method} {request.path}: {'; '.join(problems)}"[:500])
            return web.json_response({"errorMessages": problems}, status=400)
        ids = request.path.split("/")
        handler = getattr(self, f"_{request.method.lower()}_{_name(spec_path)}", None)
        if handler is None:
            return web.json_response({"errorMessages": [f"the fake does not do {spec_path}"]}, status=501)
        result: web.StreamResponse = handler(ids, dict(request.query), body)
        return result

    # -- operations --
    def _get_project(self, ids: list[str], query: dict[str, str], body: Any) -> web.Response:
        if ids[-1] != self.project_key:
            return web.json_response({"errorMessages": ["No project could be found"]}, status=404)
        return web.json_response({"id": "10000", "key": self.project_key, "name": "Liftoff"})

    def _post_issue(self, ids: list[str], query: dict[str, str], body: Any) -> web.Response:
        fields = body.get("fields") or {}
        if (fields.get("project") or {}).get("key") != self.project_key:
            return web.json_response({"errorMessages": ["project: valid project is required"]}, status=404)
        refused = self._refuse_assignee(fields)
        if refused is not None:
            return refused
        issue_id = str(next(self._ids))
        key = f"{self.project_key}-{len(self.store) + 1}"
        self.store[issue_id] = {"id": issue_id, "key": key, "status": "new", "fields": dict(fields),
                                "updated": datetime.now(UTC)}
        return web.json_response({"id": issue_id, "key": key, "self": f"{self.url}/rest/api/3/issue/{issue_id}"},
                                 status=201)

    def _put_issue(self, ids: list[str], query: dict[str, str], body: Any) -> web.Response:
        issue = self.store.get(ids[-1])
        if issue is None:
            return web.json_response({"errorMessages": ["Issue does not exist"]}, status=404)
        refused = self._refuse_assignee(body.get("fields") or {})
        if refused is not None:
            return refused
        issue["fields"].update(body.get("fields") or {})
        issue["updated"] = datetime.now(UTC)
        return web.Response(status=204)

    def _get_issue(self, ids: list[str], query: dict[str, str], body: Any) -> web.Response:
        issue = self.store.get(ids[-1])
        if issue is None:
            return web.json_response({"errorMessages": ["Issue does not exist"]}, status=404)
        links = [{"id": str(n), "type": {"name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
                  "inwardIssue": {"id": inward}} for n, (inward, outward) in enumerate(self.links)
                 if outward == issue["id"]]
        wanted = set(query.get("fields", "*all").split(","))
        fields = {"issuelinks": links} if wanted & {"issuelinks", "*all"} else {}
        fields |= self._fields(issue, wanted)
        return web.json_response({"id": issue["id"], "key": issue["key"], "fields": fields})

    def _get_transitions(self, ids: list[str], query: dict[str, str], body: Any) -> web.Response:
        if ids[-2] not in self.store:
            return web.json_response({"errorMessages": ["Issue does not exist"]}, status=404)
        return web.json_response({"transitions": [
            {"id": i, "name": n, "to": {"name": n, "statusCategory": {"key": k}}} for i, n, k in TRANSITIONS]})

    def _post_transitions(self, ids: list[str], query: dict[str, str], body: Any) -> web.Response:
        issue = self.store.get(ids[-2])
        wanted = ((body or {}).get("transition") or {}).get("id")
        target = next((t for t in TRANSITIONS if t[0] == wanted), None)
        if issue is None or target is None:
            return web.json_response({"errorMessages": ["bad transition"]}, status=400)
        issue["status"] = target[2]
        issue["updated"] = datetime.now(UTC)
        return web.Response(status=204)

    def _post_issueLink(self, ids: list[str], query: dict[str, str], body: Any) -> web.Response:
        inward, outward = str(body["inwardIssue"].get("id")), str(body["outwardIssue"].get("id"))
        if inward not in self.store or outward not in self.store:
            return web.json_response({"errorMessages": ["Issue does not exist"]}, status=404)
        self.links.append((inward, outward))
        return web.Response(status=201)

    def _get_search(self, ids: list[str], query: dict[str, str], body: Any) -> web.Response:
        try:
            matches = jql_filter(query.get("jql", ""))
        except ValueError as exc:
            return web.json_response({"errorMessages": [str(exc)], "warningMessages": []}, status=400)
        found = sorted((i for i in self.store.values() if matches(i)), key=lambda i: (i["updated"], int(i["id"])))
        start, limit = int(query.get("startAt", "0")), int(query.get("maxResults", "50"))
        wanted = set(query.get("fields", "").split(","))
        return web.json_response({"startAt": start, "maxResults": limit, "total": len(found), "issues": [
            {"id": i["id"], "key": i["key"], "fields": self._fields(i, wanted)} for i in found[start: start + limit]]})

    def _get_user_search(self, ids: list[str], query: dict[str, str], body: Any) -> web.Response:
        """Users whose display name or email starts with `query` (case-insensitive); hidden emails are left out."""
        wanted = query.get("query")
        if not wanted and not query.get("accountId") and not query.get("property"):
            return web.json_response({"errorMessages": ["The query parameter 'query' is required."]}, status=400)
        self.user_lookups[str(wanted)] += 1
        prefix = (wanted or "").casefold()
        found = [{"self": f"{self.url}/rest/api/3/user?accountId={a}", "accountId": a, "accountType": "atlassian",
                  "displayName": n, "active": True, **({"emailAddress": e} if e else {})}
                 for a, n, e in self.people
                 if (query.get("accountId") == a) or (prefix and (n.casefold().startswith(prefix)
                                                                  or (e or "").casefold().startswith(prefix)))]
        start, limit = int(query.get("startAt", "0")), int(query.get("maxResults", "50"))
        return web.json_response(found[start:start + limit])

    def _refuse_assignee(self, fields: dict[str, Any]) -> web.Response | None:
        """Jira's answer to an assignee that is not an account of the site (None: fine, or unassigned)."""
        assignee = fields.get("assignee")
        if assignee is None:
            return None
        account = assignee.get("accountId") if isinstance(assignee, dict) else None
        if account is None or account not in {a for a, _, _ in self.people}:
            self.invalid.append(f"assignee {assignee!r} is not an account of the site")
            return web.json_response({"errorMessages": [], "errors": {"assignee": f"User '{account}' does not "
                                                                     "exist."}}, status=400)
        return None

    def _fields(self, issue: dict[str, Any], wanted: set[str]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if wanted & {"status", "*all"}:
            name = next(n for _, n, k in TRANSITIONS if k == issue["status"])
            fields["status"] = {"name": name, "statusCategory": {"key": issue["status"], "name": name}}
        if wanted & {"updated", "*all"}:
            fields["updated"] = jira_time(issue["updated"])
        return fields

    # -- what a test does as a person in Jira --
    def move(self, issue_id: str, category: str, at: datetime | None = None) -> dict[str, Any]:
        """Move an issue to the status of `category` (new, indeterminate, done); returns the webhook's `issue`."""
        issue = self.store[issue_id]
        issue["status"], issue["updated"] = category, at or datetime.now(UTC)
        return {"id": issue["id"], "key": issue["key"], "fields": self._fields(issue, {"status", "updated"})}

    # -- what a test or bench looks at --
    def by_marker(self) -> Counter[str]:
        return Counter(label for i in self.store.values() for label in i["fields"].get("labels") or []
                       if label.startswith("liftoff-"))


def jira_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


CATEGORY_NAMES = {"to do": "new", "in progress": "indeterminate", "done": "done"}


def jql_filter(jql: str) -> Any:
    """The JQL the clients send, as a predicate: clauses joined by AND (project, labels, statusCategory,
    `updated >= "-Nm"` or a "yyyy-MM-dd HH:mm" date in UTC), then an optional ORDER BY. Anything else is refused
    with a 400, as Jira refuses a field it does not know."""
    text = re.split(r"\s+ORDER\s+BY\s+", jql.strip(), flags=re.IGNORECASE)[0]
    tests = []
    for clause in re.split(r"\s+AND\s+", text, flags=re.IGNORECASE) if text else []:
        found = re.fullmatch(r'\s*(\w+)\s*(=|>=)\s*"?([^"]*?)"?\s*', clause)
        if found is None:
            raise ValueError(f"Error in the JQL Query: {clause!r}")
        name, op, value = found.group(1).lower(), found.group(2), found.group(3)
        if name == "project" and op == "=":
            tests.append(lambda i, v=value: i["key"].split("-")[0] == v)
        elif name == "labels" and op == "=":
            tests.append(lambda i, v=value: v in (i["fields"].get("labels") or []))
        elif name == "statuscategory" and op == "=":
            key = CATEGORY_NAMES.get(value.lower(), value.lower())
            tests.append(lambda i, k=key: i["status"] == k)
        elif name == "updated" and op == ">=":
            relative = re.fullmatch(r"-(\d+)m", value)
            since = datetime.now(UTC) - timedelta(minutes=int(relative.group(1))) if relative else \
                datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
            tests.append(lambda i, s=since: i["updated"] >= s)
        else:
            raise ValueError(f"Field '{name}' does not exist or you do not have permission to view it.")
    return lambda issue: all(test(issue) for test in tests)


def _name(spec_path: str) -> str:
    names = {"/rest/api/3/project/{projectIdOrKey}": "project", "/rest/api/3/issue": "issue",
             "/rest/api/3/issue/{issueIdOrKey}": "issue", "/rest/api/3/issue/{issueIdOrKey}/transitions": "transitions",
             "/rest/api/3/issueLink": "issueLink", "/rest/api/3/search": "search",
             "/rest/api/3/user/search": "user_search"}
    return names.get(spec_path, "unknown")


async def start(**kwargs: Any) -> FakeJira:
    fake = FakeJira(**kwargs)
    await fake.start()
    return fake
