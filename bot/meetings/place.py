"""Where an action item lives, in SQL: its meeting's conversation, else its decision's.

Most outcomes belong to a meeting. A follow-through action added to a decision that has no
meeting (issue 17) has ``meeting_id`` NULL and lives in its decision's conversation: its
channel, and whether that is a DM, are the decision's. Every query that asks where an action
is (the privacy rule, App Home, the digest's overdue count, the export) selects from
``SOURCE`` and reads ``CHANNEL`` and ``DIRECT``; the decision is an alias, so a query may join
``decisions`` again for another purpose. In Python, ``Outcome.channel_id`` and
``Outcome.direct`` say the same for an outcome loaded with both its ``meeting`` and its
``decision``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, func, outerjoin
from sqlalchemy.orm import aliased, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from bot.decisions.models import Decision
from bot.meetings.models import Meeting, Outcome

#: The decision an action follows through on, joined only to say where the action lives.
PlaceDecision = aliased(Decision, name="place_decision")

#: Outcomes with their meeting and their decision (either may be missing, not both).
SOURCE: Any = outerjoin(Outcome, Meeting, Meeting.id == Outcome.meeting_id).outerjoin(
    PlaceDecision, PlaceDecision.id == Outcome.decision_id
)

CHANNEL: ColumnElement[str] = func.coalesce(
    Meeting.channel_id, PlaceDecision.channel_id, type_=String
)
DIRECT: ColumnElement[bool] = func.coalesce(Meeting.direct, PlaceDecision.direct, type_=Boolean)


def load(*, meeting_outcomes: bool = False) -> tuple[LoaderOption, ...]:
    """Loader options that make ``Outcome.channel_id``/``direct`` (and ``.meeting``) usable;
    ``meeting_outcomes`` also loads the meeting's other outcomes (for its summary)."""
    meeting = selectinload(Outcome.meeting)
    if meeting_outcomes:
        meeting = meeting.selectinload(Meeting.outcomes)
    return (meeting, selectinload(Outcome.decision))
