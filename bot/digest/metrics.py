"""The numbers managers see, computed by the database exactly as docs/METRICS.md defines them.

Every figure is an aggregate over one workspace and a half-open period [start, end) whose bounds
the caller has already placed in the workspace's time zone (see `bot.digest.schedule`). Several
consecutive periods are answered by the same few queries: rows are bucketed with one CASE over
the period bounds, so eight weeks cost what one week does. The only per-row values that leave
the database are the durations the median needs, and only on SQLite, which has no percentile
function; PostgreSQL computes the median itself.

``channels`` narrows everything to those channel ids; the Slack layer passes the channels the
reader may see, so a private channel's numbers never reach anyone outside it, as an
`Audience` (`bot.digest.audience`) that also says whose DM items count: only their owner's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.cadence.calendar import local_moment
from bot.cadence.config import CadenceConfig
from bot.cadence.stall import activity_cutoff, working_calendar
from bot.decisions.models import (
    Decision,
    DecisionEvent,
    DecisionReview,
    DecisionStatus,
    ReviewAnswer,
)
from bot.digest import stalled
from bot.digest.audience import DECISION, MEETING, OUTCOME, Item, Scope, audience_of, channel_key
from bot.digest.stalled import StalledAt
from bot.meetings import place
from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.meetings.service import has_outcome
from bot.workspace import WorkspaceKey

#: A decision decided and later superseded or reversed (issue 17) was still decided in its week;
#: one superseded while open has no ``decided_at`` and so is never counted as decided.
DECIDED_STATES = (
    DecisionStatus.DECIDED.value,
    DecisionStatus.SUPERSEDED.value,
    DecisionStatus.REVERSED.value,
)


Channels = Scope


@dataclass(frozen=True, slots=True)
class Figures:
    """Every number for one period [start, end), optionally of one channel.

    Meetings held split four ways: with an outcome; marked "no outcome needed"; still inside
    the outcome grace period when the figures were taken; outcome-free (the rest).
    """

    start: datetime
    end: datetime
    meetings_held: int = 0
    meetings_with_outcome: int = 0
    meetings_no_outcome_needed: int = 0
    meetings_awaiting_outcome: int = 0
    decisions_opened: int = 0
    decisions_decided: int = 0
    decisions_dropped: int = 0
    median_time_to_decision: timedelta | None = None
    #: At the period's end; None where a series did not ask (see `series_figures`).
    stalled: int | None = 0
    overdue_actions: int = 0
    #: Reviews (issue 17): review days that fell in the period, and the answers given in it.
    reviews_due: int = 0
    reviews_kept: int = 0
    reviews_amended: int = 0
    reviews_reversed: int = 0
    reviews_too_early: int = 0

    @property
    def reviews_held(self) -> int:
        """Answered "kept" or "amended": the decision stood, as it was or refined."""
        return self.reviews_kept + self.reviews_amended

    @property
    def reversal_percent(self) -> int | None:
        """Reversed ÷ (held + reversed) as a whole percentage; None with no such answer."""
        judged = self.reviews_held + self.reviews_reversed
        return percent_half_up(self.reviews_reversed, judged) if judged else None

    @property
    def has_reviews(self) -> bool:
        return bool(self.reviews_due or self.reviews_held or self.reviews_reversed)

    @property
    def meetings_outcome_free(self) -> int:
        return (
            self.meetings_held
            - self.meetings_with_outcome
            - self.meetings_no_outcome_needed
            - self.meetings_awaiting_outcome
        )

    @property
    def meetings_judged(self) -> int:
        """The outcome rate's denominator: meetings that owed an outcome and are past grace."""
        return self.meetings_with_outcome + self.meetings_outcome_free

    @property
    def outcome_rate(self) -> float | None:
        """Share (0..1) of judged meetings with at least one outcome; None when none were judged."""
        judged = self.meetings_judged
        return self.meetings_with_outcome / judged if judged else None

    @property
    def outcome_percent(self) -> int | None:
        """The outcome rate as a whole percentage, rounded half up (62.5 % reads 63 %)."""
        judged = self.meetings_judged
        return percent_half_up(self.meetings_with_outcome, judged) if judged else None

    @property
    def is_quiet(self) -> bool:
        """Nothing happened in the period: no meeting ended, no decision moved."""
        return not (
            self.meetings_held
            or self.decisions_opened
            or self.decisions_decided
            or self.decisions_dropped
            or self.has_reviews
        )

    @property
    def is_empty(self) -> bool:
        """Quiet, and nothing stalled or overdue at its end either."""
        return self.is_quiet and not (self.stalled or self.overdue_actions)


