"""What the web process sends on its own goes through the outbox: planned in the ledger before
the ack, delivered right after it through the worker's own path, the rest left to the worker.

So far (issue 12 point 1): `/hygiene digest`, new decisions' channel cards (tests/test_cards.py),
meeting summaries and outcome cards. Both engines, signed requests, the fake Slack.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.cadence.config import CadenceConfig
from bot.delivery.models import Delivery
from bot.meetings import service as meetings
from bot.worker import build_jobs
from bot.workspace import WorkspaceKey
from tests.conftest import AppEnv
from tests.test_stats_e2e import set_recipients


async def ledger_rows(env: AppEnv) -> list[Delivery]:
    async with env.deps.db.transaction() as session:
        return list((await session.scalars(select(Delivery).order_by(Delivery.id))).all())


def posts_of(env: AppEnv, row: Delivery) -> int:
    return sum(
        c.params.get("metadata", {}).get("event_payload") == {"delivery_id": str(row.id)}
        for c in env.fake.calls_to("chat.postMessage")
        if c.ok
    )


async def on_demand(env: AppEnv) -> Delivery:
    (row,) = [r for r in await ledger_rows(env) if r.subject == "on-demand"]
    return row


async def tick(env: AppEnv) -> None:
    jobs = build_jobs(env.settings, CadenceConfig(), env.deps.clock)
    try:
        await jobs.tick()
    finally:
        await jobs.close()


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_an_on_demand_digest_is_a_ledger_row_sent_once_by_the_web_process(
    app_env: AppEnv,
) -> None:
    app_env.fake.add_channel("CLEADS", name="leads")
    await set_recipients(app_env, ["CLEADS"])
    await app_env.command("/hygiene", "digest", user_id="UADMIN", channel_id="C1")
    (row,) = await ledger_rows(app_env)
    assert (row.kind, row.subject, row.recipient, row.status) == (
        "digest",
        "on-demand",
        "CLEADS",
        "sent",
    )
    ((channel, ts),) = app_env.fake.messages
    assert (row.message_channel_id, row.message_ts) == (channel, ts)
    # Carries its delivery's metadata like every outbox post.
    assert app_env.fake.messages[(channel, ts)].metadata == {
        "event_type": "followthrough_delivery",
        "event_payload": {"delivery_id": str(row.id)},
    }
    await tick(app_env)  # the worker finds nothing of it left to send
    assert posts_of(app_env, await on_demand(app_env)) == 1


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_an_on_demand_digest_slack_could_not_take_is_sent_by_the_worker_later(
    app_env: AppEnv,
) -> None:
    app_env.fake.add_channel("CLEADS", name="leads")
    await set_recipients(app_env, ["CLEADS"])
    app_env.fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0)
    app_env.fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0)
    app_env.fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0)
    await app_env.command("/hygiene", "digest", user_id="UADMIN", channel_id="C1")
    summary = app_env.fake.responses[-1].body["text"]
    assert "Slack did not take it for <#CLEADS> yet; I'll try again shortly." in summary
    row = await on_demand(app_env)
    assert row.status == "pending"
    app_env.deps.clock.set(row.due_at)  # type: ignore[attr-defined]
    await tick(app_env)
    row = await on_demand(app_env)
    assert row.status == "sent"
    assert posts_of(app_env, row) == 1


# --- meeting summaries and outcome cards (issue 12 point 1) ------------------------------------


async def rows_of(env: AppEnv, kind: str) -> list[Delivery]:
    return [r for r in await ledger_rows(env) if r.kind == kind]


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_a_meeting_summary_and_an_outcome_card_are_ledger_rows_sent_once(
    app_env: AppEnv,
) -> None:
    await app_env.command("/meeting", "start Retro")
    await app_env.command("/outcome", "Call Acme <@U1> by friday")
    await app_env.command("/meeting", "end")
    await app_env.settle()
    (card,) = await rows_of(app_env, "card:outcome")
    (summary,) = await rows_of(app_env, "summary:meeting")
    for row in (card, summary):
        assert (row.recipient, row.status, posts_of(app_env, row)) == ("C1", "sent", 1)
    async with app_env.deps.db.transaction() as session:
        meeting = await meetings.get_meeting(session, ws=WorkspaceKey("T1"), number=1)
    # Each message is remembered where it is, so Done and later outcomes update it.
    assert (meeting.message_channel_id, meeting.message_ts) == (
        summary.message_channel_id,
        summary.message_ts,
    )
    (outcome,) = meeting.outcomes
    assert (outcome.message_channel_id, outcome.message_ts) == (
        card.message_channel_id,
        card.message_ts,
    )
    await tick(app_env)
    assert posts_of(app_env, card) == posts_of(app_env, summary) == 1


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_a_summary_slack_could_not_take_is_sent_by_the_worker_later_once(
    app_env: AppEnv,
) -> None:
    await app_env.command("/meeting", "start Retro")
    for _ in range(3):
        app_env.fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0)
    await app_env.command("/meeting", "end")
    await app_env.settle()
    (summary,) = await rows_of(app_env, "summary:meeting")
    assert summary.status == "pending" and posts_of(app_env, summary) == 0
    app_env.deps.clock.set(summary.due_at)  # type: ignore[attr-defined]
    await tick(app_env)
    (summary,) = await rows_of(app_env, "summary:meeting")
    assert summary.status == "sent" and posts_of(app_env, summary) == 1
    await tick(app_env)
    assert posts_of(app_env, summary) == 1


# --- announcements of a change typed elsewhere (issue 12 point 1) ------------------------------


@pytest.mark.commits  # a second engine (the worker's own) reads what it wrote
async def test_a_change_typed_elsewhere_is_announced_through_the_outbox_once(
    app_env: AppEnv,
) -> None:
    app_env.fake.add_channel("C2", name="other")
    await app_env.command("/decision", "new Pick a vendor", channel_id="C1")
    for _ in range(3):
        app_env.fake.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=0)
    ack = await app_env.command("/decision", "decide D-1 Acme", channel_id="C2")
    assert ack.json()["response_type"] == "ephemeral"
    (told,) = await rows_of(app_env, "announce:decision")
    assert (told.subject, told.recipient, told.status) == ("D-1", "C1", "pending")
    assert "decided *D-1*" in told.payload["text"]
    app_env.deps.clock.set(told.due_at)  # type: ignore[attr-defined]
    await tick(app_env)
    (told,) = await rows_of(app_env, "announce:decision")
    assert told.status == "sent" and posts_of(app_env, told) == 1
    (post,) = [
        c.params
        for c in app_env.fake.calls_to("chat.postMessage")
        if c.ok
        and c.params.get("metadata", {}).get("event_payload") == {"delivery_id": str(told.id)}
    ]
    assert post["channel"] == "C1" and "decided *D-1*" in post["text"]
    await tick(app_env)
    assert posts_of(app_env, told) == 1
