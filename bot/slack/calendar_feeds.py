"""`/meeting calendar add|list|remove`: the calendar feeds a channel follows.

Called by the /meeting listener (one slash command, one listener); imports no other listener.
Anyone who can use the command in the channel (its members, and admins) may add or remove its
feeds. The address is a secret: it is never echoed back, only its masked form.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck

from bot.calendars import service
from bot.slack.blocks.calendars import feed_list_text
from bot.slack.deps import Deps
from bot.slack.parsing import commands as grammar
from bot.slack.text import escape
from bot.workspace import WorkspaceKey

CalendarCommand = grammar.CalendarAdd | grammar.CalendarList | grammar.CalendarRemove


async def calendar_command(
    ack: AsyncAck,
    cmd: CalendarCommand,
    *,
    deps: Deps,
    ws: WorkspaceKey,
    user_id: str,
    channel_id: str,
) -> None:
    match cmd:
        case grammar.CalendarAdd(url=url):
            least = deps.cadence.calendars.min_attendees
            people = {1: "one person or more", 2: "two or more people"}.get(
                least, f"at least {least} people"
            )
            async with deps.db.transaction() as session:
                feed = await service.add_feed(
                    session,
                    ws=ws,
                    channel_id=channel_id,
                    url=url,
                    added_by=user_id,
                    options=deps.calendars,
                    now=deps.now(),
                )
            await ack(
                response_type="ephemeral",
                text=(
                    f"This channel now follows the calendar `{escape(feed.url_masked)}`. "
                    f"Its events with {people} become meetings here, and each one that ends "
                    "owes its outcomes. `/meeting calendar list` shows how reading it goes."
                ),
            )
        case grammar.CalendarList():
            async with deps.db.transaction() as session:
                views = await service.list_feeds(
                    session, ws=ws, channel_id=channel_id, now=deps.now()
                )
            await ack(response_type="ephemeral", text=feed_list_text(views))
        case grammar.CalendarRemove(position=position):
            async with deps.db.transaction() as session:
                feed = await service.remove_feed(
                    session, ws=ws, channel_id=channel_id, position=position
                )
            await ack(
                response_type="ephemeral",
                text=(
                    f"This channel no longer follows `{escape(feed.url_masked)}`. "
                    "The meetings it already brought in stay."
                ),
            )
