"""The stall rule as SQL on the decisions table.

The moments come from the pure calendar arithmetic of `bot.cadence.stall` (`StallBounds`: the
local day before which due dates are past, and the activity cutoff of each owner); this
module turns them into conditions on `Decision` rows, so every query that asks "stalled?"
asks it the same way: one indexable condition however many decisions there are.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, case, literal, or_

from bot.cadence.config import CadenceConfig
from bot.cadence.stall import StallBounds, stall_bounds
from bot.db import UTCDateTime
from bot.decisions.models import Decision, DecisionStatus


def activity_cutoff_of_owner(
    activity_cutoff: datetime, owner_cutoffs: Mapping[str, datetime] | None = None
) -> ColumnElement[datetime] | datetime:
    """The activity cutoff of each decision's owner: ``activity_cutoff``, or for the owners in
    ``owner_cutoffs`` (people whose away days fall in the count) their own, earlier one."""
    if not owner_cutoffs:
        return activity_cutoff
    return case(
        *[
            (Decision.owner_id == owner, literal(cutoff, UTCDateTime))
            for owner, cutoff in sorted(owner_cutoffs.items())
        ],
        else_=literal(activity_cutoff, UTCDateTime),
    )


def cutoff_column(bounds: StallBounds) -> ColumnElement[datetime] | datetime:
    """``bounds.cutoff_of(owner)`` as a SQL value on the decisions row."""
    return activity_cutoff_of_owner(bounds.cutoff, bounds.owner_cutoffs)


def stalled_clause(bounds: StallBounds) -> ColumnElement[bool]:
    """Open and past due (before ``bounds.today``), or without a due date and no activity
    since its owner's cutoff. A due date still to come is the team's own deadline: before it
    passes, quiet is not stalling. The SQL twin of `StallBounds.is_stalled`.
    """
    return and_(
        Decision.status == DecisionStatus.OPEN,
        or_(
            Decision.due_date < bounds.today,
            and_(Decision.due_date.is_(None), Decision.last_activity_at <= cutoff_column(bounds)),
        ),
    )


def stalled_now(
    now: datetime,
    cadence: CadenceConfig,
    days_off: Mapping[str, Collection[date]] | None = None,
) -> ColumnElement[bool]:
    """The SQL condition for "stalled at ``now``" under this workspace's cadence (and its
    people's days off)."""
    return stalled_clause(stall_bounds(now, cadence, days_off))
