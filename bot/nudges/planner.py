"""The planning half of a worker tick: find what deserves a reminder now and put it in the ledger.

For each live workspace, under its effective cadence: open decisions that have stalled,
meetings that ended without outcomes (and without "no outcome needed") longer ago than the
grace period, and action items past their due date that are not done. Snoozed items wait.
Decided, dropped and done items never match the queries, so they are never nudged.

Each reminder is a ledger row whose key makes planning idempotent (see `bot.nudges.rules`).
Reminders are *bundled*: they wait for their owner's daily DM, which goes out once a working day
at the person's reminder hour (`bot.nudges.daily`); the planner makes sure that DM is planned.
Escalations are rows of their own, due at the next moment inside the recipient's working
hours. Zones (and reminder hours, the seam for per-person preferences) come from injected
callables (the worker asks Slack through a cached directory), and only for rows not planned
before, so a steady tick costs a few indexed queries. Database work happens in short
transactions that never span those calls.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from bot.cadence.config import CadenceConfig
from bot.cadence.hours import next_working_moment
from bot.cadence.stall import activity_cutoff, local_today, stall_bounds, working_calendar
from bot.db import Database
from bot.decisions.followthrough import has_follow_through
from bot.decisions.models import Decision, DecisionStatus
from bot.decisions.stall import stalled_clause
from bot.delivery import ledger
from bot.meetings import service as meetings
from bot.meetings.models import Meeting, Outcome
from bot.nudges import bulk, daily
from bot.nudges.daily import HourOf
from bot.nudges.rules import (
    NudgeKind,
    Stalled,
    Subject,
    Wanted,
    action_stalled_from,
    decision_stalled_from,
    due_now,
    is_user_id,
    meeting_stalled_from,
    orphan_from,
)
from bot.prefs import service as prefs
from bot.timeoff import service as timeoff
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces

log = logging.getLogger(__name__)

PersonalCadence = Callable[[str], CadenceConfig]
"""The cadence an owner's items are reckoned by: the workspace's, plus the owner's away days."""

ZoneOf = Callable[[WorkspaceKey, str], Awaitable[ZoneInfo | None]]
"""A person's time zone (None when unknown: the workspace's zone is used instead)."""

NUDGE_KINDS = tuple(kind.value for kind in NudgeKind)
# Stalled decisions are read this many at a time, so a workspace with a huge backlog is read in
# bounded steps rather than one unbounded result.
PAGE_SIZE = 1000


@dataclass
class PlanReport:
    workspaces: int = 0
    due: int = 0
    planned: int = 0
    # Daily DMs planned (one per person and working day that has reminders).
    daily: int = 0
    # Workspaces whose planning failed this tick (each logged once, with its workspace).
    failed: int = 0

    def add(self, other: PlanReport) -> None:
        self.workspaces += other.workspaces
        self.due += other.due
        self.planned += other.planned
        self.daily += other.daily
        self.failed += other.failed


def _not_snoozed(
    column: InstrumentedAttribute[datetime | None], now: datetime
) -> ColumnElement[bool]:
    return or_(column.is_(None), column <= now)


def _same(cadence: CadenceConfig) -> PersonalCadence:
    return lambda _owner: cadence


async def stalled_decisions(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    now: datetime,
    personal: PersonalCadence | None = None,
    skip: ColumnElement[bool] | None = None,
) -> list[Stalled]:
    """Open decisions stalled at ``now``. The query finds them by the workspace's calendar;
    ``personal`` then reckons each by its owner's (their away days are not working days, so
    it stalls later, never sooner). ``skip``: decisions planned by the set-based path
    (`bot.nudges.bulk`), left out here."""
    cadence_of = personal or _same(cadence)
    bounds = stall_bounds(now, cadence)
    stalled = select(
        Decision.id,
        Decision.number,
        Decision.owner_id,
        Decision.last_activity_at,
        Decision.due_date,
        Decision.snoozed_until,
    ).where(
        Decision.in_workspace(ws),
        stalled_clause(bounds),
        _not_snoozed(Decision.snoozed_until, now),
    )
    if skip is not None:
        stalled = stalled.where(~skip)
    # Asked once per reason to be stalled, each in pages along its own index: a range scan
    # that reads only the rows it returns. Asked as one OR, PostgreSQL judges from the many
    # long-decided rows (old activity) that most open ones are idle too, and reads every open
    # decision of the workspace instead.
    found: dict[int, Any] = {}
    for reason, order in (
        (Decision.due_date < bounds.today, Decision.due_date),
        (
            and_(Decision.due_date.is_(None), Decision.last_activity_at <= bounds.cutoff),
            Decision.last_activity_at,
        ),
    ):
        async for row in _pages(session, stalled.where(reason), order):
            found[row.number] = row
    return [
        Stalled(
            subject=Subject.DECISION,
            number=row.number,
            owner_id=row.owner_id,
            anchor=row.last_activity_at,
            stalled_from=decision_stalled_from(
                last_activity_at=row.last_activity_at,
                due_date=row.due_date,
                snoozed_until=row.snoozed_until,
                cadence=cadence_of(row.owner_id),
            ),
            overdue=row.due_date is not None,
        )
        for row in found.values()
    ]


