"""The privacy rule: who may see what was said in which channel.

Public channels are open to everyone in the workspace; a private channel, DM or group DM only
to its members (conversations.info, then conversations.members). Decision lists, App Home,
stats, digests and exports all ask through this one class, which caches per request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.client import FACT_PATIENCE, fact_client

log = logging.getLogger(__name__)

LOOKUP_CONCURRENCY = 4


def is_person(recipient: str) -> bool:
    """User ids get a DM and see their private channels; anything else is a channel."""
    return recipient[:1] in ("U", "W")


class ChannelAccess:
    """Which channels a reader may see, asking Slack once per channel (and member list)."""

    def __init__(self, client: AsyncWebClient) -> None:
        # Lookups wait out a 429 (bounded by FACT_PATIENCE); the ack deadline keeps the person
        # informed meanwhile (bot/slack/ack_budget.py).
        self._client = fact_client(client)
        self._info: dict[str, dict[str, Any] | None] = {}
        self._members: dict[str, frozenset[str]] = {}
        self._limit = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def readable(self, channel_ids: Iterable[str], reader: str) -> set[str]:
        """The channels among ``channel_ids`` whose numbers may reach ``reader``."""
        ids = sorted(set(channel_ids))
        allowed = await asyncio.gather(*(self.may_see(c, reader) for c in ids))
        return {channel for channel, ok in zip(ids, allowed, strict=True) if ok}

    async def may_see(self, channel_id: str, reader: str) -> bool:
        info = await self._channel(channel_id)
        if info is None:
            return False
        if not (info.get("is_private") or info.get("is_im") or info.get("is_mpim")):
            return True
        return is_person(reader) and reader in await self._member_ids(channel_id)

    def name(self, channel_id: str) -> str | None:
        info = self._info.get(channel_id)
        name = info.get("name") if info else None
        return name if isinstance(name, str) and name else None

    async def _channel(self, channel_id: str) -> dict[str, Any] | None:
        if channel_id not in self._info:
            async with self._limit:
                try:
                    async with asyncio.timeout(FACT_PATIENCE):
                        response = await self._client.conversations_info(channel=channel_id)
                    found = response.get("channel")
                except SlackApiError as exc:
                    log.info("channel %s left out: %s", channel_id, exc.response.get("error"))
                    found = None
                except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
                    log.info("channel %s left out: %s", channel_id, type(exc).__name__)
                    found = None
            self._info[channel_id] = found if isinstance(found, dict) else None
        return self._info[channel_id]

    async def _member_ids(self, channel_id: str) -> frozenset[str]:
        if channel_id not in self._members:
            members: set[str] = set()
            cursor: str | None = None
            async with self._limit:
                try:
                    async with asyncio.timeout(FACT_PATIENCE):
                        while True:
                            page = await self._client.conversations_members(
                                channel=channel_id, cursor=cursor, limit=1000
                            )
                            members.update(page.get("members") or [])
                            cursor = (page.get("response_metadata") or {}).get("next_cursor")
                            if not cursor:
                                break
                except SlackApiError as exc:
                    log.info("members of %s unknown: %s", channel_id, exc.response.get("error"))
                    members = set()
                except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
                    log.info("members of %s unknown: %s", channel_id, type(exc).__name__)
                    members = set()
            self._members[channel_id] = frozenset(members)
        return self._members[channel_id]
