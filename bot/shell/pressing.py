"""`:press`: finding the button or menu a person means on what they can see, and sending
the block action Slack would send for it."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.devtools.fake_slack import Message
from bot.shell import render
from bot.shell.filling import FormFilling
from bot.shell.forms import FieldProblem, typed_state
from bot.shell.render import Control
from bot.shell.replies import Cancelled, Done, Replies
from bot.shell.state import Pressable

JsonDict = dict[str, Any]

#: What `:press … on D-2` names exactly: an item reference, not text containing it.
_REFERENCE = re.compile(r"[DMA]-[0-9]+", re.IGNORECASE)


class Pressing(FormFilling):
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
