"""/meeting, and the buttons and modals that make an ended meeting account for its outcomes.

The "Record outcomes" and "No outcome needed" buttons also travel in reminder DMs and on App
Home, so their handlers never assume where they were pressed: ``Origin`` says, and what changed
is shown right there as well as on the meeting's own channel summary.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.decisions.models import Decision
from bot.delivery import ledger
from bot.delivery.models import DeliveryStatus
from bot.errors import UserError
from bot.meetings import posts, service
from bot.meetings.models import Meeting
from bot.slack import calendar_feeds as calendars
from bot.slack import replies
from bot.slack.blocks import meetings as render
from bot.slack.blocks.kit import Block, context
from bot.slack.cards import failed_for_channel
from bot.slack.daily_compose import refresh_daily_dm
from bot.slack.deps import Deps, deps_of, workspace_of
from bot.slack.ids import Action, Command
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.modal_state import view_metadata, view_value
from bot.slack.parsing import commands as grammar
from bot.slack.parsing.dates import parse_past_date, parse_time
from bot.slack.parsing.items import item_number
from bot.slack.text import mention, place_text, unescape
from bot.visibility import Visibility
from bot.workspace import Actor, WorkspaceKey

log = logging.getLogger(__name__)

INVITE_HINT = "I can't post in this channel; invite me with `/invite @Followthrough`."


def register(app: AsyncApp) -> None:
    app.command(Command.MEETING)(meeting_command)
    app.action(Action.MEETING_RECORD_OUTCOMES)(record_outcomes_pressed)
    app.action(Action.MEETING_NO_OUTCOME)(no_outcome_pressed)
    app.view(ViewId.NO_OUTCOME)(no_outcome_submitted)


# --- /meeting -------------------------------------------------------------------------------


async def meeting_command(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: Any,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    cmd = grammar.parse_meeting(command.get("text") or "")
    user_id, channel_id = command["user_id"], command["channel_id"]
    match cmd:
        case grammar.Help():
            await ack(response_type="ephemeral", text=grammar.MEETING_USAGE)
        case grammar.CalendarAdd() | grammar.CalendarList() | grammar.CalendarRemove():
            await calendars.calendar_command(
                ack, cmd, deps=deps, ws=ws, user_id=user_id, channel_id=channel_id
            )
        case grammar.MeetingStart(title=title):
            direct = deps.direct_now(ws, channel_id, name=command.get("channel_name"))
            async with deps.db.transaction() as session:
                meeting = await service.start_meeting(
                    session,
                    ws=ws,
                    title=unescape(title),
                    organizer_id=user_id,
                    channel_id=channel_id,
                    now=deps.now(),
                    direct=bool(direct),
                )
            await ack(
                response_type="in_channel",
                text=(
                    f"{mention(user_id)} started {render.meeting_title(meeting)}. "
                    "Record outcomes with `/outcome TEXT [@owner] [by DATE]`; "
                    "`/meeting end` when you're done."
                ),
            )
            if direct is None:
                await deps.settle_direct(client, ws, channel_id)
        case grammar.MeetingEnd():
            now = deps.now()
            async with deps.db.transaction() as session:
                meeting = await service.end_meeting(session, ws=ws, channel_id=channel_id, now=now)
                decisions = await service.linked_decisions(session, ws=ws, meetings=[meeting])
                # Its summary is an outbox row from the moment it ends (bot/meetings/posts.py).
                await ledger.plan(session, rows=[posts.summary_row(meeting, now=now)], now=now)
            await ack(response_type="ephemeral", text=f"Ended {render.meeting_title(meeting)}.")
            await post_summary(client, deps, ws, meeting, decisions, respond=respond)
        case grammar.MeetingLog(title=title):
            held_at = await _held_at(deps, client, ws, user_id, cmd)
            direct = deps.direct_now(ws, channel_id, name=command.get("channel_name"))
            now = deps.now()
            async with deps.db.transaction() as session:
                meeting = await service.log_meeting(
                    session,
                    ws=ws,
                    title=unescape(title),
                    organizer_id=user_id,
                    channel_id=channel_id,
                    now=now,
                    held_at=held_at,
                    direct=bool(direct),
                )
                await ledger.plan(session, rows=[posts.summary_row(meeting, now=now)], now=now)
            held = meeting.ended_at or meeting.started_at
            when = f", held {render.moment_text(held)}," if held_at is not None else ""
            await ack(
                response_type="ephemeral",
                text=(
                    f"Logged {render.meeting_title(meeting)}{when} "
                    f"{place_text(channel_id, direct=meeting.direct)}. "
                    "Now record what it produced."
                ),
            )
            if direct is None and await deps.settle_direct(client, ws, channel_id):
                meeting.direct = True
            await post_summary(client, deps, ws, meeting, {}, respond=respond)
        case grammar.MeetingList():
            async with deps.db.transaction() as session:
                rows = await service.list_meetings(session, ws=ws, channel_id=channel_id)
            await ack(
                response_type="ephemeral",
                blocks=render.meeting_list(
                    rows,
                    title="Recent meetings in this channel",
                    empty="No meetings here yet. `/meeting start TITLE` starts one.",
                ),
            )
        case grammar.MeetingShow(number=number):
            visible = await deps.visibility(client, ws, user_id, here=channel_id)
            async with deps.db.transaction() as session:
                meeting = await service.get_meeting(session, ws=ws, number=number, visible=visible)
                decisions = await service.linked_decisions(session, ws=ws, meetings=[meeting])
            today = await deps.user_today(client, ws, user_id)
            await ack(
                response_type="ephemeral",
                text=render.summary_text(meeting),
                blocks=render.meeting_summary(
                    meeting, decisions=decisions, today=today, detail=True
                ),
            )


async def visibility_at(
    deps: Deps, client: AsyncWebClient, ws: WorkspaceKey, body: dict[str, Any]
) -> Visibility:
    """What whoever pressed a button may see; the conversation it was in counts as theirs."""
    here = (body.get("channel") or {}).get("id") or None
    return await deps.visibility(client, ws, body["user"]["id"], here=here)


async def _held_at(
    deps: Deps, client: AsyncWebClient, ws: WorkspaceKey, user_id: str, cmd: grammar.MeetingLog
) -> datetime | None:
    """When a logged meeting was held, read in the person's zone; None for "just now".

    A day without a time is taken at noon, the middle of a working day.
    """
    if cmd.on_text is None and cmd.at_text is None:
        return None
    zone = await deps.user_zone(client, ws, user_id)
    today = deps.now().astimezone(zone).date()
    day = parse_past_date(cmd.on_text, today=today) if cmd.on_text else today
    clock = parse_time(cmd.at_text) if cmd.at_text else time(12, 0)
    if cmd.at_text is None and day == today:
        return None
    return datetime.combine(day, clock, tzinfo=zone)


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
    """Send the meeting's summary, planned in the ledger with the change, through the outbox;
    the message is remembered, so later outcomes update it. Whatever Slack could not take now,
    the worker sends.

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
        from bot.slack.listeners.home import publish_home

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


