"""Message shortcuts: turn any Slack message into a decision or a meeting outcome.

Each opens a modal prefilled with the message's text and keeps the message's permalink, so the
record links back to where it was said. The decision modal is the ordinary "new decision" one
(its submission is handled with /decision's); the outcome modal's is in ``outcomes``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import NotFound
from bot.meetings import service
from bot.slack.blocks import decisions as decision_blocks
from bot.slack.blocks import meetings as render
from bot.slack.deps import deps_of, workspace_of
from bot.slack.ids import Shortcut
from bot.slack.text import unescape
from bot.validation import TEXT_MAX, TITLE_MAX

log = logging.getLogger(__name__)

# Slack's control sequences in message text: <@U1|ana>, <#C1|general>, <!here>, <url|label>.
_CONTROL = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def register(app: AsyncApp) -> None:
    app.message_shortcut(Shortcut.RECORD_DECISION)(record_decision_shortcut)
    app.message_shortcut(Shortcut.RECORD_OUTCOME)(record_outcome_shortcut)


def as_typed(text: str) -> str:
    """A message's text the way a person would type it back into a form.

    User and channel mentions stay mentions (rendering keeps them live and safe); links become
    "label (url)"; broadcasts and user groups become the words they showed, which rendering
    later keeps from pinging anyone.
    """

    def plain(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target[:2] in ("@U", "@W", "#C", "#G"):
            return f"<{target}>"
        if target.startswith("!"):
            return label or "@" + target[1:].split("^")[0]
        if label and label != target:
            return f"{label} ({target})"
        return target

    return unescape(_CONTROL.sub(plain, text)).strip()


# A message that reports a decision rather than asks for one: "we agreed to move the launch".
_ALREADY_DECIDED = re.compile(
    r"(?i)\b(?:agreed|decided|settled on|signed off|approved|going with|we(?:'ll| will) go with)\b"
)


def reads_as_decided(text: str) -> bool:
    """Whether the message says a decision was made, so the form starts at "Decided already"."""
    return _ALREADY_DECIDED.search(text) is not None


def title_of(text: str) -> str:
    """The first line of ``text``, cut at a word to fit a title."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) <= TITLE_MAX:
        return first
    cut = first[: TITLE_MAX - 1].rsplit(" ", 1)[0] or first[: TITLE_MAX - 1]
    return cut.rstrip() + "…"


async def permalink_of(client: AsyncWebClient, channel_id: str, ts: str) -> str | None:
    """The message's permalink; None when Slack won't say (the record is still worth keeping)."""
    try:
        answer = await client.chat_getPermalink(channel=channel_id, message_ts=ts)
    except SlackApiError as exc:
        log.info("no permalink for %s/%s: %s", channel_id, ts, exc.response.get("error"))
        return None
    link = answer.get("permalink")
    return str(link) if link else None


async def record_decision_shortcut(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    await ack()
    channel_id = body["channel"]["id"]
    message = body.get("message") or {}
    text = as_typed(str(message.get("text") or ""))
    title = title_of(text)
    decided = reads_as_decided(text)
    link = await permalink_of(client, channel_id, str(body.get("message_ts") or message["ts"]))
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=decision_blocks.new_decision_modal(
            team_id=workspace_of(context).team_id,
            channel_id=channel_id,
            owner_id=body["user"]["id"],
            title=title,
            context_text=text[:TEXT_MAX] if text != title else "",
            source_permalink=link,
            decided=decided,
            resolution=text[:TEXT_MAX] if decided else "",
        ),
    )


async def record_outcome_shortcut(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    channel_id = body["channel"]["id"]
    message = body.get("message") or {}
    async with deps.db.transaction() as session:
        meetings = await service.recent_meetings(
            session, ws=ws, channel_id=channel_id, limit=render.PICKER_MEETINGS_MAX
        )
    if not meetings:
        # Refused before the acknowledgement, as the button handlers in ``meetings`` explain.
        raise NotFound(
            "This channel has no meeting to add an outcome to. `/meeting log TITLE` records "
            "one that already happened; then try the shortcut again."
        )
    await ack()
    link = await permalink_of(client, channel_id, str(body.get("message_ts") or message["ts"]))
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=render.record_outcome_modal(
            meetings,
            team_id=ws.team_id,
            channel_id=channel_id,
            text=as_typed(str(message.get("text") or ""))[:TEXT_MAX],
            source_permalink=link,
        ),
    )
