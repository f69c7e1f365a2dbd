"""A meeting's messages in its channel: the summary, its outcomes' cards, and where a button
was pressed (``Origin``), kept up to date after every change.

Beside the listeners, not among them (they never import each other): the meeting, outcome and
decision listeners all show what changed here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.decisions.models import Decision
from bot.delivery import ledger, live
from bot.delivery.models import DeliveryStatus
from bot.meetings import posts, service
from bot.meetings.models import Meeting, Outcome
from bot.slack import refreshes, replies
from bot.slack.blocks import meetings as render
from bot.slack.blocks.kit import Block, context
from bot.slack.cards import failed_for_channel
from bot.slack.daily_compose import refresh_daily_dm
from bot.slack.deps import Deps
from bot.slack.home_publish import publish_home
from bot.slack.parsing.items import item_number
from bot.workspace import WorkspaceKey

log = logging.getLogger(__name__)

INVITE_HINT = "I can't post in this channel; invite me with `/invite @Followthrough`."


# --- the channel summary ----------------------------------------------------------------------


def channel_today(deps: Deps) -> date:
    """Today where the workspace is: channel messages are read by people in many zones."""
    return deps.now().astimezone(deps.cadence.zone).date()


async def post_summary(
    client: AsyncWebClient,
    deps: Deps,
    ws: WorkspaceKey,
    meeting: Meeting,
    decisions: dict[int, Decision],
    *,
    respond: Any = None,
) -> None:
    """Send the meeting's summary, planned in the ledger with the change (bot/meetings/posts.py),
    through the outbox; the message is remembered, so later outcomes update it. Whatever Slack
    could not take now, the worker sends.

    Where the app may not post, the person who acted gets the summary (buttons included) just
    for them, when there is a ``respond`` to reach them with.
    """
    assert deps.outbox is not None, "the web app is built by bot.server.wire"
    for row in await deps.outbox.deliver_planned(ws, [posts.summary_row(meeting, now=deps.now())]):
        if row.status == DeliveryStatus.SENT:
            meeting.message_channel_id, meeting.message_ts = row.message_channel_id, row.message_ts
        elif row.status == DeliveryStatus.FAILED and failed_for_channel(row):
            log.info("cannot post %s's summary in %s", meeting.ref, meeting.channel_id)
            if respond is not None:
                blocks = render.meeting_summary(
                    meeting, decisions=decisions, today=channel_today(deps)
                )
                await respond(
                    response_type="ephemeral",
                    text=render.summary_text(meeting),
                    blocks=[*blocks, context(INVITE_HINT)],
                )


async def refresh_summary(
    client: AsyncWebClient, deps: Deps, meeting: Meeting, decisions: dict[int, Decision]
) -> None:
    """Bring the meeting's channel summary up to date, if it has one."""
    if meeting.message_channel_id is None or meeting.message_ts is None:
        return
    await replies.update_message(
        client,
        channel_id=meeting.message_channel_id,
        ts=meeting.message_ts,
        text=render.summary_text(meeting),
        blocks=render.meeting_summary(meeting, decisions=decisions, today=channel_today(deps)),
    )


async def show_meeting_everywhere(
    client: AsyncWebClient,
    deps: Deps,
    ws: WorkspaceKey,
    *,
    number: int,
    user_id: str,
    origin: Origin,
) -> None:
    """After a meeting changed: update (or, once ended, post) its summary, and the origin."""
    async with deps.db.transaction() as session:
        meeting = await service.get_meeting(session, ws=ws, number=number)
        decisions = await service.linked_decisions(session, ws=ws, meetings=[meeting])
    if meeting.message_ts is not None:
        await refresh_summary(client, deps, meeting, decisions)
    elif meeting.ended_at is not None:
        # Ended without a summary planned (a calendar feed ended it): planned now, once.
        now = deps.now()
        async with deps.db.transaction() as session:
            await ledger.plan(session, rows=[posts.summary_row(meeting, now=now)], now=now)
        await post_summary(client, deps, ws, meeting, decisions)
    if origin.is_message(meeting.message_channel_id, meeting.message_ts):
        return
    today = await deps.user_today(client, ws, user_id)
    await show_at_origin(
        client,
        deps,
        ws,
        user_id=user_id,
        origin=origin,
        text=render.summary_text(meeting),
        blocks=render.meeting_summary(
            meeting, decisions=decisions, today=today, detail=bool(origin.response_url)
        ),
    )


