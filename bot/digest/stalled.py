"""Which decisions were stalled at a moment, judged by the state each one was in at that moment.

A decision's state at ``end`` (open or not, its due date, its last activity) is its row as it is
now if nothing has happened to it since ``end``: every change and every activity writes a
history entry and moves ``last_activity_at``, so a row idle since before ``end`` has not
changed since. Only the decisions active since ``end`` need their history: their state at
``end`` is read from their last entries before it. A decision decided on Monday morning was
still open, and perhaps stalled, when the week ended on Sunday night, and the digest says so
however late it is sent.

Both halves are one query each, counted by the database with the same rule
(`bot.cadence.stall.StallBounds`): rows idle since before ``end`` by their columns, the few
active since by three lookups in their history (``ix_decision_events_decision``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from bot.cadence.config import CadenceConfig
from bot.cadence.stall import StallBounds, stall_bounds
from bot.db import UTCDateTime
from bot.decisions.models import Decision, DecisionEvent, DecisionStatus
from bot.decisions.stall import cutoff_column, stalled_clause
from bot.digest.audience import Scope, audience_of, channel_key
from bot.timeoff import service as timeoff
from bot.workspace import WorkspaceKey

Channels = Scope


def _counted(channels: Channels, channel: Any = Decision.channel_id) -> list[ColumnElement[bool]]:
    """The audience rule (``bot.digest.audience``) on decisions, on ``channel`` as given."""
    audience = audience_of(channels)
    return (
        [] if audience is None else [audience.clause(channel, Decision.direct, Decision.owner_id)]
    )


@dataclass(frozen=True, slots=True)
class StalledAt:
    """A decision stalled at ``at``: the row as it is now and the state that made it stalled."""

    decision: Decision
    at: datetime
    due_date: date | None
    last_activity_at: datetime


#: History entries that set the status, and what they set it to.
STATUS_ENTRIES = {
    "created": DecisionStatus.OPEN,
    "reopened": DecisionStatus.OPEN,
    "decided": DecisionStatus.DECIDED,
    "dropped": DecisionStatus.DROPPED,
    "superseded": DecisionStatus.SUPERSEDED,
    "reversed": DecisionStatus.REVERSED,
}
#: History entries that set the due date, and the detail key that holds it (ISO date or null).
DUE_ENTRIES = {"created": "due", "due_changed": "to"}


@dataclass(frozen=True)
class StateAt:
    """A decision's state at ``at`` from its history, as SQL expressions on the decisions row.

    Every history entry is activity; the last status entry and the last due-date entry before
    ``at`` give the status and the due date then.
    """

    at: datetime

    def _entries(self) -> Any:
        entry = aliased(DecisionEvent)
        return entry, (entry.decision_id == Decision.id, entry.at < self.at)

    def last_activity(self) -> ColumnElement[datetime]:
        entry, where = self._entries()
        latest = select(func.max(entry.at)).where(*where).scalar_subquery()
        return func.coalesce(latest, Decision.created_at, type_=UTCDateTime)

    def status_entry(self) -> ColumnElement[str]:
        entry, where = self._entries()
        return (
            select(entry.action)
            .where(*where, entry.action.in_(list(STATUS_ENTRIES)))
            .order_by(entry.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    def due_date(self) -> ColumnElement[str]:
        """The due date then, as ISO text (it sorts as dates do), or NULL."""
        entry, where = self._entries()
        value = case(
            *[
                (entry.action == action, entry.detail[key].as_string())
                for action, key in DUE_ENTRIES.items()
            ],
            else_=None,
        )
        return (
            select(value)
            .where(*where, entry.action.in_(list(DUE_ENTRIES)))
            .order_by(entry.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    def was_open(self) -> ColumnElement[bool]:
        opening = [a for a, status in STATUS_ENTRIES.items() if status == DecisionStatus.OPEN]
        return func.coalesce(self.status_entry(), "created").in_(opening)


def idle_and_unchanged(bounds: StallBounds) -> ColumnElement[bool]:
    """Stalled at ``bounds.at`` judged by the row alone: open, and unchanged since then."""
    return and_(
        Decision.status == DecisionStatus.OPEN,
        Decision.last_activity_at < bounds.at,
        Decision.created_at < bounds.at,
        stalled_clause(bounds),
    )


def changed_since_and_stalled(
    bounds: StallBounds, created: Any = Decision.created_at
) -> ColumnElement[bool]:
    """Stalled at ``bounds.at`` judged by the history: for rows changed since then.

    ``created`` is the creation column to test (`_unindexed` where it must not steer SQLite).
    """
    state = StateAt(bounds.at)
    return and_(
        Decision.last_activity_at >= bounds.at,
        created < bounds.at,
        state.was_open(),
        or_(
            state.due_date() < bounds.today.isoformat(),
            and_(state.due_date().is_(None), state.last_activity() <= cutoff_column(bounds)),
        ),
    )


async def _days_off(
    session: AsyncSession, *, ws: WorkspaceKey, at: datetime
) -> dict[str, frozenset[date]]:
    """People's away days: not working days for the decisions they own."""
    return (await timeoff.workspace_time_off(session, ws=ws, now=at)).days_off_by_person()


