"""When a decision counts as stalled, turned into moments a SQL query can compare against.

"Stalled" is: open and past its due date (in the workspace's time zone), or no activity for
``stall_after_days`` working days. The working-day rule is answered once per query by finding
the latest activity moment that is already ``stall_after_days`` working days old at ``now``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement

from bot.cadence.config import CadenceConfig
from bot.cadence.hours import add_working_days
from bot.decisions.service import stalled_clause


def activity_cutoff(now: datetime, cadence: CadenceConfig) -> datetime:
    """The latest moment whose activity is ``stall_after_days`` working days old at ``now``.

    ``add_working_days`` only moves forward, so search backwards for the boundary: it is
    monotonic in its start, and a second's precision is all any rule here needs.
    """
    days = cadence.nudges.stall_after_days
    zone, hours = cadence.zone, cadence.working_hours

    def old_enough(moment: datetime) -> bool:
        return add_working_days(moment, days, zone, hours) <= now

    # A working day can be separated from the next by at most six idle days, plus DST slack.
    low = now - timedelta(days=7 * (days + 1) + 2)
    high = now
    if not old_enough(low):
        return low
    while (high - low) > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if old_enough(middle):
            low = middle
        else:
            high = middle
    return low


def local_today(now: datetime, cadence: CadenceConfig) -> date:
    return now.astimezone(cadence.zone).date()


def stalled_now(now: datetime, cadence: CadenceConfig) -> ColumnElement[bool]:
    """The SQL condition for "stalled at ``now``" under this workspace's cadence."""
    return stalled_clause(
        today=local_today(now, cadence), activity_cutoff=activity_cutoff(now, cadence)
    )
