"""Getting words to the person who acted, wherever they acted from, and keeping cards current."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

log = logging.getLogger(__name__)

GONE = {"message_not_found", "channel_not_found", "cant_update_message", "is_archived"}


async def tell_user(
    client: AsyncWebClient,
    body: dict[str, Any],
    text: str,
    *,
    blocks: list[dict[str, Any]] | None = None,
) -> None:
    """An ephemeral note to whoever acted in ``body``; a DM where ephemerals can't go (App Home)."""
    user_id = (body.get("user") or {}).get("id") or body.get("user_id")
    response_url = body.get("response_url")
    if response_url:
        await AsyncWebhookClient(response_url).send(
            text=text, blocks=blocks, response_type="ephemeral", replace_original=False
        )
        return
    channel_id = (body.get("channel") or {}).get("id") or body.get("channel_id")
    if channel_id and user_id and not str(channel_id).startswith("D"):
        try:
            await client.chat_postEphemeral(
                channel=channel_id, user=user_id, text=text, blocks=blocks
            )
            return
        except SlackApiError as exc:
            log.info(
                "ephemeral to %s failed (%s); sending a DM", channel_id, exc.response.get("error")
            )
    if user_id:
        await client.chat_postMessage(channel=user_id, text=text, blocks=blocks)


async def update_message(
    client: AsyncWebClient,
    *,
    channel_id: str,
    ts: str,
    text: str,
    blocks: list[dict[str, Any]],
) -> bool:
    """Replace a message we posted; False when it is gone (deleted, archived channel)."""
    try:
        await client.chat_update(channel=channel_id, ts=ts, text=text, blocks=blocks)
    except SlackApiError as exc:
        if exc.response.get("error") in GONE:
            log.info("message %s/%s is gone; not updated", channel_id, ts)
            return False
        raise
    return True


async def update_origin_or_tell(
    client: AsyncWebClient,
    body: dict[str, Any],
    origin: dict[str, Any],
    *,
    text: str,
    blocks: list[dict[str, Any]],
    told: str,
    unless: tuple[str | None, str | None] = (None, None),
) -> None:
    """Replace the message a modal was opened from (``origin_channel``/``origin_ts`` in its
    metadata) with this answer; tell the person ``told`` instead when there is none, it is
    ``unless`` (an item's own channel card, which keeps its own look) or it is gone."""
    channel_id, ts = str(origin.get("origin_channel") or ""), str(origin.get("origin_ts") or "")
    if (
        channel_id
        and ts
        and (channel_id, ts) != unless
        and await update_message(client, channel_id=channel_id, ts=ts, text=text, blocks=blocks)
    ):
        return
    await tell_user(client, body, told)