def percent_half_up(part: int, whole: int) -> int:
    """``part / whole`` as a whole percentage, halves rounded up, in integers (no float ties)."""
    if whole <= 0:
        raise ValueError("a percentage needs a positive whole")
    return (200 * part + whole) // (2 * whole)


@dataclass
class _Tally:
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    median: timedelta | None = None


# (period index, channel id or None) -> what the queries found for it.
_Tallies = dict[tuple[int, str | None], _Tally]


async def period_figures(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    start: datetime,
    end: datetime,
    now: datetime,
    channels: Channels = None,
) -> Figures:
    """The figures for [start, end); ``now`` decides which meetings are still in grace."""
    return (
        await series_figures(
            session, ws=ws, cadence=cadence, bounds=[start, end], now=now, channels=channels
        )
    )[0]


async def series_figures(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    bounds: Sequence[datetime],
    now: datetime,
    channels: Channels = None,
    stalled_periods: int | None = 2,
) -> list[Figures]:
    """Figures for each consecutive period of ``bounds`` (n + 1 instants in order → n periods).

    "Stalled" is counted at the ends of the last ``stalled_periods`` periods (all when None):
    by default the period reported and the one it is compared with, which is all a digest or
    a stats reply shows of it; the trend chart does not chart it.
    """
    _check_bounds(bounds)
    periods = len(bounds) - 1
    first_stalled = 0 if stalled_periods is None else max(0, periods - stalled_periods)
    tallies = await _tally(
        session,
        ws=ws,
        cadence=cadence,
        bounds=bounds,
        now=now,
        channels=channels,
        by_channel=False,
        first_stalled=first_stalled,
    )
    return [
        _figures(bounds[i], bounds[i + 1], tallies.get((i, None)), stalled=i >= first_stalled)
        for i in range(periods)
    ]


async def channel_figures(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    start: datetime,
    end: datetime,
    now: datetime,
    channels: Channels = None,
) -> dict[str, Figures]:
    """The figures for [start, end) of every channel that has any, keyed by channel id."""
    bounds = [start, end]
    _check_bounds(bounds)
    tallies = await _tally(
        session,
        ws=ws,
        cadence=cadence,
        bounds=bounds,
        now=now,
        channels=channels,
        by_channel=True,
        first_stalled=0,
    )
    return {
        channel: _figures(start, end, tally, stalled=True)
        for (_, channel), tally in tallies.items()
        if channel is not None
    }


async def oldest_stalled(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    at: datetime,
    channels: Channels = None,
    limit: int = 10,
) -> list[StalledAt]:
    """The decisions stalled at ``at``, oldest first (the ones a digest names with their owners).

    Judged by each decision's state at ``at``, so one decided since still shows (`StalledAt`
    carries its due date and last activity as they were then).
    """
    return await stalled.oldest_stalled(
        session, ws=ws, cadence=cadence, at=at, channels=channels, limit=limit
    )


