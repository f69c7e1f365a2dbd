"""What we need to know about a Slack user (time zone, admin rights), fetched with users.info.

Answers are cached per process: time zones rarely change, and every command and nudge needs
one, so a cached answer serves for an hour. Admin rights are asked for fresher (the caller says
how old an answer may be, ``max_age``), and a ``user_change`` event from Slack replaces the
cached answer at once. When Slack cannot tell us in time, the answer is marked unknown: the
caller falls back to the workspace's time zone, or refuses what needed admin rights.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.client import FACT_PATIENCE, fact_client

log = logging.getLogger(__name__)

#: How long a cached answer serves for time zones and names.
CACHE_SECONDS = 3600.0
#: How old an answer about admin rights may be for an admin-only action (settings, export, …).
ADMIN_MAX_AGE = 180.0


@dataclass(frozen=True, slots=True)
class SlackUser:
    id: str
    tz: str | None
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    name: str = ""
    #: False when Slack could not be asked: nothing here is true, only a stand-in.
    known: bool = True

    def zone(self, fallback: ZoneInfo) -> ZoneInfo:
        if self.tz:
            try:
                return ZoneInfo(self.tz)
            except (ZoneInfoNotFoundError, ValueError):
                return fallback
        return fallback


class UserDirectory:
    def __init__(
        self,
        *,
        ttl_seconds: float = CACHE_SECONDS,
        max_entries: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        # How old an answer is, in seconds of a monotonic clock (tests pass one they can move).
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, SlackUser]] = {}

    async def get(
        self,
        client: AsyncWebClient,
        *,
        team_id: str,
        user_id: str,
        max_age: float = CACHE_SECONDS,
    ) -> SlackUser:
        """The user, from a cached answer at most ``max_age`` seconds old or from Slack."""
        key = (team_id, user_id)
        hit = self._cache.get(key)
        now = self._clock()
        if hit is not None and now - hit[0] <= min(max_age, self._ttl):
            return hit[1]
        try:
            async with asyncio.timeout(FACT_PATIENCE):
                response = await fact_client(client).users_info(user=user_id)
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.info("users.info for %s failed: %s", user_id, _reason(exc))
            return SlackUser(id=user_id, tz=None, known=False)
        user = _from_api(user_id, response.get("user") or {})
        self._store(key, user, self._clock())
        return user

    def remember(self, *, team_id: str, data: dict[str, Any]) -> None:
        """Take a user object Slack sent on its own (``user_change``) as the current answer."""
        user_id = str(data.get("id") or "")
        if user_id:
            self._store((team_id, user_id), _from_api(user_id, data), self._clock())

    def forget(self, *, team_id: str, user_id: str) -> None:
        self._cache.pop((team_id, user_id), None)

    def _store(self, key: tuple[str, str], user: SlackUser, at: float) -> None:
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[key] = (at, user)


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    error = response.get("error") if response is not None else None
    return str(error or type(exc).__name__)


def _from_api(user_id: str, data: dict[str, Any]) -> SlackUser:
    return SlackUser(
        id=str(data.get("id") or user_id),
        tz=data.get("tz"),
        is_admin=bool(data.get("is_admin")),
        is_owner=bool(data.get("is_owner")) or bool(data.get("is_primary_owner")),
        is_bot=bool(data.get("is_bot")),
        name=str(data.get("real_name") or data.get("name") or ""),
    )
