"""/decision, the decision modals and the buttons on decision cards."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.decisions import cards as decision_cards
from bot.decisions import followthrough, reviews, service
from bot.decisions.models import Decision
from bot.delivery import ledger, live
from bot.delivery.models import DeliveryStatus
from bot.errors import InvalidInput
from bot.meetings import posts as meeting_posts
from bot.meetings.models import Outcome
from bot.slack import cards, refreshes, relitigation, replies, searching
from bot.slack.blocks import decisions as render
from bot.slack.blocks import followthrough as render_follow
from bot.slack.blocks import relitigation as render_repeat
from bot.slack.blocks.kit import section
from bot.slack.daily_compose import refresh_daily_dm
from bot.slack.deps import Deps, deps_of, workspace_of
from bot.slack.errors import FormError, on_field
from bot.slack.home_publish import publish_home
from bot.slack.ids import Action, Command
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.meeting_messages import post_outcome_card
from bot.slack.modal_state import OUT_OF_DATE_FORM, view_metadata, view_value
from bot.slack.parsing import commands as grammar
from bot.slack.parsing.dates import parse_date
from bot.slack.parsing.items import item_number
from bot.slack.text import (
    conversation_text,
    due_understood,
    full_stop,
    mention,
    place_text,
    render_user_text,
    unescape,
)
from bot.slack.wording import words_for
from bot.timeoff import service as timeoff
from bot.validation import TEXT_MAX, TITLE_MAX, clean_text
from bot.visibility import Visibility
from bot.workspace import Actor, WorkspaceKey

log = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.command(Command.DECISION)(decision_command)
    app.view(ViewId.NEW_DECISION)(new_decision_submitted)
    app.view(ViewId.DECIDE)(decide_submitted)
    app.view(ViewId.DROP)(drop_submitted)
    app.action(Action.DECIDE)(decide_pressed)
    app.action(Action.REASSIGN)(reassign_selected)
    app.action(Action.DROP)(drop_pressed)
    app.action(Action.DECISION_LIST_NEXT)(list_next_pressed)
    app.action(Action.SEARCH_NEXT)(search_next_pressed)
    app.action(Action.ADD_ACTION)(add_action_pressed)
    app.view(ViewId.ADD_ACTION)(add_action_submitted)


# --- /decision ------------------------------------------------------------------------------


async def decision_command(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: Any,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    cmd = grammar.parse_decision(command.get("text") or "")
    user_id, channel_id = command["user_id"], command["channel_id"]
    match cmd:
        case grammar.Help():
            await ack(response_type="ephemeral", text=grammar.DECISION_USAGE)
        case grammar.DecisionOpenModal():
            await ack()
            await client.views_open(
                trigger_id=command["trigger_id"],
                view=render.new_decision_modal(
                    team_id=ws.team_id, channel_id=channel_id, owner_id=user_id
                ),
            )
        case grammar.DecisionNew() | grammar.DecisionLog():
            if isinstance(cmd, grammar.DecisionNew):
                due_text, kept_by = cmd.due_text, cmd.kept_by
                due = await _due(deps, client, ws, user_id, due_text)
                resolution = None
            else:
                due_text, kept_by = None, None
                due, resolution = None, unescape(cmd.resolution)
            now = deps.now()
            review_on = (
                reviews.review_on_for(
                    await _review_day(deps, client, ws, user_id, cmd.review_text),
                    decided_at=now,
                    cadence=await deps.cadence_for(ws),
                )
                if isinstance(cmd, grammar.DecisionLog)
                else None
            )
            direct = deps.direct_now(ws, channel_id, name=command.get("channel_name"))
            decision = await deps.new_decisions.run(
                service.new_decision(
                    ws=ws,
                    title=unescape(cmd.title),
                    owner_id=cmd.owner_id or user_id,
                    creator_id=user_id,
                    channel_id=channel_id,
                    due_date=due,
                    resolution=resolution,
                    review_on=review_on,
                    now=now,
                    direct=bool(direct),
                )
            )
            made = " as decided" if decision.resolution is not None else ""
            if decision.review_on is not None:
                made += f" (review {render.review_day_text(decision.review_on)})"
            await ack(
                response_type="ephemeral",
                text=(
                    f"Recorded *{decision.ref}*{made} “{render_user_text(decision.title)}” — "
                    f"owner {mention(decision.owner_id)}, "
                    f"{due_understood(decision.due_date, due_text, kept_by)}, "
                    f"{place_text(decision.channel_id, direct=decision.direct)}."
                ),
            )
            deps.follow_ups.submit(
                lambda: _post_card(
                    client,
                    deps,
                    decision,
                    lambda text: respond(response_type="ephemeral", text=text),
                    settle=direct is None,
                )
            )
            # Recorded and acknowledged first; whether it repeats an earlier one comes after,
            # with an Undo (issue 18 point 3).
            deps.follow_ups.submit(
                lambda: relitigation.warn_after_record(client, deps, ws, decision, respond)
            )
        case grammar.DecisionList():
            # Acknowledged at once, as stats is: the reader's rights may need Slack (a cold
            # cache) and the list is counted and paged first; it follows through respond().
            await ack()
            query = ListQuery(scope=service.ListScope(cmd.scope), user_id=cmd.user_id)
            visible = await deps.visibility(client, ws, user_id, here=channel_id)
            blocks = await _list(deps, client, ws, query, visible=visible, here=channel_id)
            await respond(response_type="ephemeral", text="Open decisions", blocks=blocks)
        case grammar.DecisionSearch():
            # Acknowledged first, as lists are: the reader's rights may need Slack.
            await ack()
            blocks = await searching.search_blocks(
                deps, client, ws, cmd, user_id=user_id, channel_id=channel_id, offset=0
            )
            await respond(response_type="ephemeral", text="Search results", blocks=blocks)
        case grammar.DecisionShow(number=number):
            visible = await deps.visibility(client, ws, user_id, here=channel_id)
            zone = await deps.user_zone(client, ws, user_id)
            async with deps.db.transaction() as session:
                decision = await service.get_decision(
                    session, ws=ws, number=number, visible=visible
                )
                actions = await followthrough.actions_of(session, ws=ws, decision_id=decision.id)
            today = deps.now().astimezone(zone).date()
            await ack(
                response_type="ephemeral",
                text=render.card_fallback_text(decision),
                blocks=render.decision_detail(decision, zone=zone, today=today, actions=actions),
            )
        case grammar.DecisionAct() | grammar.DecisionLinkAction() | grammar.DecisionNoAction():
            summary, added, redraw = await _follow_through(
                deps, client, ws, cmd, user_id, channel_id
            )
            await ack(response_type="in_channel", text=summary)
            if added is not None:
                await post_outcome_card(client, deps, ws, added, added.meeting, respond=respond)
            await refreshes.send(deps, ws, redraw)
        case grammar.DecisionSupersede(old=old_number, new=new_number):
            now = deps.now()
            visible = await deps.visibility(client, ws, user_id, here=channel_id)

            async def supersede(
                actor: Actor,
            ) -> tuple[Decision, Decision, list[ledger.Planned]]:
                async with deps.db.transaction() as session:
                    old, new = await service.supersede(
                        session,
                        ws=ws,
                        old_number=old_number,
                        new_number=new_number,
                        actor=actor,
                        now=now,
                        visible=visible,
                    )
                    redraw = await refreshes.plan(
                        session, ws=ws, subjects=[old.ref, new.ref], now=now
                    )
                    return old, new, redraw

            old, new, redraw = await deps.as_actor(client, ws, user_id, supersede)
            await ack(
                response_type="in_channel",
                text=f"{mention(user_id)} marked *{old.ref}* {render_user_text(old.title)} "
                f"as superseded by *{new.ref}* {render_user_text(new.title)}.",
            )
            await refreshes.send(deps, ws, redraw)
        case _:
            summary, told, redraw = await _change(deps, client, ws, cmd, user_id, channel_id)
            # Told only where the decision lives: typed there, the answer is the announcement;
            # typed elsewhere (another channel, a DM), whoever typed it hears it alone and the
            # decision's channel hears it from an outbox row planned with the change.
            await ack(response_type="in_channel" if told is None else "ephemeral", text=summary)
            await refreshes.send(deps, ws, [*([told] if told else []), *redraw])


async def _follow_through(
    deps: Deps,
    client: AsyncWebClient,
    ws: WorkspaceKey,
    cmd: grammar.DecisionAct | grammar.DecisionLinkAction | grammar.DecisionNoAction,
    user_id: str,
    channel_id: str,
) -> tuple[str, Outcome | None, list[ledger.Planned]]:
    """``/decision act``: a new action, a linked one, or "no action needed".

    Returns the line for the channel, the action when a new one was made, and the refresh of
    its meeting's summary (which lists it), planned with it.
    """
    due = (
        await _due(deps, client, ws, user_id, cmd.due_text)
        if isinstance(cmd, grammar.DecisionAct)
        else None
    )
    visible = await deps.visibility(client, ws, user_id, here=channel_id)
    now = deps.now()
    who = mention(user_id)

    async def apply(actor: Actor) -> tuple[str, Outcome | None, list[ledger.Planned]]:
        async with deps.db.transaction() as session:
            match cmd:
                case grammar.DecisionAct(number=n, text=text, owner_id=owner_id):
                    d, action = await followthrough.add_action(
                        session,
                        ws=ws,
                        number=n,
                        actor=actor,
                        text=unescape(text),
                        owner_id=owner_id,
                        due_date=due,
                        now=now,
                        visible=visible,
                    )
                    # Its card is an outbox row from the start (bot/meetings/posts.py).
                    card = meeting_posts.outcome_card_row(action, action.meeting, now=now)
                    await ledger.plan(session, rows=[card], now=now)
                    summary = [action.meeting.ref] if action.meeting is not None else []
                    redraw = await refreshes.plan(session, ws=ws, subjects=summary, now=now)
                    by = f", due {render.due_text(action.due_date)}" if action.due_date else ""
                    return (
                        (
                            f"{who} added *{action.ref}* {render_user_text(action.text)} "
                            f"(owner {mention(action.owner_id or user_id)}{by}) to follow "
                            f"through on *{d.ref}* {render_user_text(d.title)}."
                        ),
                        action,
                        redraw,
                    )
                case grammar.DecisionLinkAction(number=n, action_number=a):
                    d, action = await followthrough.link_action(
                        session,
                        ws=ws,
                        number=n,
                        action_number=a,
                        actor=actor,
                        now=now,
                        visible=visible,
                    )
                    return (
                        (
                            f"{who} made *{action.ref}* {render_user_text(action.text)} a "
                            f"follow-through action of *{d.ref}* {render_user_text(d.title)}."
                        ),
                        None,
                        [],
                    )
                case grammar.DecisionNoAction(number=n, reason=reason):
                    d = await followthrough.no_action_needed(
                        session,
                        ws=ws,
                        number=n,
                        actor=actor,
                        reason=unescape(reason),
                        now=now,
                        visible=visible,
                    )
                    return (
                        (
                            f"{who} said *{d.ref}* {render_user_text(d.title)} needs no action: "
                            f"{render_user_text(d.no_action_reason or '')}"
                        ),
                        None,
                        [],
                    )

    return await deps.as_actor(client, ws, user_id, apply)


async def _due(
    deps: Deps, client: AsyncWebClient, ws: WorkspaceKey, user_id: str, due_text: str | None
) -> date | None:
    if due_text is None:
        return None
    return parse_date(due_text, today=await deps.user_today(client, ws, user_id))


async def _review_day(
    deps: Deps, client: AsyncWebClient, ws: WorkspaceKey, user_id: str, said: str | None
) -> date | None:
    """A review date as typed, read on the typing person's calendar (never in the past)."""
    return await _due(deps, client, ws, user_id, said)