# --- where a button was pressed -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a button was pressed: a message (in a channel or a DM) or App Home.

    An ephemeral message can only be replaced through its ``response_url``; any other message
    the app posted is updated with chat.update.
    """

    channel_id: str = ""
    ts: str = ""
    response_url: str = ""
    home: bool = False

    @classmethod
    def of(cls, body: dict[str, Any]) -> Origin:
        container = body.get("container") or {}
        if container.get("type") == "view":
            return cls(home=True)
        if container.get("type") != "message":
            return cls()
        ephemeral = bool(container.get("is_ephemeral"))
        return cls(
            channel_id=str(container.get("channel_id") or ""),
            ts=str(container.get("message_ts") or ""),
            response_url=str(body.get("response_url") or "") if ephemeral else "",
        )

    def as_metadata(self) -> dict[str, Any]:
        """For a modal's private metadata, so its submission can update where it came from."""
        return {
            "origin": {
                "channel": self.channel_id,
                "ts": self.ts,
                "url": self.response_url,
                "home": self.home,
            }
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> Origin:
        raw = meta.get("origin")
        if not isinstance(raw, dict):
            return cls()
        return cls(
            channel_id=str(raw.get("channel") or ""),
            ts=str(raw.get("ts") or ""),
            response_url=str(raw.get("url") or ""),
            home=bool(raw.get("home")),
        )

    def is_message(self, channel_id: str | None, ts: str | None) -> bool:
        return (
            bool(self.ts)
            and not self.response_url
            and (self.channel_id, self.ts)
            == (
                channel_id,
                ts,
            )
        )


async def show_at_origin(
    client: AsyncWebClient,
    deps: Deps,
    ws: WorkspaceKey,
    *,
    user_id: str,
    origin: Origin,
    text: str,
    blocks: list[Block],
) -> None:
    """Replace the message a button was pressed on with ``blocks``, or re-publish App Home."""
    if origin.home:
        await publish_home(client, deps, ws, user_id)
    elif origin.response_url:
        await AsyncWebhookClient(origin.response_url).send(
            text=text, blocks=blocks, replace_original=True
        )
    elif origin.channel_id and origin.ts:
        if await refresh_daily_dm(
            client, deps, ws, recipient=user_id, channel_id=origin.channel_id, ts=origin.ts
        ):
            return  # the daily DM: this item's entry changes, the others keep their buttons
        await replies.update_message(
            client, channel_id=origin.channel_id, ts=origin.ts, text=text, blocks=blocks
        )


def button_number(action: dict[str, Any], prefix: str, *, ws: WorkspaceKey, stale: str) -> int:
    """The number of the item a button names (``T…:M-3``), which must be this workspace's."""
    return item_number(action.get("value"), prefix, team_id=ws.team_id, stale=stale)


# --- outcome cards -----------------------------------------------------------------------


async def plan_outcome_card(
    session: AsyncSession, outcome: Outcome, meeting: Meeting | None, *, now: datetime
) -> None:
    """Plan a new outcome's channel card in the transaction that adds it (bot/meetings/posts.py)."""
    await ledger.plan(session, rows=[posts.outcome_card_row(outcome, meeting, now=now)], now=now)


async def post_outcome_card(
    client: AsyncWebClient,
    deps: Deps,
    ws: WorkspaceKey,
    outcome: Outcome,
    meeting: Meeting | None,
    *,
    respond: Any = None,
) -> None:
    """Send a new outcome's card (planned with it) through the outbox; the message is
    remembered for Done. Whatever Slack could not take now, the worker sends."""
    assert deps.outbox is not None, "the web app is built by bot.server.wire"
    row_of = posts.outcome_card_row(outcome, meeting, now=deps.now())
    for row in await deps.outbox.deliver_planned(ws, [row_of]):
        if row.status == DeliveryStatus.SENT:
            outcome.message_channel_id, outcome.message_ts = row.message_channel_id, row.message_ts
        elif row.status == DeliveryStatus.FAILED and failed_for_channel(row):
            log.info("cannot post outcome %s in %s", outcome.id, row.recipient)
            if respond is not None:
                await respond(response_type="ephemeral", text=f"It is recorded, but {INVITE_HINT}")


async def sync_action(
    client: AsyncWebClient,
    deps: Deps,
    ws: WorkspaceKey,
    outcome: Outcome,
    *,
    redraw: Sequence[ledger.Planned],
    body: dict[str, Any] | None = None,
    action: dict[str, Any] | None = None,
) -> None:
    """Show a changed action item wherever it is shown, and where Done was pressed.

    Its card, its meeting's summary, its reminders and notices are redrawn by the outbox
    (``redraw``, planned with the change, sent here). Where Done was pressed is one of those, or
    App Home, or an ephemeral summary; any other message keeps its other items: only the blocks
    of this action (the one that held the button, and any whose id names the action) change.
    """
    await refreshes.send(deps, ws, redraw)
    if body is None:
        return
    origin = Origin.of(body)
    if any(origin.is_message(*live.refresh_target_of(row.payload)) for row in redraw):
        return
    meeting: Meeting | None = None
    decisions: dict[int, Decision] = {}
    if outcome.meeting is not None:
        async with deps.db.transaction() as session:
            meeting = await service.get_meeting(session, ws=ws, number=outcome.meeting.number)
            decisions = await service.linked_decisions(session, ws=ws, meetings=[meeting])
    user_id = body["user"]["id"]
    # Where Done was pressed only the presser reads it: overdue is judged by their calendar.
    today = await deps.user_today(client, ws, user_id)
    if origin.home:
        await show_at_origin(client, deps, ws, user_id=user_id, origin=origin, text="", blocks=[])
        return
    if origin.response_url and meeting is not None:
        # An ephemeral message with a meeting's action can only be that meeting's summary.
        await show_at_origin(
            client,
            deps,
            ws,
            user_id=user_id,
            origin=origin,
            text=render.summary_text(meeting),
            blocks=render.meeting_summary(meeting, decisions=decisions, today=today, detail=True),
        )
        return
    message = body.get("message") or {}
    blocks = render.restate_action(
        message.get("blocks") or [],
        outcome,
        pressed=str((action or {}).get("block_id") or ""),
        today=today,
    )
    await show_at_origin(
        client,
        deps,
        ws,
        user_id=user_id,
        origin=origin,
        text=str(message.get("text") or render.outcome_text(outcome)),
        blocks=blocks or render.outcome_card(outcome, meeting=meeting, today=today),
    )
