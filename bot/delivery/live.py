"""Live messages: what the app has posted about an item, and the refreshes that keep it true.

There is no second registry: the ledger already knows every message it sent. A row settled as
sent keeps its conversation and ``ts`` (``message_channel_id``, ``message_ts``), its kind says
what the message is (a card, a reminder, an owner notice; a reminder bundled into a daily DM
carries that DM's ``ts``) and its subject names the item (``D-5``, ``A-2``, ``outcome:7``). So
"every message about D-5" is one indexed read of the sent rows with that subject.

When an item changes, the caller plans a refresh row per live message of it, in the transaction
of the change (`plan_refreshes`). A refresh is an outbox row like any other: kind
`REFRESH_KIND`, subject the item, recipient the message's conversation and period its ``ts`` with
the number of the change (``1700000000.000200#3``), so each change is planned once per message
and a later change gets rows of its own. Its composer (in the Slack layer) redraws the message
from the item's state when it is *sent*, so a late refresh is never stale, and replaces it with
``chat.update``; one sent twice is harmless. The web process sends them right after its ack
(``Sender.deliver_planned``), the worker whatever is left.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import ledger
from bot.delivery.models import Delivery, DeliveryStatus
from bot.workspace import WorkspaceKey

REFRESH_KIND = "refresh:message"
# How many numbers a refresh tries when other changes take them at the same moment.
_TRIES = 5


@dataclass(frozen=True, slots=True)
class LiveMessage:
    """A message the app posted about ``subject``: where it is and the row that sent it."""

    channel_id: str
    ts: str
    kind: str
    subject: str
    recipient: str
    delivery_id: int


async def live_messages(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    subjects: Collection[str],
    kinds: Collection[str],
) -> list[LiveMessage]:
    """The messages of ``kinds`` posted about ``subjects``, oldest first, each message once
    (several reminders bundled into one daily DM are one message)."""
    if not subjects or not kinds:
        return []
    rows = await session.execute(
        select(
            Delivery.message_channel_id,
            Delivery.message_ts,
            Delivery.kind,
            Delivery.subject,
            Delivery.recipient,
            Delivery.id,
        )
        .where(
            Delivery.in_workspace(ws),
            Delivery.kind.in_(sorted(kinds)),
            Delivery.subject.in_(sorted(subjects)),
            Delivery.status == DeliveryStatus.SENT,
            Delivery.message_ts.is_not(None),
            Delivery.message_ts != "",
            Delivery.message_channel_id.is_not(None),
        )
        .order_by(Delivery.id)
    )
    found: dict[tuple[str, str], LiveMessage] = {}
    for channel_id, ts, kind, subject, recipient, row_id in rows:
        found.setdefault(
            (str(channel_id), str(ts)),
            LiveMessage(
                channel_id=str(channel_id),
                ts=str(ts),
                kind=kind,
                subject=subject,
                recipient=recipient,
                delivery_id=row_id,
            ),
        )
    return list(found.values())


def refresh_row(
    message: LiveMessage, *, ws: WorkspaceKey, now: datetime, change: int
) -> ledger.Planned:
    """The row that redraws ``message`` after the ``change``-th change of its subject that
    refreshed it (1, 2, …: a period per change, so each change's refresh is planned once)."""
    return ledger.Planned(
        ws=ws,
        kind=REFRESH_KIND,
        subject=message.subject,
        recipient=message.channel_id,
        period=f"{message.ts}#{change}",
        due_at=now,
        payload={
            "channel": message.channel_id,
            "ts": message.ts,
            "kind": message.kind,
            "origin": message.delivery_id,
        },
    )


def _change_number(period: str, ts: str) -> int:
    head, _, number = period.rpartition("#")
    return int(number) if head == ts and number.isdigit() else 0


async def plan_refreshes(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    subjects: Collection[str],
    kinds: Collection[str],
    now: datetime,
) -> list[ledger.Planned]:
    """Plan a refresh of every live message of ``kinds`` about ``subjects``, in the caller's
    transaction (the change's own); returns the rows, for the caller to send after its ack.

    Each message's refreshes are numbered per subject: this change takes the next number. Two
    changes committed at the same moment on PostgreSQL may reach for the same one; the later
    insert then finds it taken and takes the one after, so neither change goes unshown.
    """
    messages = await live_messages(session, ws=ws, subjects=subjects, kinds=kinds)
    if not messages:
        return []
    done = await session.execute(
        select(Delivery.subject, Delivery.recipient, Delivery.period).where(
            Delivery.in_workspace(ws),
            Delivery.kind == REFRESH_KIND,
            Delivery.subject.in_(sorted({m.subject for m in messages})),
        )
    )
    last: dict[tuple[str, str, str], int] = {}
    for subject, recipient, period in done:
        ts = period.rpartition("#")[0]
        key = (subject, recipient, ts)
        last[key] = max(last.get(key, 0), _change_number(period, ts))
    planned = []
    for message in messages:
        change = last.get((message.subject, message.channel_id, message.ts), 0)
        for _ in range(_TRIES):
            change += 1
            row = refresh_row(message, ws=ws, now=now, change=change)
            if await ledger.plan(session, rows=[row], now=now):
                planned.append(row)
                break
        else:
            # Only as many changes committed at this very moment as there are tries can do it:
            # refuse the change rather than leave a message showing the old state unsaid.
            raise RuntimeError(
                f"no free refresh number for {message.subject} at {message.ts} after {change}"
            )
    return planned


async def origin_of(session: AsyncSession, *, refresh: Delivery) -> Delivery | None:
    """The sent row whose message ``refresh`` redraws, if it is still that message's."""
    payload = refresh.payload or {}
    origin = payload.get("origin")
    if not isinstance(origin, int):
        return None
    row = await session.scalar(
        select(Delivery).where(
            Delivery.in_workspace(ledger.workspace_of(refresh)), Delivery.id == origin
        )
    )
    if row is None or (row.message_channel_id, row.message_ts) != (
        payload.get("channel"),
        payload.get("ts"),
    ):
        return None
    return row


def refresh_target(refresh: Delivery) -> tuple[str, str]:
    """(conversation, ``ts``) of the message a refresh row replaces."""
    return refresh_target_of(refresh.payload)


def refresh_target_of(payload: Mapping[str, Any] | None) -> tuple[str, str]:
    """(conversation, ``ts``) named by a refresh row's payload."""
    payload = payload or {}
    return str(payload.get("channel") or ""), str(payload.get("ts") or "")
