"""Starting Followthrough wrong, as an operator would: every refusal is one message, exit code 2.

`serve`, `worker` and `run-jobs` refuse a database they cannot use (unreachable, refusing the
login, a bad SQLite path or permissions, never migrated, behind, or migrated by a newer release),
naming it with its password masked and saying what to do; `migrate` refuses what it cannot open.
Several `migrate` runs at once on an empty database queue on the migration lock: one migrates,
the others find nothing to do. Each case runs the real commands as processes, several at once.
"""

from __future__ import annotations

import asyncio
import socket
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.cli import SETTINGS_READ, main
from bot.db import create_engine
from bot.migrate import MIGRATION_LOCK_KEY, schema_status, scripts, upgrade
from bot.startup import shown_url
from tests.conftest import BOT_TOKEN, PG_SERVER, SIGNING_SECRET, fresh_database_url
from tests.process_support import (
    Finished,
    clean_env,
    free_port,
    run,
    without_file_permission_override,
)

pytestmark = pytest.mark.slow

STARTERS = ("serve", "worker", "run-jobs")
HEAD = scripts().get_current_head()
REVISIONS = [r.revision for r in reversed(list(scripts().walk_revisions()))]


def slack_env(**extra: str) -> dict[str, str]:
    return clean_env(
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL="http://127.0.0.1:9/api/",
        HOST="127.0.0.1",
        PORT=str(free_port()),
        **extra,
    )


async def run_all(
    commands: Iterable[str], cwd: Path, env: dict[str, str], prefix: tuple[str, ...] = ()
) -> dict[str, Finished]:
    names = list(commands)
    done = await asyncio.gather(*(run(c, cwd=cwd, env=env, prefix=prefix) for c in names))
    return dict(zip(names, done, strict=True))


def assert_refused(command: str, done: Finished, *phrases: str) -> None:
    """Exit code 2 and one message on standard error: what is wrong, then what to do."""
    assert done.code == 2, done.text
    assert "Traceback" not in done.text
    assert done.out == ""
    problem, _advice = done.err.strip().split("\n")
    verb = "migrate cannot run" if command == "migrate" else f"{command} cannot start"
    assert problem.startswith(f"{verb}: "), problem
    for phrase in phrases:
        assert phrase in done.err, (phrase, done.err)


# --- unreachable or refusing databases ----------------------------------------------------------


async def test_an_unreachable_postgresql_is_named_with_its_password_masked(tmp_path: Path) -> None:
    port = free_port()
    env = slack_env(DATABASE_URL=f"postgres://ops:s3cret-pw@127.0.0.1:{port}/followthrough")
    results = await run_all((*STARTERS, "migrate"), tmp_path, env)
    for command, done in results.items():
        assert_refused(
            command,
            done,
            f"the database postgresql+asyncpg://ops:***@127.0.0.1:{port}/followthrough",
            f"cannot be reached: nothing is listening at 127.0.0.1:{port}",
            "Check that PostgreSQL is running there",
        )
        assert "s3cret-pw" not in done.text


async def test_postgresql_refusing_the_role_or_missing_the_database(tmp_path: Path) -> None:
    pg = make_url(PG_SERVER)
    server = f"{pg.host}:{pg.port or 5432}"
    try:
        (await asyncpg.connect(PG_SERVER)).terminate()
    except OSError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_SERVER}: {exc}")
    role = slack_env(DATABASE_URL=f"postgresql://no_such_role_ft:pw@{server}/postgres")
    database = slack_env(DATABASE_URL=f"postgresql://postgres@{server}/no_such_database_ft")
    refused, missing = await asyncio.gather(
        run_all(("serve", "migrate"), tmp_path, role),
        run_all(("run-jobs",), tmp_path, database),
    )
    for command, done in refused.items():
        assert_refused(
            command,
            done,
            "PostgreSQL refused the login",
            'role "no_such_role_ft" does not exist',
            "Check the user name and password in DATABASE_URL",
        )
        assert "pw@" not in done.text
    for command, done in missing.items():
        assert_refused(
            command,
            done,
            'database "no_such_database_ft" does not exist',
            "createdb no_such_database_ft",
        )


