"""Web API methods of the stand-in: each takes the stand-in and the parsed args and returns the body."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.standin.limits import MAX_MESSAGE_TEXT
from bot.standin.messages import MessageStore
from bot.standin.payload import flag, id_list, integer, required
from bot.standin.records import SlackError

if TYPE_CHECKING:
    from bot.standin.api import SlackStandIn

Args = dict[str, Any]
Method = Callable[["SlackStandIn", Args], Awaitable[dict[str, Any]]]
METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Method], Method]:
    def register(handler: Method) -> Method:
        METHODS[name] = handler
        return handler

    return register


def page(items: list[Any], args: Args, default_limit: int) -> tuple[list[Any], str]:
    """One page of items and the next cursor (an offset), as Slack's cursor pagination hands out."""
    start = integer(args, "cursor", 0)
    limit = integer(args, "limit", default_limit) or default_limit
    chunk = items[start : start + limit]
    return chunk, str(start + limit) if start + limit < len(items) else ""


# --- identity -----------------------------------------------------------------------------------------


@method("auth.test")
async def auth_test(s: SlackStandIn, args: Args) -> dict[str, Any]:
    return {
        "ok": True,
        "url": s.url,
        "team": s.team_name,
        "user": "liftoff",
        "team_id": s.team_id,
        "user_id": s.bot_user_id,
        "bot_id": s.bot_id,
        "app_id": s.app_id,
        "is_enterprise_install": False,
    }


@method("team.info")
async def team_info(s: SlackStandIn, args: Args) -> dict[str, Any]:
    domain = s.team_name.lower().replace(" ", "-")
    return {"ok": True, "team": {"id": s.team_id, "name": s.team_name, "domain": domain}}


@method("users.info")
async def users_info(s: SlackStandIn, args: Args) -> dict[str, Any]:
    return {"ok": True, "user": s.directory.user(required(args, "user", "user_not_found"))}


@method("users.list")
async def users_list(s: SlackStandIn, args: Args) -> dict[str, Any]:
    members, cursor = page([s.directory.user(uid) for uid in s.directory.users], args, 200)
    return {"ok": True, "members": members, "response_metadata": {"next_cursor": cursor}}


@method("users.lookupByEmail")
async def users_lookup_by_email(s: SlackStandIn, args: Args) -> dict[str, Any]:
    email = str(required(args, "email", "users_not_found")).lower()
    for user_id, user in s.directory.users.items():
        if str(user.get("profile", {}).get("email", "")).lower() == email:
            return {"ok": True, "user": s.directory.user(user_id)}
    raise SlackError("users_not_found")


# --- conversations ------------------------------------------------------------------------------------


@method("conversations.info")
async def conversations_info(s: SlackStandIn, args: Args) -> dict[str, Any]:
    return {"ok": True, "channel": s.directory.channel_info(required(args, "channel", "channel_not_found"))}


@method("conversations.open")
async def conversations_open(s: SlackStandIn, args: Args) -> dict[str, Any]:
    if args.get("channel"):
        return {"ok": True, "channel": {"id": s.directory.resolve(args["channel"])}}
    users = id_list(args.get("users"))
    if not users:
        raise SlackError("users_list_not_supplied")
    for user_id in users:
        s.directory.user(user_id)
    if len(users) == 1:
        return {"ok": True, "channel": {"id": s.directory.dm_id(users[0])}}
    group_id = "G" + "".join(sorted(u.lstrip("UW") for u in users))[:20]
    s.directory.add_channel({"id": group_id, "name": "mpdm-" + "--".join(sorted(users)), "is_mpim": True})
    return {"ok": True, "channel": {"id": group_id}}


@method("conversations.join")
async def conversations_join(s: SlackStandIn, args: Args) -> dict[str, Any]:
    channel = s.directory.resolve(required(args, "channel", "channel_not_found"))
    if channel.startswith("D"):
        raise SlackError("method_not_supported_for_channel_type")
    s.directory.channels[channel]["is_member"] = True
    return {"ok": True, "channel": s.directory.channel_info(channel)}


@method("conversations.list")
async def conversations_list(s: SlackStandIn, args: Args) -> dict[str, Any]:
    infos = [s.directory.channel_info(c) for c in s.directory.channels if not c.startswith("G")]
    chunk, cursor = page(infos, args, 100)
    return {"ok": True, "channels": chunk, "response_metadata": {"next_cursor": cursor}}


@method("conversations.members")
async def conversations_members(s: SlackStandIn, args: Args) -> dict[str, Any]:
    channel = s.directory.resolve(required(args, "channel", "channel_not_found"))
    members = [channel[1:], s.bot_user_id] if channel.startswith("D") else list(s.directory.users)
    chunk, cursor = page(members, args, 100)
    return {"ok": True, "members": chunk, "response_metadata": {"next_cursor": cursor}}


