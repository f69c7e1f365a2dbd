"""Block Kit for the managers' numbers: the weekly digest and /hygiene stats share one layout.

This period against the previous one with the change, a line per channel, and the oldest
stalled decisions with their owners and a link to each card. Everything is capped with "and N
more" so any amount of data fits in one message, and a period with nothing in it says so in a
sentence instead of showing a wall of zeros.

Periods are named by their dates ("Week of Mon 2 Mar"), never "this week" for one that is
over. Where the previous period was reported before (the last digest) and a figure has changed
since, it says so: "week before 60%, revised from 50%". Percentages are rounded half up, and a
count says "1 meeting", "2 meetings", "no meetings".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from bot.calendars.metrics import CalendarCounts
from bot.digest.audience import DIRECT_KEY
from bot.digest.metrics import Figures, FollowThrough, Orphan
from bot.slack import limits
from bot.slack.blocks.kit import Block, capped, context, divider, header, line_sections, section
from bot.slack.text import (
    conversation_text,
    date_text,
    escape,
    mention,
    render_user_text,
    truncate,
)

#: Channels listed one per line before "and N more".
CHANNEL_LINES = 15
#: Stalled decisions named before "and N more".
STALLED_LINES = 10
TITLE_CHARS = 120


@dataclass(frozen=True, slots=True)
class StalledItem:
    """A stalled decision as the digest names it; ``link`` is its card's permalink when known."""

    ref: str
    title: str
    owner_id: str
    channel_id: str
    created_at: datetime
    due_date: date | None
    last_activity_at: datetime
    #: What it is now: a decision stalled at the period's end may have been decided since.
    status_now: str = "open"
    link: str | None = None
    #: Recorded in a DM or group DM (only its owner's numbers show it).
    direct: bool = False


@dataclass(frozen=True)
class FollowThroughReport:
    """Follow-through of decisions in the two periods compared, and the orphans now."""

    current: FollowThrough
    previous: FollowThrough
    #: ``followthrough_after_days``: working days a decision may wait for its next step.
    after_days: int
    orphans_total: int = 0
    orphans: Sequence[Orphan] = ()
    channels: Mapping[str, FollowThrough] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (
            self.orphans_total
            or any(f.due or f.done or f.decided_again for f in (self.current, self.previous))
        )


@dataclass(frozen=True)
class Report:
    """What a digest or a stats reply shows; built by the Slack layer, rendered here.

    ``current_label`` names the period ("Week of Mon 2 Mar"), ``previous_label`` the one it is
    compared with as the figures say it ("week before"), and ``comparison`` the same with its
    dates for the heading. ``previous_reported`` is what an earlier digest said about the
    previous period, when one did.
    """

    title: str
    period_text: str
    current_label: str
    previous_label: str
    comparison: str
    current: Figures
    previous: Figures
    scope_note: str
    zone: ZoneInfo
    previous_reported: Figures | None = None
    #: When the stalled count was taken, said after it: "as the week ended", "now".
    stalled_when: str = ""
    channels: Mapping[str, Figures] = field(default_factory=dict)
    stalled: Sequence[StalledItem] = ()
    #: (channel, this period, the one before) for channels that follow a calendar.
    calendar: Sequence[tuple[str, CalendarCounts, CalendarCounts]] = ()
    follow_through: FollowThroughReport | None = None
    footer: str = ""


