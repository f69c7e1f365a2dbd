"""The cadence: when Followthrough may speak, how patient it is, and who hears the digest.

An operator writes the defaults in `followthrough.toml`; admins layer per-workspace overrides
on top with `/hygiene settings`. Both paths go through the same models so a mistake is caught
the same way and explained in the same words, key by key, instead of as a validation dump.
"""

from __future__ import annotations

import difflib
import json
import re
import tomllib
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from bot.errors import InvalidInput

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# Index i is the day `date.weekday()` calls i, so the two convert without a lookup table.
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# The file `Settings.cadence_path` falls back to; its absence simply means "use the defaults".
DEFAULT_CADENCE_FILE = Path("followthrough.toml")

_CLOCK_TEXT = re.compile(r"(\d{1,2}):(\d{2})")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_CONVERSATION_ID = re.compile(r"[CG][A-Z0-9]{2,}")


def _show(value: object) -> str:
    """Render a value the way it would be written in the TOML file, so messages quote it back."""
    if isinstance(value, time):
        return f'"{value.strftime("%H:%M")}"'
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def weekday_number(day: Weekday) -> int:
    """Monday 0 … Sunday 6, as `date.weekday()` counts."""
    return WEEKDAYS.index(day)


def _weekday(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() in WEEKDAYS:
        return value.strip().lower()
    raise ValueError(f"{_show(value)} is not a day; use one of {', '.join(WEEKDAYS)}")


def _clock_time(value: object) -> time:
    # TOML has a native local-time type (09:00:00) besides the quoted form; both mean the same.
    if isinstance(value, time):
        if value.tzinfo is None and value.second == 0 and value.microsecond == 0:
            return value
    elif isinstance(value, str):
        match = _CLOCK_TEXT.fullmatch(value.strip())
        if match and int(match[1]) < 24 and int(match[2]) < 60:
            return time(int(match[1]), int(match[2]))
    raise ValueError(f'{_show(value)} is not a time of day; write it as "HH:MM", e.g. "09:00"')


def _clock_text(value: time) -> str:
    return value.strftime("%H:%M")


def _count(value: object) -> object:
    # pydantic reads `true` as 1 in lax mode; a threshold written as a boolean is a typo.
    if isinstance(value, bool):
        raise ValueError(f"must be a whole number, not {_show(value)}")
    return value


def _user_id(value: object) -> str:
    if isinstance(value, str) and _USER_ID.fullmatch(value):
        return value
    raise ValueError(
        f"{_show(value)} is not a Slack user id; use the id (U… or W…, e.g. U0123ABCD), "
        "not a name or @mention"
    )


def _recipient_id(value: object) -> str:
    if isinstance(value, str) and (_USER_ID.fullmatch(value) or _CONVERSATION_ID.fullmatch(value)):
        return value
    raise ValueError(
        f"{_show(value)} is not a Slack user or channel id; use the id (U…/W… for a person, "
        "C…/G… for a channel, e.g. C0123ABCD), not a name"
    )


def _escalation_target(value: object) -> str:
    return "" if value == "" else _recipient_id(value)


def _no_repeats(values: list[Any], what: str) -> list[Any]:
    repeated = sorted({_show(v) for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"{', '.join(repeated)} listed more than once; name each {what} once")
    return values


DayName = Annotated[Weekday, BeforeValidator(_weekday)]
ClockTime = Annotated[
    time,
    BeforeValidator(_clock_time),
    PlainSerializer(_clock_text, return_type=str, when_used="json"),
]
UserId = Annotated[str, BeforeValidator(_user_id)]
RecipientId = Annotated[str, BeforeValidator(_recipient_id)]
# Every number a person or the cadence file can set has a range, so no setting can ask for a
# date decades away (or overflow one) and break the scheduler for everyone. The modal's number
# inputs take their min_value/max_value from here (``setting_range``).
StallDays = Annotated[int, BeforeValidator(_count), Field(ge=1, le=365)]
RepeatDays = Annotated[int, BeforeValidator(_count), Field(ge=1, le=90)]
Reminders = Annotated[int, BeforeValidator(_count), Field(ge=1, le=50)]
GraceHours = Annotated[int, BeforeValidator(_count), Field(ge=1, le=720)]
RetentionDays = Annotated[int, BeforeValidator(_count), Field(ge=0, le=3650)]
ReviewAfterDays = Annotated[int, BeforeValidator(_count), Field(ge=0, le=730)]
ReviewAgainDays = Annotated[int, BeforeValidator(_count), Field(ge=1, le=365)]
FollowThroughDays = Annotated[int, BeforeValidator(_count), Field(ge=1, le=60)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkingHours(_Section):
    days: list[DayName] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    start: ClockTime = time(9, 0)
    # Validated even when left out, so a later start alone is still checked against it.
    end: ClockTime = Field(default=time(17, 30), validate_default=True)
    # Days off for everyone ("YYYY-MM-DD"): not working days for stalling, repeats, snoozes or
    # sending. At most 366 of them.
    holidays: list[date] = Field(default_factory=list, max_length=366)

    @field_validator("holidays")
    @classmethod
    def _unique_holidays(cls, holidays: list[date]) -> list[date]:
        return sorted(_no_repeats(holidays, "holiday"))

    @field_validator("days")
    @classmethod
    def _some_unique_days(cls, days: list[Weekday]) -> list[Weekday]:
        if not days:
            raise ValueError('list at least one working day, e.g. ["mon", "tue", "wed"]')
        return _no_repeats(days, "day")

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: time, info: ValidationInfo) -> time:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError(
                f"{_show(end)} must be later than working_hours.start ({_show(start)}); "
                "a working day cannot run past midnight"
            )
        return end

    @property
    def weekday_numbers(self) -> frozenset[int]:
        return frozenset(weekday_number(day) for day in self.days)

    @property
    def days_off(self) -> frozenset[date]:
        return frozenset(self.holidays)


class NudgeRules(_Section):
    stall_after_days: StallDays = 5
    repeat_every_days: RepeatDays = 2
    escalate_after: Reminders = 3
    escalate_to: Annotated[str, BeforeValidator(_escalation_target)] = ""
    outcome_grace_hours: GraceHours = 4


class DigestSchedule(_Section):
    day: DayName = "mon"
    time: ClockTime = Field(default=time(9, 0))
    recipients: list[RecipientId] = Field(default_factory=list)

    @field_validator("recipients")
    @classmethod
    def _unique_recipients(cls, recipients: list[str]) -> list[str]:
        return _no_repeats(recipients, "recipient")


class Retention(_Section):
    days_after_uninstall: RetentionDays = 30


class DecisionRules(_Section):
    """What happens to decisions once decided (issue 17), and what a new one is compared with
    (issue 18)."""

    # Days after a decision is decided that its owner is asked whether it held, when no review
    # date was given; 0: no review unless one is asked for.
    review_after_days: ReviewAfterDays = 0
    # Days until the owner is asked again after answering a review "too early".
    review_again_days: ReviewAgainDays = 14
    # Working days a decided decision may go without an action or "no action needed" before
    # it is an orphan: its owner is reminded and the digest names it.
    followthrough_after_days: FollowThroughDays = 3
    # How far back the re-litigation warning looks among decided and dropped ones (issue 18).
    relitigation_days: Annotated[int, BeforeValidator(_count), Field(ge=1, le=3650)] = 365


class Calendars(_Section):
    """Which calendar events count as meetings (issue #19)."""

    all_day_events: bool = False
    min_attendees: Annotated[int, BeforeValidator(_count), Field(ge=1, le=1000)] = 2


class CadenceConfig(_Section):
    timezone: str = "UTC"
    working_hours: WorkingHours = Field(default_factory=WorkingHours)
    nudges: NudgeRules = Field(default_factory=NudgeRules)
    digest: DigestSchedule = Field(default_factory=DigestSchedule)
    admins: list[UserId] = Field(default_factory=list)
    retention: Retention = Field(default_factory=Retention)
    calendars: Calendars = Field(default_factory=Calendars)
    decisions: DecisionRules = Field(default_factory=DecisionRules)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(
                f'{_show(name)} is not a known IANA time zone; use a name such as "Europe/Berlin", '
                '"America/New_York" or "UTC"'
            ) from None
        return name

    @field_validator("admins")
    @classmethod
    def _unique_admins(cls, admins: list[str]) -> list[str]:
        return _no_repeats(admins, "admin")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class CadenceConfigError(Exception):
    """The cadence file cannot be used; the message names every problem, one per line."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        listing = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{path}: the cadence file has {len(problems)} {noun}:\n{listing}")


def load_cadence_file(path: Path | None) -> CadenceConfig:
    """Read the operator's cadence file; no file (or an absent default one) means the defaults."""
    if path is None:
        return CadenceConfig()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if path == DEFAULT_CADENCE_FILE:
            return CadenceConfig()
        raise CadenceConfigError(
            path,
            [
                "file not found; point FOLLOWTHROUGH_CONFIG at an existing file, "
                "or unset it to use the built-in defaults"
            ],
        ) from None
    except OSError as exc:
        raise CadenceConfigError(path, [f"cannot be read: {exc.strerror or exc}"]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CadenceConfigError(path, ["is not UTF-8 text; save it as UTF-8"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CadenceConfigError(path, [_syntax_problem(exc, text)]) from None
    try:
        return CadenceConfig.model_validate(data)
    except ValidationError as exc:
        raise CadenceConfigError(path, describe_problems(exc)) from None


class InvalidSettings(InvalidInput):
    """Overrides that do not make a valid cadence; ``problems`` maps each setting key to why.

    The keys are the dotted names of `WORKSPACE_KEYS` (list positions dropped), so a form can put
    each explanation beside the field it belongs to.
    """

    def __init__(self, reasons: list[str], problems: dict[str, str]) -> None:
        super().__init__(code="cadence.invalid_settings", reasons=reasons)
        self.problems = problems


def apply_overrides(base: CadenceConfig, overrides: Mapping[str, Any]) -> CadenceConfig:
    """Layer a workspace's partial settings (same shape as the file) over ``base``."""
    merged = _deep_merge(base.model_dump(), overrides)
    try:
        return CadenceConfig.model_validate(merged)
    except ValidationError as exc:
        error = exc
    problems = describe_problems(error)
    by_key: dict[str, str] = {}
    for item in error.errors():
        by_key.setdefault(_setting_key(item["loc"]), _why(item))
    raise InvalidSettings(problems, by_key)


def setting_problems(current: CadenceConfig, values: Mapping[str, Any]) -> dict[str, str]:
    """Why ``values`` (dotted keys, the file's shapes) would not fit over ``current``, by key.

    Empty when they would. For a form some of whose fields could not even be read: the rest are
    checked all the same, so every problem is reported at once.
    """
    overrides: dict[str, Any] = {}
    for key, value in values.items():
        overrides = with_setting(overrides, key, value)
    try:
        apply_overrides(current, overrides)
    except InvalidSettings as exc:
        return dict(exc.problems)
    return {}


def describe_problems(error: ValidationError) -> list[str]:
    """One `<dotted.key>: <why and how to fix it>` line per problem pydantic found."""
    return [f"{_dotted(item['loc'])}: {_why(item)}" for item in error.errors()]


# What `/hygiene settings` may change per workspace, in the order it shows them. The admins list
# and retention stay with the operator: they decide who is trusted and how long data is kept.
WORKSPACE_KEYS: tuple[str, ...] = (
    "timezone",
    "working_hours.days",
    "working_hours.start",
    "working_hours.end",
    "working_hours.holidays",
    "nudges.stall_after_days",
    "nudges.repeat_every_days",
    "nudges.escalate_after",
    "nudges.escalate_to",
    "nudges.outcome_grace_hours",
    "digest.day",
    "digest.time",
    "digest.recipients",
    "decisions.review_after_days",
    "decisions.review_again_days",
    "decisions.followthrough_after_days",
)
# Lists whose order carries no meaning: the same days or recipients in another order are no change.
_UNORDERED_KEYS = frozenset({"working_hours.days", "working_hours.holidays", "digest.recipients"})


def setting_value(config: CadenceConfig, key: str) -> Any:
    """The value of a dotted key as it is stored and compared: JSON types, times as "HH:MM"."""
    value: Any = config.model_dump(mode="json")
    for part in key.split("."):
        value = value[part]
    return canonical_setting(key, value)


def setting_range(key: str) -> tuple[int, int] | None:
    """The lowest and highest value a numeric setting (dotted key) accepts; None if not one."""
    model: type[BaseModel] = CadenceConfig
    *sections, name = key.split(".")
    for part in sections:
        annotation = model.model_fields[part].annotation
        assert isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation
    field = model.model_fields.get(name)
    if field is None:
        return None
    # pydantic keeps Field(ge=…, le=…) as constraint objects with those attributes.
    low = next((m.ge for m in field.metadata if hasattr(m, "ge")), None)
    high = next((m.le for m in field.metadata if hasattr(m, "le")), None)
    if not (isinstance(low, int) and isinstance(high, int)):
        return None
    return low, high


def canonical_setting(key: str, value: Any) -> Any:
    """One spelling per meaning, so comparing two values says whether anything changed."""
    if key in _UNORDERED_KEYS and isinstance(value, list):
        return sorted(value, key=_list_order)
    return value


def _list_order(item: Any) -> tuple[int, str]:
    text = str(item)
    return (WEEKDAYS.index(text), text) if text in WEEKDAYS else (len(WEEKDAYS), text)


def with_setting(overrides: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of ``overrides`` with the dotted ``key`` set to ``value``."""
    head, _, rest = key.partition(".")
    result = dict(overrides)
    if not rest:
        result[head] = value
        return result
    section = result.get(head)
    result[head] = with_setting(section if isinstance(section, Mapping) else {}, rest, value)
    return result


def without_setting(overrides: Mapping[str, Any], key: str) -> dict[str, Any]:
    """A copy of ``overrides`` without the dotted ``key``; sections left empty go too."""
    head, _, rest = key.partition(".")
    result = dict(overrides)
    if not rest:
        result.pop(head, None)
        return result
    section = result.get(head)
    if isinstance(section, Mapping):
        trimmed = without_setting(section, rest)
        if trimmed:
            result[head] = trimmed
        else:
            result.pop(head, None)
    return result


def _deep_merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def _setting_key(loc: tuple[int | str, ...]) -> str:
    return _dotted(tuple(part for part in loc if not isinstance(part, int)))


def _dotted(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else part)
    return key or "(top level)"


def _why(item: ErrorDetails) -> str:
    kind = item["type"]
    given = item.get("input")
    ctx = item.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind == "extra_forbidden":
        return _unknown_key(item["loc"])
    if kind == "greater_than_equal":
        return f"must be at least {ctx['ge']} (got {_show(given)})"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']} (got {_show(given)})"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"must be a whole number (got {_show(given)})"
    if kind == "string_type":
        return f"must be text in quotes (got {_show(given)})"
    if kind == "list_type":
        return f'must be a list in square brackets, e.g. ["a", "b"] (got {_show(given)})'
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return f"must be a table of settings, e.g. a [section] in the file (got {_show(given)})"
    return item["msg"]


def _unknown_key(loc: tuple[int | str, ...]) -> str:
    known = _known_keys(loc[:-1])
    name = str(loc[-1])
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; the keys here are {', '.join(known)}"


def _known_keys(loc: tuple[int | str, ...]) -> list[str]:
    model: type[BaseModel] = CadenceConfig
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


def _syntax_problem(exc: tomllib.TOMLDecodeError, text: str) -> str:
    problem = f"not valid TOML: {exc}"
    found = _TOML_POSITION.search(str(exc))
    if found:
        lines = text.splitlines()
        number = int(found[1])
        if 1 <= number <= len(lines):
            problem += f"; the line reads: {lines[number - 1].strip()}"
    return problem
