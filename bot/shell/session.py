"""The sandbox's conversation: one line in, everything the app did as a result, rendered.

A `Shell` holds who is typing and where, turns each line into what Slack would send (a slash
command, a button press, a form submission, an App Home visit, a message shortcut) and shows
every message, ephemeral, modal and file the app produced, labelled with where it appeared.
Modals are filled field by field through `Replies`: a person at a prompt, or the field lines of
a script.

The session by job: `replies` (where input comes from), `state` (what the session knows),
`shown` (showing what the app did), `filling` (forms), `pressing` (`:press`), `clock`
(`:advance`, `:now`); this module reads each line and routes it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from bot.shell.clock import LONG_TICK_STEP, TICK_STEPS, TimeTravel, tick_moments
from bot.shell.filling import state_text
from bot.shell.forms import command_text
from bot.shell.pressing import Pressing, action_for, find_control, message_json, pick_control
from bot.shell.replies import Cancelled, Console, Done, FieldPrompt, Replies
from bot.shell.sandbox import HomePublished, Observer, Sandbox
from bot.shell.state import Pressable, ReplyTo, Said
from bot.shell.world import Person
from bot.slack.ids import Shortcut

JsonDict = dict[str, Any]

HELP = """\
Type as the current person in the current channel:
  /decision …  /meeting …  /outcome …  /hygiene …   any slash command of the app
  any other text                     a message in the channel (for :shortcut)
Sandbox commands:
  :as <name>                         become someone else: {people}
  :in #<channel> | :in dm            move to a channel ({rooms}) or to your DM with the app
  :press <n|label> [choice]          press button n, or the one so labelled, on the latest
                                     message you can see with buttons; a menu or a picker
                                     takes the choice: `:press Reassign ben`
  :press … on <#channel|dm|text>     … on the latest such message there, or mentioning text:
                                     `:press Decide on D-2`
  :shortcut <name>                   run a message shortcut ({shortcuts}) on the latest
                                     message in this channel
  :home                              open your App Home tab
  :advance <duration>                move the clock (3d, 2h, 30m, 1w, 1d4h), running the worker
                                     on the way: each minute up to 30m, each quarter hour up
                                     to 6h, each hour beyond
  :now                               the time, for everyone
  :who                               people and channels
  :help                              this text
  :quit                              leave (the database and the clock are kept)