async def _pages(
    session: AsyncSession,
    query: Select[*tuple[Any, ...]],
    order: InstrumentedAttribute[Any],
) -> AsyncIterator[Any]:
    """The rows of ``query`` ordered by ``order`` and then id, fetched `PAGE_SIZE` at a time
    from one streamed result: one range scan, however many rows. (Keyset pages, each a query
    of its own, scanned every row sharing the last page's ``order`` value again: with
    thousands of decisions idle since the same moment, quadratic.)"""
    result = await session.stream(
        query.order_by(order, Decision.id).execution_options(yield_per=PAGE_SIZE)
    )
    async for partition in result.partitions(PAGE_SIZE):
        for row in partition:
            yield row


async def outcome_free_meetings(
    session: AsyncSession, *, ws: WorkspaceKey, cadence: CadenceConfig, now: datetime
) -> list[Stalled]:
    rows = await session.execute(
        select(Meeting.number, Meeting.organizer_id, Meeting.ended_at).where(
            Meeting.in_workspace(ws),
            meetings.outcome_free_clause(),
            Meeting.ended_at <= now - timedelta(hours=cadence.nudges.outcome_grace_hours),
        )
    )
    return [
        Stalled(
            subject=Subject.MEETING,
            number=number,
            owner_id=organizer_id,
            anchor=ended_at,
            stalled_from=meeting_stalled_from(ended_at=ended_at, cadence=cadence),
        )
        for number, organizer_id, ended_at in rows
        if ended_at is not None
    ]


async def overdue_actions(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    now: datetime,
    personal: PersonalCadence | None = None,
) -> list[Stalled]:
    cadence_of = personal or _same(cadence)
    rows = await session.execute(
        select(
            Outcome.number,
            Outcome.owner_id,
            Outcome.updated_at,
            Outcome.due_date,
            Outcome.snoozed_until,
        ).where(
            Outcome.in_workspace(ws),
            meetings.overdue_clause(local_today(now, cadence)),
            Outcome.number.is_not(None),
            Outcome.owner_id.is_not(None),
            _not_snoozed(Outcome.snoozed_until, now),
        )
    )
    found = []
    for number, owner_id, updated_at, due_date, snoozed_until in rows:
        if number is None or owner_id is None or due_date is None:
            continue
        found.append(
            Stalled(
                subject=Subject.ACTION,
                number=number,
                owner_id=owner_id,
                anchor=updated_at,
                stalled_from=action_stalled_from(
                    updated_at=updated_at,
                    due_date=due_date,
                    snoozed_until=snoozed_until,
                    cadence=cadence_of(owner_id),
                ),
                overdue=True,
            )
        )
    return found


async def orphan_decisions(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    now: datetime,
    personal: PersonalCadence | None = None,
) -> list[Stalled]:
    """Decided decisions with no action and no "no action needed", decided at least
    ``followthrough_after_days`` working days before ``now``: reminded from their decide on.
    Found by the workspace's calendar; ``personal`` reckons each by its owner's (later, never
    sooner)."""
    cadence_of = personal or _same(cadence)
    cutoff = activity_cutoff(
        now, working_calendar(cadence), cadence.decisions.followthrough_after_days
    )
    # Reminders stop after `escalate_after` of them, so only decisions decided recently enough
    # for one still to be due are read: a long history of old decisions costs nothing.
    horizon = cutoff - timedelta(
        days=7 * (cadence.nudges.escalate_after * cadence.nudges.repeat_every_days + 2)
    )
    rows = await session.execute(
        select(Decision.number, Decision.owner_id, Decision.decided_at).where(
            Decision.in_workspace(ws),
            Decision.status == DecisionStatus.DECIDED,
            Decision.decided_at <= cutoff,
            Decision.decided_at > horizon,
            ~has_follow_through(),
        )
    )
    return [
        Stalled(
            subject=Subject.ORPHAN,
            number=number,
            owner_id=owner_id,
            anchor=decided_at,
            stalled_from=orphan_from(decided_at=decided_at, cadence=cadence_of(owner_id)),
        )
        for number, owner_id, decided_at in rows
        if decided_at is not None
    ]


