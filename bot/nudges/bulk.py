"""Set-based planning of the ordinary stalled-decision reminders: the database does the rows.

Most stalled decisions are ordinary: no due date, not snoozed, owned by someone with no time
off, no pause and no notice preference, not the escalation target. For them every number the
planner needs is a function of one column, ``last_activity_at`` (``a``), under the workspace's
calendar and ``now``:

- when the decision stalled (`rules.decision_stalled_from`),
- which reminder of the episode is due (`rules.reminder_number`),
- when that reminder fell due (`rules.reminder_moment`), and, with the owner's zone and
  reminder hour, the daily DM it belongs to (`daily.first_slot`).

On a local day without an offset change these functions are simple in ``a``: the reminder
number is constant on each side of the moment whose clock reads what ``now``'s clock reads,
the stall moment is ``a`` plus a fixed number of seconds (a working day: the same clock reading
some days later) or one fixed moment (a day off: counting starts at the next working day), and
the daily slot is constant between two consecutive reminder-hour moments. So a day splits into
a few *pieces* (ranges of ``a``), and each piece is worked out once, by the same functions the
per-item path uses, evaluated at both ends of the piece (which must agree with that shape, or
the piece is not used). The pieces go to a temporary table; one query joins them with the
decisions and the ledger (subject and episode) to find what is due and not planned yet, and
one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` writes the bundled rows. Thousands of items
share a handful of pieces, and a steady tick (everything planned) is a couple of queries.

Everything else (due dates, snoozes, people with time off or preferences, escalations, days
with an offset change, meetings, actions, orphans) stays with the per-item path, which reads
exactly the decisions no piece covers.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.calendar import local_moment
from bot.cadence.config import CadenceConfig
from bot.cadence.stall import working_calendar
from bot.db import UTCDateTime
from bot.decisions.models import Decision, DecisionStatus
from bot.delivery.models import Delivery, DeliveryStatus
from bot.nudges import daily
from bot.nudges.rules import (
    NudgeKind,
    decision_stalled_from,
    reminder_moment,
    reminder_number,
)
from bot.workspace import WorkspaceKey

MICRO = timedelta(microseconds=1)
KIND = NudgeKind.DECISION.value

_meta = MetaData()
# Pieces of ``last_activity_at``: [lo, hi) with the reminder due and how its stall moment
# follows (``shift`` seconds after ``a``, or the fixed ``stalled`` text); ``due_at`` is the
# daily slot (set in the pieces of one zone and reminder hour, ``grp`` > 0).
_pieces = Table(
    "nudge_pieces",
    _meta,
    Column("grp", Integer),
    Column("piece", Integer),
    Column("lo", UTCDateTime),
    Column("hi", UTCDateTime),
    Column("number", Integer),
    Column("shift", Integer),
    Column("stalled", String),
    Column("due_at", UTCDateTime),
    prefixes=["TEMPORARY"],
)
# The owners whose rows are planned this tick, each with their (zone, reminder hour) group.
_owners = Table(
    "nudge_owners",
    _meta,
    Column("owner", String),
    Column("grp", Integer),
    prefixes=["TEMPORARY"],
)


class NotPiecewise(Exception):
    """A daily slot did not come out constant on a piece (it cannot; guards the reasoning):
    the planner then plans the workspace item by item."""


@dataclass(frozen=True, slots=True)
class Piece:
    id: int
    lo: datetime
    hi: datetime
    number: int | None
    #: stalled_from = a + shift, or the fixed ``stalled`` moment.
    shift: timedelta | None
    stalled: datetime | None
    #: The moment the reminder fell due: a + since_shift, or the fixed ``since``.
    since_shift: timedelta | None
    since: datetime | None


@dataclass
class Prepared:
    """What the first transaction found: the pieces, what they cover, what is new."""

    pieces: dict[int, Piece]
    covered: list[tuple[datetime, datetime]]
    special: frozenset[str]
    cutoff: datetime
    due: int = 0
    #: owner -> ids of the pieces holding their decisions with a reminder not yet planned.
    new: dict[str, set[int]] | None = None

    def covered_clause(self) -> ColumnElement[bool] | None:
        """The decisions this path plans (the per-item path reads the others)."""
        if not self.covered:
            return None
        return and_(
            _ordinary(self.special),
            or_(*[and_(_a() >= lo, _a() < hi) for lo, hi in self.covered]),
        )


def _a() -> Any:
    return Decision.last_activity_at


def _ordinary(special: Collection[str]) -> ColumnElement[bool]:
    clause = and_(
        Decision.status == DecisionStatus.OPEN,
        Decision.due_date.is_(None),
        Decision.snoozed_until.is_(None),
    )
    if special:
        clause = and_(clause, Decision.owner_id.not_in(sorted(special)))
    return clause


def _steady(zone: ZoneInfo, start: datetime, end: datetime) -> bool:
    return start.astimezone(zone).utcoffset() == (end - MICRO).astimezone(zone).utcoffset()


def day_pieces(day: date, cadence: CadenceConfig, now: datetime, first_id: int) -> list[Piece]:
    """The pieces of one local day (in the workspace's zone); none when the day, or a day its
    arithmetic lands on, changes offset (`_checked` refuses such a piece)."""
    calendar = working_calendar(cadence)
    zone = calendar.zone
    start = local_moment(day, time(0), zone)
    end = local_moment(day + timedelta(days=1), time(0), zone)
    if not _steady(zone, start, end):
        return []
    bounds = [start, end]
    reading = calendar.clock_reached(now).time()
    cut = local_moment(day, reading, zone) + MICRO
    if start < cut < end:
        bounds.insert(1, cut)
    found: list[Piece] = []
    for lo, hi in itertools.pairwise(bounds):
        piece = _checked(first_id + len(found), lo, hi, cadence, now)
        if piece is None:
            return []
        found.append(piece)
    return found


def _checked(
    piece_id: int, lo: datetime, hi: datetime, cadence: CadenceConfig, now: datetime
) -> Piece | None:
    rules = cadence.nudges
    last = hi - MICRO

    def stall(a: datetime) -> datetime:
        return decision_stalled_from(
            last_activity_at=a, due_date=None, snoozed_until=None, cadence=cadence
        )

    s_lo, s_hi = stall(lo), stall(last)
    n_lo, n_hi = reminder_number(s_lo, now, cadence), reminder_number(s_hi, now, cadence)
    if n_lo != n_hi:
        return None
    if n_lo is None:
        return Piece(piece_id, lo, hi, None, None, None, None, None)
    if rules.escalate_to and n_lo > rules.escalate_after:
        return None  # escalations are planned item by item
    shift, stalled = _shape(lo, last, s_lo, s_hi)
    if shift is None and stalled is None:
        return None
    w_lo = reminder_moment(s_lo, n_lo, cadence)
    w_hi = reminder_moment(s_hi, n_lo, cadence)
    since_shift, since = _shape(lo, last, w_lo, w_hi)
    if since_shift is None and since is None:
        return None
    return Piece(piece_id, lo, hi, n_lo, shift, stalled, since_shift, since)


def _shape(
    lo: datetime, last: datetime, v_lo: datetime, v_hi: datetime
) -> tuple[timedelta | None, datetime | None]:
    """(shift, None) when the value follows ``a`` at a fixed distance of whole seconds,
    (None, moment) when it is one moment, (None, None) otherwise."""
    if v_lo == v_hi:
        return None, v_lo
    shift = v_lo - lo
    if v_hi - last == shift and shift.microseconds == 0:
        return shift, None
    return None, None


def slot_pieces(
    piece: Piece, now: datetime, zone: ZoneInfo, cadence: CadenceConfig, at: time
) -> list[tuple[datetime, datetime, datetime]]:
    """(lo, hi, daily slot) over ``piece`` for an owner in ``zone`` with reminder hour ``at``.

    The slot (`daily.first_slot`) only changes where the moment the reminder fell due passes a
    reminder-hour moment of ``zone`` or the start of ``now``'s local day, so the piece is cut
    there and each part is worked out once (and checked at both ends)."""
    hours = cadence.working_hours
    if piece.since is not None:
        return [(piece.lo, piece.hi, daily.first_slot(piece.since, now, zone, hours, at))]
    assert piece.since_shift is not None
    shift = piece.since_shift
    first, last = piece.lo + shift, piece.hi - MICRO + shift
    moments = [local_moment(now.astimezone(zone).date(), time(0), zone)]
    day = first.astimezone(zone).date() - timedelta(days=1)
    while day <= last.astimezone(zone).date() + timedelta(days=1):
        moments.append(local_moment(day, at, zone))
        day += timedelta(days=1)
    cuts = sorted({m - shift + MICRO for m in moments if piece.lo < m - shift + MICRO < piece.hi})
    bounds = [piece.lo, *cuts, piece.hi]
    found = []
    for lo, hi in itertools.pairwise(bounds):
        slot = daily.first_slot(lo + shift, now, zone, hours, at)
        if daily.first_slot(hi - MICRO + shift, now, zone, hours, at) != slot:
            raise NotPiecewise(f"slot not constant on {lo.isoformat()}..{hi.isoformat()}")
        found.append((lo, hi, slot))
    return found


# --- SQL ---------------------------------------------------------------------------------------


async def _fresh_tables(session: AsyncSession) -> None:
    postgres = session.get_bind().dialect.name == "postgresql"
    suffix = " ON COMMIT DELETE ROWS" if postgres else ""
    stamp = "TIMESTAMP WITH TIME ZONE" if postgres else "DATETIME"
    await session.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS nudge_pieces (grp INTEGER, piece INTEGER, "
            f"lo {stamp}, hi {stamp}, number INTEGER, shift INTEGER, stalled VARCHAR, "
            f"due_at {stamp}){suffix}"
        )
    )
    await session.execute(
        text(
            "CREATE TEMPORARY TABLE IF NOT EXISTS nudge_owners "
            f"(owner VARCHAR PRIMARY KEY, grp INTEGER){suffix}"
        )
    )
    await session.execute(
        text("CREATE INDEX IF NOT EXISTS nudge_pieces_grp_lo ON nudge_pieces (grp, lo)")
    )
    await session.execute(_pieces.delete())
    await session.execute(_owners.delete())


def _utc_day(session: AsyncSession) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", _a()), "YYYY-MM-DD", type_=String)
    return func.substr(_a(), 1, 10, type_=String)


def _episode(session: AsyncSession) -> Any:
    """`rules.episode_key` of ``last_activity_at`` in SQL: its UTC moment to the second."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", _a()), 'YYYYMMDD"T"HH24MISS', type_=String)
    a = _a()
    return (
        func.substr(a, 1, 4, type_=String)
        + func.substr(a, 6, 2, type_=String)
        + func.substr(a, 9, 2, type_=String)
        + "T"
        + func.substr(a, 12, 2, type_=String)
        + func.substr(a, 15, 2, type_=String)
        + func.substr(a, 18, 2, type_=String)
    )


