"""Turning text into Slack mrkdwn without letting people's words do things they should not.

Text typed by people is stored as typed and only made safe here, at render time. In mrkdwn
``&``, ``<`` and ``>`` are control characters: ``<!channel>`` pings a whole channel,
``<http://evil|innocent>`` is a link whose label lies, ``<!subteam^S1>`` pings a user group.
Rendering user text escapes all of that, while keeping user and channel mentions live because
people expect ``/decision new … <@U123>`` to show a name, not a code.

Line breaks are the app's: typed text never starts a line that could pass for one the app
wrote ("*D-99* :white_check_mark: decided by @admin"). ``render_user_text`` folds a person's
line breaks into spaces; where several lines of theirs are worth keeping (a decision's context
or resolution on its card), ``render_user_paragraphs`` shows each as a quote.

Every function is pure so rendering code and tests can use them freely.
"""

import re
from datetime import UTC, date, datetime
from typing import Final
from zoneinfo import ZoneInfo

#: Placed between ``@`` and ``channel``/``here``/``everyone`` so the words never ping. The
#: WORD JOINER is invisible, has no joining or emoji semantics (unlike ZWJ) and, unlike a zero
#: width space, does not let the line break between ``@`` and the word. Slack only turns the
#: bare words into broadcasts with ``parse=full``, which we never use; this is belt and braces.
BROADCAST_BREAKER: Final = "\u2060"

_USER_ID = r"[UW][A-Z0-9]+"
_CHANNEL_ID = r"[CG][A-Z0-9]+"

# What Slack made of what the person typed: a mention (its optional ``|label`` is the name at
# typing time; Slack renders the current name without it), a link (``<https://x>`` or ``<https://x|text>``),
# a broadcast (``<!here>``) or a user group (``<!subteam^S1|@team>``). Rendered as typed: the
# link stays a link with its own text, the broadcast and the group read as words.
_TYPED_ENTITY = re.compile(
    rf"<@({_USER_ID})(?:\|[^<>]*)?>|<#({_CHANNEL_ID})(?:\|[^<>]*)?>"
    r"|<((?i:https?)://[^\s<>|]+)(?:\|([^<>]*))?>"
    r"|<!(here|channel|everyone)(?:\|[^<>]*)?>"
    r"|<!subteam\^[A-Z0-9]+(?:\|([^<>]*))?>"
)
# No trailing word boundary: "@here0" cut to "@here" by truncation must still be harmless.
_BARE_BROADCAST = re.compile(r"(?<!\w)@(channel|here|everyone)", re.IGNORECASE)
_USER_ID_ONLY = re.compile(rf"{_USER_ID}")
# A line break in any of its forms (what str.splitlines() splits on), with the spaces around it.
_LINE_BREAK = re.compile(r"[ \t]*[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+[ \t]*")
_CHANNEL_ID_ONLY = re.compile(rf"{_CHANNEL_ID}")

# Units truncate() must not split: escape entities and whole ``<…>`` control sequences (a
# half mention such as ``<@U12`` would be a stray control character).
_ATOMIC = re.compile(r"&(?:[A-Za-z]+|#[0-9]+|#x[0-9A-Fa-f]+);|<[^<>]*>")

_WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


