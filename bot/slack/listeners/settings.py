"""/hygiene settings: the admins' cadence modal, saved per workspace and audited."""

from __future__ import annotations

from bot.errors import Conflict
from bot.slack.listeners.stats import HygieneRequest


async def open_settings(request: HygieneRequest) -> None:
    raise Conflict("This part of /hygiene is not available in this build yet.")