async def channels_in_play(
    session: AsyncSession, *, ws: WorkspaceKey, since: datetime | None = None
) -> set[str]:
    """Every channel that can contribute to figures for periods starting at ``since`` or later.

    That is a channel with an open decision, a decision created, decided or dropped since, a
    meeting ended since (or still running), or an action not done before ``since``. The Slack
    layer asks about each one's privacy, so this keeps that list short; ``since`` None means
    every channel ever used (for the export).
    """
    decisions = select(Decision.channel_id).where(Decision.in_workspace(ws))
    meetings = select(Meeting.channel_id).where(Meeting.in_workspace(ws))
    if since is None:
        parts = [decisions, meetings]
    else:
        # One simple, index-friendly part per reason; a single OR over them scans every row.
        parts = [
            _open_decision_channels(ws),
            decisions.where(Decision.created_at >= since),
            decisions.where(Decision.status.in_(DECIDED_STATES), Decision.decided_at >= since),
            decisions.where(
                Decision.status == DecisionStatus.DROPPED, Decision.dropped_at >= since
            ),
            decisions.where(
                Decision.status == DecisionStatus.DECIDED, Decision.review_on.is_not(None)
            ),
            decisions.join(DecisionReview, DecisionReview.decision_id == Decision.id).where(
                DecisionReview.in_workspace(ws), DecisionReview.answered_at >= since
            ),
            meetings.where(or_(Meeting.ended_at.is_(None), Meeting.ended_at >= since)),
            meetings.join(Outcome, Outcome.meeting_id == Meeting.id).where(
                Outcome.in_workspace(ws),
                Outcome.kind == OutcomeKind.ACTION,
                or_(Outcome.done_at.is_(None), Outcome.done_at >= since),
            ),
            # A follow-through action with no meeting is in its decision's channel.
            decisions.join(Outcome, Outcome.decision_id == Decision.id).where(
                Outcome.in_workspace(ws),
                Outcome.meeting_id.is_(None),
                Outcome.kind == OutcomeKind.ACTION,
                or_(Outcome.done_at.is_(None), Outcome.done_at >= since),
            ),
        ]
    found = await session.scalars(union(*parts))
    return set(found.all())


def _open_decision_channels(ws: WorkspaceKey) -> Select[Any]:
    """The channels holding an open decision, by a loose index scan: one seek per channel along
    ``ix_decisions_ws_status_reads`` (workspace, status, channel), where DISTINCT would read the
    entry of every open decision."""
    later = aliased(Decision)
    seen = (
        select(func.min(Decision.channel_id).label("channel_id"))
        .where(Decision.in_workspace(ws), Decision.status == DecisionStatus.OPEN)
        .cte("open_channels", recursive=True)
    )
    following = (
        select(func.min(later.channel_id))
        .where(
            later.enterprise_id == ws.enterprise_id,
            later.team_id == ws.team_id,
            later.status == DecisionStatus.OPEN,
            later.channel_id > seen.c.channel_id,
        )
        .scalar_subquery()
    )
    seen = seen.union_all(select(following).where(seen.c.channel_id.is_not(None)))
    return select(seen.c.channel_id).where(seen.c.channel_id.is_not(None))


# --- the queries --------------------------------------------------------------------------------


def _check_bounds(bounds: Sequence[datetime]) -> None:
    if len(bounds) < 2:
        raise ValueError("bounds need a start and an end")
    if any(b.tzinfo is None for b in bounds):
        raise ValueError("bounds must be aware datetimes")
    # Equal neighbours are allowed: "this week so far" is empty at the stroke of midnight.
    if any(later < earlier for earlier, later in pairwise(bounds)):
        raise ValueError("bounds must be in ascending order")


def _bucket(column: Any, bounds: Sequence[datetime]) -> ColumnElement[int] | None:
    """Which period a timestamp falls in (the column is already filtered to the whole span).

    None for a single period: every row is in period 0, and a constant must not be grouped by
    (PostgreSQL would read a literal 0 in GROUP BY as a column position).
    """
    inner = bounds[1:-1]
    if not inner:
        return None
    return case(
        *[(column < bound, index) for index, bound in enumerate(inner)], else_=len(inner)
    ).label("bucket")


def _in_period(column: Any, bounds: Sequence[datetime]) -> ColumnElement[bool]:
    return and_(column >= bounds[0], column < bounds[-1])


