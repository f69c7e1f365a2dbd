"""Issue 16: every reply says what was understood, in one clear sentence (signed requests in,
the fake Slack out)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.decisions.models import Decision
from bot.meetings.models import Meeting
from tests.conftest import AppEnv


async def stored(env: AppEnv, number: int = 1) -> Decision:
    async with env.deps.db.transaction() as session:
        found = await session.scalar(select(Decision).where(Decision.number == number))
    assert found is not None
    return found


async def test_new_decision_ack_says_ref_title_owner_due_and_channel(app_env: AppEnv) -> None:
    response = await app_env.command("/decision", "new Pick a vendor <@U2> by next friday")
    text = response.json()["text"]
    # Monday 23 Nov 2026: "next friday" is the Friday of next week.
    assert text == (
        "Recorded *D-1* “Pick a vendor” — owner <@U2>, due Fri 4 Dec 2026 "
        "(you said “next friday”), in <#C1>."
    )
    assert str((await stored(app_env)).due_date) == "2026-12-04"


async def test_a_by_that_is_no_date_stays_in_the_title_and_the_ack_says_so(
    app_env: AppEnv,
) -> None:
    text = (await app_env.command("/decision", "new Decide by committee")).json()["text"]
    assert "*D-1* “Decide by committee”" in text
    assert "no due date: I read “by committee” as part of the title" in text
    assert (await stored(app_env)).due_date is None


async def test_new_date_forms_are_read_the_same_by_every_command(app_env: AppEnv) -> None:
    forms = {
        "end of week": "2026-11-27",
        "end of month": "2026-11-30",
        "dec 15": "2026-12-15",
        "15 dec": "2026-12-15",
        "in a week": "2026-11-30",
    }
    for form in forms:
        await app_env.command("/decision", f"new Thing by {form}")
    for number, expected in enumerate(forms.values(), start=1):
        assert str((await stored(app_env, number)).due_date) == expected
    changed = await app_env.command("/decision", "due D-1 dec 15")
    assert "due Tue 15 Dec 2026 (you said “dec 15”)" in changed.json()["text"]
    await app_env.command("/meeting", "start Planning")
    added = await app_env.command("/outcome", "Ship the beta <@U2> by end of month")
    assert (
        "“Ship the beta” (owner <@U2>, due Mon 30 Nov 2026 (you said “end of month”))"
        in (added.json()["text"])
    )


async def test_past_and_impossible_dates_are_refused_with_the_forms(app_env: AppEnv) -> None:
    for text in ("new DateTest by yesterday", "new DateTest by 31 feb", "due D-1 31 feb"):
        body = (await app_env.command("/decision", text)).json()
        assert body["response_type"] == "ephemeral"
        assert "dec 15 or 15 dec" in body["text"] and "end of month" in body["text"]
        assert "\n" not in body["text"]
    assert app_env.fake.calls_to("chat.postMessage") == []


async def test_two_owners_is_an_error(app_env: AppEnv) -> None:
    body = (await app_env.command("/decision", "new Fix login <@U2> <@U3>")).json()
    assert body["text"].startswith("A decision has one owner, but you named <@U2> and <@U3>")
    assert app_env.fake.calls_to("chat.postMessage") == []


async def test_due_none_clears_the_date(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Budget by friday")
    body = (await app_env.command("/decision", "due D-1 none")).json()
    assert body["text"] == "<@U1> cleared the due date of *D-1* Budget."
    assert (await stored(app_env)).due_date is None


async def test_drop_button_asks_for_an_optional_reason(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    d = await stored(app_env)
    message = {"ts": d.message_ts, "type": "message", "text": ""}
    await app_env.interact(
        app_env.driver.press(
            "decision_drop", user_id="U1", value="T1:D-1", channel_id="C1", message=message
        )
    )
    view = app_env.fake.calls_to("views.open")[-1].params["view"]
    assert view["callback_id"] == "decision_drop"
    assert view["blocks"][1]["optional"] is True
    await app_env.interact(
        app_env.driver.submit(
            view, {"reason": {"type": "plain_text_input", "value": "Superseded"}}, user_id="U1"
        )
    )
    d = await stored(app_env)
    assert d.status == "dropped" and d.drop_reason == "Superseded"
    assert "Superseded" in str(app_env.fake.calls_to("chat.update")[-1].params["blocks"])


async def test_meeting_log_records_a_meeting_in_the_past(app_env: AppEnv) -> None:
    # Monday 23 Nov 2026; ana is in Berlin.
    body = (await app_env.command("/meeting", "log Retro on friday at 14:30")).json()
    async with app_env.deps.db.transaction() as session:
        meeting = await session.scalar(select(Meeting))
    assert meeting is not None
    held = datetime(2026, 11, 20, 13, 30, tzinfo=UTC)
    assert meeting.started_at == held and meeting.ended_at == held
    assert f"<!date^{int(held.timestamp())}^" in body["text"] and "in <#C1>" in body["text"]
    future = (await app_env.command("/meeting", "log Retro on next friday")).json()
    assert "is in the future" in future["text"]


async def test_errors_are_one_sentence_and_typos_get_a_suggestion(app_env: AppEnv) -> None:
    shown = (await app_env.command("/decision", "show D-1 D-2")).json()["text"]
    assert shown == (
        "`/decision show` takes one decision, but you typed “D-1 D-2”; "
        "for example `/decision show D-1`."
    )
    typo = (await app_env.command("/decision", "nwe Ship it")).json()["text"]
    assert typo.startswith("`/decision` has no subcommand “nwe”. Did you mean `/decision new`?")
    # One line: the suggestion and where the help is, not the whole help under it.
    assert "*Decisions*" not in typo and typo.endswith("`/decision help` lists them all.)")
    await app_env.command("/decision", "new Ship it")
    await app_env.command("/decision", "decide D-1 Yes")
    again = (await app_env.command("/decision", "decide D-1 Yes")).json()["text"]
    assert again == "D-1 is already decided. Use `/decision reopen D-1` first."


async def test_titles_ending_in_punctuation_get_no_second_full_stop(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Which vendors do we keep?")
    body = (await app_env.command("/decision", "reopen D-1")).json()
    assert "?." not in body["text"]
    body = (await app_env.command("/decision", "drop D-1")).json()
    assert body["text"].endswith("do we keep?")
