"""A person's time off: saying it, ending it, and what it means for the calendar of their items.

A period is a run of the person's local dates, first to last day inclusive, on their clock
(their Slack time zone when they said it). While it lasts nothing is sent to them; its days are
not working days for their items (the stall clock, ``repeat_every_days`` and snoozes skip them),
added to the workspace's holidays in a calendar of their own (`personal_cadence`).

A person has at most one period that is not over yet: saying ``away`` again replaces it. Past
periods are kept, because an item idle across them must still not count those days. ``back``
ends the current period yesterday (or forgets it when it had not begun).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.calendar import local_moment
from bot.cadence.config import CadenceConfig
from bot.cadence.hours import next_working_moment
from bot.delivery import ledger
from bot.errors import Conflict, InvalidInput
from bot.timeoff.models import TimeOff
from bot.workspace import WorkspaceKey

#: The longest period one ``/hygiene away`` may set; longer is more likely a typo.
MAX_AWAY_DAYS = 366
#: The start of ``last_error`` on a ledger row held back because its recipient is away.
AWAY_REASON = "away"
#: How far back past periods are read for a calendar: older activity is stalled either way.
HISTORY_DAYS = 400


@dataclass(frozen=True, slots=True)
class Away:
    """One period away, as the planner and the sender use it."""

    user_id: str
    first_day: date
    last_day: date
    zone: ZoneInfo

    @property
    def starts_at(self) -> datetime:
        return local_moment(self.first_day, time(0), self.zone)

    @property
    def ends_at(self) -> datetime:
        """The first instant after the period: 00:00 after its last day, on the person's clock."""
        return local_moment(self.last_day + timedelta(days=1), time(0), self.zone)

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    def days(self) -> Iterator[date]:
        day = self.first_day
        while day <= self.last_day:
            yield day
            day += timedelta(days=1)


@dataclass(frozen=True, slots=True)
class TimeOffFacts:
    """The periods of some people of one workspace: their days off and who is away when."""

    periods: dict[str, tuple[Away, ...]]

    def days_off(self, user_id: str) -> frozenset[date]:
        return frozenset(d for p in self.periods.get(user_id, ()) for d in p.days())

    def days_off_by_person(self) -> dict[str, frozenset[date]]:
        return {user_id: self.days_off(user_id) for user_id in self.periods}

    def away_at(self, user_id: str, at: datetime) -> Away | None:
        """The period ``user_id`` is away in at ``at``, if any."""
        return next((p for p in self.periods.get(user_id, ()) if p.covers(at)), None)

    def cadence_of(self, user_id: str, cadence: CadenceConfig) -> CadenceConfig:
        """``cadence`` with the person's away days added to its holidays."""
        return personal_cadence(cadence, self.days_off(user_id))


def personal_cadence(cadence: CadenceConfig, days_off: Collection[date]) -> CadenceConfig:
    """The cadence of one person's items: the workspace's, with ``days_off`` not working days."""
    extra = set(days_off) - set(cadence.working_hours.holidays)
    if not extra:
        return cadence
    hours = cadence.working_hours.model_copy(
        update={"holidays": sorted({*cadence.working_hours.holidays, *extra})}
    )
    return cadence.model_copy(update={"working_hours": hours})


def back_at(period: Away, cadence: CadenceConfig, days_off: Collection[date] = ()) -> datetime:
    """The start of the person's first working hours after ``period``, on their clock."""
    personal = personal_cadence(cadence, {*days_off, *period.days()})
    return next_working_moment(period.ends_at, period.zone, personal.working_hours)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _away(row: TimeOff) -> Away:
    return Away(
        user_id=row.user_id, first_day=row.first_day, last_day=row.last_day, zone=_zone(row.zone)
    )


def check_period(first_day: date, last_day: date, *, today: date) -> None:
    """Refuse a period that has ended, ends before it starts, or is implausibly long."""
    if last_day < today:
        raise InvalidInput(code="away.over")
    if first_day < today:
        raise InvalidInput(code="away.starts_in_past")
    if last_day < first_day:
        raise InvalidInput(code="away.ends_before_start")
    if (last_day - first_day).days + 1 > MAX_AWAY_DAYS:
        raise InvalidInput(code="away.too_long", most=MAX_AWAY_DAYS)


