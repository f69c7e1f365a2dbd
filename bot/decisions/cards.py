"""A new decision's channel card is a row of the deliveries ledger, planned with the decision.

`create_decisions` plans the row in the transaction that records the decision, so the card
exists exactly when the decision does. The web process delivers it right after the ack
(`Sender.deliver_planned`); if that process stops first, the worker's next tick sends it
through the same path. The ledger's key (kind, the decision's ref, its channel, ``new``) makes
planning idempotent and a card is sent once (docs/NUDGES.md says what can still give a second
one). The composer (`bot.slack.cards`) records the card's channel and ``ts`` on the decision in
the transaction that settles the row as sent: buttons and refreshes need it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.decisions.models import Decision
from bot.delivery import ledger
from bot.delivery.models import Delivery
from bot.workspace import WorkspaceKey

CARD_KIND = "card:decision"
#: The one period of a decision's card: shown once, when it is recorded.
CARD_PERIOD = "new"
#: A card still not sent a day on is given up: "new decision" would be old news.
CARD_GIVE_UP = timedelta(days=1)
#: A change said in the decision's own conversation when it was typed elsewhere.
ANNOUNCE_KIND = "announce:decision"


def workspace_of(decision: Decision) -> WorkspaceKey:
    return WorkspaceKey(team_id=decision.team_id, enterprise_id=decision.enterprise_id)


def card_row(decision: Decision, *, now: datetime | None = None) -> ledger.Planned:
    """The ledger row of ``decision``'s channel card (its key is all a re-plan needs)."""
    return ledger.Planned(
        ws=workspace_of(decision),
        kind=CARD_KIND,
        subject=decision.ref,
        recipient=decision.channel_id,
        period=CARD_PERIOD,
        due_at=now or decision.created_at,
        payload={"number": decision.number},
    )


async def plan_cards(session: AsyncSession, *, decisions: Sequence[Decision], now: datetime) -> int:
    """Plan the card of each new decision, in the caller's transaction; how many were new."""
    if not decisions:
        return 0
    return await ledger.plan(session, rows=[card_row(d, now=now) for d in decisions], now=now)


def announcement_row(
    decision: Decision, *, text: str, now: datetime, change: int = 1
) -> ledger.Planned:
    """The row that says ``text`` (a change, as it was made) in the decision's own channel.

    Its period is the change's moment to the microsecond and the change's number among the
    decision's announcements (``20261123T084500.000000#3``): each change is told once, and two
    changes at the same moment (a clock that does not move, as in the sandbox) are both told.
    """
    return ledger.Planned(
        ws=workspace_of(decision),
        kind=ANNOUNCE_KIND,
        subject=decision.ref,
        recipient=decision.channel_id,
        period=f"{now.astimezone(UTC).strftime('%Y%m%dT%H%M%S.%f')}#{change}",
        due_at=now,
        payload={"number": decision.number, "text": text},
    )


#: How many numbers an announcement tries when other changes take them at the same moment.
_ANNOUNCE_TRIES = 5


async def plan_announcement(
    session: AsyncSession, decision: Decision, *, text: str, now: datetime
) -> ledger.Planned:
    """Plan ``text`` in ``decision``'s own conversation, in the change's transaction.

    The change takes the next number among the decision's announcements; when a change
    committed at the same moment on PostgreSQL took it first, this one takes the one after.
    """
    ws = workspace_of(decision)
    told = await session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(
            Delivery.in_workspace(ws),
            Delivery.kind == ANNOUNCE_KIND,
            Delivery.subject == decision.ref,
        )
    )
    change = int(told or 0)
    for _ in range(_ANNOUNCE_TRIES):
        change += 1
        row = announcement_row(decision, text=text, now=now, change=change)
        if await ledger.plan(session, rows=[row], now=now):
            return row
    raise RuntimeError(f"no free announcement number for {decision.ref} after {change}")
