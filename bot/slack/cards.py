"""A new decision's channel card, composed when its ledger row is sent.

The row is planned with the decision (bot/decisions/cards.py); the web process sends it right
after the ack through `Sender.deliver_planned`, the worker sends whatever is left, both through
the sender's one deliver-one path (pacing, metadata, lookup before a resend, settling). The
composer records the card's channel and ``ts`` on the decision in the transaction that settles
the row as sent, so the buttons and later refreshes find it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.decisions import service
from bot.decisions.cards import ANNOUNCE_KIND, CARD_GIVE_UP, CARD_KIND
from bot.delivery.models import Delivery
from bot.slack.blocks import decisions as render
from bot.slack.compose import ComposeContext, Composed, Composers, OutgoingMessage, fetch_decisions
from bot.workspace import WorkspaceKey

# Slack's answers when the app cannot post in a conversation (not invited, gone, archived).
NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found", "is_archived"})

Tell = Callable[[str], Awaitable[object]]
"""How to reach the person who recorded a decision, given the text to say."""


async def _remember(
    session: AsyncSession, channel_id: str, ts: str, *, ws: WorkspaceKey, decision_id: int
) -> None:
    await service.remember_message(
        session, ws=ws, decision_id=decision_id, channel_id=channel_id, ts=ts
    )


async def compose_card(ctx: ComposeContext, delivery: Delivery) -> Composed:
    """The card, unless the decision is gone, shown already, or the card is a day late."""
    d = await ctx.load(fetch_decisions, int(delivery.payload["number"]))
    if d is None or d.channel_id != delivery.recipient or d.message_ts is not None:
        return None
    if ctx.now - d.created_at > CARD_GIVE_UP:
        return None
    today = ctx.now.astimezone(ctx.cadence.zone).date()
    return OutgoingMessage(
        channel=d.channel_id,
        text=render.card_fallback_text(d),
        blocks=render.decision_card(d, today=today),
        record=partial(_remember, ws=ctx.ws, decision_id=d.id),
        holdable=False,
    )


async def compose_announcement(_ctx: ComposeContext, delivery: Delivery) -> Composed:
    """A change typed elsewhere, said in the decision's own conversation as it was made."""
    text = str(delivery.payload.get("text") or "")
    if not text:
        return None
    return OutgoingMessage(channel=delivery.recipient, text=text, blocks=[], holdable=False)


def register_cards(composers: Composers) -> None:
    composers.register(CARD_KIND, compose_card)
    composers.register(ANNOUNCE_KIND, compose_announcement)


def failed_for_channel(row: Delivery) -> bool:
    """Whether a failed row failed because the app may not post in its conversation."""
    return (row.last_error or "").split(":")[0].strip() in NOT_IN_CHANNEL
