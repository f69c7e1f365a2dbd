"""Block Kit for a person's reminder preferences: App Home's "Your reminders" and its modal.

A paragraph of App Home's introduction says what the person gets and when, with a button beside
it that opens the modal.
The modal has the three choices (the hour of the daily DM, owner notices at once or only in the
daily DM, a pause until a date); reading it back is pure and leaves checking to
`bot.prefs.service.check`, whose problems are keyed by the same field names as `FIELD_BLOCKS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    Option,
    RadioButtonsElement,
    StaticSelectElement,
)

from bot.cadence.config import WorkingHours
from bot.prefs.service import Prefs, reminder_hours, reminder_time
from bot.slack import limits
from bot.slack.blocks.kit import Block, button, modal, plain, section
from bot.slack.ids import INPUT, Action
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.text import date_text

#: The day's start as the "hour" option's value (an option needs a value).
DAY_START = "start"
AT_ONCE = "now"
DAILY_ONLY = "daily"

#: Which modal block shows the problem with each field `bot.prefs.service.check` names.
FIELD_BLOCKS = {
    "reminder_hour": BlockId.PREFS_HOUR,
    "owner_notices": BlockId.PREFS_NOTICES,
    "paused_until": BlockId.PREFS_PAUSE,
}


def _clock(hour: int) -> str:
    return f"{hour:02d}:00"


def summary(prefs: Prefs, hours: WorkingHours, *, paused_now: bool) -> str:
    """What the person gets and when, in a sentence or two."""
    at = reminder_time(prefs, hours).strftime("%H:%M")
    when = (
        f"Your daily reminder comes at {at} your time"
        if prefs.reminder_hour is not None
        else f"Your daily reminder comes at the start of your working day ({at})"
    )
    notices = (
        "and I tell you at once when someone makes you the owner of something."
        if prefs.owner_notices
        else "and that DM is all you get: no separate owner notices."
    )
    pause = (
        f"\n:double_vertical_bar: Paused: nothing is sent to you before your working day "
        f"starts on {date_text(prefs.paused_until)}."
        if prefs.paused_until is not None and paused_now
        else ""
    )
    return f"{when}, {notices}{pause}"


def home_text(prefs: Prefs, hours: WorkingHours, *, paused_now: bool) -> str:
    """App Home's "Your reminders" paragraph: only the reader sees it."""
    return f"*Your reminders* · {summary(prefs, hours, paused_now=paused_now)}"


def home_button() -> dict[str, Any]:
    """The button beside it that opens the modal."""
    return dict(button("Your reminders", action_id=Action.PREFS_OPEN, value="prefs").to_dict())


def _input(
    block_id: str, label: str, element: Any, *, optional: bool = False, hint: str | None = None
) -> Block:
    return InputBlock(
        block_id=block_id,
        label=plain(label, limits.INPUT_LABEL_MAX),
        element=element,
        optional=optional,
        hint=plain(hint, limits.INPUT_HINT_MAX) if hint else None,
    ).to_dict()


def _option(value: str, text: str) -> Option:
    return Option(value=value, text=plain(text, limits.OPTION_TEXT_MAX))


def prefs_modal(prefs: Prefs, hours: WorkingHours, *, team_id: str, today: date) -> Block:
    start = hours.start.strftime("%H:%M")
    hour_options = [_option(DAY_START, f"Start of my working day ({start})")] + [
        _option(str(h), _clock(h)) for h in reminder_hours(hours) if _clock(h) != start
    ]
    chosen_hour = str(prefs.reminder_hour) if prefs.reminder_hour is not None else DAY_START
    initial_hour = next((o for o in hour_options if o.value == chosen_hour), hour_options[0])
    notice_options = [
        _option(AT_ONCE, "Also tell me the moment I'm made owner"),
        _option(DAILY_ONLY, "Only my daily DM"),
    ]
    blocks = [
        _input(
            BlockId.PREFS_HOUR,
            "Daily reminder DM at",
            StaticSelectElement(
                action_id=INPUT, options=hour_options[:100], initial_option=initial_hour
            ),
            hint="Your own time zone, inside the workspace's working hours.",
        ),
        _input(
            BlockId.PREFS_NOTICES,
            "When someone makes me owner of a decision or an action item",
            RadioButtonsElement(
                action_id=INPUT,
                options=notice_options,
                initial_option=notice_options[0 if prefs.owner_notices else 1],
            ),
            hint="With only the daily DM, owner notices are not sent at all (not saved up).",
        ),
        _input(
            BlockId.PREFS_PAUSE,
            "Pause all my DMs until",
            DatePickerElement(
                action_id=INPUT,
                initial_date=prefs.paused_until.isoformat() if prefs.paused_until else None,
                placeholder=plain("Not paused", limits.PLACEHOLDER_MAX),
            ),
            optional=True,
            hint=(
                "Nothing is sent to you before the start of your working day on this date. "
                "Clear it to resume now."
            ),
        ),
    ]
    return modal(
        callback_id=ViewId.PREFS,
        title="Your reminders",
        blocks=blocks,
        metadata={"team": team_id, "today": today.isoformat()},
    )


@dataclass(frozen=True, slots=True)
class PrefsForm:
    """The modal as submitted: raw values, for `bot.prefs.service.check`."""

    reminder_hour: str | None
    owner_notices: bool
    paused_until: date | None
    errors: dict[str, str]


def read_prefs(view: dict[str, Any]) -> PrefsForm:
    values = (view.get("state") or {}).get("values") or {}

    def element(block_id: str) -> dict[str, Any]:
        found = values.get(block_id) if isinstance(values, dict) else None
        state = found.get(INPUT) if isinstance(found, dict) else None
        return state if isinstance(state, dict) else {}

    errors: dict[str, str] = {}
    hour = (element(BlockId.PREFS_HOUR).get("selected_option") or {}).get("value")
    notices = (element(BlockId.PREFS_NOTICES).get("selected_option") or {}).get("value")
    if notices not in (AT_ONCE, DAILY_ONLY):
        errors[BlockId.PREFS_NOTICES] = "Choose whether to be told at once or only in the daily DM."
    raw_date = element(BlockId.PREFS_PAUSE).get("selected_date")
    paused: date | None = None
    if raw_date:
        try:
            paused = date.fromisoformat(str(raw_date))
        except ValueError:
            errors[BlockId.PREFS_PAUSE] = "That is not a date; pick one from the calendar."
    return PrefsForm(
        reminder_hour=None if hour in (None, DAY_START) else str(hour),
        owner_notices=notices != DAILY_ONLY,
        paused_until=paused,
        errors=errors,
    )


def saved_view(prefs: Prefs, hours: WorkingHours, *, paused_now: bool, changed: bool) -> Block:
    said = summary(prefs, hours, paused_now=paused_now)
    shown = f":white_check_mark: Saved. {said}" if changed else f"Nothing changed. {said}"
    return modal(
        callback_id=ViewId.PREFS_SAVED, title="Your reminders", blocks=[section(shown)], submit=None
    )
