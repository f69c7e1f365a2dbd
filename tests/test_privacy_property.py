"""The privacy rule as a property: for any conversations, memberships, items and reader, every
read surface shows the reader exactly what the rule allows, on both engines.

The rule (issue #13): an item of a public channel is visible to everyone; of a private
channel, DM or group DM only to its members, plus the item's owner and whoever recorded it.
An item of a DM or group DM reads "a direct message", never its conversation's id (a group
DM's id may start with C or G, like a channel's), and counts only in its owner's numbers.
Everything is driven through signed HTTP and the fake Slack; the rows are stored through the
services, so each example costs a handful of requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.decisions import service as decisions
from bot.devtools.fake_slack import Channel
from bot.meetings import service as meetings
from bot.slack.privacy import ChannelFacts
from bot.workspace import WorkspaceKey
from tests.conftest import MONDAY, AppEnv, empty_all_tables

WS = WorkspaceKey("T1")
PEOPLE = ("U1", "U2", "U3", "UADMIN")
#: Where the reader types: public, and holding nothing.
LOBBY = "C0LOBBY"


@dataclass(frozen=True)
class Room:
    id: str
    kind: str  # "public" | "private" | "dm" | "mpim"
    members: frozenset[str]

    def readable_by(self, reader: str) -> bool:
        return self.kind == "public" or reader in self.members

    @property
    def direct(self) -> bool:
        return self.kind in ("dm", "mpim")


@dataclass(frozen=True)
class Item:
    room: int
    owner: str
    creator: str


@dataclass(frozen=True)
class World:
    rooms: tuple[Room, ...]
    decisions: tuple[Item, ...]
    actions: tuple[Item, ...]
    reader: str

    def sees(self, item: Item) -> bool:
        room = self.rooms[item.room]
        return room.readable_by(self.reader) or self.reader in (item.owner, item.creator)

    def counts(self, item: Item) -> bool:
        """In the reader's own numbers: a channel they may read, or a DM item they own."""
        room = self.rooms[item.room]
        return item.owner == self.reader if room.direct else room.readable_by(self.reader)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    kind = st.sampled_from(["public", "private", "dm", "mpim"])
    kinds = draw(st.lists(kind, min_size=1, max_size=4))
    rooms = []
    for i, kind in enumerate(kinds):
        # New group DMs get C ids, older ones G: only conversations.info tells them apart.
        prefix = {"public": "C", "private": "G", "dm": "D"}.get(kind) or draw(st.sampled_from("CG"))
        size = {"dm": (2, 2), "mpim": (3, 3)}.get(kind, (0, len(PEOPLE)))
        members = draw(
            st.lists(st.sampled_from(PEOPLE), min_size=size[0], max_size=size[1], unique=True)
        )
        rooms.append(Room(f"{prefix}{i}ROOM", kind, frozenset(members)))
    item = st.builds(
        Item,
        room=st.integers(0, len(rooms) - 1),
        owner=st.sampled_from(PEOPLE),
        creator=st.sampled_from(PEOPLE),
    )
    return World(
        rooms=tuple(rooms),
        decisions=tuple(draw(st.lists(item, max_size=6))),
        actions=tuple(draw(st.lists(item, max_size=3))),
        reader=draw(st.sampled_from(PEOPLE)),
    )


async def build(env: AppEnv, world: World) -> None:
    await empty_all_tables(env.deps.db)
    env.deps.channel_facts = ChannelFacts()
    env.deps.clock.set(MONDAY + timedelta(hours=1))  # type: ignore[attr-defined]
    env.fake.channels.clear()
    env.fake.add_channel(LOBBY, name="lobby")
    for room in world.rooms:
        env.fake.channels[room.id] = Channel(
            id=room.id,
            name=room.id.lower(),
            is_private=room.kind != "public",
            members=sorted(room.members),
            is_im=room.kind == "dm",
            is_mpim=room.kind == "mpim",
            user=min(room.members) if room.kind == "dm" else None,
        )
    async with env.deps.db.transaction() as session:
        await decisions.create_decisions(
            session,
            [
                decisions.new_decision(
                    ws=WS,
                    title=f"Decision {n}",
                    owner_id=d.owner,
                    creator_id=d.creator,
                    channel_id=world.rooms[d.room].id,
                    now=MONDAY,
                    direct=world.rooms[d.room].direct,
                )
                for n, d in enumerate(world.decisions, start=1)
            ],
        )
        for n, a in enumerate(world.actions, start=1):
            meeting = await meetings.log_meeting(
                session,
                ws=WS,
                title=f"Meeting {n}",
                organizer_id=a.creator,
                channel_id=world.rooms[a.room].id,
                now=MONDAY,
                direct=world.rooms[a.room].direct,
            )
            await meetings.add_outcome(
                session,
                ws=WS,
                meeting=meeting,
                draft=meetings.OutcomeDraft(text=f"Action {n}", owner_id=a.owner),
                creator_id=a.creator,
                now=MONDAY,
            )


def flat(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def check(env: AppEnv, world: World) -> None:
    await build(env, world)
    reader = world.reader
    expected = {f"Decision {n}" for n, d in enumerate(world.decisions, 1) if world.sees(d)}
    listed = flat(await env.answer("/decision", "list all", user_id=reader, channel_id=LOBBY))
    # At most six decisions: "Decision 1" is never the start of another title.
    for n in range(1, len(world.decisions) + 1):
        assert (f"Decision {n}" in listed) == (f"Decision {n}" in expected), (n, world, listed)
    surfaces = [listed]
    for n, d in enumerate(world.decisions, 1):
        shown = flat(await env.answer("/decision", f"show D-{n}", user_id=reader, channel_id=LOBBY))
        assert (f"There is no D-{n} in this workspace" not in shown) == world.sees(d), (n, world)
        if world.sees(d) and world.rooms[d.room].direct:
            assert "a direct message" in shown, (n, world)
        surfaces.append(shown)
    for n, a in enumerate(world.actions, 1):
        # The meeting is the organizer's (here the action's creator) and its conversation's.
        meeting_visible = world.rooms[a.room].readable_by(reader) or reader == a.creator
        shown = flat(await env.answer("/meeting", f"show M-{n}", user_id=reader, channel_id=LOBBY))
        assert (f"There is no M-{n} in this workspace" not in shown) == meeting_visible, world
        if meeting_visible and world.rooms[a.room].direct:
            assert "a direct message" in shown, (n, world)
        surfaces.append(shown)
    await env.interact(env.driver.open_home(reader))
    home = flat(env.fake.published_home[reader]["blocks"])
    stats = flat(await env.answer("/hygiene", "stats so far", user_id=reader, channel_id=LOBBY))
    surfaces += [home, stats]
    for room in world.rooms:
        if room.direct:
            assert not any(room.id in surface for surface in surfaces), (room, world)
    opened = sum(1 for d in world.decisions if world.counts(d))
    if opened:
        assert f"*Decisions opened*\\n{opened}" in stats, (opened, world, stats)
    else:
        assert "*Decisions opened*\\n" not in stats or "*Decisions opened*\\n0" in stats
    for n, d in enumerate(world.decisions, 1):
        on_home = reader in (d.owner, d.creator)
        assert (f"Decision {n}" in home) == on_home, (n, world)
    for n, a in enumerate(world.actions, 1):
        assert (f"Action {n}" in home) == (reader == a.owner), (n, world)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
async def test_every_read_surface_follows_the_rule(app_env: AppEnv, world: World) -> None:
    await check(app_env, world)