async def _tally(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    bounds: Sequence[datetime],
    now: datetime,
    channels: Channels,
    by_channel: bool,
    first_stalled: int,
) -> _Tallies:
    query = _Grouping(bounds=bounds, channels=channels, by_channel=by_channel)
    tallies: _Tallies = defaultdict(_Tally)

    # Meetings held, split by what they produced.
    with_outcome = has_outcome()
    no_outcome_needed = and_(~with_outcome, Meeting.no_outcome_reason.is_not(None))
    grace_from = now - timedelta(hours=cadence.nudges.outcome_grace_hours)
    awaiting = and_(
        ~with_outcome, Meeting.no_outcome_reason.is_(None), Meeting.ended_at > grace_from
    )
    meetings = query.flow(
        Meeting.ended_at,
        MEETING,
        [
            func.count().label("held"),
            func.count(case((with_outcome, 1))).label("with_outcome"),
            func.count(case((no_outcome_needed, 1))).label("no_outcome_needed"),
            func.count(case((awaiting, 1))).label("awaiting"),
        ],
        Meeting.in_workspace(ws),
    )
    for row in await session.execute(meetings):
        counts = tallies[query.key(row)].counts
        for name in ("held", "with_outcome", "no_outcome_needed", "awaiting"):
            counts[name] += getattr(row, name)

    # Decisions opened, decided and dropped: each counted in the period of its own timestamp.
    # The status test keeps a reopened decision out of "decided"/"dropped" and lets the
    # (enterprise, team, status, …) index narrow the scan.
    flows: list[tuple[str, Any, list[ColumnElement[bool]]]] = [
        ("opened", Decision.created_at, []),
        ("decided", Decision.decided_at, [Decision.status.in_(DECIDED_STATES)]),
        ("dropped", Decision.dropped_at, [Decision.status == DecisionStatus.DROPPED]),
    ]
    for name, column, conditions in flows:
        flow = query.flow(
            column,
            DECISION,
            [func.count().label("n")],
            Decision.in_workspace(ws),
            *conditions,
        )
        for row in await session.execute(flow):
            tallies[query.key(row)].counts[name] += row.n

    for group, median in (await _medians(session, ws=ws, query=query)).items():
        tallies[group].median = median

    await _review_counts(session, ws=ws, cadence=cadence, query=query, tallies=tallies)

    # Overdue actions and stalled decisions are states at each period's end.
    ends = bounds[1:]
    stalled_ends = ends[first_stalled:]
    stalled_at_ends = await stalled.stalled_counts(
        session, ws=ws, cadence=cadence, ends=stalled_ends, channels=channels, by_channel=by_channel
    )
    for (i, channel), value in stalled_at_ends.items():
        if value:
            tallies[(first_stalled + i, channel)].counts["stalled"] += value
    zone = cadence.zone
    overdue = query.states(
        place.SOURCE,
        OUTCOME,
        [_overdue_at(end, end.astimezone(zone).date()) for end in ends],
        Outcome.in_workspace(ws),
        Outcome.kind == OutcomeKind.ACTION,
        Outcome.due_date < ends[-1].astimezone(zone).date(),
        Outcome.created_at < ends[-1],
        or_(Outcome.done_at.is_(None), Outcome.done_at >= ends[0]),
    )
    for row in await session.execute(overdue):
        channel = row.channel if query.by_channel else None
        for i in range(len(ends)):
            value = int(getattr(row, f"at_{i}") or 0)
            if value:
                tallies[(i, channel)].counts["overdue"] += value
    return tallies


@dataclass(frozen=True)
class _Grouping:
    """How one set of figures groups its rows: by period, and by channel when asked."""

    #: Instants, or local days for what is counted by day (a review day).
    bounds: Sequence[Any]
    channels: Channels
    by_channel: bool

    def flow(
        self,
        moment: Any,
        item: Item,
        aggregates: list[Any],
        *where: ColumnElement[bool],
    ) -> Select[Any]:
        """Aggregates of rows whose ``moment`` falls in the periods, per period (and channel)."""
        keys = self.keys(moment, item)
        query = select(*keys, *aggregates).where(*where, _in_period(moment, self.bounds))
        return self.scoped(query, item).group_by(*keys)

    def keys(self, moment: Any, item: Item) -> list[Any]:
        """The grouping columns: the period of ``moment`` (when there are several) and channel
        (all DM items under one key, ``bot.digest.audience.DIRECT_KEY``)."""
        bucket = _bucket(moment, self.bounds)
        keys: list[Any] = [] if bucket is None else [bucket]
        return [*keys, self._channel(item)] if self.by_channel else keys

    def states(
        self,
        source: Any,
        item: Item,
        conditions: list[ColumnElement[bool]],
        *where: ColumnElement[bool],
    ) -> Select[Any]:
        """One count per period end (``at_<i>``) of rows meeting that end's condition."""
        counts = [
            func.count(case((condition, 1))).label(f"at_{i}")
            for i, condition in enumerate(conditions)
        ]
        keys: list[Any] = [self._channel(item)] if self.by_channel else []
        query = self.scoped(select(*keys, *counts).select_from(source).where(*where), item)
        return query.group_by(*keys) if keys else query

    def key(self, row: Any) -> tuple[int, str | None]:
        period = int(row.bucket) if len(self.bounds) > 2 else 0
        return period, (row.channel if self.by_channel else None)

    def scoped(self, query: Select[Any], item: Item) -> Select[Any]:
        audience = audience_of(self.channels)
        if audience is None:
            return query
        return query.where(audience.clause(*item))

    @staticmethod
    def _channel(item: Item) -> Any:
        channel, direct, _ = item
        return channel_key(channel, direct).label("channel")


