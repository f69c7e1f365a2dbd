"""Once Slack has answered ok, a row is never posted again; only recording "sent" is retried.

A database that refuses to record "sent" (once, or for longer than the sender keeps trying)
never turns into a second message: the recording is retried on its own, row by row, and a row
left leased is found by its message metadata when it is tried again. Both engines.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.clock import ManualClock
from bot.db import Database
from bot.delivery import ledger
from bot.devtools.fake_slack import FakeSlack
from bot.slack import sender as sender_module
from bot.workspaces import service as workspaces
from tests.test_sender import WEEK_AGO, WS, Rig, build_rig, new_decision


@pytest.fixture
async def rig(
    db: Database, clock: ManualClock, fake_slack: FakeSlack, db_url: str
) -> AsyncIterator[Rig]:
    async with db.transaction() as session:
        await workspaces.ensure_workspace(session, ws=WS, now=WEEK_AGO)
    made = build_rig(db, clock, fake_slack, db_url)
    yield made
    await made.clients.close()


def flaky_mark_sent(monkeypatch: pytest.MonkeyPatch, *, failures: int, only: str | None = None):
    """``ledger.mark_sent`` raising a database error ``failures`` times (for ``only``'s row)."""
    real = ledger.mark_sent
    left = {"n": failures}

    async def mark_sent(session: Any, **kwargs: Any) -> bool:
        row = kwargs["delivery"]
        if left["n"] > 0 and (only is None or row.recipient == only):
            left["n"] -= 1
            raise OperationalError("UPDATE deliveries", {}, Exception("database is locked"))
        return await real(session, **kwargs)

    monkeypatch.setattr(ledger, "mark_sent", mark_sent)
    return left


async def test_a_passing_database_error_while_recording_sent_gives_no_duplicate(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender_module, "RECORD_RETRY_DELAYS", (0.01, 0.01, 0.01))
    await new_decision(rig.db)
    flaky_mark_sent(monkeypatch, failures=2)
    report = await rig.tick()
    assert (report.sent.sent, report.sent.retried, report.sent.unrecorded) == (1, 0, 0)
    row = await rig.row()
    assert row.status == "sent" and row.attempts == 1
    rig.clock.advance(ledger.LEASE * 3)
    assert (await rig.send()).settled == 0
    assert len(rig.fake.calls_to("chat.postMessage")) == 1


async def test_one_rows_failure_to_record_never_fails_its_batch(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batching Settler used to fail every row of a batch together; now only the bad one."""
    monkeypatch.setattr(sender_module, "RECORD_RETRY_DELAYS", (0.01,))
    owners = ["UB1", "UB2", "UB3", "UB4"]
    for owner in owners:
        rig.fake.add_user(owner, name=owner.lower(), tz="Europe/Berlin")
        await new_decision(rig.db, owner=owner, title=f"For {owner}")
    flaky_mark_sent(monkeypatch, failures=100, only="UB2")
    report = await rig.tick()
    assert (report.sent.sent, report.sent.unrecorded, report.sent.retried) == (3, 1, 0)
    rows = {r.recipient: r for r in await rig.rows()}
    assert {k: r.status for k, r in rows.items()} == {
        "UB1": "sent",
        "UB2": "pending",  # posted, but not recorded: it stays leased, never given back
        "UB3": "sent",
        "UB4": "sent",
    }
    assert rows["UB2"].lease_owner == rig.sender.owner
    assert len(rig.fake.calls_to("chat.postMessage")) == 4


async def test_a_post_never_recorded_is_found_by_its_metadata_and_not_sent_again(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender_module, "RECORD_RETRY_DELAYS", (0.01,))
    await new_decision(rig.db)
    left = flaky_mark_sent(monkeypatch, failures=100)
    report = await rig.tick()
    assert (report.sent.sent, report.sent.unrecorded) == (0, 1)
    ((channel, ts),) = rig.fake.messages
    left["n"] = 0  # the database is back
    rig.clock.advance(ledger.LEASE)  # the lease runs out; another pass takes the row
    report_again = await rig.send()
    assert (report_again.sent, report_again.recovered) == (1, 1)
    assert len(rig.fake.calls_to("chat.postMessage")) == 1
    row = await rig.row()
    assert (row.status, row.message_channel_id, row.message_ts, row.attempts) == (
        "sent",
        channel,
        ts,
        2,
    )
