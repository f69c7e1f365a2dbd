"""Filling in the app's modals field by field, submitting them and following the app's
answer (errors, an update, a pushed view); and what happens after any request to the app."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

import httpx

from bot.shell import render
from bot.shell.forms import FieldProblem, describe_choices, initial_state, is_empty, typed_state
from bot.shell.replies import Cancelled, Done, FieldPrompt, Replies
from bot.shell.sandbox import Change, ack_body
from bot.shell.shown import Showing
from bot.shell.state import ReplyTo

JsonDict = dict[str, Any]


class FormFilling(Showing):
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