async def _change(
    deps: Deps,
    client: AsyncWebClient,
    ws: WorkspaceKey,
    cmd: grammar.DecisionCommand,
    user_id: str,
    channel_id: str,
) -> tuple[str, ledger.Planned | None, list[ledger.Planned]]:
    """Apply decide/assign/due/drop/reopen; returns a line for the channel, the announcement
    planned in the decision's own conversation when it was typed elsewhere, and the refreshes of
    the decision's live messages, all planned in the transaction of the change."""
    due = (
        await _due(deps, client, ws, user_id, cmd.due_text)
        if isinstance(cmd, grammar.DecisionDue)
        else None
    )
    now = deps.now()
    review: date | None = None
    if isinstance(cmd, grammar.DecisionDecide):
        review = reviews.review_on_for(
            await _review_day(deps, client, ws, user_id, cmd.review_text),
            decided_at=now,
            cadence=await deps.cadence_for(ws),
        )
    elif isinstance(cmd, grammar.DecisionReviewOn):
        review = await _review_day(deps, client, ws, user_id, cmd.review_text)
    today = (
        await deps.user_today(client, ws, user_id)
        if isinstance(cmd, grammar.DecisionReviewOn)
        else now.date()
    )
    visible = await deps.visibility(client, ws, user_id, here=channel_id)

    async def apply(actor: Actor) -> tuple[str, ledger.Planned | None, list[ledger.Planned]]:
        async with deps.db.transaction() as session:
            d, line = await _apply_change(
                session,
                cmd,
                ws=ws,
                actor=actor,
                channel_id=channel_id,
                due=due,
                review=review,
                today=today,
                now=now,
                visible=visible,
            )
            redraw = await refreshes.plan(session, ws=ws, subjects=[d.ref], now=now)
            if d.channel_id == channel_id:
                return line, None, redraw
            told = await _announce(session, d, line, now=now)
            return line, told, redraw

    return await deps.as_actor(client, ws, user_id, apply)


