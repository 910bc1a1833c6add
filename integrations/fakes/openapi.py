"""Request validation against an OpenAPI document, for the fake trackers that speak REST (Notion, Asana).

A request is matched to its operation by path template and method; then its query and header parameters are
checked against their schemas (types, enums, bounds, formats) and its JSON body against the operation's request
schema with jsonschema. OpenAPI 3.0 schemas are first made plain JSON Schema: `nullable` becomes a "null" type,
and a property marked `readOnly` may not appear in a request at all. Formats that jsonschema does not check
without extra packages (date-time, uuid) are checked here.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from jsonschema import Draft7Validator, Draft202012Validator, FormatChecker
from jsonschema.protocols import Validator

METHODS = ("get", "put", "post", "delete", "patch")
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return "T" in value.upper() and parsed.tzinfo is not None


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or bool(date.fromisoformat(value)) and len(value) == 10


@FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(uuid.UUID(value)) and len(value) == 36


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the spec's path template, e.g. /tasks/{task_gid}
    pattern: re.Pattern[str]
    spec: dict[str, Any]
    parameters: tuple[dict[str, Any], ...]


@dataclass
class OpenApi:
    """One API description; `check` says what is wrong with a request by it (nothing: it is valid)."""

    document: dict[str, Any]
    prefix: str = ""  # the servers' path (e.g. /api/1.0), which the spec's paths leave out
    operations: list[Operation] = field(init=False)

    def __post_init__(self) -> None:
        self.version_30 = str(self.document.get("openapi", "")).startswith("3.0")
        self.components = _plain_components(self.document.get("components") or {}, self.version_30)
        table = []
        for path, item in self.document["paths"].items():
            shared = item.get("parameters") or []
            pattern = re.compile("^" + re.escape(self.prefix + path).replace(r"\{", "{").replace(r"\}", "}") + "$")
            pattern = re.compile(re.sub(r"\{[^}/]+\}", "[^/]+", pattern.pattern))
            for method, spec in item.items():
                if method in METHODS:
                    parameters = tuple(self._resolve(p) for p in [*shared, *(spec.get("parameters") or [])])
                    table.append(Operation(method.upper(), path, pattern, spec, parameters))
        # Literal paths before templated ones: /tasks/search must not match /tasks/{task_gid}.
        table.sort(key=lambda op: op.path.count("{"))
        self.operations = table

    def check(self, method: str, path: str, query: Iterable[tuple[str, str]], headers: dict[str, str],
              body: Any) -> tuple[Operation | None, list[str]]:
        candidates = [op for op in self.operations if op.pattern.match(path)]
        if not candidates:
            return None, [f"{path} is not a path of the API"]
        operation = next((op for op in candidates if op.method == method), None)
        if operation is None:
            return None, [f"{method} is not a method of {candidates[0].path}"]
        problems = self._check_query(operation, list(query))
        problems += self._check_headers(operation, {k.lower(): v for k, v in headers.items()})
        problems += self._check_body(operation, body)
        return operation, problems

    def _check_query(self, operation: Operation, query: list[tuple[str, str]]) -> list[str]:
        known = {p["name"]: p for p in operation.parameters if p.get("in") == "query"}
        problems = [f"unknown query parameter {name!r}" for name, _ in query if name not in known]
        given: dict[str, list[str]] = {}
        for name, value in query:
            given.setdefault(name, []).append(value)
        for name, parameter in known.items():
            if name not in given:
                if parameter.get("required"):
                    problems.append(f"missing query parameter {name!r}")
                continue
            schema = self._schema(parameter.get("schema") or {})
            if schema.get("type") == "array":
                value: Any = [item for raw in given[name] for item in raw.split(",")]
                value = [_coerce(item, schema.get("items") or {}) for item in value]
            elif len(given[name]) > 1:
                problems.append(f"query parameter {name!r} given more than once")
                continue
            else:
                value = _coerce(given[name][0], schema)
            problems += [f"query parameter {name!r}: {e.message}" for e in self._validator(schema).iter_errors(value)]
        return problems

    def _check_headers(self, operation: Operation, headers: dict[str, str]) -> list[str]:
        problems = []
        for parameter in operation.parameters:
            if parameter.get("in") != "header":
                continue
            value = headers.get(parameter["name"].lower())
            if value is None:
                if parameter.get("required"):
                    problems.append(f"missing header {parameter['name']!r}")
                continue
            schema = self._schema(parameter.get("schema") or {})
            problems += [f"header {parameter['name']!r}: {e.message}"
                         for e in self._validator(schema).iter_errors(_coerce(value, schema))]
        return problems

    def _check_body(self, operation: Operation, body: Any) -> list[str]:
        request = operation.spec.get("requestBody") or {}
        if "$ref" in request:
            request = self._resolve(request)
        schema = ((request.get("content") or {}).get("application/json") or {}).get("schema")
        if schema is None:
            return [] if body is None else [f"{operation.method} {operation.path} takes no JSON body"]
        if body is None:
            return ["the request needs a JSON body"] if request.get("required") else []
        validator = self.body_validator(operation.method, operation.path)
        return [f"body: {e.message} at {'/'.join(map(str, e.absolute_path)) or '(root)'}"
                for e in validator.iter_errors(body)]

    @functools.cache  # noqa: B019  (an OpenApi lives as long as the process: one validator per operation)
    def body_validator(self, method: str, path: str) -> Validator:
        spec = self.document["paths"][path][method.lower()]
        request = spec["requestBody"]
        if "$ref" in request:
            request = self._resolve(request)
        schema = _plain(request["content"]["application/json"]["schema"], self.version_30)
        return self._validator(schema)

    def _validator(self, schema: dict[str, Any]) -> Validator:
        cls = Draft7Validator if self.version_30 else Draft202012Validator
        return cls({**schema, "components": self.components}, format_checker=FORMATS)

    def _schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return dict(_plain(self._resolve(schema), self.version_30))

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/"):
            target: Any = self.document
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            node = target
        return node

    def __hash__(self) -> int:
        return id(self)


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    """A query or header string as the type its schema names (left a string when it does not parse)."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    return raw


def _plain_components(components: dict[str, Any], version_30: bool) -> dict[str, Any]:
    if not version_30:
        return components
    schemas = {name: _plain(schema, version_30) for name, schema in (components.get("schemas") or {}).items()}
    return {**components, "schemas": schemas}


def _plain(node: Any, version_30: bool) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema: nullable as a "null" type, readOnly properties refused in requests.

    Walks schema keywords only, so a property that happens to be called "nullable" or "properties" is left alone.
    """
    if not version_30 or not isinstance(node, dict):
        return node
    out = dict(node)
    if out.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    for key in ("items", "additionalProperties", "not"):
        if isinstance(out.get(key), dict):
            out[key] = _plain(out[key], version_30)
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(out.get(key), list):
            out[key] = [_plain(item, version_30) for item in out[key]]
    if isinstance(out.get("properties"), dict):
        out["properties"] = {name: {"not": {}} if isinstance(value, dict) and value.get("readOnly") is True
                             else _plain(value, version_30) for name, value in out["properties"].items()}
    return out