@method("conversations.history")
async def conversations_history(s: SlackStandIn, args: Args) -> dict[str, Any]:
    channel = s.directory.resolve(required(args, "channel", "channel_not_found"))
    messages = s.message_store.history(
        channel,
        with_metadata=flag(args, "include_all_metadata"),
        oldest=float(args.get("oldest") or 0),
        latest=float(args.get("latest") or "inf"),
        inclusive=flag(args, "inclusive"),
    )
    chunk, cursor = page(messages, args, 100)
    return {"ok": True, "messages": chunk, "has_more": bool(cursor), "response_metadata": {"next_cursor": cursor}}


@method("conversations.replies")
async def conversations_replies(s: SlackStandIn, args: Args) -> dict[str, Any]:
    channel = s.directory.resolve(required(args, "channel", "channel_not_found"))
    thread = s.message_store.replies(
        channel, required(args, "ts", "thread_not_found"), with_metadata=flag(args, "include_all_metadata")
    )
    chunk, cursor = page(thread, args, 1000)
    return {"ok": True, "messages": chunk, "has_more": bool(cursor), "response_metadata": {"next_cursor": cursor}}


# --- chat ---------------------------------------------------------------------------------------------


def checked_text(args: Args) -> str:
    text = args.get("text") or ""
    if not isinstance(text, str):
        raise SlackError("invalid_arguments", detail="text must be a string")
    if len(text) > MAX_MESSAGE_TEXT:
        raise SlackError("msg_too_long")
    return text


def checked_metadata(args: Args) -> dict[str, Any] | None:
    metadata = args.get("metadata")
    if metadata in (None, ""):
        return None
    if not isinstance(metadata, dict) or not metadata.get("event_type") or "event_payload" not in metadata:
        raise SlackError("invalid_metadata_format")
    return metadata


@method("chat.postMessage")
async def chat_post_message(s: SlackStandIn, args: Args) -> dict[str, Any]:
    channel = s.directory.resolve(required(args, "channel", "channel_not_found"))
    if not s.directory.is_member(channel):
        raise SlackError("not_in_channel")
    text = checked_text(args)
    if not text and not args.get("blocks") and not args.get("attachments"):
        raise SlackError("no_text")
    s.check_blocks("chat.postMessage", "message", args)
    message = s.message_store.post(
        channel,
        text=text,
        blocks=args.get("blocks"),
        thread_ts=args.get("thread_ts") or None,
        metadata=checked_metadata(args),
        attachments=args.get("attachments"),
    )
    return {"ok": True, "channel": channel, "ts": message["ts"], "message": MessageStore.api_shape(message, True)}


@method("chat.postEphemeral")
async def chat_post_ephemeral(s: SlackStandIn, args: Args) -> dict[str, Any]:
    channel = s.directory.resolve(required(args, "channel", "channel_not_found"))
    user = required(args, "user", "user_not_in_channel")
    s.directory.user(user)
    text = checked_text(args)
    if not text and not args.get("blocks") and not args.get("attachments"):
        raise SlackError("no_text")
    s.check_blocks("chat.postEphemeral", "message", args)
    message = s.message_store.post_ephemeral(
        channel, user, text=text, blocks=args.get("blocks"), source="chat.postEphemeral"
    )
    return {"ok": True, "message_ts": message["ts"]}


@method("chat.update")
async def chat_update(s: SlackStandIn, args: Args) -> dict[str, Any]:
    channel = s.directory.resolve(required(args, "channel", "channel_not_found"))
    ts = required(args, "ts", "message_not_found")
    text = checked_text(args)
    if args.get("blocks") is not None:
        s.check_blocks("chat.update", "message", args)
    changes = {
        "text": text or None,
        "blocks": args.get("blocks"),
        "attachments": args.get("attachments"),
        "metadata": checked_metadata(args),
    }
    message = s.message_store.update(channel, ts, changes)
    shaped = MessageStore.api_shape(message, True)
    return {"ok": True, "channel": channel, "ts": ts, "text": message["text"], "message": shaped}


@method("chat.delete")
async def chat_delete(s: SlackStandIn, args: Args) -> dict[str, Any]:
    channel = s.directory.resolve(required(args, "channel", "channel_not_found"))
    ts = required(args, "ts", "message_not_found")
    s.message_store.delete(channel, ts)
    return {"ok": True, "channel": channel, "ts": ts}


@method("chat.getPermalink")
async def chat_get_permalink(s: SlackStandIn, args: Args) -> dict[str, Any]:
    channel = s.directory.resolve(required(args, "channel", "channel_not_found"))
    ts = required(args, "message_ts", "message_not_found")
    if s.message_store.find(channel, ts) is None:
        raise SlackError("message_not_found")
    return {"ok": True, "channel": channel, "permalink": f"{s.url}archives/{channel}/p{ts.replace('.', '')}"}


# --- views --------------------------------------------------------------------------------------------


