"""Reported weeks stay reported: the figures a sent digest showed, stored and read back.

When a digest is sent, `record_report` keeps the reported week's figures for that recipient.
The next digest to the same recipient compares against that week again: it shows the week's
figures as they stand now and, where one differs from what was reported, what it was
("revised from 50 %"). Outcomes recorded late, a decision reopened or a meeting marked "no
outcome needed" afterwards all change a past week; this is how a reader learns that it did.

Privacy: a stored report is read back only for a reader who can see every channel it covered
(`readable_by`); rows belong to their workspace and go with it on purge.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import dialect_insert
from bot.digest.metrics import Figures
from bot.digest.models import DigestReport
from bot.digest.schedule import Period
from bot.workspace import WorkspaceKey


@dataclass(frozen=True, slots=True)
class Reported:
    """A stored report: who it went to, when, over which channels, and its figures."""

    recipient: str
    period_key: str
    first_day: date
    last_day: date
    sent_at: datetime
    channels: frozenset[str]
    figures: Figures

    def readable_by(self, visible: Collection[str]) -> bool:
        """Whether a reader who may see ``visible`` may see this report again."""
        return self.channels <= set(visible)


async def record_report(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    recipient: str,
    period: Period,
    figures: Figures,
    channels: Collection[str],
    sent_at: datetime,
) -> None:
    """Store what a digest sent to ``recipient`` showed for ``period`` (replacing any before)."""
    values: dict[str, Any] = {
        **DigestReport.key_values(ws),
        "recipient": recipient,
        "period_key": period.key,
        "period_start": period.start,
        "period_end": period.end,
        "first_day": period.first_day,
        "last_day": period.last_day,
        "sent_at": sent_at,
        "channels": sorted(channels),
        **_figure_values(figures),
    }
    statement = dialect_insert(session)(DigestReport).values(**values)
    key = ["enterprise_id", "team_id", "recipient", "period_start", "period_end"]
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=key,
            set_={name: statement.excluded[name] for name in values if name not in key},
        )
    )


async def reported(
    session: AsyncSession, *, ws: WorkspaceKey, recipient: str, start: datetime, end: datetime
) -> Reported | None:
    """What the digest to ``recipient`` for [start, end) showed, if one was sent."""
    row = await session.scalar(
        select(DigestReport).where(
            DigestReport.in_workspace(ws),
            DigestReport.recipient == recipient,
            DigestReport.period_start == start,
            DigestReport.period_end == end,
        )
    )
    return None if row is None else _reported(row)


async def every_report(session: AsyncSession, *, ws: WorkspaceKey) -> list[Reported]:
    """Every stored report of the workspace, oldest week first (for the export)."""
    rows = await session.scalars(
        select(DigestReport)
        .where(DigestReport.in_workspace(ws))
        .order_by(DigestReport.period_start, DigestReport.recipient)
    )
    return [_reported(row) for row in rows]


def _figure_values(figures: Figures) -> dict[str, Any]:
    median = figures.median_time_to_decision
    return {
        "meetings_held": figures.meetings_held,
        "meetings_with_outcome": figures.meetings_with_outcome,
        "meetings_no_outcome_needed": figures.meetings_no_outcome_needed,
        "meetings_awaiting_outcome": figures.meetings_awaiting_outcome,
        "decisions_opened": figures.decisions_opened,
        "decisions_decided": figures.decisions_decided,
        "decisions_dropped": figures.decisions_dropped,
        "median_seconds": None if median is None else median.total_seconds(),
        "stalled": figures.stalled,
        "overdue_actions": figures.overdue_actions,
        "reviews_due": figures.reviews_due,
        "reviews_kept": figures.reviews_kept,
        "reviews_amended": figures.reviews_amended,
        "reviews_reversed": figures.reviews_reversed,
    }


def _reported(row: DigestReport) -> Reported:
    figures = Figures(
        start=row.period_start,
        end=row.period_end,
        meetings_held=row.meetings_held,
        meetings_with_outcome=row.meetings_with_outcome,
        meetings_no_outcome_needed=row.meetings_no_outcome_needed,
        meetings_awaiting_outcome=row.meetings_awaiting_outcome,
        decisions_opened=row.decisions_opened,
        decisions_decided=row.decisions_decided,
        decisions_dropped=row.decisions_dropped,
        median_time_to_decision=(
            None if row.median_seconds is None else timedelta(seconds=row.median_seconds)
        ),
        stalled=row.stalled,
        overdue_actions=row.overdue_actions,
        reviews_due=row.reviews_due or 0,
        reviews_kept=row.reviews_kept or 0,
        reviews_amended=row.reviews_amended or 0,
        reviews_reversed=row.reviews_reversed or 0,
    )
    return Reported(
        recipient=row.recipient,
        period_key=row.period_key,
        first_day=row.first_day,
        last_day=row.last_day,
        sent_at=row.sent_at,
        channels=frozenset(row.channels),
        figures=figures,
    )
