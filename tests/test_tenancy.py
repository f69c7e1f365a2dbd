"""Two workspaces on one deployment never see or change each other's data.

T1 and T2 are installed through OAuth, each with its own bot token; they share user ids (U1,
UADMIN…) and both have a D-1 and an M-1. Every surface is driven from T2 — often naming ids
that exist in T1 — and T1 must come out untouched. Uninstall and purge are checked the same way.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock
from bot.db import Database
from bot.decisions.models import Decision
from bot.delivery.models import Delivery, DeliveryStatus
from bot.devtools.fake_slack import ApiError, Call, FakeSlack
from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.models import Base
from bot.numbering import next_number
from bot.slack.ids import Action
from bot.slack.ids import Block as BlockId
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces
from tests.conftest import AppEnv
from tests.oauth_support import install, oauth_app, tokens_used
from tests.test_settings_e2e import submitted_state

T1, T2 = WorkspaceKey("T1"), WorkspaceKey("T2")
TOKENS = {"T1": "xoxb-T1-tenant", "T2": "xoxb-T2-tenant"}


def users_info_per_workspace(fake: FakeSlack) -> None:
    """users.info as two workspaces answer it: UADMIN is an admin in T1 only."""

    def answer(call: Call) -> dict[str, Any]:
        user = fake.users.get(str(call.params.get("user")))
        if user is None:
            raise ApiError("user_not_found")
        team = "T1" if call.token == TOKENS["T1"] else "T2"
        is_admin = user.is_admin and team == "T1"
        return {
            "ok": True,
            "user": {"id": user.id, "team_id": team, "tz": user.tz, "is_admin": is_admin},
        }

    fake.on("users.info", answer)


async def add_meeting(env: AppEnv, ws: WorkspaceKey, title: str) -> None:
    now = env.deps.now()
    async with env.deps.db.transaction() as session:
        number = await next_number(session, ws=ws, series="M")
        meeting = Meeting(
            **Meeting.key_values(ws),
            number=number,
            title=title,
            organizer_id="U1",
            channel_id="C1",
            started_at=now - timedelta(hours=1),
            ended_at=now,
            created_at=now,
        )
        meeting.outcomes.append(
            Outcome(
                **Outcome.key_values(ws),
                kind=OutcomeKind.NOTE,
                text=f"{title} note",
                creator_id="U1",
                created_at=now,
                updated_at=now,
            )
        )
        session.add(meeting)
        session.add(
            Delivery(
                **Delivery.key_values(ws),
                kind="nudge",
                subject="decision:1",
                recipient="U1",
                period="2026-W48",
                due_at=now + timedelta(hours=1),
                payload={},
                created_at=now,
                updated_at=now,
            )
        )


@pytest.fixture
async def env(
    db: Database, fake_slack: FakeSlack, clock: ManualClock, cadence: CadenceConfig, db_url: str
) -> AsyncIterator[AppEnv]:
    users_info_per_workspace(fake_slack)
    async with oauth_app(db, fake_slack, clock, cadence, db_url) as app_env:
        for team, token in TOKENS.items():
            await install(app_env, team_id=team, token=token)
            await app_env.command("/decision", f"new {team} plan", team_id=team)
            await add_meeting(app_env, WorkspaceKey(team), f"{team} standup")
        await app_env.command("/decision", "new T1 only second", team_id="T1")
        app_env.fake.clear_calls()
        yield app_env


async def decision(env: AppEnv, ws: WorkspaceKey, number: int) -> Decision:
    async with env.deps.db.transaction() as session:
        found = await session.scalar(
            select(Decision).where(Decision.in_workspace(ws), Decision.number == number)
        )
    assert found is not None
    return found


def everything_sent(env: AppEnv) -> str:
    return json.dumps([call.params for call in env.fake.calls]) + json.dumps(
        [post.body for post in env.fake.responses]
    )


# --- commands -------------------------------------------------------------------------------


async def test_show_and_list_only_see_the_requesting_workspace(env: AppEnv) -> None:
    shown = await env.command("/decision", "show D-1", team_id="T2")
    assert "T2 plan" in str(shown.json()) and "T1 plan" not in str(shown.json())
    listed = await env.answer("/decision", "list all", team_id="T2")
    assert "T2 plan" in str(listed)
    assert "T1" not in str(listed["blocks"])
    missing = await env.command("/decision", "show D-2", team_id="T2")
    assert "no D-2" in missing.json()["text"]
    assert "T1" not in everything_sent(env)
    assert set(tokens_used(env, "users.info")) == {TOKENS["T2"]}


async def test_changing_d1_from_t2_changes_t2s_d1_only(env: AppEnv) -> None:
    t1_before = await decision(env, T1, 1)
    response = await env.command("/decision", "decide D-1 Go ahead", team_id="T2")
    assert response.json()["response_type"] == "in_channel"
    assert (await decision(env, T2, 1)).status == "decided"
    t1_after = await decision(env, T1, 1)
    assert (t1_after.status, t1_after.updated_at) == ("open", t1_before.updated_at)
    [update] = env.fake.calls_to("chat.update")
    assert update.token == TOKENS["T2"]
    assert update.params["ts"] == (await decision(env, T2, 1)).message_ts != t1_after.message_ts
    refused = await env.command("/decision", "drop D-2", team_id="T2")
    assert "no D-2" in refused.json()["text"]
    assert (await decision(env, T1, 2)).status == "open"


# --- buttons --------------------------------------------------------------------------------


async def test_drop_button_on_t2s_card_drops_t2s_d1(env: AppEnv) -> None:
    card = await decision(env, T2, 1)
    await env.interact(
        env.driver.press(
            Action.DROP,
            user_id="U1",
            value="T2:D-1",
            channel_id="C1",
            message={"ts": card.message_ts, "type": "message", "text": ""},
            team_id="T2",
        )
    )
    # The button asks for an optional reason first; the modal names T2's D-1.
    view = env.fake.calls_to("views.open")[-1].params["view"]
    await env.interact(env.driver.submit(view, {}, user_id="U1", team_id="T2"))
    assert (await decision(env, T2, 1)).status == "dropped"
    assert (await decision(env, T1, 1)).status == "open"
    assert set(tokens_used(env, "chat.update")) == {TOKENS["T2"]}


async def test_a_t1_button_pressed_from_t2_acts_on_nothing(env: AppEnv) -> None:
    """A shared channel: T1's card, pressed by someone whose press Bolt authorizes for T2."""
    card = await decision(env, T1, 1)
    await env.interact(
        env.driver.press(
            Action.DROP,
            user_id="U1",
            value="T1:D-1",
            channel_id="C1",
            message={"ts": card.message_ts, "type": "message", "text": ""},
            team_id="T2",
        )
    )
    assert (await decision(env, T1, 1)).status == "open"
    assert (await decision(env, T2, 1)).status == "open"
    assert "another workspace" in everything_sent(env)
    assert env.fake.calls_to("chat.update") == []


