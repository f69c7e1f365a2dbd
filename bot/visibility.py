"""What one reader may see, as plain values the domain services put into their SQL.

The Slack layer works out which conversations the reader may read (``bot/slack/privacy.py``);
the services only ever get this value, so every LIMIT, count and page is taken over what the
reader may see. An item is visible when its conversation is readable, or when the reader owns
or recorded it (they were told of it anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_
from sqlalchemy.orm import InstrumentedAttribute


@dataclass(frozen=True, slots=True)
class Visibility:
    """The reader, and the conversations of this workspace whose items they may see."""

    reader: str
    channels: frozenset[str]

    def allows(self, channel_id: str, *people: str | None) -> bool:
        return channel_id in self.channels or self.reader in people

    def clause(
        self,
        channel: InstrumentedAttribute[str] | ColumnElement[str],
        *people: InstrumentedAttribute[str] | InstrumentedAttribute[str | None],
    ) -> ColumnElement[bool]:
        """``channel`` is readable, or one of the ``people`` columns is the reader."""
        terms: list[ColumnElement[bool]] = [person == self.reader for person in people]
        if self.channels:
            terms.append(channel.in_(sorted(self.channels)))
        return or_(false(), *terms)
