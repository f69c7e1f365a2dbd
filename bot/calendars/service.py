"""What a channel does with its calendar feeds: add, list, remove.

Functions take keyword-only arguments, work inside the caller's transaction and never commit;
every query filters by the workspace key.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.calendars.fetch import check_url_form
from bot.calendars.models import CalendarFeed, CalendarOccurrence
from bot.calendars.secrets import SecretBox, mask_url
from bot.errors import Conflict, InvalidInput, NotFound, UserError
from bot.workspace import WorkspaceKey

FEEDS_PER_CHANNEL = 10
URL_MAX = 2000


@dataclass(frozen=True, slots=True)
class CalendarOptions:
    """What the operator decided about feeds (settings); the listener and worker share it."""

    box: SecretBox | None = None
    allow_private: bool = False


@dataclass(frozen=True, slots=True)
class FeedView:
    """One feed as `list` shows it: its position, masked address and fetch state."""

    position: int
    feed: CalendarFeed
    upcoming: int


def _refuse_private_literal(url: str) -> None:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        raise InvalidInput(code="calendar.local_address")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return  # a name: resolved and checked when it is fetched
    if not address.is_global:
        raise InvalidInput(code="calendar.private_address")


async def add_feed(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    channel_id: str,
    url: str,
    added_by: str,
    options: CalendarOptions,
    now: datetime,
) -> CalendarFeed:
    """Follow the feed at ``url`` in the channel; fetched on the worker's next tick."""
    if options.box is None:
        raise UserError(code="calendar.no_key")
    url = url.strip().strip("<>")
    if len(url) > URL_MAX:
        raise InvalidInput(code="calendar.url_too_long", most=URL_MAX)
    try:
        url = check_url_form(url)
    except ValueError as exc:
        raise InvalidInput(code="calendar.unreadable_url", why=str(exc)) from None
    if not options.allow_private:
        _refuse_private_literal(url)
    feeds = await _channel_feeds(session, ws=ws, channel_id=channel_id)
    if len(feeds) >= FEEDS_PER_CHANNEL:
        raise Conflict(code="calendar.too_many", most=FEEDS_PER_CHANNEL)
    for position, feed in enumerate(feeds, start=1):
        if options.box.open(feed.url_secret) == url:
            raise Conflict(code="calendar.already_followed", position=position)
    feed = CalendarFeed(
        **CalendarFeed.key_values(ws),
        channel_id=channel_id,
        url_secret=options.box.seal(url),
        url_masked=mask_url(url),
        added_by=added_by,
        created_at=now,
        failures=0,
        events=0,
        next_fetch_at=now,
    )
    session.add(feed)
    await session.flush()
    return feed


async def _channel_feeds(
    session: AsyncSession, *, ws: WorkspaceKey, channel_id: str
) -> list[CalendarFeed]:
    rows = await session.scalars(
        select(CalendarFeed)
        .where(CalendarFeed.in_workspace(ws), CalendarFeed.channel_id == channel_id)
        .order_by(CalendarFeed.id)
    )
    return list(rows)


async def list_feeds(
    session: AsyncSession, *, ws: WorkspaceKey, channel_id: str, now: datetime
) -> list[FeedView]:
    feeds = await _channel_feeds(session, ws=ws, channel_id=channel_id)
    rows = await session.execute(
        select(CalendarOccurrence.feed_id, func.count())
        .where(
            CalendarOccurrence.in_workspace(ws),
            CalendarOccurrence.channel_id == channel_id,
            CalendarOccurrence.starts_at >= now,
        )
        .group_by(CalendarOccurrence.feed_id)
    )
    counts: dict[int, int] = {feed_id: count for feed_id, count in rows}
    return [
        FeedView(position=i, feed=feed, upcoming=counts.get(feed.id, 0))
        for i, feed in enumerate(feeds, start=1)
    ]


async def remove_feed(
    session: AsyncSession, *, ws: WorkspaceKey, channel_id: str, position: int
) -> CalendarFeed:
    """Stop following the channel's feed number ``position`` (as `list` numbers them).

    Meetings it already produced stay; its expected meetings go with it.
    """
    feeds = await _channel_feeds(session, ws=ws, channel_id=channel_id)
    if not 1 <= position <= len(feeds):
        raise NotFound(code="calendar.not_found", position=position, followed=len(feeds))
    feed = feeds[position - 1]
    await session.execute(
        delete(CalendarOccurrence).where(
            CalendarOccurrence.in_workspace(ws), CalendarOccurrence.feed_id == feed.id
        )
    )
    await session.delete(feed)
    return feed
