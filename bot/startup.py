"""What a process checks before it starts work: its database opens, and holds this release's schema.

A process manager restarts a process that exits, and trusts one that keeps running. So `serve`,
`worker` and `run-jobs` refuse to start against a database they cannot use, and `migrate` refuses
one it cannot open, each with exit code 2 and one message: which database (password masked),
what is wrong, and what to do about it. (Once running, `/healthz` answers 503 while the database
is away, and the process keeps going.)
"""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path
from urllib.request import pathname2url

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.db import create_engine, is_sqlite_url
from bot.migrate import SchemaStatus, schema_status, scripts
from bot.settings import Settings

CONNECT_TIMEOUT_SECONDS = 10
MIGRATE_FIRST = "Run `python -m bot migrate` first, then start {command} again."


class StartupError(Exception):
    """The process cannot start: ``problem`` says what is wrong, ``advice`` what to do."""

    def __init__(self, problem: str, advice: str) -> None:
        super().__init__(f"{problem}\n{advice}")
        self.problem = problem
        self.advice = advice


def shown_url(url: str) -> str:
    """The database URL as it may be printed: any password replaced by ***."""
    return make_url(url).render_as_string(hide_password=True)


def engine_name(url: str) -> str:
    return "SQLite" if is_sqlite_url(url) else "PostgreSQL"


def database_line(url: str, revisions: tuple[str, ...] | None = None) -> str:
    """Like `SQLite database sqlite+aiosqlite:///followthrough.db at schema 773725e485ef`."""
    at = _list(revisions if revisions is not None else tuple(scripts().get_heads()))
    return f"{engine_name(url)} database {shown_url(url)} at schema {at}"


def started_line(command: str, doing: str, settings: Settings, status: SchemaStatus) -> str:
    """The one line a process logs once it has started: what, where, which database, which mode."""
    mode = (
        "OAuth mode (many workspaces)"
        if settings.oauth_mode
        else "single-workspace mode (bot token)"
    )
    return f"{command}: {doing}; {database_line(settings.database_url, status.current)}; {mode}"


async def check(url: str, *, command: str) -> SchemaStatus:
    """For serve, worker and run-jobs: the database opens and is migrated to this release's head.

    Their entry functions take the result as a required argument, so none starts unchecked.
    """
    status = await read_schema(url, create=False, command=command)
    where = f"the database {shown_url(url)}"
    if status.ahead:
        raise _ahead(status, where, _cannot(command))
    if status.empty:
        raise StartupError(
            f"{_cannot(command)}: {where} was never migrated (it has no Followthrough tables).",
            MIGRATE_FIRST.format(command=command),
        )
    if not status.up_to_date:
        raise StartupError(
            f"{_cannot(command)}: {where} is at schema revision {_list(status.current)}, "
            f"older than this release's {_list(status.heads)}.",
            MIGRATE_FIRST.format(command=command),
        )
    return status


async def check_migratable(url: str) -> SchemaStatus:
    """For migrate: the database opens (a new SQLite file may be created) and is not ahead."""
    status = await read_schema(url, create=True, command="migrate")
    if status.ahead:
        raise _ahead(status, f"the database {shown_url(url)}", _cannot("migrate"))
    return status


async def read_schema(url: str, *, create: bool, command: str) -> SchemaStatus:
    """Open the database and read its schema revision, or explain why it cannot be opened."""
    if is_sqlite_url(url):
        _open_sqlite_file(url, create=create, command=command)
        engine = create_engine(url)
    else:
        engine = create_async_engine(
            url, poolclass=NullPool, connect_args={"timeout": CONNECT_TIMEOUT_SECONDS}
        )
    try:
        return await _read(engine)
    except (OSError, SQLAlchemyError) as exc:
        problem, advice = _why_unreachable(url, exc)
        raise StartupError(f"{_cannot(command)}: {problem}", advice) from None
    finally:
        await engine.dispose()


async def _read(engine: AsyncEngine) -> SchemaStatus:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        return await connection.run_sync(schema_status)


