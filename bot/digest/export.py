"""A workspace's decisions (with their history), meetings and outcomes as spreadsheet-ready CSV.

Once digests have been sent, a fourth file puts the figures each digest reported beside the
same figures as they stand now (`load_reported`). Files rather than one zip: each opens with a
double click in Excel, Numbers or Google Sheets, and Slack previews them. They are UTF-8 with a
byte-order mark (without it Excel reads accented names as mojibake), times are local to the
workspace and say which zone, and any cell a person typed that a spreadsheet would run as a
formula (``=``, ``+``, ``-``, ``@``) is prefixed with an apostrophe so it shows as the text it is.

Loading (one transaction, plain column tuples so 100k decisions stay light) is separate from
rendering (pure), so the Slack layer can look up people's names in between.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, false, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.config import CadenceConfig
from bot.decisions.models import Decision, DecisionEvent
from bot.digest import metrics, reports, schedule
from bot.digest.audience import DECISION, MEETING, OUTCOME, Audience, Scope, audience_of
from bot.digest.metrics import Figures, FollowThrough
from bot.digest.reports import Reported
from bot.digest.schedule import Period
from bot.meetings import place
from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.workspace import WorkspaceKey

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A result row of plain columns, read by attribute name.
_Row = Any


@dataclass(frozen=True, slots=True)
class ExportFile:
    filename: str
    title: str
    content: bytes


@dataclass
class ExportData:
    """Everything one export holds, as loaded; ``people`` are the user ids it mentions."""

    decisions: list[_Row]
    events: dict[int, list[_Row]]
    meetings: list[_Row]
    outcomes: list[_Row]
    people: set[str] = field(default_factory=set)
    #: Each digest report the reader may see, with its week's figures as they are now.
    reported: list[tuple[Reported, Figures]] = field(default_factory=list)
    #: The last weeks' follow-through figures (issue 17), oldest first.
    follow_through: list[tuple[Period, FollowThrough]] = field(default_factory=list)


async def load_export(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    channels: Scope,
    only: Select[int] | None = None,
) -> ExportData:
    """The rows of one workspace, kept to ``channels`` when given: the reader's visible ones,
    and the DM items the reader owns (``bot.digest.audience``).

    ``only``, a query of decision ids (a search's matches), keeps the decisions and their
    history to those; meetings and outcomes are then left out.
    """
    decision_query = (
        select(
            Decision.id,
            Decision.number,
            Decision.title,
            Decision.status,
            Decision.owner_id,
            Decision.creator_id,
            Decision.channel_id,
            Decision.direct,
            Decision.meeting_id,
            Decision.created_at,
            Decision.due_date,
            Decision.decided_at,
            Decision.dropped_at,
            Decision.resolution,
            Decision.drop_reason,
            Decision.context,
            Decision.last_activity_at,
            Decision.source_permalink,
        )
        .where(Decision.in_workspace(ws))
        .order_by(Decision.number)
    )
    event_query = (
        select(
            DecisionEvent.decision_id,
            DecisionEvent.at,
            DecisionEvent.actor_id,
            DecisionEvent.action,
            DecisionEvent.detail,
        )
        .join(Decision, Decision.id == DecisionEvent.decision_id)
        .where(DecisionEvent.in_workspace(ws), Decision.in_workspace(ws))
        .order_by(DecisionEvent.decision_id, DecisionEvent.id)
    )
    meeting_query = (
        select(
            Meeting.id,
            Meeting.number,
            Meeting.title,
            Meeting.channel_id,
            Meeting.direct,
            Meeting.organizer_id,
            Meeting.started_at,
            Meeting.ended_at,
            Meeting.no_outcome_reason,
            Meeting.no_outcome_by,
        )
        .where(Meeting.in_workspace(ws))
        .order_by(Meeting.number)
    )
    outcome_query = (
        select(
            Outcome.meeting_id,
            Meeting.number.label("meeting_number"),
            Meeting.title.label("meeting_title"),
            # Its meeting's conversation, else (a follow-through action with no meeting) its
            # decision's.
            place.CHANNEL.label("channel_id"),
            place.DIRECT.label("direct"),
            Outcome.kind,
            Outcome.number,
            Outcome.text,
            Outcome.owner_id,
            Outcome.due_date,
            Outcome.done_at,
            Outcome.done_by,
            Outcome.creator_id,
            Outcome.created_at,
            Outcome.source_permalink,
            place.PlaceDecision.number.label("decision_number"),
        )
        .select_from(place.SOURCE)
        .where(Outcome.in_workspace(ws))
        .order_by(Meeting.number.is_(None), Meeting.number, Outcome.id)
    )
    if only is not None:
        decision_query = decision_query.where(Decision.id.in_(only))
        event_query = event_query.where(Decision.id.in_(only))
        meeting_query = meeting_query.where(false())
        outcome_query = outcome_query.where(false())
    audience = audience_of(channels)
    if audience is not None:
        decision_query = decision_query.where(audience.clause(*DECISION))
        event_query = event_query.where(audience.clause(*DECISION))
        meeting_query = meeting_query.where(audience.clause(*MEETING))
        outcome_query = outcome_query.where(audience.clause(*OUTCOME))

    decisions = list((await session.execute(decision_query)).all())
    events: dict[int, list[_Row]] = defaultdict(list)
    for event in await session.execute(event_query):
        events[event.decision_id].append(event)
    meetings = list((await session.execute(meeting_query)).all())
    outcomes = list((await session.execute(outcome_query)).all())

    people: set[str] = set()
    for d in decisions:
        people.update((d.owner_id, d.creator_id))
    for history in events.values():
        people.update(e.actor_id for e in history)
    for m in meetings:
        people.update(p for p in (m.organizer_id, m.no_outcome_by) if p)
    for o in outcomes:
        people.update(p for p in (o.owner_id, o.done_by, o.creator_id) if p)
    return ExportData(
        decisions=decisions,
        events=dict(events),
        meetings=meetings,
        outcomes=outcomes,
        people=people,
    )


async def load_follow_through(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    channels: Scope,
    now: datetime,
    weeks: int = schedule.TREND_WEEKS,
) -> list[tuple[Period, FollowThrough]]:
    """Follow-through figures of the last ``weeks`` whole digest weeks before ``now``."""
    periods = schedule.weeks_ending(schedule.reported_week(now, cadence), weeks, cadence)
    found = await metrics.follow_through_figures(
        session, ws=ws, cadence=cadence, bounds=schedule.bounds_of(periods), channels=channels
    )
    return [(p, found.get((i, None), FollowThrough())) for i, p in enumerate(periods)]


async def load_reported(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    channels: Collection[str] | Audience,
    now: datetime,
) -> list[tuple[Reported, Figures]]:
    """The stored digest reports a reader who may see ``channels`` may see, each with its
    week's figures as they stand at ``now``, over the same channels the report covered.

    A person's report may hold their DM items (``Audience.covers``): only they read it again.
    """
    covered = channels.covers() if isinstance(channels, Audience) else frozenset(channels)
    shown = [r for r in await reports.every_report(session, ws=ws) if r.readable_by(covered)]
    by_scope: dict[frozenset[str], set[tuple[datetime, datetime]]] = defaultdict(set)
    for report in shown:
        by_scope[report.channels].add((report.figures.start, report.figures.end))
    live: dict[tuple[frozenset[str], datetime, datetime], Figures] = {}
    for scope, periods in by_scope.items():
        # Weeks that follow one another are one series (a few queries for any number of them).
        for run in _consecutive_runs(sorted(periods)):
            bounds = [run[0][0], *(end for _, end in run)]
            series = await metrics.series_figures(
                session,
                ws=ws,
                cadence=cadence,
                bounds=bounds,
                now=now,
                channels=Audience.covering(scope),
                stalled_periods=None,
            )
            for (start, end), figures in zip(run, series, strict=True):
                live[(scope, start, end)] = figures
    return [(r, live[(r.channels, r.figures.start, r.figures.end)]) for r in shown]


def _consecutive_runs(
    periods: list[tuple[datetime, datetime]],
) -> list[list[tuple[datetime, datetime]]]:
    runs: list[list[tuple[datetime, datetime]]] = []
    for period in periods:
        if runs and runs[-1][-1][1] == period[0]:
            runs[-1].append(period)
        else:
            runs.append([period])
    return runs


def render_export(
    data: ExportData,
    *,
    zone: ZoneInfo,
    today: date,
    people: Mapping[str, str] | None = None,
    channel_names: Mapping[str, str] | None = None,
    decisions_only: bool = False,
) -> list[ExportFile]:
    """decisions.csv, meetings.csv and outcomes.csv; names shown where the maps have them.

    ``decisions_only``: decisions.csv alone (a filtered export).
    """
    labels = _Labels(zone=zone, people=people or {}, channels=channel_names or {})
    meeting_numbers = {m.id: m.number for m in data.meetings}
    outcome_counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for o in data.outcomes:
        outcome_counts[o.meeting_id][o.kind] += 1
    stamp = today.isoformat()
    digests = (
        [
            ExportFile(
                filename=f"followthrough-digests-{stamp}.csv",
                title="Digests: as reported and as now",
                content=_csv(_digest_rows(data, labels)),
            )
        ]
        if data.reported
        else []
    )
    decisions = ExportFile(
        filename=f"followthrough-decisions-{stamp}.csv",
        title="Decisions",
        content=_csv(_decision_rows(data, labels, meeting_numbers)),
    )
    if decisions_only:
        return [decisions]
    return [
        decisions,
        ExportFile(
            filename=f"followthrough-meetings-{stamp}.csv",
            title="Meetings",
            content=_csv(_meeting_rows(data, labels, outcome_counts)),
        ),
        ExportFile(
            filename=f"followthrough-outcomes-{stamp}.csv",
            title="Meeting outcomes",
            content=_csv(_outcome_rows(data, labels)),
        ),
        *digests,
        *(
            [
                ExportFile(
                    filename=f"followthrough-follow-through-{stamp}.csv",
                    title="Follow-through by week",
                    content=_csv(_follow_through_rows(data)),
                )
            ]
            if data.follow_through
            else []
        ),
    ]


def _follow_through_rows(data: ExportData) -> Iterable[list[str]]:
    """One row per week: the follow-through numbers as docs/METRICS.md defines them."""
    yield [
        "Week",
        "First day",
        "Last day",
        "Decisions owed a next step",
        "Followed through by the week's end",
        "Follow-through rate (%)",
        "Decisions done",
        "Median decision to done (hours)",
        "Topics decided again",
    ]
    for period, f in data.follow_through:
        yield [
            period.key,
            period.first_day.isoformat(),
            period.last_day.isoformat(),
            str(f.due),
            str(f.followed),
            _number(f.rate_percent),
            str(f.done),
            _number(_hours(f.median_decision_to_done)),
            str(f.decided_again),
        ]


@dataclass(frozen=True)
class _Labels:
    zone: ZoneInfo
    people: Mapping[str, str]
    channels: Mapping[str, str]

    def person(self, user_id: str | None) -> str:
        if not user_id:
            return ""
        name = self.people.get(user_id)
        return _cell(f"{name} ({user_id})") if name else user_id

    def channel(self, channel_id: str, *, direct: bool = False) -> str:
        """A channel, named where known; a DM or group DM is "direct message", never its id."""
        if direct or channel_id[:1] == "D":
            return "direct message"
        name = self.channels.get(channel_id)
        return _cell(f"#{name} ({channel_id})") if name else channel_id

    def recipient(self, recipient: str) -> str:
        """A person (their DM) or a channel, named where known."""
        return self.person(recipient) if recipient[:1] in ("U", "W") else self.channel(recipient)

    def moment(self, at: datetime | None) -> str:
        return at.astimezone(self.zone).strftime("%Y-%m-%d %H:%M") if at else ""

    def zoned(self, heading: str) -> str:
        return f"{heading} ({self.zone.key})"


def _decision_rows(
    data: ExportData, labels: _Labels, meeting_numbers: Mapping[int, int]
) -> Iterable[list[str]]:
    yield [
        "Decision",
        "Title",
        "Status",
        "Owner",
        "Recorded by",
        "Channel",
        "Meeting",
        labels.zoned("Created"),
        "Due",
        labels.zoned("Decided"),
        labels.zoned("Dropped"),
        "Resolution",
        "Drop reason",
        "Context",
        labels.zoned("Last activity"),
        "Source message",
        "History",
    ]
    for d in data.decisions:
        meeting = meeting_numbers.get(d.meeting_id) if d.meeting_id else None
        history = "\n".join(_event_line(e, labels) for e in data.events.get(d.id, []))
        yield [
            f"D-{d.number}",
            _cell(d.title),
            d.status,
            labels.person(d.owner_id),
            labels.person(d.creator_id),
            labels.channel(d.channel_id, direct=d.direct),
            f"M-{meeting}" if meeting else "",
            labels.moment(d.created_at),
            d.due_date.isoformat() if d.due_date else "",
            labels.moment(d.decided_at),
            labels.moment(d.dropped_at),
            _cell(d.resolution),
            _cell(d.drop_reason),
            _cell(d.context),
            labels.moment(d.last_activity_at),
            d.source_permalink or "",
            _cell(history),
        ]


def _snoozed_until(detail: Mapping[str, Any]) -> str:
    """`` until 2026-11-30 09:00 (Europe/Berlin)``: the end on the snoozer's clock."""
    try:
        until = datetime.fromisoformat(str(detail["until"]))
        zone = ZoneInfo(str(detail.get("zone") or "UTC"))
    except (KeyError, ValueError, ZoneInfoNotFoundError):
        return ""
    return f" until {until.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


def _event_line(event: _Row, labels: _Labels) -> str:
    detail: dict[str, Any] = event.detail or {}
    match event.action:
        case "created":
            due = f", due {detail['due']}" if detail.get("due") else ""
            what = f"recorded it for {labels.person(detail.get('owner') or event.actor_id)}{due}"
        case "assigned":
            what = (
                f"reassigned it from {labels.person(detail.get('from'))} "
                f"to {labels.person(detail.get('to'))}"
            )
        case "due_changed":
            what = (
                f"set the due date to {detail['to']}"
                if detail.get("to")
                else "cleared the due date"
            )
        case "decided":
            what = f"decided: {detail.get('resolution', '')}"
        case "dropped":
            what = f"dropped it ({detail['reason']})" if detail.get("reason") else "dropped it"
        case "reopened":
            what = "reopened it"
        case "snoozed":
            what = "snoozed reminders" + _snoozed_until(detail)
        case "noted":
            what = f"noted: {detail.get('text', '')}"
        case other:
            what = other
    return f"{labels.moment(event.at)} {labels.person(event.actor_id)} {what}"


def _meeting_rows(
    data: ExportData, labels: _Labels, outcome_counts: Mapping[int, Mapping[str, int]]
) -> Iterable[list[str]]:
    yield [
        "Meeting",
        "Title",
        "Channel",
        "Organizer",
        labels.zoned("Started"),
        labels.zoned("Ended"),
        "Outcomes",
        "Actions",
        "Decisions",
        "Notes",
        "No outcome needed",
        "Marked by",
    ]
    for m in data.meetings:
        counts = outcome_counts.get(m.id, {})
        yield [
            f"M-{m.number}",
            _cell(m.title),
            labels.channel(m.channel_id, direct=m.direct),
            labels.person(m.organizer_id),
            labels.moment(m.started_at),
            labels.moment(m.ended_at),
            str(sum(counts.values())),
            str(counts.get(OutcomeKind.ACTION, 0)),
            str(counts.get(OutcomeKind.DECISION, 0)),
            str(counts.get(OutcomeKind.NOTE, 0)),
            _cell(m.no_outcome_reason),
            labels.person(m.no_outcome_by),
        ]


def _outcome_rows(data: ExportData, labels: _Labels) -> Iterable[list[str]]:
    yield [
        "Meeting",
        "Meeting title",
        "Channel",
        "Kind",
        "Action",
        "Decision",
        "Text",
        "Owner",
        "Due",
        labels.zoned("Done"),
        "Done by",
        "Recorded by",
        labels.zoned("Recorded"),
        "Source message",
    ]
    for o in data.outcomes:
        yield [
            f"M-{o.meeting_number}" if o.meeting_number is not None else "",
            _cell(o.meeting_title),
            labels.channel(o.channel_id, direct=o.direct),
            o.kind,
            f"A-{o.number}" if o.number is not None else "",
            f"D-{o.decision_number}" if o.decision_number is not None else "",
            _cell(o.text),
            labels.person(o.owner_id),
            o.due_date.isoformat() if o.due_date else "",
            labels.moment(o.done_at),
            labels.person(o.done_by),
            labels.person(o.creator_id),
            labels.moment(o.created_at),
            o.source_permalink or "",
        ]


_DIGEST_FIGURES: list[tuple[str, Any]] = [
    ("Meetings held", lambda f: f.meetings_held),
    ("Outcome rate (%)", lambda f: f.outcome_percent),
    ("Decisions opened", lambda f: f.decisions_opened),
    ("Decisions decided", lambda f: f.decisions_decided),
    ("Decisions dropped", lambda f: f.decisions_dropped),
    ("Median time to decide (hours)", lambda f: _hours(f.median_time_to_decision)),
    ("Overdue actions", lambda f: f.overdue_actions),
    ("Stalled decisions", lambda f: f.stalled),
    ("Reviews due", lambda f: f.reviews_due),
    ("Reviews held", lambda f: f.reviews_held),
    ("Reviews reversed", lambda f: f.reviews_reversed),
    ("Reversal rate (%)", lambda f: f.reversal_percent),
]


def _digest_rows(data: ExportData, labels: _Labels) -> Iterable[list[str]]:
    yield [
        "Week",
        "First day",
        "Last day",
        "Sent to",
        labels.zoned("Sent"),
        *(f"{name}, {when}" for name, _ in _DIGEST_FIGURES for when in ("reported", "now")),
    ]
    for report, now in data.reported:
        values = []
        for _, pick in _DIGEST_FIGURES:
            values += [_number(pick(report.figures)), _number(pick(now))]
        yield [
            report.period_key,
            report.first_day.isoformat(),
            report.last_day.isoformat(),
            labels.recipient(report.recipient),
            labels.moment(report.sent_at),
            *values,
        ]


def _hours(span: timedelta | None) -> Decimal | None:
    if span is None:
        return None
    hours = Decimal(repr(span.total_seconds())) / 3600
    return hours.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _number(value: object) -> str:
    return "" if value is None else str(value)


def _cell(text: str | None) -> str:
    """Text as a spreadsheet should show it: never run as a formula."""
    if not text:
        return ""
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _csv(rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")