async def _announce(
    session: AsyncSession, d: Decision, line: str, *, now: datetime
) -> ledger.Planned:
    """Plan ``line`` in the decision's own conversation, in the change's transaction."""
    return await decision_cards.plan_announcement(session, d, text=line, now=now)


def decided_line(who: str, d: Decision) -> str:
    resolved = render_user_text(d.resolution or "")
    line = f"{who} decided *{d.ref}* {render_user_text(d.title)}: {resolved}"
    if d.review_on is not None:
        line += f"\n_Review {render.review_day_text(d.review_on)}._"
    return line


def handed_line(who: str, d: Decision) -> str:
    return f"{who} handed *{d.ref}* {render_user_text(d.title)} to {mention(d.owner_id)}."


def dropped_line(who: str, d: Decision) -> str:
    why = f" ({render_user_text(d.drop_reason)})" if d.drop_reason else ""
    return full_stop(f"{who} dropped *{d.ref}* {render_user_text(d.title)}{why}")


async def _apply_change(
    session: AsyncSession,
    cmd: grammar.DecisionCommand,
    *,
    ws: WorkspaceKey,
    actor: Actor,
    channel_id: str,
    due: date | None,
    now: datetime,
    visible: Visibility,
    review: date | None = None,
    today: date | None = None,
) -> tuple[Decision, str]:
    who = mention(actor.user_id)
    match cmd:
        case grammar.DecisionDecide(number=n, resolution=resolution):
            d = await service.decide(
                session,
                ws=ws,
                number=n,
                actor=actor,
                resolution=unescape(resolution),
                channel_id=channel_id,
                now=now,
                visible=visible,
                review_on=review,
            )
            return d, decided_line(who, d)
        case grammar.DecisionReviewOn(number=n):
            d = await reviews.set_review(
                session,
                ws=ws,
                number=n,
                actor=actor,
                review_on=review,
                today=today or now.date(),
                now=now,
                visible=visible,
            )
            if d.review_on is None:
                return d, full_stop(
                    f"{who} cleared the review date of *{d.ref}* {render_user_text(d.title)}"
                )
            return d, (
                f"{who} set a review for *{d.ref}* {render_user_text(d.title)}: "
                f"{mention(d.owner_id)} will be asked whether it held "
                f"{render.review_day_text(d.review_on)}."
            )
        case grammar.DecisionAssign(number=n, owner_id=owner_id):
            d = await service.assign(
                session, ws=ws, number=n, actor=actor, owner_id=owner_id, now=now, visible=visible
            )
            return d, handed_line(who, d)
        case grammar.DecisionDue(number=n, due_text=said):
            d = await service.set_due(
                session, ws=ws, number=n, actor=actor, due_date=due, now=now, visible=visible
            )
            if d.due_date is None:
                return d, full_stop(
                    f"{who} cleared the due date of *{d.ref}* {render_user_text(d.title)}"
                )
            return d, (
                f"{who} set *{d.ref}* {render_user_text(d.title)} "
                f"{due_understood(d.due_date, said, None)}."
            )
        case grammar.DecisionDrop(number=n, reason=reason):
            d = await service.drop(
                session,
                ws=ws,
                number=n,
                actor=actor,
                reason=unescape(reason) if reason else None,
                now=now,
                visible=visible,
            )
            return d, dropped_line(who, d)
        case grammar.DecisionReopen(number=n):
            d = await service.reopen(
                session, ws=ws, number=n, actor=actor, now=now, visible=visible
            )
            return d, full_stop(f"{who} reopened *{d.ref}* {render_user_text(d.title)}")
        case grammar.DecisionEdit(number=n, field=field, text=text):
            d = await service.edit(
                session,
                ws=ws,
                number=n,
                actor=actor,
                field=field,
                text=unescape(text),
                now=now,
                visible=visible,
            )
            if field == "title":
                return d, f"{who} renamed *{d.ref}*: {render_user_text(d.title)}"
            return d, f"{who} rewrote the context of *{d.ref}* {render_user_text(d.title)}."
        case grammar.DecisionNote(number=n, text=text):
            d = await service.note(
                session, ws=ws, number=n, actor=actor, text=unescape(text), now=now, visible=visible
            )
            return (
                d,
                f"{who} noted on *{d.ref}* {render_user_text(d.title)}: "
                f"{render_user_text(unescape(text))}",
            )
        case _:
            raise InvalidInput(grammar.DECISION_USAGE)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Which list a reader asked for; a "Next" button carries it on (``query_value``)."""

    scope: service.ListScope
    user_id: str | None = None
    offset: int = 0


def query_value(query: ListQuery, *, team_id: str) -> str:
    return ":".join([team_id, query.scope.value, query.user_id or "", str(query.offset)])


def parse_query_value(raw: str, *, team_id: str) -> ListQuery:
    stale = InvalidInput("That list is out of date; try `/decision list` again.")
    parts = raw.split(":")
    if len(parts) != 4 or parts[0] != team_id:
        raise stale
    _, scope, user, offset = parts
    try:
        return ListQuery(
            scope=service.ListScope(scope), user_id=user or None, offset=max(0, int(offset))
        )
    except ValueError as exc:
        raise stale from exc


_TITLES = {
    service.ListScope.CHANNEL: (
        "Open decisions in this channel",
        "Nothing open here. `/decision new …` records one.",
    ),
    service.ListScope.MINE: ("Open decisions you own", "You own no open decisions."),
    service.ListScope.STALLED: ("Stalled decisions", "Nothing is stalled. :tada:"),
    service.ListScope.ALL: ("All open decisions", "No open decisions in this workspace."),
}


async def _list(
    deps: Deps,
    client: AsyncWebClient,
    ws: WorkspaceKey,
    query: ListQuery,
    *,
    visible: Visibility,
    here: str | None,
) -> list[dict[str, Any]]:
    """One page of a decision list, counted and cut in SQL over what its reader may see."""
    reader = visible.reader
    cadence = await deps.cadence_for(ws)
    now = deps.now()
    target = query.user_id if query.scope is service.ListScope.USER else reader
    async with deps.db.transaction() as session:
        # People's away days are not working days for the decisions they own.
        time_off = await timeoff.workspace_time_off(session, ws=ws, now=now)
        page = await service.list_decisions(
            session,
            ws=ws,
            scope=query.scope,
            now=now,
            cadence=cadence,
            days_off=time_off.days_off_by_person(),
            visible=visible,
            channel_id=here,
            user_id=target,
            offset=query.offset,
        )
    if query.scope is service.ListScope.USER:
        title, empty = f"Open decisions owned by {mention(target or '')}", "None."
    else:
        title, empty = _TITLES[query.scope]
    today = now.astimezone(await deps.user_zone(client, ws, reader)).date()
    following = page.next_offset
    return render.decision_list_page(
        page,
        title=title,
        empty=empty,
        today=today,
        next_value=None
        if following is None
        else query_value(
            ListQuery(scope=query.scope, user_id=query.user_id, offset=following),
            team_id=ws.team_id,
        ),
    )


async def list_next_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: Any,
) -> None:
    """The next page of a decision list, in place of the one the button was on."""
    deps, ws = deps_of(context), workspace_of(context)
    query = parse_query_value(str(action.get("value") or ""), team_id=ws.team_id)
    await ack()
    here = (body.get("channel") or {}).get("id") or None
    visible = await deps.visibility(client, ws, body["user"]["id"], here=here)
    blocks = await _list(deps, client, ws, query, visible=visible, here=here)
    await respond(
        response_type="ephemeral", replace_original=True, text="Open decisions", blocks=blocks
    )


# --- search ---------------------------------------------------------------------------------


async def search_next_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: Any,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    stale = InvalidInput("That button is out of date; search again with `/decision search …`.")
    try:
        value = json.loads(str(action.get("value") or ""))
        team, words, offset, channel_id = value["t"], value["q"], value["o"], value["c"]
    except (ValueError, KeyError, TypeError):
        raise stale from None
    if (
        team != ws.team_id
        or not isinstance(words, str)
        or not isinstance(channel_id, str)
        or not isinstance(offset, int)
        or not 0 <= offset <= 10_000
    ):
        raise stale
    cmd = grammar.parse_decision_search(words)
    await ack()
    blocks = await searching.search_blocks(
        deps, client, ws, cmd, user_id=body["user"]["id"], channel_id=channel_id, offset=offset
    )
    await respond(replace_original=True, response_type="ephemeral", text="Search", blocks=blocks)


# --- channel cards --------------------------------------------------------------------------


async def _post_card(
    client: AsyncWebClient, deps: Deps, decision: Decision, tell: cards.Tell, *, settle: bool
) -> None:
    """Send the new decision's card, planned in the ledger with it, through the outbox; with
    ``settle``, first ask Slack whether its conversation is a DM or group DM (not known at
    record time, and not worth delaying the ack for). Where the app may not post, ``tell``
    lets the person who recorded it know. Whatever Slack could not take now, the worker sends.
    """
    ws = decision_cards.workspace_of(decision)
    if settle and await deps.settle_direct(client, ws, decision.channel_id):
        decision.direct = True
    assert deps.outbox is not None, "the web app is built by bot.server.wire"
    for row in await deps.outbox.deliver_planned(ws, [decision_cards.card_row(decision)]):
        if row.status == DeliveryStatus.SENT:
            decision.message_channel_id = row.message_channel_id
            decision.message_ts = row.message_ts
        elif row.status == DeliveryStatus.FAILED and cards.failed_for_channel(row):
            log.info("no card for %s %s: %s", ws, decision.ref, row.last_error)
            await tell(
                f"{decision.ref} is recorded, but I can't post in "
                f"{conversation_text(decision.channel_id, direct=decision.direct)}. "
                "Invite me with `/invite @Followthrough` to share decisions there."
            )


# --- modals ---------------------------------------------------------------------------------


async def new_decision_submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    user_id = body["user"]["id"]
    meta = view_metadata(view, team_id=ws.team_id)
    title = view_value(view, BlockId.TITLE).get("value") or ""
    context_text = view_value(view, BlockId.CONTEXT).get("value")
    owner_id = view_value(view, BlockId.OWNER).get("selected_user") or user_id
    picked = view_value(view, BlockId.DUE).get("selected_date")
    channel_id = meta.get("channel_id") or user_id
    direct = deps.direct_now(ws, channel_id)
    errors: dict[str, str] = {}
    due: date | None = None
    if picked:
        try:
            due = date.fromisoformat(str(picked))
        except ValueError:
            errors[BlockId.DUE] = "Pick a date from the calendar."
        else:
            if due < await deps.user_today(client, ws, user_id):
                errors[BlockId.DUE] = "That date is in the past. Pick today or later."
    if not title.strip():
        errors[BlockId.TITLE] = "Please say what needs deciding."
    else:
        _check_text(
            errors, BlockId.TITLE, title, what="decision title", limit=TITLE_MAX, single_line=True
        )
    _check_text(errors, BlockId.CONTEXT, context_text, what="context", limit=TEXT_MAX)
    state = (view_value(view, BlockId.DECIDED_ALREADY).get("selected_option") or {}).get("value")
    resolution_text = (view_value(view, BlockId.RESOLUTION).get("value") or "").strip()
    resolution: str | None = None
    if state == render.NEW_STATE_DECIDED:
        if not resolution_text:
            errors[BlockId.RESOLUTION] = "Say what was decided, or choose “To be decided”."
        elif due is not None:
            errors[BlockId.DUE] = "A decision already made has no decide-by date; clear it."
        _check_text(errors, BlockId.RESOLUTION, resolution_text, what="resolution", limit=TEXT_MAX)
        resolution = resolution_text
    elif resolution_text:
        errors[BlockId.RESOLUTION] = (
            "Choose “Decided already” to record this, or leave it empty for an open question."
        )
    picked_review = await _picked_review_day(deps, client, ws, user_id, view)
    review_on: date | None = None
    if isinstance(picked_review, str):
        errors[BlockId.REVIEW_ON] = picked_review
    elif picked_review is not None and state != render.NEW_STATE_DECIDED:
        errors[BlockId.REVIEW_ON] = (
            "A review date is for a decision already made; choose “Decided already” or clear it."
        )
    elif state == render.NEW_STATE_DECIDED:
        review_on = reviews.review_on_for(
            picked_review, decided_at=deps.now(), cadence=await deps.cadence_for(ws)
        )
    replaces_text = (view_value(view, BlockId.SUPERSEDES).get("value") or "").strip()
    replaces: int | None = None
    if replaces_text:
        replaces = grammar.parse_ref(replaces_text, "D")
        if replaces is None:
            errors[BlockId.SUPERSEDES] = "Name the decision this one replaces, like D-4."
    confirmed = (view_value(view, BlockId.REPEAT_CONFIRM).get("selected_option") or {}).get("value")
    repeat_of = grammar.parse_ref(f"D-{meta.get('repeat_of') or ''}", "D")
    if repeat_of is not None and confirmed not in render_repeat.CONFIRMS:
        errors[BlockId.REPEAT_CONFIRM] = "Choose whether to record it anyway, or close this form."
    if confirmed == render_repeat.CONFIRM_SUPERSEDE and replaces is None:
        replaces = repeat_of
    if errors:
        raise FormError(errors)
    if repeat_of is None:
        # Before anything is recorded: does it ask what an earlier decision asked?
        repeat = await relitigation.lookup(
            deps, client, ws, user_id, title, here=meta.get("channel_id") or None
        )
        if repeat is not None:
            today = deps.now().astimezone(deps.cadence.zone).date()
            await ack(
                response_action="update",
                view=render.new_decision_modal(
                    team_id=ws.team_id,
                    channel_id=channel_id,
                    owner_id=owner_id,
                    title=title,
                    context_text=context_text or "",
                    source_permalink=meta.get("permalink"),
                    decided=state == render.NEW_STATE_DECIDED,
                    resolution=resolution_text,
                    due=due,
                    supersedes=replaces_text,
                    review=picked_review if isinstance(picked_review, date) else None,
                    warning=render_repeat.modal_warning(repeat.decision, today=today),
                    repeat_of=repeat.decision.number,
                ),
            )
            return
    # The decision it replaces must be one the person may see, like any by-reference read.
    visible = await deps.visibility(client, ws, user_id) if replaces is not None else None
    if replaces is not None:
        number = replaces

        async def may_supersede(actor: Actor) -> None:
            async with deps.db.transaction() as session:
                old = await service.get_decision(session, ws=ws, number=number, visible=visible)
            service.ensure_may_be_superseded(old, None, actor)

        with on_field(BlockId.SUPERSEDES):
            await deps.as_actor(client, ws, user_id, may_supersede)
    with on_field(BlockId.TITLE):
        request = service.new_decision(
            ws=ws,
            title=title,
            context=context_text,
            owner_id=owner_id,
            creator_id=user_id,
            channel_id=channel_id,
            due_date=due,
            source_permalink=meta.get("permalink"),
            resolution=resolution,
            review_on=review_on,
            now=deps.now(),
            direct=bool(direct),
        )
    decision = await deps.new_decisions.run(request)
    await ack()
    if replaces is not None:
        decision = await _supersede_after_create(
            client, deps, ws, user_id, replaces, decision, visible
        )
    await _post_card(
        client,
        deps,
        decision,
        lambda text: replies.tell_user(client, body, text),
        settle=direct is None,
    )


async def _supersede_after_create(
    client: AsyncWebClient,
    deps: Deps,
    ws: WorkspaceKey,
    user_id: str,
    old_number: int,
    decision: Decision,
    visible: Visibility | None,
) -> Decision:
    """The modal's "Supersedes", once the new decision is stored (checked before storing it)."""

    async def supersede(actor: Actor) -> tuple[Decision, list[ledger.Planned]]:
        now = deps.now()
        async with deps.db.transaction() as session:
            old, new = await service.supersede(
                session,
                ws=ws,
                old_number=old_number,
                new_number=decision.number,
                actor=actor,
                now=now,
                visible=visible,
            )
            return new, await refreshes.plan(session, ws=ws, subjects=[old.ref], now=now)

    new, redraw = await deps.as_actor(client, ws, user_id, supersede)
    await refreshes.send(deps, ws, redraw)
    return new


