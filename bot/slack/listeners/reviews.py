"""The answers to "Did D-12 hold?": Kept and Too early at once, Amended and Reversed by modal.

Each answer is stored (bot/decisions/reviews.py), then the question it was given on turns into
the answer, in place, and the decision's channel card is brought up to date. A refusal (not
theirs to answer, already answered, an older review day) reaches the person before anything
changes; Amended and Reversed are checked before their modal opens.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.decisions import reviews, service
from bot.decisions.models import Decision, DecisionReview, ReviewAnswer
from bot.delivery import ledger
from bot.slack import refreshes, replies
from bot.slack.blocks import reviews as render
from bot.slack.deps import Deps, deps_of, workspace_of
from bot.slack.errors import FormError, on_field
from bot.slack.ids import Action
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.modal_state import OUT_OF_DATE_FORM, view_metadata, view_value
from bot.workspace import Actor, WorkspaceKey


def register(app: AsyncApp) -> None:
    app.action(Action.REVIEW_KEPT)(kept_pressed)
    app.action(Action.REVIEW_TOO_EARLY)(too_early_pressed)
    app.action(Action.REVIEW_AMENDED)(amended_pressed)
    app.action(Action.REVIEW_REVERSED)(reversed_pressed)
    app.view(ViewId.REVIEW_AMEND)(amend_submitted)
    app.view(ViewId.REVIEW_REVERSE)(reverse_submitted)


def _pressed(body: dict[str, Any]) -> dict[str, str]:
    container = body.get("container") or {}
    if container.get("type") != "message":
        return {}
    return {
        "origin_channel": str(container.get("channel_id") or ""),
        "origin_ts": str(container.get("message_ts") or ""),
    }


async def _answer(
    deps: Deps,
    client: AsyncWebClient,
    ws: WorkspaceKey,
    *,
    user_id: str,
    here: str | None,
    number: int,
    day: date,
    answer: ReviewAnswer,
    resolution: str | None = None,
    reason: str | None = None,
) -> tuple[Decision, DecisionReview, list[ledger.Planned]]:
    """Store the answer; with it, plan the refresh of the decision's live messages."""
    visible = await deps.visibility(client, ws, user_id, here=here)
    today = await deps.user_today(client, ws, user_id)
    cadence = await deps.cadence_for(ws)
    now = deps.now()

    async def store(actor: Actor) -> tuple[Decision, DecisionReview, list[ledger.Planned]]:
        async with deps.db.transaction() as session:
            decision, review = await reviews.answer_review(
                session,
                ws=ws,
                number=number,
                actor=actor,
                answer=answer,
                today=today,
                now=now,
                cadence=cadence,
                due_on=day,
                resolution=resolution,
                reason=reason,
                visible=visible,
            )
            redraw = await refreshes.plan(session, ws=ws, subjects=[decision.ref], now=now)
            return decision, review, redraw

    return await deps.as_actor(client, ws, user_id, store)


async def _show_answer(
    client: AsyncWebClient,
    deps: Deps,
    body: dict[str, Any],
    origin: dict[str, str],
    decision: Decision,
    review: DecisionReview,
    redraw: list[ledger.Planned],
) -> None:
    """The question becomes its answer (or the person is told), and the card follows (through
    the outbox: ``redraw`` was planned with the answer)."""
    text, blocks = render.review_answered(decision, review)
    channel, ts = origin.get("origin_channel"), origin.get("origin_ts")
    if not (
        channel
        and ts
        and await replies.update_message(
            client, channel_id=channel, ts=ts, text=text, blocks=blocks
        )
    ):
        await replies.tell_user(client, body, text, blocks=blocks)
    await refreshes.send(
        deps, WorkspaceKey(team_id=decision.team_id, enterprise_id=decision.enterprise_id), redraw
    )


async def _answer_at_once(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    answer: ReviewAnswer,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    number, day = render.parse_review_value(action.get("value"), team_id=ws.team_id)
    here = (body.get("channel") or {}).get("id") or None
    decision, review, redraw = await _answer(
        deps,
        client,
        ws,
        user_id=body["user"]["id"],
        here=here,
        number=number,
        day=day,
        answer=answer,
    )
    # Acknowledged once the answer is stored, so a refusal reaches the person first.
    await ack()
    await _show_answer(client, deps, body, _pressed(body), decision, review, redraw)


async def kept_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await _answer_at_once(ack, body, action, client, context, ReviewAnswer.KEPT)


async def too_early_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await _answer_at_once(ack, body, action, client, context, ReviewAnswer.TOO_EARLY)


async def _open_if_allowed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    modal: Any,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    number, day = render.parse_review_value(action.get("value"), team_id=ws.team_id)
    here = (body.get("channel") or {}).get("id") or None
    visible = await deps.visibility(client, ws, body["user"]["id"], here=here)

    async def may(actor: Actor) -> Decision:
        async with deps.db.transaction() as session:
            decision = await service.get_decision(session, ws=ws, number=number, visible=visible)
        reviews.ensure_may_answer(decision, actor, due_on=day)
        return decision

    decision = await deps.as_actor(client, ws, body["user"]["id"], may)
    await ack()
    await client.views_open(
        trigger_id=body["trigger_id"], view=modal(decision, day=day, origin=_pressed(body))
    )


async def amended_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await _open_if_allowed(ack, body, action, client, context, render.amend_modal)


async def reversed_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await _open_if_allowed(ack, body, action, client, context, render.reverse_modal)


async def _submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
    *,
    answer: ReviewAnswer,
    block: BlockId,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    meta = view_metadata(view, team_id=ws.team_id)
    said = (view_value(view, block).get("value") or "").strip()
    try:
        number, day = int(meta["number"]), date.fromisoformat(str(meta["day"]))
    except (KeyError, ValueError):
        raise FormError({block: OUT_OF_DATE_FORM}) from None
    if not said:
        missing = (
            "Say what holds now." if answer is ReviewAnswer.AMENDED else "Say why it did not hold."
        )
        raise FormError({block: missing})
    with on_field(block):
        decision, review, redraw = await _answer(
            deps,
            client,
            ws,
            user_id=body["user"]["id"],
            here=meta.get("origin_channel") or None,
            number=number,
            day=day,
            answer=answer,
            resolution=said if answer is ReviewAnswer.AMENDED else None,
            reason=said if answer is ReviewAnswer.REVERSED else None,
        )
    await ack()
    await _show_answer(client, deps, body, meta, decision, review, redraw)


async def amend_submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await _submitted(
        ack, body, view, client, context, answer=ReviewAnswer.AMENDED, block=BlockId.RESOLUTION
    )


async def reverse_submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await _submitted(
        ack, body, view, client, context, answer=ReviewAnswer.REVERSED, block=BlockId.REASON
    )
