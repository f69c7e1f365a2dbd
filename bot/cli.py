"""The process interface: ``python -m bot serve|worker|migrate|run-jobs|shell``.

Every command checks what it reads before it does anything. An operator's mistake (a bad or
missing setting, a bad cadence file, a database that cannot be used) ends the process with one
message on standard error and exit code 2, never a traceback; a bad flag gets argparse's usage
line and exit code 2 as well.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import logging
import sys
import textwrap
from collections.abc import Sequence
from datetime import datetime

from bot import logs
from bot.cadence.config import CadenceConfig, CadenceConfigError, load_cadence_file
from bot.settings import Settings, SettingsError, format_problems, load_settings, setting_help

log = logging.getLogger("bot")

_SLACK = ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
_COMMON = ("DATABASE_URL", "FOLLOWTHROUGH_CONFIG", "LOG_LEVEL")
_PACING = (
    "SLACK_CHANNEL_INTERVAL_SECONDS",
    "SLACK_WORKSPACE_POSTS_PER_WINDOW",
    "SLACK_WORKSPACE_WINDOW_SECONDS",
)
SETTINGS_READ = {
    "serve": (*_SLACK, "SLACK_APP_TOKEN", "SLACK_API_URL", *_PACING, *_COMMON, "HOST", "PORT"),
    "worker": (*_SLACK, "SLACK_API_URL", *_PACING, *_COMMON),
    "run-jobs": (*_SLACK, "SLACK_API_URL", *_PACING, *_COMMON),
    "migrate": _COMMON,
}
_EXIT_CODES = (
    "Exit code 2, with a message naming each problem, when a setting, the cadence file or the "
    "database is not usable (not reachable, never migrated, or migrated by a newer release)."
)
_EXAMPLES = """\
examples:
  python -m bot shell                 try it in a sandbox: no Slack account, nothing to set
  python -m bot migrate               create or update the database schema (SQLite by default)
  python -m bot serve                 serve Slack's requests on $HOST:$PORT
  python -m bot worker                send nudges and digests (or run-jobs from cron)

