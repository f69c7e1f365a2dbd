"""Slack's request signing: only genuine, fresh, untouched requests reach a listener."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
import pytest
from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy import func, select

from bot.decisions.models import Decision
from bot.once import UsedOnce
from bot.slack.app import build_app
from bot.slack.client import NO_PAUSES
from bot.slack.deps import Deps
from bot.web import ALREADY_RECEIVED, BODY_LIMIT, SlackGate, create_web_app
from tests.conftest import SIGNING_SECRET, AppEnv, slack_fixture


async def stored(env: AppEnv) -> int:
    async with env.deps.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Decision)) or 0)


def command_body(env: AppEnv) -> str:
    return urlencode(
        env.driver.command_form("/decision", "new Ship it", user_id="U1", channel_id="C1")
    )


async def test_genuine_request_is_accepted(app_env: AppEnv) -> None:
    response = await app_env.driver.post(command_body(app_env))
    await app_env.settle()
    assert response.status_code == 200
    assert await stored(app_env) == 1


async def test_forged_signature_is_rejected(app_env: AppEnv) -> None:
    body = command_body(app_env)
    headers = app_env.driver.signed_headers(body)
    headers["x-slack-signature"] = "v0=" + "0" * 64
    response = await app_env.driver.post_unsigned(body, headers)
    assert response.status_code == 401
    assert await stored(app_env) == 0


async def test_wrong_secret_is_rejected(app_env: AppEnv) -> None:
    from slack_sdk.signature import SignatureVerifier

    body = command_body(app_env)
    ts = str(int(time.time()))
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": SignatureVerifier("not-" + SIGNING_SECRET).generate_signature(
            timestamp=ts, body=body
        )
        or "",
    }
    assert (await app_env.driver.post_unsigned(body, headers)).status_code == 401
    assert await stored(app_env) == 0


async def test_stale_request_is_rejected(app_env: AppEnv) -> None:
    response = await app_env.driver.post(command_body(app_env), timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    assert await stored(app_env) == 0


async def test_one_altered_byte_is_rejected(app_env: AppEnv) -> None:
    body = command_body(app_env)
    headers = app_env.driver.signed_headers(body)
    tampered = body.replace("Ship", "Shiq", 1)
    assert len(tampered) == len(body) and tampered != body
    response = await app_env.driver.post_unsigned(tampered, headers)
    assert response.status_code == 401
    assert await stored(app_env) == 0


async def test_missing_headers_are_rejected(app_env: AppEnv) -> None:
    response = await app_env.driver.post_unsigned(
        command_body(app_env), {"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 401
    assert await stored(app_env) == 0


def test_signature_matches_slacks_published_example() -> None:
    """Our driver signs exactly as Slack documents (the docs' test vector)."""
    from slack_sdk.signature import SignatureVerifier

    folder = slack_fixture("slash_commands", "slack_docs_signing_example")
    body = (folder / "body.form.txt").read_text().strip("\n")
    headers = json.loads((folder / "headers.json").read_text())
    secret = (folder / "signing_secret.txt").read_text().strip()
    lower = {k.lower(): v for k, v in headers.items()}
    signature = SignatureVerifier(secret).generate_signature(
        timestamp=lower["x-slack-request-timestamp"], body=body
    )
    assert signature == lower["x-slack-signature"]


@pytest.mark.parametrize("path", ["/healthz"])
async def test_healthz_answers_when_database_does(app_env: AppEnv, path: str) -> None:
    response = await app_env.http.get(path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# --- the attack run's requests, kept as regressions (issue 21) --------------------------------


def hostile_action(env: AppEnv) -> str:
    """A block_actions body naming a response_url, a channel and a user, as an attacker would."""
    payload = env.driver.block_action_payload(
        action={"action_id": "decision_drop", "block_id": "b", "type": "button", "value": "x"},
        user_id="U1",
        channel_id="C1",
    )
    payload["response_url"] = env.fake.response_url("attacker")
    return urlencode({"payload": json.dumps(payload)})


def assert_nothing_happened(env: AppEnv, caplog: pytest.LogCaptureFixture) -> None:
    """No Slack call, no response_url post, no traceback or error logged."""
    assert env.fake.calls == [] and env.fake.responses == []
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(
    "timestamp", ["abc", "1e3", "1796154478.5", "0x6a1b2c3d", "", " 1796154478", "-1", "١٧٩٦"]
)
async def test_a_malformed_timestamp_is_401_and_nothing_acts(
    app_env: AppEnv, caplog: pytest.LogCaptureFixture, timestamp: str
) -> None:
    body = hostile_action(app_env)
    headers = {
        "content-type": b"application/x-www-form-urlencoded",
        # Arabic-Indic digits are digits to str.isdigit() and int(); never to Slack.
        "x-slack-request-timestamp": timestamp.encode(),
        "x-slack-signature": b"v0=forged",
    }
    with caplog.at_level(logging.INFO):
        response = await app_env.http.post("/slack/events", content=body.encode(), headers=headers)
        await app_env.settle()
    assert response.status_code == 401
    assert_nothing_happened(app_env, caplog)


@pytest.mark.parametrize(
    "signature", ["v0=forged", "", "v1=" + "0" * 64, "v0=" + "0" * 63, "v0=" + "G" * 64]
)
async def test_a_malformed_signature_is_401_and_nothing_acts(
    app_env: AppEnv, caplog: pytest.LogCaptureFixture, signature: str
) -> None:
    body = hostile_action(app_env)
    headers = app_env.driver.signed_headers(body)
    headers["x-slack-signature"] = signature
    with caplog.at_level(logging.INFO):
        response = await app_env.driver.post_unsigned(body, headers)
        await app_env.settle()
    assert response.status_code == 401
    assert_nothing_happened(app_env, caplog)


MALFORMED_BODIES: list[tuple[str, bytes, str]] = [
    ("open brace", b"{", "application/json"),
    ("a list", b"[1,2]", "application/json"),
    ("null", b"null", "application/json"),
    ("payload not JSON", b"payload=not-json", "application/x-www-form-urlencoded"),
    ("payload a list", b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
    ("deep JSON", b"[" * 100_000 + b"]" * 100_000, "application/json"),
    ("team not an object", b'{"team": 5, "type": "block_actions"}', "application/json"),
    ("empty JSON string", b'""', "application/json"),
]


@pytest.mark.parametrize(("name", "body", "content_type"), MALFORMED_BODIES)
async def test_a_malformed_body_unsigned_is_401_signed_is_400_and_nothing_acts(
    app_env: AppEnv,
    caplog: pytest.LogCaptureFixture,
    name: str,
    body: bytes,
    content_type: str,
) -> None:
    text = body.decode()
    forged = {
        "content-type": content_type,
        "x-slack-request-timestamp": str(int(time.time())),
        "x-slack-signature": "v0=" + "0" * 64,
    }
    signed = {**app_env.driver.signed_headers(text), "content-type": content_type}
    with caplog.at_level(logging.INFO):
        unsigned = await app_env.http.post("/slack/events", content=body, headers=forged)
        genuine = await app_env.http.post("/slack/events", content=body, headers=signed)
        await app_env.settle()
    assert unsigned.status_code == 401, name
    assert genuine.status_code == 400, name
    assert_nothing_happened(app_env, caplog)


async def test_a_body_that_is_not_utf8_is_401_signed_or_not(
    app_env: AppEnv, caplog: pytest.LogCaptureFixture
) -> None:
    body = b"payload=\xff\xfe\x00"
    headers = app_env.driver.signed_headers("payload=")
    with caplog.at_level(logging.INFO):
        response = await app_env.http.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    assert_nothing_happened(app_env, caplog)


async def test_an_oversized_body_is_refused_before_it_is_read(
    app_env: AppEnv, caplog: pytest.LogCaptureFixture
) -> None:
    sent: list[int] = []

    async def sixty_four_megabytes() -> AsyncIterator[bytes]:
        chunk = b"x" * 65_536
        for _ in range(1024):
            sent.append(len(chunk))
            yield chunk

    declared = {
        "content-type": "application/x-www-form-urlencoded",
        "content-length": str(64 * 1024 * 1024),
    }
    with caplog.at_level(logging.INFO):
        claimed = await app_env.http.post("/slack/events", content=b"x", headers=declared)
        streamed = await app_env.http.post(
            "/slack/events", content=sixty_four_megabytes(), headers={"x-slack-signature": "v0="}
        )
    assert claimed.status_code == 413
    assert streamed.status_code == 413
    # Reading stopped just past the cap (1 MiB), not at 64 MiB.
    assert sum(sent) <= BODY_LIMIT + 2 * 65_536
    assert_nothing_happened(app_env, caplog)


async def test_a_body_at_the_cap_is_read(app_env: AppEnv) -> None:
    form = app_env.driver.command_form("/decision", "new Ship it", user_id="U1", channel_id="C1")
    body = urlencode(form)
    body += "&padding=" + "x" * (BODY_LIMIT - len(body) - len("&padding="))
    assert len(body) == BODY_LIMIT
    response = await app_env.driver.post(body)
    await app_env.settle()
    assert response.status_code == 200 and "D-1" in response.json()["text"]


async def test_the_error_handler_says_nothing_about_a_request_it_cannot_trust(
    app_env: AppEnv, caplog: pytest.LogCaptureFixture
) -> None:
    """Even handed to Bolt directly, past the gate, a forged request makes no call anywhere."""
    bolt = build_app(app_env.settings, app_env.deps, pauses=NO_PAUSES)
    body = hostile_action(app_env)
    request = AsyncBoltRequest(
        body=body,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": "abc",
            "x-slack-signature": "v0=forged",
        },
    )
    with caplog.at_level(logging.WARNING):
        response = await bolt.async_dispatch(request)
        await app_env.settle()
    assert response.status in (401, 500)
    assert app_env.fake.calls == [] and app_env.fake.responses == []
    await bolt.client.session.close()  # type: ignore[union-attr]


# --- replays ----------------------------------------------------------------------------------


async def test_a_replayed_command_creates_nothing_the_second_time(app_env: AppEnv) -> None:
    body = command_body(app_env)
    headers = app_env.driver.signed_headers(body)
    first = await app_env.driver.post_unsigned(body, headers)
    await app_env.settle()
    assert "D-1" in first.json()["text"]
    for _ in range(5):
        again = await app_env.driver.post_unsigned(body, headers)
        assert again.status_code == 200
        assert again.json() == {"response_type": "ephemeral", "text": ALREADY_RECEIVED}
    await app_env.settle()
    assert await stored(app_env) == 1
    assert len(app_env.fake.calls_to("chat.postMessage")) == 1


@pytest.mark.commits  # its transactions race each other on their own connections
async def test_a_replay_fired_all_at_once_creates_one(app_env: AppEnv) -> None:
    body = command_body(app_env)
    headers = app_env.driver.signed_headers(body)
    answers = await asyncio.gather(*(app_env.driver.post_unsigned(body, headers) for _ in range(5)))
    await app_env.settle()
    assert sorted("D-1" in a.text for a in answers) == [False] * 4 + [True]
    assert await stored(app_env) == 1


async def test_a_replay_to_another_process_is_refused_too(app_env: AppEnv) -> None:
    """A second web process (its own app, gate and ledger) over the same database."""
    deps = Deps(db=app_env.deps.db, clock=app_env.deps.clock, cadence=app_env.deps.cadence)
    bolt = build_app(app_env.settings, deps, pauses=NO_PAUSES)
    web = create_web_app(
        bolt,
        deps.db,
        oauth=False,
        gate=SlackGate.for_settings(app_env.settings, deps.db),
        follow_ups=deps.follow_ups,
        dispose_db=False,
    )
    body = command_body(app_env)
    headers = app_env.driver.signed_headers(body)
    first = await app_env.driver.post_unsigned(body, headers)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://other"
    ) as other:
        again = await other.post("/slack/events", content=body.encode(), headers=headers)
    await app_env.settle()
    await deps.follow_ups.drain()
    await bolt.client.session.close()  # type: ignore[union-attr]
    assert "D-1" in first.json()["text"]
    assert again.json()["text"] == ALREADY_RECEIVED
    assert await stored(app_env) == 1


async def test_the_same_words_signed_anew_are_a_new_request(app_env: AppEnv) -> None:
    """Slack signs each request it sends; two people typing the same thing are two requests."""
    form = app_env.driver.command_form("/decision", "new Ship it", user_id="U1", channel_id="C1")
    body = urlencode(form)
    await app_env.driver.post(body, timestamp=int(time.time()) - 1)
    await app_env.driver.post(body)
    await app_env.settle()
    assert await stored(app_env) == 2


async def test_used_signatures_are_kept_only_while_they_could_be_replayed(
    app_env: AppEnv,
) -> None:
    await app_env.driver.post(command_body(app_env))
    await app_env.settle()
    async with app_env.deps.db.transaction() as session:
        [used] = list(await session.scalars(select(UsedOnce)))
    assert used.key.startswith("request:")
    assert timedelta(minutes=5) < used.expires_at - datetime.now(UTC) <= timedelta(minutes=6)
