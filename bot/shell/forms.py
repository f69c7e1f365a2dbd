"""What a person types in the sandbox, turned into what Slack's client would have sent.

Slack's client does real work before the app sees anything: it turns ``@ana`` into a mention,
escapes ``<`` and ``&`` in slash command text, refuses an empty required field, and reports each
form element's state in a shape that depends on the element. These pure functions do the same,
so the app in the sandbox receives exactly what it would receive from Slack.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.errors import InvalidInput
from bot.shell.render import Names, option_label, options_of
from bot.shell.world import World
from bot.slack.parsing.dates import parse_date
from bot.slack.wording import words_for

JsonDict = Mapping[str, Any]

_TOKEN = re.compile(r"(?<![\w@#&])(@[\w.-]+|#[\w-]+|https?://[^\s<>]+)")
_BROADCASTS = ("here", "channel", "everyone")
_DURATION_PART = re.compile(r"(\d+)\s*(w|d|h|m)", re.IGNORECASE)
_DURATION = re.compile(r"(?:\d+\s*[wdhm]\s*)+", re.IGNORECASE)
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1)}
_LIST_SPLIT = re.compile(r"[,\s]+")


class FieldProblem(Exception):
    """A typed value the element cannot take; ``message`` says what would work."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def command_text(text: str, world: World) -> str:
    """Slash command text as Slack delivers it with ``should_escape``: escaped, mentions linked.

    ``@ana`` becomes ``<@U0ANA|ana>``, ``#general`` ``<#C0GENERAL|general>``, ``@here``
    ``<!here>`` and a bare URL a link; names nobody has stay as typed.
    """
    parts: list[str] = []
    last = 0
    for match in _TOKEN.finditer(text):
        parts.append(slack_escape(text[last : match.start()]))
        parts.append(_linked(match.group(1), world))
        last = match.end()
    parts.append(slack_escape(text[last:]))
    return "".join(parts)


def _linked(token: str, world: World) -> str:
    if token.startswith("@"):
        word = token[1:]
        if word.lower() in _BROADCASTS:
            return f"<!{word.lower()}>"
        person = world.person(word)
        return f"<@{person.id}|{person.name}>" if person else slack_escape(token)
    if token.startswith("#"):
        room = world.room(token)
        return f"<#{room.id}|{room.name}>" if room else slack_escape(token)
    return f"<{slack_escape(token)}>"


def parse_duration(text: str) -> timedelta | None:
    """``3d``, ``2h``, ``30m``, ``1w``, ``1d 4h``; None when it is none of these."""
    cleaned = text.strip()
    if not _DURATION.fullmatch(cleaned):
        return None
    total = timedelta()
    for amount, unit in _DURATION_PART.findall(cleaned):
        total += _UNITS.get(unit.lower(), timedelta(minutes=1)) * int(amount)
    return total


# --- form elements ----------------------------------------------------------------------------


def initial_state(element: JsonDict) -> dict[str, Any]:
    """The state Slack reports for an element nobody touched: its initial value, if any."""
    kind = str(element.get("type", ""))
    state: dict[str, Any] = {"type": kind}
    match kind:
        case "plain_text_input" | "number_input" | "email_text_input" | "url_text_input":
            state["value"] = element.get("initial_value") or None
        case "users_select":
            state["selected_user"] = element.get("initial_user")
        case "multi_users_select":
            state["selected_users"] = list(element.get("initial_users") or [])
        case "conversations_select":
            state["selected_conversation"] = element.get("initial_conversation")
        case "multi_conversations_select":
            state["selected_conversations"] = list(element.get("initial_conversations") or [])
        case "channels_select":
            state["selected_channel"] = element.get("initial_channel")
        case "multi_channels_select":
            state["selected_channels"] = list(element.get("initial_channels") or [])
        case "datepicker":
            state["selected_date"] = element.get("initial_date")
        case "timepicker":
            state["selected_time"] = element.get("initial_time")
        case "datetimepicker":
            state["selected_date_time"] = element.get("initial_date_time")
        case "static_select" | "radio_buttons" | "external_select":
            state["selected_option"] = element.get("initial_option")
        case "multi_static_select" | "checkboxes" | "multi_external_select":
            state["selected_options"] = list(element.get("initial_options") or [])
    return state


def is_empty(state: JsonDict) -> bool:
    return all(value in (None, "", []) for key, value in state.items() if key != "type")


