"""A person's reminder preferences: when their daily DM comes, whether owner notices come at
once, and a pause. Read by the planner and the sender on every tick; changed from App Home.

- **Reminder hour**: a whole hour inside the workspace's working hours, on the person's own
  clock; unset, the daily DM comes at the start of their working day. An hour the working hours
  no longer include (an admin moved them) falls back to the start, without touching the row.
- **Owner notices**: "also tell me the moment I'm made owner" (the default) or "only my daily
  DM": then owner and change notices (`bot.nudges.notices`) are not sent, and are dropped
  rather than held: what they told is on App Home, and in the daily DM once it is due.
- **Pause until a date**: nothing is sent to the person (reminders, notices, escalations,
  digests, anything the deliveries ledger holds for them) before the start of their working
  hours on that day. Planned DMs wait; reminders that would fall due meanwhile are not planned,
  so what they get when the pause ends is what is due then, not a backlog.

Every change is audited (who, when, the fields before and after) in ``person_prefs_changes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.calendar import local_moment
from bot.cadence.config import WorkingHours
from bot.cadence.hours import next_working_moment
from bot.db import insert_absent
from bot.delivery import ledger
from bot.errors import InvalidInput
from bot.prefs.models import PersonPrefs, PersonPrefsChange
from bot.workspace import WorkspaceKey

#: A pause ends at most this far ahead; longer absences are what `/hygiene away` is for.
PAUSE_MAX_DAYS = 90
#: Why the sender held a DM back (the row's ``last_error``), so ending a pause can release it.
PAUSED = "paused by the recipient"


@dataclass(frozen=True, slots=True)
class Prefs:
    """One person's preferences; the defaults are what everyone has until they change them."""

    reminder_hour: int | None = None
    owner_notices: bool = True
    paused_until: date | None = None

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["paused_until"] = self.paused_until.isoformat() if self.paused_until else None
        return values


DEFAULT = Prefs()


