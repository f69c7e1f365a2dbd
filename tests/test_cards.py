"""A new decision's channel card is a ledger row planned with the decision and sent once: by the
web process right after the ack, or by the worker when that process did not get to it.

(Before issue 12 the card was claimed through ``decisions.card_due_at`` and then posted, so a
card whose post was cut short was lost: at most once. These tests now assert exactly once.)
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock
from bot.db import Database
from bot.decisions import cards as decision_cards
from bot.decisions import service as decisions
from bot.decisions.models import Decision
from bot.delivery import ledger
from bot.delivery.models import Delivery
from bot.devtools.fake_slack import FakeSlack
from bot.settings import Settings
from bot.slack.client import NO_PAUSES
from bot.slack.compose import default_composers
from bot.slack.sender import Sender, SlackClients, static_token
from bot.worker import build_jobs
from bot.workspace import WorkspaceKey
from tests.conftest import BOT_TOKEN, MONDAY, AppEnv, make_settings

WS = WorkspaceKey("T1")


async def recorded_but_not_posted(db: Database, title: str = "Pick a vendor") -> Decision:
    """As if the web process stopped between the commit and the card."""
    async with db.transaction() as session:
        return await decisions.create_decision(
            session,
            decisions.new_decision(
                ws=WS, title=title, owner_id="U2", creator_id="U1", channel_id="C1", now=MONDAY
            ),
        )


async def reload(db: Database, decision_id: int) -> Decision:
    async with db.transaction() as session:
        found = await session.get(Decision, decision_id)
        assert found is not None
        return found


async def card_row(db: Database) -> Delivery:
    async with db.transaction() as session:
        (row,) = (
            await session.scalars(select(Delivery).where(Delivery.kind == decision_cards.CARD_KIND))
        ).all()
        return row


async def tick_at(settings: Settings, moment: datetime) -> int:
    """One worker pass at ``moment``; how many messages it sent."""
    jobs = build_jobs(settings, CadenceConfig(), ManualClock(moment), pauses=NO_PAUSES)
    try:
        return (await jobs.tick()).sent.sent
    finally:
        await jobs.close()


async def decisions_in(db: Database) -> list[Decision]:
    async with db.transaction() as session:
        return list(await session.scalars(select(Decision).order_by(Decision.number)))


def card_posts(fake: FakeSlack) -> list[str]:
    return [str(c.params.get("text")) for c in fake.calls_to("chat.postMessage") if c.ok]


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_the_web_process_sends_the_card_and_the_worker_leaves_it(
    app_env: AppEnv, db_url: str
) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    (decision,) = await decisions_in(app_env.deps.db)
    row = await card_row(app_env.deps.db)
    assert (row.subject, row.recipient, row.status) == ("D-1", "C1", "sent")
    # The card's ts is kept on the decision (buttons, refreshes) and on its row.
    assert decision.message_ts is not None
    assert (decision.message_channel_id, decision.message_ts) == (
        row.message_channel_id,
        row.message_ts,
    )
    assert app_env.fake.messages[(row.message_channel_id, row.message_ts)].metadata == {
        "event_type": "followthrough_delivery",
        "event_payload": {"delivery_id": str(row.id)},
    }
    sent = await tick_at(make_settings(db_url, app_env.fake), MONDAY + timedelta(minutes=5))
    assert sent == 0
    assert len(card_posts(app_env.fake)) == 1


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_the_worker_sends_a_card_the_web_process_never_got_to(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    settings = make_settings(db_url, fake_slack)
    made = await recorded_but_not_posted(db)
    assert (await card_row(db)).status == "pending"  # planned with the decision
    assert await tick_at(settings, MONDAY + timedelta(seconds=30)) == 1
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "C1" and "D-1" in str(post.params["blocks"])
    assert "decision_decide" in str(post.params["blocks"])  # with its buttons
    stored = await reload(db, made.id)
    row = await card_row(db)
    assert row.status == "sent"
    assert (stored.message_channel_id, stored.message_ts) == (
        row.message_channel_id,
        row.message_ts,
    )

    assert await tick_at(settings, MONDAY + timedelta(minutes=3)) == 0
    assert len(card_posts(fake_slack)) == 1


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_web_process_and_worker_racing_send_one_card(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    made = await recorded_but_not_posted(db)
    later = MONDAY + timedelta(seconds=2)
    settings = make_settings(db_url, fake_slack)
    outboxes = [
        Sender(
            db=db,
            clock=ManualClock(later),
            clients=SlackClients(settings, static_token(BOT_TOKEN), pauses=NO_PAUSES),
            composers=default_composers(),
            cadence=CadenceConfig(),
        )
        for _ in range(2)
    ]
    try:
        await asyncio.gather(
            *(o.deliver_planned(WS, [decision_cards.card_row(made)]) for o in outboxes),
            tick_at(settings, later),
        )
    finally:
        for outbox in outboxes:
            await outbox.clients.close()
    assert len(card_posts(fake_slack)) == 1
    assert (await card_row(db)).status == "sent"


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_a_card_slack_could_not_take_is_sent_again_later_once(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    settings = make_settings(db_url, fake_slack)
    made = await recorded_but_not_posted(db)
    # The worker posts through the posting client, which never resends a 5xx itself.
    fake_slack.fail_next("chat.postMessage", status=503)
    first = MONDAY + timedelta(minutes=2)
    assert await tick_at(settings, first) == 0
    row = await card_row(db)
    assert row.status == "pending" and row.due_at == first + ledger.backoff(1)
    assert await tick_at(settings, first + timedelta(seconds=10)) == 0
    # The outcome of a 503 is unknown: the history is searched first, then the card is posted.
    assert await tick_at(settings, row.due_at) == 1
    assert len(card_posts(fake_slack)) == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    assert fake_slack.calls_to("conversations.history")
    assert (await reload(db, made.id)).message_ts is not None


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_a_card_whose_answer_was_lost_is_found_and_not_sent_again(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    settings = make_settings(db_url, fake_slack)
    made = await recorded_but_not_posted(db)
    fake_slack.fail_next("chat.postMessage", status=500, after_accepting=True)
    assert await tick_at(settings, MONDAY) == 0
    assert len(fake_slack.messages) == 1  # Slack has it; the app does not know
    row = await card_row(db)
    assert await tick_at(settings, row.due_at) == 1
    ((channel, ts),) = fake_slack.messages
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    stored = await reload(db, made.id)
    assert (stored.message_channel_id, stored.message_ts) == (channel, ts)


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_no_card_where_the_app_may_not_post_and_no_retry(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    fake_slack.add_channel("C9", name="closed", is_member=False)
    async with db.transaction() as session:
        made = await decisions.create_decision(
            session,
            decisions.new_decision(
                ws=WS,
                title="Quiet one",
                owner_id="U1",
                creator_id="U1",
                channel_id="C9",
                now=MONDAY,
            ),
        )
    settings = make_settings(db_url, fake_slack)
    assert await tick_at(settings, MONDAY + timedelta(minutes=2)) == 0
    stored = await reload(db, made.id)
    assert stored.message_ts is None
    assert (await card_row(db)).status == "failed"
    assert await tick_at(settings, MONDAY + timedelta(minutes=10)) == 0
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_a_card_a_day_late_is_given_up(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    await recorded_but_not_posted(db)
    assert await tick_at(make_settings(db_url, fake_slack), MONDAY + timedelta(days=2)) == 0
    assert fake_slack.calls_to("chat.postMessage") == []
    assert (await card_row(db)).status == "cancelled"


async def test_the_person_hears_when_the_app_may_not_post_a_new_decision(
    app_env: AppEnv,
) -> None:
    app_env.fake.add_channel("C9", name="closed", is_member=False)
    ack = await app_env.command("/decision", "new Quiet one", channel_id="C9")
    assert "D-1" in ack.json()["text"]
    (told,) = [r.body for r in app_env.fake.responses if "/invite" in str(r.body.get("text"))]
    assert told["response_type"] == "ephemeral" and "D-1" in told["text"]
    (stored,) = await decisions_in(app_env.deps.db)
    assert stored.message_ts is None
    assert (await card_row(app_env.deps.db)).status == "failed"


async def test_the_modal_tells_the_person_too(app_env: AppEnv) -> None:
    app_env.fake.add_channel("C9", name="closed", is_member=False)
    await app_env.command("/decision", "", channel_id="C9")
    view = app_env.fake.calls_to("views.open")[-1].params["view"]
    title = {"title": {"type": "plain_text_input", "value": "Quiet one"}}
    await app_env.interact(app_env.driver.submit(view, title, user_id="U1"))
    notes = [
        str(call.params.get("text"))
        for method in ("chat.postEphemeral", "chat.postMessage")
        for call in app_env.fake.calls_to(method)
        if call.ok
    ]
    assert any("D-1 is recorded" in note and "/invite" in note for note in notes), notes
