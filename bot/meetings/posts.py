"""A meeting's channel summary and an outcome's channel card are rows of the deliveries ledger.

The listener plans the row in the transaction that ends (or logs) the meeting, or adds the
outcome, so the message exists exactly when the change does; the web process sends it right
after the ack (`Sender.deliver_planned`) and the worker sends whatever is left, through the one
deliver-one path. The key (kind, the item, its channel, one period) makes planning idempotent.
The composers (`bot.slack.meeting_posts`) record the message's channel and ``ts`` on the
meeting or outcome in the transaction that settles the row as sent: later changes update it.
"""

from __future__ import annotations

from datetime import datetime

from bot.delivery import ledger
from bot.meetings.models import Meeting, Outcome
from bot.workspace import WorkspaceKey

SUMMARY_KIND = "summary:meeting"
SUMMARY_PERIOD = "ended"
OUTCOME_CARD_KIND = "card:outcome"
OUTCOME_CARD_PERIOD = "new"


def _ws(item: Meeting | Outcome) -> WorkspaceKey:
    return WorkspaceKey(team_id=item.team_id, enterprise_id=item.enterprise_id)


def summary_row(meeting: Meeting, *, now: datetime) -> ledger.Planned:
    """The row of ``meeting``'s channel summary, posted once it has ended."""
    return ledger.Planned(
        ws=_ws(meeting),
        kind=SUMMARY_KIND,
        subject=meeting.ref,
        recipient=meeting.channel_id,
        period=SUMMARY_PERIOD,
        due_at=now,
        payload={"number": meeting.number},
    )


def outcome_card_row(outcome: Outcome, meeting: Meeting | None, *, now: datetime) -> ledger.Planned:
    """The row of a new outcome's card in its meeting's conversation, else its decision's
    (notes have no number: the outcome's id names it)."""
    return ledger.Planned(
        ws=_ws(outcome),
        kind=OUTCOME_CARD_KIND,
        subject=f"outcome:{outcome.id}",
        recipient=meeting.channel_id if meeting is not None else outcome.channel_id,
        period=OUTCOME_CARD_PERIOD,
        due_at=now,
        payload={"id": outcome.id},
    )
