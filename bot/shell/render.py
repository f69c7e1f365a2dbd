"""Block Kit as terminal text: what a person in the sandbox reads instead of Slack's client.

Pure functions only, so every surface (messages, ephemerals, modals, App Home) renders the same
way and tests can check a rendering without running anything. Interactive elements are numbered
in reading order and returned as `Control`s, which is what ``:press <n>`` refers to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

JsonDict = Mapping[str, Any]

#: Element types a person can press or pick from outside an input block.
INTERACTIVE = frozenset(
    {
        "button",
        "overflow",
        "static_select",
        "multi_static_select",
        "external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "datepicker",
        "timepicker",
        "datetimepicker",
        "checkboxes",
        "radio_buttons",
    }
)

_CONTROL_SEQUENCE = re.compile(r"<([^<>]*)>")
_RULE = "─" * 40


class Names(Protocol):
    """Who and where an id is; the sandbox's demo workspace answers."""

    def user_name(self, user_id: str) -> str | None: ...

    def channel_name(self, channel_id: str) -> str | None: ...

    def reader_zone(self) -> str | None:
        """The time zone of the person reading, as Slack renders ``<!date…>`` in it."""
        ...


@dataclass(frozen=True, slots=True)
class NoNames:
    """Names for a rendering that knows nobody: ids are shown as they are."""

    def user_name(self, user_id: str) -> str | None:
        return None

    def channel_name(self, channel_id: str) -> str | None:
        return None

    def reader_zone(self) -> str | None:
        return None


@dataclass(frozen=True, slots=True)
class Control:
    """One numbered interactive element of a rendering."""

    number: int
    element: JsonDict
    block_id: str
    label: str


@dataclass(slots=True)
class Rendering:
    lines: list[str] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


# --- text ------------------------------------------------------------------------------------


def mrkdwn(text: str, names: Names) -> str:
    """Slack mrkdwn made readable: mentions become names, links show their target, entities go.

    Formatting marks (``*bold*``, ``_italic_``) are kept: they read fine as they are and
    stripping them would mangle text that merely contains an asterisk.
    """
    return _unescape(_CONTROL_SEQUENCE.sub(lambda m: _control(m.group(1), names), text))


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _control(inner: str, names: Names) -> str:
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (names.user_name(target[1:]) or label or target[1:])
    if target.startswith("#"):
        return "#" + (names.channel_name(target[1:]) or label or target[1:])
    if target.startswith("!"):
        return _special(target[1:], label, names)
    if label:
        return f"{label} ({target})"
    return target


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _date_token(command: str, zone_name: str | None) -> str | None:
    """``date^<stamp>^{date_short_pretty} {time}`` in the reader's zone, as Slack shows it."""
    parts = command.split("^")
    if len(parts) < 3 or not parts[1].isdigit() or not zone_name:
        return None
    try:
        moment = datetime.fromtimestamp(int(parts[1]), ZoneInfo(zone_name))
    except (ValueError, OverflowError, KeyError, ZoneInfoNotFoundError):
        return None
    day = f"{_WEEKDAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]} {moment.year}"
    return (
        parts[2]
        .replace("{date_short_pretty}", day)
        .replace("{date_short}", day)
        .replace("{date}", day)
        .replace("{time}", moment.strftime("%H:%M"))
    )


def _special(command: str, label: str, names: Names) -> str:
    """``<!here>``, ``<!subteam^S1|@team>``, ``<!date^…|fallback>`` as the client shows them;
    a date in the reading person's own zone, as Slack would."""
    name = command.split("^", 1)[0]
    if name == "date" and (shown := _date_token(command, names.reader_zone())) is not None:
        return shown
    if name in ("here", "channel", "everyone"):
        return "@" + name
    if label:
        return label
    return "@" + name


def plain_or_mrkdwn(obj: Any, names: Names) -> str:
    """The text of a text object, whichever kind it is."""
    if not isinstance(obj, Mapping):
        return ""
    text = str(obj.get("text") or "")
    return mrkdwn(text, names) if obj.get("type") == "mrkdwn" else text


def _plain(obj: Any) -> str:
    return str(obj.get("text") or "") if isinstance(obj, Mapping) else ""


# --- elements ---------------------------------------------------------------------------------


def options_of(element: JsonDict) -> list[JsonDict]:
    """Every option of a select, checkbox group or overflow, groups flattened."""
    found: list[JsonDict] = [o for o in element.get("options") or [] if isinstance(o, Mapping)]
    for group in element.get("option_groups") or []:
        if isinstance(group, Mapping):
            found += [o for o in group.get("options") or [] if isinstance(o, Mapping)]
    return found


def option_label(option: JsonDict, names: Names) -> str:
    return plain_or_mrkdwn(option.get("text"), names)


