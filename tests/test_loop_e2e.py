"""Issue 17, closing the loop from decision to done: end to end through signed requests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.decisions.models import Decision
from tests.conftest import AppEnv
from tests.test_decisions_e2e import decision, latest_view


async def count_decisions(env: AppEnv) -> int:
    async with env.deps.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Decision)) or 0)


def card_blocks(env: AppEnv) -> str:
    return str(env.fake.calls_to("chat.postMessage")[-1].params["blocks"])


# --- point 1: decisions already made -----------------------------------------------------


async def test_log_records_a_decided_decision_in_one_step(app_env: AppEnv) -> None:
    response = await app_env.command(
        "/decision", "log Launch date = Move it to March &amp; tell sales <@U2|ben>"
    )
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "Recorded *D-1* as decided" in body["text"] and "<@U2>" in body["text"]
    d = await decision(app_env)
    assert d.status == "decided" and d.owner_id == "U2" and d.creator_id == "U1"
    assert d.title == "Launch date" and d.resolution == "Move it to March & tell sales"
    assert d.decided_at == d.created_at
    assert [e.action for e in d.events] == ["created", "decided"]
    text = card_blocks(app_env)
    assert "Decided" in text and "Move it to March" in text
    assert "decision_decide" not in text  # no Decide button on a decided card


async def test_log_without_equals_or_resolution_is_refused(app_env: AppEnv) -> None:
    for text, expected in [
        ("log Launch date", "Put `=` between"),
        ("log", "Say what was decided"),
        ("log Launch date =", "resolution is missing"),
        ("log = March", "decision title is missing"),
    ]:
        response = await app_env.command("/decision", text)
        assert response.json()["response_type"] == "ephemeral"
        assert expected in response.json()["text"], text
        assert "`/decision log " in response.json()["text"]  # one example of the right form
    assert await count_decisions(app_env) == 0
    assert app_env.fake.calls_to("chat.postMessage") == []


async def test_help_documents_log(app_env: AppEnv) -> None:
    response = await app_env.command("/decision", "help")
    assert "`/decision log TITLE = RESOLUTION [@owner] [review DATE]`" in response.json()["text"]


def _values(view: dict[str, Any], **overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    values: dict[str, dict[str, Any]] = {
        "title": {"type": "plain_text_input", "value": "Launch date"},
        "owner": {"type": "users_select", "selected_user": "U1"},
    }
    values.update(overrides)
    return values


def _state(value: str) -> dict[str, Any]:
    return {"type": "radio_buttons", "selected_option": {"value": value}}


async def test_modal_decided_already_records_it_decided(app_env: AppEnv) -> None:
    await app_env.command("/decision", "")
    view = await latest_view(app_env)
    assert "Decided already" in str(view["blocks"])
    response = await app_env.interact(
        app_env.driver.submit(
            view,
            _values(
                view,
                decided_already=_state("decided"),
                resolution={"type": "plain_text_input", "value": "March 3"},
            ),
            user_id="U1",
        )
    )
    assert response.status_code == 200
    d = await decision(app_env)
    assert d.status == "decided" and d.resolution == "March 3"
    assert [e.action for e in d.events] == ["created", "decided"]


async def test_modal_decided_already_needs_a_resolution(app_env: AppEnv) -> None:
    await app_env.command("/decision", "")
    view = await latest_view(app_env)
    response = await app_env.interact(
        app_env.driver.submit(view, _values(view, decided_already=_state("decided")), user_id="U1")
    )
    body = response.json()
    assert body["response_action"] == "errors"
    assert "Say what was decided" in body["errors"]["resolution"]
    response = await app_env.interact(
        app_env.driver.submit(
            view,
            _values(
                view,
                decided_already=_state("open"),
                resolution={"type": "plain_text_input", "value": "March 3"},
            ),
            user_id="U1",
        )
    )
    assert "Decided already" in response.json()["errors"]["resolution"]
    assert await count_decisions(app_env) == 0


async def test_shortcut_on_an_agreement_starts_at_decided_already(app_env: AppEnv) -> None:
    message = {"ts": "1700000000.000300", "user": "U2", "text": "We agreed to move the launch"}
    await app_env.interact(
        app_env.driver.message_shortcut(
            "record_decision", user_id="U1", channel_id="C1", message=message
        )
    )
    view = await latest_view(app_env)
    state = next(b for b in view["blocks"] if b.get("block_id") == "decided_already")
    assert state["element"]["initial_option"]["value"] == "decided"
    resolution = next(b for b in view["blocks"] if b.get("block_id") == "resolution")
    assert resolution["element"]["initial_value"] == "We agreed to move the launch"
    await app_env.interact(
        app_env.driver.submit(
            view,
            _values(
                view,
                decided_already=_state("decided"),
                resolution={"type": "plain_text_input", "value": "We agreed to move the launch"},
            ),
            user_id="U1",
        )
    )
    d = await decision(app_env)
    assert d.status == "decided" and d.source_permalink


async def test_shortcut_on_a_question_stays_open(app_env: AppEnv) -> None:
    message = {"ts": "1700000000.000400", "user": "U2", "text": "Should we move the launch?"}
    await app_env.interact(
        app_env.driver.message_shortcut(
            "record_decision", user_id="U1", channel_id="C1", message=message
        )
    )
    view = await latest_view(app_env)
    state = next(b for b in view["blocks"] if b.get("block_id") == "decided_already")
    assert state["element"]["initial_option"]["value"] == "open"


# --- point 6: edit and note ---------------------------------------------------------------


async def test_edit_title_and_context_are_history_and_update_the_card(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor <@U2>")
    response = await app_env.command("/decision", "edit D-1 title Pick a payroll vendor")
    assert response.json()["response_type"] == "in_channel"
    assert "renamed *D-1*: Pick a payroll vendor" in response.json()["text"]
    response = await app_env.command(
        "/decision", "edit D-1 context Two quotes so far", user_id="U2"
    )
    assert response.json()["response_type"] == "in_channel"
    d = await decision(app_env)
    assert d.title == "Pick a payroll vendor" and d.context == "Two quotes so far"
    assert [e.action for e in d.events] == ["created", "edited", "edited"]
    assert d.events[1].detail == {
        "field": "title",
        "from": "Pick a vendor",
        "to": "Pick a payroll vendor",
    }
    update = app_env.fake.calls_to("chat.update")[-1]
    assert "Two quotes so far" in str(update.params["blocks"])
    shown = str((await app_env.command("/decision", "show D-1")).json()["blocks"])
    assert "renamed it (was: Pick a vendor)" in shown and "rewrote the context" in shown


async def test_only_owner_creator_or_admin_may_edit(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor <@U2>", user_id="U1")
    refused = await app_env.command("/decision", "edit D-1 title Mine now", user_id="U3")
    assert refused.json()["response_type"] == "ephemeral"
    assert "Only the owner" in refused.json()["text"]
    allowed = await app_env.command("/decision", "edit D-1 title Admin's", user_id="UADMIN")
    assert allowed.json()["response_type"] == "in_channel"
    d = await decision(app_env)
    assert d.title == "Admin's" and [e.action for e in d.events] == ["created", "edited"]


async def test_bad_edits_and_notes_are_refused_and_change_nothing(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    for text, expected in [
        ("edit D-1 owner <@U2>", "Say what to change, `title` or `context`, not “owner”"),
        ("edit D-1", "Say what to change"),
        ("edit D-1 title", "new title is missing"),
        ("edit D-1 title Pick a vendor", "already has that title"),
        ("edit X-1 title New", "is not a decision reference"),
        ("edit D-9 title New", "There is no D-9"),
        ("note D-1", "note is missing"),
        ("note D-9 hello", "There is no D-9"),
    ]:
        response = await app_env.command("/decision", text)
        body = response.json()
        assert body["response_type"] == "ephemeral", text
        assert expected in body["text"], (text, body["text"])
    d = await decision(app_env)
    assert d.title == "Pick a vendor" and [e.action for e in d.events] == ["created"]


async def test_anyone_may_note_and_a_note_is_activity(app_env: AppEnv) -> None:
    from datetime import timedelta

    await app_env.command("/decision", "new Pick a vendor <@U2>", user_id="U1")
    created = (await decision(app_env)).last_activity_at
    app_env.deps.clock.advance(timedelta(days=14))  # type: ignore[attr-defined]
    listed = str((await app_env.answer("/decision", "list stalled"))["blocks"])
    assert "Pick a vendor" in listed
    response = await app_env.command("/decision", "note D-1 Legal wants a week", user_id="U3")
    assert response.json()["response_type"] == "in_channel"
    assert "noted on *D-1*" in response.json()["text"]
    d = await decision(app_env)
    assert d.last_activity_at == created + timedelta(days=14)
    assert d.events[-1].action == "noted" and d.events[-1].actor_id == "U3"
    listed = str((await app_env.answer("/decision", "list stalled"))["blocks"])
    assert "Pick a vendor" not in listed
    shown = str((await app_env.command("/decision", "show D-1")).json()["blocks"])
    assert "noted: Legal wants a week" in shown


# --- point 5: supersede -------------------------------------------------------------------


async def test_supersede_links_both_cards_and_leaves_open_and_stalled(app_env: AppEnv) -> None:
    from datetime import timedelta

    await app_env.command("/decision", "new Launch in January")
    await app_env.command("/decision", "new Launch in March")
    app_env.deps.clock.advance(timedelta(days=14))  # type: ignore[attr-defined]
    stalled = str((await app_env.answer("/decision", "list stalled"))["blocks"])
    assert "Launch in January" in stalled
    response = await app_env.command("/decision", "supersede D-1 with D-2")
    body = response.json()
    assert body["response_type"] == "in_channel"
    assert "marked *D-1* Launch in January as superseded by *D-2* Launch in March" in body["text"]
    old, new = await decision(app_env, 1), await decision(app_env, 2)
    assert old.status == "superseded" and old.superseded_by == 2 and new.supersedes == [1]
    assert old.events[-1].action == "superseded" and new.events[-1].action == "supersedes"
    updates = {
        u.params["ts"]: str(u.params["blocks"]) for u in app_env.fake.calls_to("chat.update")
    }
    assert "Superseded by D-2" in updates[old.message_ts]
    assert "decision_decide" not in updates[old.message_ts]
    assert "Supersedes* D-1" in updates[new.message_ts]
    for scope in ("", "stalled", "all"):
        listed = str((await app_env.answer("/decision", f"list {scope}"))["blocks"])
        assert "Launch in January" not in listed, scope
    shown = str((await app_env.command("/decision", "show D-1")).json()["blocks"])
    assert "marked it superseded by D-2" in shown


async def test_supersede_refusals_change_nothing(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new One <@U2>", user_id="U2")
    await app_env.command("/decision", "new Two")
    await app_env.command("/decision", "new Three")
    await app_env.command("/decision", "drop D-3")
    for text, user, expected in [
        ("supersede D-1", "U2", "Name the old decision and the one that replaces it"),
        ("supersede D-1 with D-1", "U2", "can't supersede itself"),
        ("supersede D-1 with D-9", "U2", "There is no D-9"),
        ("supersede D-1 with D-3", "U2", "D-3 is dropped itself"),
        ("supersede D-1 with D-2", "U3", "or a workspace admin can change it"),
        ("supersede D-3 with D-2", "U1", "D-3 was dropped"),
    ]:
        body = (await app_env.command("/decision", text, user_id=user)).json()
        assert body["response_type"] == "ephemeral", text
        assert expected in body["text"], (text, body["text"])
    assert (await decision(app_env, 1)).status == "open"
    assert (await decision(app_env, 2)).supersedes is None
    await app_env.command("/decision", "supersede D-1 by D-2", user_id="U2")
    body = (await app_env.command("/decision", "supersede D-1 D-2", user_id="U2")).json()
    assert "already superseded by D-2" in body["text"]


async def test_reopening_a_superseded_decision_unlinks_it(app_env: AppEnv) -> None:
    await app_env.command("/decision", "log Vendor = Acme")
    await app_env.command("/decision", "log Vendor again = Beta")
    await app_env.command("/decision", "supersede D-1 with D-2")
    await app_env.command("/decision", "reopen D-1")
    old, new = await decision(app_env, 1), await decision(app_env, 2)
    assert old.status == "open" and old.superseded_by is None and new.supersedes == []
    assert new.events[-1].action == "supersedes_undone"


async def test_modal_supersedes_field(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Launch in January")
    await app_env.command("/decision", "")
    view = await latest_view(app_env)
    bad = await app_env.interact(
        app_env.driver.submit(
            view,
            _values(view, supersedes={"type": "plain_text_input", "value": "January"}),
            user_id="U1",
        )
    )
    assert "like D-4" in bad.json()["errors"]["supersedes"]
    missing = await app_env.interact(
        app_env.driver.submit(
            view,
            _values(view, supersedes={"type": "plain_text_input", "value": "D-7"}),
            user_id="U1",
        )
    )
    assert "There is no D-7" in missing.json()["errors"]["supersedes"]
    assert await count_decisions(app_env) == 1
    await app_env.interact(
        app_env.driver.submit(
            view,
            _values(
                view,
                title={"type": "plain_text_input", "value": "Launch in March"},
                supersedes={"type": "plain_text_input", "value": "d1"},
            ),
            user_id="U1",
        )
    )
    old, new = await decision(app_env, 1), await decision(app_env, 2)
    assert old.status == "superseded" and old.superseded_by == 2 and new.supersedes == [1]
    assert "Supersedes* D-1" in card_blocks(app_env)


# --- point 2 (in part): follow-through actions by command ---------------------------------


async def test_act_adds_links_and_says_none_needed(app_env: AppEnv) -> None:
    from bot.meetings.models import Outcome

    await app_env.command("/meeting", "log Launch review")
    await app_env.command("/decision", "log Launch date = March <@U2>")
    response = await app_env.command("/decision", "act D-1 Tell sales <@U3> by 2026-12-15")
    body = response.json()
    assert body["response_type"] == "in_channel"
    assert "added *A-1* Tell sales (owner <@U3>, due" in body["text"]
    assert "action_done" in card_blocks(app_env) and "*A-1* Tell sales" in card_blocks(app_env)
    await app_env.command("/outcome", "Book the venue <@U2>")  # A-2, not linked
    response = await app_env.command("/decision", "act D-1 A-2", user_id="U2")
    assert "made *A-2* Book the venue a follow-through action of *D-1*" in response.json()["text"]
    async with app_env.deps.db.transaction() as session:
        linked = list(await session.scalars(select(Outcome).where(Outcome.number.is_not(None))))
    d = await decision(app_env)
    assert {o.number: o.decision_id for o in linked} == {1: d.id, 2: d.id}
    assert [e.action for e in d.events][-2:] == ["action_added", "action_linked"]
    shown = str((await app_env.command("/decision", "show D-1")).json()["blocks"])
    assert "*Follow-through*" in shown and "*A-1* Tell sales" in shown and "*A-2*" in shown
    refused = await app_env.command("/decision", "act D-1 none Nothing to do", user_id="U2")
    assert "already has follow-through actions" in refused.json()["text"]

    await app_env.command("/decision", "log Dress code = None <@U2>")
    response = await app_env.command("/decision", "act D-2 none The policy is the whole change")
    assert "needs no action: The policy is the whole change" in response.json()["text"]
    d2 = await decision(app_env, 2)
    assert d2.no_action_reason == "The policy is the whole change" and d2.no_action_by == "U1"
    shown = str((await app_env.command("/decision", "show D-2")).json()["blocks"])
    assert "No action needed: The policy is the whole change" in shown


async def test_act_refusals_change_nothing(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "log Review")
    await app_env.command("/decision", "new Open question")
    await app_env.command("/decision", "log Done = Yes <@U2>", user_id="U2")
    for text, user, expected in [
        ("act D-1 Do it", "U1", "D-1 is open, not decided"),
        ("act D-2 Do it", "U3", "or a workspace admin can change it"),
        ("act D-2", "U2", "The action is missing"),
        ("act D-2 none", "U2", "reason no action is needed is missing"),
        ("act D-2 A-9", "U2", "There is no A-9"),
        ("act D-9 Do it", "U2", "There is no D-9"),
    ]:
        body = (await app_env.command("/decision", text, user_id=user)).json()
        assert body["response_type"] == "ephemeral", text
        assert expected in body["text"], (text, body["text"])
    d = await decision(app_env, 2)
    assert [e.action for e in d.events] == ["created", "decided"] and d.no_action_at is None


async def test_outcome_in_the_meeting_that_decided_it_links_automatically(app_env: AppEnv) -> None:
    from bot.meetings.models import Outcome

    await app_env.command("/meeting", "start Launch review")
    await app_env.command("/decision", "log Launch date = March")
    await app_env.command("/outcome", "Tell sales <@U3>")
    await app_env.command("/outcome", "Sales were happy")  # a note, not an action
    d = await decision(app_env)
    assert d.meeting_id is not None and d.events[-1].action == "action_linked"
    async with app_env.deps.db.transaction() as session:
        rows = list(await session.scalars(select(Outcome).order_by(Outcome.id)))
    by_text = {o.text: o.decision_id for o in rows}
    assert by_text["Tell sales"] == d.id and by_text["Sales were happy"] is None
    # With two decided in the meeting, which one an action serves is the person's to say.
    await app_env.command("/decision", "log Venue = Berlin")
    await app_env.command("/outcome", "Book flights <@U3>")
    async with app_env.deps.db.transaction() as session:
        flights = await session.scalar(select(Outcome).where(Outcome.text == "Book flights"))
    assert flights is not None and flights.decision_id is None


# --- point 8 (in part): App Home ----------------------------------------------------------


async def test_app_home_lists_decisions_waiting_on_my_follow_through(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "log Review")
    await app_env.command("/decision", "log Launch date = March")
    await app_env.command("/decision", "log Venue = Berlin")
    await app_env.command("/decision", "log Theirs = Yes <@U2>")
    await app_env.command("/decision", "new Still open")
    await app_env.command("/decision", "act D-2 Book it")
    await app_env.interact(app_env.driver.open_home("U1"))
    home = str(app_env.fake.published_home["U1"]["blocks"])
    assert "Decisions waiting on your follow-through" in home
    follow = home.split("Decisions waiting on your follow-through")[1].split("'divider'")[0]
    assert "*D-1* Launch date · decided" in follow and "/decision act D-n" in follow
    assert "*D-2*" not in follow and "*D-3*" not in follow and "*D-4*" not in follow
    await app_env.command("/decision", "act D-1 none Just a date")
    await app_env.interact(app_env.driver.open_home("U1"))
    home = str(app_env.fake.published_home["U1"]["blocks"])
    assert "Every decision you own has its next steps" in home


async def test_add_action_button_on_a_decided_card_opens_the_modal(app_env: AppEnv) -> None:
    from tests.test_decisions_e2e import card_message

    await app_env.command("/meeting", "log Review")
    await app_env.command("/decision", "log Launch date = March <@U2>")
    assert "decision_add_action" in card_blocks(app_env)
    card = await card_message(app_env)
    refused = await app_env.interact(
        app_env.driver.press(
            "decision_add_action", user_id="U3", value="T1:D-1", channel_id="C1", message=card
        )
    )
    assert refused.status_code == 200 and app_env.fake.calls_to("views.open") == []
    await app_env.interact(
        app_env.driver.press(
            "decision_add_action", user_id="U2", value="T1:D-1", channel_id="C1", message=card
        )
    )
    view = await latest_view(app_env)
    assert view["callback_id"] == "decision_add_action"
    empty = await app_env.interact(
        app_env.driver.submit(
            view, {"outcome_text": {"type": "plain_text_input", "value": " "}}, user_id="U2"
        )
    )
    assert "say what needs doing" in empty.json()["errors"]["outcome_text"]
    await app_env.interact(
        app_env.driver.submit(
            view,
            {
                "outcome_text": {"type": "plain_text_input", "value": "Tell sales"},
                "owner": {"type": "users_select", "selected_user": "U3"},
                "due": {"type": "datepicker", "selected_date": "2026-12-20"},
            },
            user_id="U2",
        )
    )
    d = await decision(app_env)
    assert d.events[-1].action == "action_added"
    shown = str((await app_env.command("/decision", "show D-1")).json()["blocks"])
    assert "*A-1* Tell sales · <@U3>" in shown


async def test_a_decision_superseded_after_it_was_decided_still_counts_as_decided(
    db: object,
) -> None:
    from bot.db import Database
    from bot.decisions.models import DecisionStatus
    from tests.digest_support import add_decision, utc
    from tests.test_metrics import two_weeks

    assert isinstance(db, Database)
    async with db.transaction() as session:
        # Created Mon 16 Nov 09:00, decided Tue 17 Nov 09:00 (week 47), superseded since.
        d = await add_decision(session, created=utc(2026, 11, 16, 9), decided=utc(2026, 11, 17, 9))
        d.status = DecisionStatus.SUPERSEDED
        d.superseded_by = 99
        # Open, superseded before it was ever decided: never counted as decided.
        o = await add_decision(session, created=utc(2026, 11, 16, 10))
        o.status = DecisionStatus.SUPERSEDED
    w47, w48 = await two_weeks(db)
    assert (w47.decisions_opened, w47.decisions_decided) == (2, 1)
    assert w47.median_time_to_decision is not None
    assert w47.median_time_to_decision.total_seconds() == 24 * 3600
    assert w48.decisions_decided == 0