Settings come from the environment or a .env file in the current directory;
`python -m bot COMMAND --help` lists the ones each command reads."""


class ConfigurationError(Exception):
    """Every settings problem and every cadence-file problem, in one message."""

    def __init__(self, problems: list[str], cadence: CadenceConfigError | None) -> None:
        parts = ([format_problems(problems)] if problems else []) + (
            [str(cadence)] if cadence else []
        )
        super().__init__("\n".join(parts))


def _settings_epilog(command: str) -> str:
    rows = setting_help(*SETTINGS_READ[command])
    width = max(len(name) for name, _ in rows)
    lines = "\n".join(f"  {name:<{width}}  {why}" for name, why in rows)
    return f"settings read (environment or .env):\n{lines}\n\n{textwrap.fill(_EXIT_CODES, 79)}"


def _command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str, details: str
) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=summary,
        description=textwrap.fill(f"{summary[0].upper()}{summary[1:]}. {details}", 79),
        epilog=_settings_epilog(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Followthrough: meeting and decision hygiene for Slack.",
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    _command(
        sub,
        "serve",
        "serve Slack's HTTP requests (or Socket Mode) and /healthz",
        "Listens on $HOST:$PORT: POST /slack/events, GET /healthz (503 while the database is "
        "away) and, in OAuth mode, GET /slack/install and /slack/oauth_redirect. With "
        "SLACK_APP_TOKEN it connects out to Slack over Socket Mode instead and serves only "
        "/healthz. Stops cleanly on SIGTERM.",
    )
    _command(
        sub,
        "worker",
        "the scheduler: plan and send nudges and digests every minute",
        "Runs until SIGTERM or SIGINT, then finishes the posts under way. Run one or several; "
        "they share the work through the database.",
    )
    _command(
        sub,
        "migrate",
        "bring the database schema up to date (alembic upgrade head)",
        "Creates the SQLite file if needed. Safe to run from several places at once: one "
        "migrates, the others wait and find nothing to do.",
    )
    run = _command(
        sub,
        "run-jobs",
        "plan and send whatever is due at NOW, once, then exit (for cron)",
        "Two passes at the same moment send nothing twice.",
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
        sub.add_parser(
            "shell",
            help="try the app in a local sandbox: no Slack account needed",
            description="The real app against a pretend Slack workspace, at a prompt or "
            "running a script (docs/SHELL.md). Reads no settings: nothing from the "
            "environment or .env reaches the sandbox.",
        )
    )
    return parser


def aware_time(text: str) -> datetime:
    """An ISO-8601 moment with its UTC offset; anything else is a usage error (exit code 2)."""
    example = "2026-11-23T10:00:00Z or 2026-11-23T11:00:00+01:00"
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 date and time; write it like {example}"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no time zone, so it could mean any moment; add Z or an offset, "
            f"like {example}"
        )
    return moment


def _subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser = action.choices[name]
            return found
    return parser


def _refuse_unknown(parser: argparse.ArgumentParser, extra: list[str]) -> None:
    """Argparse leaves a command's unknown flags to the top-level parser, whose usage line does
    not show the command's flags; refuse them with the command's own usage, and a suggestion."""
    flags = [flag for action in parser._actions for flag in action.option_strings]
    message = f"unrecognized arguments: {' '.join(extra)}"
    first = extra[0].split("=")[0]
    as_setting = first.lstrip("-").upper().replace("-", "_")
    close = difflib.get_close_matches(first, flags, n=1)
    if close:
        message += f" (did you mean {close[0]}?)"
    elif as_setting in SETTINGS_READ.get(parser.prog.split()[-1], ()):
        message += f" ({as_setting} is a setting: set it in the environment or .env)"
    elif not first.startswith("-"):
        message += " (this command takes no positional arguments)"
    parser.error(message)


def _secrets(settings: Settings) -> list[str]:
    values = [
        settings.slack_signing_secret,
        settings.slack_bot_token,
        settings.slack_client_secret,
        settings.slack_app_token,
        settings.followthrough_encryption_key,
    ]
    return [v.get_secret_value() for v in values if v is not None]


def load_configuration(*, needs_slack: bool) -> tuple[Settings, CadenceConfig]:
    """Settings and the cadence file, or one `ConfigurationError` naming all that is wrong."""
    problems: list[str] = []
    try:
        settings: Settings | None = load_settings()
    except SettingsError as exc:
        problems += exc.problems
        settings = exc.partial
    if settings is not None and needs_slack:
        problems += settings.slack_problems()
    cadence_error = None
    try:
        cadence = load_cadence_file(settings.cadence_path if settings else None)
    except CadenceConfigError as exc:
        cadence_error = exc
    if problems or cadence_error is not None or settings is None:
        raise ConfigurationError(problems, cadence_error)
    return settings, cadence


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        _refuse_unknown(_subcommand(parser, args.command), extra)
    if args.command == "shell":
        from bot.shell.command import run_shell

        return run_shell(args)
    from bot.startup import StartupError

    try:
        settings, cadence = load_configuration(needs_slack=args.command != "migrate")
        logs.configure(settings.log_level, _secrets(settings))
        return _run(args, settings, cadence)
    except (ConfigurationError, StartupError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, settings: Settings, cadence: CadenceConfig) -> int:
    if args.command == "migrate":
        _migrate(settings.database_url)
        return 0
    from bot.startup import check

    # Checked before the web and worker modules are imported, so a refusal comes at once.
    schema = asyncio.run(check(settings.database_url, command=args.command))
    if args.command == "serve":
        from bot.server import serve

        asyncio.run(serve(settings, cadence, schema=schema))
    elif args.command == "worker":
        from bot.worker import run_worker

        asyncio.run(run_worker(settings, cadence, schema=schema))
    elif args.command == "run-jobs":
        from bot.worker import run_jobs

        report = asyncio.run(run_jobs(settings, cadence, schema=schema, now=args.now))
        print(report.summary())
        # A workspace or a step that failed is logged and retried next time; only a database
        # that does not answer makes the pass a failure for cron.
        return 1 if report.database_failed else 0
    return 0


def _migrate(url: str) -> None:
    from bot.migrate import upgrade
    from bot.startup import check_migratable, database_line

    asyncio.run(check_migratable(url))
    migrated = upgrade(url)
    done = (
        f"applied {len(migrated.applied)} migration{'s' if len(migrated.applied) != 1 else ''}"
        if migrated.applied
        else "nothing to do"
    )
    log.info("migrate: %s; %s", database_line(url), done)