# --- buttons and the "no outcome needed" modal ------------------------------------------------
#
# Button handlers refuse (raise) before they acknowledge. Bolt forgets an acknowledgement when
# the listener raises within the same few milliseconds, answers Slack with a 404 three seconds
# later, and Slack then shows the person a warning on top of our explanation.


def button_number(action: dict[str, Any], prefix: str, *, ws: WorkspaceKey, stale: str) -> int:
    """The number of the item a button names (``T…:M-3``), which must be this workspace's."""
    return item_number(action.get("value"), prefix, team_id=ws.team_id, stale=stale)


def meeting_number(action: dict[str, Any], ws: WorkspaceKey) -> int:
    return button_number(
        action, "M", ws=ws, stale="That button is out of date; try `/meeting list`."
    )


async def record_outcomes_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    number = meeting_number(action, ws)
    visible = await visibility_at(deps, client, ws, body)
    async with deps.db.transaction() as session:
        meeting = await service.get_meeting(session, ws=ws, number=number, visible=visible)
    await ack()
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=render.record_outcomes_modal(meeting, origin=Origin.of(body).as_metadata()),
    )


async def no_outcome_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    number = meeting_number(action, ws)
    visible = await visibility_at(deps, client, ws, body)

    async def may_waive(actor: Actor) -> Meeting:
        async with deps.db.transaction() as session:
            meeting = await service.get_meeting(session, ws=ws, number=number, visible=visible)
        service.ensure_may_waive(meeting, actor)
        return meeting

    # Checked before the modal opens, so nobody writes a reason only to be refused.
    meeting = await deps.as_actor(client, ws, body["user"]["id"], may_waive)
    await ack()
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=render.no_outcome_modal(meeting, origin=Origin.of(body).as_metadata()),
    )


async def no_outcome_submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    user_id = body["user"]["id"]
    meta = view_metadata(view, team_id=ws.team_id)
    reason = view_value(view, BlockId.REASON).get("value") or ""

    async def waive(actor: Actor) -> None:
        async with deps.db.transaction() as session:
            await service.record_no_outcome(
                session, ws=ws, number=number, actor=actor, reason=reason, now=deps.now()
            )

    try:
        number = int(meta["number"])
        await deps.as_actor(client, ws, user_id, waive)
    except UserError as exc:
        await ack(response_action="errors", errors={BlockId.REASON: exc.message})
        return
    except (KeyError, TypeError, ValueError):
        await ack(
            response_action="errors",
            errors={BlockId.REASON: "This form is out of date; please start again."},
        )
        return
    await ack()
    await show_meeting_everywhere(
        client, deps, ws, number=number, user_id=user_id, origin=Origin.from_metadata(meta)
    )