def escape(text: str) -> str:
    """Make ``text`` inert in mrkdwn: nothing in it can mention, broadcast or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo Slack's escaping of ``&``, ``<`` and ``>`` (as in slash command text).

    Only these three entities exist in Slack's escaping; ``&amp;`` goes last so that a typed
    ``&lt;`` (arriving as ``&amp;lt;``) comes back as the four characters the person typed.
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _neutralise_broadcast_words(text: str) -> str:
    return _BARE_BROADCAST.sub(lambda m: f"@{BROADCAST_BREAKER}{m.group(1)}", text)


def render_user_text(text: str) -> str:
    """Render text a person typed as mrkdwn, keeping only user and channel mentions live.

    ``<@U…>``/``<@W…>`` and ``<#C…>`` (also legacy private ``<#G…>``) stay mentions, without
    their ``|label``. A link the person typed stays a link with its own text; ``<!here>`` and
    user groups read as the words typed ("@here") and ping nobody; anything else Slack would
    interpret (dates, other ``<!…>``) is escaped and shows as typed. The bare words
    ``@channel``, ``@here`` and ``@everyone`` get an invisible :data:`BROADCAST_BREAKER`.
    Formatting characters (``*``, ``_``, ``~``, backticks) are left alone: formatting is not
    dangerous. Line breaks become spaces, so the text stays on the line the app put it on.
    """
    text = _LINE_BREAK.sub(" ", text)
    parts: list[str] = []
    last = 0
    for match in _TYPED_ENTITY.finditer(text):
        parts.append(_inert(text[last : match.start()]))
        user_id, channel_id, url, label, broadcast, group = match.groups()
        if user_id:
            parts.append(mention(user_id))
        elif channel_id:
            parts.append(channel_mention(channel_id))
        elif url:
            shown = _inert(label).strip() if label else ""
            parts.append(f"<{url.replace('&', '&amp;')}|{shown}>" if shown else f"<{url}>")
        elif broadcast:
            parts.append(_inert(f"@{broadcast.lower()}"))
        else:
            parts.append(_inert(group if group else "@group"))
        last = match.end()
    parts.append(_inert(text[last:]))
    return "".join(parts)


def _inert(text: str) -> str:
    """Typed words that can do nothing in mrkdwn: escaped, broadcast words broken."""
    return _neutralise_broadcast_words(escape(text))


def render_user_paragraphs(text: str) -> str:
    """Several lines a person wrote, each rendered as by ``render_user_text`` and quoted (``>``).

    The quote bar marks every line as theirs; a typed ``>`` is escaped and cannot fake one.
    """
    lines = [line.strip() for line in _LINE_BREAK.split(text.strip())]
    return "\n".join(f">{render_user_text(line)}" if line else ">" for line in lines)


def truncate(text: str, limit: int, *, ellipsis: str = "…") -> str:
    """Shorten ``text`` to at most ``limit`` characters, ending with ``ellipsis`` when cut.

    Works on rendered mrkdwn: an entity such as ``&amp;`` or a ``<…>`` mention is kept whole
    or dropped whole, never split. When ``limit`` is too small for the ellipsis, the text is
    cut without one.
    """
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if len(ellipsis) >= limit:
        ellipsis = ""
    cut = limit - len(ellipsis)
    for match in _ATOMIC.finditer(text):
        if match.start() >= cut:
            break
        if match.end() > cut:
            cut = match.start()
            break
    return text[:cut].rstrip() + ellipsis


def mention(user_id: str) -> str:
    """A live mention of a user, e.g. ``<@U123>``; the id must come from Slack, not from text."""
    if not _USER_ID_ONLY.fullmatch(user_id):
        raise ValueError(f"not a Slack user id: {user_id!r}")
    return f"<@{user_id}>"


def channel_mention(channel_id: str) -> str:
    """A live link to a channel, e.g. ``<#C123>``."""
    if not _CHANNEL_ID_ONLY.fullmatch(channel_id):
        raise ValueError(f"not a Slack channel id: {channel_id!r}")
    return f"<#{channel_id}>"


#: How every surface names a DM or group DM: never by its id.
DIRECT_PLACE: Final = "a direct message"


def is_direct_item(channel_id: str, *, direct: bool = False) -> bool:
    """Recorded in a DM or group DM: the item says so (``direct``), or its id is no channel's.

    A group DM's id looks like a channel's (``C…``/``G…``), so the id alone cannot tell; the
    item's ``direct`` flag, set when it was recorded, does. A DM's id (``D…``), or a person's
    (an item whose conversation is their DM with the app), is never a channel.
    """
    return direct or not _CHANNEL_ID_ONLY.fullmatch(channel_id)


def conversation_text(channel_id: str, *, direct: bool = False) -> str:
    """Where an item was recorded: a channel link, or "a direct message" for a DM or group DM."""
    if is_direct_item(channel_id, direct=direct):
        return DIRECT_PLACE
    return channel_mention(channel_id)


def date_text(d: date) -> str:
    """A calendar date as people read it, e.g. ``Fri 27 Nov 2026``.

    Plain text on purpose: a due date is a day, not an instant, so it needs no per-reader
    timezone conversion through Slack's ``<!date…>`` token. Names are fixed English, not the
    server's locale.
    """
    return f"{_WEEKDAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]} {d.year}"


def day_text(d: date) -> str:
    """A day near now, without its year, e.g. ``Mon 30 Nov``."""
    return f"{_WEEKDAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]}"


def until_text(until: datetime, zone: ZoneInfo) -> str:
    """An instant soon, on a person's clock, e.g. ``Mon 30 Nov, 09:00``."""
    local = until.astimezone(zone)
    return f"{day_text(local.date())}, {local:%H:%M}"


def due_understood(due: date | None, said: str | None, kept_by: str | None) -> str:
    """How an acknowledgement reports a due date: as a date and in the person's own words.

    ``kept_by`` is a trailing "by …" that was not read as a date and stayed in the title; the
    ack says so, so that a misread shows at once.
    """
    if due is not None:
        words = f" (you said {_quoted(said)})" if said else ""
        return f"due {date_text(due)}{words}"
    if kept_by:
        return f"no due date: I read {_quoted(kept_by)} as part of the title"
    return "no due date"


def place_text(channel_id: str, *, direct: bool = False) -> str:
    """Where something was just recorded: "in" a channel link, or "in this conversation" for a
    DM or group DM (the reader is in it)."""
    if is_direct_item(channel_id, direct=direct):
        return "in this conversation"
    return f"in {channel_mention(channel_id)}"


def _quoted(text: str) -> str:
    return f"“{render_user_text(' '.join(text.split()))}”"


def full_stop(rendered: str) -> str:
    """``rendered`` ended as a sentence: a full stop unless it already ends in one ("keep?")."""
    return rendered if rendered.rstrip().endswith((".", "?", "!", "…")) else f"{rendered}."


def moment_token(moment: datetime) -> str:
    """An instant each reader's Slack shows in their own zone, with a UTC fallback."""
    stamp = int(moment.timestamp())
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{fallback}>"