def _check_text(
    errors: dict[str, str],
    block_id: str,
    value: str | None,
    *,
    what: str,
    limit: int,
    required: bool = False,
    single_line: bool = False,
) -> None:
    """Note beside ``block_id`` what the service would refuse about this text (empty, too long),
    so a form's problems are all shown at once rather than the service's first one."""
    if block_id in errors:
        return
    try:
        clean_text(value, what=what, limit=limit, required=required, single_line=single_line)
    except InvalidInput as exc:
        errors[block_id] = words_for(exc)


async def decide_submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    user_id = body["user"]["id"]
    meta = view_metadata(view, team_id=ws.team_id)
    resolution = view_value(view, BlockId.RESOLUTION).get("value") or ""
    picked = await _picked_review_day(deps, client, ws, user_id, view)
    errors: dict[str, str] = {}
    if isinstance(picked, str):
        errors[BlockId.REVIEW_ON] = picked
    _check_text(
        errors, BlockId.RESOLUTION, resolution, what="resolution", limit=TEXT_MAX, required=True
    )
    number_text = str(meta.get("number") or "")
    if not number_text.isdigit():
        errors[BlockId.RESOLUTION] = OUT_OF_DATE_FORM
    if errors or isinstance(picked, str):
        raise FormError(errors)
    number = int(number_text)
    now = deps.now()
    review_on = reviews.review_on_for(picked, decided_at=now, cadence=await deps.cadence_for(ws))
    visible = await deps.visibility(client, ws, user_id, here=meta.get("origin_channel") or None)

    async def decide(actor: Actor) -> list[ledger.Planned]:
        async with deps.db.transaction() as session:
            d = await service.decide(
                session,
                ws=ws,
                number=number,
                actor=actor,
                resolution=resolution,
                channel_id=meta.get("channel_id"),
                now=now,
                visible=visible,
                review_on=review_on,
            )
            return await _told_and_redrawn(session, d, decided_line(mention(user_id), d), now=now)

    with on_field(BlockId.RESOLUTION):
        planned = await deps.as_actor(client, ws, user_id, decide)
    await ack()
    await refreshes.send(deps, ws, planned)


