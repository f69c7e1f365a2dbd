"""Hand-built histories for the digest tests: rows with exactly the timestamps a test states.

The numbers tests need decisions created, decided and dropped at chosen instants and meetings
that ended at chosen instants, which the services (which stamp "now") cannot give directly.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.decisions.models import Decision, DecisionEvent, DecisionStatus
from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.workspace import WorkspaceKey

WS = WorkspaceKey("T1")
# Far above what the services hand out in the same test, so the two never collide.
_numbers = itertools.count(1000)


def local(zone: str, y: int, m: int, d: int, hour: int = 12, minute: int = 0) -> datetime:
    """The instant (UTC) the wall clock in ``zone`` reads the given time."""
    return datetime(y, m, d, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def utc(y: int, m: int, d: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, second, tzinfo=UTC)


async def add_decision(
    session: AsyncSession,
    *,
    created: datetime,
    channel: str = "C1",
    owner: str = "U1",
    title: str | None = None,
    decided: datetime | None = None,
    dropped: datetime | None = None,
    due: date | None = None,
    last_activity: datetime | None = None,
    message_ts: str | None = None,
    ws: WorkspaceKey = WS,
) -> Decision:
    number = next(_numbers)
    status = (
        DecisionStatus.DECIDED
        if decided
        else DecisionStatus.DROPPED
        if dropped
        else DecisionStatus.OPEN
    )
    latest = last_activity or decided or dropped or created
    decision = Decision(
        **Decision.key_values(ws),
        number=number,
        title=title or f"Decision {number}",
        owner_id=owner,
        creator_id=owner,
        channel_id=channel,
        status=status,
        resolution="Done" if decided else None,
        due_date=due,
        created_at=created,
        updated_at=latest,
        last_activity_at=latest,
        decided_at=decided,
        dropped_at=dropped,
        message_channel_id=channel if message_ts else None,
        message_ts=message_ts,
        events=[
            DecisionEvent(
                **DecisionEvent.key_values(ws),
                actor_id=owner,
                action="created",
                detail={"owner": owner, "due": due.isoformat() if due else None},
                at=created,
            )
        ],
    )
    # The history agrees with the row, as the services keep it: every activity is an entry.
    if last_activity and last_activity > created and last_activity != (decided or dropped):
        decision.events.append(
            DecisionEvent(
                **DecisionEvent.key_values(ws),
                actor_id=owner,
                action="snoozed",
                detail={"until": last_activity.isoformat()},
                at=last_activity,
            )
        )
    if decided or dropped:
        decision.events.append(
            DecisionEvent(
                **DecisionEvent.key_values(ws),
                actor_id=owner,
                action="decided" if decided else "dropped",
                detail={"resolution": "Done"} if decided else {"reason": None},
                at=decided or dropped,
            )
        )
    session.add(decision)
    await session.flush()
    return decision


async def add_meeting(
    session: AsyncSession,
    *,
    ended: datetime | None,
    started: datetime | None = None,
    channel: str = "C1",
    no_outcome_reason: str | None = None,
    ws: WorkspaceKey = WS,
    title: str = "Weekly sync",
) -> Meeting:
    begin = started or ended
    assert begin is not None
    meeting = Meeting(
        **Meeting.key_values(ws),
        number=next(_numbers),
        title=title,
        organizer_id="U1",
        channel_id=channel,
        started_at=begin,
        ended_at=ended,
        no_outcome_reason=no_outcome_reason,
        no_outcome_by="U1" if no_outcome_reason else None,
        no_outcome_at=ended if no_outcome_reason else None,
        created_at=begin,
    )
    session.add(meeting)
    await session.flush()
    return meeting


async def add_outcome(
    session: AsyncSession,
    meeting: Meeting,
    *,
    created: datetime,
    kind: OutcomeKind = OutcomeKind.NOTE,
    due: date | None = None,
    done: datetime | None = None,
    text: str = "Something was agreed",
    ws: WorkspaceKey = WS,
) -> Outcome:
    outcome = Outcome(
        **Outcome.key_values(ws),
        meeting_id=meeting.id,
        number=next(_numbers) if kind == OutcomeKind.ACTION else None,
        kind=kind,
        text=text,
        owner_id="U2" if kind == OutcomeKind.ACTION else None,
        due_date=due,
        creator_id="U1",
        created_at=created,
        updated_at=created,
        done_at=done,
        done_by="U2" if done else None,
    )
    session.add(outcome)
    await session.flush()
    return outcome
