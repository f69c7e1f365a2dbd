"""What people can do about a reminder besides acting on the item: snooze it for a while.

Decisions snooze through `bot.decisions.service.snooze`; action items snooze here, with the
same lookup and permission rule as marking them done (`bot.meetings.service`). A snooze is
activity: it moves the item's last activity to now, which starts a new reminder episode once
the snooze ends (see `bot.nudges.rules`).

A snooze of N days ends at the start of the person's working day (`working_hours.start`, in
their own time zone) on the first of their working days on or after the local date N days
from now: snoozed on Thursday 02:15 for three days, it ends on Monday 09:00, not on Sunday
02:15. When that is after the item's due date the end says so (`SnoozeEnd.after_due`), and the
reply names the date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.calendar import WorkingCalendar
from bot.cadence.config import CadenceConfig
from bot.cadence.hours import local_moment
from bot.errors import Conflict, InvalidInput
from bot.meetings import service as meetings
from bot.meetings.models import Outcome
from bot.visibility import Visibility
from bot.workspace import Actor, WorkspaceKey

SNOOZE_DAYS = (1, 3, 7)
"""The snooze lengths reminders offer: a day, three days, a week."""


@dataclass(frozen=True, slots=True)
class SnoozeEnd:
    """When a snooze ends, on whose clock, and the item's due date if the end is after it."""

    until: datetime
    zone: ZoneInfo
    after_due: date | None = None


def check_snooze_days(days: int) -> int:
    """Only the offered lengths are allowed."""
    if days not in SNOOZE_DAYS:
        raise InvalidInput(code="snooze.not_offered", days=days)
    return days


def ensure_snooze_ends_later(until: datetime, *, now: datetime) -> None:
    """The one rule for every snooze, of a decision's reminders or an action item's."""
    if until <= now:
        raise Conflict(code="snooze.not_future")


def snooze_end(
    now: datetime,
    days: int,
    *,
    zone: ZoneInfo,
    cadence: CadenceConfig,
    due_date: date | None = None,
) -> SnoozeEnd:
    """The end of a snooze of ``days`` days from ``now`` for a person in ``zone``.

    The start of their first working day on or after the local date ``days`` days ahead.
    """
    check_snooze_days(days)
    hours = cadence.working_hours
    calendar = WorkingCalendar(zone=zone, weekdays=hours.weekday_numbers, days_off=hours.days_off)
    target = now.astimezone(zone).date() + timedelta(days=days)
    day = target if calendar.is_working_day(target) else calendar.working_day_after(target)
    until = local_moment(day, cadence.working_hours.start, zone)
    after_due = due_date if due_date is not None and day > due_date else None
    return SnoozeEnd(until=until, zone=zone, after_due=after_due)


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
        raise Conflict(code="action.snooze_done", number=number)
    ensure_snooze_ends_later(until, now=now)
    action.snoozed_until = until
    action.updated_at = now
    return action