def element_label(element: JsonDict, names: Names) -> str:
    """What a person sees on an interactive element: its text, else what it would pick."""
    kind = str(element.get("type", ""))
    if kind == "button":
        return _plain(element.get("text")) or "Button"
    if kind == "overflow":
        return "⋯ " + " / ".join(option_label(o, names) for o in options_of(element))
    current = initial_text(element, names)
    placeholder = _plain(element.get("placeholder"))
    if current:
        return f"{placeholder or _KIND_NAMES.get(kind, kind)}: {current}"
    if placeholder:
        return placeholder
    if kind in ("checkboxes", "radio_buttons"):
        return " / ".join(option_label(o, names) for o in options_of(element))
    return _KIND_NAMES.get(kind, kind) + "…"


_KIND_NAMES = {
    "plain_text_input": "text",
    "number_input": "number",
    "email_text_input": "email",
    "url_text_input": "URL",
    "static_select": "choose one",
    "multi_static_select": "choose any",
    "external_select": "choose one",
    "users_select": "a person",
    "multi_users_select": "people",
    "conversations_select": "a conversation",
    "multi_conversations_select": "conversations",
    "channels_select": "a channel",
    "multi_channels_select": "channels",
    "datepicker": "a date",
    "timepicker": "a time",
    "datetimepicker": "a date and time",
    "checkboxes": "tick any",
    "radio_buttons": "choose one",
    "file_input": "files",
    "rich_text_input": "text",
}


def kind_name(element: JsonDict) -> str:
    kind = str(element.get("type", ""))
    return _KIND_NAMES.get(kind, kind)


def initial_text(element: JsonDict, names: Names) -> str:
    """An element's preset value as a person reads it; empty when it has none."""
    user = element.get("initial_user")
    if user:
        return _at(str(user), names)
    users = element.get("initial_users")
    if users:
        return ", ".join(_at(str(u), names) for u in users)
    for key in ("initial_conversation", "initial_channel"):
        if element.get(key):
            return _hash(str(element[key]), names)
    for key in ("initial_conversations", "initial_channels"):
        if element.get(key):
            return ", ".join(_hash(str(c), names) for c in element[key])
    option = element.get("initial_option")
    if isinstance(option, Mapping):
        return option_label(option, names)
    chosen = element.get("initial_options")
    if chosen:
        return ", ".join(option_label(o, names) for o in chosen if isinstance(o, Mapping))
    for key in ("initial_value", "initial_date", "initial_time"):
        if element.get(key) not in (None, ""):
            return str(element[key])
    return ""


def _at(user_id: str, names: Names) -> str:
    return "@" + (names.user_name(user_id) or user_id)


def _hash(channel_id: str, names: Names) -> str:
    return "#" + (names.channel_name(channel_id) or channel_id)


# --- blocks -----------------------------------------------------------------------------------


class _Renderer:
    def __init__(self, names: Names, first_number: int) -> None:
        self.names = names
        self.out = Rendering()
        self.next_number = first_number

    def control(self, element: JsonDict, block_id: str) -> str:
        label = element_label(element, self.names)
        self.out.controls.append(Control(self.next_number, element, block_id, label))
        text = f"[{self.next_number} {label}]"
        self.next_number += 1
        return text

    def add(self, text: str, indent: str = "") -> None:
        for line in text.split("\n"):
            self.out.lines.append(indent + line if line else line)

    def block(self, block: JsonDict) -> None:
        kind = block.get("type")
        block_id = str(block.get("block_id") or "")
        names = self.names
        if kind == "header":
            self.add(f"== {_plain(block.get('text'))} ==")
        elif kind == "section":
            self.section(block, block_id)
        elif kind == "context":
            parts = []
            for element in block.get("elements") or []:
                if element.get("type") == "image":
                    parts.append(f"[image: {element.get('alt_text', '')}]")
                else:
                    parts.append(plain_or_mrkdwn(element, names))
            self.add(" · ".join(p for p in parts if p.strip()), "  ")
        elif kind == "divider":
            self.add(_RULE)
        elif kind == "actions":
            elements = block.get("elements") or []
            self.add(" ".join(self.control(e, block_id) for e in elements))
        elif kind == "image":
            title = _plain(block.get("title"))
            self.add(f"[image: {block.get('alt_text', '')}]" + (f" {title}" if title else ""))
        elif kind == "input":
            self.input(block)
        elif kind == "rich_text":
            self.add(rich_text(block, names))
        elif kind == "markdown":
            self.add(str(block.get("text") or ""))
        elif kind == "file":
            self.add(f"[file: {block.get('external_id', '')}]")
        elif kind == "video":
            self.add(f"[video: {_plain(block.get('title'))}]")
        else:
            self.add(f"[{kind} block]")

    def section(self, block: JsonDict, block_id: str) -> None:
        text = plain_or_mrkdwn(block.get("text"), self.names)
        accessory = block.get("accessory")
        if isinstance(accessory, Mapping):
            if accessory.get("type") == "image":
                text += f" [image: {accessory.get('alt_text', '')}]"
            elif accessory.get("type") in INTERACTIVE:
                text += " " + self.control(accessory, block_id)
        if text.strip():
            self.add(text.strip())
        fields = [_field(f, self.names) for f in block.get("fields") or []]
        for left, right in zip(fields[::2], [*fields[1::2], ""], strict=False):
            self.add(f"{left} · {right}" if right else left, "  ")

    def input(self, block: JsonDict) -> None:
        element = block.get("element") or {}
        label = _plain(block.get("label"))
        preset = initial_text(element, self.names)
        notes = [kind_name(element)]
        if block.get("optional"):
            notes.append("optional")
        line = f"▸ {label} ({', '.join(notes)})"
        if preset:
            line += f": {preset}"
        self.add(line)
        hint = _plain(block.get("hint"))
        if hint:
            self.add(hint, "    ")