def _unindexed(column: Any, dialect: str) -> Any:
    """``column`` as SQLite's planner may not serve from an index (unary ``+``); as is on other
    engines. For tests that must not pull SQLite off the index a query is written for."""
    if dialect != "sqlite":
        return column
    return UnaryExpression(column, operator=custom_op("+"), type_=column.type)


def _changed_since(since: datetime, channels: Channels) -> list[ColumnElement[bool]]:
    """Rows active since ``since`` (of ``channels``), found along the activity index.

    Every status is named so the (workspace, status, last activity) index narrows the scan to
    the rows active since. Anything else usable by an index made SQLite prefer it and read
    every row: created_at, or the channel list, which is therefore tested on ``channel_id ||
    ''`` (the same values, no index).
    """
    narrowing = [
        Decision.status.in_([s.value for s in DecisionStatus]),
        Decision.last_activity_at >= since,
    ]
    narrowing += _counted(channels, Decision.channel_id.concat(""))
    return narrowing


async def stalled_counts(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    ends: Sequence[datetime],
    channels: Channels,
    by_channel: bool,
) -> dict[tuple[int, str | None], int]:
    """How many decisions were stalled at each of ``ends`` (ascending), per channel if asked."""
    counts: dict[tuple[int, str | None], int] = defaultdict(int)
    if not ends:
        return counts
    days_off = await _days_off(session, ws=ws, at=ends[-1])
    every = [stall_bounds(end, cadence, days_off) for end in ends]
    halves = [
        # Open now and unchanged since the end: the row is the state.
        (
            idle_and_unchanged,
            [Decision.status == DecisionStatus.OPEN, Decision.last_activity_at < ends[-1]],
        ),
        # Changed since the end: the history before it is.
        (changed_since_and_stalled, _changed_since(ends[0], channels)),
    ]
    halves[0][1].extend(_counted(channels))
    for half, (rule, narrowing) in enumerate(halves):
        # Grouped by channel_id itself, SQLite would walk the channel index for its order.
        grouping = Decision.channel_id if half == 0 else Decision.channel_id.concat("")
        keys: list[Any] = (
            [channel_key(grouping, Decision.direct).label("channel")] if by_channel else []
        )
        columns = [
            func.count(case((rule(bounds), 1))).label(f"at_{i}") for i, bounds in enumerate(every)
        ]
        query = select(*keys, *columns).where(Decision.in_workspace(ws), *narrowing)
        if keys:
            query = query.group_by(*keys)
        for row in await session.execute(query):
            channel = row.channel if by_channel else None
            for i in range(len(ends)):
                counts[(i, channel)] += int(getattr(row, f"at_{i}") or 0)
    return counts


async def oldest_stalled(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    at: datetime,
    channels: Channels,
    limit: int,
) -> list[StalledAt]:
    """The decisions stalled at ``at``, oldest first, with the state that made them stalled."""
    bounds = stall_bounds(at, cadence, await _days_off(session, ws=ws, at=at))
    order = (Decision.created_at, Decision.number)
    idle = select(Decision).where(Decision.in_workspace(ws), idle_and_unchanged(bounds))
    state = StateAt(at)
    # The few decisions active since ``at`` come from the activity index; a test of (or order by)
    # created_at that an index could serve (with the LIMIT) made SQLite walk
    # ix_decisions_ws_created through every older decision instead (45–80 ms against 1 ms).
    created = _unindexed(Decision.created_at, session.get_bind().dialect.name)
    changed = select(
        Decision, state.due_date().label("due_then"), state.last_activity().label("active_then")
    ).where(
        Decision.in_workspace(ws),
        *_changed_since(at, channels),
        changed_since_and_stalled(bounds, created),
    )
    idle = idle.where(*_counted(channels))
    picked = [
        StalledAt(decision=d, at=at, due_date=d.due_date, last_activity_at=d.last_activity_at)
        for d in await session.scalars(idle.order_by(*order).limit(limit))
    ]
    if len(picked) == limit:
        # Only a decision at least as old as the last one picked can still make the list.
        changed = changed.where(created <= picked[-1].decision.created_at)
    for decision, due_then, active_then in await session.execute(
        changed.order_by(created, Decision.number).limit(limit)
    ):
        picked.append(
            StalledAt(
                decision=decision,
                at=at,
                due_date=date.fromisoformat(due_then) if due_then else None,
                last_activity_at=active_then,
            )
        )
    picked.sort(key=lambda s: (s.decision.created_at, s.decision.number))
    return picked[:limit]
