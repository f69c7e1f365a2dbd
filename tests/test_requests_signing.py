"""Slack's request signing: only genuine, fresh, untouched requests reach a listener."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from bot.decisions.models import Decision
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