def _field(obj: Any, names: Names) -> str:
    """A section field; Slack's "*Label*\\nvalue" idiom reads as "Label: value"."""
    text = plain_or_mrkdwn(obj, names)
    first, sep, rest = text.partition("\n")
    if sep and len(first) > 2 and first.startswith("*") and first.endswith("*"):
        return f"{first[1:-1]}: {rest.replace(chr(10), ' ')}"
    return text.replace("\n", " ")


def rich_text(block: JsonDict, names: Names) -> str:
    """Rich text's sections, lists, quotes and code as plain lines."""
    lines: list[str] = []
    for element in block.get("elements") or []:
        kind = element.get("type")
        if kind == "rich_text_list":
            bullet = "1." if element.get("style") == "ordered" else "•"
            indent = "  " * int(element.get("indent") or 0)
            for item in element.get("elements") or []:
                lines.append(f"{indent}{bullet} {_inline(item, names)}")
        elif kind == "rich_text_quote":
            lines += ["> " + line for line in _inline(element, names).split("\n")]
        elif kind == "rich_text_preformatted":
            lines.append(_inline(element, names).rstrip("\n"))
        else:
            lines.append(_inline(element, names))
    return "\n".join(lines)


def _inline(section: JsonDict, names: Names) -> str:
    parts = []
    for item in section.get("elements") or []:
        kind = item.get("type")
        if kind == "text":
            parts.append(str(item.get("text") or ""))
        elif kind == "user":
            parts.append(_at(str(item.get("user_id")), names))
        elif kind == "channel":
            parts.append(_hash(str(item.get("channel_id")), names))
        elif kind == "link":
            label = item.get("text")
            parts.append(f"{label} ({item.get('url')})" if label else str(item.get("url")))
        elif kind == "emoji":
            parts.append(f":{item.get('name')}:")
        elif kind == "broadcast":
            parts.append(f"@{item.get('range')}")
        elif kind == "usergroup":
            parts.append(f"@{item.get('usergroup_id')}")
        elif kind == "date":
            parts.append(str(item.get("fallback") or item.get("timestamp")))
    return "".join(parts)


def render_blocks(blocks: Sequence[JsonDict], names: Names, *, first_number: int = 1) -> Rendering:
    renderer = _Renderer(names, first_number)
    for block in blocks:
        if isinstance(block, Mapping):
            renderer.block(block)
    return renderer.out


def render_message(
    *,
    text: str | None,
    blocks: Sequence[JsonDict] | None,
    names: Names,
    attachments: Sequence[JsonDict] | None = None,
) -> Rendering:
    """A message as its reader sees it: blocks when it has them, else its text."""
    if blocks:
        out = render_blocks(blocks, names)
    else:
        out = Rendering(lines=mrkdwn(text or "", names).split("\n"))
    for attachment in attachments or []:
        inner = attachment.get("blocks")
        if inner:
            more = render_blocks(inner, names, first_number=len(out.controls) + 1)
            out.lines += ["| " + line for line in more.lines]
            out.controls += more.controls
        body = attachment.get("text") or attachment.get("fallback")
        if body and not inner:
            out.lines += ["| " + line for line in mrkdwn(str(body), names).split("\n")]
    return out


def render_view(view: JsonDict, names: Names) -> Rendering:
    """A modal or App Home: its title, its blocks and, for a modal, its buttons."""
    out = Rendering()
    title = _plain(view.get("title"))
    if title:
        out.lines.append(f"┌ {title}")
    inner = render_blocks(view.get("blocks") or [], names)
    out.lines += inner.lines
    out.controls = inner.controls
    buttons = [_plain(view.get(key)) for key in ("submit", "close") if view.get(key)]
    if buttons:
        out.lines.append("└ " + " ".join(f"({b})" for b in buttons))
    return out


def labelled(label: str, body: Rendering | str) -> str:
    """``label`` and the body: on one line when the body is one line, else indented under it."""
    lines = list(body.lines) if isinstance(body, Rendering) else body.split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) <= 1:
        return f"{label} {lines[0] if lines else ''}".rstrip()
    return "\n".join([label, *("  " + line if line else "" for line in lines)])


def size_text(size: int) -> str:
    """A byte count as people read it: ``812 bytes``, ``23.4 KB``."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
