"""The cadence file and workspace overrides: defaults, and mistakes explained key by key."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cadence.config import (
    DEFAULT_CADENCE_FILE,
    CadenceConfig,
    CadenceConfigError,
    apply_overrides,
    load_cadence_file,
    setting_range,
)
from bot.errors import InvalidInput
from bot.slack.wording import words_for

REPO_ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "followthrough.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(CadenceConfigError) as caught:
        load_cadence_file(write(tmp_path, text))
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "followthrough.toml"))
    assert "Value error" not in message and "errors.pydantic.dev" not in message
    return message


def test_defaults_match_the_design() -> None:
    config = load_cadence_file(None)
    assert config.timezone == "UTC"
    assert config.zone == ZoneInfo("UTC")
    assert config.working_hours.days == ["mon", "tue", "wed", "thu", "fri"]
    assert config.working_hours.start == time(9, 0)
    assert config.working_hours.end == time(17, 30)
    assert config.nudges.stall_after_days == 5
    assert config.nudges.repeat_every_days == 2
    assert config.nudges.escalate_after == 3
    assert config.nudges.escalate_to == ""
    assert config.nudges.outcome_grace_hours == 4
    assert config.digest.day == "mon"
    assert config.digest.time == time(9, 0)
    assert config.digest.recipients == []
    assert config.admins == []
    assert config.retention.days_after_uninstall == 30


def test_missing_default_file_means_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_cadence_file(DEFAULT_CADENCE_FILE) == CadenceConfig()


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CadenceConfigError, match="file not found"):
        load_cadence_file(tmp_path / "elsewhere.toml")


def test_example_file_spells_out_the_defaults() -> None:
    example = REPO_ROOT / "followthrough.example.toml"
    assert load_cadence_file(example) == CadenceConfig()
    text = example.read_text(encoding="utf-8")
    for key in CadenceConfig.model_fields:
        assert f"{key} =" in text or f"[{key}]" in text


def test_a_full_file_is_read(tmp_path: Path) -> None:
    config = load_cadence_file(
        write(
            tmp_path,
            """
            timezone = "Europe/Berlin"
            admins = ["U0ADMIN1"]
            [working_hours]
            days = ["Mon", "tue", "wed", "thu"]
            start = "8:15"
            end = 16:45:00
            [nudges]
            stall_after_days = 3
            escalate_to = "C0LEADS"
            [digest]
            day = "fri"
            time = "15:00"
            recipients = ["U0BOSS", "W0ORGUSER", "C0TEAM", "G0PRIVATE"]
            [retention]
            days_after_uninstall = 0
            """,
        )
    )
    assert config.zone == ZoneInfo("Europe/Berlin")
    assert config.working_hours.days == ["mon", "tue", "wed", "thu"]
    assert config.working_hours.start == time(8, 15)
    assert config.working_hours.end == time(16, 45)
    assert config.nudges.stall_after_days == 3
    assert config.nudges.repeat_every_days == 2
    assert config.nudges.escalate_to == "C0LEADS"
    assert config.digest.recipients == ["U0BOSS", "W0ORGUSER", "C0TEAM", "G0PRIVATE"]
    assert config.retention.days_after_uninstall == 0
    assert config.model_dump(mode="json")["working_hours"]["end"] == "16:45"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('timezone = "Mars/Olympus"', 'timezone: "Mars/Olympus" is not a known IANA time zone'),
        ('timezone = "Europe"', 'timezone: "Europe" is not a known IANA time zone'),
        ('timezone = ""', "timezone: "),
        (
            '[working_hours]\ndays = ["mon", "funday"]',
            'working_hours.days[1]: "funday" is not a day; use one of mon, tue',
        ),
        ("[working_hours]\ndays = []", "working_hours.days: list at least one working day"),
        (
            '[working_hours]\ndays = ["mon", "mon"]',
            'working_hours.days: "mon" listed more than once',
        ),
        (
            '[working_hours]\nstart = "18:00"',
            'working_hours.end: "17:30" must be later than working_hours.start ("18:00")',
        ),
        (
            '[working_hours]\nstart = "09:00"\nend = "09:00"',
            "working_hours.end: ",
        ),
        ('[working_hours]\nstart = "9am"', 'working_hours.start: "9am" is not a time of day'),
        ('[working_hours]\nend = "24:00"', 'working_hours.end: "24:00" is not a time of day'),
        (
            "[nudges]\nstall_days = 3",
            "nudges.stall_days: unknown key; did you mean 'stall_after_days'?",
        ),
        ("colour = 1", "colour: unknown key; the keys here are timezone, working_hours"),
        ("[nudges]\nstall_after_days = 0", "nudges.stall_after_days: must be at least 1 (got 0)"),
        (
            "[nudges]\nrepeat_every_days = -2",
            "nudges.repeat_every_days: must be at least 1 (got -2)",
        ),
        ("[nudges]\nescalate_after = true", "nudges.escalate_after: must be a whole number"),
        (
            "[nudges]\noutcome_grace_hours = 1.5",
            "nudges.outcome_grace_hours: must be a whole number",
        ),
        ('[nudges]\nescalate_to = "#leads"', 'nudges.escalate_to: "#leads" is not a Slack user or'),
        (
            "[retention]\ndays_after_uninstall = -1",
            "retention.days_after_uninstall: must be at least 0",
        ),
        # Every number has a ceiling: the attack run's 200000000 overflowed the scheduler.
        (
            "[nudges]\nstall_after_days = 200000000",
            "nudges.stall_after_days: must be at most 365 (got 200000000)",
        ),
        (
            "[nudges]\nrepeat_every_days = 91",
            "nudges.repeat_every_days: must be at most 90 (got 91)",
        ),
        ("[nudges]\nescalate_after = 51", "nudges.escalate_after: must be at most 50 (got 51)"),
        (
            "[nudges]\noutcome_grace_hours = 200000000",
            "nudges.outcome_grace_hours: must be at most 720 (got 200000000)",
        ),
        (
            "[retention]\ndays_after_uninstall = 3651",
            "retention.days_after_uninstall: must be at most 3650 (got 3651)",
        ),
        (
            '[digest]\nrecipients = ["U0BOSS", "@anna"]',
            'digest.recipients[1]: "@anna" is not a Slack user or channel id',
        ),
        ('[digest]\nrecipients = "C0TEAM"', "digest.recipients: must be a list in square brackets"),
        ('[digest]\nday = "someday"', 'digest.day: "someday" is not a day'),
        ('admins = ["C0CHANNEL"]', 'admins[0]: "C0CHANNEL" is not a Slack user id'),
        ("nudges = 5", "nudges: must be a table of settings"),
    ],
)
def test_each_mistake_is_named_by_its_key(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in problems_of(tmp_path, text)


def test_every_problem_is_listed_one_per_line(tmp_path: Path) -> None:
    message = problems_of(
        tmp_path,
        """
        timezone = "Nowhere/Special"
        [nudges]
        stall_after_days = 0
        [digest]
        day = "caturday"
        """,
    )
    lines = message.splitlines()
    assert "3 problems" in lines[0]
    assert [line.strip().split(":")[0] for line in lines[1:]] == [
        "timezone",
        "nudges.stall_after_days",
        "digest.day",
    ]


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    message = problems_of(tmp_path, "[nudges]\nstall_after_days 5\n")
    assert "not valid TOML" in message
    assert "line 2" in message
    assert "the line reads: stall_after_days 5" in message


@pytest.mark.parametrize(
    ("key", "low", "high"),
    [
        ("nudges.stall_after_days", 1, 365),
        ("nudges.repeat_every_days", 1, 90),
        ("nudges.escalate_after", 1, 50),
        ("nudges.outcome_grace_hours", 1, 720),
        ("retention.days_after_uninstall", 0, 3650),
    ],
)
def test_every_number_has_a_documented_range(key: str, low: int, high: int) -> None:
    assert setting_range(key) == (low, high)
    section, name = key.split(".")
    for good in (low, high):
        apply_overrides(CadenceConfig(), {section: {name: good}})
    for bad in (low - 1, high + 1):
        with pytest.raises(InvalidInput):
            apply_overrides(CadenceConfig(), {section: {name: bad}})
    lines = (REPO_ROOT / "followthrough.example.toml").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(f"{name} ="))
    comment = []
    while lines[at - 1 - len(comment)].startswith("#"):
        comment.append(lines[at - 1 - len(comment)])
    assert f"From {low} to {high}" in " ".join(reversed(comment))
    assert f"`{key}` | {low} to {high}" in (REPO_ROOT / "docs" / "OPERATIONS.md").read_text()


def test_overrides_merge_over_the_file() -> None:
    base = CadenceConfig.model_validate(
        {"timezone": "Europe/Berlin", "digest": {"recipients": ["C0TEAM"]}}
    )
    merged = apply_overrides(
        base,
        {"working_hours": {"start": "10:00"}, "nudges": {"stall_after_days": 7}},
    )
    assert merged.timezone == "Europe/Berlin"
    assert merged.working_hours.start == time(10, 0)
    assert merged.working_hours.end == time(17, 30)
    assert merged.working_hours.days == base.working_hours.days
    assert merged.nudges.stall_after_days == 7
    assert merged.nudges.repeat_every_days == 2
    assert merged.digest.recipients == ["C0TEAM"]
    assert base.nudges.stall_after_days == 5
    assert apply_overrides(base, {}) == base


def test_an_override_list_replaces_the_list() -> None:
    base = CadenceConfig.model_validate({"digest": {"recipients": ["C0TEAM", "U0BOSS"]}})
    merged = apply_overrides(base, {"digest": {"recipients": ["U0OTHER"]}})
    assert merged.digest.recipients == ["U0OTHER"]


def test_a_stored_override_round_trips_through_json() -> None:
    changed = apply_overrides(CadenceConfig(), {"digest": {"time": "16:00", "day": "fri"}})
    assert apply_overrides(CadenceConfig(), changed.model_dump(mode="json")) == changed


def test_invalid_override_names_the_key() -> None:
    with pytest.raises(InvalidInput) as caught:
        apply_overrides(CadenceConfig(), {"nudges": {"stall_after_days": 0}})
    assert words_for(caught.value) == (
        "That setting is not valid. nudges.stall_after_days: must be at least 1 (got 0)"
    )


def test_override_that_clashes_with_the_base_names_both_keys() -> None:
    with pytest.raises(InvalidInput) as caught:
        apply_overrides(CadenceConfig(), {"working_hours": {"start": "18:00"}})
    assert "working_hours.end" in words_for(caught.value)
    assert "working_hours.start" in words_for(caught.value)


def test_several_invalid_overrides_are_listed() -> None:
    with pytest.raises(InvalidInput) as caught:
        apply_overrides(
            CadenceConfig(),
            {"timezone": "Atlantis", "digest": {"dya": "mon"}},
        )
    lines = words_for(caught.value).splitlines()
    assert lines[0] == "Those settings are not valid:"
    assert lines[1].startswith('• timezone: "Atlantis" is not a known IANA time zone')
    assert lines[2] == "• digest.dya: unknown key; did you mean 'day'?"