async def _picked_review_day(
    deps: Deps, client: AsyncWebClient, ws: WorkspaceKey, user_id: str, view: dict[str, Any]
) -> date | str | None:
    """The modal's "Review on" date (None if left empty), or what is wrong with it."""
    picked = view_value(view, BlockId.REVIEW_ON).get("selected_date")
    if not picked:
        return None
    try:
        day = date.fromisoformat(str(picked))
    except ValueError:
        return "Pick a date from the calendar."
    if day < await deps.user_today(client, ws, user_id):
        return "That date is in the past. Pick today or later."
    return day


async def _told_and_redrawn(
    session: AsyncSession, d: Decision, line: str, *, now: datetime
) -> list[ledger.Planned]:
    """A change made with a button or a modal, wherever it was pressed (a channel card, a DM,
    App Home): planned in its transaction, the announcement in the decision's own channel and
    the refresh of every message that shows the decision (the one pressed on among them)."""
    told = await _announce(session, d, line, now=now)
    ws = decision_cards.workspace_of(d)
    return [told, *await refreshes.plan(session, ws=ws, subjects=[d.ref], now=now)]


# --- buttons --------------------------------------------------------------------------------


def _origin(body: dict[str, Any]) -> dict[str, str]:
    container = body.get("container") or {}
    if container.get("type") == "message":
        return {
            "origin_channel": container.get("channel_id", ""),
            "origin_ts": container.get("message_ts", ""),
        }
    return {}


