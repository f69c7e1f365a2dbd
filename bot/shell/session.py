"""The sandbox's conversation: one line in, everything the app did as a result, rendered.

A `Shell` holds who is typing and where, turns each line into what Slack would send (a slash
command, a button press, a form submission, an App Home visit, a message shortcut) and shows
every message, ephemeral, modal and file the app produced, labelled with where it appeared.
Modals are filled field by field through `Replies`: a person at a prompt, or the field lines of
a script.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from bot.devtools.fake_slack import Message
from bot.shell import render
from bot.shell.forms import (
    FieldProblem,
    command_text,
    describe_choices,
    initial_state,
    is_empty,
    parse_duration,
    typed_state,
)
from bot.shell.render import Control, Rendering, labelled
from bot.shell.sandbox import (
    Change,
    Deleted,
    FileShared,
    HomePublished,
    Observer,
    Posted,
    Refused,
    Responded,
    Sandbox,
    ViewShown,
    Whispered,
    ack_body,
)
from bot.shell.world import Person
from bot.slack.ids import Shortcut

JsonDict = dict[str, Any]

#: How often the worker ticks during an advance of up to so long. The real worker ticks every
#: minute; a tick here costs tens of milliseconds, so long advances tick more sparsely. Nothing
#: is lost that way: what falls due between two ticks goes out at the next one, as after a
#: worker restart, only not to the minute.
TICK_STEPS = (
    (timedelta(minutes=30), timedelta(minutes=1)),
    (timedelta(hours=6), timedelta(minutes=15)),
)
LONG_TICK_STEP = timedelta(hours=1)
#: How many rendered messages with buttons `:press` remembers.
PRESSABLE_MEMORY = 200
#: What `:press … on D-2` names exactly: an item reference, not text containing it.
_REFERENCE = re.compile(r"[DMA]-[0-9]+", re.IGNORECASE)

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


class Cancelled(Exception):
    """The form was closed instead of submitted; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Done(Exception):
    """Submit the form now, leaving the remaining fields as they are."""


@dataclass(frozen=True, slots=True)
class FieldPrompt:
    block_id: str
    label: str
    element: Mapping[str, Any]
    optional: bool
    hint: str
    current: str
    choices: str


class Replies(Protocol):
    """Where a form's answers (and a menu's choice, and a confirmation) come from."""

    async def field(self, prompt: FieldPrompt, problem: str | None) -> str | None:
        """The text typed for a field; None keeps it as it is. May raise Cancelled or Done.

        ``problem`` says why the value given last was refused (already shown to the person);
        it is None the first time a field is asked for.
        """
        ...

    async def confirm(self, title: str, question: str, yes: str) -> bool: ...


class Console(Protocol):
    def show(self, text: str) -> None: ...

    async def ask(self, prompt: str) -> str | None:
        """A line typed at ``prompt``; None when input has ended."""
        ...


@dataclass(slots=True)
class Pressable:
    """A rendered surface with numbered controls, and what a press on it must tell the app."""

    rendering: Rendering
    kind: str  # "message", "ephemeral", "modal" or "home"
    where: str
    channel: str | None = None
    ts: str | None = None
    message: JsonDict | None = None
    view: JsonDict | None = None
    audience: str | None = None  # the one person who sees it; None: whoever sees the channel

    @property
    def controls(self) -> list[Control]:
        return self.rendering.controls

    @property
    def text(self) -> str:
        return self.rendering.text


@dataclass(frozen=True, slots=True)
class Said:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[Any] | None = None


@dataclass(frozen=True, slots=True)
class ReplyTo:
    """Where a request's response_url leads: who acted, in which channel, on which message."""

    channel: str | None
    user: str
    origin_ts: str | None = None