def first_day_from(moment: datetime, zone: ZoneInfo) -> date:
    """The first local day (in ``zone``) that starts at or after ``moment``: a review day is
    in a period when its start, 00:00 there, is."""
    day = moment.astimezone(zone).date()
    return day if local_moment(day, time(0), zone) >= moment else day + timedelta(days=1)


async def _review_counts(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    query: _Grouping,
    tallies: _Tallies,
) -> None:
    """Reviews due (by review day) and answered (by answer time) in each period (docs/METRICS.md).

    Due: each answer's review day, and each decided decision's review day still waiting.
    Answers: counted by what was said, when it was said.
    """
    days = _Grouping(
        bounds=[first_day_from(b, cadence.zone) for b in query.bounds],
        channels=query.channels,
        by_channel=query.by_channel,
    )
    answered_days = days.flow(
        DecisionReview.due_on,
        DECISION,
        [func.count().label("n")],
        DecisionReview.in_workspace(ws),
        Decision.in_workspace(ws),
        Decision.id == DecisionReview.decision_id,
    )
    waiting_days = days.flow(
        Decision.review_on,
        DECISION,
        [func.count().label("n")],
        Decision.in_workspace(ws),
        Decision.status == DecisionStatus.DECIDED,
    )
    for due in (answered_days, waiting_days):
        for row in await session.execute(due):
            tallies[days.key(row)].counts["reviews_due"] += row.n
    answers = query.flow(
        DecisionReview.answered_at,
        DECISION,
        [
            func.count(case((DecisionReview.answer == answer.value, 1))).label(answer.value)
            for answer in ReviewAnswer
        ],
        DecisionReview.in_workspace(ws),
        Decision.in_workspace(ws),
        Decision.id == DecisionReview.decision_id,
    )
    for row in await session.execute(answers):
        counts = tallies[query.key(row)].counts
        for answer in ReviewAnswer:
            counts[f"reviews_{answer.value}"] += getattr(row, answer.value)


def _overdue_at(end: datetime, end_day: date) -> ColumnElement[bool]:
    """An action past its due day at ``end`` that existed then and was not done by then."""
    return and_(
        Outcome.due_date < end_day,
        Outcome.created_at < end,
        or_(Outcome.done_at.is_(None), Outcome.done_at >= end),
    )


def _duration_seconds(dialect: str) -> ColumnElement[Any]:
    """decided_at − created_at in whole seconds, computed by the database."""
    if dialect == "postgresql":
        return func.round(func.extract("epoch", Decision.decided_at - Decision.created_at))
    return func.round(
        (func.julianday(Decision.decided_at) - func.julianday(Decision.created_at)) * 86400
    )


async def _medians(
    session: AsyncSession, *, ws: WorkspaceKey, query: _Grouping
) -> dict[tuple[int, str | None], timedelta]:
    """Median time to decision of each (period, channel) group that decided anything."""
    dialect = session.get_bind().dialect.name
    seconds = _duration_seconds(dialect)
    where = (
        Decision.in_workspace(ws),
        Decision.status.in_(DECIDED_STATES),
        Decision.decided_at.is_not(None),
    )
    result: dict[tuple[int, str | None], timedelta] = {}
    if dialect == "postgresql":
        median = func.percentile_cont(0.5).within_group(seconds).label("median")
        grouped = query.flow(Decision.decided_at, DECISION, [median], *where)
        for row in await session.execute(grouped):
            # Without group keys an empty set still yields one row, with a NULL median.
            if row.median is not None:
                result[query.key(row)] = timedelta(seconds=float(row.median))
        return result
    # SQLite has no percentile function: fetch just the durations, sorted within each group.
    keys = query.keys(Decision.decided_at, DECISION)
    durations = query.scoped(
        select(*keys, seconds.label("seconds"))
        .where(*where, _in_period(Decision.decided_at, query.bounds))
        .order_by(*keys, seconds),
        DECISION,
    )
    groups: dict[tuple[int, str | None], list[float]] = defaultdict(list)
    for row in await session.execute(durations):
        groups[query.key(row)].append(float(row.seconds))
    for group, values in groups.items():
        result[group] = timedelta(seconds=_median_of_sorted(values))
    return result


