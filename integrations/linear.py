"""Linear over its GraphQL API: issues, workflow states and "blocks" relations.

The idempotency marker is written into the issue description and found with an `issues` filter on it.
Errors come back as GraphQL errors with an extensions code; authentication and permission codes stop the
destination, RATELIMITED is retried like a 429.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from integrations.tracker_http import HttpTracker, PermanentError, RequestError, TokenBucket, TransientError
from integrations.tracker_owner import OwnerDirectory
from integrations.trackers import RemoteChange, RemoteItem, RemoteTask

API_URL = "https://api.linear.app"
PATH = "/graphql"
PRIORITY = {"P0": 1, "P1": 2, "P2": 3, "P3": 4}  # Linear: 1 urgent, 2 high, 3 medium, 4 low
STATE_TYPE = {"todo": "unstarted", "in_progress": "started", "blocked": "started", "done": "completed"}
# Linear state type -> our status. Canceled counts as done: the work is not left to do (a removed task's item is
# canceled by us, and its link finds no task any more).
STATUS_OF_TYPE = {"triage": "todo", "backlog": "todo", "unstarted": "todo", "started": "in_progress",
                  "completed": "done", "canceled": "done"}
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
STATUS = "query StatusOf($id: String!) { issue(id: $id) { id updatedAt state { type } } }"
CHANGED = ("query Changed($team: ID!, $since: DateTimeOrDuration!, $after: String) { issues(first: 100, "
           "after: $after, filter: { team: { id: { eq: $team } }, updatedAt: { gte: $since } }) "
           "{ nodes { id updatedAt state { type } } pageInfo { hasNextPage endCursor } } }")
# The owner's email is a variable, never part of the query text. Case-insensitive: Slack and Linear may differ.
USER = "query Owner($email: String!) { users(first: 1, filter: { email: { eqIgnoreCase: $email } }) { nodes { id } } }"
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
        self.owners = OwnerDirectory(self._user_id)

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

    async def status_of(self, item_id: str) -> RemoteChange | None:
        try:
            data = await self.graphql(STATUS, {"id": item_id})
        except RequestError as exc:
            if "Entity not found" in str(exc):
                return None
            raise
        return change_of(data["issue"]) if data.get("issue") else None

    async def changed_since(self, since: datetime) -> list[RemoteChange]:
        changes: list[RemoteChange] = []
        after: str | None = None
        while True:
            data = await self.graphql(CHANGED, {"team": self.team_id, "since": since.astimezone(UTC).isoformat(),
                                                "after": after})
            issues = data["issues"]
            changes += [change for change in map(change_of, issues["nodes"]) if change is not None]
            if not issues["pageInfo"]["hasNextPage"]:
                return changes
            after = issues["pageInfo"]["endCursor"]

    async def aclose(self) -> None:
        await self.http.close()

    async def _fields(self, task: RemoteTask, *, content: bool, status: bool) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if content:
            fields |= {"title": task.title, "description": task.description,
                       "priority": PRIORITY.get(task.priority, 0),
                       "dueDate": task.due.isoformat() if task.due else None,
                       "assigneeId": await self.owners.user_id(task.owner_email)}
        if status:
            fields["stateId"] = await self._state(STATE_TYPE.get(task.status, "unstarted"))
        return fields

    async def _user_id(self, email: str) -> str | None:
        data = await self.graphql(USER, {"email": email})
        nodes = (data.get("users") or {}).get("nodes") or []
        return str(nodes[0]["id"]) if nodes else None

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


def change_of(node: dict[str, Any]) -> RemoteChange | None:
    """An issue's id, its state mapped to our status, and its updatedAt (a webhook's `data` has the same shape)."""
    state = str((node.get("state") or {}).get("type") or "")
    status = STATUS_OF_TYPE.get(state)
    if status is None or not node.get("id") or not node.get("updatedAt"):
        return None
    return RemoteChange(item_id=str(node["id"]), status=status, changed_at=parse_time(str(node["updatedAt"])))


def parse_time(value: str) -> datetime:
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


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
