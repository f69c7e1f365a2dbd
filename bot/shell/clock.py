"""`:advance` and `:now`: moving the sandbox's clock, running the worker on the way, and
saying what time it is for everyone."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.shell.forms import parse_duration
from bot.shell.shown import Showing

#: How often the worker ticks during an advance of up to so long. The real worker ticks every
#: minute; a tick here costs tens of milliseconds, so long advances tick more sparsely. Nothing
#: is lost that way: what falls due between two ticks goes out at the next one, as after a
#: worker restart, only not to the minute.
TICK_STEPS = (
    (timedelta(minutes=30), timedelta(minutes=1)),
    (timedelta(hours=6), timedelta(minutes=15)),
)

LONG_TICK_STEP = timedelta(hours=1)


class TimeTravel(Showing):
    async def advance(self, text: str) -> None:
        delta = parse_duration(text)
        if delta is None:
            self.problem(f"{text!r} is not a duration; try 30m, 2h, 3d, 1w or 1d4h.")
            return
        clock = self.sandbox.clock
        start = clock.now()
        end = start + delta
        for moment in tick_moments(start, end):
            await self.sandbox.run_due_jobs(moment)
            await self.sandbox.settle()
            changes = self.observer.changes()
            if changes:
                self.console.show(f"-- {self.time_text(moment)} --")
                self.show_changes(changes)
        clock.set(end)
        if self.save_clock is not None:
            self.save_clock(end)
        self.console.show(f"Now {self.time_text(end)}.")

    def time_text(self, moment: datetime) -> str:
        zone = self.sandbox.deps.cadence.zone
        local = moment.astimezone(zone)
        others = " · ".join(
            f"{p.name} {moment.astimezone(p.zone):%a %H:%M}" for p in self.world.people
        )
        return f"{local:%a %d %b %Y %H:%M} {zone.key} ({others})"


def tick_moments(start: datetime, end: datetime) -> list[datetime]:
    """When the worker ticks between ``start`` (excluded) and ``end`` (included).

    On whole minutes for short advances, quarter hours or hours for longer ones (`TICK_STEPS`);
    at ``end`` always.
    """
    step = next((s for up_to, s in TICK_STEPS if end - start <= up_to), LONG_TICK_STEP)
    unit = step.total_seconds()
    first = datetime.fromtimestamp((start.timestamp() // unit + 1) * unit, tz=start.tzinfo)
    moments = []
    moment = first
    while moment < end:
        moments.append(moment)
        moment += step
    if end > start:
        moments.append(end)
    return moments
