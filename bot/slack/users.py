"""What we need to know about a Slack user (time zone, admin rights), fetched with users.info.

Answers are cached per process for a while: time zones rarely change, and every command and
nudge needs one. When Slack cannot tell us, the workspace's fallback time zone is used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

CACHE_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class SlackUser:
    id: str
    tz: str | None
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    name: str = ""

    def zone(self, fallback: ZoneInfo) -> ZoneInfo:
        if self.tz:
            try:
                return ZoneInfo(self.tz)
            except (ZoneInfoNotFoundError, ValueError):
                return fallback
        return fallback


class UserDirectory:
    def __init__(self, *, ttl_seconds: float = CACHE_SECONDS, max_entries: int = 50_000) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._cache: dict[tuple[str, str], tuple[float, SlackUser]] = {}

    async def get(self, client: AsyncWebClient, *, team_id: str, user_id: str) -> SlackUser:
        key = (team_id, user_id)
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError:
            return SlackUser(id=user_id, tz=None)
        user = _from_api(user_id, response.get("user") or {})
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[key] = (now + self._ttl, user)
        return user

    def forget(self, *, team_id: str, user_id: str) -> None:
        self._cache.pop((team_id, user_id), None)


def _from_api(user_id: str, data: dict[str, Any]) -> SlackUser:
    return SlackUser(
        id=str(data.get("id") or user_id),
        tz=data.get("tz"),
        is_admin=bool(data.get("is_admin")),
        is_owner=bool(data.get("is_owner")) or bool(data.get("is_primary_owner")),
        is_bot=bool(data.get("is_bot")),
        name=str(data.get("real_name") or data.get("name") or ""),
    )