@dataclass
class Shell:
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

    # --- the prompt and the dispatcher -----------------------------------------------------------

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

    def note(self, text: str) -> None:
        self.console.show(f"  {text}")

    def problem(self, text: str) -> None:
        """Something the person (or script) asked for could not be done."""
        self.problems.append(text)
        self.console.show(f"  ! {text}")

    def show_help(self) -> None:
        self.console.show(
            HELP.format(
                people=self.world.names_list(),
                rooms=self.world.rooms_list(),
                shortcuts=", ".join(s.value for s in Shortcut),
            )
        )

    # --- who and where ---------------------------------------------------------------------------

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

    def where(self, channel: str | None = None) -> str:
        return self.world.where(channel or self.channel)

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

    def time_text(self, moment: datetime) -> str:
        zone = self.sandbox.deps.cadence.zone
        local = moment.astimezone(zone)
        others = " · ".join(
            f"{p.name} {moment.astimezone(p.zone):%a %H:%M}" for p in self.world.people
        )
        return f"{local:%a %d %b %Y %H:%M} {zone.key} ({others})"

    # --- messages people type --------------------------------------------------------------------

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

    # --- buttons and menus -----------------------------------------------------------------------

    async def press(self, text: str, replies: Replies) -> None:
        words = text.split()
        about = None
        if "on" in words[1:]:
            cut = len(words) - 1 - words[::-1].index("on")
            words, about = words[:cut], " ".join(words[cut + 1 :])
        targets = [t for t in self._visible_pressables(self.user.id) if self._about(t, about)]
        if not targets:
            which = f" about {about!r}" if about else ""
            self.problem(f"Nothing to press: {self.user.name} sees no message{which} with buttons.")
            return
        try:
            target, control, choice = pick_control(targets, words)
        except LookupError as exc:
            self.problem(str(exc))
            return
        action = await self._action(control, choice, replies)
        if action is None:
            return
        self.note(f"({self.user.name} pressed [{control.label}] on {target.where})")
        driver = self.sandbox.driver
        message = None
        if target.kind in ("message", "ephemeral"):
            message = self._current_message(target)
        payload = driver.block_action_payload(
            action=action,
            user_id=self.user.id,
            channel_id=target.channel,
            message=message,
            view=target.view,
        )
        if target.kind == "ephemeral":
            # Slack names the ephemeral message it came from but does not send its content.
            payload["container"]["is_ephemeral"] = True
            payload.pop("message", None)
        if "response_url" in payload:
            self._remember_reply(
                payload["response_url"], channel=target.channel, origin_ts=target.ts
            )
        response = await driver.interact(payload)
        await self._after(response, replies)

    async def _action(self, control: Control, choice: str, replies: Replies) -> JsonDict | None:
        """The ``actions[0]`` Slack sends for ``control``; None when nothing is to be sent."""
        element = control.element
        if element.get("type") == "button":
            confirm = element.get("confirm")
            if isinstance(confirm, Mapping) and not await replies.confirm(
                render.plain_or_mrkdwn(confirm.get("title"), self.world),
                render.plain_or_mrkdwn(confirm.get("text"), self.world),
                render.plain_or_mrkdwn(confirm.get("confirm"), self.world) or "Yes",
            ):
                self.note("(not pressed)")
                return None
            if element.get("url"):
                self.note(f"(opens {element['url']} in the browser)")
            return action_for(control)
        prompt = self._field_prompt(control.label, control.block_id, element, optional=False)
        text = choice or None
        problem = None
        while True:
            try:
                if text is None:
                    text = await replies.field(prompt, problem)
                if text is None:
                    raise Cancelled(f"say what to pick, e.g. `:press {control.number} <choice>`")
                state = typed_state(element, text, **self._typing_context())
            except (Cancelled, Done) as exc:
                reason = exc.reason if isinstance(exc, Cancelled) else "nothing picked"
                self.problem(f"Not pressed: {reason}.")
                return None
            except FieldProblem as exc:
                problem, text = self._refused_field(prompt, exc.message), None
                continue
            return action_for(control, state)

    def _save_file(self, name: str, content: bytes) -> Path:
        """Write an uploaded file under the sandbox's folder; a name used before gets a number."""
        folder = self.sandbox.files_dir
        folder.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name) or "file"
        path = folder / safe
        for n in itertools.count(2):
            if not path.exists():
                break
            path = folder / f"{Path(safe).stem}-{n}{Path(safe).suffix}"
        path.write_bytes(content)
        return path

    def _about(self, target: Pressable, about: str | None) -> bool:
        """Whether ``target`` is what ``on <about>`` names: a place (``#design``, ``dm``) or a
        surface whose text mentions it (``D-2``)."""
        if about is None:
            return True
        if about.lower() == "dm":
            return target.channel == self.world.dm_id(self.user.id)
        if about.startswith("#"):
            room = self.world.room(about)
            return room is not None and target.channel == room.id
        if _REFERENCE.fullmatch(about):
            # A reference names one item exactly: "D-2" is not the start of "D-29".
            pattern = rf"(?<![A-Za-z0-9-]){re.escape(about)}(?![0-9])"
            return re.search(pattern, target.text, re.IGNORECASE) is not None
        return about.lower() in target.text.lower()

    def _visible_pressables(self, user_id: str) -> list[Pressable]:
        """What ``user_id`` can see that has buttons, latest first."""
        visible = []
        for target in reversed(self.pressables):
            if not target.controls:
                continue
            if target.audience is not None:
                if target.audience == user_id:
                    visible.append(target)
            elif target.channel is None or self.world.may_see(user_id, target.channel):
                visible.append(target)
        return visible

    def _current_message(self, target: Pressable) -> JsonDict:
        """The message as Slack has it now (the app may have edited it since it was shown)."""
        if target.channel and target.ts:
            current = self.sandbox.fake.messages.get((target.channel, target.ts))
            if current is not None:
                return message_json(current, bot_id=self.sandbox.fake.bot_id)
        return dict(target.message or {"ts": target.ts or "0.0", "type": "message", "text": ""})

    def _remember(self, target: Pressable) -> None:
        """Keep ``target`` for `:press`, forgetting older renderings of the same surface."""
        if target.kind in ("message", "ephemeral") and target.ts:
            same = (target.channel, target.ts)
            self.pressables = [p for p in self.pressables if (p.channel, p.ts) != same]
        elif target.kind == "home":
            self.pressables = [
                p
                for p in self.pressables
                if not (p.kind == "home" and p.audience == target.audience)
            ]
        elif target.kind == "modal" and target.view is not None:
            view_id = target.view.get("id")
            self.pressables = [
                p
                for p in self.pressables
                if not (p.view is not None and p.view.get("id") == view_id)
            ]
        self.pressables.append(target)
        del self.pressables[:-PRESSABLE_MEMORY]

    # --- the clock and the worker ----------------------------------------------------------------

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

    # --- after a request: what came back, what changed, which forms to fill ----------------------

    async def _after(
        self, response: httpx.Response, replies: Replies, *, show_ack: bool = False
    ) -> list[Change]:
        await self.sandbox.settle()
        if response.status_code != 200:
            self.console.show(
                f"[slack] the app answered HTTP {response.status_code}; "
                "Slack shows the person an error"
            )
        body = ack_body(response) if show_ack else None
        if body is not None:
            self.show_reply(body, ReplyTo(self.channel, self.user.id))
        changes = self.observer.changes()
        self.show_changes(changes)
        await self.fill_forms(replies)
        return changes

    def _remember_reply(
        self, url: str, *, channel: str | None = None, origin_ts: str | None = None
    ) -> None:
        key = url.rsplit("/", 1)[-1]
        self.reply_to[key] = ReplyTo(channel or self.channel, self.user.id, origin_ts)

    def show_reply(self, body: Mapping[str, Any], to: ReplyTo) -> None:
        """An acknowledgement's or ``respond()``'s message, as Slack shows it."""
        where = self.where(to.channel) if to.channel else "?"
        replaces = to.origin_ts is not None and (
            body.get("replace_original") is True or body.get("delete_original") is True
        )
        if replaces:
            self.pressables = [
                p for p in self.pressables if (p.channel, p.ts) != (to.channel, to.origin_ts)
            ]
        if body.get("delete_original"):
            self.console.show(f"[{where}] (the message was deleted)")
            return
        if not body.get("text") and not body.get("blocks"):
            return
        public = body.get("response_type") == "in_channel"
        if public:
            label = f"[{where}] bot (edited):" if replaces else f"[{where}] bot:"
        else:
            label = f"[{self._only(to.user, to.channel)}{', replacing it' if replaces else ''}]"
        rendering = render.render_message(
            text=body.get("text"), blocks=body.get("blocks"), names=self.world
        )
        self.console.show(labelled(label, rendering))
        ts = to.origin_ts if replaces and to.origin_ts else self._next_ts()
        self._remember(
            Pressable(
                rendering,
                "message" if public else "ephemeral",
                f"the {'message' if public else 'reply'} in {where}",
                channel=to.channel,
                ts=ts,
                message={"type": "message", "ts": ts, **body},
                audience=None if public else to.user,
            )
        )

    def _next_ts(self) -> str:
        """A message timestamp for what the pretend Slack does not number itself."""
        return f"{int(self.sandbox.clock.now().timestamp())}.{next(self._said):06d}"

    def _only(self, user: str, channel: str | None) -> str:
        who = "you" if user == self.user.id else (self.world.user_name(user) or user)
        if channel is None or channel == self.channel:
            return f"only {who}"
        return f"only {who}, in {self.where(channel)}"

    def show_changes(self, changes: Sequence[Change]) -> None:
        for change in changes:
            match change:
                case Posted(message=message, edited=edited):
                    self._show_post(message, edited=edited)
                case Whispered(ephemeral=e):
                    rendering = render.render_message(
                        text=e.text, blocks=e.blocks, names=self.world
                    )
                    self.console.show(labelled(f"[{self._only(e.user, e.channel)}]", rendering))
                    self._remember(
                        Pressable(
                            rendering,
                            "ephemeral",
                            f"the reply in {self.where(e.channel)}",
                            channel=e.channel,
                            ts=e.ts,
                            message={"type": "message", "ts": e.ts, "text": e.text or ""},
                            audience=e.user,
                        )
                    )
                case ViewShown(view=view, how=how):
                    self._show_view(view, how)
                case HomePublished(user_id=user_id, view=view):
                    rendering = render.render_view(view, self.world)
                    who = "" if user_id == self.user.id else f" of {self.world.user_name(user_id)}"
                    self.console.show(labelled(f"[home{who}]", rendering))
                    self._remember(
                        Pressable(
                            rendering,
                            "home",
                            "the App Home",
                            view=view,
                            audience=user_id,
                        )
                    )
                case FileShared(file=f):
                    size = render.size_text(len(f.content))
                    saved = self._save_file(f.name, f.content)
                    lines = [f"[file] {f.name} ({size}), saved as {saved}"]
                    if f.title and f.title != f.name:
                        lines.append(f.title)
                    if f.initial_comment:
                        lines.append(render.mrkdwn(f.initial_comment, self.world))
                    for place in [self.where(c) for c in f.channels] or ["uploaded"]:
                        self.console.show(labelled(f"[{place}]", "\n".join(lines)))
                case Deleted(channel=gone_from, ts=ts):
                    self.console.show(f"[{self.where(gone_from)}] (a message was deleted)")
                    self.pressables = [
                        p for p in self.pressables if (p.channel, p.ts) != (gone_from, ts)
                    ]
                case Refused(call=call):
                    self.console.show(f"[slack] {call.method} was refused: {call.error}")
                case Responded(url_key=key, body=body):
                    self.show_reply(body, self.reply_to.get(key, ReplyTo(None, self.user.id)))

    def _show_post(self, message: Message, *, edited: bool) -> None:
        rendering = render.render_message(
            text=message.text,
            blocks=message.blocks,
            names=self.world,
            attachments=message.attachments,
        )
        where = self.where(message.channel)
        self.console.show(labelled(f"[{where}] bot{' (edited)' if edited else ''}:", rendering))
        owner = self.world.dm_owner(message.channel)
        self._remember(
            Pressable(
                rendering,
                "message",
                f"the message in {where}",
                channel=message.channel,
                ts=message.ts,
                audience=owner.id if owner else None,
            )
        )
        if not edited:
            self.timeline.append(
                Said(message.channel, message.ts, message.user, message.text or "", message.blocks)
            )

    def _show_view(self, view: JsonDict, how: str) -> None:
        if view.get("type") != "modal":
            return
        label = {"open": "[modal]", "push": "[modal, on top]", "update": "[modal, updated]"}[how]
        self._show_modal(view, label)
        if how == "open":
            self.modals = [view]
        elif how == "push":
            self.modals.append(view)
        else:
            self.modals = [view if m.get("id") == view.get("id") else m for m in self.modals]

    def _show_modal(self, view: JsonDict, label: str) -> None:
        rendering = render.render_view(view, self.world)
        self.console.show(labelled(label, rendering))
        self._remember(Pressable(rendering, "modal", "the form", view=view, audience=self.user.id))

    # --- forms -----------------------------------------------------------------------------------

    async def fill_forms(self, replies: Replies) -> None:
        """Fill and submit the modal on top until none is left open."""
        while self.modals:
            view = self.modals[-1]
            if not view.get("submit"):
                # Nothing to submit: it was read, and is closed with its Close button.
                self._close(view)
                continue
            try:
                await self._submit_until_accepted(view, replies)
            except Cancelled as exc:
                self.problem(f"Form closed without submitting: {exc.reason.rstrip('.')}.")
                self.modals.clear()

    async def _submit_until_accepted(self, view: JsonDict, replies: Replies) -> None:
        values = await self._fill(view, replies)
        while True:
            payload = self.sandbox.driver.view_submission_payload(view, {}, user_id=self.user.id)
            payload["view"]["state"] = {"values": values}
            response = await self.sandbox.driver.interact(payload)
            await self.sandbox.settle()
            body = ack_body(response) or {}
            self.show_changes(self.observer.changes())
            match body.get("response_action"):
                case "errors":
                    errors = {str(k): str(v) for k, v in (body.get("errors") or {}).items()}
                    self.console.show("[modal] not accepted:")
                    for block_id, error in errors.items():
                        self.console.show(f"  ! {_label_of(view, block_id)}: {error}")
                    values = await self._fill(view, replies, errors=errors, values=values)
                    continue
                case "update":
                    new = _as_shown(body.get("view") or {}, like=view)
                    self._show_modal(new, "[modal, updated]")
                    self.modals[-1] = new
                case "push":
                    new = _as_shown(body.get("view") or {}, like=None)
                    self._show_modal(new, "[modal, on top]")
                    self.modals.append(new)
                case "clear":
                    self.modals.clear()
                case _:
                    self._close(view)
            return

    def _close(self, view: JsonDict) -> None:
        self.modals = [m for m in self.modals if m.get("id") != view.get("id")]
        self.pressables = [
            p
            for p in self.pressables
            if not (p.view is not None and p.view.get("id") == view.get("id"))
        ]

    async def _fill(
        self,
        view: JsonDict,
        replies: Replies,
        *,
        errors: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The form's state after the person filled it; only the fields in ``errors`` again."""
        filled: dict[str, Any] = dict(values or {})
        done = False
        for index, block in enumerate(view.get("blocks") or []):
            if block.get("type") != "input":
                continue
            element = block.get("element") or {}
            block_id = str(block.get("block_id") or f"input-{index}")
            action_id = str(element.get("action_id") or "input")
            previous = (filled.get(block_id) or {}).get(action_id)
            state = dict(previous) if previous else initial_state(element)
            optional = bool(block.get("optional"))
            skip = errors is not None and block_id not in errors
            if skip or (done and (optional or not is_empty(state))):
                filled[block_id] = {action_id: state}
                continue
            prompt = self._field_prompt(
                render.plain_or_mrkdwn(block.get("label"), self.world),
                block_id,
                element,
                optional=optional,
                hint=render.plain_or_mrkdwn(block.get("hint"), self.world),
                state=state,
            )
            problem = errors.get(block_id) if errors else None
            while True:
                try:
                    text = await replies.field(prompt, problem)
                except Done:
                    done, text = True, None
                try:
                    if text is not None:
                        state = typed_state(element, text, **self._typing_context())
                except FieldProblem as exc:
                    problem = self._refused_field(prompt, exc.message)
                    continue
                if not optional and is_empty(state):
                    # Slack's client refuses to submit a form with a required field empty.
                    problem = self._refused_field(prompt, "Please fill out this field.")
                    continue
                break
            filled[block_id] = {action_id: state}
        return filled

    def _refused_field(self, prompt: FieldPrompt, problem: str) -> str:
        """Show why a typed value was not taken (as Slack's client would) and return it."""
        self.console.show(f"  ! {prompt.label}: {problem}")
        return problem

    def _field_prompt(
        self,
        label: str,
        block_id: str,
        element: Mapping[str, Any],
        *,
        optional: bool,
        hint: str = "",
        state: Mapping[str, Any] | None = None,
    ) -> FieldPrompt:
        return FieldPrompt(
            block_id=block_id,
            label=label,
            element=element,
            optional=optional,
            hint=hint,
            current=state_text(state or {}, self.world),
            choices=describe_choices(element, self.world),
        )

    def _typing_context(self) -> dict[str, Any]:
        zone = self.user.zone
        return {
            "world": self.world,
            "today": self.sandbox.clock.now().astimezone(zone).date(),
            "zone": zone,
        }


# --- pure helpers --------------------------------------------------------------------------------


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


def action_for(control: Control, state: Mapping[str, Any] | None = None) -> JsonDict:
    """The action Slack reports for pressing ``control``, or picking ``state`` in it."""
    element = control.element
    action: JsonDict = {
        "type": element.get("type"),
        "action_id": element.get("action_id") or f"action-{control.number}",
        "block_id": control.block_id or f"block-{control.number}",
    }
    if element.get("type") == "button":
        action["text"] = element.get("text")
        action.update({k: element[k] for k in ("value", "style", "url") if k in element})
        return action
    action.update({k: v for k, v in (state or {}).items() if k != "type"})
    action.update({k: v for k, v in element.items() if k.startswith("initial_")})
    return action


def pick_control(
    targets: Sequence[Pressable], words: Sequence[str]
) -> tuple[Pressable, Control, str]:
    """The surface and control ``words`` name, and the words left over (a menu's choice).

    A number means a control of the latest surface; a label means the latest surface that has
    a control so labelled.
    """
    if not words or words[0].isdigit():
        control, rest = find_control(targets[0].controls, words)
        return targets[0], control, rest
    for target in targets:
        try:
            control, rest = find_control(target.controls, words)
        except LookupError:
            continue
        return target, control, rest
    find_control(targets[0].controls, words)  # raises, listing what the latest one offers
    raise AssertionError("find_control found what it did not find before")


def find_control(controls: Sequence[Control], words: Sequence[str]) -> tuple[Control, str]:
    """The control named by ``words`` (a number or the start of a label) and the rest of them."""
    listing = ", ".join(f"{c.number} {c.label}" for c in controls)
    if not words:
        if len(controls) == 1:
            return controls[0], ""
        raise LookupError(f"Which one? {listing}.")
    if words[0].isdigit():
        number = int(words[0])
        found = next((c for c in controls if c.number == number), None)
        if found is None:
            raise LookupError(f"There is no {number}; the choices are {listing}.")
        return found, " ".join(words[1:])
    for count in range(len(words), 0, -1):
        wanted = _label_key(" ".join(words[:count]))
        for control in controls:
            if _label_key(control.label.split(":", 1)[0]) == wanted:
                return control, " ".join(words[count:])
    raise LookupError(f"No {' '.join(words)!r} to press; the latest choices are {listing}.")


def _label_key(text: str) -> str:
    return " ".join(text.lower().replace("…", " ").strip(" .:?!").split())


def state_text(state: Mapping[str, Any], names: render.Names) -> str:
    """A form element's state as a person reads it."""
    parts: list[str] = []
    for key, value in state.items():
        if key == "type" or value in (None, "", []):
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, Mapping):
                parts.append(render.option_label(item, names))
            elif key.startswith("selected_user"):
                parts.append("@" + (names.user_name(str(item)) or str(item)))
            elif key.startswith(("selected_conversation", "selected_channel")):
                parts.append("#" + (names.channel_name(str(item)) or str(item)))
            else:
                parts.append(str(item))
    return ", ".join(parts)


