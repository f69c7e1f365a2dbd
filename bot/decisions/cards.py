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

from sqlalchemy.ext.asyncio import AsyncSession

from bot.decisions.models import Decision
from bot.delivery import ledger
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


def announcement_row(decision: Decision, *, text: str, now: datetime) -> ledger.Planned:
    """The row that says ``text`` (a change, as it was made) in the decision's own channel.

    Its period is the change's moment to the microsecond: each change is told once.
    """
    return ledger.Planned(
        ws=workspace_of(decision),
        kind=ANNOUNCE_KIND,
        subject=decision.ref,
        recipient=decision.channel_id,
        period=now.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%f"),
        due_at=now,
        payload={"number": decision.number, "text": text},
    )
