"""/hygiene settings end to end: who may open it, what a save stores and audits, and how
mistakes are shown beside their fields with nothing saved.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.cadence.config import CadenceConfig
from bot.devtools.blockkit_checks import check_view
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.workspace import WorkspaceKey
from bot.workspaces.models import SettingsChange, Workspace
from tests.conftest import AppEnv

T1 = WorkspaceKey("T1")


def submitted_state(view: dict[str, Any], **changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The state Slack sends for ``view`` when its initial values are kept except ``changes``.

    ``changes`` maps a block id to the element state the person left it in.
    """
    state: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        kind = element["type"]
        value: dict[str, Any] = {"type": kind}
        if kind in ("plain_text_input", "number_input"):
            value["value"] = element.get("initial_value")
        elif kind == "checkboxes":
            value["selected_options"] = element.get("initial_options", [])
        elif kind == "timepicker":
            value["selected_time"] = element.get("initial_time")
        elif kind == "static_select":
            value["selected_option"] = element.get("initial_option")
        elif kind == "users_select":
            value["selected_user"] = element.get("initial_user")
        elif kind == "conversations_select":
            value["selected_conversation"] = element.get("initial_conversation")
        elif kind == "multi_users_select":
            value["selected_users"] = element.get("initial_users", [])
        elif kind == "multi_conversations_select":
            value["selected_conversations"] = element.get("initial_conversations", [])
        state[block["block_id"]] = value
    for block_id, change in changes.items():
        state[block_id] = {**state[block_id], **change}
    return state


def days(*names: str) -> dict[str, Any]:
    return {
        "selected_options": [{"value": n, "text": {"type": "plain_text", "text": n}} for n in names]
    }


async def open_settings(
    env: AppEnv, user_id: str = "UADMIN", team_id: str | None = None
) -> dict[str, Any]:
    env.fake.clear_calls()
    response = await env.command("/hygiene", "settings", user_id=user_id, team_id=team_id)
    assert response.status_code == 200 and not response.content, response.text
    [opened] = env.fake.calls_to("views.open")
    view: dict[str, Any] = opened.params["view"]
    assert view["callback_id"] == ViewId.SETTINGS
    assert check_view(view) == []
    return view


async def save(
    env: AppEnv,
    view: dict[str, Any],
    *,
    user_id: str = "UADMIN",
    team_id: str | None = None,
    **changes: dict[str, Any],
) -> dict[str, Any]:
    response = await env.interact(
        env.driver.submit(view, submitted_state(view, **changes), user_id=user_id, team_id=team_id)
    )
    assert response.status_code == 200
    return response.json() if response.content else {}


async def audit(env: AppEnv) -> list[SettingsChange]:
    async with env.deps.db.transaction() as session:
        return list(await session.scalars(select(SettingsChange).order_by(SettingsChange.id)))


async def overrides(env: AppEnv, ws: WorkspaceKey = T1) -> dict[str, Any]:
    async with env.deps.db.transaction() as session:
        workspace = await session.get(Workspace, (ws.enterprise_id, ws.team_id))
    return dict(workspace.overrides) if workspace else {}


# --- who may open it ------------------------------------------------------------------------


async def test_admin_sees_the_values_in_effect(app_env: AppEnv) -> None:
    view = await open_settings(app_env)
    state = submitted_state(view)
    assert state[BlockId.SETTINGS_TIMEZONE]["value"] == "UTC"
    assert [o["value"] for o in state[BlockId.SETTINGS_WORKING_DAYS]["selected_options"]] == [
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
    ]
    assert state[BlockId.SETTINGS_DAY_START]["selected_time"] == "09:00"
    assert state[BlockId.SETTINGS_DAY_END]["selected_time"] == "17:30"
    assert state[BlockId.SETTINGS_STALL_AFTER]["value"] == "5"
    assert state[BlockId.SETTINGS_DIGEST_DAY]["selected_option"]["value"] == "mon"
    assert state[BlockId.SETTINGS_ESCALATE_TO_USER]["selected_user"] is None


@pytest.mark.parametrize("who", ["owner", "file admin"])
async def test_owners_and_the_cadence_files_admins_may_open_it(app_env: AppEnv, who: str) -> None:
    if who == "owner":
        app_env.fake.add_user("UOWNER", name="olga", is_owner=True)
        user_id = "UOWNER"
    else:
        app_env.fake.add_user("U0FILEADM", name="fia")
        app_env.deps.cadence = CadenceConfig.model_validate({"admins": ["U0FILEADM"]})
        user_id = "U0FILEADM"
    await open_settings(app_env, user_id=user_id)


async def test_anyone_else_is_refused_ephemerally(app_env: AppEnv) -> None:
    response = await app_env.command("/hygiene", "settings", user_id="U1")
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "admins and owners" in body["text"]
    assert app_env.fake.calls_to("views.open") == []