def report_blocks(report: Report) -> list[Block]:
    blocks: list[Block] = [
        header(report.title),
        context(f"{report.period_text} · {report.scope_note}"),
    ]
    now, before = report.current, report.previous
    if now.is_empty and before.is_empty:
        blocks.append(
            section(
                "Nothing to report: no meeting ended, no decision was opened, decided or "
                "dropped, and nothing is stalled or overdue. `/decision new …` and "
                "`/meeting start …` get things on the record."
            )
        )
        return _finish(blocks, report)
    if now.is_quiet:
        blocks.append(
            section(
                f"_{report.current_label}: no meeting ended and no decision was opened, "
                "decided or dropped._"
            )
        )
    blocks.append(
        section(f"*{report.current_label}* against {report.comparison}:", fields=_fields(report))
    )
    if now.has_reviews or before.has_reviews:
        blocks.append(section(_reviews_line(report)))
    notes = [note for note in (_meeting_notes(now), _revision_note(report)) if note]
    if notes:
        blocks.append(context(" ".join(notes)))

    lines = [_channel_line(channel, figures) for channel, figures in _ranked(report.channels)]
    if lines:
        blocks.append(divider())
        blocks.append(section("*By channel*"))
        blocks += line_sections(lines[:CHANNEL_LINES])
        if len(lines) > CHANNEL_LINES:
            more = len(lines) - CHANNEL_LINES
            blocks.append(context(f"…and {plural(more, 'more channel')}."))

    if report.calendar:
        blocks.append(divider())
        blocks.append(section("*Meetings on the calendar / recorded / with outcomes*"))
        blocks += line_sections(
            [
                _calendar_line(channel, current, previous, report.previous_label)
                for channel, current, previous in report.calendar[:CHANNEL_LINES]
            ]
        )

    blocks.append(divider())
    stalled = now.stalled or 0
    if stalled:
        when = f" {report.stalled_when}" if report.stalled_when else ""
        blocks.append(section(f"*Oldest stalled decisions* ({stalled} stalled{when})"))
        blocks += line_sections(
            [
                _stalled_line(s, report.zone, report.current.end)
                for s in report.stalled[:STALLED_LINES]
            ]
        )
        more = stalled - min(len(report.stalled), STALLED_LINES)
        if more > 0:
            blocks.append(context(f"…and {more} more: `/decision list stalled` shows them all."))
    else:
        blocks.append(section("*Stalled decisions*\nNothing is stalled. :tada:"))
    if report.follow_through is not None and not report.follow_through.is_empty:
        blocks.append(divider())
        blocks += follow_through_blocks(report.follow_through, report.previous_label, report.zone)
    return _finish(blocks, report)


def follow_through_blocks(
    follow: FollowThroughReport, previous_label: str, zone: ZoneInfo
) -> list[Block]:
    """Follow-through rate, decision-to-done, topics decided again, then the orphans now."""
    now, before = follow.current, follow.previous
    lines = [
        f"• Followed through: {_rate(now)} ({previous_label}: {_rate(before)}) of decisions "
        f"owed a next step (an action or “no action needed”) "
        f"{plural(follow.after_days, 'working day')} after deciding",
        f"• Decision to done: {_done(now)} ({previous_label}: {_done(before)})",
        f"• Topics decided again: {now.decided_again} ({previous_label}: "
        f"{before.decided_again}), supersedes and reopenings of decisions decided within "
        "90 days",
    ]
    blocks = [section("*Follow-through*"), *line_sections(lines)]
    channel_lines = [
        _follow_channel_line(channel, f)
        for channel, f in sorted(follow.channels.items(), key=lambda item: -item[1].due)
        if f.due or f.done or f.decided_again
    ]
    if channel_lines:
        blocks += line_sections(channel_lines[:CHANNEL_LINES])
    if follow.orphans_total:
        blocks.append(
            section(
                f"*Orphan decisions now* ({follow.orphans_total}: decided, no next step after "
                f"{plural(follow.after_days, 'working day')})"
            )
        )
        blocks += line_sections([_orphan_line(o, zone) for o in follow.orphans[:STALLED_LINES]])
        more = follow.orphans_total - min(len(follow.orphans), STALLED_LINES)
        if more > 0:
            blocks.append(context(f"…and {more} more; their owners are reminded."))
    return blocks


def _rate(f: FollowThrough) -> str:
    percent = f.rate_percent
    return "—" if percent is None else f"{percent}% ({f.followed} of {f.due})"


def _done(f: FollowThrough) -> str:
    if not f.done:
        return "—"
    return f"median {_duration(f.median_decision_to_done)} ({plural(f.done, 'decision')})"