async def test_button_naming_a_number_only_t1_has_finds_nothing_in_t2(env: AppEnv) -> None:
    await env.interact(
        env.driver.press(Action.DROP, user_id="U1", value="T2:D-2", channel_id="C1", team_id="T2")
    )
    assert (await decision(env, T1, 2)).status == "open"
    assert "no D-2" in everything_sent(env)
    assert env.fake.calls_to("chat.update") == []


async def test_decide_button_from_t2_opens_t2s_decision(env: AppEnv) -> None:
    await env.interact(
        env.driver.press(Action.DECIDE, user_id="U1", value="T2:D-1", channel_id="C1", team_id="T2")
    )
    [opened] = env.fake.calls_to("views.open")
    assert opened.token == TOKENS["T2"]
    assert "T2 plan" in str(opened.params["view"]) and "T1 plan" not in str(opened.params["view"])


# --- modals ---------------------------------------------------------------------------------


async def decide_modal(env: AppEnv, team: str) -> dict[str, Any]:
    await env.interact(
        env.driver.press(
            Action.DECIDE, user_id="U1", value=f"{team}:D-1", channel_id="C1", team_id=team
        )
    )
    view: dict[str, Any] = env.fake.calls_to("views.open")[-1].params["view"]
    return view


async def test_modal_metadata_naming_t1_still_acts_in_t2(env: AppEnv) -> None:
    view = await decide_modal(env, "T2")
    meta = json.loads(view["private_metadata"])
    view["private_metadata"] = json.dumps({**meta, "team_id": "T1", "enterprise_id": ""})
    values = {BlockId.RESOLUTION: {"type": "plain_text_input", "value": "Yes"}}
    response = await env.interact(env.driver.submit(view, values, user_id="U1", team_id="T2"))
    assert response.status_code == 200 and not response.content
    assert (await decision(env, T2, 1)).resolution == "Yes"
    assert (await decision(env, T1, 1)).status == "open"


