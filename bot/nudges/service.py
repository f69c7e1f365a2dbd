"""What people can do about a reminder besides acting on the item: snooze it for a while.

Decisions snooze through `bot.decisions.service.snooze`; action items snooze here, with the
same lookup and permission rule as marking them done (`bot.meetings.service`). A snooze is
activity: it moves the item's last activity to now, which starts a new reminder episode once
the snooze ends (see `bot.nudges.rules`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, InvalidInput
from bot.meetings import service as meetings
from bot.meetings.models import Outcome
from bot.visibility import Visibility
from bot.workspace import Actor, WorkspaceKey

SNOOZE_DAYS = (1, 3, 7)
"""The snooze lengths reminders offer: a day, three days, a week."""


def snooze_until(now: datetime, days: int) -> datetime:
    """The end of a snooze of ``days`` days from ``now``; only the offered lengths are allowed."""
    if days not in SNOOZE_DAYS:
        raise InvalidInput(
            "A reminder can be snoozed for 1 day, 3 days or 1 week; pick one of those."
        )
    return now + timedelta(days=days)


async def snooze_action(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    until: datetime,
    now: datetime,
    visible: Visibility | None = None,
) -> Outcome:
    """Hold the action item's reminders until ``until``; counts as activity on it."""
    action = await meetings.get_action(session, ws=ws, number=number, lock=True, visible=visible)
    meetings.ensure_may_change_action(action, actor)
    if action.done_at is not None:
        raise Conflict(f"A-{number} is already done, so there is nothing to snooze.")
    if until <= now:
        raise Conflict("A snooze has to end in the future.")
    action.snoozed_until = until
    action.updated_at = now
    return action
