"""How requests reach the fake Slack and answers leave it: tokens, form and JSON bodies,
message content, metadata and pagination cursors, the way slack_sdk encodes them."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from typing import Any

from aiohttp import web

from bot.devtools.fake_slack.records import ApiError, JsonDict

# slack_sdk sends these as JSON strings inside form bodies; tests want the objects.
_JSON_STRING_FIELDS = frozenset(
    {"blocks", "view", "attachments", "files", "metadata", "user_auth_blocks", "unfurls"}
)


def bearer_token(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def basic_credentials(header: str | None) -> dict[str, str]:
    if not header or header[:6].lower() != "basic ":
        return {}
    try:
        decoded = base64.b64decode(header[6:].strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return {}
    client_id, _, client_secret = decoded.partition(":")
    return {"client_id": client_id, "client_secret": client_secret}


async def read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method != "GET" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for name in _JSON_STRING_FIELDS & params.keys():
        value = params[name]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[name] = json.loads(value)
    return params


def message_content(
    params: dict[str, Any],
) -> tuple[str | None, list[Any] | None, list[Any] | None]:
    text = params.get("text")
    blocks = params.get("blocks")
    attachments = params.get("attachments")
    return (
        str(text) if text is not None else None,
        blocks if isinstance(blocks, list) else None,
        attachments if isinstance(attachments, list) else None,
    )


def message_metadata(value: Any) -> JsonDict | None:
    """Message metadata as Slack keeps it: an event type and a payload object."""
    if not isinstance(value, dict) or not isinstance(value.get("event_type"), str):
        return None
    payload = value.get("event_payload")
    return {
        "event_type": value["event_type"],
        "event_payload": payload if isinstance(payload, dict) else {},
    }


def encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def decode_cursor(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        prefix, _, number = base64.b64decode(str(cursor)).decode().partition(":")
        if prefix != "offset":
            raise ValueError(cursor)
        return int(number)
    except ValueError as exc:
        raise ApiError("invalid_cursor") from exc
