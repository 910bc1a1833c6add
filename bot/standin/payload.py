"""Read Web API arguments the way Slack does: query string, form or JSON body, JSON-in-form fields."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bot.standin.records import SlackError

# Fields slack_sdk serialises to JSON strings when it sends a form body.
JSON_STRING_FIELDS = ("blocks", "view", "attachments", "metadata", "files", "unfurls", "user_auth_blocks")


async def read_args(request: web.Request) -> dict[str, Any]:
    """Merge query parameters and the body (JSON, urlencoded or multipart) into one args dict."""
    args: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except json.JSONDecodeError as exc:
                raise SlackError("invalid_json") from exc
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            args.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                args[key] = value.file.read() if isinstance(value, web.FileField) else value
    for key in JSON_STRING_FIELDS:
        if isinstance(args.get(key), str) and args[key]:
            try:
                args[key] = json.loads(args[key])
            except json.JSONDecodeError as exc:
                raise SlackError("invalid_arguments", detail=f"{key} is not valid JSON") from exc
    return args


def bearer_token(request: web.Request, args: dict[str, Any]) -> str | None:
    """The token from the Authorization header, else from a `token` argument (removed from args)."""
    token = args.pop("token", None)
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return token if isinstance(token, str) else None


def flag(args: dict[str, Any], key: str) -> bool:
    """A boolean argument as sent by slack_sdk (True, "1", "true")."""
    value = args.get(key)
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def integer(args: dict[str, Any], key: str, default: int) -> int:
    value = args.get(key)
    if value in (None, ""):
        return default
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise SlackError("invalid_arguments", detail=f"{key} must be an integer") from exc


def required(args: dict[str, Any], key: str, error: str = "invalid_arguments") -> Any:
    value = args.get(key)
    if value in (None, "", [], {}):
        raise SlackError(error, detail=f"missing required argument: {key}")
    return value


def id_list(value: Any) -> list[str]:
    """A comma-separated string or a list of ids as a list."""
    if value in (None, ""):
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]
