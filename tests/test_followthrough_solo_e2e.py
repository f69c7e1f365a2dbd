"""Follow-through actions of a decision whose channel never had a meeting (issue 17's gap).

A decision's action item (``A-<n>``) used to be stored as an outcome of a meeting in the
decision's channel, so "Add action" and ``/decision act`` failed where no meeting was ever held.
Now such an action has no meeting and lives in its decision's conversation. Everything goes
through signed requests, the worker's tick and the fake Slack, on both engines.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from bot.meetings.models import Meeting, Outcome
from tests import test_nudges_e2e
from tests.test_followthrough_e2e import at
from tests.test_nudges_e2e import Env, decision

env = test_nudges_e2e.env  # the worker's fixture: the app, the tick and the fake Slack


async def the_action(env: Env, number: int = 1) -> Outcome:
    async with env.deps.db.transaction() as session:
        found = await session.scalar(select(Outcome).where(Outcome.number == number))
    assert found is not None
    return found


async def meetings_held(env: Env) -> int:
    async with env.deps.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Meeting)) or 0)


async def decided_in(env: Env, channel: str, user: str = "U1") -> None:
    await env.command("/decision", "new Pick a payroll vendor", user_id=user, channel_id=channel)
    await env.command("/decision", "decide D-1 Acme", user_id=user, channel_id=channel)


def posts_in(env: Env, channel: str) -> list[dict[str, Any]]:
    return [
        c.params
        for c in env.fake.calls_to("chat.postMessage")
        if c.ok and c.params["channel"] == channel
    ]


def home_of(env: Env, user: str) -> str:
    return str(env.fake.published_home[user]["blocks"])


async def test_act_in_a_channel_with_no_meeting_makes_an_action_of_the_decision(env: Env) -> None:
    await decided_in(env, "C2")
    said = await env.command(
        "/decision", "act D-1 Sign the contract <@U2> by friday", user_id="U1", channel_id="C2"
    )
    text = said.json()["text"]
    assert text == (
        "<@U1> added *A-1* Sign the contract (owner <@U2>, due Fri 27 Nov 2026) to follow "
        "through on *D-1* Pick a payroll vendor."
    )
    a, d = await the_action(env), await decision(env)
    assert (a.meeting_id, a.decision_id, a.owner_id, a.due_date) == (
        None,
        d.id,
        "U2",
        date(2026, 11, 27),
    )
    assert await meetings_held(env) == 0  # no meeting was made up for it
    # Its card is in the decision's channel, says what it follows through on, and has Done.
    (card,) = [p for p in posts_in(env, "C2") if p["text"].startswith("A-1")]
    shown = str(card["blocks"])
    assert "Follow-through on *D-1* · Pick a payroll vendor" in shown
    assert "action_done" in shown
    assert a.message_channel_id == "C2"
    assert env.fake.messages[("C2", a.message_ts)].text == card["text"]
    detail = str((await env.command("/decision", "show D-1", channel_id="C2")).json()["blocks"])
    assert "• *A-1* Sign the contract · <@U2> · Fri 27 Nov 2026" in detail


async def test_a_second_action_is_numbered_on_and_a_meeting_running_gets_it(env: Env) -> None:
    await decided_in(env, "C2")
    await env.command("/decision", "act D-1 Sign the contract", channel_id="C2")
    await env.command("/meeting", "start Vendor sync", channel_id="C2")
    await env.command("/decision", "act D-1 Tell payroll", channel_id="C2")
    first, second = await the_action(env, 1), await the_action(env, 2)
    assert first.meeting_id is None
    # While a meeting runs in the channel, an action added there is one of its outcomes.
    assert second.meeting_id is not None and second.decision_id == first.decision_id
    summary = await env.command("/meeting", "show M-1", channel_id="C2")
    assert "Tell payroll" in str(summary.json()) and "Sign the contract" not in str(summary.json())


async def test_an_ended_meeting_elsewhere_in_time_is_not_credited(env: Env) -> None:
    """An old meeting in the channel no longer receives the decision's actions: it would count
    as a meeting with an outcome that it never produced."""
    await env.command("/meeting", "log Unrelated retro", channel_id="C2")
    await decided_in(env, "C2")
    await env.command("/decision", "act D-1 Sign the contract", channel_id="C2")
    assert (await the_action(env)).meeting_id is None
    shown = str((await env.command("/meeting", "show M-1", channel_id="C2")).json())
    assert "Sign the contract" not in shown


async def test_the_add_action_modal_on_the_card_works_with_no_meeting(env: Env) -> None:
    await decided_in(env, "C2")
    d = await decision(env)
    card = {"ts": d.message_ts, "type": "message", "text": ""}
    await env.interact(
        env.driver.press(
            "decision_add_action", user_id="U1", value="T1:D-1", channel_id="C2", message=card
        )
    )
    view = env.fake.calls_to("views.open")[-1].params["view"]
    assert view["callback_id"] == "decision_add_action"
    # A wrong input changes nothing and says what is wrong.
    response = await env.interact(
        env.driver.submit(
            view,
            {
                "outcome_text": {"type": "plain_text_input", "value": "  "},
                "due": {"type": "datepicker", "selected_date": "2026-11-01"},
            },
            user_id="U1",
        )
    )
    errors = response.json()["errors"]
    assert errors == {
        "outcome_text": "Please say what needs doing.",
        "due": "That date is in the past. Pick today or later.",
    }
    response = await env.interact(
        env.driver.submit(
            view,
            {
                "outcome_text": {"type": "plain_text_input", "value": "Sign the contract"},
                "owner": {"type": "users_select", "selected_user": "U2"},
                "due": {"type": "datepicker", "selected_date": "2026-11-27"},
            },
            user_id="U1",
        )
    )
    assert response.status_code == 200 and not response.content
    a = await the_action(env)
    assert (a.meeting_id, a.owner_id, a.due_date) == (None, "U2", date(2026, 11, 27))
    assert await meetings_held(env) == 0
    assert [e.action for e in (await decision(env)).events][-1] == "action_added"


async def test_the_owner_sees_it_is_reminded_marks_it_done_and_it_counts(env: Env) -> None:
    """Decided Mon 23 Nov 10:00 UTC, A-1 due Fri 27 Nov; done Mon 30 Nov 17:00 UTC."""
    await decided_in(env, "C2")
    await env.command("/decision", "act D-1 Sign the contract <@U2> by friday", channel_id="C2")
    await env.tick()  # U2's "you now own A-1" notice (09:00 in Los Angeles is 17:00 UTC)
    # App Home: U2's open action items name the decision it follows through on.
    await env.interact(env.driver.open_home("U2"))
    assert "*A-1*" in home_of(env, "U2")
    assert "_Follow-through on *D-1* · Pick a payroll vendor_" in home_of(env, "U2")
    # Overdue from Sat 28 Nov; the reminder comes in U2's working hours on Monday.
    at(env, datetime(2026, 11, 30, 17, tzinfo=UTC))
    await env.tick()
    message = env.reminder("U2")  # the owner's daily DM
    assert message["text"] == "1 thing is waiting for you today: A-1 Sign the contract"
    assert "It was due Fri 27 Nov 2026." in str(message["blocks"])
    assert "_From D-1 in <#C2> · First reminder_" in str(message["blocks"])
    # It counts as overdue, in its decision's channel.
    stats = await env.answer("/hygiene", "stats week so far", user_id="U2", channel_id="C2")
    assert stats["text"].endswith("nothing stalled; 1 overdue action.")
    assert "• <#C2>: 1 overdue action" in str(stats["blocks"])
    done = next(
        e
        for b in message["blocks"]
        if b["type"] == "actions" and b["block_id"].startswith("action:")
        for e in b["elements"]
        if e["action_id"] == "action_done"
    )
    await env.interact(
        env.driver.press(
            "action_done", user_id="U2", value=done["value"], channel_id="DU2", message=message
        )
    )
    a = await the_action(env)
    assert (a.done_at, a.done_by) == (datetime(2026, 11, 30, 17, tzinfo=UTC), "U2")
    # Its card in #design now shows it done, without the button.
    (card_update,) = [
        c.params for c in env.fake.calls_to("chat.update") if c.params["ts"] == a.message_ts
    ]
    assert card_update["text"].endswith("(done)")
    assert "action_done" not in str(card_update["blocks"])
    # Decision to done: 23 Nov 10:00 to 30 Nov 17:00 UTC is 175 hours, this week (asked
    # an hour later: the period is half-open, so its end is not in it).
    at(env, datetime(2026, 11, 30, 18, tzinfo=UTC))
    stats = await env.answer("/hygiene", "stats week so far", user_id="U2", channel_id="C2")
    shown = str(stats["blocks"])
    assert "Decision to done: median 7.3 days (1 decision)" in shown  # 175 hours
    assert "• <#C2>: 1 decision done, median 7.3 days" in shown
    assert stats["text"].endswith("nothing stalled; no overdue actions.")
    # Done again is refused and changes nothing.
    said = await env.answer("/outcome", "done A-1", user_id="U2", channel_id="C2")
    assert "A-1 is already done (marked by <@U2>)." in str(said)


async def test_outcome_done_by_command_and_the_export(env: Env) -> None:
    await decided_in(env, "C2")
    await env.command("/decision", "act D-1 Sign the contract", channel_id="C2")
    said = await env.answer("/outcome", "done A-1", user_id="U1", channel_id="C1")
    assert "A-1" in str(said) and "done" in str(said)
    assert (await the_action(env)).done_at is not None
    await env.command("/hygiene", "export", user_id="UADMIN", channel_id="C1")
    (file,) = [f for f in env.fake.files.values() if "outcomes" in f.name]
    rows = list(csv.DictReader(io.StringIO(file.content.decode("utf-8-sig"))))
    (row,) = rows
    assert (row["Meeting"], row["Meeting title"], row["Action"], row["Decision"]) == (
        "",
        "",
        "A-1",
        "D-1",
    )
    assert row["Channel"] == "#design (C2)"


async def test_a_private_decisions_action_stays_with_its_members(env: Env) -> None:
    env.fake.add_channel("G2", name="vault", is_private=True, members=["U1", "U3"])
    await decided_in(env, "G2")
    await env.command("/decision", "act D-1 Rotate the keys by friday", channel_id="G2")
    assert (await the_action(env)).meeting_id is None
    # A member who neither owns nor recorded it sees it, and is refused only for the change.
    shown = str((await env.command("/decision", "show D-1", user_id="U3", channel_id="C1")).json())
    assert "Rotate the keys" in shown
    said = str(await env.answer("/outcome", "done A-1", user_id="U3", channel_id="C1"))
    assert "or a workspace admin can change it" in said
    # Someone outside the channel gets the same answer as for a number never used.
    for user in ("U2", "UADMIN"):
        said = str(await env.answer("/outcome", "done A-1", user_id=user, channel_id="C1"))
        assert "There is no A-1 in this workspace." in said, user
        assert "Rotate" not in said
    assert (await the_action(env)).done_at is None
    # Nor is it in an export or in the numbers of someone outside it.
    await env.command("/hygiene", "export", user_id="UADMIN", channel_id="C1")
    (file,) = [f for f in env.fake.files.values() if "outcomes" in f.name]
    assert "Rotate the keys" not in file.content.decode("utf-8-sig")
    at(env, datetime(2026, 11, 30, 17, tzinfo=UTC))
    outside = await env.answer("/hygiene", "stats", user_id="U2", channel_id="C1")
    inside = await env.answer("/hygiene", "stats", user_id="U3", channel_id="G2")
    assert outside["text"].endswith("nothing stalled; no overdue actions."), outside["text"]
    assert inside["text"].endswith("nothing stalled; 1 overdue action."), inside["text"]
