"""The options of ``python -m bot shell``, kept apart so the CLI can list them cheaply."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_DATABASE = Path(".followthrough") / "shell.db"


def add_shell_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--script",
        metavar="FILE",
        type=Path,
        help="run the lines of FILE (- for standard input) instead of prompting; "
        "standard input is read this way whenever it is not a terminal",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="start over with an empty database and clock"
    )
    parser.add_argument(
        "--now",
        nargs="?",
        const="now",
        metavar="ISO-8601",
        help="start the clock at the current time, or at the moment given "
        "(default: where the last session stopped, or Monday 2026-11-23 09:30 in Berlin)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=DEFAULT_DATABASE,
        metavar="PATH",
        help=f"the sandbox's SQLite file (default: {DEFAULT_DATABASE})",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="TOML",
        help="a cadence file to use instead of the sandbox's brisk demo cadence",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="how much of the app's log to show on standard error (default: WARNING)",
    )