def _number(action: dict[str, Any], ws: WorkspaceKey) -> int:
    """The decision a control names, which must be this workspace's (``T…:D-n``)."""
    raw = action.get("value")
    if not raw:
        # Selects carry no value: it rides in the block id, "decision:<team>:D-<n>:<place>".
        parts = str(action.get("block_id") or "").split(":")
        raw = ":".join(parts[1:3]) if len(parts) == 4 else ""
    return item_number(
        raw, "D", team_id=ws.team_id, stale="That button is out of date; try `/decision list`."
    )


async def _visibility_at(
    deps: Deps, client: AsyncWebClient, ws: WorkspaceKey, body: dict[str, Any]
) -> Visibility:
    """What whoever pressed may see; the conversation the button was in counts as theirs."""
    here = (body.get("channel") or {}).get("id") or None
    return await deps.visibility(client, ws, body["user"]["id"], here=here)


async def decide_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await _open_modal_if_allowed(
        ack, body, action, client, context, service.ensure_may_decide, render.decide_modal
    )


async def _open_modal_if_allowed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    ensure_may: Callable[[Decision, Actor], None],
    modal: Callable[..., Any],
) -> None:
    """A button that asks more in a modal (Decide, Drop): check first, then ack and open it.

    Nobody types a resolution or a reason only to be refused, and a refusal raised before the
    ack reaches the person without a time-out.
    """
    deps, ws = deps_of(context), workspace_of(context)
    number = _number(action, ws)
    visible = await _visibility_at(deps, client, ws, body)

    async def may(actor: Actor) -> Decision:
        async with deps.db.transaction() as session:
            decision = await service.get_decision(session, ws=ws, number=number, visible=visible)
        ensure_may(decision, actor)
        return decision

    decision = await deps.as_actor(client, ws, body["user"]["id"], may)
    await ack()
    channel_id = (body.get("channel") or {}).get("id") or decision.channel_id
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=modal(decision, origin={"channel_id": channel_id, **_origin(body)}),
    )


