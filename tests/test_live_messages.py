"""Every live message about an item is refreshed when it changes (issue 12 points 1 and 5).

A decision recorded by U2 for U1 has three messages by Monday: its card in #general, the "you
now own it" notice to U1 and U1's daily DM. Whichever surface decides, drops or hands it on (a
command typed in its channel, elsewhere or in a DM, a button, a modal), each of them is redrawn
through the outbox with no buttons for the old state, and the change is said in #general, never
where it was typed. The same for Done on an action item. Refreshes are ledger rows: one the web
process never sent is sent by the worker, and one whose message is gone settles.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.db import Database
from bot.decisions import service as decisions
from bot.delivery import live
from bot.delivery.models import Delivery
from bot.devtools.fake_slack import FakeSlack
from bot.slack import refreshes
from bot.worker import Jobs
from bot.workspace import Actor, WorkspaceKey
from tests.conftest import MONDAY, AppEnv
from tests.worker_support import wired_worker

WS = WorkspaceKey("T1")
WEEK_AGO = MONDAY - timedelta(days=8)
DECISION_BUTTONS = ("decision_decide", "decision_reassign", "decision_drop")


class Env(AppEnv):
    jobs: Jobs

    def at(self, moment: Any) -> None:
        self.deps.clock.set(moment)  # type: ignore[attr-defined]

    def posts_to(self, channel: str) -> list[str]:
        return [
            str(c.params.get("text"))
            for c in self.fake.calls_to("chat.postMessage")
            if c.ok and c.params["channel"] == channel
        ]

    def shown(self, where: tuple[str, str]) -> str:
        message = self.fake.messages[where]
        return str(message.blocks)

    def updated(self, where: tuple[str, str]) -> bool:
        return any(
            (c.params["channel"], c.params["ts"]) == where and c.ok
            for c in self.fake.calls_to("chat.update")
        )

    def as_message(self, where: tuple[str, str]) -> dict[str, Any]:
        m = self.fake.messages[where]
        return {"ts": where[1], "type": "message", "text": m.text, "blocks": m.blocks}


@pytest.fixture
async def env(
    db: Database, fake_slack: FakeSlack, clock: ManualClock, db_url: str
) -> AsyncIterator[Env]:
    async with wired_worker(db, fake_slack, clock, db_url, Env) as made:
        yield made


async def sent_rows(env: Env, subject: str) -> dict[str, tuple[str, str]]:
    """Kind → (channel, ts) of the messages the ledger sent about ``subject``."""
    async with env.deps.db.transaction() as session:
        rows = await session.scalars(
            select(Delivery).where(Delivery.subject == subject, Delivery.status == "sent")
        )
        return {
            r.kind: (str(r.message_channel_id), str(r.message_ts))
            for r in rows
            if r.kind != live.REFRESH_KIND and r.message_ts
        }


async def refresh_rows(env: Env) -> list[Delivery]:
    async with env.deps.db.transaction() as session:
        found = await session.scalars(
            select(Delivery).where(Delivery.kind == live.REFRESH_KIND).order_by(Delivery.id)
        )
        return list(found.all())


async def three_messages(env: Env) -> dict[str, tuple[str, str]]:
    """D-1, recorded by U2 for U1 a week ago: its card, U1's owner notice, U1's daily DM."""
    env.at(WEEK_AGO)
    await env.command("/decision", "new Pick a payroll vendor <@U1>", user_id="U2")
    env.at(MONDAY)
    await env.jobs.tick()
    messages = await sent_rows(env, "D-1")
    assert set(messages) == {"card:decision", "notice:owner:decision", "nudge:decision"}
    for where in messages.values():
        assert "decision:T1:D-1" in env.shown(where)
    assert messages["nudge:decision"][0] == "DU1"
    return messages


def no_buttons_for_d1(env: Env, where: tuple[str, str]) -> bool:
    """No Decide, Reassign or Drop (a decided card keeps "Add action")."""
    return not any(button in env.shown(where) for button in DECISION_BUTTONS)


def settled_everywhere(env: Env, messages: dict[str, tuple[str, str]], said: str) -> None:
    for kind, where in messages.items():
        assert env.updated(where), kind
        assert said in env.shown(where), kind
        assert no_buttons_for_d1(env, where), kind


# --- commands -----------------------------------------------------------------------------


async def test_decide_typed_in_its_channel_redraws_every_message(env: Env) -> None:
    messages = await three_messages(env)
    response = await env.command("/decision", "decide D-1 Acme", user_id="U1", channel_id="C1")
    # Typed in its own channel: the answer there is the announcement.
    assert response.json()["response_type"] == "in_channel"
    settled_everywhere(env, messages, "Acme")
    assert "decision_add_action" in env.shown(messages["card:decision"])
    assert not [t for t in env.posts_to("C1") if "decided" in t]


async def test_drop_typed_in_another_channel_is_told_in_its_own(env: Env) -> None:
    messages = await three_messages(env)
    response = await env.command("/decision", "drop D-1 no budget", user_id="U1", channel_id="C2")
    assert response.json()["response_type"] == "ephemeral"
    settled_everywhere(env, messages, "Dropped")
    assert [t for t in env.posts_to("C1") if "dropped *D-1*" in t]
    assert env.posts_to("C2") == []


async def test_reassign_typed_in_a_dm_redraws_the_former_owners_messages(env: Env) -> None:
    messages = await three_messages(env)
    env.fake.add_channel("DU1", name="dm")
    response = await env.command("/decision", "assign D-1 <@U3>", user_id="U1", channel_id="DU1")
    assert response.json()["response_type"] == "ephemeral"
    card = messages.pop("card:decision")
    # The card shows the new owner, with the buttons of an open decision.
    assert env.updated(card) and "<@U3>" in env.shown(card)
    assert "decision_decide" in env.shown(card)
    # U1's notice and daily DM say it is with U3 now, without its buttons.
    settled_everywhere(env, messages, "Now with <@U3>")
    assert [t for t in env.posts_to("C1") if "handed *D-1*" in t]
    assert not [t for t in env.posts_to("U1") + env.posts_to("DU1") if "handed" in t]


async def test_two_changes_at_the_same_moment_are_both_told_in_its_channel(env: Env) -> None:
    """The clock does not move between them (as in the sandbox): each change has its own
    announcement row, so the second is not taken for the first one planned again."""
    await three_messages(env)
    for text in ("assign D-1 <@U3>", "decide D-1 Acme"):
        response = await env.command("/decision", text, user_id="U2", channel_id="C2")
        assert response.json()["response_type"] == "ephemeral"
    told = env.posts_to("C1")
    assert [t for t in told if "handed *D-1*" in t]
    assert [t for t in told if "decided *D-1*" in t]
    assert env.posts_to("C2") == []


# --- buttons and modals --------------------------------------------------------------------


async def test_reassign_menu_in_the_daily_dm(env: Env) -> None:
    messages = await three_messages(env)
    daily = messages["nudge:decision"]
    await env.interact(
        env.driver.press(
            "decision_reassign",
            user_id="U1",
            selected_user="U3",
            block_id="decision:T1:D-1:nudge",
            channel_id="DU1",
            message=env.as_message(daily),
        )
    )
    assert "<@U3>" in env.shown(messages.pop("card:decision"))
    settled_everywhere(env, messages, "Now with <@U3>")
    # The channel hears of it; the person who chose hears it alone.
    assert [t for t in env.posts_to("C1") if "handed *D-1*" in t]
    assert any("now belongs to <@U3>" in str(r.body) for r in env.fake.responses)


async def test_decide_modal_from_the_owner_notice(env: Env) -> None:
    messages = await three_messages(env)
    notice = messages["notice:owner:decision"]
    await env.interact(
        env.driver.press(
            "decision_decide",
            user_id="U1",
            value="T1:D-1",
            channel_id="DU1",
            message=env.as_message(notice),
        )
    )
    view = env.fake.calls_to("views.open")[-1].params["view"]
    await env.interact(
        env.driver.submit(
            view, {"resolution": {"type": "plain_text_input", "value": "Acme"}}, user_id="U1"
        )
    )
    settled_everywhere(env, messages, "Acme")
    assert [t for t in env.posts_to("C1") if "decided *D-1*" in t]


async def test_drop_modal_from_the_channel_card(env: Env) -> None:
    messages = await three_messages(env)
    card = messages["card:decision"]
    await env.interact(
        env.driver.press(
            "decision_drop",
            user_id="U1",
            value="T1:D-1",
            channel_id="C1",
            message=env.as_message(card),
        )
    )
    view = env.fake.calls_to("views.open")[-1].params["view"]
    await env.interact(
        env.driver.submit(view, {"reason": {"type": "plain_text_input"}}, user_id="U1")
    )
    settled_everywhere(env, messages, "Dropped")


# --- action items -----------------------------------------------------------------------------


async def test_done_in_the_daily_dm_redraws_the_card_and_the_notice(env: Env) -> None:
    env.at(WEEK_AGO)
    await env.command("/meeting", "start Planning", user_id="U2")
    await env.command("/outcome", "Send the deck <@U1> by tomorrow", user_id="U2")
    env.at(MONDAY)
    await env.jobs.tick()
    card = (await sent_rows(env, "outcome:1"))["card:outcome"]
    reminders = await sent_rows(env, "A-1")
    assert set(reminders) == {"notice:owner:action", "nudge:action"}
    daily = reminders["nudge:action"]
    blocks = env.fake.messages[daily].blocks
    done = next(
        b for b in blocks if b["type"] == "actions" and b["block_id"].startswith("action:1:")
    )
    await env.interact(
        env.driver.press(
            "action_done",
            user_id="U1",
            value=done["elements"][0]["value"],
            block_id=done["block_id"],
            channel_id="DU1",
            message=env.as_message(daily),
        )
    )
    for where in (card, *reminders.values()):
        assert env.updated(where), where
        assert "action_done" not in env.shown(where), where


# --- the outbox -----------------------------------------------------------------------------


async def test_a_refresh_the_web_process_never_sent_is_sent_by_the_worker(env: Env) -> None:
    messages = await three_messages(env)
    # The change and its refreshes committed, then the web process stopped before sending.
    async with env.deps.db.transaction() as session:
        d = await decisions.decide(
            session, ws=WS, number=1, actor=Actor("U1"), resolution="Acme", now=MONDAY
        )
        planned = await refreshes.plan(session, ws=WS, subjects=[d.ref], now=MONDAY)
    assert len(planned) == 3
    assert not any(env.updated(where) for where in messages.values())
    await env.jobs.tick()
    settled_everywhere(env, messages, "Acme")
    assert {r.status for r in await refresh_rows(env)} == {"sent"}
    # A second change plans rows of its own (each change is refreshed once per message).
    async with env.deps.db.transaction() as session:
        again = await refreshes.plan(session, ws=WS, subjects=["D-1"], now=MONDAY)
    assert {r.period for r in again}.isdisjoint({r.period for r in planned})


async def test_a_refresh_of_a_message_that_is_gone_settles(env: Env) -> None:
    messages = await three_messages(env)
    del env.fake.messages[messages["card:decision"]]
    await env.command("/decision", "decide D-1 Acme", user_id="U1", channel_id="C1")
    rows = {r.payload["kind"]: r for r in await refresh_rows(env)}
    gone = rows["card:decision"]
    assert (gone.status, gone.attempts) == ("cancelled", 1)
    assert (gone.last_error or "").startswith("message gone: message_not_found")
    assert rows["notice:owner:decision"].status == "sent"
    await env.jobs.tick()  # nothing is left to retry
    assert len(env.fake.calls_to("chat.update")) == 3


# --- the re-litigation warning ------------------------------------------------------------


def the_repeat_button(env: Env, since: int, action_id: str) -> dict[str, Any]:
    """The ``action_id`` button of the warning respond() gave after ``since``."""
    for post in env.fake.responses[since:]:
        for block in post.body.get("blocks") or []:
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                if element.get("action_id") == action_id:
                    return dict(element)
    raise AssertionError("no re-litigation warning")


async def repeat_pressed(env: Env, action_id: str) -> dict[str, tuple[str, str]]:
    """D-1 logged with its card in #C1, D-2 recorded like it; ``action_id`` on the warning.
    Returns the cards (D-1's, D-2's) the ledger sent."""
    await env.command("/decision", "log Use Postgres for billing = Yes, Postgres 16")
    since = len(env.fake.responses)
    await env.command("/decision", "new Use Postgress for billing", channel_id="C1")
    button = the_repeat_button(env, since, action_id)
    cards = {ref: (await sent_rows(env, ref))["card:decision"] for ref in ("D-1", "D-2")}
    assert "decision_decide" not in env.shown(cards["D-1"])
    await env.interact(
        env.driver.press(action_id, user_id="U1", value=button["value"], channel_id="C1")
    )
    return cards


async def test_reopen_from_the_warning_redraws_the_old_card(env: Env) -> None:
    cards = await repeat_pressed(env, "repeat_reopen")
    assert env.updated(cards["D-1"])
    assert "decision_decide" in env.shown(cards["D-1"])
    assert {(r.status, r.subject) for r in await refresh_rows(env)} == {("sent", "D-1")}


async def test_supersede_from_the_warning_redraws_both_cards(env: Env) -> None:
    cards = await repeat_pressed(env, "repeat_supersede")
    assert env.updated(cards["D-1"]) and env.updated(cards["D-2"])
    assert "D-2" in env.shown(cards["D-1"])
    rows = await refresh_rows(env)
    assert sorted((r.status, r.subject) for r in rows) == [("sent", "D-1"), ("sent", "D-2")]


# --- a meeting's summary ------------------------------------------------------------------


async def test_an_outcome_added_after_the_meeting_ended_redraws_its_summary(env: Env) -> None:
    await env.command("/meeting", "start Planning", user_id="U2", channel_id="C1")
    await env.command("/meeting", "end", user_id="U2", channel_id="C1")
    summary = (await sent_rows(env, "M-1"))["summary:meeting"]
    assert "Send the deck" not in env.shown(summary)
    await env.command("/outcome", "M-1 Send the deck <@U1>", user_id="U2", channel_id="C1")
    assert env.updated(summary)
    assert "Send the deck" in env.shown(summary)
    assert {(r.status, r.subject) for r in await refresh_rows(env)} == {("sent", "M-1")}


# --- snooze -------------------------------------------------------------------------------


async def test_snooze_in_the_daily_dm_redraws_it_through_the_outbox(env: Env) -> None:
    messages = await three_messages(env)
    daily = messages["nudge:decision"]
    payload = env.driver.block_action_payload(
        action={
            "type": "static_select",
            "action_id": "decision_snooze",
            "block_id": "decision:T1:D-1:nudge",
            "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": "T1:D-1:3"},
        },
        user_id="U1",
        channel_id="DU1",
        message=env.as_message(daily),
    )
    await env.interact(env.driver.interact(payload))
    assert env.updated(daily)
    assert "Snoozed until" in env.shown(daily)
    assert "decision_snooze" not in env.shown(daily)
    rows = await refresh_rows(env)
    assert {r.status for r in rows} == {"sent"}
    assert daily in {live.refresh_target(r) for r in rows}


# --- review answers -----------------------------------------------------------------------


async def test_a_review_answer_redraws_the_card_through_the_outbox(env: Env) -> None:
    env.at(MONDAY)
    await env.command("/decision", "log Office = Keep it review today", user_id="U1")
    await env.jobs.tick()
    card = (await sent_rows(env, "D-1"))["card:decision"]
    asked = next(where for where, m in env.fake.messages.items() if "hold?" in str(m.text))
    question = env.as_message(asked)
    value = next(
        e["value"]
        for b in question["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "review_kept"
    )
    await env.interact(
        env.driver.press(
            "review_kept", user_id="U1", value=value, channel_id=asked[0], message=question
        )
    )
    assert env.updated(card)
    assert "Kept: it held" in env.shown(asked)
    rows = await refresh_rows(env)
    assert {(r.status, r.subject) for r in rows} == {("sent", "D-1")}
    assert card in {live.refresh_target(r) for r in rows}


# --- no action needed ---------------------------------------------------------------------


async def test_no_action_needed_redraws_the_card_through_the_outbox(env: Env) -> None:
    env.at(MONDAY)
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1", channel_id="C1")
    await env.command("/decision", "decide D-1 Acme", user_id="U1", channel_id="C1")
    await env.jobs.tick()
    card = (await sent_rows(env, "D-1"))["card:decision"]
    before = len(await refresh_rows(env))
    asked = next(
        where for where, m in env.fake.messages.items() if "What happens now?" in str(m.text)
    )
    await env.interact(
        env.driver.press(
            "decision_no_action",
            user_id="U1",
            value="T1:D-1",
            channel_id=asked[0],
            message=env.as_message(asked),
        )
    )
    view = env.fake.calls_to("views.open")[-1].params["view"]
    await env.interact(
        env.driver.submit(
            view, {"reason": {"type": "plain_text_input", "value": "Acme runs it"}}, user_id="U1"
        )
    )
    rows = (await refresh_rows(env))[before:]
    assert card in {live.refresh_target(r) for r in rows}
    assert {r.status for r in rows} == {"sent"}
    assert env.updated(card)
