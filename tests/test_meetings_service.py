"""The rules of meetings and outcomes, on both engines, without Slack in the way."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.db import Database
from bot.decisions import service as decisions
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound, UserError
from bot.meetings import service
from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.slack.wording import words_for
from bot.visibility import Visibility
from bot.workspace import Actor, WorkspaceKey

WS = WorkspaceKey("T1")
OTHER = WorkspaceKey("T2")
ORGANIZER = Actor("U1")
ADMIN = Actor("UADMIN", is_admin=True)


@contextmanager
def refused(kind: type[UserError], *, match: str) -> Iterator[None]:
    """``pytest.raises(kind, match=...)`` on the words a person reads: a domain error carries
    a code and its facts, and bot/slack/wording.py words it."""
    with pytest.raises(kind) as caught:
        yield
    said = words_for(caught.value)
    assert re.search(match, said), said


async def start(
    db: Database,
    clock: ManualClock,
    title: str = "Planning",
    *,
    channel: str = "C1",
    ws: WorkspaceKey = WS,
) -> Meeting:
    async with db.transaction() as session:
        return await service.start_meeting(
            session, ws=ws, title=title, organizer_id="U1", channel_id=channel, now=clock.now()
        )


async def end(db: Database, clock: ManualClock, channel: str = "C1") -> Meeting:
    async with db.transaction() as session:
        return await service.end_meeting(session, ws=WS, channel_id=channel, now=clock.now())


async def add(
    db: Database,
    clock: ManualClock,
    number: int,
    text: str,
    *,
    owner: str | None = None,
    due: date | None = None,
    creator: str = "U1",
    ws: WorkspaceKey = WS,
) -> Outcome:
    async with db.transaction() as session:
        meeting = await service.get_meeting(session, ws=ws, number=number)
        return await service.add_outcome(
            session,
            ws=ws,
            meeting=meeting,
            draft=service.OutcomeDraft(text=text, owner_id=owner, due_date=due),
            creator_id=creator,
            now=clock.now(),
        )


async def count(db: Database, model: type) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def meeting(db: Database, number: int, ws: WorkspaceKey = WS) -> Meeting:
    async with db.transaction() as session:
        return await service.get_meeting(session, ws=ws, number=number)


async def test_one_open_meeting_per_channel(db: Database, clock: ManualClock) -> None:
    first = await start(db, clock)
    assert first.ref == "M-1" and first.ended_at is None
    with refused(Conflict, match=r"M-1\* is still open"):
        await start(db, clock, "Another")
    assert await count(db, Meeting) == 1
    elsewhere = await start(db, clock, "Design review", channel="C2")
    assert elsewhere.ref == "M-2"
    # The refused start gave its number back: numbers are never skipped or reused.
    await end(db, clock)
    assert (await start(db, clock, "Next")).ref == "M-3"


async def test_a_lost_race_is_the_same_friendly_conflict(
    db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await start(db, clock)
    real = service._open_meeting
    calls = 0

    async def blind_first_look(*args: object, **kwargs: object) -> Meeting | None:
        # The pre-check misses the open meeting, as it would when another start commits
        # between the check and the insert; the unique index must then catch it.
        nonlocal calls
        calls += 1
        return None if calls == 1 else await real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_open_meeting", blind_first_look)
    with refused(Conflict, match=r"M-1\* is still open"):
        await start(db, clock, "Racer")
    assert await count(db, Meeting) == 1


@pytest.mark.commits  # its transactions race each other on their own connections
async def test_concurrent_starts_let_exactly_one_win(db: Database, clock: ManualClock) -> None:
    results = await asyncio.gather(
        *(start(db, clock, f"Racer {i}") for i in range(6)), return_exceptions=True
    )
    winners = [r for r in results if isinstance(r, Meeting)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, Meeting))
    assert await count(db, Meeting) == 1


async def test_end_needs_an_open_meeting(db: Database, clock: ManualClock) -> None:
    with refused(Conflict, match="No meeting is open"):
        await end(db, clock)
    await start(db, clock)
    clock.advance(timedelta(minutes=45))
    ended = await end(db, clock)
    assert ended.ended_at == clock.now()
    with refused(Conflict, match="No meeting is open"):
        await end(db, clock)


async def test_titles_are_checked(db: Database, clock: ManualClock) -> None:
    with refused(InvalidInput, match="200"):
        await start(db, clock, "x" * 201)
    with refused(InvalidInput, match="empty"):
        await start(db, clock, "   ")
    assert await count(db, Meeting) == 0


async def test_logged_meetings_end_at_once_and_owe_outcomes(
    db: Database, clock: ManualClock
) -> None:
    async with db.transaction() as session:
        logged = await service.log_meeting(
            session, ws=WS, title="Retro", organizer_id="U1", channel_id="C1", now=clock.now()
        )
    assert logged.started_at == logged.ended_at == clock.now()
    async with db.transaction() as session:
        owed = await service.meetings_owing_outcomes(
            session,
            ws=WS,
            organizer_id="U1",
            visible=Visibility(reader="U9", channels=frozenset({"C1", "G1"})),
        )
        assert ([m.ref for m in owed.items], owed.total) == (["M-1"], 1)
        none = await service.meetings_owing_outcomes(
            session,
            ws=WS,
            organizer_id="U2",
            visible=Visibility(reader="U9", channels=frozenset({"C1", "G1"})),
        )
        assert (none.items, none.total) == ([], 0)
        free = await session.scalars(select(Meeting.number).where(service.outcome_free_clause()))
        assert list(free) == [1]
    # Logging does not collide with an open meeting in the same channel.
    await start(db, clock)
    async with db.transaction() as session:
        await service.log_meeting(
            session, ws=WS, title="Also", organizer_id="U1", channel_id="C1", now=clock.now()
        )
    assert await count(db, Meeting) == 3


async def test_outcome_kinds_and_action_numbers(db: Database, clock: ManualClock) -> None:
    await start(db, clock)
    note = await add(db, clock, 1, "We agreed the scope")
    assert (note.kind, note.number, note.ref, note.owner_id) == (OutcomeKind.NOTE, None, None, None)
    owned = await add(db, clock, 1, "Ship the beta", owner="U2")
    assert (owned.kind, owned.ref, owned.owner_id) == (OutcomeKind.ACTION, "A-1", "U2")
    dated = await add(db, clock, 1, "Write the memo", due=date(2026, 11, 27), creator="U3")
    # An action with a date but no owner belongs to whoever recorded it.
    assert (dated.ref, dated.owner_id, dated.due_date) == ("A-2", "U3", date(2026, 11, 27))
    assert [o.text for o in (await meeting(db, 1)).outcomes] == [
        "We agreed the scope",
        "Ship the beta",
        "Write the memo",
    ]


async def test_several_outcomes_are_all_or_nothing(db: Database, clock: ManualClock) -> None:
    await start(db, clock)
    with pytest.raises(InvalidInput):
        async with db.transaction() as session:
            m = await service.get_meeting(session, ws=WS, number=1)
            await service.add_outcomes(
                session,
                ws=WS,
                meeting=m,
                drafts=[
                    service.OutcomeDraft("Fine", owner_id="U2"),
                    service.OutcomeDraft("x" * 2001),
                ],
                creator_id="U1",
                now=clock.now(),
            )
    assert await count(db, Outcome) == 0
    with pytest.raises(InvalidInput):
        async with db.transaction() as session:
            m = await service.get_meeting(session, ws=WS, number=1)
            await service.add_outcomes(
                session, ws=WS, meeting=m, drafts=[], creator_id="U1", now=clock.now()
            )
    # The refused batch gave back the action number it had taken.
    assert (await add(db, clock, 1, "Real one", owner="U2")).ref == "A-1"


async def test_meeting_for_outcome_picks_open_then_latest(db: Database, clock: ManualClock) -> None:
    async with db.transaction() as session:
        with refused(NotFound, match="no meeting"):
            await service.meeting_for_outcome(session, ws=WS, channel_id="C1", number=None)
    await start(db, clock, "First")
    await end(db, clock)
    await start(db, clock, "Second")
    await start(db, clock, "Elsewhere", channel="C2")
    async with db.transaction() as session:
        found = await service.meeting_for_outcome(session, ws=WS, channel_id="C1", number=None)
        assert found.title == "Second"
    await end(db, clock)
    async with db.transaction() as session:
        latest = await service.meeting_for_outcome(session, ws=WS, channel_id="C1", number=None)
        named = await service.meeting_for_outcome(session, ws=WS, channel_id="C1", number=3)
        assert (latest.title, named.title) == ("Second", "Elsewhere")


async def test_other_workspaces_refs_are_not_found(db: Database, clock: ManualClock) -> None:
    await start(db, clock)
    await add(db, clock, 1, "Ship", owner="U2")
    async with db.transaction() as session:
        with refused(NotFound, match="no M-1"):
            await service.get_meeting(session, ws=OTHER, number=1)
        with refused(NotFound, match="no A-1"):
            await service.mark_action_done(
                session, ws=OTHER, number=1, actor=ADMIN, now=clock.now()
            )
    # The other workspace counts from 1 on its own.
    theirs = await start(db, clock, ws=OTHER)
    assert theirs.ref == "M-1"
    assert (await add(db, clock, 1, "Theirs", owner="U9", ws=OTHER)).ref == "A-1"


@pytest.mark.parametrize("actor", [Actor("U2"), Actor("U1"), ADMIN])
async def test_owner_creator_or_admin_mark_done(
    db: Database, clock: ManualClock, actor: Actor
) -> None:
    await start(db, clock)
    await add(db, clock, 1, "Ship", owner="U2", creator="U1")
    async with db.transaction() as session:
        done = await service.mark_action_done(
            session, ws=WS, number=1, actor=actor, now=clock.now()
        )
    assert (done.done_at, done.done_by) == (clock.now(), actor.user_id)
    async with db.transaction() as session:
        with refused(Conflict, match="already done"):
            await service.mark_action_done(session, ws=WS, number=1, actor=actor, now=clock.now())


async def test_others_may_not_mark_done(db: Database, clock: ManualClock) -> None:
    await start(db, clock)
    await add(db, clock, 1, "Ship", owner="U2", creator="U1")
    async with db.transaction() as session:
        with refused(Forbidden, match="Only the owner"):
            await service.mark_action_done(
                session, ws=WS, number=1, actor=Actor("U3"), now=clock.now()
            )
    async with db.transaction() as session:
        action = await service.get_action(session, ws=WS, number=1)
    assert action.done_at is None


async def test_overdue_is_past_due_and_not_done(db: Database, clock: ManualClock) -> None:
    await start(db, clock)
    late = await add(db, clock, 1, "Late", owner="U2", due=date(2026, 11, 24))
    await add(db, clock, 1, "On time", owner="U2", due=date(2026, 11, 30))
    await add(db, clock, 1, "Late but done", owner="U2", due=date(2026, 11, 24))
    await add(db, clock, 1, "A note")
    async with db.transaction() as session:
        await service.mark_action_done(session, ws=WS, number=3, actor=ADMIN, now=clock.now())
    today = date(2026, 11, 25)
    async with db.transaction() as session:
        overdue = await session.scalars(
            select(Outcome.number).where(Outcome.in_workspace(WS), service.overdue_clause(today))
        )
        assert list(overdue) == [1]
    assert service.is_overdue(late, today) and not service.is_overdue(late, date(2026, 11, 24))


async def test_no_outcome_needed(db: Database, clock: ManualClock) -> None:
    await start(db, clock)
    async with db.transaction() as session:
        with refused(Conflict, match="still open"):
            await service.record_no_outcome(
                session, ws=WS, number=1, actor=ORGANIZER, reason="Sync", now=clock.now()
            )
    await end(db, clock)
    for actor, reason, error in [
        (Actor("U2"), "Sync", Forbidden),
        (ORGANIZER, "  ", InvalidInput),
        (ORGANIZER, "one\ntwo", InvalidInput),
        (ORGANIZER, "x" * 201, InvalidInput),
    ]:
        async with db.transaction() as session:
            with pytest.raises(error):
                await service.record_no_outcome(
                    session, ws=WS, number=1, actor=actor, reason=reason, now=clock.now()
                )
    assert (await meeting(db, 1)).no_outcome_reason is None
    async with db.transaction() as session:
        await service.record_no_outcome(
            session, ws=WS, number=1, actor=ADMIN, reason="Status sync only", now=clock.now()
        )
    m = await meeting(db, 1)
    assert (m.no_outcome_reason, m.no_outcome_by) == ("Status sync only", "UADMIN")
    assert not service.is_outcome_free(m)
    async with db.transaction() as session:
        owed = await service.meetings_owing_outcomes(
            session,
            ws=WS,
            organizer_id="U1",
            visible=Visibility(reader="U9", channels=frozenset({"C1", "G1"})),
        )
        assert owed.items == []
        with refused(Conflict, match="already marked"):
            await service.record_no_outcome(
                session, ws=WS, number=1, actor=ORGANIZER, reason="Again", now=clock.now()
            )


async def test_a_meeting_with_outcomes_needs_no_reason(db: Database, clock: ManualClock) -> None:
    await start(db, clock)
    await add(db, clock, 1, "We agreed")
    await end(db, clock)
    async with db.transaction() as session:
        with refused(Conflict, match="already has 1 outcome"):
            await service.record_no_outcome(
                session, ws=WS, number=1, actor=ORGANIZER, reason="x", now=clock.now()
            )


async def test_decisions_made_during_a_meeting_are_its_outcomes(
    db: Database, clock: ManualClock
) -> None:
    async with db.transaction() as session:
        await decisions.create_decision(
            session,
            decisions.new_decision(
                ws=WS,
                title="Before the meeting",
                owner_id="U1",
                creator_id="U1",
                channel_id="C1",
                now=clock.now(),
            ),
        )
    await start(db, clock)
    async with db.transaction() as session:
        await decisions.create_decision(
            session,
            decisions.new_decision(
                ws=WS,
                title="Pick a vendor",
                owner_id="U2",
                creator_id="U1",
                channel_id="C1",
                now=clock.now(),
            ),
        )
        await decisions.decide(
            session,
            ws=WS,
            number=1,
            actor=ORGANIZER,
            resolution="Go",
            channel_id="C1",
            now=clock.now(),
        )
    ended = await end(db, clock)
    m = await meeting(db, ended.number)
    assert [(o.kind, o.text) for o in m.outcomes] == [
        (OutcomeKind.DECISION, "Pick a vendor"),
        (OutcomeKind.DECISION, "Before the meeting"),
    ]
    assert not service.is_outcome_free(m)
    async with db.transaction() as session:
        linked = await service.linked_decisions(session, ws=WS, meetings=[m])
    assert sorted(d.ref for d in linked.values()) == ["D-1", "D-2"]


async def test_home_lists_respect_channels_and_order(db: Database, clock: ManualClock) -> None:
    await start(db, clock)
    await add(db, clock, 1, "No date", owner="U2")
    await add(db, clock, 1, "Later", owner="U2", due=date(2026, 12, 10))
    await add(db, clock, 1, "Sooner", owner="U2", due=date(2026, 11, 30))
    await add(db, clock, 1, "Not theirs", owner="U3")
    await start(db, clock, channel="G1")
    await add(db, clock, 2, "Secret", owner="U2")
    async with db.transaction() as session:
        mine = await service.open_actions_of(
            session,
            ws=WS,
            owner_id="U2",
            visible=Visibility(reader="U9", channels=frozenset({"C1", "G1"})),
        )
        assert [o.text for o in mine.items] == ["Sooner", "Later", "No date", "Secret"]
        public = await service.open_actions_of(
            session,
            ws=WS,
            owner_id="U2",
            visible=Visibility(reader="U9", channels=frozenset({"C1"})),
        )
        assert "Secret" not in [o.text for o in public.items] and public.total == 3
        first = await service.open_actions_of(
            session,
            ws=WS,
            owner_id="U2",
            visible=Visibility(reader="U9", channels=frozenset({"C1", "G1"})),
            limit=1,
        )
        assert ([o.text for o in first.items], first.total) == (["Sooner"], 4)
        assert await service.channels_of_home_items(session, ws=WS, user_id="U2") == {"C1", "G1"}
        assert public.items[0].meeting.ref == "M-1"
