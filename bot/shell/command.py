"""``python -m bot shell``: the sandbox at a terminal prompt, or running a script.

The database and the sandbox clock live in ``.followthrough/`` under the current directory, so a
session picks up where the last one stopped; ``--fresh`` starts over.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot import logs
from bot.cadence.config import CadenceConfig, CadenceConfigError, load_cadence_file
from bot.shell.options import DEFAULT_DATABASE
from bot.shell.sandbox import Sandbox
from bot.shell.script import ScriptError, run_script
from bot.shell.session import Shell
from bot.shell.terminal import PromptedReplies, TerminalConsole
from bot.shell.world import START, demo_cadence

log = logging.getLogger(__name__)


def run_shell(args: argparse.Namespace) -> int:
    logs.configure(args.log_level)
    try:
        start = _start_moment(args.now, _clock_file(args.db), fresh=args.fresh)
        cadence = load_cadence_file(args.config) if args.config else demo_cadence()
        script = _script_text(args.script)
    except (ValueError, OSError, CadenceConfigError) as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.db.exists() and not _is_sqlite_file(args.db):
        # Above all, --fresh must never delete a file that is not a sandbox's database.
        print(
            f"--db {args.db}: that file is not a SQLite database; give the path of a new file "
            f"or of a sandbox database (default {DEFAULT_DATABASE})",
            file=sys.stderr,
        )
        return 2
    if args.fresh:
        for path in (args.db, _clock_file(args.db), *_sqlite_companions(args.db)):
            path.unlink(missing_ok=True)
    try:
        args.db.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"--db {args.db}: cannot create its folder: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_session(args, start, cadence, script))
    except ScriptError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _session(
    args: argparse.Namespace, start: datetime, cadence: CadenceConfig, script: str | None
) -> int:
    console = TerminalConsole()
    clock_file = _clock_file(args.db)
    async with Sandbox.open(
        database=args.db,
        start=start,
        cadence=cadence,
        config=args.config,
        monotonic=clock_source(freeze=args.freeze, script=script is not None),
    ) as sandbox:
        shell = Shell(sandbox, console, save_clock=lambda now: _save_clock(clock_file, now))
        _save_clock(clock_file, start)
        if script is not None:
            problems = await run_script(shell, script)
            return 1 if problems else 0
        try:
            return await _prompt(shell, console, args.db)
        finally:
            # A running clock has moved on since the last :advance; the next session continues
            # from where this one stopped.
            _save_clock(clock_file, sandbox.clock.now())


def clock_source(*, freeze: bool, script: bool) -> Callable[[], float] | None:
    """Real seconds for the sandbox clock to run on, or None to keep it frozen: scripts are
    always frozen so they give the same transcript every run."""
    return None if freeze or script else time.monotonic


async def _prompt(shell: Shell, console: TerminalConsole, database: Path) -> int:
    console.show(_banner(shell, database))
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    replies = PromptedReplies(console)
    while True:
        line = await console.ask(shell.prompt)
        if line is None:
            return 0
        try:
            if not await shell.handle(line, replies):
                return 0
        except Exception as exc:
            # One failed line must not end a session the person has built up; the
            # traceback goes to the log for whoever is debugging the app.
            log.exception("the sandbox could not carry out %r", line)
            shell.problem(f"That failed: {exc!r} (the log above has the details).")


def _banner(shell: Shell, database: Path) -> str:
    return (
        "Followthrough sandbox: the real app, a pretend Slack workspace, a clock you move.\n"
        f"Database {database} · {shell.time_text(shell.sandbox.clock.now())}\n"
        "Try `/decision new Pick a payroll vendor @ben by friday`, then `:press 1`. "
        "`:help` lists everything."
    )


def _script_text(path: Path | None) -> str | None:
    if path is None:
        return None if sys.stdin.isatty() else sys.stdin.read()
    if str(path) == "-":
        return sys.stdin.read()
    return path.read_text(encoding="utf-8")


def _is_sqlite_file(path: Path) -> bool:
    """An empty file, or one that starts with SQLite's header."""
    with path.open("rb") as file:
        head = file.read(16)
    return head in (b"", b"SQLite format 3\x00")


def _clock_file(database: Path) -> Path:
    return database.with_suffix(".clock.json")


def _sqlite_companions(database: Path) -> list[Path]:
    return [database.with_name(database.name + suffix) for suffix in ("-wal", "-shm")]


def _start_moment(now: datetime | str | None, clock_file: Path, *, fresh: bool) -> datetime:
    if now == "now":
        return datetime.now(UTC)
    if isinstance(now, datetime):
        return now
    if not fresh and clock_file.exists():
        saved = json.loads(clock_file.read_text(encoding="utf-8"))
        return datetime.fromisoformat(str(saved["now"]))
    return START


def _save_clock(path: Path, now: datetime) -> None:
    path.write_text(json.dumps({"now": now.isoformat()}), encoding="utf-8")