In a form: Enter keeps a field as shown, - clears it, :done submits the rest as shown,
:cancel closes the form."""


@dataclass
class Shell(Pressing, TimeTravel):
    sandbox: Sandbox
    console: Console
    save_clock: Callable[[datetime], None] | None = None
    user: Person = field(init=False)
    channel: str = field(init=False)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        world = self.sandbox.world
        self.world = world
        self.user = world.people[0]
        self.channel = world.rooms[0].id
        self.observer = Observer(self.sandbox.fake)
        self.pressables: list[Pressable] = []
        self.modals: list[JsonDict] = []
        self.timeline: list[Said] = []
        self.reply_to: dict[str, ReplyTo] = {}  # by the response_url's last path segment
        self._said = itertools.count(1)

    @property
    def prompt(self) -> str:
        place = "dm" if self.channel == self.world.dm_id(self.user.id) else self.where()
        return f"{self.user.name}@{place}> "

    async def handle(self, line: str, replies: Replies) -> bool:
        """Carry out one line; False when the person asked to leave."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        if line.startswith("/"):
            await self.slash_command(line, replies)
            return True
        if not line.startswith(":"):
            self.say(line)
            return True
        word, _, rest = line[1:].partition(" ")
        rest = rest.strip()
        match word.lower():
            case "quit" | "exit" | "q":
                return False
            case "help" | "h" | "?":
                self.show_help()
            case "as":
                self.become(rest)
            case "in":
                self.move(rest)
            case "press" | "p":
                await self.press(rest, replies)
            case "shortcut":
                await self.shortcut(rest, replies)
            case "home":
                await self.open_home(replies)
            case "advance" | "wait":
                await self.advance(rest)
            case "now":
                self.console.show(self.time_text(self.sandbox.clock.now()))
            case "who":
                self.show_who()
            case "say":
                self.say(rest)
            case _:
                self.problem(f"No such sandbox command :{word}. :help lists them.")
        return True

    def show_help(self) -> None:
        self.console.show(
            HELP.format(
                people=self.world.names_list(),
                rooms=self.world.rooms_list(),
                shortcuts=", ".join(s.value for s in Shortcut),
            )
        )

    def become(self, name: str) -> None:
        person = self.world.person(name)
        if person is None:
            self.problem(f"Nobody called {name!r}; pick one of {self.world.names_list()}.")
            return
        was_dm = self.channel == self.world.dm_id(self.user.id)
        self.user = person
        self.world.reader_tz = person.tz
        if was_dm:
            # From someone's DM with the app, the new person goes to their own.
            self.channel = self.world.dm_id(person.id)
            self.note(f"In your DM with {self.world.bot_name}.")
        elif not self.world.may_see(person.id, self.channel):
            self.channel = self.world.rooms[0].id
            self.note(f"{person.name} is not in that channel; moved to {self.where()}.")
        self.note(f"You are {person.name} ({person.real_name}, {person.tz}).")

    def move(self, text: str) -> None:
        if text.lower() in ("dm", "@" + self.world.bot_name, self.world.bot_name):
            self.channel = self.world.dm_id(self.user.id)
            self.note(f"In your DM with {self.world.bot_name}.")
            return
        room = self.world.room(text)
        if room is None:
            self.problem(f"No channel {text!r}; pick one of {self.world.rooms_list()} or dm.")
            return
        if not self.world.may_see(self.user.id, room.id):
            self.problem(f"#{room.name} is private and {self.user.name} is not a member.")
            return
        self.channel = room.id
        self.note(f"In #{room.name}.")

    def show_who(self) -> None:
        now = self.sandbox.clock.now()
        lines = ["People:"]
        for p in self.world.people:
            local = now.astimezone(p.zone)
            admin = ", admin" if p.is_admin else ""
            lines.append(f"  {p.name:<6} {p.real_name} ({p.tz}{admin}), now {local:%a %H:%M}")
        lines.append("Channels:")
        for r in self.world.rooms:
            members = ", ".join(self.world.user_name(m) or m for m in r.members)
            kind = "private" if r.is_private else "public"
            lines.append(f"  #{r.name:<8} {kind}: {members}")
        self.console.show("\n".join(lines))

    def say(self, text: str) -> None:
        if not text:
            self.note("Say what? e.g. `:say Shall we switch payroll vendors?`")
            return
        self.timeline.append(Said(self.channel, self._next_ts(), self.user.id, text))
        self.console.show(f"[{self.where()}] {self.user.name}: {text}")

    async def slash_command(self, line: str, replies: Replies) -> None:
        command, _, text = line.partition(" ")
        form = self.sandbox.driver.command_form(
            command,
            command_text(text.strip(), self.world),
            user_id=self.user.id,
            channel_id=self.channel,
        )
        self._remember_reply(form["response_url"])
        response = await self.sandbox.driver.post(urlencode(form))
        if response.status_code == 404:
            self.problem(f'{command} failed with the error "dispatch_failed" (no such command).')
            return
        await self._after(response, replies, show_ack=True)

    async def shortcut(self, name: str, replies: Replies) -> None:
        wanted = name.strip().lower()
        callback = next(
            (s.value for s in Shortcut if wanted in (s.value, s.value.removeprefix("record_"))),
            None,
        )
        if callback is None:
            listing = ", ".join(s.value for s in Shortcut)
            self.problem(f"No message shortcut {name!r}; this app has {listing}.")
            return
        said = next((s for s in reversed(self.timeline) if s.channel == self.channel), None)
        if said is None:
            self.problem(f"No message in {self.where()} yet; type one first.")
            return
        message: JsonDict = {"ts": said.ts, "text": said.text, "user": said.user}
        if said.blocks:
            message["blocks"] = said.blocks
        payload = self.sandbox.driver.message_shortcut_payload(
            callback, user_id=self.user.id, channel_id=self.channel, message=message
        )
        self._remember_reply(payload["response_url"])
        response = await self.sandbox.driver.interact(payload)
        await self._after(response, replies)

    async def open_home(self, replies: Replies) -> None:
        response = await self.sandbox.driver.open_home(self.user.id)
        shown = await self._after(response, replies)
        if not any(isinstance(c, HomePublished) for c in shown):
            self.note("[home] (the app published nothing)")


__all__ = [
    "HELP",
    "LONG_TICK_STEP",
    "TICK_STEPS",
    "Cancelled",
    "Console",
    "Done",
    "FieldPrompt",
    "Pressable",
    "Replies",
    "ReplyTo",
    "Said",
    "Shell",
    "action_for",
    "find_control",
    "message_json",
    "pick_control",
    "state_text",
    "tick_moments",
]
