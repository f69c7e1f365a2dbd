"""Which decisions were stalled at a moment, judged by the state each one was in at that moment.

A decision's state at ``end`` (open or not, its due date, its last activity) is its row as it is
now if nothing has happened to it since ``end``: every change and every activity writes a
history entry and moves ``last_activity_at``, so a row idle since before ``end`` has not
changed since. Only the decisions active since ``end`` need their history: their state at
``end`` is replayed from the entries before it. A decision decided on Monday morning was still
open, and perhaps stalled, when the week ended on Sunday night, and the digest says so however
late it is sent.

Rows idle since before ``end`` are counted by the database (the stall rule is one indexable
condition, `bot.cadence.stall.StallBounds.clause`); the few active since are replayed here with
the same rule in Python (`StallBounds.is_stalled`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.config import CadenceConfig
from bot.cadence.stall import StallBounds, stall_bounds
from bot.decisions.models import Decision, DecisionEvent, DecisionStatus
from bot.workspace import WorkspaceKey

Channels = Collection[str] | None


@dataclass(frozen=True, slots=True)
class StateAt:
    """What a decision was at one moment, as far as the stall rule cares."""

    status: str
    due_date: date | None
    last_activity_at: datetime


@dataclass(frozen=True, slots=True)
class StalledAt:
    """A decision stalled at ``at``: the row as it is now and the state that made it stalled."""

    decision: Decision
    at: datetime
    due_date: date | None
    last_activity_at: datetime


@dataclass
class _Replayed:
    """A decision active since some end, with its history before the latest end asked about."""

    id: int
    number: int
    channel_id: str
    created_at: datetime
    last_activity_at: datetime
    history: list[tuple[str, dict[str, Any], datetime]]

    def state_at(self, at: datetime) -> StateAt:
        return replay(self.created_at, self.history, at)


def replay(
    created_at: datetime, history: Iterable[tuple[str, dict[str, Any], datetime]], at: datetime
) -> StateAt:
    """The state after the history entries (action, detail, when) made before ``at``.

    Entries are in the order they were recorded. Every entry is activity; ``created``,
    ``decided``, ``dropped`` and ``reopened`` set the status, ``created`` and ``due_changed``
    the due date. A decision with no entries counts as open since its creation.
    """
    status, due, last = DecisionStatus.OPEN.value, None, created_at
    for action, detail, when in history:
        if when >= at:
            continue
        last = max(last, when)
        match action:
            case "created":
                status, due = DecisionStatus.OPEN.value, _day(detail.get("due"))
            case "reopened":
                status = DecisionStatus.OPEN.value
            case "decided":
                status = DecisionStatus.DECIDED.value
            case "dropped":
                status = DecisionStatus.DROPPED.value
            case "due_changed":
                due = _day(detail.get("to"))
    return StateAt(status=status, due_date=due, last_activity_at=last)


def idle_and_unchanged(bounds: StallBounds) -> ColumnElement[bool]:
    """Stalled at ``bounds.at`` judged by the row alone: open, and unchanged since then."""
    return and_(
        Decision.status == DecisionStatus.OPEN,
        Decision.last_activity_at < bounds.at,
        Decision.created_at < bounds.at,
        bounds.clause(),
    )


async def active_since(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    since: datetime,
    before: datetime,
    channels: Channels,
) -> list[_Replayed]:
    """Decisions created before ``before`` with activity at or after ``since``, with their
    history before ``before`` (in one query, ordered by decision and entry)."""
    query = (
        select(
            Decision.id,
            Decision.number,
            Decision.channel_id,
            Decision.created_at,
            Decision.last_activity_at,
            DecisionEvent.action,
            DecisionEvent.detail,
            DecisionEvent.at,
        )
        .outerjoin(
            DecisionEvent,
            and_(
                DecisionEvent.decision_id == Decision.id,
                DecisionEvent.in_workspace(ws),
                DecisionEvent.at < before,
            ),
        )
        .where(
            Decision.in_workspace(ws),
            # Every status, so the (workspace, status, last activity) index narrows the scan.
            Decision.status.in_([s.value for s in DecisionStatus]),
            Decision.last_activity_at >= since,
            Decision.created_at < before,
        )
        .order_by(Decision.id, DecisionEvent.id)
    )
    if channels is not None:
        query = query.where(Decision.channel_id.in_(list(channels)))
    found: dict[int, _Replayed] = {}
    for row in await session.execute(query):
        item = found.get(row.id)
        if item is None:
            item = found[row.id] = _Replayed(
                id=row.id,
                number=row.number,
                channel_id=row.channel_id,
                created_at=row.created_at,
                last_activity_at=row.last_activity_at,
                history=[],
            )
        if row.action is not None:
            item.history.append((row.action, row.detail or {}, row.at))
    return list(found.values())


def replayed_stalled(items: Sequence[_Replayed], bounds: StallBounds) -> list[_Replayed]:
    """Those of ``items`` that changed since ``bounds.at`` and were stalled at it."""
    stalled = []
    for item in items:
        if item.last_activity_at < bounds.at or item.created_at >= bounds.at:
            continue  # unchanged since (the database counts it), or not there yet
        state = item.state_at(bounds.at)
        if state.status == DecisionStatus.OPEN and bounds.is_stalled(
            due_date=state.due_date, last_activity_at=state.last_activity_at
        ):
            stalled.append(item)
    return stalled


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
    every = [stall_bounds(end, cadence) for end in ends]
    keys: list[Any] = [Decision.channel_id.label("channel")] if by_channel else []
    columns = [
        func.count(case((idle_and_unchanged(bounds), 1))).label(f"at_{i}")
        for i, bounds in enumerate(every)
    ]
    query = select(*keys, *columns).where(
        Decision.in_workspace(ws),
        Decision.status == DecisionStatus.OPEN,
        Decision.last_activity_at < ends[-1],
    )
    if channels is not None:
        query = query.where(Decision.channel_id.in_(list(channels)))
    if keys:
        query = query.group_by(*keys)
    for row in await session.execute(query):
        channel = row.channel if by_channel else None
        for i in range(len(ends)):
            counts[(i, channel)] += int(getattr(row, f"at_{i}") or 0)
    items = await active_since(session, ws=ws, since=ends[0], before=ends[-1], channels=channels)
    for i, bounds in enumerate(every):
        for item in replayed_stalled(items, bounds):
            counts[(i, item.channel_id if by_channel else None)] += 1
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
    bounds = stall_bounds(at, cadence)
    idle = select(Decision).where(Decision.in_workspace(ws), idle_and_unchanged(bounds))
    if channels is not None:
        idle = idle.where(Decision.channel_id.in_(list(channels)))
    rows = await session.scalars(idle.order_by(Decision.created_at, Decision.number).limit(limit))
    picked = [
        StalledAt(decision=d, at=at, due_date=d.due_date, last_activity_at=d.last_activity_at)
        for d in rows
    ]
    items = await active_since(session, ws=ws, since=at, before=at, channels=channels)
    replayed = sorted(replayed_stalled(items, bounds), key=lambda i: (i.created_at, i.number))
    replayed = replayed[:limit]
    if replayed:
        by_id = {
            d.id: d
            for d in await session.scalars(
                select(Decision).where(
                    Decision.in_workspace(ws), Decision.id.in_([i.id for i in replayed])
                )
            )
        }
        for item in replayed:
            state = item.state_at(at)
            picked.append(
                StalledAt(
                    decision=by_id[item.id],
                    at=at,
                    due_date=state.due_date,
                    last_activity_at=state.last_activity_at,
                )
            )
    picked.sort(key=lambda s: (s.decision.created_at, s.decision.number))
    return picked[:limit]


def _day(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None
