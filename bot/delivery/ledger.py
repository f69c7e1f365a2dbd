"""What can happen to a row of the deliveries ledger: planned once, claimed, then settled.

Planning inserts rows unless their key (workspace, kind, subject, recipient, period) exists, so
any number of planners may run at once. Senders claim due rows under a lease: on PostgreSQL the
claim locks with ``FOR UPDATE SKIP LOCKED`` so concurrent senders take disjoint rows without
waiting on each other; on SQLite the single write lock (``BEGIN IMMEDIATE``) serialises claimers
and the claim is one ``UPDATE … RETURNING``. A sender that dies leaves its rows leased; once the
lease runs out they are claimable again, so nothing is lost.

A claim takes at most one row per conversation (workspace and recipient) and none for a
conversation that already has a row in flight: Slack allows about one message per second per
channel, so a second row for the same person could only wait, holding its lease, while rows for
other people starve.

Pacing holds across senders (`Limits`): a claim hands out a row only when its conversation had
nothing sent during the last ``channel_interval`` (by the rows' own ``sent_at``, which is
recorded after Slack answered, so the next post starts at least that long after the previous
one arrived), when no 429 hold names its conversation or workspace (``delivery_holds``, written
by whichever sender met the 429), and only as many rows per workspace as its budget has room for:
``workspace_budget`` less the rows sent within ``window`` and those in flight. On PostgreSQL the
claims of all senders take turns on one transaction-scoped advisory lock, so two senders never
both spend the same room; SQLite's write lock serialises them already.
"""

from __future__ import annotations

import collections
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.db import dialect_insert, insert_absent
from bot.delivery.models import Delivery, DeliveryHold, DeliveryStatus
from bot.workspace import WorkspaceKey

LEASE = timedelta(minutes=10)
# Transient failures are retried after 30 s, 1 min, 2 min, … at most an hour apart; after this
# many attempts (about five hours) the row is failed so a broken item cannot retry forever.
MAX_ATTEMPTS = 10
FIRST_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
_KEY_CHUNK = 500
# A claim looks at this many candidates per row it wants, so senders claiming at the same moment
# on PostgreSQL pass over each other's locked rows to the next ones instead of coming back empty.
_CANDIDATES_PER_ROW = 4

# The key of the PostgreSQL advisory lock that claims with pacing take turns on.
CLAIM_LOCK_KEY = 0x466F6C6C6F77  # "Follow"
# 429 holds this long past are deleted when a new one is written.
STALE_HOLD = timedelta(days=1)

LedgerKey = tuple[str, str, str, str]
"""(kind, subject, recipient, period): a row's unique key within its workspace."""


@dataclass(frozen=True, slots=True)
class Planned:
    """A delivery a planner wants to exist."""

    ws: WorkspaceKey
    kind: str
    subject: str
    recipient: str
    period: str
    due_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> LedgerKey:
        return (self.kind, self.subject, self.recipient, self.period)


@dataclass(frozen=True, slots=True)
class Limits:
    """Slack's posting limits as every sender keeps to them together (see the module doc)."""

    channel_interval: timedelta = timedelta(seconds=1)
    workspace_budget: int = 300
    window: timedelta = timedelta(seconds=61)


def workspace_of(delivery: Delivery) -> WorkspaceKey:
    return WorkspaceKey(team_id=delivery.team_id, enterprise_id=delivery.enterprise_id)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def existing_keys(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    kinds: Collection[str],
    subjects: Collection[str],
    periods_from: str | None = None,
) -> set[LedgerKey]:
    """The keys already in the ledger for these subjects, so a planner skips work it did before.

    ``periods_from``: the caller wants only keys whose period sorts at or after it (periods that
    start with a moment, like the nudges' episodes). With many subjects the workspace's rows of
    these kinds from that period on are read in one pass, instead of hundreds of lookups by
    subject.
    """
    found: set[LedgerKey] = set()
    if not subjects:
        return found
    if periods_from is not None and len(subjects) > _KEY_CHUNK:
        wanted = set(subjects)
        rows = await session.execute(
            select(Delivery.kind, Delivery.subject, Delivery.recipient, Delivery.period).where(
                Delivery.in_workspace(ws),
                Delivery.kind.in_(list(kinds)),
                Delivery.period >= periods_from,
            )
        )
        found.update(
            (kind, subject, recipient, period)
            for kind, subject, recipient, period in rows
            if subject in wanted
        )
        return found
    for chunk in _chunks(sorted(subjects), _KEY_CHUNK):
        rows = await session.execute(
            select(Delivery.kind, Delivery.subject, Delivery.recipient, Delivery.period).where(
                Delivery.in_workspace(ws),
                Delivery.kind.in_(list(kinds)),
                Delivery.subject.in_(list(chunk)),
            )
        )
        found.update(
            (kind, subject, recipient, period) for kind, subject, recipient, period in rows
        )
    return found


