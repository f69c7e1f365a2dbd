"""A new decision's channel card is posted exactly once: by the web process, or by the worker."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock
from bot.db import Database
from bot.decisions import service as decisions
from bot.decisions.models import Decision
from bot.devtools.fake_slack import FakeSlack
from bot.settings import Settings
from bot.slack import cards
from bot.slack.client import NO_PAUSES, web_client
from bot.worker import build_jobs
from bot.workspace import WorkspaceKey
from tests.conftest import BOT_TOKEN, MONDAY, AppEnv, make_settings

WS = WorkspaceKey("T1")
ZONE = CadenceConfig().zone


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


async def tick_at(settings: Settings, moment: datetime) -> object:
    jobs = build_jobs(settings, CadenceConfig(), ManualClock(moment), pauses=NO_PAUSES)
    try:
        return (await jobs.tick()).steps["cards"]
    finally:
        await jobs.close()


async def decisions_in(db: Database) -> list[Decision]:
    async with db.transaction() as session:
        return list(await session.scalars(select(Decision).order_by(Decision.number)))


def card_posts(fake: FakeSlack) -> list[str]:
    return [str(c.params.get("text")) for c in fake.calls_to("chat.postMessage") if c.ok]


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_the_web_process_posts_the_card_and_the_worker_leaves_it(
    app_env: AppEnv, db_url: str
) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    (decision,) = await decisions_in(app_env.deps.db)
    assert decision.message_ts is not None and decision.card_due_at is None
    posted = await tick_at(make_settings(db_url, app_env.fake), MONDAY + timedelta(minutes=5))
    assert posted == 0
    assert len(card_posts(app_env.fake)) == 1


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_the_worker_posts_a_card_the_web_process_never_got_to(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    settings = make_settings(db_url, fake_slack)
    made = await recorded_but_not_posted(db)
    # Within the grace minute the card is still the web process's to post.
    assert await tick_at(settings, MONDAY + timedelta(seconds=30)) == 0
    assert card_posts(fake_slack) == []

    assert await tick_at(settings, MONDAY + timedelta(minutes=2)) == 1
    (post,) = fake_slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "C1" and "D-1" in str(post.params["blocks"])
    assert "decision_decide" in str(post.params["blocks"])  # with its buttons
    stored = await reload(db, made.id)
    assert stored.message_ts is not None and stored.card_due_at is None

    assert await tick_at(settings, MONDAY + timedelta(minutes=3)) == 0
    assert len(card_posts(fake_slack)) == 1


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_web_process_and_worker_racing_post_one_card(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    made = await recorded_but_not_posted(db)
    later = MONDAY + timedelta(minutes=2)
    client = web_client(make_settings(db_url, fake_slack), token=BOT_TOKEN, pauses=NO_PAUSES)
    results = await asyncio.gather(
        cards.post_card(client, db, made, now=later, zone=ZONE),
        cards.post_card(client, db, made, now=later, zone=ZONE),
        tick_at(make_settings(db_url, fake_slack), later),
    )
    assert [r for r in results if r] in ([True], [1])
    assert len(card_posts(fake_slack)) == 1


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_a_card_slack_could_not_take_is_tried_again_later(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    settings = make_settings(db_url, fake_slack)
    made = await recorded_but_not_posted(db)
    # The worker posts through the posting client, which never resends a 5xx itself.
    fake_slack.fail_next("chat.postMessage", status=503)
    first = MONDAY + timedelta(minutes=2)
    assert await tick_at(settings, first) == 0
    assert (await reload(db, made.id)).card_due_at == first + decisions.CARD_RETRY
    assert await tick_at(settings, first + timedelta(seconds=30)) == 0
    assert await tick_at(settings, first + decisions.CARD_RETRY) == 1
    assert len(card_posts(fake_slack)) == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 2


async def test_a_card_that_never_reached_slack_is_tried_again(
    db: Database, fake_slack: FakeSlack, db_url: str, unused_tcp_port: int
) -> None:
    made = await recorded_but_not_posted(db)
    nowhere = make_settings(
        db_url, fake_slack, slack_api_url=f"http://127.0.0.1:{unused_tcp_port}/"
    )
    client = web_client(nowhere, token=BOT_TOKEN, pauses=NO_PAUSES)
    now = MONDAY + timedelta(minutes=2)
    try:
        await cards.post_card(client, db, made, now=now, zone=ZONE)
    except Exception as exc:  # aiohttp's ClientConnectorError, after slack_sdk's retries
        assert "connect" in type(exc).__name__.lower()
    else:
        raise AssertionError("posting to a closed port succeeded")
    assert (await reload(db, made.id)).card_due_at == now + decisions.CARD_RETRY


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
    assert stored.card_due_at is None and stored.message_ts is None
    assert await tick_at(settings, MONDAY + timedelta(minutes=10)) == 0
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_a_card_a_day_late_is_given_up(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    made = await recorded_but_not_posted(db)
    assert await tick_at(make_settings(db_url, fake_slack), MONDAY + timedelta(days=2)) == 0
    assert fake_slack.calls_to("chat.postMessage") == []
    assert (await reload(db, made.id)).card_due_at is None


async def test_the_person_hears_when_the_app_may_not_post_a_new_decision(
    app_env: AppEnv,
) -> None:
    app_env.fake.add_channel("C9", name="closed", is_member=False)
    ack = await app_env.command("/decision", "new Quiet one", channel_id="C9")
    assert "D-1" in ack.json()["text"]
    (told,) = [r.body for r in app_env.fake.responses if "/invite" in str(r.body.get("text"))]
    assert told["response_type"] == "ephemeral" and "D-1" in told["text"]
    (stored,) = await decisions_in(app_env.deps.db)
    assert stored.card_due_at is None and stored.message_ts is None


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
