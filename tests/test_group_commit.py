"""Group commit: concurrent new decisions stored together, each caller answered on its own."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import ManualClock
from bot.db import Database
from bot.decisions import service as decisions
from bot.decisions.models import Decision, DecisionEvent
from bot.group_commit import GroupCommit
from bot.meetings import service as meetings
from bot.meetings.models import Outcome
from bot.workspace import WorkspaceKey

T1 = WorkspaceKey("T1")
T2 = WorkspaceKey("T2")


def request(
    clock: ManualClock, title: str, *, ws: WorkspaceKey = T1, channel: str = "C1"
) -> decisions.NewDecision:
    return decisions.new_decision(
        ws=ws, title=title, owner_id="U1", creator_id="U1", channel_id=channel, now=clock.now()
    )


async def stored(db: Database, ws: WorkspaceKey = T1) -> list[tuple[int, str]]:
    async with db.transaction() as session:
        rows = await session.execute(
            select(Decision.number, Decision.title)
            .where(Decision.in_workspace(ws))
            .order_by(Decision.number)
        )
        return [(number, title) for number, title in rows]


async def test_concurrent_callers_share_one_transaction(db: Database, clock: ManualClock) -> None:
    groups: list[int] = []

    async def work(session: AsyncSession, items: Sequence[decisions.NewDecision]) -> list[Decision]:
        groups.append(len(items))
        return await decisions.create_decisions(session, items)

    group = GroupCommit(db, work)
    made = await asyncio.gather(*(group.run(request(clock, f"Item {i}")) for i in range(20)))

    assert groups == [20]
    assert [d.title for d in made] == [f"Item {i}" for i in range(20)]
    assert [d.number for d in made] == list(range(1, 21))
    assert await stored(db) == [(i + 1, f"Item {i}") for i in range(20)]


@pytest.mark.commits  # a second engine, like another process's, reads what it wrote
async def test_two_processes_grouping_at_once_never_share_a_number(
    db: Database, clock: ManualClock, db_url: str
) -> None:
    other_process = Database(db_url)  # its own engine and connections, like a second web process
    try:
        ours, theirs = (
            GroupCommit(db, decisions.create_decisions),
            GroupCommit(other_process, decisions.create_decisions),
        )
        made = await asyncio.gather(
            *(ours.run(request(clock, f"Ours {i}")) for i in range(15)),
            *(theirs.run(request(clock, f"Theirs {i}")) for i in range(15)),
        )
    finally:
        await other_process.dispose()
    assert sorted(d.number for d in made) == list(range(1, 31))
    assert [n for n, _ in await stored(db)] == list(range(1, 31))


async def test_a_lone_caller_is_stored_at_once(db: Database, clock: ManualClock) -> None:
    group = GroupCommit(db, decisions.create_decisions)
    first = await group.run(request(clock, "Alone"))
    second = await group.run(request(clock, "Alone again"))
    assert (first.number, second.number) == (1, 2)


async def test_callers_arriving_during_a_commit_form_the_next_group(
    db: Database, clock: ManualClock
) -> None:
    groups: list[list[str]] = []
    first_begun, release = asyncio.Event(), asyncio.Event()

    async def work(session: AsyncSession, items: Sequence[decisions.NewDecision]) -> list[Decision]:
        groups.append([item.title for item in items])
        if len(groups) == 1:
            first_begun.set()
            await release.wait()
        return await decisions.create_decisions(session, items)

    group = GroupCommit(db, work)
    first = asyncio.create_task(group.run(request(clock, "First")))
    await first_begun.wait()
    later = [asyncio.create_task(group.run(request(clock, f"Later {i}"))) for i in range(3)]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *later)
    assert groups == [["First"], ["Later 0", "Later 1", "Later 2"]]
    assert [n for n, _ in await stored(db)] == [1, 2, 3, 4]


async def test_one_bad_item_fails_alone_and_wastes_no_number(
    db: Database, clock: ManualClock
) -> None:
    group = GroupCommit(db, decisions.create_decisions)
    # Past the checks in new_decision on purpose: the database refuses a title of NULL.
    bad = decisions.NewDecision(
        ws=T1,
        title=None,
        owner_id="U1",
        creator_id="U1",
        channel_id="C1",
        now=clock.now(),
    )
    items = [request(clock, "Good 1"), bad, request(clock, "Good 2"), request(clock, "Good 3")]
    results = await asyncio.gather(*(group.run(item) for item in items), return_exceptions=True)

    assert isinstance(results[1], Exception)
    good = [r for i, r in enumerate(results) if i != 1]
    assert all(isinstance(r, Decision) for r in good)
    assert await stored(db) == [(1, "Good 1"), (2, "Good 2"), (3, "Good 3")]
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(DecisionEvent)) == 3


async def test_a_caller_that_goes_away_does_not_hold_up_the_others(
    db: Database, clock: ManualClock
) -> None:
    release = asyncio.Event()

    async def work(session: AsyncSession, items: Sequence[decisions.NewDecision]) -> list[Decision]:
        await release.wait()
        return await decisions.create_decisions(session, items)

    group = GroupCommit(db, work)
    leaving = asyncio.create_task(group.run(request(clock, "Leaves")))
    staying = asyncio.create_task(group.run(request(clock, "Stays")))
    await asyncio.sleep(0.01)
    leaving.cancel()
    release.set()
    assert (await staying).title == "Stays"
    with pytest.raises(asyncio.CancelledError):
        await leaving
    # The item was already in the shared transaction, so it is stored all the same.
    assert await stored(db) == [(1, "Leaves"), (2, "Stays")]


async def test_callers_are_answered_when_the_writer_is_cancelled(
    db: Database, clock: ManualClock
) -> None:
    started = asyncio.Event()

    async def work(session: AsyncSession, items: Sequence[decisions.NewDecision]) -> list[Decision]:
        started.set()
        await asyncio.Event().wait()  # never finishes on its own
        raise AssertionError("unreachable")

    group = GroupCommit(db, work)
    waiting = asyncio.create_task(group.run(request(clock, "Stuck")))
    await started.wait()
    writer = group._writer
    assert writer is not None
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await stored(db) == []


async def test_a_group_spans_workspaces_and_links_open_meetings(
    db: Database, clock: ManualClock
) -> None:
    async with db.transaction() as session:
        await meetings.start_meeting(
            session, ws=T1, title="Planning", organizer_id="U1", channel_id="C2", now=clock.now()
        )
        await decisions.create_decision(
            session,
            decisions.new_decision(
                ws=T2,
                title="Earlier",
                owner_id="U9",
                creator_id="U9",
                channel_id="C1",
                now=clock.now(),
            ),
        )
    items = [
        request(clock, "T1 in C1"),
        request(clock, "T2 in C1", ws=T2),
        request(clock, "T1 in the meeting", channel="C2"),
        request(clock, "T1 in C1 again"),
    ]
    async with db.transaction() as session:
        made = await decisions.create_decisions(session, items)

    assert [(d.team_id, d.number) for d in made] == [("T1", 1), ("T2", 2), ("T1", 2), ("T1", 3)]
    assert [d.meeting_id is not None for d in made] == [False, False, True, False]
    async with db.transaction() as session:
        outcomes = (await session.scalars(select(Outcome))).all()
    assert [(o.team_id, o.text, o.decision_id) for o in outcomes] == [
        ("T1", "T1 in the meeting", made[2].id)
    ]
    assert [e.action for d in made for e in d.events] == ["created"] * 4
