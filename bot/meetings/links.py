"""How decisions become meeting outcomes: made or settled while the channel's meeting is open."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.workspace import WorkspaceKey

if TYPE_CHECKING:
    from bot.decisions.models import Decision


async def open_meeting_in(
    session: AsyncSession, *, ws: WorkspaceKey, channel_id: str
) -> Meeting | None:
    return await session.scalar(
        select(Meeting).where(
            Meeting.in_workspace(ws), Meeting.channel_id == channel_id, Meeting.ended_at.is_(None)
        )
    )


async def open_meetings_in(
    session: AsyncSession, *, ws: WorkspaceKey, channel_ids: set[str]
) -> dict[str, Meeting]:
    """The meeting open in each of ``channel_ids`` that has one."""
    found = await session.scalars(
        select(Meeting).where(
            Meeting.in_workspace(ws),
            Meeting.channel_id.in_(sorted(channel_ids)),
            Meeting.ended_at.is_(None),
        )
    )
    return {meeting.channel_id: meeting for meeting in found}


def add_decision_outcome(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    decision: Decision,
    meeting: Meeting,
    actor_id: str,
    now: datetime,
) -> None:
    """Record ``decision`` (already flushed, so it has an id) as one of ``meeting``'s outcomes."""
    decision.meeting_id = meeting.id
    session.add(
        Outcome(
            **Outcome.key_values(ws),
            meeting_id=meeting.id,
            kind=OutcomeKind.DECISION,
            text=decision.title,
            owner_id=decision.owner_id,
            creator_id=actor_id,
            decision_id=decision.id,
            created_at=now,
            updated_at=now,
        )
    )


async def link_decision_to_open_meeting(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    decision: Decision,
    channel_id: str,
    actor_id: str,
    now: datetime,
) -> Meeting | None:
    """Attach ``decision`` to the meeting open in ``channel_id``, once, as one of its outcomes."""
    if decision.meeting_id is not None:
        return None
    meeting = await open_meeting_in(session, ws=ws, channel_id=channel_id)
    if meeting is None:
        return None
    add_decision_outcome(
        session, ws=ws, decision=decision, meeting=meeting, actor_id=actor_id, now=now
    )
    return meeting
