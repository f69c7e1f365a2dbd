"""Block Kit for the managers' numbers: the weekly digest and /hygiene stats share one layout.

This period against the previous one with the change, a line per channel, and the oldest
stalled decisions with their owners and a link to each card. Everything is capped with "and N
more" so any amount of data fits in one message, and a period with nothing in it says so in a
sentence instead of showing a wall of zeros.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.digest.metrics import Figures
from bot.slack import limits
from bot.slack.blocks.kit import Block, capped, context, divider, header, line_sections, section
from bot.slack.text import channel_mention, date_text, escape, mention, render_user_text, truncate

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


@dataclass(frozen=True)
class Report:
    """What a digest or a stats reply shows; built by the Slack layer, rendered here."""

    title: str
    period_text: str
    current_label: str
    previous_label: str
    current: Figures
    previous: Figures
    scope_note: str
    zone: ZoneInfo
    channels: Mapping[str, Figures] = field(default_factory=dict)
    stalled: Sequence[StalledItem] = ()
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
        section(
            f"*{report.current_label}* against {report.previous_label.lower()}:",
            fields=_fields(report),
        )
    )
    notes = _meeting_notes(now)
    if notes:
        blocks.append(context(notes))

    lines = [_channel_line(channel, figures) for channel, figures in _ranked(report.channels)]
    if lines:
        blocks.append(divider())
        blocks.append(section("*By channel*"))
        blocks += line_sections(lines[:CHANNEL_LINES])
        if len(lines) > CHANNEL_LINES:
            blocks.append(context(f"…and {len(lines) - CHANNEL_LINES} more channels."))

    blocks.append(divider())
    stalled = now.stalled or 0
    if stalled:
        blocks.append(section(f"*Oldest stalled decisions* ({stalled} stalled)"))
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
    return _finish(blocks, report)


def report_text(report: Report) -> str:
    """The notification line (and the text where blocks do not show)."""
    now = report.current
    rate = _percent(now.outcome_rate)
    return (
        f"{report.title}, {report.period_text}: {now.meetings_held} meetings held"
        f"{f', {rate} with outcomes' if now.outcome_rate is not None else ''}; "
        f"{now.decisions_decided} decided, {now.decisions_opened} opened; "
        f"{now.stalled or 0} stalled, {now.overdue_actions} overdue actions."
    )


def _finish(blocks: list[Block], report: Report) -> list[Block]:
    if report.footer:
        blocks.append(context(report.footer))
    return capped(blocks, limit=limits.MESSAGE_BLOCKS_MAX, more="More is not shown.")


# --- the comparison ------------------------------------------------------------------------------


def _fields(report: Report) -> list[str]:
    now, before = report.current, report.previous
    label = report.previous_label.lower()

    def count(name: str, current: int, previous: int) -> str:
        change = current - previous
        return f"*{name}*\n{current}  _({label} {previous}, {_signed(change)})_"

    rate_now, rate_before = now.outcome_rate, before.outcome_rate
    rate = f"*Outcome rate*\n{_percent(rate_now)}"
    if rate_now is not None:
        rate += f" of {now.meetings_judged}"
    rate += f"  _({label} {_percent(rate_before)}"
    if rate_now is not None and rate_before is not None:
        points = round(rate_now * 100) - round(rate_before * 100)
        rate += f", {_signed(points)} pts"
    rate += ")_"

    median_now, median_before = now.median_time_to_decision, before.median_time_to_decision
    median = (
        f"*Median time to decide*\n{_duration(median_now)}  _({label} {_duration(median_before)}"
    )
    if median_now is not None and median_before is not None:
        median += f", {_signed_duration(median_now - median_before)}"
    median += ")_"

    return [
        count("Meetings held", now.meetings_held, before.meetings_held),
        rate,
        count("Decisions opened", now.decisions_opened, before.decisions_opened),
        count("Decisions decided", now.decisions_decided, before.decisions_decided),
        count("Decisions dropped", now.decisions_dropped, before.decisions_dropped),
        median,
        count("Overdue actions", now.overdue_actions, before.overdue_actions),
        f"*Stalled decisions*\n{now.stalled or 0}",
    ]


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
        if f.outcome_rate is not None:
            meetings += f", {_percent(f.outcome_rate)} with outcomes"
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
    return (
        f"• *{ref}* {title} · {_person(item.owner_id)} · {_channel(item.channel_id)} · "
        f"open {plural(age, 'day')}, {why}"
    )


# --- words for numbers ---------------------------------------------------------------------------


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{round(rate * 100)}%"


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
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{_one_decimal(seconds / 3600)} h"
    return f"{_one_decimal(seconds / 86400)} days"


def _signed_duration(change: timedelta) -> str:
    if abs(change.total_seconds()) < 60:
        return "no change"
    sign = "+" if change > timedelta(0) else "−"
    return sign + _duration(abs(change))


def _one_decimal(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def plural(count: int, noun: str) -> str:
    """``1 meeting``, ``2 meetings``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _person(user_id: str) -> str:
    try:
        return mention(user_id)
    except ValueError:
        return escape(user_id)


def _channel(channel_id: str) -> str:
    try:
        return channel_mention(channel_id)
    except ValueError:
        return escape(channel_id)
