"""Showing what the app did as Slack shows it (posts, edits, ephemerals, modals, the App
Home, files, replies to a response_url), and remembering what has buttons for `:press`."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.devtools.fake_slack import Message
from bot.shell import render
from bot.shell.render import labelled
from bot.shell.sandbox import (
    Change,
    Deleted,
    FileShared,
    HomePublished,
    Posted,
    Refused,
    Responded,
    ViewShown,
    Whispered,
)
from bot.shell.state import Pressable, ReplyTo, Said, ShellState

JsonDict = dict[str, Any]

#: How many rendered messages with buttons `:press` remembers.
PRESSABLE_MEMORY = 200


class Showing(ShellState):
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
