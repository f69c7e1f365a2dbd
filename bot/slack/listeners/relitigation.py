"""The re-litigation warning's buttons (issue 18 point 3): Show, Reopen, Record as superseding,
It's a different question, Undo. Each reads with the presser's rights, as any by-reference read
does, and acts through the decision services."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.decisions import relitigation, service
from bot.decisions.models import Decision
from bot.delivery import ledger
from bot.slack import refreshes
from bot.slack import relitigation as warn
from bot.slack.blocks import decisions as render_decisions
from bot.slack.blocks import relitigation as render
from bot.slack.deps import deps_of, workspace_of
from bot.slack.ids import Action
from bot.slack.text import mention, render_user_text
from bot.visibility import Visibility
from bot.workspace import Actor

log = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.action(Action.REPEAT_SHOW)(show_pressed)
    app.action(Action.REPEAT_REOPEN)(reopen_pressed)
    app.action(Action.REPEAT_SUPERSEDE)(supersede_pressed)
    app.action(Action.REPEAT_DIFFERENT)(different_pressed)
    app.action(Action.REPEAT_UNDO)(undo_pressed)


async def _visible(
    context: AsyncBoltContext, client: AsyncWebClient, body: dict[str, Any]
) -> Visibility:
    here = (body.get("channel") or {}).get("id") or None
    return await deps_of(context).visibility(
        client, workspace_of(context), body["user"]["id"], here=here
    )


async def show_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: Any,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    _, old_number = warn.button_numbers(action, ws)
    visible = await _visible(context, client, body)
    async with deps.db.transaction() as session:
        old = await service.get_decision(session, ws=ws, number=old_number, visible=visible)
    await ack()
    zone = await deps.user_zone(client, ws, body["user"]["id"])
    today = deps.now().astimezone(zone).date()
    await respond(
        response_type="ephemeral",
        replace_original=False,
        text=render_decisions.card_fallback_text(old),
        blocks=render_decisions.decision_detail(old, zone=zone, today=today),
    )


async def _settle(respond: Any, text: str, markdown: str, **undo: str) -> None:
    """Replace the warning, for the person who pressed, with what became of it."""
    await respond(
        replace_original=True,
        response_type="ephemeral",
        text=text,
        blocks=render.settled(markdown, **undo),
    )


async def reopen_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: Any,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    new_number, old_number = warn.button_numbers(action, ws)
    visible = await _visible(context, client, body)
    user_id = body["user"]["id"]

    async def reopen(actor: Actor) -> tuple[Decision, list[ledger.Planned]]:
        now = deps.now()
        async with deps.db.transaction() as session:
            old = await service.reopen(
                session, ws=ws, number=old_number, actor=actor, now=now, visible=visible
            )
            return old, await refreshes.plan(session, ws=ws, subjects=[old.ref], now=now)

    old, redraw = await deps.as_actor(client, ws, user_id, reopen)
    await ack()
    await refreshes.send(deps, ws, redraw)
    await _settle(
        respond,
        f"Reopened {old.ref}.",
        f"{mention(user_id)} reopened *{old.ref}* {render_user_text(old.title)}. "
        f"*D-{new_number}* is still recorded; Undo removes it.",
        undo_value=render.button_value(ws.team_id, new_number, old_number),
        new_ref=f"D-{new_number}",
    )


async def supersede_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: Any,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    new_number, old_number = warn.button_numbers(action, ws)
    visible = await _visible(context, client, body)

    async def supersede(actor: Actor) -> tuple[Decision, Decision, list[ledger.Planned]]:
        now = deps.now()
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
            redraw = await refreshes.plan(session, ws=ws, subjects=[old.ref, new.ref], now=now)
            return old, new, redraw

    old, new, redraw = await deps.as_actor(client, ws, body["user"]["id"], supersede)
    await ack()
    await refreshes.send(deps, ws, redraw)
    await _settle(
        respond,
        f"{new.ref} supersedes {old.ref}.",
        f"*{new.ref}* {render_user_text(new.title)} now supersedes *{old.ref}* "
        f"{render_user_text(old.title)}.",
    )


async def different_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: Any,
) -> None:
    ws = workspace_of(context)
    new_number, old_number = warn.button_numbers(action, ws)
    await ack()
    await _settle(
        respond,
        f"Kept D-{new_number} as a question of its own.",
        f"Kept *D-{new_number}* as a question of its own, apart from *D-{old_number}*.",
    )


async def undo_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    respond: Any,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    new_number, _ = warn.button_numbers(action, ws)
    visible = await _visible(context, client, body)
    actor = Actor(user_id=body["user"]["id"])
    async with deps.db.transaction() as session:
        gone = await relitigation.undo_new(
            session, ws=ws, number=new_number, actor=actor, visible=visible
        )
    await ack()
    if gone.message_channel_id and gone.message_ts:
        try:
            await client.chat_delete(channel=gone.message_channel_id, ts=gone.message_ts)
        except SlackApiError as exc:
            log.info(
                "could not remove the card of an undone decision: %s", exc.response.get("error")
            )
    await _settle(
        respond,
        f"Undone: {gone.ref} is removed.",
        f"Undone: *{gone.ref}* {render_user_text(gone.title)} is removed "
        "(its number is not given out again).",
    )
