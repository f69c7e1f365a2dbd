"""The app in OAuth mode, installed the way Slack installs it, for tests that need many workspaces.

`oauth_app` builds the real Bolt app with client id and secret (no bot token) behind Starlette;
`install` walks the whole flow: the install page, its state cookie, the redirect with a code the
fake Slack accepts, and the installation stored by slack_sdk's SQLAlchemy store.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import select

from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock
from bot.db import Database
from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import FakeSlack
from bot.server import wire
from bot.slack import install_tables
from bot.slack.client import NO_PAUSES
from bot.slack.deps import Deps
from tests.conftest import SIGNING_SECRET, AppEnv, make_settings

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "oauth-client-secret-0123456789"
STATE_COOKIE = "slack-app-oauth-state"
_STATE_IN_URL = re.compile(r"state=([A-Za-z0-9_.-]+)")


@asynccontextmanager
async def oauth_app(
    db: Database, fake: FakeSlack, clock: ManualClock, cadence: CadenceConfig, db_url: str
) -> AsyncIterator[AppEnv]:
    fake.oauth_client = (CLIENT_ID, CLIENT_SECRET)
    settings = make_settings(
        db_url,
        fake,
        slack_bot_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
    )
    deps = Deps(db=db, clock=clock, cadence=cadence)
    wired = wire(settings, deps, dispose_db=False, pauses=NO_PAUSES)
    web = wired.web
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        driver = SlackDriver(
            http, signing_secret=SIGNING_SECRET, response_url_for=fake.response_url
        )
        env = AppEnv(settings=settings, deps=deps, fake=fake, driver=driver, http=http, web=web)
        try:
            yield env
        finally:
            await env.settle()
            await wired.close()


@dataclass
class InstallPage:
    response: httpx.Response
    state: str
    cookie: str


async def open_install_page(env: AppEnv) -> InstallPage:
    response = await env.http.get("/slack/install")
    found = _STATE_IN_URL.search(response.text)
    assert found, response.text
    cookie = response.headers.get("set-cookie", "")
    return InstallPage(response=response, state=found[1], cookie=cookie.split(";")[0])


async def redirect(
    env: AppEnv, *, code: str, state: str, cookie: str | None = None
) -> httpx.Response:
    headers = {"cookie": cookie} if cookie is not None else {}
    return await env.http.get(
        "/slack/oauth_redirect?" + urlencode({"code": code, "state": state}), headers=headers
    )


def oauth_answer(
    token: str, *, team_id: str | None, enterprise_id: str | None = None, org_wide: bool = False
) -> dict[str, Any]:
    """What oauth.v2.access answers for an install into ``team_id`` (or a whole org)."""
    return {
        "ok": True,
        "app_id": "AFAKEAPP",
        "authed_user": {"id": "UINSTALLER"},
        "scope": "commands,chat:write,users:read",
        "token_type": "bot",
        "access_token": token,
        "bot_user_id": "UBOT",
        "team": {"id": team_id, "name": f"Team {team_id}"} if team_id else None,
        "enterprise": {"id": enterprise_id, "name": "Org"} if enterprise_id else None,
        "is_enterprise_install": org_wide,
    }


async def install(
    env: AppEnv,
    *,
    team_id: str | None,
    token: str,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> httpx.Response:
    """Install the app into a workspace (or org) through the real flow; returns the last page."""
    env.fake.oauth_response = oauth_answer(
        token, team_id=team_id, enterprise_id=enterprise_id, org_wide=org_wide
    )
    code = f"code-for-{team_id or enterprise_id}-{token[-6:]}"
    env.fake.valid_oauth_codes.add(code)
    page = await open_install_page(env)
    response = await redirect(env, code=code, state=page.state, cookie=page.cookie)
    assert response.status_code == 200, response.text
    return response


async def installation_rows(env: AppEnv) -> list[dict[str, Any]]:
    async with env.deps.db.engine.connect() as conn:
        rows = await conn.execute(select(install_tables.installations))
        return [dict(row) for row in rows.mappings()]


def tokens_used(env: AppEnv, method: str) -> list[str | None]:
    return [call.token for call in env.fake.calls_to(method)]