def _median_of_sorted(values: Sequence[float]) -> float:
    """The middle value, or the mean of the two middle ones (as percentile_cont(0.5) does)."""
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2


def _figures(start: datetime, end: datetime, tally: _Tally | None, *, stalled: bool) -> Figures:
    if tally is None:
        return Figures(start=start, end=end, stalled=0 if stalled else None)
    counts = tally.counts
    return Figures(
        start=start,
        end=end,
        meetings_held=counts["held"],
        meetings_with_outcome=counts["with_outcome"],
        meetings_no_outcome_needed=counts["no_outcome_needed"],
        meetings_awaiting_outcome=counts["awaiting"],
        decisions_opened=counts["opened"],
        decisions_decided=counts["decided"],
        decisions_dropped=counts["dropped"],
        median_time_to_decision=tally.median,
        stalled=counts["stalled"] if stalled else None,
        overdue_actions=counts["overdue"],
        reviews_due=counts["reviews_due"],
        reviews_kept=counts["reviews_kept"],
        reviews_amended=counts["reviews_amended"],
        reviews_reversed=counts["reviews_reversed"],
        reviews_too_early=counts["reviews_too_early"],
    )


# --- follow-through (issue 17) and topics decided again (issue 18) -------------------------------

#: Decisions whose follow-through is owed and counted: decided ones, and reversed ones (decided,
#: followed through or not, then found not to hold). A superseded decision is left out: the
#: decision that replaced it is the one followed through.
FOLLOWED_STATES = (DecisionStatus.DECIDED.value, DecisionStatus.REVERSED.value)
#: How recent a decide must be for undoing it to count as deciding the topic again.
DECIDED_AGAIN_WITHIN = timedelta(days=90)
#: The history entries that undo a decide: a supersede, a reopen.
DECIDED_AGAIN_ACTIONS = ("superseded", "reopened")


@dataclass(frozen=True, slots=True)
class FollowThrough:
    """The follow-through figures of one period [start, end) (docs/METRICS.md)."""

    #: Decisions whose ``followthrough_after_days`` ran out in the period …
    due: int = 0
    #: … and of those, the ones with an action or "no action needed" by the period's end.
    followed: int = 0
    #: Median of (last linked action's done_at − decided_at), over decisions done in the period.
    median_decision_to_done: timedelta | None = None
    #: Decisions done in the period (the median's count).
    done: int = 0
    #: Supersedes and reopenings in the period of decisions decided within 90 days before.
    decided_again: int = 0

    @property
    def rate_percent(self) -> int | None:
        return percent_half_up(self.followed, self.due) if self.due else None


def followthrough_window(
    start: datetime, end: datetime, cadence: CadenceConfig
) -> tuple[datetime, datetime]:
    """The decide moments (lo, hi] whose follow-through time runs out within [start, end).

    A decision decided at ``d`` is owed its next step once ``followthrough_after_days`` working
    days have followed (`bot.cadence.stall.stall_moment`); ``d <= activity_cutoff(t)`` exactly
    when that has happened by ``t``.
    """
    calendar = working_calendar(cadence)
    days = cadence.decisions.followthrough_after_days
    return activity_cutoff(start, calendar, days), activity_cutoff(end, calendar, days)


def _followed_by(end: datetime) -> ColumnElement[bool]:
    """The decision had an action, or its owner said none was needed, before ``end``."""
    return or_(
        Decision.no_action_at < end,
        exists().where(
            Outcome.decision_id == Decision.id,
            Outcome.kind == OutcomeKind.ACTION,
            Outcome.created_at < end,
        ),
    )


