"""Process settings read from the environment (or `.env`), validated once at start-up.

Every missing or bad value is reported together, by its environment variable name, so an operator
fixes them all in one go instead of meeting them one crash at a time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.cadence.config import DEFAULT_CADENCE_FILE
from bot.calendars.secrets import SecretBox
from bot.calendars.service import CalendarOptions
from bot.db import is_in_memory_sqlite, is_sqlite_url

SLACK_API_DEFAULT = "https://slack.com/api/"


class SettingsError(Exception):
    """Start-up configuration is unusable; ``problems`` names every offending variable.

    ``partial`` is the rest of the settings, with each bad value at its default, so a caller can
    go on to find the problems that depend on them (the Slack credentials, the cadence file) and
    report everything at once.
    """

    def __init__(self, problems: list[str], partial: Settings | None = None) -> None:
        super().__init__(format_problems(problems))
        self.problems = problems
        self.partial = partial


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

    # The descriptions are what `python -m bot <command> --help` lists.
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="the app's Signing Secret (not needed with SLACK_APP_TOKEN)"
    )
    slack_bot_token: SecretStr | None = Field(
        default=None, description="xoxb-… bot token: one workspace"
    )
    slack_client_id: str | None = Field(
        default=None, description="with SLACK_CLIENT_SECRET: OAuth installs, many workspaces"
    )
    slack_client_secret: SecretStr | None = Field(
        default=None, description="with SLACK_CLIENT_ID: OAuth installs, many workspaces"
    )
    slack_app_token: SecretStr | None = Field(
        default=None, description="xapp-… app-level token: Socket Mode instead of HTTP"
    )
    slack_api_url: str = Field(
        default=SLACK_API_DEFAULT, description=f"the Slack Web API (default {SLACK_API_DEFAULT})"
    )
    database_url: str = Field(
        default="sqlite+aiosqlite:///followthrough.db",
        description="sqlite:///FILE or postgres://… (default sqlite:///followthrough.db)",
    )
    followthrough_config: Path | None = Field(
        default=None,
        description=f"the cadence file (default ./{DEFAULT_CADENCE_FILE} when it exists)",
    )
    host: str = Field(default="0.0.0.0", description="address to listen on (default 0.0.0.0)")
    port: int = Field(default=3000, ge=1, le=65535, description="port to listen on (default 3000)")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="DEBUG, INFO, WARNING or ERROR (default INFO)"
    )

    followthrough_encryption_key: SecretStr | None = Field(
        default=None,
        description="32+ characters; encrypts calendar feed addresses (unset: no feeds)",
    )
    calendar_allow_private_urls: bool = Field(
        default=False,
        description="true lets calendar feeds use private/loopback addresses (default false)",
    )
    calendar_fetch_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="time limit per calendar fetch (default 10)"
    )
    calendar_max_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=1024,
        le=100 * 1024 * 1024,
        description="largest calendar feed read, in bytes (default 5 MiB)",
    )

    # Slack's posting limits as the senders keep to them (`bot.delivery.pacing.Pacing`); every
    # process that sends must be given the same values. Tests and benchmarks shrink them.
    slack_channel_interval_seconds: float = Field(
        default=1.0, ge=0, le=60, description="seconds between posts to one channel (default 1)"
    )
    slack_workspace_posts_per_window: int = Field(
        default=300, ge=1, le=10_000, description="posts per workspace per window (default 300)"
    )
    slack_workspace_window_seconds: float = Field(
        default=61.0, gt=0, le=3600, description="the budget's window in seconds (default 61)"
    )

    @field_validator("followthrough_encryption_key")
    @classmethod
    def _long_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters long")
        return value

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
        "followthrough_encryption_key",
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
        return _cadence_file(self.followthrough_config)

    def calendar_options(self) -> CalendarOptions:
        key = self.followthrough_encryption_key
        return CalendarOptions(
            box=SecretBox(key.get_secret_value()) if key is not None else None,
            allow_private=self.calendar_allow_private_urls,
        )

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
            raise SettingsError(problems)


def format_problems(problems: list[str]) -> str:
    lines = "\n".join(f"  - {p}" for p in problems)
    return f"Followthrough cannot start; fix these settings (environment or .env):\n{lines}"


def setting_help(*names: str) -> list[tuple[str, str]]:
    """(variable, what it is for) for each of the named settings, as ``--help`` lists them."""
    fields = Settings.model_fields
    return [(name, fields[name.lower()].description or "") for name in names]


def load_settings() -> Settings:
    """Build settings, turning pydantic's report into one message that names each variable."""
    try:
        return Settings()
    except ValidationError as exc:
        errors = exc.errors()
    problems = [_describe(err) for err in errors]
    bad = {str(err["loc"][0]) for err in errors if err["loc"]} & set(Settings.model_fields)
    try:
        # Values given to the constructor win over the environment: the bad ones go back to
        # their defaults and everything else is read as usual.
        defaults = {name: Settings.model_fields[name].get_default() for name in bad}
        partial: Settings | None = Settings(**defaults)
    except ValidationError:
        partial = None
    raise SettingsError(problems, partial)


_SECRETS = frozenset(
    {
        "slack_signing_secret",
        "slack_bot_token",
        "slack_client_secret",
        "slack_app_token",
        "followthrough_encryption_key",
    }
)


def _describe(err: ErrorDetails) -> str:
    field = ".".join(str(p) for p in err["loc"])
    ctx = err.get("ctx") or {}
    why = str(ctx["error"]) if err["type"] == "value_error" and "error" in ctx else err["msg"]
    if field not in _SECRETS and isinstance(err.get("input"), str):
        why += f" (got {err['input']!r})"
    return f"{field.upper() or 'settings'}: {why}"


def _cadence_file(configured: Path | None) -> Path | None:
    """The cadence file to read: the configured one, else `followthrough.toml` if present."""
    if configured is not None:
        return configured
    return DEFAULT_CADENCE_FILE if DEFAULT_CADENCE_FILE.exists() else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once; tests call ``get_settings.cache_clear()``."""
    return load_settings()
