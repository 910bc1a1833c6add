"""A fake Linear GraphQL API: every request is parsed, validated and executed against Linear's real schema."""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from inspect import isawaitable
from typing import Any

from aiohttp import web
from graphql import DocumentNode, GraphQLError, GraphQLSchema, build_ast_schema, execute, parse, validate

from integrations.fakes.faults import SPECS, FakeServer, Faults, serve


@functools.cache
def linear_schema() -> GraphQLSchema:
    # Linear's published schema is valid SDL: skipping locations and the SDL check saves seconds per process;
    # every query is still validated against it.
    document = parse((SPECS / "linear" / "schema.graphql").read_text(), no_location=True)
    return build_ast_schema(document, assume_valid_sdl=True)


# The workspace's people, as a test seeds them: (id, name, email).
USERS = [("user-ann", "Ann Owner", "ann@example.com"), ("user-bo", "Bo Owner", "bo@example.com")]
STATES = [("st-backlog", "Backlog", "backlog", 0.0), ("st-todo", "Todo", "unstarted", 1.0),
          ("st-doing", "In Progress", "started", 2.0), ("st-done", "Done", "completed", 3.0),
          ("st-cancel", "Canceled", "canceled", 4.0)]


@functools.lru_cache(maxsize=256)
def checked_document(query: str) -> tuple[DocumentNode | None, tuple[GraphQLError, ...]]:
    """A query parsed and validated against the schema once per distinct text (variables are checked per request,
    when it runs)."""
    try:
        document = parse(query)
    except GraphQLError as error:
        return None, (error,)
    return document, tuple(validate(linear_schema(), document))