def _stalled_text(session: AsyncSession) -> Any:
    """The payload's ``stalled`` (``isoformat`` of the UTC stall moment) of a piece's row."""
    pieces = _pieces.c
    if session.get_bind().dialect.name == "postgresql":
        moment = func.timezone("UTC", _a() + pieces.shift * literal_column("interval '1 second'"))
        micro = func.to_char(moment, "US", type_=String)
        shifted = (
            func.to_char(moment, 'YYYY-MM-DD"T"HH24:MI:SS', type_=String)
            + case((micro == "000000", ""), else_="." + micro)
            + "+00:00"
        )
    else:
        a = _a()
        micro = func.substr(a, 21, 6, type_=String)
        shifted = (
            func.replace(
                func.datetime(
                    func.substr(a, 1, 19, type_=String),
                    "+" + cast(pieces.shift, String) + " seconds",
                    type_=String,
                ),
                " ",
                "T",
                type_=String,
            )
            + case((micro == "000000", ""), else_="." + micro)
            + "+00:00"
        )
    return case((pieces.stalled.is_not(None), pieces.stalled), else_=shifted)


def _period(session: AsyncSession) -> Any:
    return _episode(session) + "#" + cast(_pieces.c.number, String)


def _subject() -> Any:
    return "D-" + cast(Decision.number, String)