async def _open_periods(
    session: AsyncSession, *, ws: WorkspaceKey, user_id: str, today: date
) -> list[TimeOff]:
    rows = await session.scalars(
        select(TimeOff)
        .where(TimeOff.in_workspace(ws), TimeOff.user_id == user_id, TimeOff.last_day >= today)
        .order_by(TimeOff.first_day)
    )
    return list(rows)


async def set_away(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    user_id: str,
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    now: datetime,
) -> Away:
    """Store the person's time off, replacing any period of theirs that is not over yet."""
    today = now.astimezone(zone).date()
    check_period(first_day, last_day, today=today)
    for row in await _open_periods(session, ws=ws, user_id=user_id, today=today):
        if row.first_day < today:
            row.last_day = today - timedelta(days=1)  # its past days stay days off
            row.updated_at = now
        else:
            await session.delete(row)
    session.add(
        TimeOff(
            **TimeOff.key_values(ws),
            user_id=user_id,
            first_day=first_day,
            last_day=last_day,
            zone=zone.key,
            created_at=now,
            updated_at=now,
        )
    )
    await session.flush()
    return Away(user_id=user_id, first_day=first_day, last_day=last_day, zone=zone)


async def come_back(
    session: AsyncSession, *, ws: WorkspaceKey, user_id: str, zone: ZoneInfo, now: datetime
) -> Away:
    """End the person's time off now: the current period ends yesterday, a later one is dropped.

    Returns the period as it was. ``Conflict`` when they have none that is not over.
    """
    today = now.astimezone(zone).date()
    rows = await _open_periods(session, ws=ws, user_id=user_id, today=today)
    if not rows:
        raise Conflict(code="away.not_away")
    was = _away(rows[0])
    for row in rows:
        if row.first_day < today:
            row.last_day = today - timedelta(days=1)
            row.updated_at = now
        else:
            await session.execute(delete(TimeOff).where(TimeOff.id == row.id))
    await session.flush()
    # What was held for them goes out now (each message still waits for their working hours).
    await ledger.release_held(session, ws=ws, recipient=user_id, reason=AWAY_REASON, now=now)
    return was


async def current_period(
    session: AsyncSession, *, ws: WorkspaceKey, user_id: str, zone: ZoneInfo, now: datetime
) -> Away | None:
    """The person's period that is not over yet, if any."""
    rows = await _open_periods(session, ws=ws, user_id=user_id, today=now.astimezone(zone).date())
    return _away(rows[0]) if rows else None


async def current_time_off(
    session: AsyncSession, *, ws: WorkspaceKey, now: datetime
) -> TimeOffFacts:
    """Every period of the workspace not over by ``now`` (with a day's margin for zones)."""
    rows = await session.scalars(
        select(TimeOff).where(
            TimeOff.in_workspace(ws), TimeOff.last_day >= now.date() - timedelta(days=1)
        )
    )
    return _facts(rows)


async def workspace_time_off(
    session: AsyncSession, *, ws: WorkspaceKey, now: datetime
) -> TimeOffFacts:
    """Every period of the workspace that ended at most `HISTORY_DAYS` ago, or later."""
    since = (now - timedelta(days=HISTORY_DAYS)).date()
    rows = await session.scalars(
        select(TimeOff).where(TimeOff.in_workspace(ws), TimeOff.last_day >= since)
    )
    return _facts(rows)


def _facts(rows: Iterable[TimeOff]) -> TimeOffFacts:
    found: dict[str, list[Away]] = {}
    for row in rows:
        found.setdefault(row.user_id, []).append(_away(row))
    return TimeOffFacts(
        periods={u: tuple(sorted(ps, key=lambda p: p.first_day)) for u, ps in found.items()}
    )


async def person_time_off(
    session: AsyncSession, *, ws: WorkspaceKey, user_id: str, now: datetime
) -> TimeOffFacts:
    """One person's periods that ended at most `HISTORY_DAYS` ago, or later."""
    since = (now - timedelta(days=HISTORY_DAYS)).date()
    rows = await session.scalars(
        select(TimeOff).where(
            TimeOff.in_workspace(ws), TimeOff.user_id == user_id, TimeOff.last_day >= since
        )
    )
    return _facts(rows)
