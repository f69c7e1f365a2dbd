"""What the web process sends on its own goes through the outbox: planned in the ledger before
the ack, delivered right after it through the worker's own path, the rest left to the worker.

So far: `/hygiene digest` (issue 12 point 1). Both engines, signed requests, the fake Slack.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.cadence.config import CadenceConfig
from bot.delivery.models import Delivery
from bot.worker import build_jobs
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