async def test_a_forged_submission_by_a_non_admin_changes_nothing(app_env: AppEnv) -> None:
    view = await open_settings(app_env)
    answer = await save(
        app_env, view, user_id="U1", **{BlockId.SETTINGS_TIMEZONE: {"value": "Asia/Tokyo"}}
    )
    assert answer["response_action"] == "errors"
    assert "admins and owners" in answer["errors"][BlockId.SETTINGS_TIMEZONE]
    assert await audit(app_env) == [] and await overrides(app_env) == {}


# --- saving ---------------------------------------------------------------------------------


async def test_save_stores_only_what_changed_and_audits_each_key(app_env: AppEnv) -> None:
    view = await open_settings(app_env)
    answer = await save(
        app_env,
        view,
        **{
            BlockId.SETTINGS_TIMEZONE: {"value": "europe/berlin"},
            BlockId.SETTINGS_WORKING_DAYS: days("mon", "tue", "wed", "thu"),
            BlockId.SETTINGS_STALL_AFTER: {"value": "3"},
            BlockId.SETTINGS_ESCALATE_TO_CHANNEL: {"selected_conversation": "C0LEADS"},
            BlockId.SETTINGS_DIGEST_TIME: {"selected_time": "16:00"},
            BlockId.SETTINGS_DIGEST_PEOPLE: {"selected_users": ["U0BOSS"]},
            BlockId.SETTINGS_DIGEST_CHANNELS: {"selected_conversations": ["C0TEAM"]},
        },
    )
    assert answer["response_action"] == "update"
    assert answer["view"]["callback_id"] == ViewId.SETTINGS_SAVED
    assert check_view(answer["view"]) == []
    summary = str(answer["view"]["blocks"])
    assert "Europe/Berlin" in summary and "<#C0LEADS>" in summary and "<@U0BOSS>" in summary

    assert await overrides(app_env) == {
        "timezone": "Europe/Berlin",
        "working_hours": {"days": ["mon", "tue", "wed", "thu"]},
        "nudges": {"stall_after_days": 3, "escalate_to": "C0LEADS"},
        "digest": {"time": "16:00", "recipients": ["C0TEAM", "U0BOSS"]},
    }
    rows = await audit(app_env)
    assert [(r.key, r.old_value, r.new_value) for r in rows] == [
        ("timezone", "UTC", "Europe/Berlin"),
        ("working_hours.days", ["mon", "tue", "wed", "thu", "fri"], ["mon", "tue", "wed", "thu"]),
        ("nudges.stall_after_days", 5, 3),
        ("nudges.escalate_to", "", "C0LEADS"),
        ("digest.time", "09:00", "16:00"),
        ("digest.recipients", [], ["C0TEAM", "U0BOSS"]),
    ]
    assert {(r.actor_id, r.team_id, r.at) for r in rows} == {("UADMIN", "T1", app_env.deps.now())}

    cadence = await app_env.deps.cadence_for(T1)
    assert cadence.timezone == "Europe/Berlin" and cadence.nudges.stall_after_days == 3

    again = await open_settings(app_env)
    recent = str(again["blocks"])
    assert "Recent changes" in recent and "<@UADMIN> changed" in recent


async def test_saving_the_form_untouched_changes_nothing(app_env: AppEnv) -> None:
    view = await open_settings(app_env)
    answer = await save(app_env, view)
    assert answer["response_action"] == "update"
    assert "Nothing changed" in str(answer["view"]["blocks"])
    assert await audit(app_env) == [] and await overrides(app_env) == {}


async def test_a_value_set_back_to_the_files_default_stops_overriding_it(app_env: AppEnv) -> None:
    view = await open_settings(app_env)
    await save(app_env, view, **{BlockId.SETTINGS_STALL_AFTER: {"value": "8"}})
    assert await overrides(app_env) == {"nudges": {"stall_after_days": 8}}
    view = await open_settings(app_env)
    await save(app_env, view, **{BlockId.SETTINGS_STALL_AFTER: {"value": "5"}})
    assert await overrides(app_env) == {}
    rows = await audit(app_env)
    assert [(r.old_value, r.new_value) for r in rows] == [(5, 8), (8, 5)]
    # Now the file decides again.
    app_env.deps.cadence = CadenceConfig.model_validate({"nudges": {"stall_after_days": 9}})
    assert (await app_env.deps.cadence_for(T1)).nudges.stall_after_days == 9


async def test_a_form_left_open_does_not_undo_another_admins_change(app_env: AppEnv) -> None:
    app_env.fake.add_user("UOWNER", name="olga", is_owner=True)
    first = await open_settings(app_env)
    second = await open_settings(app_env, user_id="UOWNER")
    await save(app_env, first, **{BlockId.SETTINGS_TIMEZONE: {"value": "Asia/Tokyo"}})
    await save(app_env, second, user_id="UOWNER", **{BlockId.SETTINGS_REPEAT_EVERY: {"value": "4"}})
    assert await overrides(app_env) == {
        "timezone": "Asia/Tokyo",
        "nudges": {"repeat_every_days": 4},
    }
    assert [(r.actor_id, r.key) for r in await audit(app_env)] == [
        ("UADMIN", "timezone"),
        ("UOWNER", "nudges.repeat_every_days"),
    ]


