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
    return meeting
