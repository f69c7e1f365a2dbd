"""/meeting, and the buttons and modals that make an ended meeting account for its outcomes.

The "Record outcomes" and "No outcome needed" buttons also travel in reminder DMs and on App
Home, so their handlers never assume where they were pressed: ``Origin`` says, and what changed
is shown right there as well as on the meeting's own channel summary.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.meetings import service
from bot.meetings.models import Meeting
from bot.slack import calendar_feeds as calendars
from bot.slack.blocks import meetings as render
from bot.slack.deps import Deps, deps_of, workspace_of
from bot.slack.errors import FormError, on_field
from bot.slack.ids import Action, Command
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.meeting_messages import (
    Origin,
    button_number,
    post_summary,
    show_meeting_everywhere,
)
from bot.slack.modal_state import OUT_OF_DATE_FORM, view_metadata, view_value
from bot.slack.parsing import commands as grammar
from bot.slack.parsing.dates import parse_past_date, parse_time
from bot.slack.text import mention, place_text, unescape
from bot.visibility import Visibility
from bot.workspace import Actor, WorkspaceKey

log = logging.getLogger(__name__)


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
            async with deps.db.transaction() as session:
                meeting = await service.end_meeting(
                    session, ws=ws, channel_id=channel_id, now=deps.now()
                )
                decisions = await service.linked_decisions(session, ws=ws, meetings=[meeting])
            await ack(response_type="ephemeral", text=f"Ended {render.meeting_title(meeting)}.")
            await post_summary(client, deps, ws, meeting, decisions, respond=respond)
        case grammar.MeetingLog(title=title):
            held_at = await _held_at(deps, client, ws, user_id, cmd)
            direct = deps.direct_now(ws, channel_id, name=command.get("channel_name"))
            async with deps.db.transaction() as session:
                meeting = await service.log_meeting(
                    session,
                    ws=ws,
                    title=unescape(title),
                    organizer_id=user_id,
                    channel_id=channel_id,
                    now=deps.now(),
                    held_at=held_at,
                    direct=bool(direct),
                )
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


# --- buttons and the "no outcome needed" modal ------------------------------------------------
#
# Button handlers refuse (raise) before they acknowledge. Bolt forgets an acknowledgement when
# the listener raises within the same few milliseconds, answers Slack with a 404 three seconds
# later, and Slack then shows the person a warning on top of our explanation.


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
    except (KeyError, TypeError, ValueError):
        raise FormError({BlockId.REASON: OUT_OF_DATE_FORM}) from None
    with on_field(BlockId.REASON):
        await deps.as_actor(client, ws, user_id, waive)
    await ack()
    await show_meeting_everywhere(
        client, deps, ws, number=number, user_id=user_id, origin=Origin.from_metadata(meta)
    )
