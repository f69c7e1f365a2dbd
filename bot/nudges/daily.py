"""The daily reminder DM: everything due for a person goes out together, once a working day.

Per-item reminders keep their own ledger rows, keyed and counted as before (`bot.nudges.rules`:
episodes, ``repeat_every_days``, escalation after ``escalate_after``), so each reminder is
planned once however many planners run. They are written as *bundled* rows
(`DeliveryStatus.BUNDLED`): never claimed on their own, they wait for the person's daily DM.

The daily DM is one more ledger row per person and local day: kind `DAILY_KIND`, subject
``daily:<user>``, period ``YYYY-MM-DD`` (the recipient's date), due at the person's reminder hour
on that working day (`daily_slot`). Its composer (``bot.slack.daily_compose``) takes, when it
is sent, every bundled row of that person that is due by then, leaves out what is no longer
wanted, and marks the rest as sent with the DM's ``ts`` once it is out. A bundled row taken by
a daily DM names it in ``lease_owner`` (``daily:<id>``), so a send that is retried takes the
same rows and no two DMs share one.

Any per-item kind joins the daily DM by planning its rows with `plan_bundled` (the nudges
planner does this for decisions, meetings, action items and orphans) and by registering how
one entry looks in the Slack layer (``bot.slack.daily_compose.register_entry``).
`ensure_daily` (run by the nudges planner every tick, for every workspace) makes sure every
person with bundled rows has a daily DM planned, whatever planned their rows.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.calendar import local_moment
from bot.cadence.config import CadenceConfig, WorkingHours
from bot.cadence.hours import calendar_for
from bot.db import UTCDateTime, dialect_insert
from bot.delivery import ledger
from bot.delivery.models import Delivery, DeliveryStatus
from bot.workspace import WorkspaceKey

DAILY_KIND = "reminders:daily"

BUNDLED_KINDS = frozenset({"nudge:decision", "nudge:meeting", "nudge:action", "nudge:orphan"})
"""The nudges planner's reminder kinds that wait for the daily DM: stalled decisions, meetings
owing outcomes, overdue actions and orphaned decisions (``nudge:orphan``, issue 17: decided, no
next step), each drawn by its entry registered in ``bot.slack.daily_compose``."""

HourOf = Callable[[WorkspaceKey, str], Awaitable[time | None]]
"""A person's reminder hour (None: the start of their working day). The seam for per-person
preferences; the planner is handed one, `no_preference` by default."""

ZoneOf = Callable[[WorkspaceKey, str], Awaitable[ZoneInfo | None]]

# Kinds of rows that are ordered first in the daily DM among equally urgent ones.
KIND_ORDER = {"nudge:decision": 0, "nudge:action": 1, "nudge:meeting": 2, "nudge:orphan": 3}
_SEARCH_LIMIT_DAYS = 400
_CHUNK = 500


async def no_preference(_ws: WorkspaceKey, _person: str) -> time | None:
    """Nobody has chosen an hour: every daily DM goes at the start of the working day."""
    return None


def reminder_hour(chosen: time | None, cadence: CadenceConfig) -> time:
    """The hour a person's daily DM goes out: theirs if they chose one, else the working day's
    start (``working_hours.start``)."""
    return chosen if chosen is not None else cadence.working_hours.start


def is_working_day(day: date, hours: WorkingHours) -> bool:
    return day.weekday() in hours.weekday_numbers and day not in hours.days_off


@functools.lru_cache(maxsize=65536)
def _moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`local_moment`, remembered: a planning tick asks the same few days and hours for
    thousands of people."""
    return local_moment(day, at, zone)


def daily_slot(after: datetime, zone: ZoneInfo, hours: WorkingHours, at: time) -> datetime:
    """The first moment at or after ``after`` that is ``at`` (local) on a working day in ``zone``:
    when the daily DM that holds something due at ``after`` goes out."""
    calendar = calendar_for(zone, hours)
    day = after.astimezone(zone).date() - timedelta(days=1)
    for _ in range(_SEARCH_LIMIT_DAYS):
        if calendar.is_working_day(day):
            moment = _moment(day, at, zone)
            if moment >= after:
                return moment
        day += timedelta(days=1)
    raise ValueError(f"no working day within {_SEARCH_LIMIT_DAYS} days in {zone.key}")


