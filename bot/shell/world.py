"""The sandbox's workspace: a few people in different time zones, three channels, a cadence.

The people live far apart on purpose (Berlin, Los Angeles, Tokyo) so working hours, nudges and
dates visibly depend on whose clock it is. `#leads` is private, so the privacy rules show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.cadence.config import CadenceConfig
from bot.devtools.fake_slack import FakeSlack

TEAM_ID = "T0SANDBOX"
TEAM_NAME = "Sandbox"


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    real_name: str
    tz: str
    is_admin: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


@dataclass(frozen=True, slots=True)
class Room:
    id: str
    name: str
    members: tuple[str, ...]
    is_private: bool = False


ANA = Person("U0ANA", "ana", "Ana Alves", "Europe/Berlin", is_admin=True)
BEN = Person("U0BEN", "ben", "Ben Brooks", "America/Los_Angeles")
CHO = Person("U0CHO", "cho", "Cho Chiba", "Asia/Tokyo")
PEOPLE = (ANA, BEN, CHO)

GENERAL = Room("C0GENERAL", "general", (ANA.id, BEN.id, CHO.id))
DESIGN = Room("C0DESIGN", "design", (ANA.id, BEN.id, CHO.id))
LEADS = Room("G0LEADS", "leads", (ANA.id, CHO.id), is_private=True)
ROOMS = (GENERAL, DESIGN, LEADS)

#: The workspace's zone: weeks, the digest's day and time, and the sandbox's clock read in it.
ZONE = ZoneInfo("Europe/Berlin")
#: Where a new sandbox's clock starts: a Monday morning, just after the working day begins.
START = datetime(2026, 11, 23, 9, 30, tzinfo=ZONE)


def demo_cadence() -> CadenceConfig:
    """A brisk cadence, so one week of sandbox time shows nudges, an escalation and a digest."""
    return CadenceConfig.model_validate(
        {
            "timezone": ZONE.key,
            "working_hours": {
                "days": ["mon", "tue", "wed", "thu", "fri"],
                "start": time(9, 0),
                "end": time(17, 30),
            },
            "nudges": {
                "stall_after_days": 2,
                "repeat_every_days": 1,
                "escalate_after": 2,
                "escalate_to": LEADS.id,
                "outcome_grace_hours": 2,
            },
            "digest": {"day": "mon", "time": time(9, 0), "recipients": [ANA.id, LEADS.id]},
        }
    )


class World:
    """Who is who and what is where, by id or by the name people type."""

    def __init__(
        self,
        people: tuple[Person, ...] = PEOPLE,
        rooms: tuple[Room, ...] = ROOMS,
        *,
        bot_user_id: str = "UBOT",
        bot_name: str = "followthrough",
    ) -> None:
        self.people = people
        self.rooms = rooms
        self.bot_user_id = bot_user_id
        self.bot_name = bot_name
        #: The zone of whoever the sandbox acts as: Slack shows each reader dates in theirs.
        self.reader_tz: str | None = people[0].tz if people else None

    def populate(self, fake: FakeSlack) -> None:
        for person in self.people:
            fake.add_user(
                person.id,
                name=person.name,
                real_name=person.real_name,
                tz=person.tz,
                is_admin=person.is_admin,
            )
        for room in self.rooms:
            fake.add_channel(
                room.id, name=room.name, is_private=room.is_private, members=list(room.members)
            )

    # --- Names, for the renderer ----------------------------------------------------------------

    def user_name(self, user_id: str) -> str | None:
        if user_id == self.bot_user_id:
            return self.bot_name
        person = self.person_by_id(user_id)
        return person.name if person else None

    def channel_name(self, channel_id: str) -> str | None:
        room = self.room_by_id(channel_id)
        return room.name if room else None

    def reader_zone(self) -> str | None:
        return self.reader_tz

    # --- lookups ----------------------------------------------------------------------------------

    def person_by_id(self, user_id: str) -> Person | None:
        return next((p for p in self.people if p.id == user_id), None)

    def room_by_id(self, channel_id: str) -> Room | None:
        return next((r for r in self.rooms if r.id == channel_id), None)

    def person(self, text: str) -> Person | None:
        """``ana``, ``@ana``, ``Ana Alves`` or ``U0ANA``."""
        key = text.strip().lstrip("@").lower()
        for person in self.people:
            if key in (person.name, person.id.lower(), person.real_name.lower()):
                return person
        return None

    def room(self, text: str) -> Room | None:
        """``general``, ``#general`` or ``C0GENERAL``."""
        key = text.strip().lstrip("#").lower()
        return next((r for r in self.rooms if key in (r.name, r.id.lower())), None)

    def dm_id(self, user_id: str) -> str:
        """The id of a person's DM with the app, as the fake Slack numbers it."""
        return f"D{user_id}"

    def dm_owner(self, channel_id: str) -> Person | None:
        return self.person_by_id(channel_id[1:]) if channel_id.startswith("D") else None

    def may_see(self, user_id: str, channel_id: str) -> bool:
        """Whether ``user_id`` can read ``channel_id``: public rooms, their own rooms and DM."""
        owner = self.dm_owner(channel_id)
        if owner is not None:
            return owner.id == user_id
        room = self.room_by_id(channel_id)
        return room is None or not room.is_private or user_id in room.members

    def where(self, channel_id: str) -> str:
        """A conversation as a label: ``#general`` or ``DM to ana``."""
        owner = self.dm_owner(channel_id)
        if owner is not None:
            return f"DM to {owner.name}"
        return "#" + (self.channel_name(channel_id) or channel_id)

    def names_list(self) -> str:
        return ", ".join(p.name for p in self.people)

    def rooms_list(self) -> str:
        return ", ".join("#" + r.name for r in self.rooms)