async def follow_through_figures(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    bounds: Sequence[datetime],
    channels: Channels = None,
    by_channel: bool = False,
) -> dict[tuple[int, str | None], FollowThrough]:
    """`FollowThrough` per (period, channel or None) for the consecutive periods of ``bounds``."""
    _check_bounds(bounds)
    query = _Grouping(bounds=bounds, channels=channels, by_channel=by_channel)
    found: dict[tuple[int, str | None], dict[str, Any]] = defaultdict(dict)

    # Follow-through rate: per period, the decisions whose time ran out in it.
    for i, (start, end) in enumerate(pairwise(bounds)):
        lo, hi = followthrough_window(start, end, cadence)
        keys: list[Any] = (
            [channel_key(Decision.channel_id, Decision.direct).label("channel")]
            if by_channel
            else []
        )
        owed = query.scoped(
            select(
                *keys,
                func.count().label("due"),
                func.count(case((_followed_by(end), 1))).label("followed"),
            ).where(
                Decision.in_workspace(ws),
                Decision.status.in_(FOLLOWED_STATES),
                Decision.decided_at > lo,
                Decision.decided_at <= hi,
            ),
            DECISION,
        )
        if keys:
            owed = owed.group_by(*keys)
        for row in await session.execute(owed):
            if row.due:
                key = (i, row.channel if by_channel else None)
                found[key]["due"] = row.due
                found[key]["followed"] = row.followed

    for key, (count, median) in (await _decision_to_done(session, ws=ws, query=query)).items():
        found[key]["done"] = count
        found[key]["median_decision_to_done"] = median

    dialect = session.get_bind().dialect.name
    for row in await session.execute(_decided_again(ws=ws, query=query, dialect=dialect)):
        found[query.key(row)]["decided_again"] = row.n

    return {key: FollowThrough(**values) for key, values in found.items()}


async def _decision_to_done(
    session: AsyncSession, *, ws: WorkspaceKey, query: _Grouping
) -> dict[tuple[int, str | None], tuple[int, timedelta]]:
    """(count, median) of decision-to-done per group, over decisions whose last linked action
    was done in the periods (every action done, the latest done_at in the span)."""
    bounds = query.bounds
    done_in_span = select(Outcome.decision_id).where(
        Outcome.in_workspace(ws),
        Outcome.kind == OutcomeKind.ACTION,
        Outcome.decision_id.is_not(None),
        _in_period(Outcome.done_at, bounds),
    )
    last_done = func.max(Outcome.done_at)
    finished = (
        select(
            Decision.id.label("id"),
            Decision.channel_id.label("channel_id"),
            Decision.direct.label("direct"),
            Decision.owner_id.label("owner_id"),
            Decision.decided_at.label("decided_at"),
            last_done.label("last_done"),
        )
        .join(Outcome, Outcome.decision_id == Decision.id)
        .where(
            Decision.in_workspace(ws),
            Decision.status.in_(DECIDED_STATES),
            Decision.decided_at.is_not(None),
            Decision.id.in_(done_in_span),
            Outcome.kind == OutcomeKind.ACTION,
        )
        .group_by(
            Decision.id,
            Decision.channel_id,
            Decision.direct,
            Decision.owner_id,
            Decision.decided_at,
        )
        .having(
            func.count() == func.count(Outcome.done_at),
            last_done >= bounds[0],
            last_done < bounds[-1],
            last_done >= Decision.decided_at,
        )
        .subquery()
    )
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        seconds: ColumnElement[Any] = func.extract(
            "epoch", finished.c.last_done - finished.c.decided_at
        )
    else:
        seconds = (func.julianday(finished.c.last_done) - func.julianday(finished.c.decided_at)) * (
            86400
        )
    seconds = func.round(seconds)
    item: Item = (finished.c.channel_id, finished.c.direct, finished.c.owner_id)
    group = query.keys(finished.c.last_done, item)
    result: dict[tuple[int, str | None], tuple[int, timedelta]] = {}
    scoped = query.scoped
    if dialect == "postgresql":
        median = func.percentile_cont(0.5).within_group(seconds).label("median")
        rows: Select[Any] = select(*group, func.count().label("n"), median).select_from(finished)
        rows = scoped(rows, item)
        if group:
            rows = rows.group_by(*group)
        for row in await session.execute(rows):
            if row.n:
                result[query.key(row)] = (row.n, timedelta(seconds=float(row.median)))
        return result
    listed = scoped(
        select(*group, seconds.label("seconds")).select_from(finished).order_by(*group, seconds),
        item,
    )
    groups: dict[tuple[int, str | None], list[float]] = defaultdict(list)
    for row in await session.execute(listed):
        groups[query.key(row)].append(float(row.seconds))
    for key, values in groups.items():
        result[key] = (len(values), timedelta(seconds=_median_of_sorted(values)))
    return result


