"""Start-up settings: every bad or missing value is named, URLs are mapped to async drivers."""

from __future__ import annotations

import logging

import pytest

from bot.logs import RedactSecrets
from bot.settings import Settings, SettingsError, load_settings, normalize_database_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/app", "postgresql+asyncpg://u:p@db:5432/app"),
        ("postgresql://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("postgresql+asyncpg://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("sqlite:///data/ft.db", "sqlite+aiosqlite:///data/ft.db"),
        ("sqlite+aiosqlite:///ft.db", "sqlite+aiosqlite:///ft.db"),
    ],
)
def test_database_urls_map_to_async_drivers(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected
    assert Settings(_env_file=None, database_url=given).database_url == expected  # type: ignore[call-arg]


def test_defaults(no_env: None) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url == "sqlite+aiosqlite:///followthrough.db"
    assert (settings.host, settings.port) == ("0.0.0.0", 3000)
    assert settings.slack_api_url == "https://slack.com/api/"


def test_every_bad_value_is_named_at_once(no_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "eighty")
    monkeypatch.setenv("DATABASE_URL", "mysql://db/app")
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    monkeypatch.setenv("SLACK_API_URL", "slack.com/api")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    for name in ("PORT", "DATABASE_URL", "LOG_LEVEL", "SLACK_API_URL"):
        assert name in message


def test_missing_slack_credentials_are_named(no_env: None) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(SettingsError) as caught:
        settings.require_slack()
    assert "SLACK_SIGNING_SECRET" in str(caught.value)
    assert "SLACK_BOT_TOKEN" in str(caught.value)


def test_half_oauth_config_is_named(no_env: None) -> None:
    settings = Settings(_env_file=None, slack_signing_secret="s" * 10, slack_client_id="123.456")  # type: ignore[call-arg]
    with pytest.raises(SettingsError, match="SLACK_CLIENT_SECRET"):
        settings.require_slack()


def test_wrong_token_kinds_are_named(no_env: None) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        slack_signing_secret="s" * 10,
        slack_bot_token="xoxp-user",
        slack_app_token="xoxb-x",
    )
    problems = " ".join(settings.slack_problems())
    assert "SLACK_BOT_TOKEN" in problems and "SLACK_APP_TOKEN" in problems


def test_modes(no_env: None) -> None:
    single = Settings(_env_file=None, slack_signing_secret="s" * 10, slack_bot_token="xoxb-1")  # type: ignore[call-arg]
    assert single.slack_problems() == [] and not single.oauth_mode
    oauth = Settings(  # type: ignore[call-arg]
        _env_file=None,
        slack_signing_secret="s" * 10,
        slack_client_id="1.2",
        slack_client_secret="c" * 10,
    )
    assert oauth.slack_problems() == [] and oauth.oauth_mode
    socket = Settings(_env_file=None, slack_bot_token="xoxb-1", slack_app_token="xapp-1")  # type: ignore[call-arg]
    assert socket.slack_problems() == [] and socket.socket_mode


def test_secrets_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactSecrets(["signing-secret-value"]))
    with caplog.at_level(logging.DEBUG, logger="test.redaction"):
        logger.debug("headers: %s", {"Authorization": "Bearer xoxb-123-456-abcdef"})
        logger.info("secret is signing-secret-value")
    text = caplog.text
    assert "xoxb-123" not in text and "signing-secret-value" not in text
    assert "[redacted]" in text
