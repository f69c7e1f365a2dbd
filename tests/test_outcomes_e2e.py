"""/outcome and the Done button end to end, from channel messages, DMs and App Home."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.devtools.blockkit_checks import check_message, check_view
from bot.meetings import service
from bot.meetings.models import Outcome
from bot.slack.blocks import meetings as render
from tests.conftest import AppEnv, slack_fixture
from tests.test_meetings_e2e import (
    WS,
    action_ids,
    bot_dm,
    count,
    ended_meeting,
    latest_view,
    meeting,
    posts,
    rows,
    stored_message,
    summary_message,
    updates,
)


async def action(env: AppEnv, number: int = 1) -> Outcome:
    async with env.deps.db.transaction() as session:
        return await service.get_action(session, ws=WS, number=number)


async def card_of(env: AppEnv, number: int = 1) -> dict[str, Any]:
    a = await action(env, number)
    assert a.message_channel_id and a.message_ts, "the card was not remembered"
    return stored_message(env, a.message_channel_id, a.message_ts)


def done_value(blocks: list[dict[str, Any]]) -> str:
    (button,) = [
        element
        for block in blocks
        for element in [*block.get("elements", []), block.get("accessory") or {}]
        if element.get("action_id") == "action_done"
    ]
    return str(button["value"])


# --- /outcome -------------------------------------------------------------------------------


async def test_outcome_needs_a_meeting(app_env: AppEnv) -> None:
    body = (await app_env.command("/outcome", "Ship it")).json()
    assert body["response_type"] == "ephemeral"
    assert "no meeting" in body["text"] and "/meeting start" in body["text"]
    assert await count(app_env, Outcome) == 0


async def test_note_and_action_are_acked_with_refs_and_shown(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Planning")
    note = (await app_env.command("/outcome", "Scope is agreed")).json()
    assert note["response_type"] == "ephemeral" and "a note" in note["text"]
    assert "M-1" in note["text"]
    act = (await app_env.command("/outcome", "Ship the beta <@U2|ben> by friday")).json()
    assert "*A-1*" in act["text"] and "<@U2>" in act["text"]
    note_card, action_card = posts(app_env, "C1")
    assert action_ids(note_card["blocks"]) == []
    assert done_value(action_card["blocks"]) == "T1:A-1"
    assert "Fri 27 Nov 2026" in str(action_card["blocks"])
    stored = await action(app_env)
    assert (stored.text, stored.owner_id, str(stored.due_date)) == (
        "Ship the beta",
        "U2",
        "2026-11-27",
    )


async def test_due_dates_are_read_in_the_typists_zone(app_env: AppEnv) -> None:
    # 23:00 UTC Monday: Tokyo is already Tuesday, Los Angeles still Monday.
    app_env.deps.clock.set(app_env.deps.clock.now().replace(hour=23))  # type: ignore[attr-defined]
    await app_env.command("/meeting", "start Planning")
    await app_env.command("/outcome", "A by tomorrow", user_id="U3")
    await app_env.command("/outcome", "B by tomorrow", user_id="U2")
    assert str((await action(app_env, 1)).due_date) == "2026-11-25"
    assert str((await action(app_env, 2)).due_date) == "2026-11-24"


async def test_bad_outcomes_change_nothing(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Planning")
    for text, expected in [
        ("Ship by 2020-01-01", "past"),
        ("Ship by tomorow", "YYYY-MM-DD"),
        ("x" * 2001, "2000"),
        ("M-9 Ship it", "no M-9"),
        ("done A-x", "A-7"),
    ]:
        body = (await app_env.command("/outcome", text)).json()
        assert body["response_type"] == "ephemeral", text
        assert expected in body["text"], (text, body["text"])
    assert await count(app_env, Outcome) == 0
    assert posts(app_env) == []


async def test_outcome_for_a_named_meeting_goes_to_its_channel(app_env: AppEnv) -> None:
    await ended_meeting(app_env, "Design review", channel_id="C2")
    summary = await summary_message(app_env)
    body = (await app_env.command("/outcome", "M-1 Use the blue one", channel_id="C1")).json()
    assert "Design review" in body["text"]
    card = posts(app_env, "C2")[-1]
    assert "Use the blue one" in str(card["blocks"])
    # The summary had the "owes outcomes" buttons; now it lists the outcome instead.
    (update,) = updates(app_env)
    assert update["ts"] == summary["ts"]
    assert "Use the blue one" in str(update["blocks"]) and action_ids(update["blocks"]) == []


async def test_private_and_other_workspace_meetings_are_not_found(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Secret", channel_id="G1")
    outsider = (await app_env.command("/outcome", "M-1 Leak", user_id="U2")).json()
    assert "no M-1" in outsider["text"]
    other = (await app_env.command("/outcome", "M-1 Theirs", team_id="T2")).json()
    assert "no M-1" in other["text"]
    assert await count(app_env, Outcome) == 0
    member = (await app_env.command("/outcome", "M-1 Fine", user_id="U1")).json()
    assert "Secret" in member["text"]


async def test_done_command_is_for_owner_creator_or_admin(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Planning")
    await app_env.command("/outcome", "Ship <@U2>", user_id="U1")
    refused = (await app_env.command("/outcome", "done A-1", user_id="U3")).json()
    assert refused["response_type"] == "ephemeral" and "Only the owner" in refused["text"]
    assert (await action(app_env)).done_at is None
    elsewhere = (await app_env.command("/outcome", "done A-1", team_id="T2")).json()
    assert "no A-1" in elsewhere["text"]
    assert (await action(app_env)).done_at is None
    done = (await app_env.command("/outcome", "done A-1", user_id="U2")).json()
    assert "A-1" in done["text"] and done["response_type"] == "ephemeral"
    assert (await action(app_env)).done_by == "U2"
    (update,) = updates(app_env)
    assert update["ts"] == (await action(app_env)).message_ts
    assert action_ids(update["blocks"]) == [] and "done by <@U2>" in str(update["blocks"])
    again = (await app_env.command("/outcome", "done A-1", user_id="U2")).json()
    assert "already done" in again["text"]


# --- the Done button ------------------------------------------------------------------------


async def test_done_button_on_the_card(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Planning")
    await app_env.command("/outcome", "Ship <@U2>")
    card = await card_of(app_env)
    await app_env.interact(
        app_env.driver.press(
            "action_done",
            user_id="U3",
            value="T1:A-1",
            block_id="action:1:card",
            channel_id="C1",
            message=card,
        )
    )
    assert (await action(app_env)).done_at is None
    assert any("Only the owner" in str(r.body) for r in app_env.fake.responses)
    await app_env.interact(
        app_env.driver.press(
            "action_done",
            user_id="U2",
            value="T1:A-1",
            block_id="action:1:card",
            channel_id="C1",
            message=card,
        )
    )
    assert (await action(app_env)).done_by == "U2"
    (update,) = updates(app_env)
    assert update["ts"] == card["ts"] and action_ids(update["blocks"]) == []


async def test_done_button_on_the_summary(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Planning")
    await app_env.command("/outcome", "Ship <@U2>")
    await app_env.command("/outcome", "Write <@U3>")
    await app_env.command("/meeting", "end")
    summary = await summary_message(app_env)
    assert action_ids(summary["blocks"]) == ["action_done", "action_done"]
    await app_env.interact(
        app_env.driver.press(
            "action_done", user_id="U1", value="T1:A-2", channel_id="C1", message=summary
        )
    )
    assert (await action(app_env, 2)).done_by == "U1"
    changed = {u["ts"]: u for u in updates(app_env)}
    assert set(changed) == {summary["ts"], (await action(app_env, 2)).message_ts}
    assert action_ids(changed[summary["ts"]]["blocks"]) == ["action_done"]


async def test_done_in_a_reminder_dm_changes_only_its_block(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Planning")
    await app_env.command("/outcome", "Ship <@U2>")
    await app_env.command("/outcome", "Write <@U2>")
    today = app_env.deps.now().date()
    dm = await bot_dm(
        app_env,
        "U2",
        [
            render.action_item_section(await action(app_env, n), today=today, place="nudge")
            for n in (1, 2)
        ]
        + [render.action_item_buttons(await action(app_env, 2), place="nudge-buttons")],
    )
    await app_env.interact(
        app_env.driver.press(
            "action_done",
            user_id="U2",
            value="T1:A-1",
            block_id="action:1:nudge",
            channel_id="DU2",
            message=dm,
        )
    )
    shown = app_env.fake.messages[("DU2", dm["ts"])].blocks or []
    assert check_message({"text": "x", "blocks": shown}) == []
    assert "done by <@U2>" in str(shown[0]) and "accessory" not in shown[0]
    assert shown[1:] == dm["blocks"][1:]
    # The action's own card was brought up to date as well.
    assert (await action(app_env, 1)).message_ts in {u["ts"] for u in updates(app_env)}
    # A button whose value is the bare number (older reminders sent it) names no workspace,
    # so it is refused as out of date; the current value works.
    for value in ("2", "T1:A-2"):
        await app_env.interact(
            app_env.driver.press(
                "action_done",
                user_id="U2",
                value=value,
                block_id="action:2:nudge-buttons",
                channel_id="DU2",
                message=stored_message(app_env, "DU2", dm["ts"]),
            )
        )
        if value == "2":
            assert (await action(app_env, 2)).done_by is None
            assert "out of date" in str(app_env.fake.responses[-1].body)
    assert (await action(app_env, 2)).done_by == "U2"
    shown = app_env.fake.messages[("DU2", dm["ts"])].blocks or []
    assert [b["type"] for b in shown] == ["section", "section", "section"]
    assert "done by <@U2>" in str(shown[1:]) and action_ids(shown) == []


async def test_done_from_app_home(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Planning")
    await app_env.command("/outcome", "Ship the beta <@U2> by friday", user_id="U1")
    await app_env.command("/outcome", "Not mine <@U3>")
    await app_env.interact(app_env.driver.open_home("U2"))
    home = app_env.fake.published_home["U2"]
    assert check_view(home) == []
    text = str(home["blocks"])
    assert "Your open action items" in text and "Ship the beta" in text
    assert "Not mine" not in text
    await app_env.interact(
        app_env.driver.press("action_done", user_id="U2", value="T1:A-1", view=home)
    )
    assert (await action(app_env)).done_by == "U2"
    republished = app_env.fake.published_home["U2"]
    assert "Ship the beta" not in str(republished["blocks"])
    assert "No open action items" in str(republished["blocks"])


@pytest.mark.parametrize("bad", ["", "A-0", "0", "M-1", "nonsense", "٣"])
async def test_stale_done_buttons_are_refused(app_env: AppEnv, bad: str) -> None:
    await app_env.command("/meeting", "start Planning")
    await app_env.command("/outcome", "Ship <@U2>")
    card = await card_of(app_env)
    await app_env.interact(
        app_env.driver.press("action_done", user_id="U2", value=bad, channel_id="C1", message=card)
    )
    assert (await action(app_env)).done_at is None
    assert any("out of date" in str(r.body) for r in app_env.fake.responses)


async def test_overdue_actions_are_marked(app_env: AppEnv) -> None:
    from datetime import timedelta

    await app_env.command("/meeting", "start Planning")
    await app_env.command("/outcome", "Ship <@U2> by tomorrow")
    app_env.deps.clock.advance(timedelta(days=3))  # type: ignore[attr-defined]
    await app_env.command("/meeting", "end")
    summary = posts(app_env, "C1")[-1]
    assert "overdue" in str(summary["blocks"])


# --- the "record outcome" modal and payload shapes -----------------------------------------


async def test_record_outcomes_origin_ephemeral_show(app_env: AppEnv) -> None:
    await ended_meeting(app_env)
    shown = (await app_env.command("/meeting", "show M-1")).json()
    assert "meeting_record_outcomes" in action_ids(shown["blocks"])
    payload = app_env.driver.block_action_payload(
        action={
            "action_id": "meeting_record_outcomes",
            "block_id": "b",
            "type": "button",
            "value": "T1:M-1",
        },
        user_id="U1",
        channel_id="C1",
        message={"ts": "1.000001", "type": "message", "text": ""},
    )
    payload["container"]["is_ephemeral"] = True
    payload.pop("message")
    await app_env.interact(app_env.driver.interact(payload))
    await app_env.interact(
        app_env.driver.submit(latest_view(app_env), rows({"text": "Agreed"}), user_id="U1")
    )
    replaced = [r for r in app_env.fake.responses if r.body.get("replace_original")]
    assert replaced and "Agreed" in str(replaced[-1].body["blocks"])
    assert check_message(replaced[-1].body) == []


async def test_payloads_have_slacks_fields_and_are_handled(app_env: AppEnv) -> None:
    folder = ("interactivity", "bolt_python_tests_extracted")
    actions = json.loads(
        slack_fixture(*folder, "block_actions__test_block_actions__body.json").read_text()
    )
    submitted = json.loads(
        slack_fixture(*folder, "view_submission__test_view_submission__body.json").read_text()
    )
    await ended_meeting(app_env)
    summary = await summary_message(app_env)
    press = app_env.driver.block_action_payload(
        action={
            "action_id": "meeting_no_outcome",
            "block_id": "meeting:1:summary",
            "type": "button",
            "value": "T1:M-1",
            "text": {"type": "plain_text", "text": "No outcome needed"},
        },
        user_id="U1",
        channel_id="C1",
        message=summary,
    )
    assert set(actions) <= set(press)
    assert set(actions["container"]) <= set(press["container"])
    assert set(actions["actions"][0]) <= set(press["actions"][0])
    from_home = app_env.driver.block_action_payload(
        action=press["actions"][0], user_id="U1", view={"id": "V1", "type": "home"}
    )
    # From App Home Slack sends no channel or response_url: the handlers must not need them.
    assert set(actions) - {"channel", "response_url"} <= set(from_home)
    await app_env.interact(app_env.driver.interact(press))
    # Submit the modal as Slack holds it (with the fields Slack adds), not as the app sent it.
    (stored,) = app_env.fake.views.values()
    submission = app_env.driver.view_submission_payload(
        stored, {"reason": {"type": "plain_text_input", "value": "Just a sync"}}, user_id="U1"
    )
    assert set(submitted) <= set(submission)
    assert set(submitted["view"]) <= set(submission["view"])
    response = await app_env.interact(app_env.driver.interact(submission))
    assert response.status_code == 200
    assert (await meeting(app_env)).no_outcome_reason == "Just a sync"


async def test_record_outcomes_modal_fits_slacks_limits(app_env: AppEnv) -> None:
    await ended_meeting(app_env, "x" * 200)
    message = await summary_message(app_env)
    await app_env.interact(
        app_env.driver.press(
            "meeting_record_outcomes",
            user_id="U1",
            value="T1:M-1",
            channel_id="C1",
            message=message,
        )
    )
    view = latest_view(app_env)
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"][:3] == [
        "outcome_text_1",
        "owner_1",
        "due_1",
    ]


async def test_app_home_shows_owned_private_actions_and_pages_long_lists(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Secret", channel_id="G1")
    await app_env.command("/outcome", "Secret task <@U2>", channel_id="G1")
    await app_env.command("/meeting", "start Public")
    for i in range(40):
        await app_env.command("/outcome", f"Task {i} <@U2>")
    await app_env.interact(app_env.driver.open_home("U2"))
    home = app_env.fake.published_home["U2"]
    assert check_view(home) == []
    text = str(home["blocks"])
    # U2 is not in G1 but owns the action, so was told of it: it is on their Home.
    assert "Secret task" in text
    assert "Task 0" in text and "1–20 of 41" in text and "Show more" in text


async def test_a_refused_press_is_still_acknowledged(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Planning")
    await app_env.command("/outcome", "Ship <@U2>")
    card = await card_of(app_env)
    response = await app_env.interact(
        app_env.driver.press(
            "action_done", user_id="U3", value="T1:A-1", channel_id="C1", message=card
        )
    )
    # Slack shows a warning on any answer but 200, on top of our explanation.
    assert response.status_code == 200
    await app_env.command("/meeting", "end")
    summary = await summary_message(app_env)
    refused = await app_env.interact(
        app_env.driver.press(
            "meeting_no_outcome", user_id="U3", value="T1:M-1", channel_id="C1", message=summary
        )
    )
    assert refused.status_code == 200
