"""Owner and change notices end to end (issue 15 point 1): signed requests in, a worker tick,
DMs out of the fake Slack.

Someone else making you the owner of a decision or an action item, by any surface, gives you
one DM with the item's buttons; the person who recorded a decision (and whoever it was
escalated to) hears when it is decided, dropped or handed on. Nothing for your own changes.
Each notice waits for the recipient's working hours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.clock import ManualClock
from bot.db import Database
from bot.decisions.models import Decision
from bot.devtools.fake_slack import FakeSlack
from bot.workspaces.models import Workspace
from tests.conftest import MONDAY
from tests.notice_support import LONDON, Env, worker_env


@pytest.fixture
async def env(
    db: Database, fake_slack: FakeSlack, clock: ManualClock, db_url: str
) -> AsyncIterator[Env]:
    async with worker_env(db, fake_slack, clock, db_url) as made:
        yield made


async def card_message(env: Env, number: int = 1) -> dict[str, Any]:
    async with env.deps.db.transaction() as session:
        d = await session.scalar(select(Decision).where(Decision.number == number))
    assert d is not None and d.message_ts
    return {"ts": d.message_ts, "type": "message", "text": ""}


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


# --- each surface that makes someone owner: one DM to them, with the item's buttons ----------


async def by_command(env: Env) -> None:
    await env.command("/decision", f"new Pick a payroll vendor <@{LONDON}>", user_id="U1")


async def by_modal(env: Env) -> None:
    await env.command("/decision", "", user_id="U1")
    await env.interact(
        env.driver.submit(
            env.latest_view(),
            {
                "title": {"type": "plain_text_input", "value": "Pick a payroll vendor"},
                "owner": {"type": "users_select", "selected_user": LONDON},
            },
            user_id="U1",
        )
    )


async def by_shortcut(env: Env) -> None:
    message = {"ts": "1700000000.000200", "user": "U2", "text": "Pick a payroll vendor"}
    await env.interact(
        env.driver.message_shortcut(
            "record_decision", user_id="U1", channel_id="C1", message=message
        )
    )
    await env.interact(
        env.driver.submit(
            env.latest_view(),
            {
                "title": {"type": "plain_text_input", "value": "Pick a payroll vendor"},
                "owner": {"type": "users_select", "selected_user": LONDON},
            },
            user_id="U1",
        )
    )


async def by_assign(env: Env) -> None:
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    await env.command("/decision", f"assign D-1 <@{LONDON}>", user_id="U1")


async def by_reassign_menu(env: Env) -> None:
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    await env.interact(
        env.driver.press(
            "decision_reassign",
            user_id="U1",
            selected_user=LONDON,
            block_id="decision:T1:D-1:card",
            channel_id="C1",
            message=await card_message(env),
        )
    )


@pytest.mark.parametrize(
    "make_owner", [by_command, by_modal, by_shortcut, by_assign, by_reassign_menu]
)
async def test_each_way_of_making_someone_owner_sends_them_one_dm(
    env: Env, make_owner: Any
) -> None:
    await make_owner(env)
    report = await env.tick()
    (dm,) = env.dms(LONDON)
    assert "You now own D-1 Pick a payroll vendor" in dm["text"]
    assert "<@U1>" in str(dm["blocks"]) and "made you its owner" in str(dm["blocks"])
    assert action_ids(dm["blocks"]) == ["decision_decide", "decision_reassign", "decision_drop"]
    assert env.dms("U1") == []  # the creator did it: nothing for them
    assert report.sent.sent == 1
    # A second tick sends nothing more: one row per change.
    await env.tick()
    assert len(env.dms(LONDON)) == 1


async def test_making_yourself_owner_sends_nothing(env: Env) -> None:
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    await env.command("/decision", "new Hire a designer <@U1>", user_id="U1")
    await env.tick()
    assert await env.notices() == []
    await env.command("/decision", f"new Book the venue <@{LONDON}>", user_id="U1")
    await env.tick()
    assert len(env.dms(LONDON)) == 1
    # U1, who recorded D-3, takes it back: their own change, so nobody hears of it.
    await env.command("/decision", "assign D-3 <@U1>", user_id="U1")
    await env.tick()
    assert [(n.recipient, n.subject) for n in await env.notices()] == [(LONDON, "D-3")]
    assert env.dms("U1") == [] and len(env.dms(LONDON)) == 1


async def test_an_action_item_given_to_someone_else(env: Env) -> None:
    await env.command("/meeting", "start Launch review", user_id="U1")
    await env.command("/outcome", f"Send the deck <@{LONDON}> by friday", user_id="U1")
    await env.command("/outcome", "Book the room <@U1>", user_id="U1")  # their own
    await env.tick()
    (dm,) = env.dms(LONDON)
    assert "You now own A-1 Send the deck" in dm["text"]
    assert action_ids(dm["blocks"]) == ["action_done"]
    assert "Due Fri 27 Nov 2026" in str(dm["blocks"])
    assert env.dms("U1") == []
    # Done from the notice updates it in place.
    message = env.dm_message(LONDON)
    await env.interact(
        env.driver.press(
            "action_done", user_id=LONDON, value="T1:A-1", channel_id=f"D{LONDON}", message=message
        )
    )
    updated = [
        c.params for c in env.fake.calls_to("chat.update") if c.params["ts"] == message["ts"]
    ]
    assert updated and "action_done" not in str(updated[-1]["blocks"])


async def test_a_follow_through_action_given_to_someone_else(env: Env) -> None:
    await env.command("/meeting", "log Launch review", user_id="U1")
    await env.command("/decision", "log Launch date = March", user_id="U1")
    await env.command("/decision", f"act D-1 Tell sales <@{LONDON}>", user_id="U1")
    await env.tick()
    (dm,) = env.dms(LONDON)
    assert "You now own A-1 Tell sales" in dm["text"]


async def test_decide_pressed_on_the_notice_updates_it_in_place(env: Env) -> None:
    await by_command(env)
    await env.tick()
    message = env.dm_message(LONDON)
    await env.interact(
        env.driver.press(
            "decision_decide",
            user_id=LONDON,
            value="T1:D-1",
            channel_id=f"D{LONDON}",
            message=message,
        )
    )
    view = env.latest_view()
    assert view["callback_id"] == "decision_decide"
    await env.interact(
        env.driver.submit(
            view, {"resolution": {"type": "plain_text_input", "value": "Acme"}}, user_id=LONDON
        )
    )
    updated = [
        c.params for c in env.fake.calls_to("chat.update") if c.params["ts"] == message["ts"]
    ]
    assert updated and "Decided" in str(updated[-1]["blocks"])


# --- the creator (and whoever it was escalated to) hears of decide, drop, reassign -----------


async def test_the_creator_is_told_when_someone_else_decides(env: Env) -> None:
    await by_command(env)
    await env.command("/decision", "decide D-1 Acme, the cheapest", user_id=LONDON)
    await env.tick()
    (told,) = env.dms("U1")
    assert "D-1 Pick a payroll vendor was decided by <@UDEE4>" in told["text"]
    assert "Acme, the cheapest" in str(told["blocks"]) and "You recorded it" in str(told["blocks"])
    # UDEE4's owner notice is cancelled: the decision is no longer open, nothing left to do
    # (what they get is the follow-through question, issue 17, not a notice).
    assert [dm["text"] for dm in env.dms(LONDON)] == [
        "D-1 Pick a payroll vendor is decided. What happens now?"
    ]


async def test_the_creator_is_told_when_someone_else_drops(env: Env) -> None:
    await by_command(env)
    await env.tick()
    await env.command("/decision", "drop D-1 Vendor went bust", user_id=LONDON)
    await env.tick()
    (told,) = env.dms("U1")
    assert "was dropped by <@UDEE4>" in told["text"]
    assert "Vendor went bust" in str(told["blocks"])


async def test_the_creator_is_told_of_a_reassignment_and_the_new_owner_of_theirs(env: Env) -> None:
    await by_command(env)
    await env.tick()
    await env.command("/decision", "assign D-1 <@UEVE5>", user_id=LONDON)
    await env.tick()
    (told,) = env.dms("U1")
    assert "D-1 Pick a payroll vendor now belongs to <@UEVE5>" in told["text"]
    assert "<@UDEE4> handed it from" not in str(told["blocks"])  # UDEE4 handed on their own
    assert "<@UDEE4> handed it to <@UEVE5>" in str(told["blocks"])
    (owner,) = env.dms("UEVE5")
    assert "<@UDEE4> made you its owner" in str(owner["blocks"])
    assert len(env.dms(LONDON)) == 1  # their own notice only, not one about their own change


async def test_your_own_decide_or_drop_tells_nobody(env: Env) -> None:
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    await env.command("/decision", "new Hire a designer", user_id="U1")
    await env.command("/decision", "decide D-1 Acme", user_id="U1")
    await env.command("/decision", "drop D-2", user_id="U1")
    await env.tick()
    assert await env.notices() == []
    # Only the follow-through question (issue 17) reaches U1, about the decision they made.
    assert [dm["text"] for dm in env.dms("U1")] == [
        "D-1 Pick a payroll vendor is decided. What happens now?"
    ]


async def test_an_admin_deciding_tells_both_creator_and_owner_is_not_told_twice(env: Env) -> None:
    await by_command(env)  # U1 recorded it, UDEE4 owns it
    await env.command("/decision", "decide D-1 Acme", user_id="UADMIN")
    await env.tick()
    assert [n.recipient for n in await env.notices() if n.kind == "notice:decision"] == ["U1"]
    assert len(env.dms("U1")) == 1


async def test_whoever_it_was_escalated_to_is_told_too(env: Env) -> None:
    env.at(MONDAY - timedelta(days=8))
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    async with env.deps.db.transaction() as session:
        await session.execute(
            update(Workspace).values(overrides={"nudges": {"escalate_to": "UEVE5"}})
        )
    day = MONDAY
    while not env.dms("UEVE5"):
        env.at(day)
        await env.tick()
        day += timedelta(days=1)
        assert day < MONDAY + timedelta(days=21), "never escalated"
    await env.command("/decision", "decide D-1 Acme", user_id="U1")
    await env.tick()
    told = env.dms("UEVE5")[-1]
    assert "was decided by <@U1>" in told["text"]
    assert "It was escalated to you" in str(told["blocks"])
    assert [n.recipient for n in await env.notices()] == ["UEVE5"]  # U1 did it: not told


# --- working hours: held until the recipient's day starts ------------------------------------


async def test_a_notice_waits_for_the_recipients_working_hours(env: Env) -> None:
    await env.command("/decision", "new Pick a payroll vendor <@U2>", user_id="U1")
    await env.tick()  # 02:00 in Los Angeles
    assert env.dms("U2") == []
    (row,) = await env.notices()
    assert row.status == "pending"
    # 09:00 on Monday in Los Angeles is 17:00 UTC.
    assert row.due_at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    env.at(datetime(2026, 11, 23, 16, 59, tzinfo=UTC))
    await env.tick()
    assert env.dms("U2") == []
    env.at(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))
    await env.tick()
    (dm,) = env.dms("U2")
    assert "You now own D-1" in dm["text"]


async def test_a_held_notice_is_dropped_when_it_is_no_longer_true(env: Env) -> None:
    await env.command("/decision", "new Pick a payroll vendor <@U2>", user_id="U1")
    await env.tick()  # held: night in Los Angeles
    await env.command("/decision", f"assign D-1 <@{LONDON}>", user_id="U1")
    env.at(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))
    await env.tick()
    assert env.dms("U2") == []  # no longer theirs by the time their day starts
    assert len(env.dms(LONDON)) == 1
    statuses = {n.recipient: n.status for n in await env.notices()}
    assert statuses == {"U2": "cancelled", LONDON: "sent"}


async def test_a_failed_change_leaves_no_notice(env: Env) -> None:
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    await env.command("/decision", "assign D-1 <@UDEE4>", user_id="U3")  # not theirs to change
    await env.command("/decision", "assign D-9 <@UDEE4>", user_id="U1")  # no such decision
    await env.tick()
    assert await env.notices() == []
    assert env.dms(LONDON) == []


async def test_a_notice_about_a_group_dm_item_names_no_conversation(env: Env) -> None:
    """Privacy: an item of a group DM reads "a direct message" in its notice, never its id."""
    env.fake.add_group_dm("CMP1", ["U1", LONDON])
    await env.command(
        "/decision", f"new Offer for dana <@{LONDON}>", user_id="U1", channel_id="CMP1"
    )
    await env.tick()
    (dm,) = env.dms(LONDON)
    shown = str(dm["blocks"]) + dm["text"]
    assert "from a direct message" in shown and "CMP1" not in shown