async def find_stalled(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    now: datetime,
    personal: PersonalCadence | None = None,
    skip: ColumnElement[bool] | None = None,
) -> list[Stalled]:
    """Every item of the workspace that may deserve a reminder at ``now`` (but the decisions
    ``skip`` names)."""
    return [
        *await stalled_decisions(
            session, ws=ws, cadence=cadence, now=now, personal=personal, skip=skip
        ),
        *await outcome_free_meetings(session, ws=ws, cadence=cadence, now=now),
        *await overdue_actions(session, ws=ws, cadence=cadence, now=now, personal=personal),
        *await orphan_decisions(session, ws=ws, cadence=cadence, now=now, personal=personal),
    ]


def personal_cadences(facts: timeoff.TimeOffFacts, cadence: CadenceConfig) -> PersonalCadence:
    """Each owner's cadence (made once per owner): the workspace's plus their away days."""
    made: dict[str, CadenceConfig] = {}

    def cadence_of(owner: str) -> CadenceConfig:
        found = made.get(owner)
        if found is None:
            found = made[owner] = facts.cadence_of(owner, cadence)
        return found

    return cadence_of


async def plan_workspace(
    db: Database,
    *,
    ws: WorkspaceKey,
    base: CadenceConfig,
    now: datetime,
    zone_of: ZoneOf,
    hour_of: HourOf = daily.no_preference,
    set_based: bool = True,
) -> PlanReport:
    """Plan the reminders, escalations and daily DMs due in one workspace at ``now``.

    Reminders are bundled into their owner's daily DM (`bot.nudges.daily`); escalations are
    messages of their own, due at once (inside the recipient's working hours).

    The ordinary stalled decisions are planned set-based (`bot.nudges.bulk`: the database
    finds and writes their rows); ``set_based=False`` plans every item one by one (the same
    rows: the tests compare the two).
    """
    async with db.transaction() as session:
        cadence = await workspaces.cadence_for(session, ws=ws, base=base)
        # People's time off: their away days are not working days for their items, and what
        # falls due while they are away is escalated instead (bot/timeoff).
        facts = await timeoff.workspace_time_off(session, ws=ws, now=now)
        personal = personal_cadences(facts, cadence)
        holding = await prefs.holding(session, ws=ws, now=now)
        prepared: bulk.Prepared | None = None
        if set_based:
            # Owners whose items need more than the workspace's calendar: time off, a pause or
            # notice preference, or the escalation target (whose reminders never escalate).
            special = {*facts.periods, *holding, cadence.nudges.escalate_to} - {""}
            prepared = await bulk.prepare(
                session,
                ws=ws,
                cadence=cadence,
                now=now,
                cutoff=stall_bounds(now, cadence).cutoff,
                special=special,
            )
        items = await find_stalled(
            session,
            ws=ws,
            cadence=cadence,
            now=now,
            personal=personal,
            skip=prepared.covered_clause() if prepared is not None else None,
        )
        # What is due now, as far as its ledger key; the rest of the arithmetic (when it fell
        # due, its payload) only for what the ledger does not have yet: a steady tick skips it.
        dues = [
            due
            for item in items
            if (
                due := due_now(
                    item,
                    now=now,
                    cadence=personal(item.owner_id),
                    owner_away=facts.away_at(item.owner_id, now),
                )
            )
            is not None
        ]
        known = await ledger.existing_keys(
            session,
            ws=ws,
            kinds=NUDGE_KINDS,
            subjects={d.key[1] for d in dues},
            periods_from=min((d.item.episode for d in dues), default=None),
        )
        chosen_hours = await prefs.chosen_reminder_hours(
            session, ws=ws, hours=cadence.working_hours
        )
    new = [d.wanted() for d in dues if d.key not in known]
    report = PlanReport(workspaces=1, due=len(dues))
    people = _People(ws=ws, cadence=cadence, zone_of=zone_of, hour_of=hour_of, chosen=chosen_hours)
    if prepared is not None:
        report.due += prepared.due
        if prepared.new:
            await people.learn(prepared.new)
            groups: dict[tuple[ZoneInfo, time], list[str]] = {}
            for owner in prepared.new:
                groups.setdefault((people.zones[owner], people.hours[owner]), []).append(owner)
            try:
                slots = bulk.slots(
                    cadence=cadence,
                    now=now,
                    prepared=prepared,
                    groups=[(zone, at, owners) for (zone, at), owners in groups.items()],
                )
            except bulk.NotPiecewise:
                log.warning("set-based planning of %s refused a piece; item by item", ws)
                return await plan_workspace(
                    db, ws=ws, base=base, now=now, zone_of=zone_of, hour_of=hour_of, set_based=False
                )
            async with db.transaction() as session:
                report.planned += await bulk.plan(
                    session, ws=ws, now=now, prepared=prepared, slots=slots
                )
    if new:
        reminders, escalations = await _schedule(new, now=now, people=people, holding=holding)
        async with db.transaction() as session:
            report.planned += await daily.plan_bundled(session, rows=reminders, now=now)
            report.planned += await ledger.plan(session, rows=escalations, now=now)
    async with db.transaction() as session:
        waiting = await daily.waiting_recipients(session, ws=ws)
    if waiting:
        await people.learn(waiting)
        async with db.transaction() as session:
            report.daily = await daily.ensure_daily(
                session,
                ws=ws,
                cadence=cadence,
                now=now,
                zones=people.zones,
                hours_of=people.hours,
                waiting=waiting,
                set_based=set_based,
            )
    return report


