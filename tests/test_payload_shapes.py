"""Our requests look like Slack's: Slack's own published payloads drive the app unchanged in shape.

The driver that every end-to-end test uses is checked key by key against Slack's fixtures, and
the fixtures themselves (re-addressed to our team and ids, re-signed) are sent through the app.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from bot.devtools.driver import SlackDriver
from tests.conftest import AppEnv, slack_fixture


def load(*parts: str) -> Any:
    return json.loads(slack_fixture(*parts).read_text())


def driver_for(env: AppEnv) -> SlackDriver:
    return SlackDriver(
        env.http,
        signing_secret=env.driver.signer.signing_secret,
        enterprise_id="E1",
        response_url_for=env.fake.response_url,
    )


def test_slash_command_form_has_slacks_fields(app_env: AppEnv) -> None:
    published = load(
        "slash_commands",
        "bolt_python_tests_extracted",
        "slash_command__test_slash_command__slash_command_body.decoded.json",
    )
    ours = driver_for(app_env).command_form("/decision", "help", user_id="U1", channel_id="C1")
    assert set(published) - {"enterprise_name"} <= set(ours)


def test_block_actions_payload_has_slacks_fields(app_env: AppEnv) -> None:
    published = load(
        "interactivity",
        "bolt_python_tests_extracted",
        "block_actions__test_block_actions__body.json",
    )
    ours = app_env.driver.block_action_payload(
        action={"action_id": "a", "block_id": "b", "type": "button", "value": "1"},
        user_id="U1",
        channel_id="C1",
    )
    assert set(published) <= set(ours)
    assert set(published["container"]) <= set(ours["container"])
    assert set(published["actions"][0]) <= set(ours["actions"][0]) | {"text"}
    assert set(published["user"]) <= set(ours["user"])


def test_view_submission_payload_has_slacks_fields(app_env: AppEnv) -> None:
    published = load(
        "interactivity",
        "bolt_python_tests_extracted",
        "view_submission__test_view_submission__body.json",
    )
    ours = app_env.driver.view_submission_payload(
        {"type": "modal", "callback_id": "x", "private_metadata": "{}"}, {}, user_id="U1"
    )
    assert set(published) <= set(ours)
    assert {"id", "team_id", "type", "callback_id", "private_metadata", "state", "hash"} <= set(
        ours["view"]
    )


def test_message_shortcut_payload_has_slacks_fields(app_env: AppEnv) -> None:
    published = load(
        "interactivity",
        "bolt_python_tests_extracted",
        "message_action__test_app_using_methods_in_class__payload.json",
    )
    ours = app_env.driver.message_shortcut_payload(
        "record_decision", user_id="U1", channel_id="C1", message={"ts": "1.2", "text": "hi"}
    )
    assert set(published) <= set(ours)
    assert {"ts", "text", "type"} <= set(ours["message"])


async def test_slacks_own_slash_command_body_reaches_the_app(app_env: AppEnv) -> None:
    published = load(
        "slash_commands",
        "bolt_python_tests_extracted",
        "slash_command__test_slash_command__slash_command_body.decoded.json",
    )
    published.update(
        command="/decision",
        text="new Adopted from Slack's sample",
        team_id="T1",
        user_id="U1",
        channel_id="C1",
        response_url=app_env.fake.response_url("sample"),
    )
    published.pop("enterprise_id", None)
    response = await app_env.driver.post(urlencode(published))
    await app_env.settle()
    assert response.status_code == 200
    assert "D-1" in response.json()["text"]


async def test_slacks_own_block_actions_body_reaches_the_app(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Something to drop")
    published = load(
        "interactivity",
        "bolt_python_tests_extracted",
        "block_actions__test_block_actions__body.json",
    )
    published["team"] = {"id": "T1", "domain": "sample"}
    published.pop("enterprise", None)
    published["user"].update(id="U1", team_id="T1")
    published["channel"]["id"] = "C1"
    published["container"].update(channel_id="C1")
    published["response_url"] = app_env.fake.response_url("sample-action")
    published["actions"][0].update(action_id="decision_drop", value="T1:D-1")
    response = await app_env.interact(app_env.driver.interact(published))
    assert response.status_code == 200
    from bot.decisions import service
    from bot.workspace import WorkspaceKey

    # The Drop button opens its reason modal (issue 16) from Slack's own payload.
    opened = app_env.fake.calls_to("views.open")
    assert opened and opened[-1].params["view"]["callback_id"] == "decision_drop"
    async with app_env.deps.db.transaction() as session:
        assert (
            await service.get_decision(session, ws=WorkspaceKey("T1"), number=1)
        ).status == "open"


async def test_slacks_own_app_home_event_reaches_the_app(app_env: AppEnv) -> None:
    published = load(
        "events",
        "bolt_python_tests_extracted",
        "app_home_opened__test_events_org_apps__event_payload.json",
    )
    published.update(team_id="T1", enterprise_id=None)
    published["event"].update(user="U1", tab="home")
    published["authorizations"][0].update(
        enterprise_id=None, team_id="T1", is_enterprise_install=False
    )
    response = await app_env.driver.post(json.dumps(published), content_type="application/json")
    await app_env.settle()
    assert response.status_code == 200
    assert "U1" in app_env.fake.published_home


async def test_url_verification_is_answered(app_env: AppEnv) -> None:
    published = load(
        "events",
        "bolt_python_tests_extracted",
        "url_verification__test_events_url_verification__event_body.json",
    )
    response = await app_env.driver.post(json.dumps(published), content_type="application/json")
    assert response.status_code == 200
    assert response.json()["challenge"] == published["challenge"]
