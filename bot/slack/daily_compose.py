"""The daily reminder DM, composed when it is sent and updated in place when a button is pressed.

The daily row (`bot.nudges.daily`) names a person and a day; its composer gathers that
person's bundled reminders due by now, leaves out what no longer deserves them (decided, done,
snoozed, handed on, touched since they were planned: the "still wanted?" rule of every
reminder), orders the rest most urgent first and renders them within Slack's 50 blocks. A DM
with nothing left is not sent (the row is cancelled).

Per-item kinds join the daily DM by registering a `DailyEntry`::

    from bot.slack.daily_compose import DailyEntry, register_entry

    register_entry("nudge:orphan", DailyEntry(fetch=..., wanted=..., actionable=...,
                                              render=..., state=...))

and by planning their rows with ``bot.nudges.daily.plan_bundled``. ``fetch`` loads items by
number (one query for all of a kind), ``wanted`` says whether an item still deserves the row
at send time, ``actionable`` whether it still waits for the recipient when the DM is updated,
``render`` draws the entry with its buttons (at most two blocks) and ``state`` the one block an
entry becomes once handled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.decisions.models import Decision, DecisionStatus
from bot.delivery.models import Delivery
from bot.meetings import service as meetings
from bot.meetings.models import Meeting, Outcome
from bot.nudges import daily
from bot.nudges.rules import NudgeKind, episode_key
from bot.slack import replies
from bot.slack.blocks import followthrough as render_follow
from bot.slack.blocks import nudges as render
from bot.slack.blocks.kit import Block
from bot.slack.compose import (
    ComposeContext,
    Composed,
    Fetch,
    Later,
    OutgoingMessage,
    fetch_actions,
    fetch_decisions,
    fetch_follow_through,
    fetch_meetings,
)
from bot.slack.deps import Deps
from bot.workspace import WorkspaceKey


@dataclass(frozen=True, slots=True)
class EntryView:
    """What an entry is drawn for: whose DM, which reminder, on whose clock."""

    recipient: str
    reminder: int
    zone: ZoneInfo
    today: date
    now: datetime


@dataclass(frozen=True, slots=True)
class DailyEntry:
    """How one per-item reminder kind appears in the daily DM (see the module's docstring)."""

    fetch: Fetch[Any]
    wanted: Callable[[Any, Delivery, datetime], bool]
    actionable: Callable[[Any, str, datetime], bool]
    render: Callable[[Any, EntryView], list[Block]]
    state: Callable[[Any, EntryView], Block]


class DailyEntries:
    """Ledger kind of a per-item reminder → how it shows in the daily DM."""

    def __init__(self) -> None:
        self._by_kind: dict[str, DailyEntry] = {}

    def register(self, kind: str, entry: DailyEntry) -> None:
        if kind in self._by_kind:
            raise ValueError(f"a daily entry for {kind!r} is already registered")
        self._by_kind[kind] = entry

    def get(self, kind: str) -> DailyEntry | None:
        return self._by_kind.get(kind)


def _episode(row: Delivery) -> str:
    return str((row.payload or {}).get("episode", ""))


def _snoozed(until: datetime | None, now: datetime) -> bool:
    return until is not None and until > now


# --- decisions, meetings, action items -----------------------------------------------------------


def _decision_actionable(d: Decision, recipient: str, now: datetime) -> bool:
    return d.is_open and d.owner_id == recipient and not _snoozed(d.snoozed_until, now)


def _decision_wanted(d: Decision, row: Delivery, now: datetime) -> bool:
    return _decision_actionable(d, row.recipient, now) and episode_key(
        d.last_activity_at
    ) == _episode(row)


def _meeting_actionable(m: Meeting, recipient: str, _now: datetime) -> bool:
    return meetings.is_outcome_free(m) and m.organizer_id == recipient


def _meeting_wanted(m: Meeting, row: Delivery, now: datetime) -> bool:
    return (
        _meeting_actionable(m, row.recipient, now)
        and m.ended_at is not None
        and episode_key(m.ended_at) == _episode(row)
    )


def _action_actionable(a: Outcome, recipient: str, now: datetime) -> bool:
    return a.done_at is None and a.owner_id == recipient and not _snoozed(a.snoozed_until, now)


def _action_wanted(a: Outcome, row: Delivery, now: datetime) -> bool:
    return _action_actionable(a, row.recipient, now) and episode_key(a.updated_at) == _episode(row)


Orphan = tuple[Decision, bool]
"""A decided decision and whether it has its follow-through (`fetch_follow_through`)."""


def _orphan_actionable(found: Orphan, recipient: str, _now: datetime) -> bool:
    d, followed = found
    return d.status == DecisionStatus.DECIDED and not followed and d.owner_id == recipient


def _orphan_wanted(found: Orphan, row: Delivery, now: datetime) -> bool:
    d = found[0]
    return (
        _orphan_actionable(found, row.recipient, now)
        and d.decided_at is not None
        and episode_key(d.decided_at) == _episode(row)
    )


def default_entries() -> DailyEntries:
    entries = DailyEntries()
    entries.register(
        NudgeKind.DECISION,
        DailyEntry(
            fetch=fetch_decisions,
            wanted=_decision_wanted,
            actionable=_decision_actionable,
            render=lambda d, v: render.decision_entry(
                d, reminder=v.reminder, today=v.today, zone=v.zone
            ),
            state=lambda d, v: render.decision_state(
                d, recipient=v.recipient, zone=v.zone, now=v.now
            ),
        ),
    )
    entries.register(
        NudgeKind.MEETING,
        DailyEntry(
            fetch=fetch_meetings,
            wanted=_meeting_wanted,
            actionable=_meeting_actionable,
            render=lambda m, v: render.meeting_entry(m, reminder=v.reminder),
            state=lambda m, _v: render.meeting_state(m),
        ),
    )
    entries.register(
        NudgeKind.ACTION,
        DailyEntry(
            fetch=fetch_actions,
            wanted=_action_wanted,
            actionable=_action_actionable,
            render=lambda a, v: render.action_entry(a, reminder=v.reminder),
            state=lambda a, v: render.action_state(
                a, recipient=v.recipient, zone=v.zone, now=v.now
            ),
        ),
    )
    entries.register(
        NudgeKind.ORPHAN,
        DailyEntry(
            fetch=fetch_follow_through,
            wanted=_orphan_wanted,
            actionable=_orphan_actionable,
            render=lambda o, v: render_follow.orphan_entry(o[0], reminder=v.reminder),
            state=lambda o, v: render_follow.orphan_state(
                o[0], followed=o[1], recipient=v.recipient
            ),
        ),
    )
    return entries


ENTRIES = default_entries()
"""The kinds the daily DM knows; `register_entry` adds one."""


def register_entry(kind: str, entry: DailyEntry) -> None:
    ENTRIES.register(kind, entry)


async def _load(
    session: AsyncSession,
    ws: WorkspaceKey,
    wanted: Mapping[str, set[int]],
    entries: DailyEntries,
) -> dict[tuple[str, int], Any]:
    """Items by (kind, number): one query per kind."""
    found: dict[tuple[str, int], Any] = {}
    for kind, numbers in wanted.items():
        entry = entries.get(kind)
        if entry is None or not numbers:
            continue
        for number, item in (await entry.fetch(session, ws, sorted(numbers))).items():
            found[(kind, number)] = item
    return found


def _number(row_or_entry: Mapping[str, Any]) -> int:
    return int(row_or_entry.get("number", 0))


# --- composing ------------------------------------------------------------------------------


async def compose_daily(ctx: ComposeContext, delivery: Delivery) -> Composed:
    """The daily DM for the row's recipient, from what is still due for them now."""
    return await _compose(ctx, delivery, ENTRIES)


async def _compose(ctx: ComposeContext, delivery: Delivery, entries: DailyEntries) -> Composed:
    zone = await ctx.zone_of(delivery.recipient)
    hours = ctx.cadence.working_hours
    at = daily.hour_of_row(delivery, ctx.cadence)
    if not daily.may_send_now(ctx.now, zone, hours, at):
        return Later(
            until=daily.daily_slot(ctx.now, zone, hours, at),
            reason=f"before the reminder hour or outside working hours in {zone.key}",
        )
    async with ctx.db.transaction() as session:
        members = await daily.take_members(session, daily=delivery, now=ctx.now)
        # One entry per item: the latest reminder stands for any earlier one not yet sent.
        latest: dict[tuple[str, str], Delivery] = {}
        superseded: list[int] = []
        for row in members:
            if entries.get(row.kind) is None:
                continue  # a kind this worker does not know (a deploy under way): left for later
            key = (row.kind, row.subject)
            before = latest.get(key)
            if before is None or daily.urgency(row).reminder >= daily.urgency(before).reminder:
                if before is not None:
                    superseded.append(before.id)
                latest[key] = row
            else:
                superseded.append(row.id)
        numbers: dict[str, set[int]] = {}
        for row in latest.values():
            numbers.setdefault(row.kind, set()).add(_number(row.payload or {}))
        items = await _load(session, ctx.ws, numbers, entries)
    wanted: list[Delivery] = []
    unwanted: list[int] = []
    for row in latest.values():
        entry = entries.get(row.kind)
        item = items.get((row.kind, _number(row.payload or {})))
        if entry is not None and item is not None and entry.wanted(item, row, ctx.now):
            wanted.append(row)
        else:
            unwanted.append(row.id)
    ordered = daily.most_urgent_first(wanted)
    today = ctx.now.astimezone(zone).date()
    drawn: list[list[Block]] = []
    for row in ordered:
        entry = entries.get(row.kind)
        assert entry is not None
        view = EntryView(
            recipient=delivery.recipient,
            reminder=daily.urgency(row).reminder,
            zone=zone,
            today=today,
            now=ctx.now,
        )
        drawn.append(entry.render(items[(row.kind, _number(row.payload or {}))], view))
    shown = render.fit_entries(drawn)
    async with ctx.db.transaction() as session:
        await daily.cancel(session, ws=ctx.ws, ids=unwanted, reason="no longer needed", now=ctx.now)
        await daily.cancel(
            session,
            ws=ctx.ws,
            ids=superseded,
            reason="superseded by a later reminder",
            now=ctx.now,
        )
        if not ordered:
            return None
        await daily.hold(session, daily=delivery, rows=ordered, now=ctx.now)
        await daily.record_entries(
            session,
            daily=delivery,
            entries=[
                {"kind": r.kind, "subject": r.subject, **_kept(r.payload or {})}
                for r in ordered[:shown]
            ],
            more=len(ordered) - shown,
        )
    text, blocks = render.daily_dm(
        drawn[:shown],
        names=[
            render.entry_name(r.subject, items[(r.kind, _number(r.payload or {}))])
            for r in ordered[:shown]
        ],
        more=len(ordered) - shown,
        waiting=len(ordered),
    )
    return OutgoingMessage(
        channel=delivery.recipient,
        text=text,
        blocks=blocks,
        after_sent=partial(
            _members_sent, ws=ctx.ws, daily_id=delivery.id, ids=[r.id for r in ordered]
        ),
    )


def _kept(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {k: payload[k] for k in ("number", "reminder", "episode") if k in payload}


async def _members_sent(
    session: AsyncSession, sent_at: datetime, *, ws: WorkspaceKey, daily_id: int, ids: list[int]
) -> None:
    await daily.settle_members(session, daily_id=daily_id, ws=ws, ids=ids, now=sent_at)


# --- updating the DM in place -----------------------------------------------------------------


async def refresh_daily_dm(
    client: AsyncWebClient,
    deps: Deps,
    ws: WorkspaceKey,
    *,
    recipient: str,
    channel_id: str,
    ts: str,
    entries: DailyEntries | None = None,
) -> bool:
    """If ``ts`` in ``channel_id`` is ``recipient``'s daily DM, redraw it from current state:
    entries still waiting for them keep their buttons, the others say what became of them.
    False (nothing done) for any other message."""
    if not channel_id.startswith("D") or not ts:
        return False
    async with deps.db.transaction() as session:
        row = await daily.daily_message(
            session, ws=ws, recipient=recipient, channel_id=channel_id, ts=ts
        )
    if row is None:
        return False
    zone = await deps.user_zone(client, ws, recipient)
    text, blocks = await redraw_daily(
        deps.db, ws, row, zone=zone, now=deps.now(), entries=entries or ENTRIES
    )
    await replies.update_message(client, channel_id=channel_id, ts=ts, text=text, blocks=blocks)
    return True


async def redraw_daily(
    db: Database,
    ws: WorkspaceKey,
    row: Delivery,
    *,
    zone: ZoneInfo,
    now: datetime,
    entries: DailyEntries | None = None,
) -> render.Rendered:
    """A sent daily DM (its ledger row) as it reads now: the entries it listed, those still
    waiting for its recipient with their buttons, the others saying what became of them."""
    entries = entries or ENTRIES
    recipient = row.recipient
    listed = [e for e in (row.payload or {}).get("entries") or [] if isinstance(e, dict)]
    numbers: dict[str, set[int]] = {}
    for e in listed:
        numbers.setdefault(str(e.get("kind")), set()).add(_number(e))
    async with db.transaction() as session:
        items = await _load(session, ws, numbers, entries)
    drawn: list[list[Block]] = []
    waiting = 0
    for e in listed:
        kind = str(e.get("kind"))
        entry = entries.get(kind)
        item = items.get((kind, _number(e)))
        view = EntryView(
            recipient=recipient,
            reminder=int(e.get("reminder", 1)),
            zone=zone,
            today=now.astimezone(zone).date(),
            now=now,
        )
        if entry is not None and item is not None and entry.actionable(item, recipient, now):
            drawn.append(entry.render(item, view))
            waiting += 1
        elif entry is not None and item is not None:
            drawn.append([entry.state(item, view)])
        else:
            drawn.append([render.gone_entry(str(e.get("subject") or ""))])
    more = int((row.payload or {}).get("more", 0))
    return render.daily_dm(
        drawn,
        names=[
            render.entry_name(
                str(e.get("subject") or ""), items.get((str(e.get("kind")), _number(e)))
            )
            for e in listed
        ],
        more=more,
        waiting=waiting + more,
    )


def register_daily(composers: Any) -> None:
    """Add the daily DM's composer to a `bot.slack.compose.Composers`."""
    composers.register(daily.DAILY_KIND, compose_daily)
