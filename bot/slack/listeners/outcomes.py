"""/outcome, the Done button of action items, and the modals that record outcomes.

A new outcome is shown to its meeting's channel as a card (with Done while it is an open
action) and the meeting's summary is brought up to date. Done works wherever its button is: on
the card, on a summary, in a reminder DM or on App Home.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.decisions import followthrough
from bot.delivery import ledger
from bot.errors import InvalidInput
from bot.meetings import service
from bot.meetings.models import Meeting, Outcome
from bot.slack import refreshes
from bot.slack.blocks import meetings as render
from bot.slack.deps import Deps, deps_of, workspace_of
from bot.slack.errors import FormError, on_field
from bot.slack.ids import Action, Command
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.meeting_messages import (
    Origin,
    button_number,
    plan_outcome_card,
    post_outcome_card,
    show_meeting_everywhere,
    sync_action,
)
from bot.slack.modal_state import view_metadata, view_value
from bot.slack.parsing import commands as grammar
from bot.slack.parsing.dates import parse_date
from bot.slack.parsing.items import item_number
from bot.slack.text import due_understood, mention, render_user_text, unescape
from bot.slack.wording import words_for
from bot.workspace import Actor, WorkspaceKey

log = logging.getLogger(__name__)

PAST_DATE = "That date is in the past. Pick today or later."
OUT_OF_DATE = "This form is out of date; please start again."


def register(app: AsyncApp) -> None:
    app.command(Command.OUTCOME)(outcome_command)
    app.action(Action.ACTION_DONE)(done_pressed)
    app.view(ViewId.RECORD_OUTCOMES)(record_outcomes_submitted)
    app.view(ViewId.RECORD_OUTCOME)(record_outcome_submitted)


# --- /outcome -------------------------------------------------------------------------------


async def outcome_command(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: Any,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    cmd = grammar.parse_outcome(command.get("text") or "")
    user_id, channel_id = command["user_id"], command["channel_id"]
    match cmd:
        case grammar.Help():
            await ack(response_type="ephemeral", text=grammar.OUTCOME_USAGE)
        case grammar.OutcomeAdd():
            outcome, meeting, redraw = await _add(deps, client, ws, cmd, user_id, channel_id)
            await ack(
                response_type="ephemeral",
                text=f"Added {_what(outcome, cmd)} to {render.meeting_title(meeting)}.",
            )
            await post_outcome_card(client, deps, ws, outcome, meeting, respond=respond)
            await refreshes.send(deps, ws, redraw)
        case grammar.OutcomeDone(number=number):
            outcome, redraw = await _mark_done(
                deps, client, ws, number=number, user_id=user_id, here=channel_id
            )
            # Ephemeral: the action may belong to a private channel's meeting. Its own card and
            # its meeting's summary show everyone there that it is done.
            await ack(response_type="ephemeral", text=f"Marked *{outcome.ref}* done. :tada:")
            await sync_action(client, deps, ws, outcome, redraw=redraw)


async def _add(
    deps: Deps,
    client: AsyncWebClient,
    ws: WorkspaceKey,
    cmd: grammar.OutcomeAdd,
    user_id: str,
    channel_id: str,
) -> tuple[Outcome, Meeting, list[ledger.Planned]]:
    """Record the outcome; with it, plan its card and the refresh of its meeting's summary."""
    due = (
        parse_date(cmd.due_text, today=await deps.user_today(client, ws, user_id))
        if cmd.due_text
        else None
    )
    visible = await deps.visibility(client, ws, user_id, here=channel_id)
    async with deps.db.transaction() as session:
        meeting = await service.meeting_for_outcome(
            session, ws=ws, channel_id=channel_id, number=cmd.meeting_number, visible=visible
        )
    draft = service.OutcomeDraft(text=unescape(cmd.text), owner_id=cmd.owner_id, due_date=due)
    async with deps.db.transaction() as session:
        meeting = await service.get_meeting(session, ws=ws, number=meeting.number)
        outcome = await service.add_outcome(
            session, ws=ws, meeting=meeting, draft=draft, creator_id=user_id, now=deps.now()
        )
        await followthrough.link_to_meeting_decision(
            session, ws=ws, meeting=meeting, action=outcome, now=deps.now()
        )
        await plan_outcome_card(session, outcome, meeting, now=deps.now())
        redraw = await refreshes.plan(session, ws=ws, subjects=[meeting.ref], now=deps.now())
    return outcome, meeting, redraw


async def _mark_done(
    deps: Deps,
    client: AsyncWebClient,
    ws: WorkspaceKey,
    *,
    number: int,
    user_id: str,
    here: str | None,
) -> tuple[Outcome, list[ledger.Planned]]:
    """Mark the action done; with it, plan the refresh of every message that shows it."""
    visible = await deps.visibility(client, ws, user_id, here=here)

    async def mark(actor: Actor) -> tuple[Outcome, list[ledger.Planned]]:
        now = deps.now()
        async with deps.db.transaction() as session:
            done = await service.mark_action_done(
                session, ws=ws, number=number, actor=actor, now=now, visible=visible
            )
            subjects = refreshes.action_subjects(done)
            return done, await refreshes.plan(session, ws=ws, subjects=subjects, now=now)

    return await deps.as_actor(client, ws, user_id, mark)


def _what(outcome: Outcome, cmd: grammar.OutcomeAdd) -> str:
    """What was recorded, as understood: the text as stored, the owner and the due date."""
    text = render_user_text(outcome.text)
    if outcome.ref is None:
        kept = f" ({due_understood(None, None, cmd.kept_by)})" if cmd.kept_by else ""
        return f"a note “{text}”{kept}"
    details = [f"owner {mention(outcome.owner_id)}"] if outcome.owner_id else []
    details.append(due_understood(outcome.due_date, cmd.due_text, cmd.kept_by))
    return f"action *{outcome.ref}* “{text}” ({', '.join(details)})"


