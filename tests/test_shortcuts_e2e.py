"""Message shortcuts end to end: a Slack message becomes a decision or an outcome, with its link."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from bot.decisions.models import Decision
from bot.meetings.models import Outcome
from bot.slack.listeners.shortcuts import as_typed, title_of
from tests.conftest import AppEnv, slack_fixture
from tests.test_meetings_e2e import count, latest_view, posts

MESSAGE = {
    "ts": "1700000000.000200",
    "user": "U2",
    "text": "We should move the launch to March &amp; tell <@U3|cho>\nDetails in the doc",
}
PERMALINK = "https://fake.slack.com/archives/C1/p1700000000000200"


def fixture_payload() -> dict[str, Any]:
    path = slack_fixture(
        "interactivity",
        "bolt_python_tests_extracted",
        "message_action__test_app_using_methods_in_class__payload.json",
    )
    payload: dict[str, Any] = json.loads(path.read_text())
    return payload


async def shortcut(env: AppEnv, callback_id: str, **kw: Any) -> Any:
    kw.setdefault("user_id", "U1")
    kw.setdefault("channel_id", "C1")
    kw.setdefault("message", MESSAGE)
    return await env.interact(env.driver.message_shortcut(callback_id, **kw))


def test_driver_message_shortcut_has_slacks_fields(app_env: AppEnv) -> None:
    published = fixture_payload()
    ours = app_env.driver.message_shortcut_payload(
        "record_outcome", user_id="U1", channel_id="C1", message=MESSAGE
    )
    assert set(published) <= set(ours)
    assert set(published["user"]) <= set(ours["user"])
    assert {"type", "text", "ts", "user"} <= set(ours["message"])


async def test_record_decision_prefills_and_keeps_the_permalink(app_env: AppEnv) -> None:
    response = await shortcut(app_env, "record_decision")
    assert response.status_code == 200
    (link_call,) = app_env.fake.calls_to("chat.getPermalink")
    assert (link_call.params["channel"], link_call.params["message_ts"]) == ("C1", MESSAGE["ts"])
    view = latest_view(app_env)
    assert view["callback_id"] == "decision_new"
    title, context = (b["element"].get("initial_value") for b in view["blocks"][:2])
    assert title == "We should move the launch to March & tell <@U3>"
    assert context.endswith("Details in the doc")
    assert PERMALINK in str(view["blocks"]) and PERMALINK in view["private_metadata"]
    await app_env.interact(
        app_env.driver.submit(
            view,
            {
                "title": {"type": "plain_text_input", "value": title},
                "context": {"type": "plain_text_input", "value": context},
                "owner": {"type": "users_select", "selected_user": "U1"},
            },
            user_id="U1",
        )
    )
    async with app_env.deps.db.transaction() as session:
        decision = await session.scalar(select(Decision))
    assert decision is not None and decision.source_permalink == PERMALINK
    card = posts(app_env, "C1")[-1]
    assert f"<{PERMALINK}|Original message>" in str(card["blocks"])


async def test_record_outcome_needs_a_meeting_in_the_channel(app_env: AppEnv) -> None:
    response = await shortcut(app_env, "record_outcome")
    assert response.status_code == 200
    assert app_env.fake.calls_to("views.open") == []
    assert any("no meeting" in str(r.body) for r in app_env.fake.responses)


async def test_record_outcome_with_owner_and_date(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Old one")
    await app_env.command("/meeting", "end")
    await app_env.command("/meeting", "start Current")
    await shortcut(app_env, "record_outcome")
    view = latest_view(app_env)
    assert view["callback_id"] == "outcome_record"
    picker, text_block = view["blocks"][0], view["blocks"][1]
    # The open meeting is offered first and chosen by default.
    assert picker["element"]["initial_option"]["value"] == "T1:M-2"
    assert [o["value"] for o in picker["element"]["options"]] == ["T1:M-2", "T1:M-1"]
    assert text_block["element"]["initial_value"].startswith("We should move the launch")
    await app_env.interact(
        app_env.driver.submit(
            view,
            {
                "meeting": {
                    "type": "static_select",
                    "selected_option": picker["element"]["options"][1],
                },
                "outcome_text": {"type": "plain_text_input", "value": "Move the launch"},
                "owner": {"type": "users_select", "selected_user": "U3"},
                "due": {"type": "datepicker", "selected_date": "2026-12-01"},
            },
            user_id="U1",
        )
    )
    async with app_env.deps.db.transaction() as session:
        outcome = await session.scalar(select(Outcome))
    assert outcome is not None
    assert (outcome.ref, outcome.owner_id, outcome.source_permalink) == ("A-1", "U3", PERMALINK)
    card = posts(app_env, "C1")[-1]
    assert f"<{PERMALINK}|Original message>" in str(card["blocks"]) and "M-1" in str(card)


async def test_record_outcome_errors_stay_in_the_modal(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Current")
    await shortcut(app_env, "record_outcome")
    view = latest_view(app_env)
    response = await app_env.interact(
        app_env.driver.submit(
            view,
            {
                "meeting": {"type": "static_select", "selected_option": None},
                "outcome_text": {"type": "plain_text_input", "value": "  "},
                "due": {"type": "datepicker", "selected_date": "2020-01-01"},
            },
            user_id="U1",
        )
    )
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"meeting", "outcome_text", "due"}
    assert await count(app_env, Outcome) == 0


async def test_without_a_permalink_the_record_is_still_made(app_env: AppEnv) -> None:
    app_env.fake.fail_next("chat.getPermalink", error="channel_not_found")
    await shortcut(app_env, "record_decision")
    view = latest_view(app_env)
    assert json.loads(view["private_metadata"])["permalink"] is None


async def test_slacks_own_message_action_reaches_the_app(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Current")
    published = fixture_payload()
    published.update(callback_id="record_outcome", response_url=app_env.fake.response_url("s"))
    published["team"] = {"id": "T1", "domain": "sample"}
    published["user"] = {"id": "U1", "name": "ana"}
    published["channel"] = {"id": "C1", "name": "general"}
    response = await app_env.interact(app_env.driver.interact(published))
    assert response.status_code == 200
    view = latest_view(app_env)
    assert view["blocks"][1]["element"]["initial_value"] == "<@W222> test"


@pytest.mark.parametrize(
    ("raw", "typed"),
    [
        ("<!here> ship &lt;it&gt;", "@here ship <it>"),
        ("see <https://example.com|the doc>", "see the doc (https://example.com)"),
        ("<https://example.com>", "https://example.com"),
        ("ask <!subteam^S1|@design>", "ask @design"),
        ("<#C1|general> and <@U2|ben>", "<#C1> and <@U2>"),
    ],
)
def test_message_text_comes_back_as_typed(raw: str, typed: str) -> None:
    assert as_typed(raw) == typed


def test_long_first_lines_are_cut_at_a_word() -> None:
    title = title_of("word " * 100 + "\nsecond line")
    assert len(title) <= 200 and title.endswith("word…")
    assert title_of("\n\n  Hello  \nrest") == "Hello"