def _follow_channel_line(channel_id: str, f: FollowThrough) -> str:
    parts = []
    if f.due:
        parts.append(f"{f.followed} of {f.due} followed through")
    if f.done:
        parts.append(
            f"{plural(f.done, 'decision')} done, median {_duration(f.median_decision_to_done)}"
        )
    if f.decided_again:
        parts.append(f"{f.decided_again} decided again")
    return f"• {_channel(channel_id)}: " + " · ".join(parts)


def _orphan_line(orphan: Orphan, zone: ZoneInfo) -> str:
    title = truncate(render_user_text(orphan.title), TITLE_CHARS)
    decided = date_text(orphan.decided_at.astimezone(zone).date())
    where = _channel(orphan.channel_id, orphan.direct)
    return f"• *{orphan.ref}* {title} · {_person(orphan.owner_id)} · {where} · decided {decided}"


def report_text(report: Report) -> str:
    """The notification line (and the text where blocks do not show)."""
    now = report.current
    rate = f" ({_percent(now)} with outcomes)" if now.outcome_percent is not None else ""
    stalled = f"{now.stalled} stalled" if now.stalled else "nothing stalled"
    return (
        f"{report.title}, {_lower_first(report.current_label)}: "
        f"{count_text(now.meetings_held, 'meeting')} held{rate}; "
        f"decisions {now.decisions_opened} opened, {now.decisions_decided} decided; "
        f"{stalled}; {count_text(now.overdue_actions, 'overdue action')}."
    )


def _calendar_line(
    channel: str, current: CalendarCounts, previous: CalendarCounts, previous_label: str
) -> str:
    return (
        f"{conversation_text(channel)}: {count_text(current.on_calendar, 'meeting')} on the "
        f"calendar, {current.recorded} recorded, {current.with_outcomes} with outcomes "
        f"({previous_label}: {previous.on_calendar} / {previous.recorded} / "
        f"{previous.with_outcomes})"
    )


def _finish(blocks: list[Block], report: Report) -> list[Block]:
    if report.footer:
        blocks.append(context(report.footer))
    return capped(blocks, limit=limits.MESSAGE_BLOCKS_MAX, more="More is not shown.")


# --- the comparison ------------------------------------------------------------------------------


def _fields(report: Report) -> list[str]:
    now, before, shown = report.current, report.previous, report.previous_reported
    label = report.previous_label

    def compared(value: str, previous: str, reported: str | None, change: str | None) -> str:
        parts = [f"{label} {previous}"]
        if reported is not None and reported != previous:
            parts[0] += f", revised from {reported}"
        if change is not None:
            parts.append(change)
        return f"{value}  _({'; '.join(parts)})_"

    def count(name: str, pick: Callable[[Figures], int | None]) -> str:
        current, previous = pick(now), pick(before)
        value = "—" if current is None else str(current)
        if previous is None:
            return f"*{name}*\n{value}"
        reported = pick(shown) if shown is not None else None
        change = None if current is None else _signed(current - previous)
        return f"*{name}*\n" + compared(
            value, str(previous), None if reported is None else str(reported), change
        )

    rate_now, rate_before = now.outcome_percent, before.outcome_percent
    rate_value = _percent(now) + (f" of {now.meetings_judged}" if rate_now is not None else "")
    rate_change = (
        f"{_signed(rate_now - rate_before)} pts"
        if rate_now is not None and rate_before is not None
        else None
    )
    rate = "*Outcome rate*\n" + compared(
        rate_value, _percent(before), None if shown is None else _percent(shown), rate_change
    )

    median_now, median_before = now.median_time_to_decision, before.median_time_to_decision
    median_change = (
        _signed_duration(median_now - median_before)
        if median_now is not None and median_before is not None
        else None
    )
    median = "*Median time to decide*\n" + compared(
        _duration(median_now),
        _duration(median_before),
        None if shown is None else _duration(shown.median_time_to_decision),
        median_change,
    )

    return [
        count("Meetings held", lambda f: f.meetings_held),
        rate,
        count("Decisions opened", lambda f: f.decisions_opened),
        count("Decisions decided", lambda f: f.decisions_decided),
        count("Decisions dropped", lambda f: f.decisions_dropped),
        median,
        count("Overdue actions", lambda f: f.overdue_actions),
        count("Stalled decisions", lambda f: f.stalled),
    ]


