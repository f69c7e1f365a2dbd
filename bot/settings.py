"""Process settings read from the environment (or `.env`), validated once at start-up.

Every missing or bad value is reported together, by its environment variable name, so an operator
fixes them all in one go instead of meeting them one crash at a time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.db import is_in_memory_sqlite, is_sqlite_url

SLACK_API_DEFAULT = "https://slack.com/api/"
DEFAULT_CONFIG_FILE = Path("followthrough.toml")


class SettingsError(Exception):
    """Start-up configuration is unusable; the message names every offending variable."""


def normalize_database_url(url: str) -> str:
    """Map the URL forms hosting platforms hand out to the async drivers this app runs on."""
    url = url.strip()
    for prefix in (
        "postgres://",
        "postgresql://",
        "postgresql+psycopg2://",
        "postgresql+psycopg://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_signing_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = SLACK_API_DEFAULT
    database_url: str = "sqlite+aiosqlite:///followthrough.db"
    followthrough_config: Path | None = None
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        url = normalize_database_url(value)
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use a sqlite:// or postgres(ql):// URL")
        if is_sqlite_url(url) and is_in_memory_sqlite(url):
            raise ValueError("use a SQLite file such as sqlite:///followthrough.db, not memory")
        return url

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator(
        "slack_signing_secret",
        "slack_bot_token",
        "slack_client_secret",
        "slack_app_token",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def oauth_mode(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def cadence_path(self) -> Path | None:
        """The cadence file to read: the configured one, else `followthrough.toml` if present."""
        if self.followthrough_config is not None:
            return self.followthrough_config
        return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None

    def slack_problems(self) -> list[str]:
        """What keeps this process from talking to Slack; empty when it can."""
        problems = []
        if self.slack_signing_secret is None and not self.socket_mode:
            problems.append("SLACK_SIGNING_SECRET: missing (the app's Signing Secret)")
        if self.slack_bot_token is None and not self.oauth_mode:
            if self.slack_client_id or self.slack_client_secret:
                missing = "SLACK_CLIENT_SECRET" if self.slack_client_id else "SLACK_CLIENT_ID"
                problems.append(f"{missing}: missing (OAuth mode needs both client id and secret)")
            else:
                problems.append(
                    "SLACK_BOT_TOKEN: missing (or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
                    "for OAuth installs)"
                )
        if (
            self.slack_bot_token is not None
            and not self.slack_bot_token.get_secret_value().startswith("xoxb-")
        ):
            problems.append("SLACK_BOT_TOKEN: must be a bot token starting with xoxb-")
        if (
            self.slack_app_token is not None
            and not self.slack_app_token.get_secret_value().startswith("xapp-")
        ):
            problems.append("SLACK_APP_TOKEN: must be an app-level token starting with xapp-")
        return problems

    def require_slack(self) -> None:
        problems = self.slack_problems()
        if problems:
            raise SettingsError(_format(problems))


def _format(problems: list[str]) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"Followthrough cannot start; fix these settings (environment or .env):\n{lines}"


def load_settings() -> Settings:
    """Build settings, turning pydantic's report into one message that names each variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]).upper() or "settings"
            problems.append(f"{name}: {err['msg']}")
        raise SettingsError(_format(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once; tests call ``get_settings.cache_clear()``."""
    return load_settings()