def listen(host: str, port: int) -> socket.socket:
    """The web process's listening socket, bound before anything else starts (uvicorn serves
    on it), so a port that is taken is a start-up refusal instead of a half-started process."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise StartupError(
            f"serve cannot start: cannot listen on {host}:{port}: {exc.strerror or exc}.",
            "Check HOST: it should be an address of this machine, such as 0.0.0.0 or 127.0.0.1.",
        ) from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise StartupError(
            f"serve cannot start: cannot listen on {host}:{port}: {exc.strerror or exc}.",
            "Stop whatever else is using that port, or set PORT (or HOST) to another one.",
        ) from None
    return sock


def _ahead(status: SchemaStatus, where: str, what: str) -> StartupError:
    return StartupError(
        f"{what}: {where} is at schema revision {_list(status.unknown)}, which this release "
        "does not have: a newer release of Followthrough migrated it.",
        "Run that newer release, or use it to step the schema back "
        f"(`alembic downgrade {_list(status.heads)}` from its checkout) before starting this one.",
    )


def _cannot(command: str) -> str:
    return "migrate cannot run" if command == "migrate" else f"{command} cannot start"


def _list(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) or "(none)"


def _open_sqlite_file(url: str, *, create: bool, command: str) -> None:
    """Open the file with the standard library first: it names the problem precisely, creates
    nothing unless migrating, and leaves no driver thread behind when it fails."""
    database = make_url(url).database or ""
    path = Path(database).expanduser()
    where = f"the database {shown_url(url)}"
    folder = path.resolve().parent
    cannot = _cannot(command)
    if path.is_dir():
        raise StartupError(
            f"{cannot}: {where} names a folder ({path.resolve()}), not a database file.",
            "Set DATABASE_URL to a file, e.g. sqlite:///followthrough.db.",
        )
    if not path.exists():
        if not create:
            raise StartupError(
                f"{cannot}: {where} does not exist yet (no file at {path.resolve()}), "
                "so it was never migrated.",
                MIGRATE_FIRST.format(command=command) + " Migrate creates the file.",
            )
        if not folder.is_dir():
            missing = "is not a folder" if folder.exists() else "does not exist"
            raise StartupError(
                f"{cannot}: {where} cannot be created: {folder} {missing}.",
                "Create the folder, or set DATABASE_URL to a file in an existing one.",
            )
    needs = os.R_OK | os.W_OK
    if not os.access(folder, needs | os.X_OK) or (path.exists() and not os.access(path, needs)):
        raise StartupError(
            f"{cannot}: {where} cannot be opened: no permission to read and write "
            f"{path.resolve() if path.exists() else folder} as this user.",
            "SQLite needs to read and write the file and to create files beside it "
            f"(in {folder}); fix the permissions or set DATABASE_URL to another file.",
        )
    mode = "rwc" if create else "rw"
    try:
        connection = sqlite3.connect(
            f"file:{pathname2url(str(path))}?mode={mode}", uri=True, timeout=30
        )
        try:
            connection.execute("PRAGMA schema_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            raise StartupError(
                f"{cannot}: {where} is not a SQLite database ({path.resolve()} holds "
                "something else).",
                "Check DATABASE_URL: it should name Followthrough's database file.",
            ) from None
        raise StartupError(
            f"{cannot}: {where} cannot be opened: {exc}.",
            "Check the path in DATABASE_URL and that this user may read and write the file "
            "and its folder.",
        ) from None


def _why_unreachable(url: str, exc: BaseException) -> tuple[str, str]:
    parsed = make_url(url)
    where = f"the database {shown_url(url)}"
    address = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    check_address = (
        "Check that PostgreSQL is running there and that DATABASE_URL names its host and port."
    )
    if is_sqlite_url(url):
        if "database is locked" in str(exc):
            return (
                f"{where} is locked: another process has been writing to it for too long.",
                "Wait for it (a migration, say) to finish, or stop it, then try again.",
            )
        return (
            f"{where} cannot be opened: {_message(exc)}.",
            "Check the path in DATABASE_URL and that this user may read and write it.",
        )
    found = _find(exc, (ConnectionRefusedError, socket.gaierror, TimeoutError, OSError))
    if isinstance(found, ConnectionRefusedError):
        return f"{where} cannot be reached: nothing is listening at {address}.", check_address
    if isinstance(found, socket.gaierror):
        return (
            f"{where} cannot be reached: the host name {parsed.host!r} is unknown.",
            "Check the host in DATABASE_URL.",
        )
    if isinstance(found, TimeoutError):
        return (
            f"{where} cannot be reached: no answer from {address} "
            f"within {CONNECT_TIMEOUT_SECONDS} s.",
            check_address + " A firewall may be dropping the connection.",
        )
    state = _sqlstate(exc)
    if state is not None and state.startswith("28"):
        return (
            f"PostgreSQL refused the login to {where}: {_message(exc)}.",
            "Check the user name and password in DATABASE_URL (and the server's pg_hba.conf).",
        )
    if state == "3D000":
        return (
            f"{where} cannot be used: {_message(exc)}.",
            f"Create it (createdb {parsed.database}) or fix the database name in DATABASE_URL.",
        )
    if isinstance(found, OSError):
        return f"{where} cannot be reached at {address}: {found.strerror or found}.", check_address
    return f"{where} cannot be used: {_message(exc)}.", check_address


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or any(item is s for s in seen):
            continue
        seen.append(item)
        todo += [getattr(item, "orig", None), item.__cause__, item.__context__]
    return seen


def _find(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    for kind in kinds:
        for item in _chain(exc):
            if isinstance(item, kind):
                return item
    return None


def _sqlstate(exc: BaseException) -> str | None:
    for item in _chain(exc):
        state = getattr(item, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


def _message(exc: BaseException) -> str:
    """The driver's own words, without SQLAlchemy's wrapping."""
    chain = _chain(exc)
    # asyncpg's errors carry the server's SQLSTATE; theirs is the clearest wording.
    found = next((i for i in chain if isinstance(getattr(i, "sqlstate", None), str)), None)
    found = found or getattr(exc, "orig", None) or exc
    return (str(found) or type(found).__name__).rstrip(".")
