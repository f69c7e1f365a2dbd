"""Logging set-up, with secrets scrubbed from every record before it is written anywhere.

A process says in one line what it started (bot/startup.py); the libraries' own start-up
narration (alembic's plugin and context lines, APScheduler's job bookkeeping, uvicorn's
"Started server process", slack_sdk's Socket Mode session lines) shows only at ``LOG_LEVEL=DEBUG``.
Their warnings and errors always show.
"""

from __future__ import annotations

import logging
import re

_SECRET = re.compile(r"\b(xox[abposre]-|xapp-)[A-Za-z0-9-]+")

# Loggers of libraries that narrate their routine work at INFO. Bolt's app logger is one (its
# Socket Mode session lines); Bolt's others say little at INFO but refused requests, worth keeping.
CHATTY_LIBRARIES = ("alembic", "apscheduler", "uvicorn.error", "slack_sdk", "slack_bolt.AsyncApp")


class RedactSecrets(logging.Filter):
    """Replace Slack tokens and any configured secret in log output with a placeholder.

    slack_sdk logs request headers at DEBUG, bearer token included; this makes every level safe.
    """

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self._secrets = [s for s in (secrets or []) if len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = _SECRET.sub(lambda m: m.group(1) + "[redacted]", message)
        for secret in self._secrets:
            clean = clean.replace(secret, "[redacted]")
        if clean != message:
            record.msg, record.args = clean, None
        return True


class DropBoltTokenWarning(logging.Filter):
    """Bolt reads ``SLACK_BOT_TOKEN`` from the environment on its own and, since we hand it a
    client that already carries that token, warns on every start that the token "will be
    unused". It is used (through the client); the warning only misleads an operator."""

    def __init__(self) -> None:
        super().__init__()
        from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

        self._text = warning_client_prioritized_and_token_skipped()

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name.startswith("slack_bolt") and record.getMessage() == self._text)


class QuietLibraries(logging.Filter):
    """Below WARNING, nothing from `CHATTY_LIBRARIES`. A filter rather than logger levels: Bolt
    sets its loggers' levels itself, copying the root's, when it creates them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return not any(
            record.name == name or record.name.startswith(name + ".") for name in CHATTY_LIBRARIES
        )


# Libraries whose request lines would print a calendar feed's secret address: never below
# WARNING, even at DEBUG.
URL_LOGGING_LIBRARIES = ("httpx", "httpcore")


class DropFeedUrls(logging.Filter):
    """Below WARNING, nothing from `URL_LOGGING_LIBRARIES` (their lines carry the feed URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return not any(
            record.name == name or record.name.startswith(name + ".")
            for name in URL_LOGGING_LIBRARIES
        )


def configure(level: str, secrets: list[str] | None = None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    handler.addFilter(DropBoltTokenWarning())
    handler.addFilter(DropFeedUrls())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if logging.getLevelName(level) > logging.DEBUG:
        handler.addFilter(QuietLibraries())
