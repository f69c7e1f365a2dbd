"""What `/meeting calendar list` shows: each feed masked, with its fetch state."""

from __future__ import annotations

from collections.abc import Sequence

from bot.calendars.service import FeedView
from bot.slack.blocks.meetings import moment_text
from bot.slack.text import escape, mention


def feed_line(view: FeedView) -> str:
    feed = view.feed
    parts = [f"*{view.position}.* `{escape(feed.url_masked)}` added by {mention(feed.added_by)}"]
    if feed.last_fetched_at is None:
        parts.append("not read yet (the next worker pass reads it)")
    elif feed.last_error is not None:
        parts.append(
            f":warning: last tried {moment_text(feed.last_fetched_at)}: {escape(feed.last_error)}"
            f" Next try {moment_text(feed.next_fetch_at)}."
        )
    else:
        upcoming = f"{view.upcoming} upcoming meeting{'s' if view.upcoming != 1 else ''}"
        parts.append(f"last read {moment_text(feed.last_fetched_at)}, {upcoming}")
    return " · ".join(parts)


def feed_list_text(views: Sequence[FeedView]) -> str:
    if not views:
        return (
            "This channel follows no calendar yet. `/meeting calendar add URL` adds one: "
            "use the calendar's “secret address in iCal format”."
        )
    lines = ["*Calendars this channel follows*", *(feed_line(v) for v in views)]
    return "\n".join(lines)