def _decided_again(*, ws: WorkspaceKey, query: _Grouping, dialect: str) -> Select[Any]:
    """Supersedes and reopenings per group, of decisions decided within 90 days before."""
    undo = aliased(DecisionEvent)
    decided = aliased(DecisionEvent)
    days = DECIDED_AGAIN_WITHIN.days
    # Each row's own window, so the arithmetic is the database's: an interval on PostgreSQL,
    # Julian days on SQLite (its timestamps are text).
    if dialect == "postgresql":
        not_too_old = decided.at >= undo.at - literal_column(f"interval '{days} days'")
    else:
        not_too_old = func.julianday(decided.at) >= func.julianday(undo.at) - days
    recently_decided = exists().where(
        decided.decision_id == undo.decision_id,
        decided.action == "decided",
        decided.at <= undo.at,
        not_too_old,
    )
    keys = query.keys(undo.at, DECISION)
    counted = (
        select(*keys, func.count().label("n"))
        .select_from(undo)
        .join(Decision, Decision.id == undo.decision_id)
        .where(
            undo.enterprise_id == ws.enterprise_id,
            undo.team_id == ws.team_id,
            undo.action.in_(DECIDED_AGAIN_ACTIONS),
            _in_period(undo.at, query.bounds),
            recently_decided,
        )
    )
    scoped: Select[Any] = query.scoped(counted, DECISION)
    return scoped.group_by(*keys) if keys else scoped


@dataclass(frozen=True, slots=True)
class Orphan:
    """A decided decision with no next step past its ``followthrough_after_days``."""

    number: int
    title: str
    owner_id: str
    channel_id: str
    decided_at: datetime
    #: Recorded in a DM or group DM (only its owner's numbers show it).
    direct: bool = False

    @property
    def ref(self) -> str:
        return f"D-{self.number}"


async def orphans_at(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    at: datetime,
    channels: Channels = None,
    limit: int = 10,
) -> tuple[int, list[Orphan]]:
    """How many decisions are orphans at ``at`` (from their state now), and the oldest ones.

    An orphan: decided (not superseded, reversed or reopened), decided at least
    ``followthrough_after_days`` working days before ``at``, with no action and no "no action
    needed".
    """
    calendar = working_calendar(cadence)
    cutoff = activity_cutoff(at, calendar, cadence.decisions.followthrough_after_days)
    # The decisions with an action, listed once (NOT IN over a set), rather than an EXISTS per
    # decided decision: the count reads every decided decision of the workspace's history.
    with_action = select(Outcome.decision_id).where(
        Outcome.in_workspace(ws),
        Outcome.kind == OutcomeKind.ACTION,
        Outcome.decision_id.is_not(None),
    )
    where = [
        Decision.in_workspace(ws),
        # Written as the partial index ix_decisions_ws_orphans says it (a literal, not a bound
        # parameter), so a prepared statement's generic plan can still use it: the count reads
        # that index alone, and the actions' ids from ix_outcomes_ws_kind_decision.
        Decision.status == literal_column(f"'{DecisionStatus.DECIDED.value}'"),
        Decision.no_action_at.is_(None),
        Decision.decided_at <= cutoff,
        Decision.id.not_in(with_action),
    ]
    audience = audience_of(channels)
    if audience is not None:
        where.append(audience.clause(*DECISION))
    total = int(await session.scalar(select(func.count()).select_from(Decision).where(*where)) or 0)
    if not total:
        return 0, []
    rows = await session.execute(
        select(
            Decision.number,
            Decision.title,
            Decision.owner_id,
            Decision.channel_id,
            Decision.direct,
            Decision.decided_at,
        )
        .where(*where)
        .order_by(Decision.decided_at, Decision.number)
        .limit(limit)
    )
    return total, [
        Orphan(
            number=r.number,
            title=r.title,
            owner_id=r.owner_id,
            channel_id=r.channel_id,
            decided_at=r.decided_at,
            direct=r.direct,
        )
        for r in rows
    ]