# --- the Done button ------------------------------------------------------------------------


async def done_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    # The change is made (or refused) before the acknowledgement: see the note in ``meetings``.
    deps, ws = deps_of(context), workspace_of(context)
    number = button_number(
        action,
        "A",
        ws=ws,
        stale="That button is out of date; your open action items are on App Home.",
    )
    here = (body.get("channel") or {}).get("id") or None
    outcome, redraw = await _mark_done(
        deps, client, ws, number=number, user_id=body["user"]["id"], here=here
    )
    await ack()
    await sync_action(client, deps, ws, outcome, redraw=redraw, body=body, action=action)


# --- modals ---------------------------------------------------------------------------------


def _picked_date(raw: str | None, *, today: date) -> date | None:
    """A datepicker's value; ``InvalidInput`` for a day before ``today``."""
    if not raw:
        return None
    try:
        picked = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("Pick a date from the calendar.") from None
    if picked < today:
        raise InvalidInput(PAST_DATE)
    return picked


def read_rows(
    view: dict[str, Any], *, today: date
) -> tuple[list[service.OutcomeDraft], dict[str, str]]:
    """The filled rows of the "record outcomes" modal, and an error per block that is wrong."""
    drafts: list[service.OutcomeDraft] = []
    errors: dict[str, str] = {}
    for row in range(1, render.RECORD_ROWS + 1):
        text_id, owner_id, due_id = render.row_block_ids(row)
        text = view_value(view, text_id).get("value") or ""
        owner = view_value(view, owner_id).get("selected_user") or None
        try:
            due = _picked_date(view_value(view, due_id).get("selected_date"), today=today)
        except InvalidInput as exc:
            errors[due_id] = words_for(exc)
            due = None
        if not text.strip():
            if owner or due_id in errors or due:
                errors[text_id] = "Say what this action is, or clear its owner and date."
            continue
        try:
            drafts.append(
                service.check_draft(service.OutcomeDraft(text=text, owner_id=owner, due_date=due))
            )
        except InvalidInput as exc:
            errors[text_id] = words_for(exc)
    if not drafts and not errors:
        errors[render.row_block_ids(1)[0]] = "Write at least one outcome."
    return drafts, errors


async def record_outcomes_submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    user_id = body["user"]["id"]
    meta = view_metadata(view, team_id=ws.team_id)
    drafts, errors = read_rows(view, today=await deps.user_today(client, ws, user_id))
    if errors:
        raise FormError(errors)
    first_row = render.row_block_ids(1)[0]
    try:
        number = int(meta["number"])
    except (KeyError, TypeError, ValueError):
        raise FormError({first_row: OUT_OF_DATE}) from None
    with on_field(first_row):
        here = Origin.from_metadata(meta).channel_id or None
        visible = await deps.visibility(client, ws, user_id, here=here)
        async with deps.db.transaction() as session:
            meeting = await service.get_meeting(session, ws=ws, number=number, visible=visible)
            await service.add_outcomes(
                session, ws=ws, meeting=meeting, drafts=drafts, creator_id=user_id, now=deps.now()
            )
    await ack()
    await show_meeting_everywhere(
        client, deps, ws, number=number, user_id=user_id, origin=Origin.from_metadata(meta)
    )


async def record_outcome_submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """One outcome from a message shortcut, kept with the message's permalink."""
    deps, ws = deps_of(context), workspace_of(context)
    user_id = body["user"]["id"]
    meta = view_metadata(view, team_id=ws.team_id)
    selected = view_value(view, BlockId.MEETING).get("selected_option")
    picked_meeting = selected.get("value") if isinstance(selected, dict) else None
    errors: dict[str, str] = {}
    due: date | None = None
    try:
        due = _picked_date(
            view_value(view, BlockId.DUE).get("selected_date"),
            today=await deps.user_today(client, ws, user_id),
        )
    except InvalidInput as exc:
        errors[BlockId.DUE] = words_for(exc)
    try:
        draft = service.check_draft(
            service.OutcomeDraft(
                text=view_value(view, BlockId.OUTCOME_TEXT).get("value") or "",
                owner_id=view_value(view, BlockId.OWNER).get("selected_user") or None,
                due_date=due,
            )
        )
    except InvalidInput as exc:
        errors[BlockId.OUTCOME_TEXT] = words_for(exc)
    number = 0
    if not picked_meeting:
        errors[BlockId.MEETING] = "Pick the meeting this outcome belongs to."
    else:
        try:
            number = item_number(picked_meeting, "M", team_id=ws.team_id, stale=OUT_OF_DATE)
        except InvalidInput as exc:
            errors[BlockId.MEETING] = words_for(exc)
    if errors:
        raise FormError(errors)
    visible = await deps.visibility(client, ws, user_id, here=meta.get("channel_id") or None)
    try:
        with on_field(BlockId.MEETING):
            async with deps.db.transaction() as session:
                meeting = await service.get_meeting(session, ws=ws, number=number, visible=visible)
                outcome = await service.add_outcome(
                    session,
                    ws=ws,
                    meeting=meeting,
                    draft=draft,
                    creator_id=user_id,
                    now=deps.now(),
                    source_permalink=meta.get("permalink"),
                )
                await plan_outcome_card(session, outcome, meeting, now=deps.now())
                redraw = await refreshes.plan(
                    session, ws=ws, subjects=[meeting.ref], now=deps.now()
                )
    except (TypeError, ValueError):
        raise FormError({BlockId.MEETING: OUT_OF_DATE}) from None
    await ack()
    await post_outcome_card(client, deps, ws, outcome, meeting)
    await refreshes.send(deps, ws, redraw)