async def test_a_t1_modal_submitted_from_t2_changes_nothing(env: AppEnv) -> None:
    view = await decide_modal(env, "T1")
    values = {BlockId.RESOLUTION: {"type": "plain_text_input", "value": "Mine now"}}
    response = await env.interact(env.driver.submit(view, values, user_id="U1", team_id="T2"))
    answer = response.json()
    assert answer["response_action"] == "update"
    assert "another workspace" in json.dumps(answer["view"])
    assert (await decision(env, T1, 1)).status == "open"
    assert (await decision(env, T2, 1)).status == "open"


async def test_modal_metadata_with_a_number_only_t1_has_is_refused(env: AppEnv) -> None:
    view = await decide_modal(env, "T2")
    view["private_metadata"] = json.dumps({"team": "T2", "number": "2", "channel_id": "C1"})
    values = {BlockId.RESOLUTION: {"type": "plain_text_input", "value": "Mine now"}}
    response = await env.interact(env.driver.submit(view, values, user_id="U1", team_id="T2"))
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert "no D-2" in answer["errors"][BlockId.RESOLUTION]
    assert (await decision(env, T1, 2)).status == "open"


# --- App Home -------------------------------------------------------------------------------


@pytest.mark.parametrize(("team", "other"), [("T1", "T2"), ("T2", "T1")])
async def test_app_home_shows_only_the_workspace_it_is_opened_in(
    env: AppEnv, team: str, other: str
) -> None:
    await env.interact(env.driver.open_home("U1", team_id=team))
    [published] = env.fake.calls_to("views.publish")
    assert published.token == TOKENS[team]
    home = str(published.params["view"])
    assert f"{team} plan" in home and f"{other} plan" not in home


# --- settings -------------------------------------------------------------------------------


async def test_an_admin_of_t1_is_no_admin_in_t2(env: AppEnv) -> None:
    refused = await env.command("/hygiene", "settings", user_id="UADMIN", team_id="T2")
    assert "admins and owners" in refused.json()["text"]
    await env.command("/hygiene", "settings", user_id="UADMIN", team_id="T1")
    [opened] = env.fake.calls_to("views.open")
    assert opened.token == TOKENS["T1"]
    view = opened.params["view"]
    state = submitted_state(view, **{BlockId.SETTINGS_TIMEZONE: {"value": "Asia/Tokyo"}})
    forged = await env.interact(env.driver.submit(view, state, user_id="UADMIN", team_id="T2"))
    assert forged.json()["response_action"] == "errors"
    saved = await env.interact(env.driver.submit(view, state, user_id="UADMIN", team_id="T1"))
    assert saved.json()["response_action"] == "update"
    assert (await env.deps.cadence_for(T1)).timezone == "Asia/Tokyo"
    assert await env.deps.cadence_for(T2) == env.deps.cadence
    async with env.deps.db.transaction() as session:
        assert [c.team_id for c in await workspaces.recent_changes(session, ws=T1)] == ["T1"]
        assert list(await workspaces.recent_changes(session, ws=T2)) == []