class InvalidPrefs(InvalidInput):
    """What is wrong with a preferences form, field by field (``reminder_hour``,
    ``paused_until``), each one sentence."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        super().__init__(" ".join(self.problems.values()))


def reminder_hours(hours: WorkingHours) -> list[int]:
    """The whole hours a daily DM may come at: on the hour, inside the working hours."""
    return [h for h in range(24) if hours.start <= time(h) < hours.end]


def reminder_time(prefs: Prefs, hours: WorkingHours) -> time:
    """When the person's daily DM comes on their clock: their hour, or their day's start."""
    if prefs.reminder_hour is not None and prefs.reminder_hour in reminder_hours(hours):
        return time(prefs.reminder_hour)
    return hours.start


def _hour_text(hour: int) -> str:
    return f"{hour:02d}:00"


def check(
    *,
    reminder_hour: str | int | None,
    owner_notices: bool,
    paused_until: date | None,
    today: date,
    hours: WorkingHours,
) -> Prefs:
    """The preferences a form asks for, or `InvalidPrefs` saying what is wrong.

    ``today`` is the person's own; a pause must end after it (a pause ending today is no pause)
    and within `PAUSE_MAX_DAYS`.
    """
    problems: dict[str, str] = {}
    hour: int | None = None
    allowed = reminder_hours(hours)
    if reminder_hour not in (None, ""):
        text = str(reminder_hour).strip()
        if not (text.isascii() and text.isdigit()) or int(text) not in allowed:
            span = (
                f"{_hour_text(allowed[0])} to {_hour_text(allowed[-1])}"
                if allowed
                else "none today"
            )
            problems["reminder_hour"] = (
                f"Pick a whole hour inside the working hours ({span}); “{text}” is not one."
            )
        else:
            hour = int(text)
    if paused_until is not None:
        if paused_until <= today:
            problems["paused_until"] = (
                "Pick a day after today for the pause to end, or clear the date to not pause."
            )
        elif paused_until > today + timedelta(days=PAUSE_MAX_DAYS):
            problems["paused_until"] = (
                f"A pause can last at most {PAUSE_MAX_DAYS} days; for longer time off use "
                "`/hygiene away`."
            )
    if problems:
        raise InvalidPrefs(problems)
    return Prefs(reminder_hour=hour, owner_notices=owner_notices, paused_until=paused_until)


def _of(row: PersonPrefs | None) -> Prefs:
    if row is None:
        return DEFAULT
    return Prefs(
        reminder_hour=row.reminder_hour,
        owner_notices=bool(row.owner_notices),
        paused_until=row.paused_until,
    )


async def get(session: AsyncSession, *, ws: WorkspaceKey, user_id: str) -> Prefs:
    row = await session.scalar(
        select(PersonPrefs).where(PersonPrefs.in_workspace(ws), PersonPrefs.user_id == user_id)
    )
    return _of(row)


async def save(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    user_id: str,
    actor_id: str,
    prefs: Prefs,
    now: datetime,
) -> Prefs | None:
    """Store ``prefs`` for ``user_id`` with an audit entry; returns what they were before, or
    None when nothing changed (nothing is written then).

    A pause cleared or shortened releases what it held: those DMs are due again at once (the
    sender still keeps them to working hours).
    """
    # The row exists before it is locked, so two first saves at once cannot both insert it.
    await insert_absent(
        session,
        PersonPrefs,
        [
            {
                **PersonPrefs.key_values(ws),
                "user_id": user_id,
                "owner_notices": True,
                "updated_at": now,
            }
        ],
    )
    row = await session.scalar(
        select(PersonPrefs)
        .where(PersonPrefs.in_workspace(ws), PersonPrefs.user_id == user_id)
        .with_for_update()
    )
    assert row is not None
    before = _of(row)
    if before == prefs:
        return None
    row.reminder_hour = prefs.reminder_hour
    row.owner_notices = prefs.owner_notices
    row.paused_until = prefs.paused_until
    row.updated_at = now
    session.add(
        PersonPrefsChange(
            **PersonPrefsChange.key_values(ws),
            user_id=user_id,
            actor_id=actor_id,
            old_value=before.as_dict(),
            new_value=prefs.as_dict(),
            at=now,
        )
    )
    if before.paused_until is not None and (
        prefs.paused_until is None or prefs.paused_until < before.paused_until
    ):
        await ledger.release_held(session, ws=ws, recipient=user_id, reason=PAUSED, now=now)
    return before


async def changes(
    session: AsyncSession, *, ws: WorkspaceKey, user_id: str, limit: int = 20
) -> list[PersonPrefsChange]:
    """The person's latest preference changes, newest first."""
    found = await session.scalars(
        select(PersonPrefsChange)
        .where(PersonPrefsChange.in_workspace(ws), PersonPrefsChange.user_id == user_id)
        .order_by(PersonPrefsChange.at.desc(), PersonPrefsChange.id.desc())
        .limit(limit)
    )
    return list(found)


async def holding(session: AsyncSession, *, ws: WorkspaceKey, now: datetime) -> dict[str, Prefs]:
    """The people of the workspace whose preferences may hold or drop a DM now: paused (a
    pause ending a day either side of today in UTC, so every zone is covered), or owner
    notices off. Few rows, read once per tick by the planner and per pass by the sender."""
    floor = now.date() - timedelta(days=1)
    found = await session.scalars(
        select(PersonPrefs).where(
            PersonPrefs.in_workspace(ws),
            or_(PersonPrefs.paused_until >= floor, PersonPrefs.owner_notices.is_(False)),
        )
    )
    return {row.user_id: _of(row) for row in found}


async def chosen_reminder_hours(
    session: AsyncSession, *, ws: WorkspaceKey, hours: WorkingHours
) -> dict[str, time]:
    """The reminder hours people of the workspace chose (`reminder_time`), for the planner's
    daily DMs; people who chose none are left out (their day's start applies)."""
    found = await session.scalars(
        select(PersonPrefs).where(
            PersonPrefs.in_workspace(ws), PersonPrefs.reminder_hour.is_not(None)
        )
    )
    return {row.user_id: reminder_time(_of(row), hours) for row in found}


def pause_ends(prefs: Prefs, zone: ZoneInfo, hours: WorkingHours) -> datetime | None:
    """When the person's pause ends: the start of their working hours on its day (or the next
    working moment after that day begins); None without a pause."""
    if prefs.paused_until is None:
        return None
    return next_working_moment(local_moment(prefs.paused_until, time(0), zone), zone, hours)


def paused_at(prefs: Prefs, now: datetime, zone: ZoneInfo, hours: WorkingHours) -> datetime | None:
    """The end of the pause if ``now`` falls inside it, else None."""
    ends = pause_ends(prefs, zone, hours)
    return ends if ends is not None and now < ends else None
