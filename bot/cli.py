"""The process interface: ``python -m bot serve|worker|migrate|run-jobs|shell``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from bot import logs
from bot.cadence.config import CadenceConfig, CadenceConfigError, load_cadence_file
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Followthrough for Slack")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("serve", help="serve Slack's HTTP requests (or Socket Mode) and /healthz")
    sub.add_parser("migrate", help="bring the database schema up to date (alembic upgrade head)")
    return parser


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.slack_signing_secret,
        settings.slack_bot_token,
        settings.slack_client_secret,
        settings.slack_app_token,
    ]
    return [v.get_secret_value() for v in values if v is not None]


def _load() -> tuple[Settings, CadenceConfig]:
    settings = load_settings()
    logs.configure(settings.log_level, _secrets(settings))
    return settings, load_cadence_file(settings.cadence_path)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings, cadence = _load()
        if args.command == "migrate":
            from bot.migrate import upgrade

            upgrade(settings.database_url)
            log.info("database is at the latest schema")
            return 0
        if args.command == "serve":
            from bot.server import serve

            asyncio.run(serve(settings, cadence))
            return 0
    except (SettingsError, CadenceConfigError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2