def first_slot(
    since: datetime, now: datetime, zone: ZoneInfo, hours: WorkingHours, at: time
) -> datetime:
    """The daily DM something due since ``since`` belongs to, seen at ``now``: the slot at or
    after ``since``; if that day's working hours are over by ``now`` (a planner that was down,
    a weekend), today's, or the next working day's once today's hours are over too."""

    def over(slot: datetime) -> bool:
        return now >= _moment(slot.astimezone(zone).date(), hours.end, zone)

    slot = daily_slot(since, zone, hours, at)
    if over(slot):
        midnight = _moment(now.astimezone(zone).date(), time(0), zone)
        slot = daily_slot(max(since, midnight), zone, hours, at)
    if over(slot):
        slot = daily_slot(now, zone, hours, at)
    return slot


def slot_day(slot: datetime, zone: ZoneInfo) -> str:
    """The daily row's period: the recipient's local date of its slot."""
    return slot.astimezone(zone).date().isoformat()


def may_send_now(now: datetime, zone: ZoneInfo, hours: WorkingHours, at: time) -> bool:
    """Whether a daily DM may go out at ``now``: a working day, from the reminder hour until the
    end of the working day (a DM that could not go in time never arrives at night)."""
    today = now.astimezone(zone).date()
    if not is_working_day(today, hours):
        return False
    return local_moment(today, at, zone) <= now < local_moment(today, hours.end, zone)


def daily_subject(recipient: str) -> str:
    return f"daily:{recipient}"


def marker(daily_id: int) -> str:
    """What a bundled row's ``lease_owner`` says once a daily DM has taken it."""
    return f"daily:{daily_id}"


def _marked_by(owner: str | None) -> int | None:
    if owner and owner.startswith("daily:") and owner[6:].isdigit():
        return int(owner[6:])
    return None


# --- urgency --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Urgency:
    """What orders the daily DM, most urgent first (docs/NUDGES.md, "The daily DM").

    1. More reminders first: the item that has been reminded about most is the nearest to being
       escalated (``escalate_after``) and has waited longest for an answer.
    2. Then the one stalled longest (the earliest moment it became due in this episode).
    3. Then decisions, action items, meetings, orphaned decisions; then by number.
    """

    reminder: int
    stalled: str
    kind: str
    number: int

    def key(self) -> tuple[int, str, int, int]:
        return (-self.reminder, self.stalled, KIND_ORDER.get(self.kind, 9), self.number)


def urgency(row: Delivery) -> Urgency:
    payload = row.payload or {}
    return Urgency(
        reminder=int(payload.get("reminder", 1)),
        stalled=str(payload.get("stalled") or row.due_at.isoformat()),
        kind=row.kind,
        number=int(payload.get("number", 0)),
    )


def most_urgent_first(rows: Iterable[Delivery]) -> list[Delivery]:
    return sorted(rows, key=lambda r: (urgency(r).key(), r.id))


# --- planning -------------------------------------------------------------------------------


async def plan_bundled(
    session: AsyncSession, *, rows: Sequence[ledger.Planned], now: datetime
) -> int:
    """Insert per-item reminders that wait for their recipient's daily DM (unless their key
    exists); ``due_at`` is the earliest moment one may go out. Returns how many were new."""
    return await ledger.plan(session, rows=rows, now=now, status=DeliveryStatus.BUNDLED)


async def waiting_recipients(session: AsyncSession, *, ws: WorkspaceKey) -> dict[str, datetime]:
    """People with bundled rows and no daily DM pending: {recipient: earliest due_at}.

    Two plain queries, not one anti-join: right after a large first tick PostgreSQL's
    statistics still see an empty ledger and would probe the pending rows once per bundled row.
    """
    rows = await session.execute(
        select(Delivery.recipient, func.min(Delivery.due_at))
        .where(Delivery.in_workspace(ws), Delivery.status == DeliveryStatus.BUNDLED)
        .group_by(Delivery.recipient)
    )
    earliest = {recipient: due for recipient, due in rows}
    if not earliest:
        return {}
    pending = set(
        (
            await session.scalars(
                select(Delivery.recipient).where(
                    Delivery.in_workspace(ws),
                    Delivery.kind == DAILY_KIND,
                    Delivery.status == DeliveryStatus.PENDING,
                )
            )
        ).all()
    )
    return {r: due for r, due in earliest.items() if r not in pending}