def _reviews_line(report: Report) -> str:
    """Reviews (issue 17): due, held, reversed and the reversal rate, against the period before."""
    now, before = report.current, report.previous

    def rate(f: Figures) -> str:
        return "—" if f.reversal_percent is None else f"{f.reversal_percent}%"

    return (
        f"*Reviews* · due {now.reviews_due} · held {now.reviews_held} · reversed "
        f"{now.reviews_reversed} · reversal rate {rate(now)}  _({report.previous_label}: "
        f"{before.reviews_due} / {before.reviews_held} / {before.reviews_reversed} / "
        f"{rate(before)})_"
    )


def _revision_note(report: Report) -> str:
    """Say where the figures for the previous period come from when it was reported before."""
    shown, before = report.previous_reported, report.previous
    if shown is None:
        return ""
    if _visible_figures(shown) == _visible_figures(before):
        return f"The {report.previous_label} is as the last digest reported it."
    return (
        "“Revised from” marks a figure that changed after the last digest reported it "
        "(outcomes recorded late, decisions reopened, meetings marked since): the new one "
        "is shown."
    )


def _visible_figures(f: Figures) -> tuple[object, ...]:
    """The figures as the comparison prints them."""
    return (
        f.meetings_held,
        _percent(f),
        f.decisions_opened,
        f.decisions_decided,
        f.decisions_dropped,
        _duration(f.median_time_to_decision),
        f.overdue_actions,
        f.stalled,
    )


def _meeting_notes(figures: Figures) -> str:
    """Why the outcome rate's denominator is smaller than the meetings held, when it is."""
    notes = []
    if figures.meetings_no_outcome_needed:
        notes.append(f"{figures.meetings_no_outcome_needed} marked “no outcome needed”")
    if figures.meetings_awaiting_outcome:
        notes.append(f"{figures.meetings_awaiting_outcome} still within the outcome grace period")
    if not notes:
        return ""
    return "Not counted in the outcome rate: " + ", ".join(notes) + "."


# --- channels and stalled decisions --------------------------------------------------------------


def _ranked(channels: Mapping[str, Figures]) -> list[tuple[str, Figures]]:
    busy = [(c, f) for c, f in channels.items() if not f.is_empty]
    return sorted(
        busy,
        key=lambda item: (
            -(
                item[1].meetings_held
                + item[1].decisions_opened
                + item[1].decisions_decided
                + item[1].decisions_dropped
            ),
            -(item[1].stalled or 0),
            item[0],
        ),
    )


def _channel_line(channel_id: str, f: Figures) -> str:
    parts: list[str] = []
    if f.meetings_held:
        meetings = plural(f.meetings_held, "meeting")
        if f.outcome_percent is not None:
            meetings += f", {_percent(f)} with outcomes"
        parts.append(meetings)
    if f.decisions_opened:
        parts.append(f"{f.decisions_opened} opened")
    if f.decisions_decided:
        decided = f"{f.decisions_decided} decided"
        if f.median_time_to_decision is not None:
            decided += f" (median {_duration(f.median_time_to_decision)})"
        parts.append(decided)
    if f.decisions_dropped:
        parts.append(f"{f.decisions_dropped} dropped")
    if f.stalled:
        parts.append(f"{f.stalled} stalled")
    if f.overdue_actions:
        parts.append(plural(f.overdue_actions, "overdue action"))
    if f.has_reviews:
        reversed_ = f", {f.reviews_reversed} reversed" if f.reviews_reversed else ""
        parts.append(f"{plural(f.reviews_due, 'review')} due, {f.reviews_held} held{reversed_}")
    return f"• {_channel(channel_id)}: " + " · ".join(parts)


