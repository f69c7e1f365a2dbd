"""The managers' numbers against histories worked out by hand (docs/METRICS.md has the rules).

Each test states its history in local wall-clock times, says what every number must be and why,
and runs on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.cadence.config import CadenceConfig
from bot.db import Database
from bot.digest import metrics, schedule
from bot.meetings.models import OutcomeKind
from tests.digest_support import WS, add_decision, add_meeting, add_outcome, local, utc

UTC_CADENCE = CadenceConfig()
# Week 47 of 2026 is Mon 16 – Sun 22 Nov; week 48 is Mon 23 – Sun 29 Nov.
W47 = schedule.week_of(utc(2026, 11, 18), UTC_CADENCE)
W48 = schedule.week_of(utc(2026, 11, 25), UTC_CADENCE)


async def two_weeks(
    db: Database, cadence: CadenceConfig = UTC_CADENCE, *, now=None, channels=None
) -> list[metrics.Figures]:
    async with db.transaction() as session:
        return await metrics.series_figures(
            session,
            ws=WS,
            cadence=cadence,
            bounds=[W47.start, W48.start, W48.end],
            now=now or W48.end,
            channels=channels,
        )


def test_the_weeks_used_here_are_the_ones_stated() -> None:
    assert (W47.start, W47.end) == (utc(2026, 11, 16, 0), utc(2026, 11, 23, 0))
    assert (W48.start, W48.end) == (utc(2026, 11, 23, 0), utc(2026, 11, 30, 0))


async def test_an_empty_week_has_zero_counts_and_no_rates(db: Database) -> None:
    async with db.transaction() as session:
        figures = await metrics.period_figures(
            session, ws=WS, cadence=UTC_CADENCE, start=W48.start, end=W48.end, now=W48.end
        )
    assert figures == metrics.Figures(start=W48.start, end=W48.end)
    assert figures.outcome_rate is None
    assert figures.median_time_to_decision is None
    assert figures.is_quiet and figures.is_empty


async def test_a_decision_created_in_one_week_and_decided_in_the_next(db: Database) -> None:
    async with db.transaction() as session:
        # Week 47: opened D(a), D(b), D(c); decided D(b) after exactly 24 h.
        await add_decision(session, created=utc(2026, 11, 20, 15), decided=utc(2026, 11, 24, 9))
        await add_decision(session, created=utc(2026, 11, 16, 9), decided=utc(2026, 11, 17, 9))
        await add_decision(session, created=utc(2026, 11, 17, 9), dropped=utc(2026, 11, 25, 9))
        # Week 48: opened four more; two of them decided after 6 h and 48 h.
        await add_decision(session, created=utc(2026, 11, 23, 10), decided=utc(2026, 11, 23, 16))
        await add_decision(session, created=utc(2026, 11, 25, 12), decided=utc(2026, 11, 27, 12))
        await add_decision(session, created=utc(2026, 11, 26, 8))
        await add_decision(session, created=utc(2026, 11, 29, 23, 59, 59))
        # On the boundary: belongs to week 49, counted nowhere here.
        await add_decision(session, created=utc(2026, 11, 30, 0), decided=utc(2026, 11, 30, 1))
        # Created before either week: only its decision counts (week 48, after 9 days).
        await add_decision(session, created=utc(2026, 11, 15, 12), decided=utc(2026, 11, 24, 12))
    w47, w48 = await two_weeks(db)
    assert (w47.decisions_opened, w47.decisions_decided, w47.decisions_dropped) == (3, 1, 0)
    assert w47.median_time_to_decision == timedelta(hours=24)
    assert (w48.decisions_opened, w48.decisions_decided, w48.decisions_dropped) == (4, 4, 1)
    # Week 48 decided after 90 h (20 Nov 15:00 → 24 Nov 09:00), 6 h, 48 h and 216 h:
    # the median of four is the mean of the middle two, (48 + 90) / 2 = 69 h.
    assert w48.median_time_to_decision == timedelta(hours=69)


async def test_median_of_an_odd_count_is_the_middle_value_to_the_second(db: Database) -> None:
    async with db.transaction() as session:
        start = utc(2026, 11, 23, 9)
        for seconds in (61, 3_601, 4 * 86_400 + 1):
            await add_decision(session, created=start, decided=start + timedelta(seconds=seconds))
    _, w48 = await two_weeks(db)
    assert w48.median_time_to_decision == timedelta(seconds=3_601)


async def test_a_reopened_decision_counts_only_for_its_current_state(db: Database) -> None:
    async with db.transaction() as session:
        # Decided in week 47 and reopened since: the row is open again with no decided_at.
        await add_decision(session, created=utc(2026, 11, 16, 9), last_activity=utc(2026, 11, 27))
    w47, w48 = await two_weeks(db)
    assert w47.decisions_opened == 1
    assert w47.decisions_decided == w48.decisions_decided == 0


async def test_outcome_rate_leaves_out_no_outcome_needed_and_meetings_in_grace(
    db: Database,
) -> None:
    async with db.transaction() as session:
        with_note = await add_meeting(session, ended=utc(2026, 11, 24, 10))
        await add_outcome(session, with_note, created=utc(2026, 11, 24, 11))
        await add_meeting(session, ended=utc(2026, 11, 25, 10), no_outcome_reason="Status only")
        await add_meeting(session, ended=utc(2026, 11, 26, 10))  # outcome-free
        waived_then_done = await add_meeting(
            session, ended=utc(2026, 11, 27, 10), no_outcome_reason="Nothing to decide"
        )
        await add_outcome(
            session, waived_then_done, created=utc(2026, 11, 27, 15), kind=OutcomeKind.ACTION
        )
        await add_meeting(session, ended=utc(2026, 11, 29, 22))  # 2 h before the week ends
        await add_meeting(session, ended=None, started=utc(2026, 11, 29, 9))  # still running
        await add_meeting(session, ended=utc(2026, 11, 30, 0))  # next week
    # Taken at the week's end, the 22:00 meeting is inside its 4 h grace period.
    _, at_end = await two_weeks(db, now=W48.end)
    assert at_end.meetings_held == 5
    assert at_end.meetings_with_outcome == 2
    assert at_end.meetings_no_outcome_needed == 1
    assert at_end.meetings_awaiting_outcome == 1
    assert at_end.meetings_outcome_free == 1
    assert at_end.outcome_rate == pytest.approx(2 / 3)
    # Taken at 09:00 the next morning, it owes an outcome like any other.
    _, next_morning = await two_weeks(db, now=W48.end + timedelta(hours=9))
    assert next_morning.meetings_awaiting_outcome == 0
    assert next_morning.meetings_outcome_free == 2
    assert next_morning.outcome_rate == pytest.approx(2 / 4)


async def test_a_week_of_only_no_outcome_needed_meetings_has_no_outcome_rate(
    db: Database,
) -> None:
    async with db.transaction() as session:
        for day in (17, 19):
            await add_meeting(session, ended=utc(2026, 11, day, 10), no_outcome_reason="FYI only")
    w47, _ = await two_weeks(db)
    assert w47.meetings_held == 2
    assert w47.meetings_no_outcome_needed == 2
    assert w47.meetings_judged == 0
    assert w47.outcome_rate is None
    assert not w47.is_quiet


async def test_stalled_at_the_end_of_the_period(db: Database) -> None:
    end = W48.end  # Mon 30 Nov 00:00
    async with db.transaction() as session:
        past_due = await add_decision(session, created=utc(2026, 11, 2), due=date(2026, 11, 27))
        await add_decision(  # due on the end's own day: not yet past due, and active recently
            session,
            created=utc(2026, 11, 20),
            due=date(2026, 11, 30),
            last_activity=utc(2026, 11, 27),
        )
        # Activity on Sunday counts from Monday 00:00: five working days old at the end.
        quiet = await add_decision(
            session, created=utc(2026, 11, 3), last_activity=utc(2026, 11, 22, 23, 59)
        )
        short = await add_decision(  # one second short of five working days
            session, created=utc(2026, 11, 4), last_activity=utc(2026, 11, 23, 0, 0, 1)
        )
        decided_since = await add_decision(
            session, created=utc(2026, 11, 1), due=date(2026, 11, 5), decided=utc(2026, 11, 28)
        )
        await add_decision(  # recorded after the end: not stalled at it, whatever its date
            session, created=utc(2026, 11, 30, 8), due=date(2026, 11, 1)
        )
    w47, w48 = await two_weeks(db)
    assert w48.stalled == 2
    # At week 47's end (Mon 23 Nov 00:00) each decision is judged as it was then: the one
    # active only since the end (idle since 4 Nov, no due date) and the one decided on 28 Nov
    # (open then, and past its due date of 5 Nov). The first, idle since 2 Nov but due on 27
    # Nov, still had its date to come: not stalled for inactivity (issue 15 point 5).
    assert w47.stalled == 2
    async with db.transaction() as session:
        named = await metrics.oldest_stalled(session, ws=WS, cadence=UTC_CADENCE, at=end)
        earlier = await metrics.oldest_stalled(session, ws=WS, cadence=UTC_CADENCE, at=W47.end)
        first_only = await metrics.oldest_stalled(
            session, ws=WS, cadence=UTC_CADENCE, at=W47.end, limit=1
        )
    assert [s.decision.id for s in named] == [past_due.id, quiet.id]
    # The list at an earlier end follows the same rule, with each one's state as it was then.
    assert [s.decision.id for s in earlier] == [decided_since.id, short.id]
    assert earlier[0].decision.status == "decided" and earlier[0].due_date == date(2026, 11, 5)
    assert earlier[1].last_activity_at == utc(2026, 11, 4)
    # The oldest of them is one decided since, older than any idle one: still first.
    assert [s.decision.id for s in first_only] == [decided_since.id]


async def test_overdue_actions_at_the_end_of_each_period(db: Database) -> None:
    async with db.transaction() as session:
        meeting = await add_meeting(session, ended=utc(2026, 11, 10))

        async def action(due: date | None, *, created=None, done=None, kind=None):
            await add_outcome(
                session,
                meeting,
                created=created or utc(2026, 11, 10),
                due=due,
                done=done,
                kind=kind or OutcomeKind.ACTION,
            )

        await action(date(2026, 11, 27))  # overdue at the end of week 48
        await action(date(2026, 11, 27), done=utc(2026, 11, 28))  # done in time for the end
        await action(date(2026, 11, 27), done=utc(2026, 11, 30, 9))  # done only after the end
        await action(date(2026, 11, 30))  # due on the end's own day: not overdue yet
        await action(date(2026, 11, 27), kind=OutcomeKind.NOTE)  # a note is not an action
        await action(date(2026, 11, 27), created=utc(2026, 11, 30, 1))  # did not exist yet
        await action(None)  # no due date, never overdue
        await action(date(2026, 11, 20), done=utc(2026, 11, 24))  # overdue at week 47's end only
    w47, w48 = await two_weeks(db)
    assert w47.overdue_actions == 1
    assert w48.overdue_actions == 2


async def test_several_channels_one_grouped_breakdown_and_a_visibility_filter(
    db: Database,
) -> None:
    async with db.transaction() as session:
        for channel, ended_days in (("C1", (24, 25)), ("C2", (26,)), ("G1", (27,))):
            for day in ended_days:
                meeting = await add_meeting(session, ended=utc(2026, 11, day, 10), channel=channel)
                if channel != "C2":
                    await add_outcome(session, meeting, created=utc(2026, 11, day, 11))
        await add_decision(
            session, created=utc(2026, 11, 23, 9), decided=utc(2026, 11, 23, 11), channel="C1"
        )
        await add_decision(
            session, created=utc(2026, 11, 24, 9), decided=utc(2026, 11, 24, 13), channel="C1"
        )
        await add_decision(
            session, created=utc(2026, 11, 25, 9), decided=utc(2026, 11, 26, 9), channel="G1"
        )
        await add_decision(session, created=utc(2026, 11, 2), due=date(2026, 11, 3), channel="C2")
    async with db.transaction() as session:
        every = await metrics.channel_figures(
            session, ws=WS, cadence=UTC_CADENCE, start=W48.start, end=W48.end, now=W48.end
        )
        visible = await metrics.channel_figures(
            session,
            ws=WS,
            cadence=UTC_CADENCE,
            start=W48.start,
            end=W48.end,
            now=W48.end,
            channels={"C1", "C2"},
        )
    assert set(every) == {"C1", "C2", "G1"}
    c1, c2, g1 = every["C1"], every["C2"], every["G1"]
    assert (c1.meetings_held, c1.outcome_rate, c1.decisions_decided) == (2, 1.0, 2)
    assert c1.median_time_to_decision == timedelta(hours=3)  # 2 h and 4 h
    assert (c2.meetings_held, c2.outcome_rate, c2.stalled) == (1, 0.0, 1)
    assert (g1.decisions_decided, g1.median_time_to_decision) == (1, timedelta(hours=24))
    assert set(visible) == {"C1", "C2"}
    assert visible["C1"] == c1

    _, total = await two_weeks(db, channels={"C1", "C2"})
    assert (total.meetings_held, total.meetings_with_outcome, total.stalled) == (3, 2, 1)
    assert total.decisions_decided == 2
    _, nothing = await two_weeks(db, channels=set())
    assert nothing.is_empty


async def test_another_workspace_is_never_counted(db: Database) -> None:
    from bot.workspace import WorkspaceKey

    other = WorkspaceKey("T2")
    async with db.transaction() as session:
        await add_meeting(session, ended=utc(2026, 11, 24), ws=other)
        await add_decision(session, created=utc(2026, 11, 24), decided=utc(2026, 11, 25), ws=other)
    _, w48 = await two_weeks(db)
    assert w48.is_empty


# --- time zones and daylight saving ---------------------------------------------------------------

LA = CadenceConfig(timezone="America/Los_Angeles")
AUCKLAND = CadenceConfig(timezone="Pacific/Auckland")


async def figures_around(
    db: Database, cadence: CadenceConfig, moment
) -> tuple[schedule.Period, schedule.Period, list[metrics.Figures]]:
    week = schedule.week_of(moment, cadence)
    following = schedule.week_of(week.end, cadence)
    async with db.transaction() as session:
        series = await metrics.series_figures(
            session,
            ws=WS,
            cadence=cadence,
            bounds=[week.start, following.start, following.end],
            now=following.end,
        )
    return week, following, series


async def test_los_angeles_week_that_falls_back_has_169_hours(db: Database) -> None:
    zone = "America/Los_Angeles"
    async with db.transaction() as session:
        # Clocks go back at 02:00 on Sun 1 Nov 2026; the week Mon 26 Oct – Sun 1 Nov gains an hour.
        await add_meeting(session, ended=local(zone, 2026, 10, 26, 0, 0))  # first instant
        await add_meeting(session, ended=local(zone, 2026, 11, 1, 23, 30))  # 07:30 UTC Monday
        await add_meeting(session, ended=local(zone, 2026, 11, 2, 0, 15))  # next week
        await add_decision(
            session, created=local(zone, 2026, 10, 31, 12), decided=local(zone, 2026, 11, 1, 12)
        )
    week, following, (first, second) = await figures_around(db, LA, local(zone, 2026, 10, 28))
    assert week.end - week.start == timedelta(hours=169)
    assert (first.meetings_held, second.meetings_held) == (2, 1)
    # Noon to noon across the change is one calendar day but 25 hours.
    assert first.median_time_to_decision == timedelta(hours=25)
    assert following.first_day == date(2026, 11, 2)


async def test_los_angeles_week_that_springs_forward_has_167_hours(db: Database) -> None:
    zone = "America/Los_Angeles"
    async with db.transaction() as session:
        # Clocks go forward at 02:00 on Sun 8 Mar 2026.
        await add_meeting(session, ended=local(zone, 2026, 3, 8, 23, 30))  # 06:30 UTC Monday
        await add_meeting(session, ended=local(zone, 2026, 3, 9, 0, 15))  # next week
        await add_decision(
            session, created=local(zone, 2026, 3, 7, 12), decided=local(zone, 2026, 3, 8, 12)
        )
    week, _, (first, second) = await figures_around(db, LA, local(zone, 2026, 3, 4))
    assert week.end - week.start == timedelta(hours=167)
    assert (first.meetings_held, second.meetings_held) == (1, 1)
    assert first.median_time_to_decision == timedelta(hours=23)


async def test_auckland_weeks_on_both_daylight_saving_changes(db: Database) -> None:
    zone = "Pacific/Auckland"
    async with db.transaction() as session:
        # Sun 5 Apr 2026 03:00 NZDT → 02:00 NZST; Sun 27 Sep 2026 02:00 NZST → 03:00 NZDT.
        await add_meeting(session, ended=local(zone, 2026, 4, 5, 23, 30))
        await add_meeting(session, ended=local(zone, 2026, 4, 6, 0, 30))
        await add_meeting(session, ended=local(zone, 2026, 9, 27, 23, 30))
        await add_meeting(session, ended=local(zone, 2026, 9, 28, 0, 30))
    autumn, _, (april_a, april_b) = await figures_around(db, AUCKLAND, local(zone, 2026, 4, 1))
    spring, _, (sept_a, sept_b) = await figures_around(db, AUCKLAND, local(zone, 2026, 9, 23))
    assert autumn.end - autumn.start == timedelta(hours=169)
    assert spring.end - spring.start == timedelta(hours=167)
    assert (april_a.meetings_held, april_b.meetings_held) == (1, 1)
    assert (sept_a.meetings_held, sept_b.meetings_held) == (1, 1)


async def test_auckland_overdue_uses_the_local_date_not_the_utc_one(db: Database) -> None:
    zone = "Pacific/Auckland"
    week = schedule.week_of(local(zone, 2026, 11, 25), AUCKLAND)
    # The week ends at Mon 30 Nov 00:00 NZDT, which is still Sunday 29 Nov 11:00 in UTC.
    assert week.end == utc(2026, 11, 29, 11)
    async with db.transaction() as session:
        meeting = await add_meeting(session, ended=local(zone, 2026, 11, 20))
        await add_outcome(
            session,
            meeting,
            created=local(zone, 2026, 11, 20),
            kind=OutcomeKind.ACTION,
            due=date(2026, 11, 29),
        )
        await add_decision(session, created=local(zone, 2026, 11, 20), due=date(2026, 11, 29))
    async with db.transaction() as session:
        figures = await metrics.period_figures(
            session, ws=WS, cadence=AUCKLAND, start=week.start, end=week.end, now=week.end
        )
    # Due Sunday and the week's end is Monday locally: both are past due there.
    assert figures.overdue_actions == 1
    assert figures.stalled == 1


async def test_los_angeles_evening_belongs_to_the_local_day(db: Database) -> None:
    zone = "America/Los_Angeles"
    week = schedule.week_of(local(zone, 2026, 11, 25), LA)
    async with db.transaction() as session:
        # Sun 29 Nov 20:00 in Los Angeles is Mon 30 Nov 04:00 UTC: still this local week.
        await add_decision(session, created=local(zone, 2026, 11, 29, 20))
    async with db.transaction() as session:
        figures = await metrics.period_figures(
            session, ws=WS, cadence=LA, start=week.start, end=week.end, now=week.end
        )
    assert figures.decisions_opened == 1


async def test_channels_in_play_covers_what_the_figures_can_count(db: Database) -> None:
    since = W47.start
    async with db.transaction() as session:
        await add_decision(session, created=utc(2026, 1, 5), channel="COPEN")
        await add_decision(
            session, created=utc(2026, 1, 5), decided=utc(2026, 1, 6), channel="COLD"
        )
        await add_decision(
            session, created=utc(2026, 1, 5), decided=utc(2026, 11, 20), channel="CDECIDED"
        )
        await add_meeting(session, ended=utc(2026, 11, 17), channel="CMEET")
        old = await add_meeting(session, ended=utc(2026, 1, 5), channel="CACTION")
        await add_outcome(
            session, old, created=utc(2026, 1, 5), kind=OutcomeKind.ACTION, due=date(2026, 2, 1)
        )
        await add_meeting(session, ended=utc(2026, 1, 5), channel="CQUIET")
    async with db.transaction() as session:
        recent = await metrics.channels_in_play(session, ws=WS, since=since)
        ever = await metrics.channels_in_play(session, ws=WS)
    assert recent == {"COPEN", "CDECIDED", "CMEET", "CACTION"}
    assert ever == recent | {"COLD", "CQUIET"}


def test_bounds_must_be_aware_and_in_order() -> None:
    with pytest.raises(ValueError):
        metrics._check_bounds([W48.end, W48.start])
    with pytest.raises(ValueError):
        metrics._check_bounds([W48.start.replace(tzinfo=None), W48.end.replace(tzinfo=None)])
    with pytest.raises(ValueError):
        metrics._check_bounds([W48.start])


# --- what counts as activity ------------------------------------------------------------------


async def test_every_history_entry_is_activity_and_resets_the_idle_count(db: Database) -> None:
    """Mon–Fri, five working days, UTC. Each decision is recorded Mon 2 Nov 09:00; one of them
    then gets one more entry on Wed 11 Nov 09:00 (reassigned, re-dated, snoozed, or decided and
    reopened). At Mon 16 Nov 09:00 the untouched one is stalled (idle since 2 Nov); each touched
    one is not (Wednesday 09:00 + five working days = Wednesday 18 Nov 09:00)."""
    from bot.decisions import service as decisions
    from bot.workspace import Actor

    start, touch = utc(2026, 11, 2, 9), utc(2026, 11, 11, 9)
    owner = Actor("U1")
    async with db.transaction() as session:
        made = []
        for title in ("untouched", "assigned", "due", "snoozed", "reopened"):
            made.append(
                await decisions.create_decision(
                    session,
                    decisions.new_decision(
                        ws=WS,
                        title=title,
                        owner_id="U1",
                        creator_id="U1",
                        channel_id="C1",
                        now=start,
                    ),
                )
            )
        n = {d.title: d.number for d in made}
        await decisions.assign(
            session, ws=WS, number=n["assigned"], actor=owner, owner_id="U2", now=touch
        )
        await decisions.set_due(
            session, ws=WS, number=n["due"], actor=owner, due_date=date(2026, 12, 24), now=touch
        )
        await decisions.snooze(
            session,
            ws=WS,
            number=n["snoozed"],
            actor=owner,
            until=touch + timedelta(days=1),
            now=touch,
        )
        await decisions.decide(
            session, ws=WS, number=n["reopened"], actor=owner, resolution="Yes", now=touch
        )
        await decisions.reopen(session, ws=WS, number=n["reopened"], actor=owner, now=touch)
    at = utc(2026, 11, 16, 9)
    async with db.transaction() as session:
        named = await metrics.oldest_stalled(session, ws=WS, cadence=UTC_CADENCE, at=at)
        figures = await metrics.period_figures(
            session, ws=WS, cadence=UTC_CADENCE, start=W47.start, end=at, now=at
        )
        # Replayed from the history at an end before the touches, every one was idle then.
        before = await metrics.oldest_stalled(
            session, ws=WS, cadence=UTC_CADENCE, at=utc(2026, 11, 10, 9)
        )
    assert [s.decision.title for s in named] == ["untouched"]
    assert figures.stalled == 1
    assert len(before) == 5