def _in_piece(grp: int | None = None) -> ColumnElement[bool]:
    clause = and_(_a() >= _pieces.c.lo, _a() < _pieces.c.hi)
    if grp is not None:
        clause = and_(clause, _pieces.c.grp == grp)
    return clause


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


async def prepare(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    now: datetime,
    cutoff: datetime,
    special: Collection[str],
) -> Prepared:
    """Work out the pieces of the ordinary stalled decisions of ``ws``, count what is due and
    find the owners with reminders not planned yet (one query each)."""
    special = frozenset(special)
    ordinary = and_(Decision.in_workspace(ws), _ordinary(special), _a() <= cutoff)
    utc_days = (await session.scalars(select(_utc_day(session)).where(ordinary).distinct())).all()
    zone = cadence.zone
    local_days: set[date] = set()
    for raw in utc_days:
        first = datetime.fromisoformat(str(raw)).replace(tzinfo=UTC)
        local_days.add(first.astimezone(zone).date())
        local_days.add((first + timedelta(days=1) - MICRO).astimezone(zone).date())
    pieces: dict[int, Piece] = {}
    covered: list[tuple[datetime, datetime]] = []
    for day in sorted(local_days):
        for piece in day_pieces(day, cadence, now, len(pieces) + 1):
            pieces[piece.id] = piece
            if covered and covered[-1][1] == piece.lo:
                covered[-1] = (covered[-1][0], piece.hi)
            else:
                covered.append((piece.lo, piece.hi))
    prepared = Prepared(pieces=pieces, covered=covered, special=special, cutoff=cutoff, new={})
    due = [p for p in pieces.values() if p.number is not None]
    if not due:
        return prepared
    await _fresh_tables(session)
    await session.execute(
        _pieces.insert(),
        [
            {
                "grp": 0,
                "piece": p.id,
                "lo": p.lo,
                "hi": p.hi,
                "number": p.number,
                "shift": None,
                "stalled": None,
                "due_at": None,
            }
            for p in due
        ],
    )
    planned = exists().where(
        Delivery.in_workspace(ws),
        Delivery.kind == KIND,
        Delivery.subject == _subject(),
        Delivery.recipient == Decision.owner_id,
        Delivery.period == _period(session),
    )
    rows = await session.execute(
        select(
            Decision.owner_id,
            _pieces.c.piece,
            func.count(),
            func.sum(case((planned, 0), else_=1)),
        )
        .select_from(_pieces)
        .join(Decision, _in_piece(0))
        .where(ordinary)
        .group_by(Decision.owner_id, _pieces.c.piece)
    )
    new: dict[str, set[int]] = {}
    for owner, piece_id, count, missing in rows:
        prepared.due += int(count)
        if missing:
            new.setdefault(owner, set()).add(int(piece_id))
    prepared.new = new
    await session.execute(_pieces.delete())
    return prepared