@dataclass
class FakeLinear(FakeServer):
    api_key: str = "lin_api_good"
    team_id: str = "team-1"
    faults: Faults = field(default_factory=Faults)
    store: dict[str, dict[str, Any]] = field(default_factory=dict)
    relations: list[tuple[str, str, str]] = field(default_factory=list)  # (issue, related, type)
    invalid: list[str] = field(default_factory=list)
    people: list[tuple[str, str, str]] = field(default_factory=lambda: list(USERS))
    user_lookups: Counter[str] = field(default_factory=Counter)  # email asked for -> times
    requests: int = 0
    revoked: bool = False
    url: str = ""

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self.runner: web.AppRunner | None = None

    async def start(self) -> str:
        linear_schema()  # built before serving: seconds of parsing that no request should wait for
        app = web.Application()
        app.router.add_post("/graphql", self.handle)
        self.runner, self.url = await serve(app)
        return self.url

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if self.revoked or request.headers.get("Authorization") != self.api_key:
            return _errors("Authentication required, not authenticated", "AUTHENTICATION_ERROR")
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            self.invalid.append(f"not a GraphQL request: {body!r}"[:300])
            return _errors("Must provide query string.", "GRAPHQL_VALIDATION_FAILED")
        document, problems = checked_document(body["query"])
        if document is None or problems:
            messages = "; ".join(e.message for e in problems)
            self.invalid.append(messages[:500])
            return web.json_response({"data": None, "errors": [
                {"message": e.message, "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}} for e in problems]},
                status=400)
        result = execute(linear_schema(), document, root_value=self, variable_values=body.get("variables") or {})
        assert not isawaitable(result)  # the resolvers are synchronous
        if result.errors:
            messages = "; ".join(e.message for e in result.errors)
            if any(e.original_error is None for e in result.errors):
                self.invalid.append(messages[:500])
            return web.json_response({"data": result.data, "errors": [
                {"message": e.message, "extensions": {"code": _code(e.original_error)}} for e in result.errors]},
                status=400 if result.data is None else 200)
        return web.json_response({"data": result.data})

    # -- resolvers: graphql-core's default resolver calls these with (info, **arguments) --
    def viewer(self, info: Any) -> dict[str, Any]:
        return {"id": "user-1", "name": "Fake Bot", "email": "bot@example.com"}

    def team(self, info: Any, id: str) -> dict[str, Any] | None:
        if id != self.team_id:
            raise LookupError("Entity not found: Team")
        return {"id": self.team_id, "name": "Engineering", "key": "ENG"}

    def workflowStates(self, info: Any, **args: Any) -> dict[str, Any]:
        return {"nodes": [{"id": i, "name": n, "type": t, "position": p} for i, n, t, p in STATES]}

    def users(self, info: Any, filter: dict[str, Any] | None = None, **args: Any) -> dict[str, Any]:
        email = (filter or {}).get("email") or {}
        if set(email) - {"eq", "eqIgnoreCase"}:
            raise ValueError("the fake filters users by email eq / eqIgnoreCase only")
        wanted = email.get("eq") or email.get("eqIgnoreCase")
        self.user_lookups[str(wanted)] += 1
        found = [{"id": i, "name": n, "displayName": n, "email": e, "active": True} for i, n, e in self.people
                 if wanted is None or e == email.get("eq") or e.casefold() == str(email.get("eqIgnoreCase")).casefold()]
        found = found[: args.get("first") or 50]
        return {"nodes": found, "pageInfo": {"hasNextPage": False, "hasPreviousPage": False,
                                             "endCursor": None, "startCursor": None}}

    def issues(self, info: Any, filter: dict[str, Any] | None = None, **args: Any) -> dict[str, Any]:
        filter = filter or {}
        wanted = (filter.get("description") or {}).get("contains")
        team = ((filter.get("team") or {}).get("id") or {}).get("eq")
        since = (filter.get("updatedAt") or {}).get("gte")
        if team is not None and team != self.team_id:
            raise LookupError("Entity not found: Team")
        found = [i for i in self.issues_list() if (wanted is None or wanted in (i["description"] or ""))
                 and (since is None or _time(i["updatedAt"]) >= _time(since))]
        start = int(args["after"]) if args.get("after") else 0
        page = found[start: start + (args.get("first") or 50)]
        end = start + len(page)
        return {"nodes": [self._view(i) for i in page],
                "pageInfo": {"hasNextPage": end < len(found), "hasPreviousPage": start > 0,
                             "endCursor": str(end), "startCursor": str(start)}}

    def issue(self, info: Any, id: str) -> dict[str, Any]:
        if id not in self.store:
            raise LookupError("Entity not found: Issue")
        return self._view(self.store[id])

    def issueCreate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        if input["teamId"] != self.team_id:
            raise LookupError("Entity not found: Team")
        self._check_assignee(input)
        number = next(self._ids)
        issue = {"id": f"issue-{number}", "identifier": f"ENG-{number}", "url": f"https://linear.app/x/ENG-{number}",
                 "title": input.get("title") or "", "description": input.get("description"),
                 "priority": input.get("priority", 0), "dueDate": input.get("dueDate"),
                 "stateId": input.get("stateId") or "st-todo", "assigneeId": input.get("assigneeId"),
                 "createdAt": _now(), "updatedAt": _now()}
        self.store[issue["id"]] = issue
        return {"success": True, "issue": self._view(issue), "lastSyncId": float(number)}

    def issueUpdate(self, info: Any, id: str, input: dict[str, Any]) -> dict[str, Any]:
        if id not in self.store:
            raise LookupError("Entity not found: Issue")
        self._check_assignee(input)
        self.store[id].update({k: v for k, v in input.items()
                                if k in ("title", "description", "priority", "dueDate", "stateId", "assigneeId")})
        self.store[id]["updatedAt"] = _now()
        return {"success": True, "lastSyncId": 1.0}

    def issueRelationCreate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        for key in ("issueId", "relatedIssueId"):
            if input[key] not in self.store:
                raise LookupError("Entity not found: Issue")
        self.relations.append((input["issueId"], input["relatedIssueId"], input["type"]))
        return {"success": True, "issueRelation": {"id": f"rel-{len(self.relations)}"}, "lastSyncId": 1.0}

    def _check_assignee(self, input: dict[str, Any]) -> None:
        assignee = input.get("assigneeId")
        if assignee is not None and assignee not in {i for i, _, _ in self.people}:
            raise LookupError("Entity not found: User")

    # -- what a test does as a person in Linear --
    def move(self, issue_id: str, state_type: str, at: datetime | None = None) -> dict[str, Any]:
        """Move an issue to the team's state of `state_type`; returns the webhook `data` Linear would send."""
        issue = self.store[issue_id]
        issue["stateId"] = next(s[0] for s in STATES if s[2] == state_type)
        issue["updatedAt"] = (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
        return self._view(issue)

    # -- what a test or bench looks at --
    def issues_list(self) -> list[dict[str, Any]]:
        return list(self.store.values())

    def by_marker(self) -> Counter[str]:
        import re

        found = (re.search(r"\[liftoff:[^\]]+\]", i["description"] or "") for i in self.store.values())
        return Counter(m.group(0) for m in found if m)

    def _view(self, issue: dict[str, Any]) -> dict[str, Any]:
        blockers = [{"type": t, "issue": {"id": a}} for a, b, t in self.relations if b == issue["id"]]
        state = next(s for s in STATES if s[0] == issue["stateId"])
        return {**issue, "state": {"id": state[0], "name": state[1], "type": state[2]},
                "inverseRelations": {"nodes": blockers}}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _errors(message: str, code: str) -> web.Response:
    return web.json_response({"errors": [{"message": message, "extensions": {"code": code}}]}, status=400)


def _code(error: BaseException | None) -> str:
    if error is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "INVALID_INPUT" if isinstance(error, LookupError) else "INTERNAL_SERVER_ERROR"


async def start(**kwargs: Any) -> FakeLinear:
    fake = FakeLinear(**kwargs)
    await fake.start()
    return fake
