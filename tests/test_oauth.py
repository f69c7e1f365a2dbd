"""OAuth mode end to end: install page, state checks, the code exchange at the fake Slack, and
requests authorized from the stored installation — token rotation and org-wide installs included.
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from slack_sdk.oauth.state_store import stateless
from slack_sdk.oauth.state_store.stateless import StatelessOAuthStateStore
from sqlalchemy import func, select, update

from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock
from bot.db import Database
from bot.decisions.models import Decision
from bot.devtools.fake_slack import FakeSlack
from bot.once import OnceLedger, UsedOnce
from bot.slack import install_tables
from bot.slack.app import NOT_INSTALLED, OAUTH_STATE_SECONDS
from bot.workspace import WorkspaceKey
from bot.workspaces.models import Workspace
from tests.conftest import AppEnv
from tests.oauth_support import (
    CLIENT_ID,
    STATE_COOKIE,
    install,
    installation_rows,
    oauth_app,
    open_install_page,
    redirect,
    tokens_used,
)


@pytest.fixture
async def env(
    db: Database, fake_slack: FakeSlack, clock: ManualClock, cadence: CadenceConfig, db_url: str
) -> AsyncIterator[AppEnv]:
    async with oauth_app(db, fake_slack, clock, cadence, db_url) as app_env:
        yield app_env


async def count(env: AppEnv, table: object) -> int:
    async with env.deps.db.engine.connect() as conn:
        return int((await conn.scalar(select(func.count()).select_from(table))) or 0)  # type: ignore[arg-type]


async def test_install_page_links_to_slack_with_a_state_and_sets_its_cookie(env: AppEnv) -> None:
    page = await open_install_page(env)
    assert page.response.status_code == 200
    assert "Add to Slack" in page.response.text
    link = urlparse(html.unescape(page.response.text.split('<a href="')[1].split('"')[0]))
    query = parse_qs(link.query)
    assert link.netloc == "slack.com" and link.path == "/oauth/v2/authorize"
    assert query["client_id"] == [CLIENT_ID]
    assert "commands" in query["scope"][0].split(",")
    assert query["state"] == [page.state]
    assert page.cookie == f"{STATE_COOKIE}={page.state}"
    assert "HttpOnly" in page.response.headers["set-cookie"]
    # The state is a signed token: opening the page writes nothing.
    assert await count(env, UsedOnce) == 0


async def test_install_page_cannot_fill_a_table(env: AppEnv) -> None:
    for _ in range(300):
        assert (await env.http.get("/slack/install")).status_code == 200
    assert await count(env, UsedOnce) == 0


async def test_good_redirect_stores_the_installation_and_the_team_is_served_with_its_token(
    env: AppEnv,
) -> None:
    await install(env, team_id="T9", token="xoxb-T9-installed")
    exchanges = env.fake.calls_to("oauth.v2.access")
    assert len(exchanges) == 1 and exchanges[0].params["client_id"] == CLIENT_ID
    [row] = await installation_rows(env)
    assert (row["team_id"], row["enterprise_id"], row["bot_token"]) == (
        "T9",
        None,
        "xoxb-T9-installed",
    )
    # Its one use is remembered (until it would have expired), so it cannot be used again.
    assert await count(env, UsedOnce) == 1
    async with env.deps.db.transaction() as session:
        assert await session.get(Workspace, ("", "T9")) is not None

    env.fake.clear_calls()
    response = await env.command("/decision", "new Pick a vendor", team_id="T9")
    assert "D-1" in response.json()["text"]
    assert tokens_used(env, "auth.test") == ["xoxb-T9-installed"]
    assert tokens_used(env, "chat.postMessage") == ["xoxb-T9-installed"]
    async with env.deps.db.transaction() as session:
        decision = await session.scalar(select(Decision))
    assert decision is not None and (decision.team_id, decision.enterprise_id) == ("T9", "")


async def test_unknown_state_is_refused_and_nothing_is_installed(env: AppEnv) -> None:
    env.fake.valid_oauth_codes.add("good-code")
    forged = "00000000-0000-0000-0000-000000000000"
    response = await redirect(
        env, code="good-code", state=forged, cookie=f"{STATE_COOKIE}={forged}"
    )
    assert response.status_code == 401
    assert env.fake.calls_to("oauth.v2.access") == []
    assert await installation_rows(env) == []


async def test_state_from_another_browser_is_refused(env: AppEnv) -> None:
    page = await open_install_page(env)
    env.fake.valid_oauth_codes.add("good-code")
    without_cookie = await redirect(env, code="good-code", state=page.state)
    other_cookie = await redirect(
        env, code="good-code", state=page.state, cookie=f"{STATE_COOKIE}=someone-elses"
    )
    assert without_cookie.status_code == 400 and other_cookie.status_code == 400
    assert env.fake.calls_to("oauth.v2.access") == []
    assert await installation_rows(env) == []


async def test_a_replayed_state_is_refused(env: AppEnv) -> None:
    page = await open_install_page(env)
    env.fake.valid_oauth_codes.update({"first-code", "second-code"})
    first = await redirect(env, code="first-code", state=page.state, cookie=page.cookie)
    assert first.status_code == 200
    replay = await redirect(env, code="second-code", state=page.state, cookie=page.cookie)
    assert replay.status_code == 401
    assert len(env.fake.calls_to("oauth.v2.access")) == 1
    assert len(await installation_rows(env)) == 1


async def test_an_expired_state_is_refused(env: AppEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    page = await open_install_page(env)
    later = time.time() + OAUTH_STATE_SECONDS + 1
    monkeypatch.setattr(stateless, "time", SimpleNamespace(time=lambda: later))
    env.fake.valid_oauth_codes.add("good-code")
    response = await redirect(env, code="good-code", state=page.state, cookie=page.cookie)
    assert response.status_code == 401
    assert await installation_rows(env) == []
    assert await count(env, UsedOnce) == 0


async def test_a_state_signed_with_another_secret_is_refused(env: AppEnv) -> None:
    forged = StatelessOAuthStateStore(expiration_seconds=600, signing_secret="guess").issue()
    env.fake.valid_oauth_codes.add("good-code")
    response = await redirect(
        env, code="good-code", state=forged, cookie=f"{STATE_COOKIE}={forged}"
    )
    assert response.status_code == 401
    assert env.fake.calls_to("oauth.v2.access") == []
    assert await count(env, UsedOnce) == 0


async def test_used_states_are_swept_once_expired(env: AppEnv) -> None:
    await install(env, team_id="T9", token="xoxb-T9-installed")
    assert await count(env, UsedOnce) == 1
    async with env.deps.db.transaction() as session:
        await session.execute(
            update(UsedOnce).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    # The next use of the ledger (any signed request) sweeps what has expired.
    once = OnceLedger(env.deps.db)
    assert await once.first_use("test:sweep", expires_at=datetime.now(UTC) + timedelta(minutes=1))
    async with env.deps.db.transaction() as session:
        assert list(await session.scalars(select(UsedOnce.key))) == ["test:sweep"]


async def test_a_code_slack_rejects_installs_nothing(env: AppEnv) -> None:
    page = await open_install_page(env)
    response = await redirect(env, code="made-up", state=page.state, cookie=page.cookie)
    assert response.status_code == 401
    assert [c.error for c in env.fake.calls_to("oauth.v2.access")] == ["invalid_code"]
    assert await installation_rows(env) == []


async def test_a_team_without_an_installation_is_not_served(env: AppEnv) -> None:
    await install(env, team_id="T9", token="xoxb-T9-installed")
    response = await env.command("/decision", "new Sneaky", team_id="T404")
    assert response.status_code == 200
    [told] = env.fake.responses
    assert told.body["text"] == NOT_INSTALLED
    assert env.fake.calls_to("chat.postMessage") == []
    async with env.deps.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Decision)) == 0
        assert await session.get(Workspace, ("", "T404")) is None


async def test_rotating_tokens_are_refreshed_through_the_configured_api_url(env: AppEnv) -> None:
    env.fake.oauth_token_rotation = True
    env.fake.oauth_response = None
    env.fake.valid_oauth_codes.add("rotating-code")
    page = await open_install_page(env)
    assert (
        await redirect(env, code="rotating-code", state=page.state, cookie=page.cookie)
    ).status_code == 200
    [row] = await installation_rows(env)
    first_token, refresh_token = row["bot_token"], row["bot_refresh_token"]
    assert refresh_token and row["bot_token_expires_at"] is not None
    # Make the token about to expire, as it would be twelve hours later.
    soon = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=5)
    async with env.deps.db.engine.begin() as conn:
        for table in (install_tables.installations, install_tables.bots):
            await conn.execute(update(table).values(bot_token_expires_at=soon))

    env.fake.clear_calls()
    response = await env.command("/decision", "new After rotation", team_id="T1")
    assert "D-1" in response.json()["text"]
    [refresh] = env.fake.calls_to("oauth.v2.access")
    assert refresh.params["grant_type"] == "refresh_token"
    assert refresh.params["refresh_token"] == refresh_token
    rows = await installation_rows(env)
    new_token = rows[-1]["bot_token"]
    assert new_token != first_token
    assert tokens_used(env, "chat.postMessage") == [new_token]

    # The next request uses the stored new token without refreshing again.
    env.fake.clear_calls()
    await env.command("/decision", "new Second", team_id="T1")
    assert env.fake.calls_to("oauth.v2.access") == []
    assert tokens_used(env, "chat.postMessage") == [new_token]


async def test_org_wide_install_is_keyed_by_enterprise_and_serves_each_workspace(
    env: AppEnv,
) -> None:
    await install(env, team_id=None, enterprise_id="E1", org_wide=True, token="xoxb-E1-org")
    [row] = await installation_rows(env)
    assert (row["enterprise_id"], row["team_id"], row["is_enterprise_install"]) == (
        "E1",
        None,
        True,
    )

    for team in ("T5", "T6"):
        form = env.driver.command_form(
            "/decision", f"new Org decision in {team}", user_id="U1", channel_id="C1", team_id=team
        )
        form.update(enterprise_id="E1", is_enterprise_install="true")
        response = await env.driver.post(urlencode(form))
        await env.settle()
        assert "D-1" in response.json()["text"]
    assert set(tokens_used(env, "chat.postMessage")) == {"xoxb-E1-org"}
    async with env.deps.db.transaction() as session:
        keys = {(d.enterprise_id, d.team_id) for d in await session.scalars(select(Decision))}
    assert keys == {("E1", "T5"), ("E1", "T6")}


async def test_org_wide_uninstall_stops_every_workspace_of_the_org(env: AppEnv) -> None:
    await install(env, team_id=None, enterprise_id="E1", org_wide=True, token="xoxb-E1-org")
    for team in ("T5", "T6"):
        form = env.driver.command_form(
            "/decision", "new Org decision", user_id="U1", channel_id="C1", team_id=team
        )
        form.update(enterprise_id="E1", is_enterprise_install="true")
        await env.driver.post(urlencode(form))
        await env.settle()
    await org_event(env, "app_uninstalled", enterprise_id="E1")
    assert await installation_rows(env) == []
    async with env.deps.db.transaction() as session:
        workspaces = list(await session.scalars(select(Workspace)))
    assert {(w.enterprise_id, w.team_id) for w in workspaces} == {("E1", "T5"), ("E1", "T6")}
    assert all(w.uninstalled_at == env.deps.now() for w in workspaces)


async def org_event(env: AppEnv, kind: str, *, enterprise_id: str) -> None:
    envelope = {
        "token": "unused",
        "team_id": "T5",
        "enterprise_id": enterprise_id,
        "api_app_id": "A1",
        "event": {"type": kind, "event_ts": f"{time.time():.6f}"},
        "type": "event_callback",
        "event_id": "EvORG0001",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": None,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": True,
            }
        ],
    }
    response = await env.driver.post(json.dumps(envelope), content_type="application/json")
    assert response.status_code == 200
    await env.settle()


async def test_uninstall_deletes_the_installation_and_a_reinstall_brings_the_team_back(
    env: AppEnv,
) -> None:
    await install(env, team_id="T9", token="xoxb-T9-first")
    await env.command("/decision", "new Keep me", team_id="T9")
    response = await env.driver.event({"type": "app_uninstalled"}, team_id="T9")
    assert response.status_code == 200
    await env.settle()
    assert await installation_rows(env) == []
    async with env.deps.db.transaction() as session:
        ws = await session.get(Workspace, ("", "T9"))
    assert ws is not None and ws.uninstalled_at == env.deps.now()
    assert ws.purge_after == env.deps.now() + timedelta(days=30)

    env.fake.clear_calls()
    refused = await env.command("/decision", "new After uninstall", team_id="T9")
    assert refused.status_code == 200
    assert env.fake.responses[-1].body["text"] == NOT_INSTALLED
    assert env.fake.calls_to("chat.postMessage") == []

    await install(env, team_id="T9", token="xoxb-T9-second")
    async with env.deps.db.transaction() as session:
        ws = await session.get(Workspace, ("", "T9"))
        assert ws is not None and ws.uninstalled_at is None and ws.purge_after is None
        assert await session.scalar(select(func.count()).select_from(Decision)) == 1
    response = await env.command("/decision", "new Back again", team_id="T9")
    assert "D-2" in response.json()["text"]
    assert tokens_used(env, "chat.postMessage")[-1] == "xoxb-T9-second"


async def test_revoked_bot_token_counts_as_uninstall(env: AppEnv) -> None:
    await install(env, team_id="T9", token="xoxb-T9-first")
    await env.driver.event(
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}, team_id="T9"
    )
    await env.settle()
    assert await installation_rows(env) == []
    async with env.deps.db.transaction() as session:
        ws = await session.get(Workspace, ("", "T9"))
    assert ws is not None and ws.uninstalled_at is not None


async def test_revoked_user_token_only_forgets_that_users_installation(env: AppEnv) -> None:
    await install(env, team_id="T9", token="xoxb-T9-first")
    await env.driver.event(
        {"type": "tokens_revoked", "tokens": {"oauth": ["UINSTALLER"], "bot": []}}, team_id="T9"
    )
    await env.settle()
    assert await installation_rows(env) == []
    async with env.deps.db.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(install_tables.bots)) == 1
    async with env.deps.db.transaction() as session:
        ws = await session.get(Workspace, ("", "T9"))
    assert ws is not None and ws.uninstalled_at is None


async def test_zero_retention_deletes_the_data_at_once(
    db: Database, fake_slack: FakeSlack, clock: ManualClock, db_url: str
) -> None:
    cadence = CadenceConfig.model_validate({"retention": {"days_after_uninstall": 0}})
    async with oauth_app(db, fake_slack, clock, cadence, db_url) as env:
        await install(env, team_id="T9", token="xoxb-T9-first")
        await env.command("/decision", "new Gone soon", team_id="T9")
        await env.driver.event({"type": "app_uninstalled"}, team_id="T9")
        await env.settle()
        async with env.deps.db.transaction() as session:
            assert await session.scalar(select(func.count()).select_from(Decision)) == 0
            assert await session.get(Workspace, ("", "T9")) is None
        assert await installation_rows(env) == []
    assert WorkspaceKey("T9") not in env.deps.known_workspaces
