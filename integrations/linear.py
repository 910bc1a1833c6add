"""Linear over its GraphQL API: issues, workflow states and "blocks" relations.

The idempotency marker is written into the issue description and found with an `issues` filter on it.
Errors come back as GraphQL errors with an extensions code; authentication and permission codes stop the
destination, RATELIMITED is retried like a 429.
"""

from __future__ import annotations

from typing import Any

from integrations.tracker_http import HttpTracker, PermanentError, RequestError, TokenBucket, TransientError
from integrations.trackers import RemoteItem, RemoteTask

API_URL = "https://api.linear.app"
PATH = "/graphql"
PRIORITY = {"P0": 1, "P1": 2, "P2": 3, "P3": 4}  # Linear: 1 urgent, 2 high, 3 medium, 4 low
STATE_TYPE = {"todo": "unstarted", "in_progress": "started", "blocked": "started", "done": "completed"}
PERMANENT_CODES = {"AUTHENTICATION_ERROR": 401, "FORBIDDEN": 403}
ITEM = "id identifier url"

CHECK = "query Check($team: String!) { viewer { id name } team(id: $team) { id name } }"
FIND = (f"query Find($team: ID!, $marker: String!) {{ issues(first: 2, filter: {{ team: {{ id: {{ eq: $team }} }}, "
        f"description: {{ contains: $marker }} }}) {{ nodes {{ {ITEM} }} }} }}")
CREATE = f"mutation Create($input: IssueCreateInput!) {{ issueCreate(input: $input) {{ success issue {{ {ITEM} }} }} }}"
UPDATE = "mutation Update($id: String!, $input: IssueUpdateInput!) { issueUpdate(id: $id, input: $input) { success } }"
STATES = ("query States($team: ID!) { workflowStates(first: 100, filter: { team: { id: { eq: $team } } }) "
          "{ nodes { id name type position } } }")
BLOCKERS = ("query Blockers($id: String!) { issue(id: $id) { inverseRelations(first: 250) "
            "{ nodes { type issue { id } } } } }")
RELATE = ("mutation Relate($input: IssueRelationCreateInput!) { issueRelationCreate(input: $input) "
          "{ success issueRelation { id } } }")


class LinearClient:
    kind = "linear"
    supports_dependencies = True
    creates_with_status = True

    def __init__(self, api_key: str, team_id: str, *, rate: float, timeout_s: float = 30.0,
                 base_url: str = API_URL) -> None:
        self.team_id = team_id
        self.http = HttpTracker(base_url, {"Authorization": api_key, "Content-Type": "application/json"},
                                TokenBucket(rate), timeout_s)
        self._states: dict[str, str] | None = None

    async def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = await self.http.call("POST", PATH, json={"query": query, "variables": variables},
                                    permanent=frozenset({401, 403}), errors_as_body=True)
        errors = (body or {}).get("errors") or []
        if errors:
            raise _graphql_error(errors)
        return dict((body or {}).get("data") or {})

    async def check(self) -> str:
        data = await self.graphql(CHECK, {"team": self.team_id})
        if not data.get("team"):
            raise PermanentError(f"Linear team {self.team_id} not found", status=404)
        return f"{data['team']['name']} (as {data['viewer']['name']})"

    async def find(self, marker: str) -> RemoteItem | None:
        data = await self.graphql(FIND, {"team": self.team_id, "marker": marker})
        nodes = data["issues"]["nodes"]
        return _item(nodes[0]) if nodes else None

    async def create(self, task: RemoteTask) -> RemoteItem:
        fields = await self._fields(task, content=True, status=True)
        data = await self.graphql(CREATE, {"input": {"teamId": self.team_id, **fields}})
        payload = data["issueCreate"]
        if not payload.get("success") or not payload.get("issue"):
            raise RequestError("Linear did not create the issue")
        return _item(payload["issue"])

    async def update(self, item_id: str, task: RemoteTask, *, content: bool, status: bool) -> None:
        fields = await self._fields(task, content=content, status=status)
        if fields:
            await self.graphql(UPDATE, {"id": item_id, "input": fields})

    async def close(self, item_id: str) -> None:
        await self.graphql(UPDATE, {"id": item_id, "input": {"stateId": await self._state("canceled")}})

    async def has_blocker(self, item_id: str, blocker_id: str) -> bool:
        data = await self.graphql(BLOCKERS, {"id": item_id})
        nodes = ((data.get("issue") or {}).get("inverseRelations") or {}).get("nodes") or []
        return any(n["type"] == "blocks" and n["issue"]["id"] == blocker_id for n in nodes)

    async def add_blocker(self, item_id: str, blocker_id: str) -> None:
        await self.graphql(RELATE, {"input": {"issueId": blocker_id, "relatedIssueId": item_id, "type": "blocks"}})

    async def aclose(self) -> None:
        await self.http.close()

    async def _fields(self, task: RemoteTask, *, content: bool, status: bool) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if content:
            fields |= {"title": task.title, "description": task.description,
                       "priority": PRIORITY.get(task.priority, 0),
                       "dueDate": task.due.isoformat() if task.due else None}
        if status:
            fields["stateId"] = await self._state(STATE_TYPE.get(task.status, "unstarted"))
        return fields

    async def _state(self, state_type: str) -> str:
        """The team's first workflow state of a type (unstarted, started, completed, canceled), fetched once."""
        if self._states is None:
            data = await self.graphql(STATES, {"team": self.team_id})
            states: dict[str, tuple[float, str]] = {}
            for node in data["workflowStates"]["nodes"]:
                current = states.get(node["type"])
                if current is None or node["position"] < current[0]:
                    states[node["type"]] = (node["position"], node["id"])
            self._states = {kind: state_id for kind, (_, state_id) in states.items()}
        if state_type not in self._states:
            raise PermanentError(f"the Linear team has no {state_type} workflow state", status=404)
        return self._states[state_type]


def _item(node: dict[str, Any]) -> RemoteItem:
    return RemoteItem(id=str(node["id"]), key=str(node["identifier"]), url=str(node["url"]))


def _graphql_error(errors: list[dict[str, Any]]) -> Exception:
    first = errors[0]
    code = str((first.get("extensions") or {}).get("code") or "")
    message = f"Linear: {first.get('message', 'error')} ({code or 'no code'})"
    if code == "RATELIMITED":
        return TransientError(message)
    if "Entity not found: Team" in message:
        return PermanentError(message, status=404)  # the team was deleted: this will not heal
    if code in PERMANENT_CODES:
        return PermanentError(message, status=PERMANENT_CODES[code])
    if code == "INTERNAL_SERVER_ERROR":
        return TransientError(message)
    return RequestError(message)
