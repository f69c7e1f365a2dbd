"""The /hygiene settings modal: the workspace's cadence as a form, and the form read back.

Rendering and reading live side by side so every field's block id, element and value shape are
defined once. Reading is pure: it turns Slack's ``view.state.values`` into values in the cadence
file's shape plus per-field errors, without touching the database.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ConversationFilter,
    ConversationMultiSelectElement,
    ConversationSelectElement,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
    UserSelectElement,
)

from bot.cadence.config import (
    WEEKDAYS,
    WORKSPACE_KEYS,
    CadenceConfig,
    canonical_setting,
    setting_range,
)
from bot.cadence.config import setting_value as value_of
from bot.slack import limits
from bot.slack.blocks.kit import Block, context, divider, header, modal, plain, section
from bot.slack.ids import INPUT
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.text import channel_mention, date_text, escape, mention
from bot.workspaces.models import SettingsChange

DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}

LABELS: dict[str, str] = {
    "timezone": "Time zone",
    "working_hours.days": "Working days",
    "working_hours.start": "Working day starts",
    "working_hours.end": "Working day ends",
    "working_hours.holidays": "Holidays",
    "nudges.stall_after_days": "Stalled after (working days without activity)",
    "nudges.repeat_every_days": "Remind again every (working days)",
    "nudges.escalate_after": "Escalate after (reminders)",
    "nudges.escalate_to": "Escalate to",
    "nudges.outcome_grace_hours": "Hours a meeting has to record outcomes",
    "digest.day": "Digest day",
    "digest.time": "Digest time",
    "digest.recipients": "Digest recipients",
    "decisions.review_after_days": "Ask whether a decision held after (days; 0: only when asked)",
    "decisions.review_again_days": "After “too early”, ask again in (days)",
    "decisions.followthrough_after_days": "Remind a decision's owner of its next steps after "
    "(working days without one)",
}

# Where a problem with a setting is shown; the two-part settings show it on their first field.
KEY_BLOCKS: dict[str, BlockId] = {
    "timezone": BlockId.SETTINGS_TIMEZONE,
    "working_hours.days": BlockId.SETTINGS_WORKING_DAYS,
    "working_hours.start": BlockId.SETTINGS_DAY_START,
    "working_hours.end": BlockId.SETTINGS_DAY_END,
    "working_hours.holidays": BlockId.SETTINGS_HOLIDAYS,
    "nudges.stall_after_days": BlockId.SETTINGS_STALL_AFTER,
    "nudges.repeat_every_days": BlockId.SETTINGS_REPEAT_EVERY,
    "nudges.escalate_after": BlockId.SETTINGS_ESCALATE_AFTER,
    "nudges.escalate_to": BlockId.SETTINGS_ESCALATE_TO_USER,
    "nudges.outcome_grace_hours": BlockId.SETTINGS_OUTCOME_GRACE,
    "digest.day": BlockId.SETTINGS_DIGEST_DAY,
    "digest.time": BlockId.SETTINGS_DIGEST_TIME,
    "digest.recipients": BlockId.SETTINGS_DIGEST_PEOPLE,
    "decisions.review_after_days": BlockId.SETTINGS_REVIEW_AFTER,
    "decisions.review_again_days": BlockId.SETTINGS_REVIEW_AGAIN,
    "decisions.followthrough_after_days": BlockId.SETTINGS_FOLLOWTHROUGH_AFTER,
}

HOLIDAYS_MAX = 366
HOLIDAYS_TEXT_MAX = 3000
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

_CHANNELS_ONLY = ConversationFilter(include=["public", "private"], exclude_bot_users=True)


# --- rendering --------------------------------------------------------------------------------


def fingerprint(key: str, value: Any) -> str:
    """A short digest of a value, kept in the modal so a save touches only what was edited."""
    text = json.dumps(canonical_setting(key, value), sort_keys=True, separators=(",", ":"))
    return hashlib.blake2s(text.encode(), digest_size=4).hexdigest()


def settings_modal(
    current: CadenceConfig, *, recent: Sequence[SettingsChange], team_id: str
) -> Block:
    """The form, filled with the workspace's values in effect now."""
    shown = {key: fingerprint(key, value_of(current, key)) for key in WORKSPACE_KEYS}
    escalate_to = current.nudges.escalate_to
    recipients = current.digest.recipients
    blocks: list[Block] = [
        context(
            "These settings apply to this workspace only, over the defaults in Followthrough's "
            "cadence file. Every change is recorded with your name."
        ),
        _text(
            BlockId.SETTINGS_TIMEZONE,
            LABELS["timezone"],
            current.timezone,
            hint="An IANA name such as Europe/Berlin or America/New_York. The digest goes out in "
            "it, and it stands in for anyone whose Slack time zone is unknown.",
        ),
        header("Working hours"),
        _input(
            BlockId.SETTINGS_WORKING_DAYS,
            LABELS["working_hours.days"],
            CheckboxesElement(
                action_id=INPUT,
                options=[_day_option(day) for day in WEEKDAYS],
                initial_options=[
                    _day_option(day) for day in WEEKDAYS if day in current.working_hours.days
                ],
            ),
            hint="Nudges go out only on these days, inside the hours below, in each person's own "
            "time zone.",
        ),
        _input(
            BlockId.SETTINGS_DAY_START,
            LABELS["working_hours.start"],
            TimePickerElement(
                action_id=INPUT, initial_time=value_of(current, "working_hours.start")
            ),
        ),
        _input(
            BlockId.SETTINGS_DAY_END,
            LABELS["working_hours.end"],
            TimePickerElement(action_id=INPUT, initial_time=value_of(current, "working_hours.end")),
        ),
        _input(
            BlockId.SETTINGS_HOLIDAYS,
            LABELS["working_hours.holidays"],
            PlainTextInputElement(
                action_id=INPUT,
                initial_value=", ".join(value_of(current, "working_hours.holidays")) or None,
                placeholder=plain("2026-12-24, 2026-12-25"),
                max_length=HOLIDAYS_TEXT_MAX,
            ),
            optional=True,
            hint="Days off for everyone, as YYYY-MM-DD separated by commas: not working days "
            "for stalling, repeats or snoozes, and nothing is sent on them.",
        ),
        header("Nudges"),
        _number(BlockId.SETTINGS_STALL_AFTER, "nudges.stall_after_days", current),
        _number(BlockId.SETTINGS_REPEAT_EVERY, "nudges.repeat_every_days", current),
        _number(BlockId.SETTINGS_ESCALATE_AFTER, "nudges.escalate_after", current),
        _input(
            BlockId.SETTINGS_ESCALATE_TO_USER,
            "Escalate to a person",
            UserSelectElement(
                action_id=INPUT,
                initial_user=escalate_to if _is_user(escalate_to) else None,
                placeholder=plain("Nobody"),
            ),
            optional=True,
        ),
        _input(
            BlockId.SETTINGS_ESCALATE_TO_CHANNEL,
            "…or to a channel",
            ConversationSelectElement(
                action_id=INPUT,
                initial_conversation=escalate_to if _is_channel(escalate_to) else None,
                filter=_CHANNELS_ONLY,
                placeholder=plain("No channel"),
            ),
            optional=True,
            hint="Leave both empty to never escalate.",
        ),
        _number(BlockId.SETTINGS_OUTCOME_GRACE, "nudges.outcome_grace_hours", current),
        header("Decisions: reviews and next steps"),
        _number(BlockId.SETTINGS_REVIEW_AFTER, "decisions.review_after_days", current),
        _number(BlockId.SETTINGS_REVIEW_AGAIN, "decisions.review_again_days", current),
        _number(
            BlockId.SETTINGS_FOLLOWTHROUGH_AFTER, "decisions.followthrough_after_days", current
        ),
        header("Weekly digest"),
        _input(
            BlockId.SETTINGS_DIGEST_DAY,
            LABELS["digest.day"],
            StaticSelectElement(
                action_id=INPUT,
                options=[_day_option(day) for day in WEEKDAYS],
                initial_option=_day_option(current.digest.day),
            ),
        ),
        _input(
            BlockId.SETTINGS_DIGEST_TIME,
            LABELS["digest.time"],
            TimePickerElement(action_id=INPUT, initial_time=value_of(current, "digest.time")),
            hint="In the workspace time zone above.",
        ),
        _input(
            BlockId.SETTINGS_DIGEST_PEOPLE,
            "Send the digest to these people",
            UserMultiSelectElement(
                action_id=INPUT,
                initial_users=[r for r in recipients if _is_user(r)] or None,
                placeholder=plain("Nobody"),
            ),
            optional=True,
        ),
        _input(
            BlockId.SETTINGS_DIGEST_CHANNELS,
            "…and post it in these channels",
            ConversationMultiSelectElement(
                action_id=INPUT,
                initial_conversations=[r for r in recipients if _is_channel(r)] or None,
                filter=_CHANNELS_ONLY,
                placeholder=plain("No channel"),
            ),
            optional=True,
            hint="A digest posted in a channel covers public channels only.",
        ),
    ]
    if recent:
        blocks += [divider(), section("*Recent changes*"), *_change_lines(recent, current)]
    return modal(
        callback_id=ViewId.SETTINGS,
        title="Followthrough settings",
        submit="Save",
        blocks=blocks,
        metadata={"team": team_id, "shown": shown},
    )