async def test_bad_sqlite_paths_are_refused_and_nothing_is_created(tmp_path: Path) -> None:
    missing_folder = tmp_path / "no-such-folder"
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("just some notes\n")
    cases = {
        "missing folder": f"sqlite:///{missing_folder}/followthrough.db",
        "a folder": f"sqlite:///{tmp_path}",
        "not a database": f"sqlite:///{not_a_database}",
        "missing file": f"sqlite:///{tmp_path}/never-migrated.db",
    }
    # Every starter goes through the same check; all three are run where the file is missing.
    commands = {
        "missing folder": ("serve", "migrate"),
        "a folder": ("worker", "migrate"),
        "not a database": ("run-jobs", "migrate"),
        "missing file": STARTERS,
    }
    results = await asyncio.gather(
        *(
            run_all(commands[case], tmp_path, slack_env(DATABASE_URL=url))
            for case, url in cases.items()
        )
    )
    by_case = dict(zip(cases, results, strict=True))
    for command, done in by_case["missing folder"].items():
        if command == "migrate":
            assert_refused(
                command, done, f"cannot be created: {missing_folder} does not exist", "Create"
            )
        else:
            assert_refused(command, done, "does not exist yet", "python -m bot migrate")
    for command, done in by_case["a folder"].items():
        assert_refused(command, done, "names a folder", "Set DATABASE_URL to a file")
    for command, done in by_case["not a database"].items():
        assert_refused(command, done, "is not a SQLite database", "Check DATABASE_URL")
    for command in STARTERS:
        assert_refused(
            command,
            by_case["missing file"][command],
            "does not exist yet",
            f"Run `python -m bot migrate` first, then start {command} again",
        )
    assert not missing_folder.exists()
    assert not (tmp_path / "never-migrated.db").exists()
    assert not_a_database.read_text() == "just some notes\n"


async def test_sqlite_without_permission_is_refused(tmp_path: Path) -> None:
    prefix = without_file_permission_override()
    if prefix is None:
        pytest.skip("running as root without setpriv: file permissions cannot be enforced")
    locked = tmp_path / "locked"
    locked.mkdir()
    database = locked / "followthrough.db"
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{database}")
    env = slack_env(DATABASE_URL=f"sqlite:///{database}")
    database.chmod(0o400)
    locked.chmod(0o500)
    new_env = slack_env(DATABASE_URL=f"sqlite:///{locked}/new.db")
    try:
        existing, new = await asyncio.gather(
            run_all(("serve", "worker"), tmp_path, env, prefix),
            run("migrate", cwd=tmp_path, env=new_env, prefix=prefix),
        )
    finally:
        locked.chmod(0o700)
    for command, done in existing.items():
        assert_refused(command, done, "no permission to read and write", "fix the permissions")
    assert_refused("migrate", new, "no permission to read and write", str(locked))
    assert not (locked / "new.db").exists()


# --- the schema: never migrated, behind, ahead -------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = fresh_database_url(request.param, tmp_path, "followthrough_startup")
    if request.param == "sqlite":
        # An existing, empty SQLite file: like a database PostgreSQL's admin created for us.
        path = url.split("///", 1)[1]
        sqlite3.connect(path).close()
    return url


