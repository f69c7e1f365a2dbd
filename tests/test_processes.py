"""The process interface as an operator meets it: real subprocesses, real HTTP, real exit codes."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.db import Database
from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import FakeSlack
from bot.migrate import scripts
from tests.conftest import SIGNING_SECRET
from tests.process_support import clean_env, free_port
from tests.process_support import run as run_bot

pytestmark = pytest.mark.slow


async def run(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    done = await run_bot(*args, cwd=cwd, env=env)
    return done.code, done.text


async def test_migrate_creates_the_schema(tmp_path: Path) -> None:
    code, out = await run("migrate", cwd=tmp_path, env=clean_env())
    assert code == 0, out
    # One line: what ran, on which database, what it did; none of alembic's own narration.
    (line,) = out.splitlines()
    assert line.endswith(
        "INFO bot: migrate: SQLite database sqlite+aiosqlite:///followthrough.db at schema "
        f"{scripts().get_current_head()}; applied {len(list(scripts().walk_revisions()))} "
        "migrations"
    ), line
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'followthrough.db'}")
    try:
        async with db.engine.connect() as conn:
            names = await conn.run_sync(
                lambda c: __import__("sqlalchemy").inspect(c).get_table_names()
            )
    finally:
        await db.dispose()
    assert {"decisions", "meetings", "deliveries", "alembic_version"} <= set(names)


async def test_serve_refuses_to_start_without_slack_settings(tmp_path: Path) -> None:
    code, out = await run("serve", cwd=tmp_path, env=clean_env(PORT="99999"))
    assert code == 2
    assert "PORT" in out
    code, out = await run("serve", cwd=tmp_path, env=clean_env())
    assert code == 2
    assert "SLACK_SIGNING_SECRET" in out and "SLACK_BOT_TOKEN" in out


async def test_serve_answers_signed_commands_and_stops_on_sigterm(tmp_path: Path) -> None:
    async with FakeSlack(team_id="T1") as fake:
        fake.add_user("U1", name="ana", tz="UTC")
        fake.add_channel("C1", name="general")
        port = free_port()
        env = clean_env(
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_BOT_TOKEN="xoxb-process-test",
            SLACK_API_URL=fake.api_url,
            HOST="127.0.0.1",
            PORT=str(port),
        )
        code, out = await run("migrate", cwd=tmp_path, env=env)
        assert code == 0, out
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                for _ in range(1200):  # a minute: a loaded CI machine starts slowly
                    try:
                        if (await http.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
                else:
                    pytest.fail("server never became healthy")
                driver = SlackDriver(
                    http, signing_secret=SIGNING_SECRET, response_url_for=fake.response_url
                )
                response = await driver.command(
                    "/decision", "new Through a real socket", user_id="U1", channel_id="C1"
                )
                assert response.status_code == 200
                assert "D-1" in response.json()["text"]
                forged = await driver.post_unsigned(
                    "command=%2Fdecision&text=new+x",
                    {"content-type": "application/x-www-form-urlencoded"},
                )
                assert forged.status_code == 401
                for _ in range(100):
                    if fake.calls_to("chat.postMessage"):
                        break
                    await asyncio.sleep(0.05)
                assert fake.calls_to("chat.postMessage")[0].token == "xoxb-process-test"
        finally:
            server.send_signal(signal.SIGTERM)
            out_bytes, _ = await asyncio.wait_for(server.communicate(), 30)
        # uvicorn shuts down gracefully, then re-raises SIGTERM so supervisors see why it ended.
        assert server.returncode in (0, -signal.SIGTERM), out_bytes.decode()
        output = out_bytes.decode()
        assert "xoxb-process-test" not in output
        # Start-up is one line of ours: what started, where, which database, which mode.
        first, *rest = output.splitlines()
        assert first.endswith(
            f"INFO bot.server: serve: Slack over HTTP on 127.0.0.1:{port}; SQLite database "
            f"sqlite+aiosqlite:///followthrough.db at schema {scripts().get_current_head()}; "
            "single-workspace mode (bot token)"
        ), first
        # Later lines are only what the requests caused (the web layer logs the forged one it
        # refused); no library narration, and not Bolt's warning that the token "will be unused".
        for line in rest:
            assert "INFO bot.web: refused POST /slack/events (401)" in line, line


async def test_healthz_is_503_when_the_database_is_down() -> None:
    from slack_bolt.async_app import AsyncApp

    from bot.web import SlackGate, create_web_app

    db = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    bolt = AsyncApp(signing_secret="s" * 16, token="xoxb-unused")
    gate = SlackGate(signing_secret="s" * 16, once=None)
    web = create_web_app(bolt, db, oauth=False, gate=gate, follow_ups=None)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://t"
    ) as http:
        response = await http.get("/healthz")
    await db.dispose()
    assert response.status_code == 503


async def socket_ack(fake: FakeSlack, envelope_id: str) -> dict[str, Any]:
    for _ in range(200):
        acks = [a for a in fake.socket_acks if a.get("envelope_id") == envelope_id]
        if acks:
            return acks[0]
        await asyncio.sleep(0.05)
    pytest.fail(f"{envelope_id} was never acknowledged")


async def test_socket_mode_answers_commands_without_a_public_url(tmp_path: Path) -> None:
    async with FakeSlack(team_id="T1") as fake:
        fake.add_user("U1", name="ana", tz="UTC")
        fake.add_channel("C1", name="general")
        env = clean_env(
            SLACK_BOT_TOKEN="xoxb-socket-test",
            SLACK_APP_TOKEN="xapp-socket-test",
            SLACK_API_URL=fake.api_url,
            HOST="127.0.0.1",
            PORT=str(free_port()),
        )
        code, out = await run("migrate", cwd=tmp_path, env=env)
        assert code == 0, out
        server = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            for _ in range(1200):  # a minute: a loaded CI machine starts slowly
                if fake.socket_connected:
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the app never opened a Socket Mode connection")
            driver = SlackDriver(
                httpx.AsyncClient(), signing_secret="unused", response_url_for=fake.response_url
            )
            form = driver.command_form(
                "/decision", "new Over a socket", user_id="U1", channel_id="C1"
            )
            await fake.socket_send(
                {
                    "envelope_id": "env-1",
                    "type": "slash_commands",
                    "accepts_response_payload": True,
                    "payload": form,
                }
            )
            assert "D-1" in (await socket_ack(fake, "env-1"))["payload"]["text"]
            # A refusal is answered too: the socket authenticates its requests, so the error
            # handler speaks for them as it does for signed HTTP.
            refused = driver.command_form("/decision", "show D-99", user_id="U1", channel_id="C1")
            await fake.socket_send(
                {
                    "envelope_id": "env-2",
                    "type": "slash_commands",
                    "accepts_response_payload": True,
                    "payload": refused,
                }
            )
            assert "no D-99" in (await socket_ack(fake, "env-2"))["payload"]["text"]
        finally:
            server.send_signal(signal.SIGTERM)
            out_bytes, _ = await asyncio.wait_for(server.communicate(), 30)
        output = out_bytes.decode()
        assert "xapp-socket-test" not in output
        # One start-up line, and none of slack_sdk's Socket Mode session narration.
        (line,) = output.splitlines()
        assert f"serve: Slack over Socket Mode, /healthz on 127.0.0.1:{env['PORT']}; " in line
