"""Composing the digest and the stats reply for one reader, within what that reader may see.

The privacy rule lives here because only Slack knows who is in which channel: a digest posted to
a channel covers public channels only; a digest for a person (a DM, a preview, /hygiene stats,
an export) also covers the private channels that person is a member of. Anything Slack will not
vouch for (an unknown channel, a failed lookup) is left out: the rule fails closed.

Database work happens in short transactions with no Slack call inside them (SQLite has one
pooled connection), and the numbers themselves come from `bot.digest.metrics`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.config import CadenceConfig
from bot.cadence.stall import working_calendar
from bot.calendars.metrics import CalendarCounts, calendar_channels, calendar_counts
from bot.db import Database
from bot.decisions.models import Decision
from bot.digest import metrics, reports, schedule
from bot.digest.audience import Audience
from bot.digest.chart import TrendPoint, trend_chart
from bot.digest.metrics import Figures
from bot.digest.schedule import Period
from bot.digest.stalled import StalledAt
from bot.errors import Forbidden
from bot.slack.blocks.digest import (
    STALLED_LINES,
    FollowThroughReport,
    Report,
    StalledItem,
    month_label,
    report_blocks,
    report_text,
    short_date,
    span_text,
    week_label,
)
from bot.slack.blocks.kit import Block
from bot.slack.parsing.commands import StatsPeriod
from bot.slack.privacy import ChannelAccess, is_person
from bot.slack.text import channel_mention, date_text, moment_token
from bot.workspace import WorkspaceKey

log = logging.getLogger(__name__)

#: Slack lookups in flight at once while checking channels (conversations.* are Tier 3/4).
PUBLIC_ONLY = "Public channels only."
PUBLIC_AND_YOURS = "Public channels and the private channels you are in."


@dataclass(frozen=True)
class ComposedDigest:
    """A digest ready to post: the message, the trend chart to upload beside it, and what it
    shows of the reported week, to keep once it is sent (`record_sent`)."""

    period_key: str
    text: str
    blocks: list[Block]
    chart: bytes
    chart_filename: str
    chart_title: str
    week: Period
    figures: Figures
    channels: frozenset[str]


def channel_refused() -> Forbidden:
    return Forbidden("I can only show numbers for public channels and private channels you are in.")


async def compose_digest(
    *,
    db: Database,
    cadence: CadenceConfig,
    ws: WorkspaceKey,
    recipient: str,
    client: AsyncWebClient,
    now: datetime,
    due_at: datetime | None = None,
) -> ComposedDigest:
    """The weekly digest for ``recipient`` (a user id for a DM, a channel id for a post).

    It reports the last whole week before ``due_at`` (the ledger row's moment; ``now`` when
    absent, as for a preview) against the week before, with the eight-week trend chart.
    ``now`` is when the numbers are taken. Where this recipient's digest for the week before
    showed a figure that has changed since, the comparison says what it was.
    """
    week = schedule.reported_week(due_at or now, cadence)
    weeks = schedule.weeks_ending(week, schedule.TREND_WEEKS, cadence)
    before = weeks[-2]
    access = ChannelAccess(client)
    async with db.transaction() as session:
        in_play = await metrics.channels_in_play(session, ws=ws, since=weeks[0].start)
    visible = await access.readable(in_play, recipient)
    # A person's digest also counts the DM items they own; a channel's never counts any.
    audience = Audience(frozenset(visible), person=recipient if is_person(recipient) else None)
    async with db.transaction() as session:
        series = await metrics.series_figures(
            session,
            ws=ws,
            cadence=cadence,
            bounds=schedule.bounds_of(weeks),
            now=now,
            channels=audience,
        )
        by_channel = await metrics.channel_figures(
            session,
            ws=ws,
            cadence=cadence,
            start=week.start,
            end=week.end,
            now=now,
            channels=audience,
        )
        stalled = await metrics.oldest_stalled(
            session, ws=ws, cadence=cadence, at=week.end, channels=audience, limit=STALLED_LINES
        )
        shown_before = await reports.reported(
            session, ws=ws, recipient=recipient, start=before.start, end=before.end
        )
        calendar = await _calendar_rows(
            session,
            ws=ws,
            channels=visible,
            current=(week.start, week.end),
            previous=(before.start, before.end),
        )
        follow_through = await _follow_through(
            session,
            ws=ws,
            cadence=cadence,
            channels=audience,
            current=(week.start, week.end),
            previous=(before.start, before.end),
            now=now,
        )
    report = Report(
        title="Weekly digest",
        period_text=f"{span_text(week.first_day, week.last_day)} ({cadence.timezone})",
        current_label=week_label(week.first_day),
        previous_label="week before",
        comparison=f"the week before ({span_text(before.first_day, before.last_day, year=False)})",
        current=series[-1],
        previous=series[-2],
        previous_reported=(
            shown_before.figures
            if shown_before is not None and shown_before.readable_by(audience.covers())
            else None
        ),
        stalled_when="as the week ended",
        scope_note=PUBLIC_AND_YOURS if is_person(recipient) else PUBLIC_ONLY,
        zone=cadence.zone,
        channels=by_channel,
        stalled=await _stalled_items(client, stalled),
        calendar=calendar,
        follow_through=follow_through,
        footer="The trend over the last eight weeks comes as a chart beside this message.",
    )
    points = [
        TrendPoint(
            label=short_date(w.first_day, weekday=False),
            outcome_percent=figures.outcome_percent,
            median_time_to_decision=figures.median_time_to_decision,
        )
        for w, figures in zip(weeks, series, strict=True)
    ]
    chart_title = (
        f"Outcome rate and time to decision, {schedule.TREND_WEEKS} weeks "
        f"to {date_text(week.last_day)}"
    )
    chart = await asyncio.to_thread(trend_chart, points, title=chart_title)
    return ComposedDigest(
        period_key=week.key,
        text=report_text(report),
        blocks=report_blocks(report),
        chart=chart,
        chart_filename=f"followthrough-trend-{week.key}.png",
        chart_title=chart_title,
        week=week,
        figures=series[-1],
        channels=audience.covers(),
    )


async def record_sent(
    session: AsyncSession,
    sent_at: datetime,
    *,
    ws: WorkspaceKey,
    recipient: str,
    digest: ComposedDigest,
) -> None:
    """Keep what ``digest`` showed ``recipient``, now that it has been sent to them.

    Called once the message is out, by whatever sent it (the worker's sender, through
    `OutgoingMessage.after_sent`, or `/hygiene digest`), so only digests someone received are
    ever quoted back.
    """
    await reports.record_report(
        session,
        ws=ws,
        recipient=recipient,
        period=digest.week,
        figures=digest.figures,
        channels=digest.channels,
        sent_at=sent_at,
    )


async def compose_stats(
    *,
    db: Database,
    cadence: CadenceConfig,
    ws: WorkspaceKey,
    reader: str,
    client: AsyncWebClient,
    now: datetime,
    period: StatsPeriod,
    so_far: bool,
    channel_id: str | None = None,
    access: ChannelAccess | None = None,
) -> tuple[str, list[Block]]:
    """/hygiene stats: the last whole week (or month) against the one before it, or with
    ``so_far`` this one up to now against the same stretch of the one before.

    Weeks are digest weeks (they start on the digest's weekday), so the numbers a manager
    watches during the week are the ones the next digest reports.
    """
    shown = stats_periods(now, cadence, period=period, so_far=so_far)
    access = access or ChannelAccess(client)
    if channel_id is not None:
        if not await access.may_see(channel_id, reader):
            raise channel_refused()
        visible = {channel_id}
    else:
        async with db.transaction() as session:
            in_play = await metrics.channels_in_play(session, ws=ws, since=shown.previous_start)
        visible = await access.readable(in_play, reader)
    # The reader's own numbers: their DM items count, nobody else's (bot/digest/audience.py);
    # numbers of one channel are that channel's alone.
    audience = Audience(frozenset(visible), person=reader if channel_id is None else None)
    async with db.transaction() as session:
        if shown.previous_end == shown.start:
            before, current = await metrics.series_figures(
                session,
                ws=ws,
                cadence=cadence,
                bounds=[shown.previous_start, shown.start, shown.end],
                now=now,
                channels=audience,
            )
        else:
            # "So far" and the same stretch of last week are not adjacent: one each.
            [before] = await metrics.series_figures(
                session,
                ws=ws,
                cadence=cadence,
                bounds=[shown.previous_start, shown.previous_end],
                now=now,
                channels=audience,
            )
            [current] = await metrics.series_figures(
                session,
                ws=ws,
                cadence=cadence,
                bounds=[shown.start, shown.end],
                now=now,
                channels=audience,
            )
        by_channel = (
            {}
            if channel_id is not None
            else await metrics.channel_figures(
                session,
                ws=ws,
                cadence=cadence,
                start=shown.start,
                end=shown.end,
                now=now,
                channels=audience,
            )
        )
        stalled = await metrics.oldest_stalled(
            session, ws=ws, cadence=cadence, at=shown.end, channels=audience, limit=STALLED_LINES
        )
        calendar = await _calendar_rows(
            session,
            ws=ws,
            channels=visible,
            current=(shown.start, shown.end),
            previous=(shown.previous_start, shown.previous_end),
        )
        follow_through = await _follow_through(
            session,
            ws=ws,
            cadence=cadence,
            channels=audience,
            current=(shown.start, shown.end),
            previous=(shown.previous_start, shown.previous_end),
            now=now,
            by_channel=channel_id is None,
        )
    where = f" · {channel_mention(channel_id)} only" if channel_id else ""
    report = Report(
        title="Team numbers",
        period_text=f"{shown.period_text} ({cadence.timezone}){where}",
        current_label=shown.current_label,
        previous_label=shown.previous_label,
        comparison=shown.comparison,
        stalled_when=shown.stalled_when,
        current=current,
        previous=before,
        scope_note=PUBLIC_AND_YOURS if channel_id is None else "Only you can see this.",
        zone=cadence.zone,
        channels=by_channel,
        stalled=await _stalled_items(client, stalled),
        calendar=calendar,
        follow_through=follow_through,
        footer=shown.hint,
    )
    return report_text(report), report_blocks(report)


async def _follow_through(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    cadence: CadenceConfig,
    channels: Audience,
    current: tuple[datetime, datetime],
    previous: tuple[datetime, datetime],
    now: datetime,
    by_channel: bool = True,
) -> FollowThroughReport:
    """Follow-through in the two periods (per channel for the current one) and orphans now."""
    none = metrics.FollowThrough()
    figures = {}
    if previous[1] == current[0]:
        # Adjacent (a digest's weeks, whole stats periods): one series of two periods.
        found = await metrics.follow_through_figures(
            session, ws=ws, cadence=cadence, bounds=[*previous, current[1]], channels=channels
        )
        figures = {"previous": found.get((0, None), none), "current": found.get((1, None), none)}
    else:
        for name, (start, end) in (("current", current), ("previous", previous)):
            found = await metrics.follow_through_figures(
                session, ws=ws, cadence=cadence, bounds=[start, end], channels=channels
            )
            figures[name] = found.get((0, None), none)
    per_channel = (
        await metrics.follow_through_figures(
            session,
            ws=ws,
            cadence=cadence,
            bounds=list(current),
            channels=channels,
            by_channel=True,
        )
        if by_channel
        else {}
    )
    total, orphans = await metrics.orphans_at(
        session, ws=ws, cadence=cadence, at=now, channels=channels, limit=STALLED_LINES
    )
    return FollowThroughReport(
        current=figures["current"],
        previous=figures["previous"],
        after_days=cadence.decisions.followthrough_after_days,
        orphans_total=total,
        orphans=orphans,
        channels={channel: f for (_, channel), f in per_channel.items() if channel is not None},
    )


async def _calendar_rows(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    channels: Collection[str],
    current: tuple[datetime, datetime],
    previous: tuple[datetime, datetime],
) -> list[tuple[str, CalendarCounts, CalendarCounts]]:
    now_counts = await calendar_counts(
        session, ws=ws, start=current[0], end=current[1], channels=channels
    )
    before_counts = await calendar_counts(
        session, ws=ws, start=previous[0], end=previous[1], channels=channels
    )
    return calendar_channels(now_counts, before_counts)


@dataclass(frozen=True, slots=True)
class StatsPeriods:
    """What /hygiene stats shows: [start, end) against [previous_start, previous_end)."""

    start: datetime
    end: datetime
    previous_start: datetime
    previous_end: datetime
    period_text: str
    current_label: str
    previous_label: str
    comparison: str
    stalled_when: str
    hint: str


def stats_periods(
    now: datetime, cadence: CadenceConfig, *, period: StatsPeriod, so_far: bool
) -> StatsPeriods:
    """The periods and their names for /hygiene stats at ``now``.

    A whole period is compared with the whole one before it. "So far" runs from this period's
    start to ``now`` and is compared with the one before up to the same local day and time
    (the same weekday and clock time last week; the same date and time last month, or all of
    last month when it is shorter), so a Tuesday morning is not set against a whole week.
    """
    month = period == "month"

    def previous(p: Period) -> Period:
        return schedule.previous_month(p, cadence) if month else schedule.previous_week(p, cadence)

    this = schedule.month_of(now, cadence) if month else schedule.week_of(now, cadence)
    last = previous(this)
    noun = "month" if month else "week"
    if not so_far:
        before = previous(last)
        label = month_label(last.first_day) if month else week_label(last.first_day)
        before_text = (
            month_label(before.first_day)
            if month
            else span_text(before.first_day, before.last_day, year=False)
        )
        return StatsPeriods(
            start=last.start,
            end=last.end,
            previous_start=before.start,
            previous_end=before.end,
            period_text=span_text(last.first_day, last.last_day),
            current_label=label,
            previous_label=f"{noun} before",
            comparison=f"the {noun} before ({before_text})",
            stalled_when=f"as the {noun} ended",
            hint=f"`/hygiene stats {noun} so far` shows this {noun} up to now.",
        )
    calendar = working_calendar(cadence)
    reading = calendar.clock_reached(now)
    if month:
        elapsed_days = (reading.date() - this.first_day).days
        same_day = last.first_day + timedelta(days=elapsed_days)
        same_point = (
            last.end
            if same_day > last.last_day
            else calendar.moment(datetime.combine(same_day, reading.time()))
        )
    else:
        same_point = calendar.moment(reading - timedelta(days=7))
    same_point = min(max(same_point, last.start), last.end)
    point_text = moment_token(same_point)
    return StatsPeriods(
        start=this.start,
        end=now,
        previous_start=last.start,
        previous_end=same_point,
        period_text=f"{span_text(this.first_day, None)} to now, {moment_token(now)}",
        current_label=f"This {noun} so far",
        previous_label=f"same time last {noun}",
        comparison=(
            f"the same stretch of last {noun} ({short_date(last.first_day)} – {point_text})"
        ),
        stalled_when="now",
        hint=f"`/hygiene stats{' month' if month else ''}` shows the last whole {noun}.",
    )


async def conversation_for(client: AsyncWebClient, recipient: str) -> str:
    """The conversation id to post to: a person's DM with the app, or the channel itself."""
    if not is_person(recipient):
        return recipient
    opened = await client.conversations_open(users=recipient)
    return str(opened["channel"]["id"])


async def _stalled_items(client: AsyncWebClient, stalled: list[StalledAt]) -> list[StalledItem]:
    """The stalled decisions with a link to each card where the card's message is known."""
    links = await asyncio.gather(*(_permalink(client, s.decision) for s in stalled))
    return [
        StalledItem(
            ref=s.decision.ref,
            title=s.decision.title,
            owner_id=s.decision.owner_id,
            channel_id=s.decision.channel_id,
            direct=s.decision.direct,
            created_at=s.decision.created_at,
            due_date=s.due_date,
            last_activity_at=s.last_activity_at,
            status_now=s.decision.status,
            link=link,
        )
        for s, link in zip(stalled, links, strict=True)
    ]


async def _permalink(client: AsyncWebClient, decision: Decision) -> str | None:
    # A card in a DM or group DM: its link names the conversation, and opens only for its
    # members, which the owner reading their digest may not be.
    if decision.direct or not decision.message_channel_id or not decision.message_ts:
        return None
    try:
        response = await client.chat_getPermalink(
            channel=decision.message_channel_id, message_ts=decision.message_ts
        )
    except SlackApiError:
        # The card may have been deleted; the line still names the channel.
        return None
    link = response.get("permalink")
    return link if isinstance(link, str) else None