async def test_saved_thresholds_apply_at_once(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    app_env.deps.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    before = await app_env.answer("/decision", "list stalled")
    assert "Nothing is stalled" in str(before)
    view = await open_settings(app_env)
    await save(app_env, view, **{BlockId.SETTINGS_STALL_AFTER: {"value": "1"}})
    after = await app_env.answer("/decision", "list stalled")
    assert "Pick a vendor" in str(after["blocks"])


# --- mistakes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "block", "message"),
    [
        (
            {BlockId.SETTINGS_TIMEZONE: {"value": "Europe/Berln"}},
            BlockId.SETTINGS_TIMEZONE,
            "Did you mean Europe/Berlin?",
        ),
        ({BlockId.SETTINGS_TIMEZONE: {"value": "Moon"}}, BlockId.SETTINGS_TIMEZONE, "IANA name"),
        (
            {BlockId.SETTINGS_DAY_START: {"selected_time": "18:00"}},
            BlockId.SETTINGS_DAY_END,
            "must be later than working_hours.start",
        ),
        ({BlockId.SETTINGS_WORKING_DAYS: days()}, BlockId.SETTINGS_WORKING_DAYS, "at least one"),
        (
            {BlockId.SETTINGS_STALL_AFTER: {"value": "0"}},
            BlockId.SETTINGS_STALL_AFTER,
            "from 1 to 365",
        ),
        # The attack run's values: stored, they stopped the scheduler for every workspace.
        (
            {BlockId.SETTINGS_STALL_AFTER: {"value": "200000000"}},
            BlockId.SETTINGS_STALL_AFTER,
            "from 1 to 365",
        ),
        (
            {BlockId.SETTINGS_OUTCOME_GRACE: {"value": "200000000"}},
            BlockId.SETTINGS_OUTCOME_GRACE,
            "from 1 to 720",
        ),
        (
            {BlockId.SETTINGS_OUTCOME_GRACE: {"value": "721"}},
            BlockId.SETTINGS_OUTCOME_GRACE,
            "from 1 to 720",
        ),
        (
            {BlockId.SETTINGS_ESCALATE_AFTER: {"value": "9" * 5000}},
            BlockId.SETTINGS_ESCALATE_AFTER,
            "from 1 to 50",
        ),
        (
            {BlockId.SETTINGS_ESCALATE_AFTER: {"value": "1_0"}},
            BlockId.SETTINGS_ESCALATE_AFTER,
            "whole number",
        ),
        (
            {BlockId.SETTINGS_ESCALATE_AFTER: {"value": "2.5"}},
            BlockId.SETTINGS_ESCALATE_AFTER,
            "whole number",
        ),
        (
            {
                BlockId.SETTINGS_ESCALATE_TO_USER: {"selected_user": "U0BOSS"},
                BlockId.SETTINGS_ESCALATE_TO_CHANNEL: {"selected_conversation": "C0LEADS"},
            },
            BlockId.SETTINGS_ESCALATE_TO_CHANNEL,
            "not both",
        ),
        (
            {BlockId.SETTINGS_DIGEST_CHANNELS: {"selected_conversations": ["D0123"]}},
            BlockId.SETTINGS_DIGEST_PEOPLE,
            "not a Slack user or channel id",
        ),
    ],
)
async def test_mistakes_are_shown_beside_their_field_and_nothing_is_saved(
    app_env: AppEnv, changes: dict[str, Any], block: str, message: str
) -> None:
    view = await open_settings(app_env)
    answer = await save(app_env, view, **{BlockId.SETTINGS_REPEAT_EVERY: {"value": "7"}}, **changes)
    assert answer["response_action"] == "errors"
    assert message in answer["errors"][block]
    assert await audit(app_env) == [] and await overrides(app_env) == {}


async def test_holidays_are_set_per_workspace_and_a_bad_date_is_refused(app_env: AppEnv) -> None:
    view = await open_settings(app_env)
    bad = await save(app_env, view, **{BlockId.SETTINGS_HOLIDAYS: {"value": "2026-12-24, Xmas"}})
    assert bad["response_action"] == "errors"
    assert "“Xmas” is not a date" in bad["errors"][BlockId.SETTINGS_HOLIDAYS]
    assert await audit(app_env) == [] and await overrides(app_env) == {}

    answer = await save(
        app_env, view, **{BlockId.SETTINGS_HOLIDAYS: {"value": "2026-12-25,  2026-12-24"}}
    )
    assert answer["response_action"] == "update"
    assert await overrides(app_env) == {"working_hours": {"holidays": ["2026-12-24", "2026-12-25"]}}
    [row] = await audit(app_env)
    assert (row.key, row.old_value, row.new_value) == (
        "working_hours.holidays",
        [],
        ["2026-12-24", "2026-12-25"],
    )
    cadence = await app_env.deps.cadence_for(T1)
    assert cadence.working_hours.days_off == {date(2026, 12, 24), date(2026, 12, 25)}
    again = await open_settings(app_env)
    shown = next(b for b in again["blocks"] if b.get("block_id") == BlockId.SETTINGS_HOLIDAYS)
    assert shown["element"]["initial_value"] == "2026-12-24, 2026-12-25"
