"""Follow-through numbers (issue 17 point 7, issue 18 point 5) against histories worked by hand.

The week is Mon 19 – Sun 25 Oct 2026 in Europe/Berlin, which leaves summer time on its last
Sunday: it starts Mon 19 Oct 00:00 CEST (18 Oct 22:00 UTC) and ends Mon 26 Oct 00:00 CET
(25 Oct 23:00 UTC), so it is 169 hours long. Both engines.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.cadence.config import CadenceConfig
from bot.db import Database
from bot.decisions.models import Decision, DecisionEvent, DecisionStatus
from bot.digest import metrics, schedule
from bot.meetings.models import Meeting, OutcomeKind
from tests.digest_support import WS, add_decision, add_meeting, add_outcome, utc

BERLIN = CadenceConfig(timezone="Europe/Berlin")  # followthrough_after_days = 3
WEEK = schedule.week_of(utc(2026, 10, 21), BERLIN)
BEFORE = schedule.week_of(utc(2026, 10, 14), BERLIN)


def test_the_week_is_the_one_crossing_the_change() -> None:
    assert (WEEK.start, WEEK.end) == (utc(2026, 10, 18, 22), utc(2026, 10, 25, 23))
    # Its window: decided after Wed 14 Oct 00:00 CEST, up to Wed 21 Oct 00:00 CEST.
    assert metrics.followthrough_window(WEEK.start, WEEK.end, BERLIN) == (
        utc(2026, 10, 13, 22),
        utc(2026, 10, 20, 22),
    )


async def figures(db: Database, *, by_channel: bool = False) -> dict:
    async with db.transaction() as session:
        return await metrics.follow_through_figures(
            session,
            ws=WS,
            cadence=BERLIN,
            bounds=[BEFORE.start, WEEK.start, WEEK.end],
            by_channel=by_channel,
        )


async def action_of(session, decision: Decision, meeting: Meeting, **kw) -> None:
    action = await add_outcome(session, meeting, kind=OutcomeKind.ACTION, **kw)
    action.decision_id = decision.id


def event(d: Decision, action: str, at: datetime) -> None:
    d.events.append(
        DecisionEvent(
            **DecisionEvent.key_values(WS), actor_id="U1", action=action, detail={}, at=at
        )
    )


async def test_follow_through_rate_counts_the_decisions_whose_time_ran_out_in_the_week(
    db: Database,
) -> None:
    async with db.transaction() as session:
        meeting = await add_meeting(session, ended=utc(2026, 10, 1))
        created = utc(2026, 10, 1)
        # A: decided Wed 14 Oct 00:30 CEST, first in the window; an action on Thu 15 Oct.
        a = await add_decision(session, created=created, decided=utc(2026, 10, 13, 22, 30))
        await action_of(session, a, meeting, created=utc(2026, 10, 15))
        # B: decided Fri 16 Oct, nothing since: owed, not followed through.
        await add_decision(session, created=created, decided=utc(2026, 10, 16, 10))
        # C: decided Tue 20 Oct 23:30 CEST, the last in the window; "no action needed" Sat 24.
        c = await add_decision(session, created=created, decided=utc(2026, 10, 20, 21, 30))
        c.no_action_at, c.no_action_by, c.no_action_reason = utc(2026, 10, 24), "U1", "None"
        # G: decided Wed 14 Oct; its action came Mon 26 Oct, after the week: not by its end.
        g = await add_decision(session, created=created, decided=utc(2026, 10, 14, 10))
        await action_of(session, g, meeting, created=utc(2026, 10, 26, 10))
        # Out of the window: Tue 13 Oct 23:30 CEST (the week before's) and Wed 21 Oct 00:30
        # CEST (next week's; with the winter offset it would wrongly fall inside).
        await add_decision(session, created=created, decided=utc(2026, 10, 13, 21, 30))
        await add_decision(session, created=created, decided=utc(2026, 10, 20, 22, 30))
        # Superseded (its follow-through is the new decision's) and reopened (no decide now):
        s = await add_decision(session, created=created, decided=utc(2026, 10, 16, 11))
        s.status = DecisionStatus.SUPERSEDED
        await add_decision(session, created=created)
    found = await figures(db)
    week = found[(1, None)]
    assert (week.due, week.followed, week.rate_percent) == (4, 2, 50)
    # The week before: its window ends Wed 14 Oct 00:00 CEST; only the 13 Oct 23:30 one.
    before = found[(0, None)]
    assert (before.due, before.followed, before.rate_percent) == (1, 0, 0)


async def test_decision_to_done_is_the_median_from_deciding_to_the_last_action_done(
    db: Database,
) -> None:
    async with db.transaction() as session:
        meeting = await add_meeting(session, ended=utc(2026, 10, 1))
        created = utc(2026, 9, 1)
        # A: decided 13 Oct 22:30 UTC, its one action done 22 Oct 12:30 UTC: 8 d 14 h.
        a = await add_decision(session, created=created, decided=utc(2026, 10, 13, 22, 30))
        await action_of(
            session, a, meeting, created=utc(2026, 10, 14), done=utc(2026, 10, 22, 12, 30)
        )
        # H: two actions, the last done Sun 25 Oct 23:30 CET (22:30 UTC), inside the week:
        # 24 d 12 h 30 min after its decide on 1 Oct 10:00 UTC.
        h = await add_decision(session, created=created, decided=utc(2026, 10, 1, 10))
        await action_of(session, h, meeting, created=utc(2026, 10, 2), done=utc(2026, 10, 5))
        await action_of(
            session, h, meeting, created=utc(2026, 10, 2), done=utc(2026, 10, 25, 22, 30)
        )
        # I: one action still open: not done.
        i = await add_decision(session, created=created, decided=utc(2026, 10, 1, 10))
        await action_of(session, i, meeting, created=utc(2026, 10, 2), done=utc(2026, 10, 21))
        await action_of(session, i, meeting, created=utc(2026, 10, 2))
        # J: done Mon 26 Oct 00:30 CET: next week's.
        j = await add_decision(session, created=created, decided=utc(2026, 10, 1, 10))
        await action_of(
            session, j, meeting, created=utc(2026, 10, 2), done=utc(2026, 10, 25, 23, 30)
        )
        # K: done the week before, on 15 Oct 10:00 UTC, decided 12 Oct 10:00 UTC: 3 days.
        k = await add_decision(session, created=created, decided=utc(2026, 10, 12, 10))
        await action_of(session, k, meeting, created=utc(2026, 10, 13), done=utc(2026, 10, 15, 10))
        # Reopened since (no decide now): its done action does not count.
        r = await add_decision(session, created=created)
        await action_of(session, r, meeting, created=utc(2026, 10, 13), done=utc(2026, 10, 20))
    found = await figures(db)
    week = found[(1, None)]
    # (8 d 14 h + 24 d 12 h 30 min) / 2 = 16 d 13 h 15 min.
    assert week.done == 2
    assert week.median_decision_to_done == timedelta(days=16, hours=13, minutes=15)
    before = found[(0, None)]
    assert (before.done, before.median_decision_to_done) == (1, timedelta(days=3))


async def test_topics_decided_again_are_recent_decides_undone(db: Database) -> None:
    async with db.transaction() as session:
        # Decided 12 Oct, reopened Tue 20 Oct: counts.
        k = await add_decision(session, created=utc(2026, 10, 1), decided=utc(2026, 10, 12))
        event(k, "reopened", utc(2026, 10, 20))
        # Decided 10 Oct, superseded Fri 23 Oct, in #design: counts, in C2.
        n = await add_decision(
            session, created=utc(2026, 10, 1), decided=utc(2026, 10, 10), channel="C2"
        )
        event(n, "superseded", utc(2026, 10, 23))
        # Decided 1 Jun, 142 days before its supersede: too long ago to be "again".
        old = await add_decision(session, created=utc(2026, 5, 1), decided=utc(2026, 6, 1))
        event(old, "superseded", utc(2026, 10, 21))
        # Never decided, superseded while open: not decided again.
        m = await add_decision(session, created=utc(2026, 10, 1))
        event(m, "superseded", utc(2026, 10, 22))
        # Decided 1 Oct, reopened Sun 25 Oct 23:30 CET (22:30 UTC): still this week.
        late = await add_decision(session, created=utc(2026, 9, 1), decided=utc(2026, 10, 1))
        event(late, "reopened", utc(2026, 10, 25, 22, 30))
        # Decided 14 Oct, reopened the week before, 16 Oct.
        early = await add_decision(session, created=utc(2026, 9, 1), decided=utc(2026, 10, 14))
        event(early, "reopened", utc(2026, 10, 16))
    found = await figures(db)
    assert found[(1, None)].decided_again == 3
    assert found[(0, None)].decided_again == 1
    per_channel = await figures(db, by_channel=True)
    assert per_channel[(1, "C1")].decided_again == 2
    assert per_channel[(1, "C2")].decided_again == 1


async def test_orphans_now_are_decided_without_a_next_step_for_three_working_days(
    db: Database,
) -> None:
    async with db.transaction() as session:
        meeting = await add_meeting(session, ended=utc(2026, 10, 1))
        # Decided Thu 22 Oct 10:00 CEST: an orphan from Tue 27 Oct 10:00 CET (09:00 UTC).
        d = await add_decision(
            session, created=utc(2026, 10, 1), decided=utc(2026, 10, 22, 8), title="Vendor"
        )
        followed = await add_decision(session, created=utc(2026, 10, 1), decided=utc(2026, 10, 5))
        await action_of(session, followed, meeting, created=utc(2026, 10, 6))
        private = await add_decision(
            session, created=utc(2026, 10, 1), decided=utc(2026, 10, 5), channel="G1"
        )
    async with db.transaction() as session:
        before = await metrics.orphans_at(
            session, ws=WS, cadence=BERLIN, at=utc(2026, 10, 27, 8, 59)
        )
        at = await metrics.orphans_at(session, ws=WS, cadence=BERLIN, at=utc(2026, 10, 27, 9))
        public = await metrics.orphans_at(
            session, ws=WS, cadence=BERLIN, at=utc(2026, 10, 27, 9), channels={"C1"}
        )
    assert before[0] == 1 and [o.number for o in before[1]] == [private.number]
    assert at[0] == 2 and [o.number for o in at[1]] == [private.number, d.number]
    assert public[0] == 1 and public[1][0].title == "Vendor"