def _label_of(view: Mapping[str, Any], block_id: str) -> str:
    for block in view.get("blocks") or []:
        if block.get("block_id") == block_id:
            return render.plain_or_mrkdwn(block.get("label"), render.NoNames()) or block_id
    return block_id


def _as_shown(view: Mapping[str, Any], *, like: Mapping[str, Any] | None) -> JsonDict:
    """A view from a ``response_action`` as Slack would show it: with an id, a hash, a state."""
    shown: JsonDict = dict(view)
    serial = next(_view_serial)
    shown.setdefault("id", like.get("id") if like else f"VSHELL{serial:06d}")
    shown.setdefault("hash", f"shell.{serial:08d}")
    shown.setdefault("state", {"values": {}})
    shown.setdefault("private_metadata", "")
    shown.setdefault("callback_id", "")
    return shown


_view_serial = itertools.count(1)


def message_json(message: Message, *, bot_id: str) -> JsonDict:
    """A stored message as Slack puts it in an interaction payload."""
    body: JsonDict = {
        "type": "message",
        "user": message.user,
        "bot_id": bot_id,
        "text": message.text or "",
        "ts": message.ts,
    }
    if message.blocks is not None:
        body["blocks"] = message.blocks
    if message.thread_ts is not None:
        body["thread_ts"] = message.thread_ts
    return body
