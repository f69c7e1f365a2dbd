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
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cadence.config import CadenceConfig
from bot.db import Database
from bot.decisions.models import Decision
from bot.digest import metrics, schedule
from bot.digest.chart import TrendPoint, trend_chart
from bot.digest.schedule import Period
from bot.digest.stalled import StalledAt
from bot.errors import Forbidden
from bot.slack.blocks.digest import STALLED_LINES, Report, StalledItem, report_blocks, report_text
from bot.slack.blocks.kit import Block
from bot.slack.parsing.commands import StatsPeriod
from bot.slack.privacy import ChannelAccess, is_person
from bot.slack.text import channel_mention, date_text
from bot.workspace import WorkspaceKey

log = logging.getLogger(__name__)

#: Slack lookups in flight at once while checking channels (conversations.* are Tier 3/4).
PUBLIC_ONLY = "Public channels only."
PUBLIC_AND_YOURS = "Public channels and the private channels you are in."


@dataclass(frozen=True)
class ComposedDigest:
    """A digest ready to post: the message, and the trend chart to upload beside it."""

    period_key: str
    text: str
    blocks: list[Block]
    chart: bytes
    chart_filename: str
    chart_title: str


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
    ``now`` is when the numbers are taken.
    """
    week = schedule.reported_week(due_at or now, cadence)
    weeks = schedule.weeks_ending(week, schedule.TREND_WEEKS, cadence)
    access = ChannelAccess(client)
    async with db.transaction() as session:
        in_play = await metrics.channels_in_play(session, ws=ws, since=weeks[0].start)
    visible = await access.readable(in_play, recipient)
    async with db.transaction() as session:
        series = await metrics.series_figures(
            session,
            ws=ws,
            cadence=cadence,
            bounds=schedule.bounds_of(weeks),
            now=now,
            channels=visible,
        )
        by_channel = await metrics.channel_figures(
            session,
            ws=ws,
            cadence=cadence,
            start=week.start,
            end=week.end,
            now=now,
            channels=visible,
        )
        stalled = await metrics.oldest_stalled(
            session, ws=ws, cadence=cadence, at=week.end, channels=visible, limit=STALLED_LINES
        )
    report = Report(
        title="Weekly digest",
        period_text=f"{_span(week)} ({cadence.timezone})",
        current_label="This week",
        previous_label="Last week",
        current=series[-1],
        previous=series[-2],
        scope_note=PUBLIC_AND_YOURS if is_person(recipient) else PUBLIC_ONLY,
        zone=cadence.zone,
        channels=by_channel,
        stalled=await _stalled_items(client, stalled),
        footer="The trend over the last eight weeks comes as a chart beside this message.",
    )
    points = [
        TrendPoint(
            # "5 Oct" out of "Mon 5 Oct 2026": fixed English names, whatever the server locale.
            label=" ".join(date_text(w.first_day).split()[1:3]),
            outcome_rate=figures.outcome_rate,
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
    channel_id: str | None = None,
    access: ChannelAccess | None = None,
) -> tuple[str, list[Block]]:
    """/hygiene stats: this week (or month) so far against the whole previous one.

    Weeks are digest weeks (they start on the digest's weekday), so the numbers a manager
    watches during the week are the ones the next digest reports.
    """
    if period == "month":
        current = schedule.month_of(now, cadence)
        previous = schedule.previous_month(current, cadence)
        labels = ("This month so far", "Last month")
    else:
        current = schedule.week_of(now, cadence)
        previous = schedule.previous_week(current, cadence)
        labels = ("This week so far", "Last week")
    access = access or ChannelAccess(client)
    if channel_id is not None:
        if not await access.may_see(channel_id, reader):
            raise channel_refused()
        visible = {channel_id}
    else:
        async with db.transaction() as session:
            in_play = await metrics.channels_in_play(session, ws=ws, since=previous.start)
        visible = await access.readable(in_play, reader)
    async with db.transaction() as session:
        before, so_far = await metrics.series_figures(
            session,
            ws=ws,
            cadence=cadence,
            bounds=[previous.start, current.start, now],
            now=now,
            channels=visible,
        )
        by_channel = (
            {}
            if channel_id is not None
            else await metrics.channel_figures(
                session,
                ws=ws,
                cadence=cadence,
                start=current.start,
                end=now,
                now=now,
                channels=visible,
            )
        )
        stalled = await metrics.oldest_stalled(
            session, ws=ws, cadence=cadence, at=now, channels=visible, limit=STALLED_LINES
        )
    where = f" · {channel_mention(channel_id)} only" if channel_id else ""
    report = Report(
        title="Team numbers",
        period_text=f"{date_text(current.first_day)} – now ({cadence.timezone}){where}",
        current_label=labels[0],
        previous_label=labels[1],
        current=so_far,
        previous=before,
        scope_note=PUBLIC_AND_YOURS if channel_id is None else "Only you can see this.",
        zone=cadence.zone,
        channels=by_channel,
        stalled=await _stalled_items(client, stalled),
    )
    return report_text(report), report_blocks(report)


async def deliver_digest(
    client: AsyncWebClient, *, recipient: str, digest: ComposedDigest
) -> tuple[str, str]:
    """Post the digest to a channel or a person's DM, then its chart; returns (channel, ts)."""
    channel = await conversation_for(client, recipient)
    posted = await client.chat_postMessage(
        channel=channel, text=digest.text, blocks=digest.blocks, unfurl_links=False
    )
    await client.files_upload_v2(
        channel=channel,
        content=digest.chart,
        filename=digest.chart_filename,
        title=digest.chart_title,
    )
    return str(posted["channel"]), str(posted["ts"])


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
            created_at=s.decision.created_at,
            due_date=s.due_date,
            last_activity_at=s.last_activity_at,
            status_now=s.decision.status,
            link=link,
        )
        for s, link in zip(stalled, links, strict=True)
    ]


async def _permalink(client: AsyncWebClient, decision: Decision) -> str | None:
    if not decision.message_channel_id or not decision.message_ts:
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


def _span(period: Period) -> str:
    return f"{date_text(period.first_day)} – {date_text(period.last_day)}"
