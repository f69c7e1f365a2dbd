"""A bad cadence file stops the process before it serves anything, naming every bad key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import BOT_TOKEN, SIGNING_SECRET

ROOT = Path(__file__).resolve().parents[1]

BAD_FILE = """\
timezone = "Mars/Olympus"
admins = ["@ana"]
[working_hours]
days = ["mon", "funday"]
start = "18:00"
[nudges]
stall_after_days = 0
escalate_to = "#leads"
[digest]
tme = "09:00"
[retention]
days_after_uninstall = -1
"""

EXPECTED_KEYS = [
    "timezone",
    "working_hours.days[1]",
    "working_hours.end",
    "nudges.stall_after_days",
    "nudges.escalate_to",
    "digest.tme",
    "admins[0]",
    "retention.days_after_uninstall",
]


def slack_env(tmp_path: Path, config: Path) -> dict[str, str]:
    return {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'never-created.db'}",
        "FOLLOWTHROUGH_CONFIG": str(config),
        "PORT": "1",
    }


def problem_lines(message: str) -> list[str]:
    return [line.strip().split(":")[0] for line in message.splitlines()[1:] if line.strip()]


def test_serve_refuses_to_start_and_names_each_bad_key(tmp_path: Path) -> None:
    config = tmp_path / "followthrough.toml"
    config.write_text(BAD_FILE, encoding="utf-8")
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "DATABASE_URL", "FOLLOWTHROUGH_"))
    }
    env.update(slack_env(tmp_path, config), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"{config}: the cadence file has 8 problems:")
    assert sorted(problem_lines(done.stderr)) == sorted(EXPECTED_KEYS)
    assert "did you mean 'time'?" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "never-created.db").exists()


@pytest.mark.parametrize(
    ("text", "key", "why"),
    [
        ("[nudges]\nrepeat_every_days = 0", "nudges.repeat_every_days", "must be at least 1"),
        ("[nudges]\noutcome_grace_hours = true", "nudges.outcome_grace_hours", "whole number"),
        ('[working_hours]\nend = "25:00"', "working_hours.end", "not a time of day"),
        ('[digest]\nday = "someday"', "digest.day", "is not a day"),
        ('[digest]\ntime = "noon"', "digest.time", "not a time of day"),
        (
            '[digest]\nrecipients = ["general"]',
            "digest.recipients[0]",
            "not a Slack user or channel",
        ),
        ('admins = ["C0CHANNEL"]', "admins[0]", "not a Slack user id"),
        ("[retention]\ndays = 3", "retention.days", "the keys here are days_after_uninstall"),
        ("[nudges\n", "", "not valid TOML"),
    ],
)
def test_each_bad_key_stops_start_up_in_process(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_env: None,
    text: str,
    key: str,
    why: str,
) -> None:
    config = tmp_path / "followthrough.toml"
    config.write_text(text, encoding="utf-8")
    for name, value in slack_env(tmp_path, config).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{config}: the cadence file has 1 problem:")
    if key:
        assert f"\n  {key}: " in err
    assert why in err


def test_a_missing_config_file_stops_start_up(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_env: None,
) -> None:
    for name, value in slack_env(tmp_path, tmp_path / "nowhere.toml").items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert main(["serve"]) == 2
    assert "file not found" in capsys.readouterr().err
