"""/decision, the decision modals and the buttons on decision cards."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.stall import stalled_now
from bot.decisions import service
from bot.decisions.models import Decision
from bot.errors import InvalidInput, UserError
from bot.slack import cards, replies
from bot.slack.blocks import decisions as render
from bot.slack.blocks.kit import section
from bot.slack.deps import Deps, deps_of, workspace_of
from bot.slack.ids import Action, Command
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.modal_state import view_metadata, view_value
from bot.slack.parsing import commands as grammar
from bot.slack.parsing.dates import parse_date
from bot.slack.parsing.items import item_number
from bot.slack.privacy import ChannelAccess
from bot.slack.text import (
    due_understood,
    full_stop,
    mention,
    place_text,
    render_user_text,
    unescape,
)
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
        case grammar.DecisionNew(
            title=title, owner_id=owner_id, due_text=due_text, kept_by=kept_by
        ):
            due = await _due(deps, client, ws, user_id, due_text)
            decision = await deps.new_decisions.run(
                service.new_decision(
                    ws=ws,
                    title=unescape(title),
                    owner_id=owner_id or user_id,
                    creator_id=user_id,
                    channel_id=channel_id,
                    due_date=due,
                    now=deps.now(),
                )
            )
            await ack(
                response_type="ephemeral",
                text=(
                    f"Recorded *{decision.ref}* “{render_user_text(decision.title)}” — owner "
                    f"{mention(decision.owner_id)}, "
                    f"{due_understood(decision.due_date, due_text, kept_by)}, "
                    f"{place_text(decision.channel_id)}."
                ),
            )
            deps.follow_ups.submit(
                lambda: _post_card(
                    client,
                    deps,
                    decision,
                    lambda text: respond(response_type="ephemeral", text=text),
                )
            )
        case grammar.DecisionList():
            await ack(response_type="ephemeral", blocks=await _list(deps, client, ws, cmd, command))
        case grammar.DecisionShow(number=number):
            zone = await deps.user_zone(client, ws, user_id)
            async with deps.db.transaction() as session:
                decision = await service.get_decision(session, ws=ws, number=number)
            today = deps.now().astimezone(zone).date()
            await ack(
                response_type="ephemeral",
                text=render.card_fallback_text(decision),
                blocks=render.decision_detail(decision, zone=zone, today=today),
            )
        case _:
            decision, summary = await _change(deps, client, ws, cmd, user_id, channel_id)
            await ack(response_type="in_channel", text=summary)
            await refresh_card(client, deps, decision)


async def _due(
    deps: Deps, client: AsyncWebClient, ws: WorkspaceKey, user_id: str, due_text: str | None
) -> date | None:
    if due_text is None:
        return None
    return parse_date(due_text, today=await deps.user_today(client, ws, user_id))


async def _change(
    deps: Deps,
    client: AsyncWebClient,
    ws: WorkspaceKey,
    cmd: grammar.DecisionCommand,
    user_id: str,
    channel_id: str,
) -> tuple[Decision, str]:
    """Apply decide/assign/due/drop/reopen; returns the decision and a line for the channel."""
    due = (
        await _due(deps, client, ws, user_id, cmd.due_text)
        if isinstance(cmd, grammar.DecisionDue)
        else None
    )
    now = deps.now()

    async def apply(actor: Actor) -> tuple[Decision, str]:
        async with deps.db.transaction() as session:
            return await _apply_change(
                session, cmd, ws=ws, actor=actor, channel_id=channel_id, due=due, now=now
            )

    return await deps.as_actor(client, ws, user_id, apply)


async def _apply_change(
    session: AsyncSession,
    cmd: grammar.DecisionCommand,
    *,
    ws: WorkspaceKey,
    actor: Actor,
    channel_id: str,
    due: date | None,
    now: datetime,
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
            )
            resolved = render_user_text(d.resolution or "")
            return d, f"{who} decided *{d.ref}* {render_user_text(d.title)}: {resolved}"
        case grammar.DecisionAssign(number=n, owner_id=owner_id):
            d = await service.assign(
                session, ws=ws, number=n, actor=actor, owner_id=owner_id, now=now
            )
            return d, (
                f"{who} handed *{d.ref}* {render_user_text(d.title)} to {mention(owner_id)}."
            )
        case grammar.DecisionDue(number=n, due_text=said):
            d = await service.set_due(session, ws=ws, number=n, actor=actor, due_date=due, now=now)
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
            )
            why = f" ({render_user_text(d.drop_reason)})" if d.drop_reason else ""
            return d, full_stop(f"{who} dropped *{d.ref}* {render_user_text(d.title)}{why}")
        case grammar.DecisionReopen(number=n):
            d = await service.reopen(session, ws=ws, number=n, actor=actor, now=now)
            return d, full_stop(f"{who} reopened *{d.ref}* {render_user_text(d.title)}")
        case _:
            raise InvalidInput(grammar.DECISION_USAGE)


async def _list(
    deps: Deps,
    client: AsyncWebClient,
    ws: WorkspaceKey,
    cmd: grammar.DecisionList,
    command: dict[str, Any],
) -> list[dict[str, Any]]:
    user_id, channel_id = command["user_id"], command["channel_id"]
    cadence = await deps.cadence_for(ws)
    now = deps.now()
    scope = service.ListScope(cmd.scope)
    target = cmd.user_id if scope is service.ListScope.USER else user_id
    async with deps.db.transaction() as session:
        found = await service.list_decisions(
            session,
            ws=ws,
            scope=scope,
            stalled=stalled_now(now, cadence),
            channel_id=channel_id,
            user_id=target,
        )
    visible = await visible_channels(client, {d.channel_id for d in found}, user_id, channel_id)
    found = [d for d in found if d.channel_id in visible]
    titles = {
        service.ListScope.CHANNEL: (
            "Open decisions in this channel",
            "Nothing open here. `/decision new …` records one.",
        ),
        service.ListScope.MINE: ("Open decisions you own", "You own no open decisions."),
        service.ListScope.STALLED: ("Stalled decisions", "Nothing is stalled. :tada:"),
        service.ListScope.ALL: ("All open decisions", "No open decisions in this workspace."),
        service.ListScope.USER: (f"Open decisions owned by {mention(target or '')}", "None."),
    }
    title, empty = titles[scope]
    today = now.astimezone(await deps.user_zone(client, ws, user_id)).date()
    return render.decision_list(found, title=title, empty=empty, today=today)


async def visible_channels(
    client: AsyncWebClient, channel_ids: set[str], user_id: str, current_channel: str
) -> set[str]:
    """The channels among ``channel_ids`` whose items ``user_id`` may see.

    The channel a command came from is visible by definition; the rest follow the privacy rule.
    """
    return {current_channel} | await ChannelAccess(client).readable(channel_ids, user_id)


# --- channel cards --------------------------------------------------------------------------


async def _post_card(
    client: AsyncWebClient, deps: Deps, decision: Decision, tell: cards.Tell
) -> None:
    await cards.post_card(
        client, deps.db, decision, now=deps.now(), zone=deps.cadence.zone, tell=tell
    )


async def refresh_card(client: AsyncWebClient, deps: Deps, decision: Decision) -> None:
    if decision.message_channel_id is None or decision.message_ts is None:
        return
    today = deps.now().astimezone(deps.cadence.zone).date()
    await replies.update_message(
        client,
        channel_id=decision.message_channel_id,
        ts=decision.message_ts,
        text=render.card_fallback_text(decision),
        blocks=render.decision_card(decision, today=today),
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
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    try:
        request = service.new_decision(
            ws=ws,
            title=title,
            context=context_text,
            owner_id=owner_id,
            creator_id=user_id,
            channel_id=channel_id,
            due_date=due,
            source_permalink=meta.get("permalink"),
            now=deps.now(),
        )
    except UserError as exc:
        await ack(response_action="errors", errors={BlockId.TITLE: exc.message})
        return
    decision = await deps.new_decisions.run(request)
    await ack()
    await _post_card(client, deps, decision, lambda text: replies.tell_user(client, body, text))


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

    async def decide(actor: Actor) -> Decision:
        async with deps.db.transaction() as session:
            return await service.decide(
                session,
                ws=ws,
                number=number,
                actor=actor,
                resolution=resolution,
                channel_id=meta.get("channel_id"),
                now=deps.now(),
            )

    try:
        number = int(meta["number"])
        decision = await deps.as_actor(client, ws, user_id, decide)
    except UserError as exc:
        await ack(response_action="errors", errors={BlockId.RESOLUTION: exc.message})
        return
    except (KeyError, ValueError):
        await ack(
            response_action="errors",
            errors={BlockId.RESOLUTION: "This form is out of date; please start again."},
        )
        return
    await ack()
    await refresh_card(client, deps, decision)
    await _refresh_origin(client, deps, decision, meta)


async def _refresh_origin(
    client: AsyncWebClient, deps: Deps, decision: Decision, meta: dict[str, Any]
) -> None:
    """Update the message the button was pressed on, when it isn't the decision's own card."""
    channel_id, ts = meta.get("origin_channel"), meta.get("origin_ts")
    if (
        not channel_id
        or not ts
        or (channel_id, ts) == (decision.message_channel_id, decision.message_ts)
    ):
        return
    today = deps.now().astimezone(deps.cadence.zone).date()
    await replies.update_message(
        client,
        channel_id=channel_id,
        ts=ts,
        text=render.card_fallback_text(decision),
        blocks=render.decision_card(decision, today=today),
    )


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


async def decide_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    number = _number(action, ws)

    async def may_decide(actor: Actor) -> Decision:
        async with deps.db.transaction() as session:
            decision = await service.get_decision(session, ws=ws, number=number)
        service.ensure_may_decide(decision, actor)
        return decision

    # Check before acknowledging and opening the modal: nobody types a resolution only to be
    # refused, and a refusal raised before the ack reaches the person without a time-out.
    decision = await deps.as_actor(client, ws, body["user"]["id"], may_decide)
    await ack()
    channel_id = (body.get("channel") or {}).get("id") or decision.channel_id
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=render.decide_modal(decision, origin={"channel_id": channel_id, **_origin(body)}),
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

    async def assign(actor: Actor) -> Decision:
        async with deps.db.transaction() as session:
            return await service.assign(
                session, ws=ws, number=number, actor=actor, owner_id=owner_id, now=deps.now()
            )

    decision = await deps.as_actor(client, ws, body["user"]["id"], assign)
    await ack()
    await _after_button(
        client, deps, body, decision, f"{decision.ref} now belongs to {mention(owner_id)}."
    )


async def drop_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    number = _number(action, ws)

    async def may_drop(actor: Actor) -> Decision:
        async with deps.db.transaction() as session:
            decision = await service.get_decision(session, ws=ws, number=number)
        service.ensure_may_drop(decision, actor)
        return decision

    # As with Decide: refuse before the modal opens, so nobody writes a reason in vain.
    decision = await deps.as_actor(client, ws, body["user"]["id"], may_drop)
    await ack()
    channel_id = (body.get("channel") or {}).get("id") or decision.channel_id
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=render.drop_modal(decision, origin={"channel_id": channel_id, **_origin(body)}),
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

    async def drop(actor: Actor) -> Decision:
        async with deps.db.transaction() as session:
            return await service.drop(
                session, ws=ws, number=number, actor=actor, reason=reason, now=deps.now()
            )

    try:
        number = int(meta["number"])
        decision = await deps.as_actor(client, ws, user_id, drop)
    except UserError as exc:
        await ack(response_action="errors", errors={BlockId.REASON: exc.message})
        return
    except (KeyError, ValueError):
        await ack(
            response_action="errors",
            errors={BlockId.REASON: "This form is out of date; please start again."},
        )
        return
    await ack()
    await refresh_card(client, deps, decision)
    await _refresh_origin(client, deps, decision, meta)
    if not meta.get("origin_ts"):
        # Pressed on the App Home tab: its lists change with the drop.
        from bot.slack.listeners.home import publish_home

        await publish_home(client, deps, ws, user_id)


async def _after_button(
    client: AsyncWebClient, deps: Deps, body: dict[str, Any], decision: Decision, note: str
) -> None:
    await refresh_card(client, deps, decision)
    await _refresh_origin(client, deps, decision, _origin(body))
    if (body.get("container") or {}).get("type") == "view":
        from bot.slack.listeners.home import publish_home

        await publish_home(client, deps, workspace_of_body(body), body["user"]["id"])
    else:
        await replies.tell_user(client, body, note, blocks=[section(note)])


def workspace_of_body(body: dict[str, Any]) -> WorkspaceKey:
    team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or ""
    enterprise = (body.get("enterprise") or {}).get("id") if body.get("enterprise") else ""
    return WorkspaceKey(team_id=team, enterprise_id=enterprise or "")
