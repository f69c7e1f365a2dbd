"""The process interface: ``python -m bot serve|worker|migrate|run-jobs|shell``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import datetime

from bot import logs
from bot.cadence.config import CadenceConfig, CadenceConfigError, load_cadence_file
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Followthrough for Slack")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("serve", help="serve Slack's HTTP requests (or Socket Mode) and /healthz")
    sub.add_parser("migrate", help="bring the database schema up to date (alembic upgrade head)")
    sub.add_parser("worker", help="the scheduler: plan and send nudges every minute")
    run = sub.add_parser(
        "run-jobs", help="plan and send whatever is due at NOW, once, then exit (for cron)"
    )
    run.add_argument(
        "--now",
        type=aware_time,
        metavar="ISO-8601",
        help="the moment to act as of, with its offset, e.g. 2026-11-23T10:00:00Z "
        "(default: the current time)",
    )
    from bot.shell.options import add_shell_arguments

    add_shell_arguments(
        sub.add_parser("shell", help="try the app in a local sandbox: no Slack account needed")
    )
    return parser


def aware_time(text: str) -> datetime:
    """An ISO-8601 moment with its UTC offset; anything else is a usage error (exit code 2)."""
    example = "e.g. 2026-11-23T10:00:00Z or 2026-11-23T11:00:00+01:00"
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 date and time; write it like {example}"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no time zone, so it could mean any moment; add Z or an offset, {example}"
        )
    return moment


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
    if args.command == "shell":
        from bot.shell.command import run_shell

        return run_shell(args)
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
        if args.command == "worker":
            from bot.worker import run_worker

            asyncio.run(run_worker(settings, cadence))
            return 0
        if args.command == "run-jobs":
            from bot.worker import run_jobs

            report = asyncio.run(run_jobs(settings, cadence, now=args.now))
            print(report.summary())
            return 0
    except (SettingsError, CadenceConfigError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 2