async def plan(
    session: AsyncSession,
    *,
    rows: Sequence[Planned],
    now: datetime,
    status: DeliveryStatus = DeliveryStatus.PENDING,
) -> int:
    """Insert each planned row unless its key exists; returns how many were new.

    ``status`` is ``pending`` (a sender will claim it) or ``bundled`` (it waits for its
    recipient's daily DM, `bot.nudges.daily`, and is never claimed on its own).

    ``INSERT … ON CONFLICT DO NOTHING`` on both engines: a concurrent planner that inserted the
    same key first simply wins, and neither fails.
    """
    if not rows:
        return 0
    values = [
        {
            **Delivery.key_values(row.ws),
            "kind": row.kind,
            "subject": row.subject,
            "recipient": row.recipient,
            "period": row.period,
            "status": status,
            "due_at": row.due_at,
            "attempts": 0,
            "payload": row.payload,
            "created_at": now,
            "updated_at": now,
        }
        for row in rows
    ]
    # One statement for every row, executed as an executemany: SQLAlchemy Core caches its
    # compiled form and sends the rows in batches ("insertmanyvalues"), instead of compiling a
    # multi-row VALUES afresh per chunk through the ORM's bulk path. RETURNING counts the rows
    # this call inserted (a conflicting key returns nothing) on both engines.
    result = await session.execute(_insert_absent_statement(session), values)
    return len(result.all())


