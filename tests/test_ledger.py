"""The deliveries ledger: idempotent planning, leased claims, and how each row is settled."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import StatementError

from bot.db import Database
from bot.delivery import ledger
from bot.delivery.models import Delivery, DeliveryStatus
from bot.workspace import WorkspaceKey
from tests.conftest import MONDAY

WS = WorkspaceKey("T1")
OTHER = WorkspaceKey("T2", enterprise_id="E1")


def planned(
    subject: str = "D-1",
    recipient: str = "U1",
    period: str = "p1",
    *,
    ws: WorkspaceKey = WS,
    due: timedelta = timedelta(0),
) -> ledger.Planned:
    return ledger.Planned(
        ws=ws,
        kind="nudge:decision",
        subject=subject,
        recipient=recipient,
        period=period,
        due_at=MONDAY + due,
        payload={"number": 1},
    )


async def plan(db: Database, *rows: ledger.Planned) -> int:
    async with db.transaction() as session:
        return await ledger.plan(session, rows=list(rows), now=MONDAY)


async def claim(db: Database, *, at: timedelta = timedelta(0), owner: str = "w1", **kw: object):
    async with db.transaction() as session:
        return await ledger.claim(session, now=MONDAY + at, owner=owner, limit=100, **kw)  # type: ignore[arg-type]


async def row(db: Database, delivery_id: int) -> Delivery:
    async with db.transaction() as session:
        found = await session.get(Delivery, delivery_id)
    assert found is not None
    return found


async def test_planning_twice_inserts_once(db: Database) -> None:
    assert await plan(db, planned(), planned(period="p2")) == 2
    assert await plan(db, planned(), planned(period="p2"), planned(period="p3")) == 1
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 3


async def test_the_key_includes_workspace_kind_subject_recipient_and_period(db: Database) -> None:
    assert await plan(db, planned()) == 1
    variants = [
        planned(ws=OTHER),
        planned(subject="D-2"),
        planned(recipient="U2"),
        planned(period="p9"),
        ledger.Planned(WS, "escalation:decision", "D-1", "U1", "p1", MONDAY),
    ]
    assert await plan(db, *variants) == len(variants)


@pytest.mark.commits  # its transactions race each other on their own connections
async def test_concurrent_planners_insert_each_key_once(db: Database) -> None:
    rows = [planned(subject=f"D-{i}") for i in range(50)]
    counts = await asyncio.gather(*(plan(db, *rows) for _ in range(4)))
    assert sum(counts) == 50


async def test_existing_keys_are_per_workspace(db: Database) -> None:
    await plan(db, planned(), planned(ws=OTHER, period="other"))
    async with db.transaction() as session:
        keys = await ledger.existing_keys(
            session, ws=WS, kinds={"nudge:decision"}, subjects={"D-1"}
        )
    assert keys == {("nudge:decision", "D-1", "U1", "p1")}


async def test_only_due_rows_are_claimed_and_a_lease_keeps_others_off(db: Database) -> None:
    await plan(db, planned(), planned(subject="D-2", recipient="U2", due=timedelta(hours=1)))
    first = await claim(db, owner="w1")
    assert [d.subject for d in first] == ["D-1"]
    assert first[0].lease_owner == "w1" and first[0].attempts == 1
    assert first[0].lease_expires_at == MONDAY + ledger.LEASE
    assert await claim(db, owner="w2", at=timedelta(minutes=1)) == []
    # The lease runs out: another sender may take the row (and sees the earlier attempt).
    again = await claim(db, owner="w2", at=ledger.LEASE + timedelta(minutes=61))
    assert sorted(d.subject for d in again) == ["D-1", "D-2"]
    assert {d.subject: d.attempts for d in again} == {"D-1": 2, "D-2": 1}


async def test_one_row_per_conversation_and_none_while_one_is_in_flight(db: Database) -> None:
    # Longest waiting conversations first; within one, the order rows were planned in.
    await plan(
        db,
        planned("D-1", "U1", due=timedelta(seconds=1)),
        planned("D-2", "U1"),
        planned("D-3", "U1", due=timedelta(seconds=2)),
        planned("D-1", "U1", ws=OTHER),
        planned("D-4", "U2"),
    )
    first = await claim(db, at=timedelta(seconds=5))
    # The first planned row of each conversation; U1 of the other workspace is another person.
    assert sorted((d.team_id, d.subject) for d in first) == [
        ("T1", "D-1"),
        ("T1", "D-4"),
        ("T2", "D-1"),
    ]
    assert await claim(db, at=timedelta(seconds=6)) == []
    d1 = next(d for d in first if (d.team_id, d.subject) == ("T1", "D-1"))
    async with db.transaction() as session:
        await ledger.mark_sent(session, delivery=d1, channel_id="DU1", ts="1.1", now=MONDAY)
    assert [d.subject for d in await claim(db, at=timedelta(seconds=7))] == ["D-2"]


async def test_busy_workspaces_are_left_for_later(db: Database) -> None:
    await plan(db, planned(), planned(ws=OTHER))
    claimed = await claim(db, busy=[WS])
    assert [(d.team_id, d.enterprise_id) for d in claimed] == [("T2", "E1")]


async def test_mark_sent_records_the_message(db: Database) -> None:
    await plan(db, planned())
    (d,) = await claim(db)
    async with db.transaction() as session:
        assert await ledger.mark_sent(session, delivery=d, channel_id="DU1", ts="17.5", now=MONDAY)
        assert not await ledger.mark_sent(
            session, delivery=d, channel_id="DU1", ts="18.0", now=MONDAY
        )
    stored = await row(db, d.id)
    assert (stored.status, stored.message_channel_id, stored.message_ts) == ("sent", "DU1", "17.5")
    assert stored.sent_at == MONDAY and stored.lease_owner is None
    assert await claim(db, at=timedelta(days=1)) == []


async def test_failed_and_cancelled_rows_are_never_claimed_again(db: Database) -> None:
    await plan(db, planned("D-1", "U1"), planned("D-2", "U2"))
    one, two = await claim(db)
    async with db.transaction() as session:
        assert await ledger.mark_failed(
            session, delivery=one, owner="w1", error="token_revoked", now=MONDAY
        )
        assert await ledger.mark_cancelled(
            session, delivery=two, owner="w1", reason="no longer needed", now=MONDAY
        )
    assert (await row(db, one.id)).status == DeliveryStatus.FAILED
    assert (await row(db, one.id)).last_error == "token_revoked"
    assert (await row(db, two.id)).status == DeliveryStatus.CANCELLED
    assert await claim(db, at=timedelta(days=2)) == []


async def test_a_sender_whose_lease_was_taken_over_cannot_settle(db: Database) -> None:
    await plan(db, planned())
    (mine,) = await claim(db, owner="slow")
    await claim(db, owner="fast", at=ledger.LEASE + timedelta(seconds=1))
    async with db.transaction() as session:
        assert not await ledger.mark_failed(
            session, delivery=mine, owner="slow", error="x", now=MONDAY
        )
        assert not await ledger.release_for_retry(
            session, delivery=mine, owner="slow", error="x", now=MONDAY
        )
    stored = await row(db, mine.id)
    assert (stored.status, stored.lease_owner) == ("pending", "fast")


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [ledger.backoff(n).total_seconds() for n in range(1, 9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
    ]
    assert ledger.backoff(40) == timedelta(hours=1)


async def test_release_for_retry_backs_off_and_gives_up_after_max_attempts(db: Database) -> None:
    await plan(db, planned())
    at = timedelta(0)
    for attempt in range(1, ledger.MAX_ATTEMPTS):
        (d,) = await claim(db, at=at)
        assert d.attempts == attempt
        async with db.transaction() as session:
            assert await ledger.release_for_retry(
                session, delivery=d, owner="w1", error="fatal_error", now=MONDAY + at
            )
        stored = await row(db, d.id)
        assert stored.due_at == MONDAY + at + ledger.backoff(attempt)
        assert stored.lease_owner is None and stored.last_error == "fatal_error"
        assert await claim(db, at=at) == []
        at = stored.due_at - MONDAY
    (last,) = await claim(db, at=at)
    async with db.transaction() as session:
        assert not await ledger.release_for_retry(
            session, delivery=last, owner="w1", error="fatal_error", now=MONDAY + at
        )
    stored = await row(db, last.id)
    assert stored.status == "failed"
    assert stored.last_error == f"gave up after {ledger.MAX_ATTEMPTS} attempts: fatal_error"


async def test_retry_after_from_slack_wins_over_a_shorter_backoff(db: Database) -> None:
    await plan(db, planned())
    (d,) = await claim(db)
    async with db.transaction() as session:
        await ledger.release_for_retry(
            session,
            delivery=d,
            owner="w1",
            error="ratelimited",
            now=MONDAY,
            not_before=MONDAY + timedelta(minutes=5),
        )
    assert (await row(db, d.id)).due_at == MONDAY + timedelta(minutes=5)


async def test_give_back_does_not_count_an_attempt(db: Database) -> None:
    await plan(db, planned())
    (d,) = await claim(db)
    later = MONDAY + timedelta(hours=8)
    async with db.transaction() as session:
        assert await ledger.give_back(
            session, delivery=d, owner="w1", now=MONDAY, until=later, reason="outside hours"
        )
    stored = await row(db, d.id)
    assert (stored.attempts, stored.due_at, stored.lease_owner) == (0, later, None)
    assert stored.last_error == "outside hours"


@pytest.mark.commits  # its transactions race each other on their own connections
@pytest.mark.parametrize("claimers", [4])
async def test_concurrent_claimers_never_share_a_row(db: Database, claimers: int) -> None:
    await plan(db, *(planned(f"D-{i}", f"U{i}") for i in range(60)))

    async def one(owner: str) -> list[int]:
        async with db.transaction() as session:
            rows = await ledger.claim(session, now=MONDAY, owner=owner, limit=20)
        return [r.id for r in rows]

    results = await asyncio.gather(*(one(f"w{i}") for i in range(claimers)))
    claimed = [i for ids in results for i in ids]
    assert len(claimed) == len(set(claimed)) == 60


async def test_a_status_is_its_enum_member_stored_as_the_same_plain_string(db: Database) -> None:
    assert await plan(db, planned()) == 1
    async with db.transaction() as session:
        stored = await session.scalar(text("SELECT status FROM deliveries"))
        loaded = await session.scalar(select(Delivery))
    assert stored == "pending"
    assert loaded is not None and loaded.status is DeliveryStatus.PENDING
    with pytest.raises(StatementError, match="bogus"):
        async with db.transaction() as session:
            await session.execute(update(Delivery).values(status="bogus"))
    assert (await row(db, loaded.id)).status is DeliveryStatus.PENDING