@dataclass
class _People:
    """Time zones and reminder hours of the recipients one workspace's planning needs, each
    asked once (a conversation has no zone of its own and keeps the workspace's)."""

    ws: WorkspaceKey
    cadence: CadenceConfig
    zone_of: ZoneOf
    hour_of: HourOf
    #: Reminder hours people chose in App Home (bot/prefs), read once per tick.
    chosen: Mapping[str, time] = field(default_factory=dict)
    zones: dict[str, ZoneInfo] = field(default_factory=dict)
    hours: dict[str, time] = field(default_factory=dict)

    async def learn(self, recipients: Iterable[str]) -> None:
        for recipient in recipients:
            if recipient in self.zones:
                continue
            person = is_user_id(recipient)
            zone = await self.zone_of(self.ws, recipient) if person else None
            self.zones[recipient] = zone or self.cadence.zone
            chosen = await self.hour_of(self.ws, recipient) if person else None
            self.hours[recipient] = daily.reminder_hour(
                chosen or self.chosen.get(recipient), self.cadence
            )


async def _schedule(
    wanted: Sequence[Wanted],
    *,
    now: datetime,
    people: _People,
    holding: Mapping[str, prefs.Prefs] | None = None,
) -> tuple[list[ledger.Planned], list[ledger.Planned]]:
    """Give each new row its ``due_at``; (reminders for the daily DMs, rows sent on their own:
    escalations, and reminders of kinds not in `daily.BUNDLED_KINDS`).

    A reminder may go out in the first daily DM at or after the moment it fell due: the
    recipient's reminder hour on a working day, in their own time zone. An escalation goes at
    once, or at the start of the recipient's next working hours. A conversation (an escalation
    channel) has no time zone of its own and keeps the workspace's. A reminder for someone who
    paused their DMs is not planned while the pause lasts: once it ends, the reminder due then
    is planned, not every one missed meanwhile.
    """
    await people.learn({w.recipient for w in wanted})
    hours = people.cadence.working_hours
    paused = {
        person
        for person, theirs in (holding or {}).items()
        if person in people.zones
        and prefs.paused_at(theirs, now, people.zones[person], hours) is not None
    }
    wanted = [w for w in wanted if not (w.recipient in paused and w.is_reminder)]
    reminders: list[ledger.Planned] = []
    escalations: list[ledger.Planned] = []
    for w in wanted:
        zone = people.zones[w.recipient]
        bundled = w.kind.value in daily.BUNDLED_KINDS
        if bundled:
            due_at = daily.first_slot(w.since or now, now, zone, hours, people.hours[w.recipient])
        else:
            due_at = next_working_moment(now, zone, hours)
        row = ledger.Planned(
            ws=people.ws,
            kind=w.kind.value,
            subject=w.subject,
            recipient=w.recipient,
            period=w.period,
            due_at=due_at,
            payload=w.payload,
        )
        (reminders if bundled else escalations).append(row)
    return reminders, escalations


async def plan_nudges(
    db: Database,
    *,
    base: CadenceConfig,
    now: datetime,
    zone_of: ZoneOf,
    hour_of: HourOf = daily.no_preference,
    set_based: bool = True,
) -> PlanReport:
    """Plan what is due at ``now`` in every installed workspace.

    Each workspace is planned on its own: whatever goes wrong in one (a bad row, a cadence that
    no longer loads, a zone lookup that raises) is logged once with its workspace, counted in
    ``failed``, and the others are planned all the same. Only the list of workspaces itself
    failing (the database is down) stops the step.
    """
    async with db.transaction() as session:
        live = await workspaces.active_workspaces(session)
    report = PlanReport()
    for ws in live:
        try:
            report.add(
                await plan_workspace(
                    db,
                    ws=ws,
                    base=base,
                    now=now,
                    zone_of=zone_of,
                    hour_of=hour_of,
                    set_based=set_based,
                )
            )
        except Exception:
            log.exception("planning nudges for %s failed; the other workspaces go on", ws)
            report.failed += 1
    return report