async def settled_days(
    session: AsyncSession, *, ws: WorkspaceKey, recipients: Collection[str], since: str
) -> set[tuple[str, str]]:
    """(recipient, day) of daily DMs from ``since`` on that are settled (sent, failed or
    cancelled): a day whose DM is settled takes nothing more."""
    found: set[tuple[str, str]] = set()
    if len(recipients) > _CHUNK:
        # Many people (a large first tick): the workspace's settled daily rows from ``since``
        # on are few (one per person and past day), so they are read in one pass instead of
        # a lookup per chunk of people (planned on statistics that still see an empty ledger).
        wanted = set(recipients)
        rows = await session.execute(
            select(Delivery.recipient, Delivery.period).where(
                Delivery.in_workspace(ws),
                Delivery.kind == DAILY_KIND,
                Delivery.period >= since,
                Delivery.status != DeliveryStatus.PENDING,
            )
        )
        found.update((r, period) for r, period in rows if r in wanted)
        return found
    people = sorted(recipients)
    for start in range(0, len(people), _CHUNK):
        rows = await session.execute(
            select(Delivery.recipient, Delivery.period).where(
                Delivery.in_workspace(ws),
                Delivery.kind == DAILY_KIND,
                Delivery.recipient.in_(people[start : start + _CHUNK]),
                Delivery.period >= since,
                Delivery.status != DeliveryStatus.PENDING,
            )
        )
        found.update((recipient, period) for recipient, period in rows)
    return found


async def ensure_daily(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    now: datetime,
    zones: Mapping[str, ZoneInfo],
    hours_of: Mapping[str, time],
    waiting: Mapping[str, datetime],
    set_based: bool = True,
) -> int:
    """Plan the daily DM of every person in ``waiting`` (see `waiting_recipients`): on the
    first working day at their hour on or after their earliest bundled row, skipping days whose
    DM is settled already. Returns how many daily rows are new.

    The rows are written with one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` (`_plan_daily`)
    from two temporary tables: the few distinct slots and each person's slot number;
    ``set_based=False`` writes them one by one through `ledger.plan` (the same rows)."""
    if not waiting:
        return 0
    hours = cadence.working_hours
    slots: dict[str, datetime] = {}
    # Thousands of people share a few (earliest row, zone, hour): each slot is worked out once.
    known: dict[tuple[datetime, ZoneInfo, time], datetime] = {}
    for recipient, earliest in waiting.items():
        zone = zones.get(recipient, cadence.zone)
        at = hours_of.get(recipient, hours.start)
        found = known.get((earliest, zone, at))
        if found is None:
            found = known[(earliest, zone, at)] = first_slot(earliest, now, zone, hours, at)
        slots[recipient] = found
    since = min(slot_day(s, zones.get(r, cadence.zone)) for r, s in slots.items())
    settled = await settled_days(session, ws=ws, recipients=list(waiting), since=since)
    rows = []
    # (period, due_at, hour) -> its number in the slots table; recipient -> that number.
    numbered: dict[tuple[str, datetime, str], int] = {}
    people: list[dict[str, Any]] = []
    for recipient, slot in slots.items():
        zone = zones.get(recipient, cadence.zone)
        at = hours_of.get(recipient, hours.start)
        while (recipient, slot_day(slot, zone)) in settled:
            next_day = slot.astimezone(zone).date() + timedelta(days=1)
            slot = daily_slot(local_moment(next_day, time(0), zone), zone, hours, at)
        if set_based:
            key = (slot_day(slot, zone), slot, at.strftime("%H:%M"))
            grp = numbered.get(key)
            if grp is None:
                grp = numbered[key] = len(numbered) + 1
            people.append({"recipient": recipient, "grp": grp})
            continue
        rows.append(
            ledger.Planned(
                ws=ws,
                kind=DAILY_KIND,
                subject=daily_subject(recipient),
                recipient=recipient,
                period=slot_day(slot, zone),
                due_at=slot,
                payload={"at": at.strftime("%H:%M")},
            )
        )
    if set_based:
        groups = [
            {"grp": grp, "period": period, "due_at": due_at, "hour": at}
            for (period, due_at, at), grp in numbered.items()
        ]
        return await _plan_daily(session, ws=ws, now=now, groups=groups, people=people)
    return await ledger.plan(session, rows=rows, now=now)