def _insert_absent_statement(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    statement = _INSERTS.get(dialect)
    if statement is None:
        table: Any = Delivery.__table__
        statement = _INSERTS[dialect] = (
            dialect_insert(session)(table).on_conflict_do_nothing().returning(table.c.id)
        )
    return statement


_INSERTS: dict[str, Any] = {}


def _claimable(model: Any, now: datetime) -> ColumnElement[bool]:
    return and_(
        model.status == DeliveryStatus.PENDING,
        model.due_at <= now,
        or_(model.lease_expires_at.is_(None), model.lease_expires_at <= now),
    )


WsTuple = tuple[str, str]


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    owner: str,
    limit: int,
    lease: timedelta = LEASE,
    busy: Collection[WorkspaceKey] = (),
    limits: Limits | None = None,
) -> list[Delivery]:
    """Lease up to ``limit`` due rows to ``owner``, one per conversation, longest waiting first.

    Within a conversation the row planned first goes first.

    ``busy`` names workspaces this sender has enough in flight for already, so a workspace with
    thousands of due rows cannot crowd out the others. Every claim counts as an attempt, so a
    row whose sender was killed mid-send shows it. ``limits``: only rows that Slack's limits let
    go out now, counting what every sender sent and has in flight (see the module doc).

    The candidates are found without locks (one pass over the due rows, whatever their number):
    conversations with nothing in flight, each represented by its first row. Then they are
    leased; on PostgreSQL a candidate another sender is leasing right now is skipped (``SKIP
    LOCKED``), and the lease condition is checked again on each locked row, so a row claimed
    and committed by someone else in the meantime is left alone.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    excluded: set[WsTuple] = {(ws.enterprise_id, ws.team_id) for ws in busy}
    room: dict[WsTuple, int] | None = None
    if limits is not None:
        if postgres:
            # Taken before anything is read, held to the commit: the next claimer sees this
            # claim's leases when it counts what is in flight.
            await session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK_KEY)))
        room, held = await _room(session, now=now, limits=limits)
        excluded |= held | {ws for ws, left in room.items() if left <= 0}
    first_of_each = _first_of_each(
        now=now, postgres=postgres, excluded=excluded, limits=limits
    ).limit(limit * _CANDIDATES_PER_ROW)
    found = (await session.execute(first_of_each)).all()
    candidates: list[int] = []
    for row_id, enterprise_id, team_id in found:
        if room is not None and limits is not None:
            left = room.get((enterprise_id, team_id), limits.workspace_budget)
            if left <= 0:
                continue
            room[(enterprise_id, team_id)] = left - 1
        candidates.append(row_id)
    if not candidates:
        return []
    if postgres:
        # The queue idiom: lock in a CTE, which runs once, then update what it locked. Rows
        # that another sender is claiming at this moment are skipped for the next candidates.
        locked = (
            select(Delivery.id)
            .where(Delivery.id.in_(candidates), _claimable(Delivery, now))
            .order_by(Delivery.due_at, Delivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Delivery)
            .cte("locked")
        )
        statement = update(Delivery).where(Delivery.id == locked.c.id)
    else:
        # Claimers take turns on SQLite's write lock: the first candidates are free.
        statement = update(Delivery).where(
            Delivery.id.in_(candidates[:limit]), _claimable(Delivery, now)
        )
    statement = (
        statement.values(
            lease_owner=owner,
            lease_expires_at=now + lease,
            attempts=Delivery.attempts + 1,
            updated_at=now,
        )
        .returning(Delivery)
        .execution_options(synchronize_session=False)
    )
    claimed = list((await session.scalars(statement)).all())
    claimed.sort(key=lambda d: (d.due_at, d.id))
    return claimed


def _first_of_each(
    *, now: datetime, postgres: bool, excluded: Collection[WsTuple], limits: Limits | None
) -> Select[int, str, str]:
    """Each idle conversation's first claimable row (id and workspace), longest waiting first.

    With ``limits``, conversations that had a message within the channel interval, or that a
    429 holds, are left out.
    """
    conversation = (Delivery.enterprise_id, Delivery.team_id, Delivery.recipient)
    if postgres:
        # PostgreSQL turns this into one hashed anti-join.
        other = aliased(Delivery)
        idle = ~exists().where(
            other.enterprise_id == Delivery.enterprise_id,
            other.team_id == Delivery.team_id,
            other.recipient == Delivery.recipient,
            other.status == DeliveryStatus.PENDING,
            other.lease_expires_at > now,
        )
    else:
        # SQLite builds a temporary index of the busy conversations once, instead of probing
        # each conversation's rows again for every candidate.
        idle = tuple_(*conversation).not_in(
            select(*conversation).where(
                Delivery.status == DeliveryStatus.PENDING, Delivery.lease_expires_at > now
            )
        )
    query = (
        select(func.min(Delivery.id), Delivery.enterprise_id, Delivery.team_id)
        .where(_claimable(Delivery, now), idle)
        .group_by(*conversation)
        .order_by(func.min(Delivery.due_at), func.min(Delivery.id))
    )
    if excluded:
        query = query.where(
            tuple_(Delivery.enterprise_id, Delivery.team_id).not_in(sorted(excluded))
        )
    if limits is not None:
        recent = aliased(Delivery)
        query = query.where(
            # Few rows: what went out in the last second or so, by the index on sent_at.
            tuple_(*conversation).not_in(
                select(recent.enterprise_id, recent.team_id, recent.recipient).where(
                    recent.sent_at > now - limits.channel_interval
                )
            ),
            tuple_(*conversation).not_in(
                select(
                    DeliveryHold.enterprise_id, DeliveryHold.team_id, DeliveryHold.channel
                ).where(DeliveryHold.until > now, DeliveryHold.channel != "")
            ),
        )
    return query


async def _room(
    session: AsyncSession, *, now: datetime, limits: Limits
) -> tuple[dict[WsTuple, int], set[WsTuple]]:
    """Each recently active workspace's room left in its budget (a workspace not named has all
    of it), and the workspaces a 429 holds as a whole."""
    used: collections.Counter[WsTuple] = collections.Counter()
    ws = (Delivery.enterprise_id, Delivery.team_id)
    sent = select(*ws, func.count()).where(Delivery.sent_at > now - limits.window).group_by(*ws)
    in_flight = (
        select(*ws, func.count())
        .where(Delivery.lease_expires_at > now, Delivery.status == DeliveryStatus.PENDING)
        .group_by(*ws)
    )
    for statement in (sent, in_flight):
        for enterprise_id, team_id, count in await session.execute(statement):
            used[(enterprise_id, team_id)] += int(count)
    held = {
        (enterprise_id, team_id)
        for enterprise_id, team_id in await session.execute(
            select(DeliveryHold.enterprise_id, DeliveryHold.team_id).where(
                DeliveryHold.until > now, DeliveryHold.channel == ""
            )
        )
    }
    return {key: limits.workspace_budget - n for key, n in used.items()}, held


async def waiting(
    session: AsyncSession, *, now: datetime, busy: Collection[WorkspaceKey] = ()
) -> bool:
    """Whether a due row waits with nothing of its conversation in flight: after a claim that
    found nothing, such a row waits only for pacing, and goes out within a window."""
    postgres = session.get_bind().dialect.name == "postgresql"
    excluded = {(ws.enterprise_id, ws.team_id) for ws in busy}
    query = _first_of_each(now=now, postgres=postgres, excluded=excluded, limits=None).limit(1)
    return (await session.execute(query)).first() is not None


async def hold(
    session: AsyncSession, *, ws: WorkspaceKey, channel: str, until: datetime, now: datetime
) -> None:
    """Slack said 429: no sender posts to ``channel`` ("" for the whole workspace) before
    ``until``. A later hold already there stays."""
    key = and_(
        DeliveryHold.in_workspace(ws),
        DeliveryHold.channel == channel,
    )
    await session.execute(delete(DeliveryHold).where(DeliveryHold.until < now - STALE_HOLD))
    await insert_absent(
        session, DeliveryHold, [{**DeliveryHold.key_values(ws), "channel": channel, "until": until}]
    )
    await session.execute(
        update(DeliveryHold)
        .where(key, DeliveryHold.until < until)
        .values(until=until)
        .execution_options(synchronize_session=False)
    )


async def claim_planned(
    session: AsyncSession,
    *,
    rows: Sequence[Planned],
    now: datetime,
    owner: str,
    lease: timedelta = LEASE,
) -> list[Delivery]:
    """Claim the rows just planned (by their keys), for the process that planned them to send
    right away; rows already taken, settled or not yet due are left to whoever has them."""
    if not rows:
        return []
    keys = or_(
        *(
            and_(
                Delivery.in_workspace(row.ws),
                Delivery.kind == row.kind,
                Delivery.subject == row.subject,
                Delivery.recipient == row.recipient,
                Delivery.period == row.period,
            )
            for row in rows
        )
    )
    statement = (
        update(Delivery)
        .where(keys, _claimable(Delivery, now))
        .values(
            lease_owner=owner,
            lease_expires_at=now + lease,
            attempts=Delivery.attempts + 1,
            updated_at=now,
        )
        .returning(Delivery)
        .execution_options(synchronize_session=False)
    )
    claimed = list((await session.scalars(statement)).all())
    claimed.sort(key=lambda d: (d.due_at, d.id))
    return claimed


async def outcomes(
    session: AsyncSession, *, ws: WorkspaceKey, ids: Collection[int]
) -> dict[int, Delivery]:
    """The workspace's rows with these ids as they stand now (after a send)."""
    if not ids:
        return {}
    found = await session.scalars(
        select(Delivery).where(Delivery.in_workspace(ws), Delivery.id.in_(list(ids)))
    )
    return {row.id: row for row in found}