async def reassign_selected(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    number = _number(action, ws)
    owner_id = action.get("selected_user")
    if not owner_id:
        raise InvalidInput("Pick the person who should own this decision.")
    visible = await _visibility_at(deps, client, ws, body)

    async def assign(actor: Actor) -> tuple[Decision, list[ledger.Planned]]:
        now = deps.now()
        async with deps.db.transaction() as session:
            d = await service.assign(
                session,
                ws=ws,
                number=number,
                actor=actor,
                owner_id=owner_id,
                now=now,
                visible=visible,
            )
            line = handed_line(mention(actor.user_id), d)
            return d, await _told_and_redrawn(session, d, line, now=now)

    decision, planned = await deps.as_actor(client, ws, body["user"]["id"], assign)
    await ack()
    await refreshes.send(deps, ws, planned)
    await _after_button(
        client, deps, ws, body, f"{decision.ref} now belongs to {mention(owner_id)}."
    )


async def drop_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await _open_modal_if_allowed(
        ack, body, action, client, context, service.ensure_may_drop, render.drop_modal
    )


async def drop_submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    user_id = body["user"]["id"]
    meta = view_metadata(view, team_id=ws.team_id)
    reason = (view_value(view, BlockId.REASON).get("value") or "").strip() or None
    # Where the button was pressed counts as the person's, as it did when the modal opened.
    here = meta.get("origin_channel") or None
    visible = await deps.visibility(client, ws, user_id, here=here)

    async def drop(actor: Actor) -> list[ledger.Planned]:
        now = deps.now()
        async with deps.db.transaction() as session:
            d = await service.drop(
                session,
                ws=ws,
                number=number,
                actor=actor,
                reason=reason,
                now=now,
                visible=visible,
            )
            return await _told_and_redrawn(session, d, dropped_line(mention(user_id), d), now=now)

    try:
        number = int(meta["number"])
    except (KeyError, TypeError, ValueError):
        raise FormError({BlockId.REASON: OUT_OF_DATE_FORM}) from None
    with on_field(BlockId.REASON):
        planned = await deps.as_actor(client, ws, user_id, drop)
    await ack()
    await refreshes.send(deps, ws, planned)
    if not meta.get("origin_ts"):
        # Pressed on the App Home tab: its lists change with the drop.
        await publish_home(client, deps, ws, user_id)


async def _after_button(
    client: AsyncWebClient,
    deps: Deps,
    ws: WorkspaceKey,
    body: dict[str, Any],
    note: str,
) -> None:
    """After a button's change: App Home, where it was pressed there, shows it; elsewhere the
    person who pressed hears what was done (the messages are refreshed by the outbox)."""
    if (body.get("container") or {}).get("type") == "view":
        await publish_home(client, deps, ws, body["user"]["id"])
    else:
        await replies.tell_user(client, body, note, blocks=[section(note)])


async def add_action_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """ "Add action" on a decided card: check first, then open the action modal."""
    user_id = body["user"]["id"]

    def modal(decision: Decision, *, origin: dict[str, str]) -> Any:
        return render.add_action_modal(decision, owner_id=user_id, origin=origin)

    await _open_modal_if_allowed(
        ack, body, action, client, context, followthrough.ensure_may_add_action, modal
    )


async def add_action_submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    user_id = body["user"]["id"]
    meta = view_metadata(view, team_id=ws.team_id)
    text = (view_value(view, BlockId.OUTCOME_TEXT).get("value") or "").strip()
    owner_id = view_value(view, BlockId.OWNER).get("selected_user") or user_id
    picked = view_value(view, BlockId.DUE).get("selected_date")
    errors: dict[str, str] = {}
    due: date | None = None
    if picked:
        try:
            due = date.fromisoformat(str(picked))
        except ValueError:
            errors[BlockId.DUE] = "Pick a date from the calendar."
        else:
            if due < await deps.user_today(client, ws, user_id):
                errors[BlockId.DUE] = "That date is in the past. Pick today or later."
    if not text:
        errors[BlockId.OUTCOME_TEXT] = "Please say what needs doing."
    number = str(meta.get("number") or "")
    if not number.isdigit():
        errors[BlockId.OUTCOME_TEXT] = OUT_OF_DATE_FORM
    if errors:
        raise FormError(errors)
    # Where the button was pressed counts as the person's, as it did when the modal opened.
    here = meta.get("origin_channel") or None
    visible = await deps.visibility(client, ws, user_id, here=here)

    async def add(actor: Actor) -> tuple[Decision, str, list[ledger.Planned]]:
        now = deps.now()
        async with deps.db.transaction() as session:
            d, added = await followthrough.add_action(
                session,
                ws=ws,
                number=int(number),
                actor=actor,
                text=text,
                owner_id=owner_id,
                due_date=due,
                now=now,
                visible=visible,
            )
            redraw = await refreshes.plan(session, ws=ws, subjects=[d.ref], now=now)
        return d, f"Added *{added.ref}* to follow through on *{d.ref}*.", redraw

    with on_field(BlockId.OUTCOME_TEXT):
        d, note, redraw = await deps.as_actor(client, ws, user_id, add)
    await ack()
    await refreshes.send(deps, ws, redraw)
    pressed = (str(meta.get("origin_channel") or ""), str(meta.get("origin_ts") or ""))
    if any(live.refresh_target_of(row.payload) == pressed for row in redraw):
        return  # the message it was pressed on is one the outbox just redrew
    # Pressed on a follow-through DM ("What happens now?", a reminder): it says what was done.
    if await _refreshed_daily_dm(client, deps, d, meta, user_id):
        return
    text, blocks = render_follow.follow_through_settled(d, note)
    await replies.update_origin_or_tell(
        client,
        body,
        meta,
        text=text,
        blocks=blocks,
        told=note,
        unless=(d.message_channel_id, d.message_ts),
    )


async def _refreshed_daily_dm(
    client: AsyncWebClient, deps: Deps, d: Decision, meta: dict[str, Any], user_id: str
) -> bool:
    """Pressed in the daily reminder DM: redraw it in place (True), keeping its other entries."""
    return await refresh_daily_dm(
        client,
        deps,
        WorkspaceKey(team_id=d.team_id, enterprise_id=d.enterprise_id),
        recipient=user_id,
        channel_id=str(meta.get("origin_channel") or ""),
        ts=str(meta.get("origin_ts") or ""),
    )