_meta = MetaData()
# The distinct daily slots of one `ensure_daily` call and the slot of each person.
_slots = Table(
    "daily_slots",
    _meta,
    Column("grp", Integer),
    Column("period", String),
    Column("due_at", UTCDateTime),
    Column("hour", String),
    prefixes=["TEMPORARY"],
)
_people = Table(
    "daily_people",
    _meta,
    Column("recipient", String),
    Column("grp", Integer),
    prefixes=["TEMPORARY"],
)


async def _plan_daily(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    now: datetime,
    groups: list[dict[str, Any]],
    people: list[dict[str, Any]],
) -> int:
    """Insert one daily row per person in ``people`` at their group's slot (unless its key
    exists): one ``INSERT … SELECT`` joining the two temporary tables. How many are new."""
    if not people:
        return 0
    postgres = session.get_bind().dialect.name == "postgresql"
    suffix = " ON COMMIT DELETE ROWS" if postgres else ""
    stamp = "TIMESTAMP WITH TIME ZONE" if postgres else "DATETIME"
    await session.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS daily_slots (grp INTEGER PRIMARY KEY, "
            f"period VARCHAR, due_at {stamp}, hour VARCHAR){suffix}"
        )
    )
    await session.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS daily_people "
            f"(recipient VARCHAR PRIMARY KEY, grp INTEGER){suffix}"
        )
    )
    await session.execute(_slots.delete())
    await session.execute(_people.delete())
    await session.execute(_slots.insert(), groups)
    await session.execute(_people.insert(), people)
    if postgres:
        # Temporary tables get no statistics of their own (autovacuum skips them).
        await session.execute(text("ANALYZE daily_slots, daily_people"))
        payload: Any = func.json_build_object("at", _slots.c.hour)
    else:
        payload = func.json_object("at", _slots.c.hour)
    moment = literal(now, UTCDateTime)
    columns = {
        "enterprise_id": literal(ws.enterprise_id),
        "team_id": literal(ws.team_id),
        "kind": literal(DAILY_KIND),
        "subject": literal("daily:") + _people.c.recipient,
        "recipient": _people.c.recipient,
        "period": _slots.c.period,
        "status": literal(DeliveryStatus.PENDING.value),
        "due_at": _slots.c.due_at,
        "attempts": literal(0),
        "payload": payload,
        "created_at": moment,
        "updated_at": moment,
    }
    source = select(*[value.label(name) for name, value in columns.items()]).select_from(
        _people.join(_slots, _slots.c.grp == _people.c.grp)
    )
    table: Any = Delivery.__table__
    statement = (
        dialect_insert(session)(table).from_select(list(columns), source).on_conflict_do_nothing()
    )
    result = await session.execute(statement)
    inserted = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await session.execute(_slots.delete())
    await session.execute(_people.delete())
    return inserted


# --- composing and settling -----------------------------------------------------------------


def hour_of_row(daily: Delivery, cadence: CadenceConfig) -> time:
    raw = str((daily.payload or {}).get("at") or "")
    try:
        return time.fromisoformat(raw)
    except ValueError:
        return cadence.working_hours.start


async def take_members(session: AsyncSession, *, daily: Delivery, now: datetime) -> list[Delivery]:
    """The bundled rows of ``daily``'s recipient due by ``now`` that this DM may hold.

    Rows no other daily DM holds, or held by one that did not go out (failed, cancelled, or
    gone); rows held by a daily DM that went out are settled as sent with it (its
    after-send step did not run) and left out.
    """
    ws = ledger.workspace_of(daily)
    rows = list(
        (
            await session.scalars(
                select(Delivery)
                .where(
                    Delivery.in_workspace(ws),
                    Delivery.recipient == daily.recipient,
                    Delivery.status == DeliveryStatus.BUNDLED,
                    Delivery.due_at <= now,
                )
                .order_by(Delivery.id)
            )
        ).all()
    )
    mine = marker(daily.id)
    others = {n for r in rows if (n := _marked_by(r.lease_owner)) not in (None, daily.id)}
    statuses: dict[int, Delivery] = {}
    if others:
        found = await session.scalars(
            select(Delivery).where(Delivery.in_workspace(ws), Delivery.id.in_(sorted(others)))
        )
        statuses = {d.id: d for d in found}
    taken = []
    for row in rows:
        held_by = _marked_by(row.lease_owner)
        if row.lease_owner in (None, mine) or held_by is None:
            taken.append(row)
            continue
        other = statuses.get(held_by)
        if other is None or other.status in (DeliveryStatus.FAILED, DeliveryStatus.CANCELLED):
            taken.append(row)
        elif other.status == DeliveryStatus.SENT:
            await _settle_sent(session, ws=ws, ids=[row.id], daily=other, now=now)
        # A daily DM still pending holds it: it is that DM's.
    return taken


