"""Logging set-up, with secrets scrubbed from every record before it is written anywhere."""

from __future__ import annotations

import logging
import re

_SECRET = re.compile(r"\b(xox[abposre]-|xapp-)[A-Za-z0-9-]+")


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


def configure(level: str, secrets: list[str] | None = None) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
