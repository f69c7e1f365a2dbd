"""Issue #21 point 8: no send sleeps past its delivery lease, and leases are kept while sending.

A Retry-After the worker's client would sleep out is capped (``MAX_RETRY_AFTER``); a longer one
reschedules the row for the moment Slack named. While a row is being delivered its lease is
renewed, so a slow post never lets a second sender claim the same row and post it again; a
renewal that finds the row taken stops it before it is posted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlalchemy import update

from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock
from bot.db import Database
from bot.decisions.cards import CARD_KIND
from bot.delivery import ledger
from bot.delivery.models import Delivery
from bot.delivery.pacing import Pacer, Pacing
from bot.devtools.fake_slack import FakeSlack
from bot.nudges.planner import plan_nudges
from bot.settings import Settings
from bot.slack.client import (
    MAX_RETRY_AFTER,
    NO_PAUSES,
    SLACK_PAUSES,
    WORKER_TIMEOUT,
    CappedRateLimitRetryHandler,
    RetryPauses,
    fact_client,
    pauses_of,
    retry_after_seconds,
    web_client,
)
from bot.slack.compose import ComposeContext, Composed, Composers, default_composers
from bot.slack.sender import SEND_MARGIN, Sender
from bot.workspaces import service as workspaces
from tests.conftest import BOT_TOKEN, MONDAY
from tests.test_sender import WEEK_AGO, WS, Rig, build_rig, new_decision

LONG = int(MAX_RETRY_AFTER) + 31


@pytest.fixture
async def rig(
    db: Database, clock: ManualClock, fake_slack: FakeSlack, db_url: str
) -> AsyncIterator[Rig]:
    async with db.transaction() as session:
        await workspaces.ensure_workspace(session, ws=WS, now=WEEK_AGO)
    made = build_rig(db, clock, fake_slack, db_url)
    made.sender.renew_every = 0.1
    yield made
    await made.clients.close()


def second_sender(rig: Rig) -> Sender:
    return Sender(
        db=rig.db,
        clock=rig.clock,
        clients=rig.clients,
        composers=default_composers(),
        cadence=CadenceConfig(),
        pacing=Pacing(channel_interval=0.0),
        owner="the-other-sender",
    )


# --- Retry-After is capped ------------------------------------------------------------------------


def test_the_worst_post_fits_in_the_margin_a_post_starts_with() -> None:
    # Two capped sleeps (slack_sdk adds up to a second each) and three timed-out attempts.
    assert SEND_MARGIN.total_seconds() > 2 * (MAX_RETRY_AFTER + 1) + 3 * WORKER_TIMEOUT
    assert ledger.LEASE > SEND_MARGIN


async def test_the_posting_client_sleeps_out_only_capped_retry_afters(rig: Rig) -> None:
    for client in (
        rig.clients._client(BOT_TOKEN, for_posting=True),
        rig.clients._client(BOT_TOKEN, for_posting=False),
    ):
        limits = [
            h for h in client.retry_handlers if isinstance(h, AsyncRateLimitErrorRetryHandler)
        ]
        assert [type(h) for h in limits] == [CappedRateLimitRetryHandler]
        assert limits[0].max_wait == MAX_RETRY_AFTER


@pytest.mark.parametrize(
    ("headers", "status", "retried"),
    [
        ({"Retry-After": ["1"]}, 429, True),
        ({"retry-after": [str(int(MAX_RETRY_AFTER))]}, 429, True),
        ({"Retry-After": [str(LONG)]}, 429, False),
        ({"Retry-After": ["1.5"]}, 429, False),  # slack_sdk would fail on int("1.5")
        ({"Retry-After": ["soon"]}, 429, False),
        ({}, 429, True),
        ({"Retry-After": ["1"]}, 500, False),
    ],
)
async def test_the_capped_handler_decides_from_the_header(
    headers: dict[str, list[str]], status: int, retried: bool
) -> None:
    handler = CappedRateLimitRetryHandler()
    response = HttpResponse(status_code=status, headers=headers, data=b"{}")
    request = HttpRequest(method="POST", url="https://slack.test/api/chat.postMessage", headers={})
    assert (
        await handler._can_retry_async(state=RetryState(), request=request, response=response)
        is retried
    )


def test_retry_after_is_read_in_any_case_and_shape() -> None:
    assert retry_after_seconds({"Retry-After": ["7"]}) == 7.0
    assert retry_after_seconds({"retry-after": "2.5"}) == 2.5
    assert retry_after_seconds({"Retry-After": ["-3"]}) is None
    assert retry_after_seconds({"Retry-After": []}) is None
    assert retry_after_seconds(None) is None


async def test_a_long_retry_after_reschedules_the_row_instead_of_sleeping(rig: Rig) -> None:
    await new_decision(rig.db)
    rig.fake.fail_next("chat.postMessage", retry_after=LONG)
    report = await rig.tick()
    assert (report.sent.sent, report.sent.retried) == (0, 1)
    # The client did not wait and ask again: one request, and the row waits for Slack's moment.
    assert [c.error for c in rig.fake.calls_to("chat.postMessage")] == ["ratelimited"]
    row = await rig.row()
    assert (row.status, row.last_error, row.lease_owner) == ("pending", "ratelimited", None)
    assert row.due_at == MONDAY + timedelta(seconds=LONG)
    rig.clock.set(row.due_at - timedelta(seconds=1))
    assert (await rig.send()).sent == 0
    rig.clock.set(row.due_at)
    rig.sender.pacer = Pacer(Pacing(channel_interval=0.0))  # forget the hold, as time passed
    assert (await rig.send()).sent == 1
    assert len(rig.fake.messages) == 1


async def test_a_composers_rate_limited_read_reschedules_for_retry_after(
    db: Database, clock: ManualClock, fake_slack: FakeSlack, db_url: str
) -> None:
    async def reads_first(ctx: ComposeContext, delivery: Delivery) -> Composed:
        await ctx.client.users_info(user=delivery.recipient)
        return None

    composers = Composers()
    composers.register("reads", reads_first)
    async with db.transaction() as session:
        await ledger.plan(
            session, rows=[ledger.Planned(WS, "reads", "x", "U1", "p", MONDAY)], now=MONDAY
        )
    rig = build_rig(db, clock, fake_slack, db_url, composers=composers)
    try:
        fake_slack.fail_next("users.info", retry_after=LONG)
        assert (await rig.send()).retried == 1
        row = await rig.row()
        assert row.last_error == "ratelimited while composing"
        assert row.due_at == MONDAY + timedelta(seconds=LONG)
        assert len(fake_slack.calls_to("users.info")) == 1
    finally:
        await rig.clients.close()


# --- leases are kept while sending ----------------------------------------------------------------


async def wait_for(predicate: Callable[[], Awaitable[bool]]) -> None:
    async with asyncio.timeout(5):
        while not await predicate():  # noqa: ASYNC110 - the state is in the database
            await asyncio.sleep(0.02)


@pytest.mark.commits  # its transactions race each other on their own connections
async def test_a_slow_post_keeps_its_lease_so_no_one_else_sends_it(rig: Rig) -> None:
    await new_decision(rig.db)
    await plan_nudges(rig.db, base=CadenceConfig(), now=MONDAY, zone_of=rig.jobs.zone_of)
    rig.fake.slow("chat.postMessage", 1.5)
    sending = asyncio.create_task(rig.send())

    async def posting() -> bool:
        return bool(rig.fake.calls_to("chat.postMessage"))

    await wait_for(posting)
    # Time passes beyond the lease the row was claimed with, while Slack still has the post.
    rig.clock.advance(ledger.LEASE - timedelta(minutes=1))
    await asyncio.sleep(0.3)  # a few renewals
    rig.clock.advance(timedelta(minutes=2))
    row = await rig.row()
    assert row.lease_owner == rig.sender.owner
    assert row.lease_expires_at is not None and row.lease_expires_at > rig.clock.now()
    other = second_sender(rig)
    assert (await other.send_due()).sent == 0
    assert (await sending).sent == 1
    assert len(rig.fake.calls_to("chat.postMessage")) == 1
    assert len(rig.fake.messages) == 1
    assert (await rig.row()).status == "sent"


@pytest.mark.commits  # its transactions race each other on their own connections
async def test_a_row_taken_over_while_waiting_its_turn_is_not_posted(rig: Rig) -> None:
    await new_decision(rig.db)
    await plan_nudges(rig.db, base=CadenceConfig(), now=MONDAY, zone_of=rig.jobs.zone_of)
    planned = await rig.row()
    rig.sender.pacer = Pacer(Pacing(channel_interval=30.0))
    rig.sender.pacer.take(WS, planned.recipient)  # its conversation just had a message
    sending = asyncio.create_task(rig.send())

    async def leased() -> bool:
        return (await rig.row()).lease_owner == rig.sender.owner

    await wait_for(leased)
    # As if our lease had run out and another sender had claimed the row.
    async with rig.db.transaction() as session:
        await session.execute(
            update(Delivery).where(Delivery.id == planned.id).values(lease_owner="the-thief")
        )
    report = await asyncio.wait_for(sending, timeout=5)
    assert report.sent == 0
    assert rig.fake.calls_to("chat.postMessage") == []
    row = await rig.row()
    assert (row.status, row.lease_owner) == ("pending", "the-thief")


async def test_renewing_a_lease_that_is_not_ours_changes_nothing(rig: Rig) -> None:
    await new_decision(rig.db)
    await plan_nudges(rig.db, base=CadenceConfig(), now=MONDAY, zone_of=rig.jobs.zone_of)
    async with rig.db.transaction() as session:
        claimed = await ledger.claim(session, now=MONDAY, owner="a", limit=10)
    # The decision's channel card is claimed beside the daily DM: the DM's row is the one here.
    (row,) = [r for r in claimed if r.kind != CARD_KIND]
    later = MONDAY + timedelta(minutes=3)
    async with rig.db.transaction() as session:
        assert (
            await ledger.renew_lease(
                session, delivery=row, owner="b", now=later, lease=ledger.LEASE
            )
            is None
        )
        assert (
            await ledger.renew_lease(
                session, delivery=row, owner="a", now=later, lease=ledger.LEASE
            )
            == later + ledger.LEASE
        )
    assert (await rig.row()).lease_expires_at == later + ledger.LEASE


def test_a_sender_refuses_renewals_too_rare_for_its_lease(rig: Rig) -> None:
    with pytest.raises(ValueError, match="renewed more often"):
        Sender(
            db=rig.db,
            clock=rig.clock,
            clients=rig.clients,
            composers=default_composers(),
            cadence=CadenceConfig(),
            renew_every=(ledger.LEASE - SEND_MARGIN).total_seconds(),
        )


def test_production_pauses_are_slack_sdks_and_the_tests_pause_for_nothing_but_retry_after() -> None:
    sdk = BackoffRetryIntervalCalculator()  # slack_sdk's default: 0.5 · 2ⁿ plus up to 1 s
    for attempt in range(3):
        base = sdk.backoff_factor * 2**attempt
        assert base <= SLACK_PAUSES.calculate_sleep_duration(attempt) < base + 1
        assert NO_PAUSES.calculate_sleep_duration(attempt) == 0
    assert 5 <= SLACK_PAUSES.after_rate_limit(5) < 6  # Retry-After + random(), as slack_sdk
    assert 1 <= SLACK_PAUSES.after_rate_limit(None) < 2
    assert (NO_PAUSES.after_rate_limit(5), NO_PAUSES.after_rate_limit(None)) == (5, 1)


def test_every_client_carries_the_pauses_it_was_built_with() -> None:
    settings = Settings(_env_file=None, slack_api_url="http://127.0.0.1:9/api/")  # type: ignore[call-arg]
    worker = web_client(settings, token="xoxb-1", pauses=NO_PAUSES)
    assert {type(h.interval_calculator) for h in worker.retry_handlers} == {RetryPauses}
    assert all(h.interval_calculator is NO_PAUSES for h in worker.retry_handlers)
    assert pauses_of(worker) is NO_PAUSES
    assert pauses_of(fact_client(worker)) is NO_PAUSES
    assert pauses_of(web_client(settings, token="xoxb-1")) is SLACK_PAUSES
