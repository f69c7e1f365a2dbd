"""Whether a message composed for a person may go to them now, or waits for them.

The sender asks `Holds.check` for every composed message whose channel is a person (their DM)
before posting it. A person who paused their DMs (`bot.prefs.service`) gets nothing before the
pause ends. A person who is away (``/hygiene away``) gets nothing until the start of
their first working hours after the time off; the row is given back with that moment as its
``due_at`` (never dropped), and when it comes round the composer decides afresh, so a reminder
about something settled meanwhile is cancelled instead of sent.

The away periods of a workspace are read once per sender pass (they are few), not per row.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.db import Database
from bot.prefs import service as prefs
from bot.slack.compose import ComposeContext, Later
from bot.timeoff import service as timeoff
from bot.timeoff.service import AWAY_REASON, TimeOffFacts
from bot.workspace import WorkspaceKey


class Holds:
    """What holds a person's messages: their time off (and, with it, Slack's do-not-disturb)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._away: dict[WorkspaceKey, asyncio.Task[TimeOffFacts]] = {}

    def forget(self) -> None:
        """Read the periods again on the next check (each sender pass starts with this)."""
        self._away.clear()

    async def _facts(self, ws: WorkspaceKey, now: datetime) -> TimeOffFacts:
        task = self._away.get(ws)
        if task is None:
            task = asyncio.ensure_future(self._load(ws, now))
            self._away[ws] = task
        try:
            return await asyncio.shield(task)
        except Exception:
            self._away.pop(ws, None)
            raise

    async def _load(self, ws: WorkspaceKey, now: datetime) -> TimeOffFacts:
        async with self._db.transaction() as session:
            return await timeoff.current_time_off(session, ws=ws, now=now)

    async def check(self, ctx: ComposeContext, person: str) -> Later | None:
        """`Later` (until when, and why) while ``person`` must not get a message; else None.

        Their own pause (App Home's "Your reminders", ``ctx.prefs``) holds everything until
        the start of their working hours on its day.
        """
        mine = ctx.prefs_of(person)
        if mine.paused_until is not None:
            zone = await ctx.zone_of(person)
            ends = prefs.paused_at(mine, ctx.now, zone, ctx.cadence.working_hours)
            if ends is not None:
                return Later(until=ends, reason=prefs.PAUSED)
        facts = await self._facts(ctx.ws, ctx.now)
        period = facts.away_at(person, ctx.now)
        if period is not None:
            resume = timeoff.back_at(period, ctx.cadence, facts.days_off(person))
            return Later(
                until=resume,
                reason=f"{AWAY_REASON}: through {period.last_day.isoformat()} ({period.zone.key})",
            )
        return None