# --- uninstall and purge --------------------------------------------------------------------


async def rows_by_team(env: AppEnv) -> dict[str, dict[str, int]]:
    """For every table with a team_id column, how many rows each workspace has."""
    counts: dict[str, dict[str, int]] = {}
    async with env.deps.db.engine.connect() as conn:
        for name, spec in Base.metadata.tables.items():
            if "team_id" not in spec.c:
                continue
            rows = await conn.execute(select(spec.c.team_id, func.count()).group_by(spec.c.team_id))
            counts[name] = {str(team): int(n) for team, n in rows}
    return counts


async def test_uninstalling_t1_stops_t1_only_and_purge_deletes_t1s_rows_only(
    env: AppEnv,
) -> None:
    before = await rows_by_team(env)
    scoped = [name for name, teams in before.items() if teams]
    assert set(scoped) >= {
        "decisions",
        "decision_events",
        "meetings",
        "outcomes",
        "deliveries",
        "counters",
        "workspaces",
        "slack_installations",
        "slack_bots",
    }

    await env.interact(env.driver.event({"type": "app_uninstalled"}, team_id="T1"))
    async with env.deps.db.transaction() as session:
        assert await workspaces.active_workspaces(session) == [T2]
        live = await session.scalars(
            select(Decision.team_id).where(workspaces.in_active_workspace(Decision))
        )
        assert set(live) == {"T2"}
        statuses = {
            team: status
            for team, status in await session.execute(select(Delivery.team_id, Delivery.status))
        }
    assert statuses == {"T1": DeliveryStatus.CANCELLED, "T2": DeliveryStatus.PENDING}

    still = await env.command("/decision", "new T2 keeps going", team_id="T2")
    assert "D-2" in still.json()["text"]

    async with env.deps.db.transaction() as session:
        early = env.deps.now() + timedelta(days=29)
        assert await workspaces.purge_due_workspaces(session, now=early) == []
    async with env.deps.db.transaction() as session:
        late = env.deps.now() + timedelta(days=30)
        assert await workspaces.purge_due_workspaces(session, now=late) == [T1]

    after = await rows_by_team(env)
    for name in scoped:
        assert "T1" not in after[name], name
        assert after[name].get("T2", 0) >= before[name].get("T2", 0), name
    assert after["decisions"]["T2"] == 2


async def test_purge_reaches_every_workspace_table(env: AppEnv) -> None:
    """A table added later with a workspace key is purged too, or this test says which."""
    async with env.deps.db.transaction() as session:
        await workspaces.purge_workspace(session, ws=T1)
    after = await rows_by_team(env)
    assert {name for name, teams in after.items() if "T1" in teams} == set()
    async with env.deps.db.engine.connect() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM decisions WHERE team_id = 'T2'")) == 1


async def test_single_token_uninstall_stops_the_workspace_until_it_talks_to_us_again(
    app_env: AppEnv,
) -> None:
    await app_env.command("/decision", "new Before leaving")
    await add_meeting(app_env, T1, "Standup")
    await app_env.interact(app_env.driver.event({"type": "app_uninstalled"}))
    async with app_env.deps.db.transaction() as session:
        assert await workspaces.active_workspaces(session) == []
        ws = await workspaces.get_workspace(session, ws=T1)
        assert ws is not None and ws.uninstalled_at is not None
        assert ws.purge_after == app_env.deps.now() + timedelta(days=30)
    # Reinstalled (a new token, a restart): the next request brings it back, data and all.
    response = await app_env.command("/decision", "new After returning")
    assert "D-2" in response.json()["text"]
    async with app_env.deps.db.transaction() as session:
        assert await workspaces.active_workspaces(session) == [T1]
        ws = await workspaces.get_workspace(session, ws=T1)
        assert ws is not None and ws.uninstalled_at is None and ws.purge_after is None
        assert (
            await workspaces.purge_due_workspaces(
                session, now=app_env.deps.now() + timedelta(days=90)
            )
            == []
        )
