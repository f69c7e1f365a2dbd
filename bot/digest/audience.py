"""Whose numbers a digest, a stats reply or an export shows: the one rule for items from DMs.

An item recorded in a DM or group DM (``direct``) is private to that conversation, and its
numbers belong to its owner alone: it counts in the owner's own digest, stats and export (the
personal ones), and never in a channel's digest or in anyone else's numbers, not even those
of someone else in the same group DM (docs/METRICS.md). Every other item counts where its
channel is one the audience may read.

Every figure, stalled list and export row goes through ``Audience.clause``. The metrics and
export modules also accept a plain collection of channel ids, which is a channel's audience
(no person, so no DM item at all), or None for no narrowing (every item: the arithmetic's own
tests).

The owner of a decision is its owner; of a meeting, its organizer; of an action item (or any
outcome), its owner, else whoever recorded it. An action item is where its meeting is, or, for
a follow-through action with no meeting, where its decision is.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_

from bot.decisions.models import Decision
from bot.meetings import place
from bot.meetings.models import Meeting, Outcome

#: The channel key under which per-channel figures gather a person's DM items, whichever DMs
#: they came from: a DM has no name worth a row of its own.
DIRECT_KEY = "direct"
#: Kept among a personal report's channels (``covers``): only that person may read it again.
_PERSON_MARK = "direct:"

# (channel, direct, owner) of each kind of item.
Item = tuple[Any, Any, Any]
DECISION: Item = (Decision.channel_id, Decision.direct, Decision.owner_id)
MEETING: Item = (Meeting.channel_id, Meeting.direct, Meeting.organizer_id)
#: An outcome's conversation is its meeting's, else its decision's (select from place.SOURCE).
OUTCOME: Item = (
    place.CHANNEL,
    place.DIRECT,
    func.coalesce(Outcome.owner_id, Outcome.creator_id),
)


@dataclass(frozen=True, slots=True)
class Audience:
    """The channels whose items count, and the person whose DM items count too (if any)."""

    channels: frozenset[str]
    #: The reader of a personal digest, stats reply or export; None for a channel's digest.
    person: str | None = None

    def clause(self, channel: Any, direct: Any, owner: Any) -> ColumnElement[bool]:
        """An item counts: a channel's item in ``channels``, or a DM item ``person`` owns."""
        # An empty IN, not false(): and_() would fold false() into the whole WHERE clause,
        # dropping its join conditions with it (SQLAlchemy warns of a cartesian product).
        shared = and_(~direct, channel.in_(sorted(self.channels)))
        if self.person is None:
            return shared
        return or_(shared, and_(direct, owner == self.person))

    def allows(self, channel_id: str, direct: bool, owner_id: str | None) -> bool:
        """``clause`` for one item in hand."""
        if direct:
            return self.person is not None and owner_id == self.person
        return channel_id in self.channels

    def covers(self) -> frozenset[str]:
        """What a report for this audience covered, as stored with it: its channels and, for a
        person, a mark that it may hold their DM items (`bot.digest.reports.readable_by`)."""
        if self.person is None:
            return self.channels
        return self.channels | {_PERSON_MARK + self.person}

    @classmethod
    def covering(cls, covered: Collection[str]) -> Audience:
        """The audience a stored report's ``covers()`` came from."""
        people = [c.removeprefix(_PERSON_MARK) for c in covered if c.startswith(_PERSON_MARK)]
        channels = frozenset(c for c in covered if not c.startswith(_PERSON_MARK))
        return cls(channels=channels, person=people[0] if people else None)


Scope = Collection[str] | Audience | None


def audience_of(scope: Scope) -> Audience | None:
    """``scope`` as an Audience: a plain collection is a channel's (no DM items); None is none."""
    if scope is None or isinstance(scope, Audience):
        return scope
    return Audience(channels=frozenset(scope))


def channel_key(channel: Any, direct: Any) -> ColumnElement[Any]:
    """The per-channel grouping key: the channel, or ``DIRECT_KEY`` for any DM item."""
    # Inlined, not a bound parameter: PostgreSQL must see the same expression in GROUP BY.
    return case((direct, literal_column(f"'{DIRECT_KEY}'")), else_=channel)
