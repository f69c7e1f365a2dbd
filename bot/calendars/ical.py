"""Reading an RFC 5545 feed into the occurrences that count as meetings.

``icalendar`` parses; ``recurring-ical-events`` expands RRULE/RDATE, removes EXDATEs, applies
RECURRENCE-ID overrides (moved or edited occurrences) and handles time zones, DST included.
Nothing here parses iCalendar text by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from bot.calendars.fetch import FetchError

NOT_ICAL = "The address did not return an iCalendar (.ics) feed."
TITLE_MAX = 200


@dataclass(frozen=True, slots=True)
class EventRules:
    """Which occurrences are meetings (the cadence file's ``[calendars]`` section)."""

    include_all_day: bool = False
    min_attendees: int = 2


@dataclass(frozen=True, slots=True)
class Occurrence:
    uid: str
    recurrence_key: str
    title: str
    starts_at: datetime
    ends_at: datetime
    attendees: int
    organizer_email: str | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.uid, self.recurrence_key)


def _email(value: Any) -> str | None:
    text = str(value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    return text.lower() or None


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=zone).astimezone(UTC)
    return datetime.combine(value, time(), zone).astimezone(UTC)


def _attendees(event: icalendar.cal.Component) -> tuple[list[str], bool]:
    """The attendees' addresses, and whether every one of them declined."""
    raw = event.get("ATTENDEE")
    if raw is None:
        return [], False
    people = raw if isinstance(raw, list) else [raw]
    addresses: list[str] = []
    declined = 0
    for person in people:
        address = _email(person)
        if address is None or address in addresses:
            continue
        addresses.append(address)
        params = getattr(person, "params", {})
        if str(params.get("PARTSTAT", "")).upper() == "DECLINED":
            declined += 1
    return addresses, bool(addresses) and declined == len(addresses)


def parse_feed(
    body: bytes,
    *,
    start: datetime,
    end: datetime,
    rules: EventRules,
    zone: ZoneInfo,
) -> list[Occurrence]:
    """The meetings of the feed that overlap [start, end); ``FetchError`` when it is not iCal.

    Skipped: cancelled occurrences, ones every attendee declined, all-day events (unless
    ``rules`` include them) and events with fewer than ``rules.min_attendees`` people. Floating
    times are read in ``zone`` (the workspace's).
    """
    if b"BEGIN:VCALENDAR" not in body[:1024].upper():
        raise FetchError(NOT_ICAL)
    try:
        calendar = icalendar.Calendar.from_ical(body)
        events = recurring_ical_events.of(calendar).between(start, end)
    except (ValueError, TypeError, KeyError, IndexError):
        raise FetchError(NOT_ICAL) from None
    found: dict[tuple[str, str], Occurrence] = {}
    for event in events:
        if event.name != "VEVENT":
            continue
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        try:
            raw_start = event.decoded("DTSTART")
            raw_end = event.decoded("DTEND") if "DTEND" in event else None
        except (ValueError, TypeError, KeyError):
            continue
        all_day = not isinstance(raw_start, datetime)
        if all_day and not rules.include_all_day:
            continue
        starts_at = _instant(raw_start, zone)
        if raw_end is None:
            ends_at = starts_at + (timedelta(days=1) if all_day else timedelta(0))
        else:
            ends_at = _instant(raw_end, zone)
        if ends_at < starts_at:
            continue
        addresses, all_declined = _attendees(event)
        if all_declined:
            continue
        organizer = _email(event.get("ORGANIZER"))
        people = len(addresses) + (1 if organizer and organizer not in addresses else 0)
        if people < rules.min_attendees:
            continue
        recurrence = event.get("RECURRENCE-ID")
        key = _instant(recurrence.dt, zone).isoformat() if recurrence is not None else ""
        title = " ".join(str(event.get("SUMMARY") or "").split())[:TITLE_MAX] or "Calendar event"
        occurrence = Occurrence(
            uid=str(event.get("UID") or "")[:500] or f"{title}@{starts_at.isoformat()}",
            recurrence_key=key,
            title=title,
            starts_at=starts_at,
            ends_at=ends_at,
            attendees=people,
            organizer_email=organizer,
        )
        found[occurrence.key] = occurrence
    return list(found.values())