def _mine(delivery: Delivery, owner: str) -> ColumnElement[bool]:
    return and_(
        Delivery.id == delivery.id,
        Delivery.in_workspace(workspace_of(delivery)),
        Delivery.status == DeliveryStatus.PENDING,
        Delivery.lease_owner == owner,
    )


async def renew_lease(
    session: AsyncSession, *, delivery: Delivery, owner: str, now: datetime, lease: timedelta
) -> datetime | None:
    """Extend ``owner``'s lease on a row it is still sending; None when the row is not ours.

    Not ours any more means settled already, or claimed by another sender once our lease ran
    out: the caller must then not post it. A lease that ran out but that nobody took is still
    ours; renewing it is as safe as claiming it again.
    """
    expires = now + lease
    result = await session.execute(
        update(Delivery)
        .where(_mine(delivery, owner))
        .values(lease_expires_at=expires, updated_at=now)
    )
    return expires if getattr(result, "rowcount", 0) else None


async def mark_sent(
    session: AsyncSession,
    *,
    delivery: Delivery,
    channel_id: str,
    ts: str,
    now: datetime,
    note: str | None = None,
) -> bool:
    """Record that the message went out; False if the row was already settled.

    Recorded whoever holds the lease now: the message exists, and saying so stops anyone else
    from sending it again. ``note`` keeps what went wrong after the post (a file not shared).
    """
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery.id,
            Delivery.in_workspace(workspace_of(delivery)),
            Delivery.status == DeliveryStatus.PENDING,
        )
        .values(
            status=DeliveryStatus.SENT,
            sent_at=now,
            message_channel_id=channel_id,
            message_ts=ts,
            lease_owner=None,
            lease_expires_at=None,
            last_error=note[:2000] if note else None,
            updated_at=now,
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def mark_failed(
    session: AsyncSession, *, delivery: Delivery, owner: str, error: str, now: datetime
) -> bool:
    """Give up on the row for good (a permanent error); False if it is no longer ours."""
    return await _settle(
        session, delivery, owner, now, status=DeliveryStatus.FAILED, last_error=error[:2000]
    )


async def mark_cancelled(
    session: AsyncSession, *, delivery: Delivery, owner: str, reason: str, now: datetime
) -> bool:
    """The message is no longer wanted (the item was decided, done, snoozed, …)."""
    return await _settle(
        session, delivery, owner, now, status=DeliveryStatus.CANCELLED, last_error=reason[:2000]
    )


async def _settle(
    session: AsyncSession, delivery: Delivery, owner: str, now: datetime, **values: Any
) -> bool:
    result = await session.execute(
        update(Delivery)
        .where(_mine(delivery, owner))
        .values(lease_owner=None, lease_expires_at=None, updated_at=now, **values)
    )
    return bool(getattr(result, "rowcount", 0))


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try: 30 s doubling, at most an hour."""
    exponent = max(0, min(attempts - 1, 20))
    delay: timedelta = FIRST_BACKOFF * (2**exponent)
    return min(delay, MAX_BACKOFF)


async def release_for_retry(
    session: AsyncSession,
    *,
    delivery: Delivery,
    owner: str,
    error: str,
    now: datetime,
    not_before: datetime | None = None,
) -> bool:
    """Put a transiently failed row back for a later try; fail it once it has had enough.

    Returns True when it will be retried, False when it was failed (or is no longer ours).
    ``not_before`` is a moment Slack named (Retry-After); the backoff applies when it is later.
    """
    if delivery.attempts >= MAX_ATTEMPTS:
        await mark_failed(
            session,
            delivery=delivery,
            owner=owner,
            error=f"gave up after {delivery.attempts} attempts: {error}",
            now=now,
        )
        return False
    retry_at = now + backoff(delivery.attempts)
    if not_before is not None and not_before > retry_at:
        retry_at = not_before
    return await _settle(session, delivery, owner, now, due_at=retry_at, last_error=error[:2000])


async def give_back(
    session: AsyncSession,
    *,
    delivery: Delivery,
    owner: str,
    now: datetime,
    until: datetime | None = None,
    reason: str | None = None,
) -> bool:
    """Release a claimed row without counting an attempt: nothing was tried.

    For a sender that is stopping, whose lease ran short before the row's turn, or whose
    composer says "not yet" (``until``, e.g. the recipient's next working hour).
    """
    values: dict[str, Any] = {"attempts": Delivery.attempts - 1}
    if until is not None:
        values["due_at"] = until
    if reason is not None:
        values["last_error"] = reason[:2000]
    return await _settle(session, delivery, owner, now, **values)


async def release_held(
    session: AsyncSession, *, ws: WorkspaceKey, recipient: str, reason: str, now: datetime
) -> int:
    """Make a person's pending rows held back for ``reason`` due now; how many there were.

    For rows a sender gave back until some later moment because of the recipient (their time
    off) when that no longer holds: they go out at the next pass, composed afresh.
    """
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.in_workspace(ws),
            Delivery.recipient == recipient,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.due_at > now,
            Delivery.last_error.startswith(reason, autoescape=True),
        )
        .values(due_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
