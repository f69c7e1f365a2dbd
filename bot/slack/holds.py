"""Whether a message composed for a person may go to them now, or waits for them.

The sender asks `Holds.check` for every composed message whose channel is a person (their DM)
before posting it, and gives a held row back to the ledger with the moment it may go as its
``due_at`` (never dropping it); when it comes round the composer decides afresh, so a reminder
about something settled meanwhile is cancelled instead of sent, and one that now falls outside
working hours waits for them.

- A person who paused their DMs (`bot.prefs.service`) gets nothing before the pause ends.
- A person who is away (``/hygiene away``) gets nothing until the start of their first working
  hours after the time off. The away periods of a workspace are read once per sender pass.
- A person in Slack's do-not-disturb (their schedule's window, or a snooze they set) gets
  nothing until it ends (``next_dnd_end_ts``, ``snooze_endtime``). Asked through `DndDirectory`:
  lookups made at the same moment go out together (``dnd.teamInfo``, 50 people a call; one
  person alone: ``dnd.info``) and answers are kept for `DND_CACHE_SECONDS`. Without the
  ``dnd:read`` scope, or when Slack errs, the message is sent anyway and that is logged once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.db import Database
from bot.prefs import service as prefs
from bot.slack.compose import ComposeContext, Later
from bot.timeoff import service as timeoff
from bot.timeoff.service import AWAY_REASON, TimeOffFacts
from bot.workspace import WorkspaceKey

log = logging.getLogger(__name__)

#: How long a person's do-not-disturb answer is trusted (their schedule rarely changes).
DND_CACHE_SECONDS = 60.0
#: ``dnd.teamInfo`` takes at most this many users a call.
DND_BATCH = 50
#: After an error, the workspace's lookups rest this long (the messages go out meanwhile).
DND_RETRY_SECONDS = 300.0
#: Errors about the one person asked for, not about the app: they simply have no DND to wait on.
NO_SUCH_PERSON = frozenset({"user_not_found", "user_not_visible"})


def _instant(value: Any) -> datetime | None:
    """An epoch-seconds field of a dnd answer; Slack's placeholder ``1`` (or 0) means none."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 1:
        return None
    return datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True, slots=True)
class Dnd:
    """One person's do-not-disturb: their schedule's next (or current) window and a snooze."""

    window_start: datetime | None = None
    window_end: datetime | None = None
    snooze_end: datetime | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Dnd:
        enabled = bool(data.get("dnd_enabled"))
        snoozed = bool(data.get("snooze_enabled"))
        return cls(
            window_start=_instant(data.get("next_dnd_start_ts")) if enabled else None,
            window_end=_instant(data.get("next_dnd_end_ts")) if enabled else None,
            snooze_end=_instant(data.get("snooze_endtime")) if snoozed else None,
        )

    def until(self, at: datetime) -> datetime | None:
        """When a message may reach them, if not at ``at``: the end of the window or snooze
        ``at`` falls in (and of the other, when one ends inside the other)."""
        free = at
        for _ in range(3):
            moved = False
            start, end = self.window_start, self.window_end
            if start is not None and end is not None and start <= free < end:
                free, moved = end, True
            if self.snooze_end is not None and free < self.snooze_end:
                free, moved = self.snooze_end, True
            if not moved:
                break
        return free if free > at else None


class DndDirectory:
    """People's do-not-disturb, asked in batches and kept for a short while, per workspace."""

    def __init__(self, *, cache_seconds: float = DND_CACHE_SECONDS) -> None:
        self._cache = timedelta(seconds=cache_seconds)
        self._known: dict[tuple[str, str], tuple[datetime, Dnd | None]] = {}
        self._waiting: dict[str, tuple[AsyncWebClient, dict[str, list[asyncio.Future[Any]]]]] = {}
        self._flushing: asyncio.Task[None] | None = None
        self._resting: dict[str, datetime] = {}
        self._logged: set[tuple[str, str]] = set()

    async def get(
        self, client: AsyncWebClient, *, team_id: str, user_id: str, now: datetime
    ) -> Dnd | None:
        """Their do-not-disturb as of ``now`` (answers are kept `DND_CACHE_SECONDS` from it);
        None when Slack could not say (the message goes anyway)."""
        known = self._known.get((team_id, user_id))
        if known is not None and now < known[0]:
            return known[1]
        resting = self._resting.get(team_id)
        if resting is not None and now < resting:
            return None
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        _, people = self._waiting.setdefault(team_id, (client, {}))
        people.setdefault(user_id, []).append(future)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush(now))
        found: Dnd | None = await future
        return found

    async def _flush(self, now: datetime) -> None:
        # One turn of the event loop lets the other rows of this moment ask too.
        await asyncio.sleep(0)
        while self._waiting:
            waiting, self._waiting = self._waiting, {}
            for team_id, (client, people) in waiting.items():
                answers = await self._ask(client, team_id, sorted(people), now)
                until = now + self._cache
                for user_id, futures in people.items():
                    found = answers.get(user_id)
                    if answers:
                        self._known[(team_id, user_id)] = (until, found)
                    for future in futures:
                        if not future.done():
                            future.set_result(found)
            if len(self._known) > 100_000:
                self._known = {k: v for k, v in self._known.items() if now < v[0]}

    async def _ask(
        self, client: AsyncWebClient, team_id: str, people: list[str], now: datetime
    ) -> dict[str, Dnd]:
        """Slack's answers for ``people``; empty (and logged once) when Slack would not say."""
        found: dict[str, Dnd] = {}
        try:
            if len(people) == 1:
                answer = await client.dnd_info(user=people[0])
                found[people[0]] = Dnd.from_api(
                    answer.data if isinstance(answer.data, dict) else {}
                )
                return found
            for start in range(0, len(people), DND_BATCH):
                chunk = people[start : start + DND_BATCH]
                answer = await client.dnd_teamInfo(users=",".join(chunk))
                users = answer.get("users") or {}
                for user_id in chunk:
                    data = users.get(user_id)
                    found[user_id] = Dnd.from_api(data) if isinstance(data, dict) else Dnd()
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "error")
            if error in NO_SUCH_PERSON and len(people) == 1:
                return {people[0]: Dnd()}  # nobody Slack knows: no do-not-disturb to wait for
            self._unavailable(team_id, error, now)
            return {}
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._unavailable(team_id, type(exc).__name__, now)
            return {}
        return found

    def _unavailable(self, team_id: str, error: str, now: datetime) -> None:
        self._resting[team_id] = now + timedelta(seconds=DND_RETRY_SECONDS)
        if (team_id, error) not in self._logged:
            self._logged.add((team_id, error))
            log.warning(
                "do-not-disturb is unknown in %s (%s%s); messages go out without waiting for it",
                team_id,
                error,
                ": add the dnd:read scope" if error == "missing_scope" else "",
            )


class Holds:
    """What holds a person's messages: their time off (and, with it, Slack's do-not-disturb)."""

    def __init__(self, db: Database, dnd: DndDirectory | None = None) -> None:
        self._db = db
        self.dnd = dnd or DndDirectory()
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
        dnd = await self.dnd.get(ctx.client, team_id=ctx.ws.team_id, user_id=person, now=ctx.now)
        free = dnd.until(ctx.now) if dnd is not None else None
        if free is not None:
            return Later(until=free, reason="do not disturb: until Slack says it ends")
        return None