def _stalled_line(item: StalledItem, zone: ZoneInfo, at: datetime) -> str:
    """One stalled decision, its age and why it counts as stalled, as of ``at``."""
    ref = f"<{escape(item.link)}|{item.ref}>" if item.link else item.ref
    title = truncate(render_user_text(item.title), TITLE_CHARS)
    today = at.astimezone(zone).date()
    age = (today - item.created_at.astimezone(zone).date()).days
    why = (
        f"was due {date_text(item.due_date)}"
        if item.due_date is not None and item.due_date < today
        else f"no activity since {date_text(item.last_activity_at.astimezone(zone).date())}"
    )
    since = f" ({item.status_now} since)" if item.status_now != "open" else ""
    where = _channel(item.channel_id, item.direct)
    return (
        f"• *{ref}* {title} · {_person(item.owner_id)} · {where} · "
        f"open {plural(age, 'day')}, {why}{since}"
    )


# --- words for numbers ---------------------------------------------------------------------------


def _percent(figures: Figures) -> str:
    percent = figures.outcome_percent
    return "—" if percent is None else f"{percent}%"


def _signed(change: int) -> str:
    if change == 0:
        return "no change"
    return f"+{change}" if change > 0 else f"−{-change}"


def _duration(span: timedelta | None) -> str:
    if span is None:
        return "—"
    seconds = span.total_seconds()
    if seconds < 60:
        return "under a minute"
    if seconds < 3600:
        return f"{_half_up(seconds / 60, '1')} min"
    if seconds < 48 * 3600:
        return f"{_one_decimal(seconds / 3600)} h"
    return f"{_one_decimal(seconds / 86400)} days"


def _signed_duration(change: timedelta) -> str:
    if abs(change.total_seconds()) < 60:
        return "no change"
    sign = "+" if change > timedelta(0) else "−"
    return sign + _duration(abs(change))


def _one_decimal(value: float) -> str:
    return _half_up(value, "0.1").removesuffix(".0")


def _half_up(value: float, step: str) -> str:
    """``value`` to the nearest ``step``, halves up (2.25 h reads 2.3 h, not 2.2)."""
    # Through the shortest decimal that reads back as the float, so 2.25 is a tie, not 2.2499…
    return str(Decimal(repr(value)).quantize(Decimal(step), rounding=ROUND_HALF_UP))


def plural(count: int, noun: str) -> str:
    """``1 meeting``, ``2 meetings``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def count_text(count: int, noun: str) -> str:
    """``no meetings``, ``1 meeting``, ``2 meetings``."""
    return f"no {noun}s" if count == 0 else plural(count, noun)


# --- names of periods ----------------------------------------------------------------------------

_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def short_date(day: date, *, weekday: bool = True) -> str:
    """``Mon 2 Mar`` (or ``2 Mar``): a date near enough that its year goes without saying."""
    parts = date_text(day).split()
    return " ".join(parts[0:3] if weekday else parts[1:3])


def week_label(first_day: date) -> str:
    """``Week of Mon 2 Mar``."""
    return f"Week of {short_date(first_day)}"


def month_label(first_day: date) -> str:
    """``March 2026``."""
    return f"{_MONTH_NAMES[first_day.month - 1]} {first_day.year}"


def span_text(first: date, last: date | None, *, year: bool = True) -> str:
    """``Mon 2 Mar 2026 – Sun 8 Mar 2026``; without ``last``, just the first day."""
    show = date_text if year else short_date
    return show(first) if last is None else f"{show(first)} – {show(last)}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _person(user_id: str) -> str:
    try:
        return mention(user_id)
    except ValueError:
        return escape(user_id)


def _channel(channel_id: str, direct: bool = False) -> str:
    """A channel line's or an item's place; all of a reader's DM items are one line."""
    if channel_id == DIRECT_KEY:
        return "Direct messages"
    try:
        return conversation_text(channel_id, direct=direct)
    except ValueError:
        return escape(channel_id)