def typed_state(
    element: JsonDict, text: str, *, world: World, today: date, zone: ZoneInfo
) -> dict[str, Any]:
    """The state after a person typed ``text`` into ``element``; ``-`` clears a preset value.

    Raises FieldProblem, saying what the element accepts, when ``text`` does not fit.
    """
    kind = str(element.get("type", ""))
    text = text.strip()
    cleared = text == "-"
    state: dict[str, Any] = {"type": kind}
    match kind:
        case "plain_text_input" | "email_text_input" | "url_text_input":
            state["value"] = None if cleared or not text else text.replace("\\n", "\n")
            _check_length(element, state["value"])
        case "number_input":
            state["value"] = None if cleared or not text else _number(element, text)
        case "users_select":
            state["selected_user"] = None if cleared else _person(text, world)
        case "multi_users_select":
            state["selected_users"] = [] if cleared else [_person(t, world) for t in _items(text)]
        case "conversations_select" | "channels_select":
            key = "selected_conversation" if kind.startswith("conv") else "selected_channel"
            state[key] = None if cleared else _room(text, world)
        case "multi_conversations_select" | "multi_channels_select":
            key = "selected_conversations" if kind.startswith("multi_conv") else "selected_channels"
            state[key] = [] if cleared else [_room(t, world) for t in _items(text)]
        case "datepicker":
            state["selected_date"] = None if cleared else _date(text, today)
        case "timepicker":
            state["selected_time"] = None if cleared else _time(text)
        case "datetimepicker":
            state["selected_date_time"] = None if cleared else _date_time(text, today, zone)
        case "static_select" | "radio_buttons" | "overflow":
            state["selected_option"] = None if cleared else _option(element, text, world)
        case "multi_static_select" | "checkboxes":
            picked = [] if cleared else [_option(element, t, world) for t in _choices(text)]
            state["selected_options"] = picked
        case _:
            raise FieldProblem(f"The sandbox cannot fill a {kind} element.")
    return state


def describe_choices(element: JsonDict, world: World) -> str:
    """A hint of what the element accepts, shown at its prompt."""
    kind = str(element.get("type", ""))
    if kind in ("users_select", "multi_users_select"):
        many = "one or more of" if kind.startswith("multi") else "one of"
        return f"{many}: {world.names_list()}"
    if kind in (
        "conversations_select",
        "channels_select",
        "multi_conversations_select",
        "multi_channels_select",
    ):
        many = "one or more of" if kind.startswith("multi") else "one of"
        return f"{many}: {world.rooms_list()}"
    if kind in ("static_select", "radio_buttons", "overflow", "multi_static_select", "checkboxes"):
        listing = "  ".join(
            f"{i}) {option_label(o, world)}" for i, o in enumerate(options_of(element), 1)
        )
        many = " (several: 1,3)" if kind in ("multi_static_select", "checkboxes") else ""
        return listing + many
    if kind == "datepicker":
        return "YYYY-MM-DD, today, tomorrow, friday, in 3 days, next week, eow"
    if kind == "timepicker":
        return "HH:MM"
    if kind == "datetimepicker":
        return "YYYY-MM-DD HH:MM"
    if kind == "number_input":
        return "a whole number" if not element.get("is_decimal_allowed") else "a number"
    return ""


def _check_length(element: JsonDict, value: str | None) -> None:
    length = len(value or "")
    most = element.get("max_length")
    least = element.get("min_length")
    if most is not None and length > int(most):
        raise FieldProblem(f"At most {most} characters, please (that was {length}).")
    if least is not None and value and length < int(least):
        raise FieldProblem(f"At least {least} characters, please.")


def _number(element: JsonDict, text: str) -> str:
    pattern = r"-?\d+(\.\d+)?" if element.get("is_decimal_allowed") else r"-?\d+"
    if not re.fullmatch(pattern, text):
        raise FieldProblem(
            "Please enter a number." if element.get("is_decimal_allowed") else "A whole number."
        )
    value = float(text)
    low, high = element.get("min_value"), element.get("max_value")
    if low is not None and value < float(low):
        raise FieldProblem(f"The smallest allowed is {low}.")
    if high is not None and value > float(high):
        raise FieldProblem(f"The largest allowed is {high}.")
    return text


def _items(text: str) -> list[str]:
    return [t for t in _LIST_SPLIT.split(text) if t]


def _choices(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _person(text: str, world: World) -> str:
    person = world.person(text)
    if person is None:
        raise FieldProblem(f"Nobody called {text!r} here; try one of: {world.names_list()}.")
    return person.id


def _room(text: str, world: World) -> str:
    room = world.room(text)
    if room is None:
        raise FieldProblem(f"No channel {text!r} here; try one of: {world.rooms_list()}.")
    return room.id


def _date(text: str, today: date) -> str:
    """A picked date: any calendar date (a date picker allows the past), or a word for one."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    try:
        return parse_date(text, today=today).isoformat()
    except InvalidInput as exc:
        raise FieldProblem(words_for(exc)) from None


def _time(text: str) -> str:
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise FieldProblem("A time of day as HH:MM, e.g. 09:00.")
    return f"{int(match[1]):02d}:{match[2]}"


def _date_time(text: str, today: date, zone: ZoneInfo) -> int:
    day_text, _, clock = text.rpartition(" ")
    day = date.fromisoformat(_date(day_text, today))
    hours, minutes = _time(clock).split(":")
    moment = datetime(day.year, day.month, day.day, int(hours), int(minutes), tzinfo=zone)
    return int(moment.timestamp())


def _option(element: JsonDict, text: str, names: Names) -> dict[str, Any]:
    """An option by its number, its label, its value, or the start of a unique label."""
    options = options_of(element)
    key = text.strip().lower()
    if key.isdigit() and 1 <= int(key) <= len(options):
        return dict(options[int(key) - 1])
    for option in options:
        if key in (option_label(option, names).lower(), str(option.get("value", "")).lower()):
            return dict(option)
    starts = [o for o in options if option_label(o, names).lower().startswith(key)]
    if len(starts) == 1:
        return dict(starts[0])
    listing = ", ".join(option_label(o, names) for o in options)
    raise FieldProblem(f"{text!r} is not one of the choices: {listing}.")