async def hold(
    session: AsyncSession, *, daily: Delivery, rows: Sequence[Delivery], now: datetime
) -> None:
    """Mark ``rows`` as held by ``daily`` (before it is posted)."""
    ids = [r.id for r in rows]
    for start in range(0, len(ids), _CHUNK):
        await session.execute(
            update(Delivery)
            .where(
                Delivery.in_workspace(ledger.workspace_of(daily)),
                Delivery.id.in_(ids[start : start + _CHUNK]),
                Delivery.status == DeliveryStatus.BUNDLED,
            )
            .values(lease_owner=marker(daily.id), updated_at=now)
        )


async def record_entries(
    session: AsyncSession, *, daily: Delivery, entries: list[dict[str, Any]], more: int
) -> None:
    """Keep on the daily row what it shows, for updating the DM in place later."""
    payload = {**(daily.payload or {}), "entries": entries, "more": more}
    await session.execute(
        update(Delivery)
        .where(Delivery.in_workspace(ledger.workspace_of(daily)), Delivery.id == daily.id)
        .values(payload=payload)
    )


async def cancel(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    ids: Sequence[int],
    reason: str,
    now: datetime,
) -> None:
    """Settle bundled rows that are no longer wanted (or were superseded by a later reminder)."""
    for start in range(0, len(ids), _CHUNK):
        await session.execute(
            update(Delivery)
            .where(
                Delivery.in_workspace(ws),
                Delivery.id.in_(list(ids[start : start + _CHUNK])),
                Delivery.status == DeliveryStatus.BUNDLED,
            )
            .values(
                status=DeliveryStatus.CANCELLED,
                lease_owner=None,
                last_error=reason,
                updated_at=now,
            )
        )


async def settle_members(
    session: AsyncSession, *, daily_id: int, ws: WorkspaceKey, ids: Sequence[int], now: datetime
) -> None:
    """Once the daily DM is out: its rows are sent, in that message."""
    daily = await session.scalar(
        select(Delivery).where(Delivery.in_workspace(ws), Delivery.id == daily_id)
    )
    if daily is not None:
        await _settle_sent(session, ws=ws, ids=ids, daily=daily, now=now)


async def _settle_sent(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    ids: Sequence[int],
    daily: Delivery,
    now: datetime,
) -> None:
    for start in range(0, len(ids), _CHUNK):
        await session.execute(
            update(Delivery)
            .where(
                Delivery.in_workspace(ws),
                Delivery.id.in_(list(ids[start : start + _CHUNK])),
                Delivery.status == DeliveryStatus.BUNDLED,
            )
            .values(
                status=DeliveryStatus.SENT,
                sent_at=daily.sent_at or now,
                message_channel_id=daily.message_channel_id,
                message_ts=daily.message_ts,
                lease_owner=None,
                updated_at=now,
            )
        )


async def daily_message(
    session: AsyncSession, *, ws: WorkspaceKey, recipient: str, channel_id: str, ts: str
) -> Delivery | None:
    """The daily DM posted as message ``ts`` in ``channel_id`` to ``recipient``, if it is one."""
    return await session.scalar(
        select(Delivery).where(
            and_(
                Delivery.in_workspace(ws),
                Delivery.recipient == recipient,
                Delivery.status == DeliveryStatus.SENT,
                Delivery.kind == DAILY_KIND,
                Delivery.message_channel_id == channel_id,
                Delivery.message_ts == ts,
            )
        )
    )