async def set_revision(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        await engine.dispose()


async def test_the_schema_must_be_this_releases(empty_url: str, tmp_path: Path) -> None:
    env = slack_env(DATABASE_URL=empty_url)
    where = f"the database {shown_url(empty_url)}"

    never = await run_all(STARTERS, tmp_path, env)
    for command, done in never.items():
        assert_refused(
            command,
            done,
            f"{where} was never migrated",
            f"Run `python -m bot migrate` first, then start {command} again.",
        )

    await asyncio.to_thread(upgrade, empty_url, REVISIONS[0])
    behind = await run_all(("serve",), tmp_path, env)
    for command, done in behind.items():
        assert_refused(
            command,
            done,
            f"{where} is at schema revision {REVISIONS[0]}, older than this release's {HEAD}",
            "python -m bot migrate",
        )

    await asyncio.to_thread(upgrade, empty_url)
    await set_revision(empty_url, "ffffffffffff")  # a rolled-back release left a newer schema
    ahead = await run_all(("worker", "migrate"), tmp_path, env)
    for command, done in ahead.items():
        assert_refused(
            command,
            done,
            f"{where} is at schema revision ffffffffffff, which this release does not have",
            "a newer release of Followthrough migrated it",
            f"alembic downgrade {HEAD}",
        )


# --- concurrent migrations (issue 21, point 7) -------------------------------------------------


@asynccontextmanager
async def migration_lock_held(url: str) -> AsyncIterator[None]:
    """Hold the lock `migrate` takes, so the processes started meanwhile all queue on it."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")  # as every connection of the app's does
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        yield
    finally:
        await connection.close()


async def waiting_for_the_lock(url: str) -> int:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return int(count)
    finally:
        await connection.close()


async def test_concurrent_migrations_queue_and_one_migrates(empty_url: str, tmp_path: Path) -> None:
    runs = 3
    env = clean_env(DATABASE_URL=empty_url)
    async with migration_lock_held(empty_url):
        started = [asyncio.create_task(run("migrate", cwd=tmp_path, env=env)) for _ in range(runs)]
        if empty_url.startswith("postgresql"):
            # Every process has reached the lock and waits there.
            for _ in range(600):
                if await waiting_for_the_lock(empty_url) == runs:
                    break
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the migrate processes never queued on the advisory lock")
        else:
            # SQLite shows no queue; give the processes time to start and block on the lock.
            await asyncio.sleep(5)
        assert not any(task.done() for task in started)
    results = await asyncio.gather(*started)
    assert [done.code for done in results] == [0] * runs, [done.text for done in results]
    outcomes = sorted(done.err.strip().rsplit("; ", 1)[-1] for done in results)
    assert outcomes == [f"applied {len(REVISIONS)} migrations"] + ["nothing to do"] * (runs - 1)

    engine = create_engine(empty_url)
    try:
        async with engine.connect() as conn:
            status = await conn.run_sync(schema_status)
    finally:
        await engine.dispose()
    assert status.current == (HEAD,)


# --- settings, the cadence file and the port ----------------------------------------------------


def test_settings_and_cadence_problems_come_in_one_message(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_env: None,
) -> None:
    config = tmp_path / "followthrough.toml"
    config.write_text("[nudges\nstall_after_days = 3\n", encoding="utf-8")
    monkeypatch.setenv("FOLLOWTHROUGH_CONFIG", str(config))
    monkeypatch.setenv("PORT", "0")
    monkeypatch.setenv("DATABASE_URL", "mysql://db/followthrough")
    monkeypatch.chdir(tmp_path)
    assert main(["serve"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    settings, cadence = captured.err.split(f"{config}: the cadence file has 1 problem:\n")
    head, *items = settings.strip().splitlines()
    assert head == "Followthrough cannot start; fix these settings (environment or .env):"
    assert [item.split(":")[0].strip(" -") for item in items] == [
        "DATABASE_URL",
        "PORT",
        "SLACK_SIGNING_SECRET",
        "SLACK_BOT_TOKEN",
    ]
    assert "(got 'mysql://db/followthrough')" in settings
    assert "not valid TOML" in cadence and "the line reads: [nudges" in cadence
    assert not list(tmp_path.glob("*.db"))


def test_migrate_needs_no_slack_settings_but_checks_the_cadence_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_env: None,
) -> None:
    config = tmp_path / "followthrough.toml"
    config.write_text('[digest]\nday = "someday"\n', encoding="utf-8")
    monkeypatch.setenv("FOLLOWTHROUGH_CONFIG", str(config))
    monkeypatch.chdir(tmp_path)
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{config}: the cadence file has 1 problem:\n  digest.day:")
    assert "SLACK_" not in err
    assert not (tmp_path / "followthrough.db").exists()


async def test_serve_refuses_a_port_that_is_taken(tmp_path: Path) -> None:
    env = slack_env(DATABASE_URL=f"sqlite:///{tmp_path / 'followthrough.db'}")
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{tmp_path / 'followthrough.db'}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(env["PORT"])))
        taken.listen()
        done = await run("serve", cwd=tmp_path, env=env)
    assert_refused(
        "serve",
        done,
        f"cannot listen on 127.0.0.1:{env['PORT']}",
        "set PORT (or HOST) to another one",
    )


# --- --help and bad flags -----------------------------------------------------------------------


def help_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_help_describes_every_command_its_flags_and_the_settings_it_reads(
    capsys: pytest.CaptureFixture[str],
) -> None:
    top = help_text(capsys)
    for command in (*SETTINGS_READ, "shell"):
        assert f"\n    {command} " in top, top
    for command, names in SETTINGS_READ.items():
        text = help_text(capsys, command)
        assert text.startswith(f"usage: python -m bot {command} [-h]")
        listed = text.split("settings read (environment or .env):\n")[1].split("\n\n")[0]
        assert [line.split()[0] for line in listed.splitlines()] == list(names)
        assert "Exit code 2" in text
    assert "--now ISO-8601" in help_text(capsys, "run-jobs")
    shell = help_text(capsys, "shell")
    for flag in ("--script", "--fresh", "--now", "--db", "--config", "--log-level"):
        assert flag in shell
    assert "Reads no settings" in shell


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["shell", "--now", "garbage"],
            "argument --now: 'garbage' is not an ISO-8601 date and time; write it like "
            "2026-11-23T10:00:00Z or 2026-11-23T11:00:00+01:00",
        ),
        (["shell", "--now", "2026-11-23T09:30"], "'2026-11-23T09:30' has no time zone"),
        (["shell", "--script", "no-such-week.txt"], "argument --script: no-such-week.txt: no such"),
        (["shell", "--config", "."], "argument --config: . is a folder; give the path of a file"),
        (["shell", "--db", "."], "argument --db: . is a folder; give a file path such as"),
        (["shell", "--frsh"], "unrecognized arguments: --frsh (did you mean --fresh?)"),
        (["shell", "--log-level", "loud"], "invalid choice: 'loud' (choose from"),
        (["run-jobs", "--now", "tomorrow"], "'tomorrow' is not an ISO-8601 date and time"),
        (["serve", "--port", "8080"], "--port 8080 (PORT is a setting: set it in the environment"),
        (["migrate", "now"], "unrecognized arguments: now (this command takes no positional"),
        (["deploy"], "invalid choice: 'deploy' (choose from"),
    ],
)
def test_a_bad_flag_says_what_was_wrong_and_the_accepted_form(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    usage, message = err.strip().split("\n", 1)[0], err.strip().splitlines()[-1]
    assert usage.startswith(f"usage: python -m bot {argv[0] if argv[0] != 'deploy' else ''}")
    assert said in message, err


def test_shell_fresh_never_deletes_a_file_that_is_not_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    precious = tmp_path / "thesis.txt"
    precious.write_text("years of work\n")
    script = tmp_path / "week.txt"
    script.write_text("/decision new Something\n")
    assert main(["shell", "--fresh", "--db", str(precious), "--script", str(script)]) == 2
    assert "that file is not a SQLite database" in capsys.readouterr().err
    assert precious.read_text() == "years of work\n"
