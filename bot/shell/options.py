"""The options of ``python -m bot shell``, kept apart so the CLI can list them cheaply."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from bot.cli import aware_time

DEFAULT_DATABASE = Path(".followthrough") / "shell.db"


def start_time(text: str) -> datetime | str:
    """``--now``: the word ``now`` or an ISO-8601 moment with its offset."""
    return "now" if text.strip().lower() == "now" else aware_time(text)


def existing_file(text: str) -> Path:
    """A file to read (``-`` for standard input); a wrong path is a usage error, said plainly."""
    path = Path(text)
    if text == "-" or path.is_file():
        return path
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder; give the path of a file")
    raise argparse.ArgumentTypeError(f"{text}: no such file")


def database_file(text: str) -> Path:
    """The sandbox's SQLite file: a file path whose folders exist or can be made."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(
            f"{text} is a folder; give a file path such as {DEFAULT_DATABASE}"
        )
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise argparse.ArgumentTypeError(
                f"{text}: {parent} is a file, so no folder can be made there for the database"
            )
    return path


def add_shell_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--script",
        metavar="FILE",
        type=existing_file,
        help="run the lines of FILE (- for standard input) instead of prompting; "
        "standard input is read this way whenever it is not a terminal",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="start over with an empty database and clock"
    )
    parser.add_argument(
        "--freeze",
        action="store_true",
        help="keep the clock still between :advance moves; otherwise it runs with real time "
        "from its start (--script runs are always frozen, so a script gives the same "
        "transcript every time)",
    )
    parser.add_argument(
        "--now",
        nargs="?",
        const="now",
        type=start_time,
        metavar="ISO-8601",
        help="start the clock at the current time, or at the moment given with its offset, "
        "e.g. 2026-11-23T09:30+01:00 (default: where the last session stopped, or Monday "
        "2026-11-23 09:30 in Berlin)",
    )
    parser.add_argument(
        "--db",
        type=database_file,
        default=DEFAULT_DATABASE,
        metavar="PATH",
        help=f"the sandbox's SQLite file (default: {DEFAULT_DATABASE})",
    )
    parser.add_argument(
        "--config",
        type=existing_file,
        metavar="TOML",
        help="a cadence file to use instead of the sandbox's brisk demo cadence",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="how much of the app's log to show on standard error (default: WARNING)",
    )
