# ruff: noqa: F811  (tests take the imported fixture ``env`` as their argument)
"""Issue 17 point 4, decision reviews, end to end through signed requests and the fake Slack.

The clock stands at Monday 23 November 2026, 10:00 UTC; U1 (ana) is in Europe/Berlin, U2
(ben) in America/Los_Angeles.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.cadence.config import CadenceConfig, DecisionRules, DigestSchedule
from bot.decisions.models import DecisionReview
from bot.delivery.models import Delivery
from tests.conftest import MONDAY, AppEnv
from tests.test_decisions_e2e import card_message, decision, latest_view
from tests.test_nudges_e2e import Env, env  # noqa: F401  (the worker's fixture)

THIRTY_DAYS = CadenceConfig(decisions=DecisionRules(review_after_days=30))


async def count_reviews(env: AppEnv) -> int:
    async with env.deps.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(DecisionReview)) or 0)


def _date(day: str) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": day}


def _text(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


# --- setting the review date -------------------------------------------------------------


async def test_decide_with_review_date_stores_it_and_says_so(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    response = await app_env.command("/decision", "decide D-1 Acme, cheapest | review in 8 weeks")
    body = response.json()
    assert body["response_type"] == "in_channel"
    assert "Acme, cheapest" in body["text"] and "Review on Mon 18 Jan 2027" in body["text"]
    d = await decision(app_env)
    assert d.status == "decided" and d.resolution == "Acme, cheapest"
    assert d.review_on == date(2027, 1, 18)
    assert "Review on Mon 18 Jan 2027" in str(app_env.fake.calls_to("chat.update")[-1].params)
    shown = await app_env.command("/decision", "show D-1")
    assert "(review on Mon 18 Jan 2027)" in str(shown.json()["blocks"])


async def test_a_resolution_that_merely_mentions_review_keeps_its_words(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Contract")
    await app_env.command("/decision", "decide D-1 Legal will review the contract")
    d = await decision(app_env)
    assert d.resolution == "Legal will review the contract" and d.review_on is None


async def test_bad_review_dates_are_refused_and_nothing_changes(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    for text, expected in [
        ("decide D-1 Acme review tomorow", "couldn't read “tomorow” as a date"),
        ("decide D-1 Acme review 2026-11-01", "in the past"),
        ("decide D-1 review friday", "resolution is missing"),
    ]:
        response = await app_env.command("/decision", text)
        assert response.json()["response_type"] == "ephemeral"
        assert expected in response.json()["text"], text
    d = await decision(app_env)
    assert d.status == "open" and d.review_on is None


@pytest.mark.parametrize("cadence", [THIRTY_DAYS])
async def test_the_cadence_default_applies_when_no_date_is_given(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    await app_env.command("/decision", "decide D-1 Acme")
    assert (await decision(app_env)).review_on == date(2026, 12, 23)
    await app_env.command("/decision", "new Launch")
    await app_env.command("/decision", "decide D-2 March review friday")
    assert (await decision(app_env, 2)).review_on == date(2026, 11, 27)
    await app_env.command("/decision", "log Office = Keep it")
    assert (await decision(app_env, 3)).review_on == date(2026, 12, 23)


async def test_off_by_default(app_env: AppEnv) -> None:
    await app_env.command("/decision", "log Office = Keep it")
    assert (await decision(app_env)).review_on is None


async def test_log_takes_a_review_date(app_env: AppEnv) -> None:
    response = await app_env.command(
        "/decision", "log Office = Keep it <@U2|ben> review 2026-12-14"
    )
    assert "(review on Mon 14 Dec 2026)" in response.json()["text"]
    d = await decision(app_env)
    assert d.owner_id == "U2" and d.resolution == "Keep it"
    assert d.review_on == date(2026, 12, 14)


async def test_review_command_sets_moves_and_clears(app_env: AppEnv) -> None:
    await app_env.command("/decision", "log Office = Keep it")
    response = await app_env.command("/decision", "review D-1 2026-12-14")
    body = response.json()
    assert body["response_type"] == "in_channel"
    assert "<@U1> will be asked whether it held on Mon 14 Dec 2026" in body["text"]
    assert (await decision(app_env)).review_on == date(2026, 12, 14)
    await app_env.command("/decision", "review D-1 in 2 weeks")
    assert (await decision(app_env)).review_on == date(2026, 12, 7)
    response = await app_env.command("/decision", "review D-1 none")
    assert "cleared the review date" in response.json()["text"]
    d = await decision(app_env)
    assert d.review_on is None
    actions = [e.action for e in d.events]
    assert actions[-3:] == ["review_set", "review_set", "review_set"]
    assert d.last_activity_at == app_env.deps.now()
    shown = str((await app_env.command("/decision", "show D-1")).json()["blocks"])
    assert "set its review on Mon 14 Dec 2026" in shown and "cleared its review date" in shown


async def test_review_command_refusals_change_nothing(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Still open")
    await app_env.command("/decision", "log Office = Keep it")
    for text, expected, user in [
        ("review D-1 friday", "not decided", "U1"),
        ("review D-2", "Say when to ask whether it held", "U1"),
        ("review D-2 someday", "couldn't read “someday”", "U1"),
        ("review D-2 2026-01-01", "in the past", "U1"),
        ("review D-2 none", "no review date to clear", "U1"),
        ("review D-2 friday", "Only <@U1>", "U3"),
        ("review D-9 friday", "There is no D-9", "U1"),
        ("review X-2 friday", "is not a decision reference", "U1"),
    ]:
        response = await app_env.command("/decision", text, user_id=user)
        assert response.json()["response_type"] == "ephemeral", text
        assert expected in response.json()["text"], text
    assert (await decision(app_env, 2)).review_on is None
    assert [e.action for e in (await decision(app_env, 2)).events] == ["created", "decided"]


async def test_review_of_a_private_decision_reads_as_unknown_to_outsiders(app_env: AppEnv) -> None:
    await app_env.command("/decision", "log Secret = Yes", channel_id="G1")
    response = await app_env.command("/decision", "review D-1 friday", user_id="UADMIN")
    assert "There is no D-1" in response.json()["text"]
    assert (await decision(app_env)).review_on is None


async def test_decide_modal_takes_a_review_date(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    message = await card_message(app_env)
    await app_env.interact(
        app_env.driver.press(
            "decision_decide", user_id="U1", value="T1:D-1", channel_id="C1", message=message
        )
    )
    view = await latest_view(app_env)
    assert "review_on" in str(view["blocks"])
    response = await app_env.interact(
        app_env.driver.submit(
            view,
            {"resolution": _text("Acme"), "review_on": _date("2026-11-01")},
            user_id="U1",
        )
    )
    assert response.json()["errors"] == {
        "review_on": "That date is in the past. Pick today or later."
    }
    assert (await decision(app_env)).status == "open"
    await app_env.interact(
        app_env.driver.submit(
            view, {"resolution": _text("Acme"), "review_on": _date("2027-02-01")}, user_id="U1"
        )
    )
    d = await decision(app_env)
    assert d.status == "decided" and d.review_on == date(2027, 2, 1)


@pytest.mark.parametrize("cadence", [THIRTY_DAYS])
async def test_decide_modal_without_a_date_takes_the_default(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    message = await card_message(app_env)
    await app_env.interact(
        app_env.driver.press(
            "decision_decide", user_id="U1", value="T1:D-1", channel_id="C1", message=message
        )
    )
    view = await latest_view(app_env)
    await app_env.interact(app_env.driver.submit(view, {"resolution": _text("Acme")}, user_id="U1"))
    assert (await decision(app_env)).review_on == date(2026, 12, 23)


async def test_new_decision_modal_review_date_needs_decided_already(app_env: AppEnv) -> None:
    await app_env.command("/decision", "")
    view = await latest_view(app_env)
    values = {
        "title": _text("Office"),
        "owner": {"type": "users_select", "selected_user": "U1"},
        "review_on": _date("2026-12-14"),
    }
    response = await app_env.interact(app_env.driver.submit(view, values, user_id="U1"))
    assert "Decided already" in response.json()["errors"]["review_on"]
    values |= {
        "decided_already": {"type": "radio_buttons", "selected_option": {"value": "decided"}},
        "resolution": _text("Keep it"),
    }
    await app_env.interact(app_env.driver.submit(view, values, user_id="U1"))
    d = await decision(app_env)
    assert d.status == "decided" and d.review_on == date(2026, 12, 14)


async def test_reopen_forgets_the_review(app_env: AppEnv) -> None:
    await app_env.command("/decision", "log Office = Keep it review 2026-12-14")
    await app_env.command("/decision", "reopen D-1")
    d = await decision(app_env)
    assert d.status == "open" and d.review_on is None


async def test_help_documents_reviews(app_env: AppEnv) -> None:
    text = (await app_env.command("/decision", "help")).json()["text"]
    assert "`/decision review D-12 DATE`" in text and "[review DATE]" in text


async def test_hygiene_settings_sets_the_default_per_workspace(app_env: AppEnv) -> None:
    from bot.slack.ids import Block as BlockId
    from tests.test_settings_e2e import audit, open_settings, overrides, save

    view = await open_settings(app_env)
    bad = await save(app_env, view, **{BlockId.SETTINGS_REVIEW_AFTER: {"value": "9999"}})
    assert bad["errors"][BlockId.SETTINGS_REVIEW_AFTER] == "Enter a whole number from 0 to 730."
    assert await audit(app_env) == []
    await save(
        app_env,
        view,
        **{
            BlockId.SETTINGS_REVIEW_AFTER: {"value": "10"},
            BlockId.SETTINGS_REVIEW_AGAIN: {"value": "7"},
        },
    )
    assert (await overrides(app_env))["decisions"] == {
        "review_after_days": 10,
        "review_again_days": 7,
    }
    await app_env.command("/decision", "log Office = Keep it")
    assert (await decision(app_env)).review_on == date(2026, 12, 3)


# --- the question on the review day ------------------------------------------------------


def asks(env: Env, user: str = "U1") -> list[str]:
    return [
        str(c.params["text"])
        for c in env.fake.calls_to("chat.postMessage")
        if c.ok and c.params["channel"] == user and "hold?" in str(c.params["text"])
    ]


async def press(env: Env, action_id: str, message: dict[str, Any], *, user: str = "U1") -> Any:
    value = next(
        e["value"]
        for b in message["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )
    return await env.interact(
        env.driver.press(
            action_id, user_id=user, value=value, channel_id=f"D{user}", message=message
        )
    )


async def asked(env: Env, text: str = "log Office = Keep it review today") -> dict[str, Any]:
    await env.command("/decision", text, user_id="U1", channel_id="C1")
    report = await env.tick()
    assert report.steps["reviews"].planned == 1  # type: ignore[attr-defined]
    assert asks(env) == ["Did D-1 Office hold?"]
    return env.reminder("U1")


async def test_the_owner_is_asked_on_the_day_and_only_once(env: Env) -> None:
    await env.command("/decision", "log Office = Keep it review tomorrow", user_id="U1")
    await env.tick()
    assert asks(env) == []  # not before the day
    # Tue 24 Nov starts at 23:00 UTC on Monday in Berlin, but U1's working day at 09:00.
    env.deps.clock.set(datetime(2026, 11, 24, 7, 59, tzinfo=UTC))  # type: ignore[attr-defined]
    await env.tick()
    assert asks(env) == []
    env.deps.clock.set(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    await env.tick()
    assert asks(env) == ["Did D-1 Office hold?"]
    message = env.reminder("U1")
    shown = str(message["blocks"])
    assert "Keep it" in shown and "Kept" in shown and "Too early" in shown
    for _ in range(2):
        env.deps.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
        await env.tick()
    assert len(asks(env)) == 1


async def test_the_question_waits_for_the_owners_working_hours(env: Env) -> None:
    # Ben is in Los Angeles: Monday 10:00 UTC is 02:00 there; his day starts 17:00 UTC.
    await env.command("/decision", "log Office = Keep it <@U2> review 2026-11-23", user_id="U1")
    await env.tick()
    assert asks(env, "U2") == []
    async with env.deps.db.transaction() as session:
        row = await session.scalar(select(Delivery).where(Delivery.kind == "review:decision"))
    assert row is not None and row.recipient == "U2" and row.period == "2026-11-23"
    assert row.due_at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    env.deps.clock.set(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    await env.tick()
    assert asks(env, "U2") == ["Did D-1 Office hold?"]


async def test_kept_updates_the_dm_in_place_and_is_history(env: Env) -> None:
    message = await asked(env)
    env.deps.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
    await press(env, "review_kept", message)
    (update,) = env.updates_of(message)
    assert "Kept: it held" in str(update["blocks"])
    assert not [b for b in update["blocks"] if b["type"] == "actions"]
    d = await decision(env)
    assert d.status == "decided" and d.review_on is None and d.resolution == "Keep it"
    assert d.events[-1].action == "review_kept"
    assert d.last_activity_at == MONDAY + timedelta(minutes=5)
    async with env.deps.db.transaction() as session:
        (review,) = (await session.scalars(select(DecisionReview))).all()
    assert review.answer == "kept" and review.due_on == date(2026, 11, 23)
    # Pressed again (a second device): refused, nothing more stored.
    await press(env, "review_kept", message)
    assert await count_reviews(env) == 1


async def test_too_early_asks_again_in_n_days(env: Env) -> None:
    message = await asked(env)
    await press(env, "review_too_early", message)
    assert "ask again on Mon 7 Dec 2026" in str(env.updates_of(message)[-1]["blocks"])
    d = await decision(env)
    assert d.review_on == date(2026, 12, 7) and d.events[-1].action == "review_too_early"
    env.deps.clock.set(datetime(2026, 12, 6, 12, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    await env.tick()
    assert len(asks(env)) == 1
    env.deps.clock.set(datetime(2026, 12, 7, 8, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    await env.tick()
    assert len(asks(env)) == 2
    # The first question's buttons are out of date now.
    await press(env, "review_kept", message)
    assert (await decision(env)).review_on == date(2026, 12, 7)
    assert await count_reviews(env) == 1


async def test_amended_opens_a_modal_and_keeps_the_old_resolution(env: Env) -> None:
    message = await asked(env)
    await press(env, "review_amended", message)
    view = await latest_view(env)
    assert view["callback_id"] == "decision_review_amend"
    assert "Keep it" in str(view["blocks"])
    response = await env.interact(
        env.driver.submit(view, {"resolution": _text("Keep it")}, user_id="U1")
    )
    assert "resolution already" in response.json()["errors"]["resolution"]
    response = await env.interact(env.driver.submit(view, {"resolution": _text("")}, user_id="U1"))
    assert response.json()["errors"] == {"resolution": "Say what holds now."}
    assert await count_reviews(env) == 0
    await env.interact(
        env.driver.submit(view, {"resolution": _text("Keep it, two days a week")}, user_id="U1")
    )
    d = await decision(env)
    assert d.status == "decided" and d.resolution == "Keep it, two days a week"
    assert d.events[-1].action == "amended" and d.events[-1].detail["from"] == "Keep it"
    assert "It now reads" in str(env.updates_of(message)[-1]["blocks"])
    shown = str((await env.command("/decision", "show D-1")).json()["blocks"])
    assert "amended the resolution to: Keep it, two days a week (was: Keep it)" in shown


async def test_reversed_needs_a_reason_and_marks_the_decision(env: Env) -> None:
    message = await asked(env)
    await press(env, "review_reversed", message)
    view = await latest_view(env)
    assert view["callback_id"] == "decision_review_reverse"
    response = await env.interact(env.driver.submit(view, {"reason": _text(" ")}, user_id="U1"))
    assert response.json()["errors"] == {"reason": "Say why it did not hold."}
    assert (await decision(env)).status == "decided"
    await env.interact(
        env.driver.submit(view, {"reason": _text("The lease ran out")}, user_id="U1")
    )
    d = await decision(env)
    assert d.status == "reversed" and d.reversal_reason == "The lease ran out"
    assert d.review_on is None and d.reversed_at == MONDAY
    assert "Reversed: The lease ran out" in str(env.updates_of(message)[-1]["blocks"])
    card = env.fake.calls_to("chat.update")[-1].params
    assert "Reversed" in str(card["blocks"]) and card["ts"] == d.message_ts
    # A reversed decision is not open: it is in no list, and the planner asks nothing more.
    listed = await env.answer("/decision", "list")
    assert "D-1" not in str(listed)
    env.deps.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
    await env.tick()
    assert len(asks(env)) == 1


async def test_only_the_owner_creator_or_an_admin_may_answer(env: Env) -> None:
    message = await asked(env)
    await press(env, "review_kept", message, user="U3")
    assert "Only <@U1>" in str([r.body for r in env.fake.responses])
    await press(env, "review_reversed", message, user="U3")
    assert env.fake.calls_to("views.open") == []
    assert await count_reviews(env) == 0


async def test_a_question_from_another_workspace_does_nothing(env: Env) -> None:
    message = await asked(env)
    value = "T2:D-1:2026-11-23"
    await env.interact(
        env.driver.press(
            "review_kept", user_id="U1", value=value, channel_id="DU1", message=message
        )
    )
    assert await count_reviews(env) == 0


async def test_the_question_is_dropped_if_answered_before_it_goes_out(env: Env) -> None:
    # Ben is asleep when it is planned; it is answered by command before his day starts.
    await env.command("/decision", "log Office = Keep it <@U2> review today", user_id="U1")
    await env.tick()
    await env.command("/decision", "review D-1 none", user_id="U1")
    env.deps.clock.set(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    report = await env.tick()
    assert asks(env, "U2") == [] and report.sent.cancelled == 1


# --- the numbers -------------------------------------------------------------------------
#
# Worked by hand, New York, over the week Mon 26 Oct – Sun 1 Nov 2026, whose last day is the
# end of daylight saving time (it is 169 hours long: 04:00 UTC Monday to 05:00 UTC Monday):
#
#   decision  review day         answer (when, UTC)                 due in   answered in
#   A         Mon 26 Oct         kept, Mon 26 Oct 15:00             week     week (held)
#   B         Sun  1 Nov         reversed, Mon 2 Nov 04:30          week     week (reversed)
#                                (= Sun 23:30 EST: the extra hour)
#   C         Wed 28 Oct         too early, Wed 28 Oct 14:00        week     week (no verdict)
#             → Wed 11 Nov       (waiting)                          later    —
#   D         Fri 30 Oct         (waiting)                          week     —
#   E         Mon  2 Nov         (waiting)                          next     —
#   F         Sun 25 Oct         amended, Mon 26 Oct 04:30          before   week (held)
#                                (= Mon 00:30 EDT)
#   G         Tue 20 Oct         kept, Tue 20 Oct 16:00             before   before (held)
#
# The week: due 4 (A, B, C, D), held 2 (A kept, F amended), reversed 1 (B), reversal rate
# 1 / (2 + 1) = 33 %. The week before: due 2 (F, G), held 1 (G), reversed 0, rate 0 %.

from bot.cadence.hours import week_bounds  # noqa: E402
from bot.decisions import reviews as review_service  # noqa: E402
from bot.decisions.models import ReviewAnswer  # noqa: E402
from bot.digest import metrics  # noqa: E402
from bot.workspace import Actor, WorkspaceKey  # noqa: E402
from tests.digest_support import add_decision, utc  # noqa: E402

NEW_YORK = CadenceConfig(timezone="America/New_York")
T1 = WorkspaceKey("T1")


async def seed_reviews(db: Any) -> None:
    plan = [
        ("A", date(2026, 10, 26), ReviewAnswer.KEPT, utc(2026, 10, 26, 15)),
        ("B", date(2026, 11, 1), ReviewAnswer.REVERSED, utc(2026, 11, 2, 4, 30)),
        ("C", date(2026, 10, 28), ReviewAnswer.TOO_EARLY, utc(2026, 10, 28, 14)),
        ("D", date(2026, 10, 30), None, None),
        ("E", date(2026, 11, 2), None, None),
        ("F", date(2026, 10, 25), ReviewAnswer.AMENDED, utc(2026, 10, 26, 4, 30)),
        ("G", date(2026, 10, 20), ReviewAnswer.KEPT, utc(2026, 10, 20, 16)),
    ]
    for title, day, answer, at in plan:
        async with db.transaction() as session:
            d = await add_decision(
                session, created=utc(2026, 9, 1), decided=utc(2026, 9, 2), title=title
            )
            d.review_on = day
            number = d.number
        if answer is None or at is None:
            continue
        async with db.transaction() as session:
            await review_service.answer_review(
                session,
                ws=T1,
                number=number,
                actor=Actor("U1"),
                answer=answer,
                today=at.astimezone(NEW_YORK.zone).date(),
                now=at,
                cadence=NEW_YORK,
                resolution="Amended" if answer is ReviewAnswer.AMENDED else None,
                reason="It did not work" if answer is ReviewAnswer.REVERSED else None,
            )


async def test_review_numbers_worked_by_hand_across_the_end_of_dst(db: Any) -> None:
    await seed_reviews(db)
    start, end = week_bounds(date(2026, 10, 26), NEW_YORK.zone)
    assert (start, end) == (utc(2026, 10, 26, 4, 0), utc(2026, 11, 2, 5, 0))
    before, _ = week_bounds(date(2026, 10, 19), NEW_YORK.zone)
    async with db.transaction() as session:
        previous, week = await metrics.series_figures(
            session, ws=T1, cadence=NEW_YORK, bounds=[before, start, end], now=utc(2026, 11, 3)
        )
        by_channel = await metrics.channel_figures(
            session, ws=T1, cadence=NEW_YORK, start=start, end=end, now=utc(2026, 11, 3)
        )
        hidden = await metrics.period_figures(
            session,
            ws=T1,
            cadence=NEW_YORK,
            start=start,
            end=end,
            now=utc(2026, 11, 3),
            channels=["C2"],
        )
    assert (week.reviews_due, week.reviews_held, week.reviews_reversed) == (4, 2, 1)
    assert (week.reviews_kept, week.reviews_amended, week.reviews_too_early) == (1, 1, 1)
    assert week.reversal_percent == 33
    assert (previous.reviews_due, previous.reviews_held, previous.reviews_reversed) == (2, 1, 0)
    assert previous.reversal_percent == 0
    assert by_channel["C1"].reviews_due == 4 and by_channel["C1"].reviews_reversed == 1
    assert not hidden.has_reviews  # a channel the reader may not see counts nothing
    # The reversed decision still counts as decided in the week it was decided.
    async with db.transaction() as session:
        september = await metrics.period_figures(
            session,
            ws=T1,
            cadence=NEW_YORK,
            start=utc(2026, 9, 1),
            end=utc(2026, 9, 3),
            now=utc(2026, 11, 3),
        )
    assert september.decisions_decided == 7


@pytest.mark.parametrize(
    "cadence",
    [CadenceConfig(timezone="America/New_York", digest=DigestSchedule(recipients=["UADMIN"]))],
)
async def test_stats_and_export_show_the_review_numbers(app_env: AppEnv) -> None:
    import csv
    import io

    await seed_reviews(app_env.deps.db)
    app_env.deps.clock.set(utc(2026, 11, 3, 15))  # type: ignore[attr-defined]
    await app_env.command("/hygiene", "stats", user_id="U2", channel_id="C1")
    text = str(app_env.fake.responses[-1].body["blocks"])
    assert "Mon 26 Oct 2026 – Sun 1 Nov 2026" in text
    assert (
        "*Reviews* · due 4 · held 2 · reversed 1 · reversal rate 33%  "
        "_(week before: 2 / 1 / 0 / 0%)_"
    ) in text
    assert "4 reviews due, 2 held, 1 reversed" in text  # the channel's line
    await app_env.command("/hygiene", "digest", user_id="UADMIN", channel_id="C1")
    app_env.fake.reset()
    await app_env.command("/hygiene", "export", user_id="UADMIN")
    files = {f.name.split("-")[1]: f for f in app_env.fake.files.values()}
    rows = list(csv.DictReader(io.StringIO(files["digests"].content.decode("utf-8-sig"))))
    assert rows, "the digest was stored"
    for row in rows:
        assert (row["Reviews due, reported"], row["Reviews due, now"]) == ("4", "4")
        assert row["Reviews held, now"] == "2" and row["Reviews reversed, now"] == "1"
        assert row["Reversal rate (%), reported"] == "33"


async def test_app_home_lists_my_reviews_due(app_env: AppEnv) -> None:
    await app_env.command("/decision", "log Office = Keep it review today")
    await app_env.command("/decision", "log Later = Yes review 2026-12-20")
    await app_env.command("/decision", "log Ben's = Yes <@U2> review today")
    await app_env.interact(app_env.driver.open_home("U1"))
    text = str(app_env.fake.published_home["U1"]["blocks"])
    assert "Reviews due" in text and "*D-1* Office" in text
    assert "D-2" not in text.split("Reviews due")[1] and "D-3" not in text
    await app_env.interact(app_env.driver.open_home("U3"))
    assert "Reviews due" not in str(app_env.fake.published_home["U3"]["blocks"])
