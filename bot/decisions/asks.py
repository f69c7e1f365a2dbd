"""The "What happens now?" question a decision's owner gets, once, when it is decided.

Deciding (by any surface: the command, a button's modal, "Decided already", a DM) writes a row
into the deliveries ledger in the deciding transaction; the sender composes it when it is due
(`bot.slack.compose`), inside the owner's working hours, and drops it if the decision has its
follow-through by then (an action, or "no action needed") or is no longer decided. The row's key
names the decision, and a decision that already has one is never asked again, even after a
reopen, a second decide or a new owner.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.decisions.models import Decision, DecisionStatus
from bot.delivery import ledger
from bot.workspace import WorkspaceKey

WHAT_NEXT_KIND = "followthrough:what_next"
#: The one period of a decision's question: asked once for the decision, whoever owns it.
WHAT_NEXT_PERIOD = "decided"


async def ask_what_next(
    session: AsyncSession, *, ws: WorkspaceKey, decisions: Sequence[Decision], now: datetime
) -> int:
    """Plan the question for each decided decision never asked before; returns how many.

    In the caller's transaction, so the question exists exactly when the decide does.
    """
    decided = [d for d in decisions if d.status == DecisionStatus.DECIDED]
    if not decided:
        return 0
    asked = await ledger.existing_keys(
        session, ws=ws, kinds=(WHAT_NEXT_KIND,), subjects={d.ref for d in decided}
    )
    asked_subjects = {subject for _kind, subject, _recipient, _period in asked}
    rows = [
        ledger.Planned(
            ws=ws,
            kind=WHAT_NEXT_KIND,
            subject=d.ref,
            recipient=d.owner_id,
            period=WHAT_NEXT_PERIOD,
            due_at=now,
            payload={"number": d.number},
        )
        for d in decided
        if d.ref not in asked_subjects
    ]
    if not rows:
        return 0
    return await ledger.plan(session, rows=rows, now=now)
