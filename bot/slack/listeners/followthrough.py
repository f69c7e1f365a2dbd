"""The "No action needed" button and its modal, on the follow-through DMs of a decided decision.

"What happens now?" and the orphan reminder offer "Add action" (the decision card's button,
handled with the cards in `bot.slack.listeners.decisions`) and "No action needed", handled here:
checked before the modal opens, so nobody writes a reason only to be refused; once saved, the DM
it was pressed in says so instead of asking.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.decisions import followthrough
from bot.decisions.models import Decision
from bot.delivery import ledger, live
from bot.slack import refreshes, replies
from bot.slack.blocks import followthrough as render
from bot.slack.daily_compose import refresh_daily_dm
from bot.slack.deps import Deps, deps_of, workspace_of
from bot.slack.errors import FormError, on_field
from bot.slack.ids import Action
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.modal_state import OUT_OF_DATE_FORM, view_metadata, view_value
from bot.slack.parsing.items import item_number
from bot.slack.text import render_user_text
from bot.workspace import Actor, WorkspaceKey

STALE = "That button is out of date; `/decision list mine` shows your decisions."


def register(app: AsyncApp) -> None:
    app.action(Action.NO_ACTION)(no_action_pressed)
    app.view(ViewId.NO_ACTION)(no_action_submitted)


def _pressed_on(body: dict[str, Any]) -> dict[str, str]:
    """The message the button was on, so the submission can update it."""
    container = body.get("container") or {}
    if container.get("type") != "message":
        return {}
    return {
        "origin_channel": str(container.get("channel_id") or ""),
        "origin_ts": str(container.get("message_ts") or ""),
    }


async def no_action_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    number = item_number(action.get("value"), "D", team_id=ws.team_id, stale=STALE)
    here = (body.get("channel") or {}).get("id") or None
    visible = await deps.visibility(client, ws, body["user"]["id"], here=here)

    async def may(actor: Actor) -> Decision:
        async with deps.db.transaction() as session:
            return await followthrough.may_say_no_action(
                session, ws=ws, number=number, actor=actor, visible=visible
            )

    decision = await deps.as_actor(client, ws, body["user"]["id"], may)
    await ack()
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=render.no_action_modal(decision, origin=_pressed_on(body)),
    )


async def no_action_submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    user_id = body["user"]["id"]
    meta = view_metadata(view, team_id=ws.team_id)
    reason = (view_value(view, BlockId.REASON).get("value") or "").strip()
    number_text = str(meta.get("number") or "")
    if not number_text.isdigit():
        raise FormError({BlockId.REASON: OUT_OF_DATE_FORM})
    here = meta.get("origin_channel") or None
    visible = await deps.visibility(client, ws, user_id, here=here)

    async def save(actor: Actor) -> tuple[Decision, list[ledger.Planned]]:
        now = deps.now()
        async with deps.db.transaction() as session:
            d = await followthrough.no_action_needed(
                session,
                ws=ws,
                number=int(number_text),
                actor=actor,
                reason=reason,
                now=now,
                visible=visible,
            )
            return d, await refreshes.plan(session, ws=ws, subjects=[d.ref], now=now)

    with on_field(BlockId.REASON):
        decision, redraw = await deps.as_actor(client, ws, user_id, save)
    await ack()
    await refreshes.send(deps, ws, redraw)
    pressed = (str(meta.get("origin_channel") or ""), str(meta.get("origin_ts") or ""))
    if any(live.refresh_target_of(row.payload) == pressed for row in redraw):
        return  # the message it was pressed on is one the outbox just redrew
    note = f"No action needed: {render_user_text(decision.no_action_reason or '')}"
    if await _refreshed_daily_dm(client, deps, decision, meta, user_id):
        return
    text, blocks = render.follow_through_settled(decision, note)
    await replies.update_origin_or_tell(
        client,
        body,
        meta,
        text=text,
        blocks=blocks,
        told=f"*{decision.ref}*: {note}",
        unless=(decision.message_channel_id, decision.message_ts),
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