def saved_view(changes: Sequence[SettingsChange], current: CadenceConfig) -> Block:
    """What replaces the form once it is saved: the changes, or that there were none."""
    if changes:
        blocks = [
            section("*Saved.* These apply from now on:"),
            *_change_lines(changes, current, with_author=False),
        ]
    else:
        blocks = [section("Nothing changed: every value was already in effect.")]
    return modal(
        callback_id=ViewId.SETTINGS_SAVED,
        title="Followthrough settings",
        submit=None,
        blocks=blocks,
    )


def _change_lines(
    changes: Sequence[SettingsChange], current: CadenceConfig, *, with_author: bool = True
) -> list[Block]:
    lines = []
    for change in changes[: limits.VIEW_BLOCKS_MAX // 2]:
        label = LABELS.get(change.key, change.key)
        what = (
            f"*{escape(label)}*: {show_value(change.key, change.old_value)} → "
            f"{show_value(change.key, change.new_value)}"
        )
        if with_author:
            when = date_text(change.at.astimezone(current.zone).date())
            what = f"{mention(change.actor_id)} changed {what} · {when}"
        lines.append(context(what))
    return lines


def show_value(key: str, value: Any) -> str:
    """A stored setting value as people read it (mentions for people and channels)."""
    if key == "working_hours.days" and isinstance(value, list):
        return ", ".join(DAY_NAMES.get(str(d), str(d))[:3] for d in value) or "none"
    if key == "digest.day":
        return DAY_NAMES.get(str(value), str(value))
    if key == "working_hours.holidays" and isinstance(value, list):
        return ", ".join(escape(str(d)) for d in value) or "none"
    if key in ("nudges.escalate_to", "digest.recipients"):
        ids = value if isinstance(value, list) else [value] if value else []
        return ", ".join(_recipient(str(i)) for i in ids) or "nobody"
    return f"`{escape(str(value))}`"


def _recipient(slack_id: str) -> str:
    return mention(slack_id) if _is_user(slack_id) else channel_mention(slack_id)


def _is_user(slack_id: str) -> bool:
    return slack_id[:1] in ("U", "W")


def _is_channel(slack_id: str) -> bool:
    return slack_id[:1] in ("C", "G")


def _day_option(day: str) -> Option:
    return Option(value=day, text=plain(DAY_NAMES[day]))


def _input(
    block_id: BlockId, label: str, element: Any, *, optional: bool = False, hint: str | None = None
) -> Block:
    return InputBlock(
        block_id=block_id,
        label=plain(label, limits.INPUT_LABEL_MAX),
        element=element,
        optional=optional,
        hint=plain(hint, limits.INPUT_HINT_MAX) if hint else None,
    ).to_dict()


def _text(block_id: BlockId, label: str, initial: str, *, hint: str) -> Block:
    return _input(
        block_id,
        label,
        PlainTextInputElement(action_id=INPUT, initial_value=initial, max_length=64),
        hint=hint,
    )


def _number(block_id: BlockId, key: str, current: CadenceConfig) -> Block:
    low, high = _bounds(key)
    return _input(
        block_id,
        LABELS[key],
        NumberInputElement(
            action_id=INPUT,
            is_decimal_allowed=False,
            initial_value=str(value_of(current, key)),
            min_value=str(low),
            max_value=str(high),
        ),
        hint=f"A whole number from {low} to {high}.",
    )


def _bounds(key: str) -> tuple[int, int]:
    found = setting_range(key)
    assert found is not None, key
    return found


# --- reading a submission ---------------------------------------------------------------------


@dataclass
class SettingsForm:
    """A submission read back: values by setting key, and problems by block id."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def read_settings(state: Mapping[str, Any]) -> SettingsForm:
    """Turn ``view.state.values`` into setting values in the cadence file's shape."""
    form = SettingsForm()

    def element(block_id: BlockId) -> Mapping[str, Any]:
        found = (state.get(block_id) or {}).get(INPUT)
        return found if isinstance(found, Mapping) else {}

    zone = _zone_name(element(BlockId.SETTINGS_TIMEZONE).get("value"))
    if isinstance(zone, _Problem):
        form.errors[BlockId.SETTINGS_TIMEZONE] = zone.message
    else:
        form.values["timezone"] = zone

    days = [
        str(o.get("value"))
        for o in element(BlockId.SETTINGS_WORKING_DAYS).get("selected_options") or []
    ]
    if days:
        form.values["working_hours.days"] = days
    else:
        form.errors[BlockId.SETTINGS_WORKING_DAYS] = "Tick at least one working day."

    holidays = _holidays(element(BlockId.SETTINGS_HOLIDAYS).get("value"))
    if isinstance(holidays, _Problem):
        form.errors[BlockId.SETTINGS_HOLIDAYS] = holidays.message
    else:
        form.values["working_hours.holidays"] = holidays

    for key, block_id in (
        ("working_hours.start", BlockId.SETTINGS_DAY_START),
        ("working_hours.end", BlockId.SETTINGS_DAY_END),
        ("digest.time", BlockId.SETTINGS_DIGEST_TIME),
    ):
        picked = element(block_id).get("selected_time")
        if picked:
            form.values[key] = str(picked)
        else:
            form.errors[block_id] = "Pick a time."

    for key, block_id in (
        ("nudges.stall_after_days", BlockId.SETTINGS_STALL_AFTER),
        ("nudges.repeat_every_days", BlockId.SETTINGS_REPEAT_EVERY),
        ("nudges.escalate_after", BlockId.SETTINGS_ESCALATE_AFTER),
        ("nudges.outcome_grace_hours", BlockId.SETTINGS_OUTCOME_GRACE),
        ("decisions.review_after_days", BlockId.SETTINGS_REVIEW_AFTER),
        ("decisions.review_again_days", BlockId.SETTINGS_REVIEW_AGAIN),
        ("decisions.followthrough_after_days", BlockId.SETTINGS_FOLLOWTHROUGH_AFTER),
    ):
        low, high = _bounds(key)
        number = _whole_number(element(block_id).get("value"))
        if number is None or not low <= number <= high:
            form.errors[block_id] = f"Enter a whole number from {low} to {high}."
        else:
            form.values[key] = number

    person = element(BlockId.SETTINGS_ESCALATE_TO_USER).get("selected_user")
    channel = element(BlockId.SETTINGS_ESCALATE_TO_CHANNEL).get("selected_conversation")
    if person and channel:
        form.errors[BlockId.SETTINGS_ESCALATE_TO_CHANNEL] = (
            "Pick a person or a channel to escalate to, not both."
        )
    else:
        form.values["nudges.escalate_to"] = str(person or channel or "")

    day = (element(BlockId.SETTINGS_DIGEST_DAY).get("selected_option") or {}).get("value")
    if day:
        form.values["digest.day"] = str(day)
    else:
        form.errors[BlockId.SETTINGS_DIGEST_DAY] = "Pick the day the digest goes out."

    people = element(BlockId.SETTINGS_DIGEST_PEOPLE).get("selected_users") or []
    channels = element(BlockId.SETTINGS_DIGEST_CHANNELS).get("selected_conversations") or []
    form.values["digest.recipients"] = [str(r) for r in [*people, *channels]]
    return form


@dataclass(frozen=True)
class _Problem:
    message: str


def _holidays(raw: object) -> list[str] | _Problem:
    """``2026-12-24, 2026-12-25`` as sorted ISO dates; a clear problem for anything else."""
    days: set[str] = set()
    for word in re.split(r"[\s,]+", str(raw or "").strip()):
        if not word:
            continue
        try:
            day = date.fromisoformat(word) if _ISO_DAY.fullmatch(word) else None
        except ValueError:
            day = None
        if day is None:
            return _Problem(
                f"“{word[:20]}” is not a date; write holidays as YYYY-MM-DD separated "
                "by commas, e.g. 2026-12-24, 2026-12-25."
            )
        days.add(day.isoformat())
    if len(days) > HOLIDAYS_MAX:
        return _Problem(f"List at most {HOLIDAYS_MAX} holidays.")
    return sorted(days)


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def _zone_name(raw: object) -> str | _Problem:
    text = str(raw or "").strip().replace(" ", "_")
    if not text:
        return _Problem("Enter a time zone, e.g. Europe/Berlin.")
    known = _zones_by_lower_name()
    name = known.get(text.lower())
    if name is not None:
        ZoneInfo(name)
        return name
    close = difflib.get_close_matches(text.lower(), known.keys(), n=1, cutoff=0.75)
    if close:
        return _Problem(f"“{text}” is not a time zone. Did you mean {known[close[0]]}?")
    return _Problem(f"“{text}” is not a time zone. Use an IANA name such as Europe/Berlin or UTC.")


def _whole_number(raw: object) -> int | None:
    text = str(raw).strip()
    # Digits only (int() would also take "1_000", "٣" or 4,000 digits of them).
    if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 12):
        return None
    return int(text)