@dataclass
class Slots:
    """The pieces cut by daily slot for each (zone, reminder hour) group, and its owners."""

    pieces: list[dict[str, Any]]
    owners: list[dict[str, Any]]


def slots(
    *,
    cadence: CadenceConfig,
    now: datetime,
    prepared: Prepared,
    groups: Sequence[tuple[ZoneInfo, time, Iterable[str]]],
) -> Slots:
    """The rows of the temporary tables for ``prepared.new``'s owners, grouped by (zone,
    reminder hour). Pure; raises `NotPiecewise` before anything is written."""
    piece_rows: list[dict[str, Any]] = []
    owner_rows: list[dict[str, Any]] = []
    new = prepared.new or {}
    for grp, (zone, at, owners) in enumerate(groups, start=1):
        wanted: set[int] = set()
        for owner in owners:
            owner_rows.append({"owner": owner, "grp": grp})
            wanted |= new.get(owner, set())
        for piece_id in sorted(wanted):
            piece = prepared.pieces[piece_id]
            for lo, hi, slot in slot_pieces(piece, now, zone, cadence, at):
                piece_rows.append(
                    {
                        "grp": grp,
                        "piece": piece_id,
                        "lo": lo,
                        "hi": hi,
                        "number": piece.number,
                        "shift": (
                            int(piece.shift.total_seconds()) if piece.shift is not None else None
                        ),
                        "stalled": _iso(piece.stalled) if piece.stalled is not None else None,
                        "due_at": slot,
                    }
                )
    return Slots(pieces=piece_rows, owners=owner_rows)


async def plan(
    session: AsyncSession, *, ws: WorkspaceKey, now: datetime, prepared: Prepared, slots: Slots
) -> int:
    """Insert the bundled reminders ``slots`` describes (unless their key exists): one
    ``INSERT … SELECT`` joining the decisions with their owner's pieces. How many are new."""
    if not slots.pieces:
        return 0
    await _fresh_tables(session)
    await session.execute(_pieces.insert(), slots.pieces)
    await session.execute(_owners.insert(), slots.owners)
    if session.get_bind().dialect.name == "postgresql":
        # Temporary tables get no statistics of their own (autovacuum skips them): without
        # these the join is planned for a handful of owners.
        await session.execute(text("ANALYZE nudge_pieces, nudge_owners"))
    episode = _episode(session)
    # The same JSON object on either engine: PostgreSQL names it json_build_object.
    json_object = (
        func.json_build_object
        if session.get_bind().dialect.name == "postgresql"
        else func.json_object
    )
    payload: Any = json_object(
        "number",
        Decision.number,
        "episode",
        episode,
        "reminder",
        _pieces.c.number,
        "stalled",
        _stalled_text(session),
    )
    moment = literal(now, UTCDateTime)
    columns = {
        "enterprise_id": literal(ws.enterprise_id),
        "team_id": literal(ws.team_id),
        "kind": literal(KIND),
        "subject": _subject(),
        "recipient": Decision.owner_id,
        "period": _period(session),
        "status": literal(DeliveryStatus.BUNDLED.value),
        "due_at": _pieces.c.due_at,
        "attempts": literal(0),
        "payload": payload,
        "created_at": moment,
        "updated_at": moment,
    }
    source = (
        select(*[value.label(name) for name, value in columns.items()])
        .select_from(_owners)
        .join(Decision, Decision.owner_id == _owners.c.owner)
        .join(_pieces, and_(_in_piece(), _pieces.c.grp == _owners.c.grp))
        .where(
            Decision.in_workspace(ws),
            _ordinary(prepared.special),
            _a() <= prepared.cutoff,
        )
    )
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    table: Any = Delivery.__table__
    statement = insert(table).from_select(list(columns), source).on_conflict_do_nothing()
    result = await session.execute(statement)
    inserted = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await session.execute(_pieces.delete())
    await session.execute(_owners.delete())
    return inserted