def checked_view(s: SlackStandIn, method_name: str, args: Args, *, modal_only: bool) -> dict[str, Any]:
    view = args.get("view")
    if not isinstance(view, dict):
        raise SlackError("invalid_arguments", detail="view is required and must be a JSON object")
    kind = view.get("type")
    if kind not in ("modal", "home") or (modal_only and kind != "modal"):
        raise SlackError("invalid_arguments", detail=f"{method_name} cannot take a view of type {kind!r}")
    s.check_blocks(method_name, kind, view)
    return view


@method("views.open")
async def views_open(s: SlackStandIn, args: Args) -> dict[str, Any]:
    view = checked_view(s, "views.open", args, modal_only=True)
    return {"ok": True, "view": s.view_store.open(args.get("trigger_id") or "", view)}


@method("views.push")
async def views_push(s: SlackStandIn, args: Args) -> dict[str, Any]:
    view = checked_view(s, "views.push", args, modal_only=True)
    return {"ok": True, "view": s.view_store.push(args.get("trigger_id") or "", view)}


@method("views.update")
async def views_update(s: SlackStandIn, args: Args) -> dict[str, Any]:
    view = checked_view(s, "views.update", args, modal_only=False)
    updated = s.view_store.update(
        view, view_id=args.get("view_id"), external_id=args.get("external_id"), hash_=args.get("hash")
    )
    return {"ok": True, "view": updated}


@method("views.publish")
async def views_publish(s: SlackStandIn, args: Args) -> dict[str, Any]:
    user_id = required(args, "user_id")
    s.directory.user(user_id)
    view = checked_view(s, "views.publish", args, modal_only=False)
    return {"ok": True, "view": s.view_store.publish(user_id, view, args.get("hash"))}


# --- files (the files_upload_v2 flow) -----------------------------------------------------------------


@method("files.getUploadURLExternal")
async def files_get_upload_url_external(s: SlackStandIn, args: Args) -> dict[str, Any]:
    filename = required(args, "filename")
    length = integer(args, "length", 0)
    file_id = s.ids.file_id()
    s.files[file_id] = {"id": file_id, "name": filename, "title": filename, "size": length, "content": None}
    return {"ok": True, "upload_url": f"{s.url}upload/{file_id}", "file_id": file_id}


@method("files.completeUploadExternal")
async def files_complete_upload_external(s: SlackStandIn, args: Args) -> dict[str, Any]:
    entries = args.get("files")
    if not isinstance(entries, list) or not entries:
        raise SlackError("invalid_arguments", detail="files must be a JSON array of {id, title}")
    shared: list[dict[str, Any]] = []
    for entry in entries:
        stored = s.files.get(entry.get("id", ""))
        if stored is None or stored["content"] is None:
            raise SlackError("file_not_found")
        stored["title"] = entry.get("title") or stored["name"]
        shared.append(s.file_object(stored["id"]))
    channels = id_list(args.get("channels")) or id_list(args.get("channel_id"))
    for channel in channels:
        channel_id = s.directory.resolve(channel)
        s.message_store.post(
            channel_id,
            text=args.get("initial_comment") or "",
            thread_ts=args.get("thread_ts") or None,
            files=shared,
        )
    return {"ok": True, "files": shared}


@method("files.info")
async def files_info(s: SlackStandIn, args: Args) -> dict[str, Any]:
    file_id = required(args, "file", "file_not_found")
    if file_id not in s.files:
        raise SlackError("file_not_found")
    return {"ok": True, "file": s.file_object(file_id)}


# --- OAuth --------------------------------------------------------------------------------------------

TOKENLESS_METHODS = frozenset({"oauth.v2.access"})


@method("oauth.v2.access")
async def oauth_v2_access(s: SlackStandIn, args: Args) -> dict[str, Any]:
    """Exchange an install code (or, with token rotation, a refresh token) for a bot token of that team."""
    import secrets

    # slack_sdk sends client_id and client_secret as HTTP Basic auth, which the stand-in does not check.
    if args.get("grant_type") == "refresh_token":
        team = s.refresh_tokens.pop(str(args.get("refresh_token") or ""), None)
        if team is None:
            raise SlackError("invalid_refresh_token")
        team_id, team_name, installer = team, team, ""
    else:
        found = s.oauth_codes.pop(str(args.get("code") or ""), None)
        if found is None:
            raise SlackError("invalid_code")
        team_id, team_name, installer = found
    token = f"xoxb-{team_id}-{secrets.token_hex(8)}"
    s.issued_tokens[token] = team_id
    body: dict[str, Any] = {
        "ok": True, "access_token": token, "token_type": "bot", "scope": "commands,chat:write,users:read",
        "bot_user_id": s.bot_user_id, "app_id": s.app_id, "team": {"id": team_id, "name": team_name},
        "enterprise": None, "is_enterprise_install": False,
        "authed_user": {"id": installer} if installer else {},
    }
    if s.token_lifetime is not None:
        refresh = f"xoxe-1-{team_id}-{secrets.token_hex(8)}"
        s.refresh_tokens[refresh] = team_id
        body.update(refresh_token=refresh, expires_in=s.token_lifetime)
    return body
