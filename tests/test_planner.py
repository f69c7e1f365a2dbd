"""The planner's rules, each with an injected clock: what is due, when, for whom, and how often."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.cadence.config import CadenceConfig, apply_overrides
from bot.db import Database
from bot.decisions import service as decisions
from bot.delivery.models import Delivery
from bot.errors import UserError
from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.nudges import rules
from bot.nudges import service as nudges
from bot.nudges.daily import DAILY_KIND
from bot.nudges.planner import NUDGE_KINDS, PlanReport, plan_nudges
from bot.slack.wording import words_for
from bot.workspace import Actor, WorkspaceKey
from bot.workspaces import service as workspaces
from bot.workspaces.models import Workspace

WS = WorkspaceKey("T1")
ZONES = {
    "U1": ZoneInfo("Europe/Berlin"),
    "U2": ZoneInfo("America/Los_Angeles"),
    "U3": ZoneInfo("Asia/Tokyo"),
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


class Zones:
    """The injected time-zone source, counting how often it is asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, _ws: WorkspaceKey, user_id: str) -> ZoneInfo | None:
        self.asked.append(user_id)
        return ZONES.get(user_id)


async def setup_workspace(db: Database, *, overrides: dict | None = None) -> None:
    async with db.transaction() as session:
        await workspaces.ensure_workspace(session, ws=WS, now=utc(2026, 1, 1))
        if overrides:
            await session.execute(
                update(Workspace).where(Workspace.in_workspace(WS)).values(overrides=overrides)
            )


async def new_decision(
    db: Database, at: datetime, *, owner: str = "U1", due: date | None = None, title: str = "X"
) -> int:
    async with db.transaction() as session:
        d = await decisions.create_decision(
            session,
            decisions.new_decision(
                ws=WS,
                title=title,
                owner_id=owner,
                creator_id=owner,
                channel_id="C1",
                now=at,
                due_date=due,
            ),
        )
        return d.number


async def new_meeting(db: Database, ended: datetime, *, number: int = 1) -> int:
    async with db.transaction() as session:
        meeting = Meeting(
            **Meeting.key_values(WS),
            number=number,
            title="Weekly sync",
            organizer_id="U2",
            channel_id="C1",
            started_at=ended - timedelta(hours=1),
            ended_at=ended,
            created_at=ended - timedelta(hours=1),
        )
        session.add(meeting)
        await session.flush()
        return meeting.id


async def new_action(
    db: Database, meeting_id: int, *, due: date, at: datetime, number: int = 1
) -> None:
    async with db.transaction() as session:
        session.add(
            Outcome(
                **Outcome.key_values(WS),
                meeting_id=meeting_id,
                number=number,
                kind=OutcomeKind.ACTION,
                text="Send the deck",
                owner_id="U3",
                due_date=due,
                creator_id="U2",
                created_at=at,
                updated_at=at,
            )
        )


async def tick(db: Database, now: datetime, cadence: CadenceConfig | None = None) -> PlanReport:
    return await plan_nudges(db, base=cadence or CadenceConfig(), now=now, zone_of=Zones())


async def ledger(db: Database) -> list[Delivery]:
    """The planner's rows: reminders and escalations (without the daily DMs the reminders
    wait for; a reassignment also plans an owner notice, in its own transaction:
    tests/test_owner_notices.py covers those)."""
    async with db.transaction() as session:
        found = await session.scalars(
            select(Delivery).where(Delivery.kind.in_(NUDGE_KINDS)).order_by(Delivery.id)
        )
        return list(found.all())


async def dailies(db: Database) -> list[Delivery]:
    async with db.transaction() as session:
        rows = await session.scalars(
            select(Delivery).where(Delivery.kind == DAILY_KIND).order_by(Delivery.id)
        )
        return list(rows.all())


async def keys(db: Database) -> list[tuple[str, str, str, str]]:
    return [(d.kind, d.subject, d.recipient, d.period) for d in await ledger(db)]


# --- stalled decisions -------------------------------------------------------------------------

MONDAY = utc(2026, 11, 23, 10)  # 11:00 in Berlin, 02:00 in Los Angeles


async def test_idle_decision_stalls_after_five_working_days(db: Database) -> None:
    await setup_workspace(db)
    await new_decision(db, MONDAY)
    assert (await tick(db, utc(2026, 11, 30, 9, 59))).due == 0
    # The SQL side finds stalled decisions to the second; the next tick is a minute later.
    report = await tick(db, utc(2026, 11, 30, 10, 1))
    assert (report.due, report.planned) == (1, 1)
    (row,) = await ledger(db)
    assert (row.kind, row.subject, row.recipient) == ("nudge:decision", "D-1", "U1")
    assert row.period == "20261123T100000#1"
    # It stalled at 11:00 in Berlin, after U1's day began: it waits for tomorrow's daily DM.
    assert row.status == "bundled"
    assert row.due_at == utc(2026, 12, 1, 8)
    assert row.payload == {
        "number": 1,
        "episode": "20261123T100000",
        "reminder": 1,
        "stalled": "2026-11-30T10:00:00+00:00",
    }
    (dm,) = await dailies(db)
    assert (dm.subject, dm.recipient, dm.period, dm.status) == (
        "daily:U1",
        "U1",
        "2026-12-01",
        "pending",
    )
    assert dm.due_at == utc(2026, 12, 1, 8)  # Tuesday 09:00 in Berlin
    assert report.daily == 1


async def test_past_due_decision_stalls_the_next_day(db: Database) -> None:
    await setup_workspace(db)
    await new_decision(db, MONDAY, due=date(2026, 11, 25))
    assert (await tick(db, utc(2026, 11, 25, 23, 59))).due == 0
    await tick(db, utc(2026, 11, 26, 0, 0))
    (row,) = await ledger(db)
    # Midnight UTC is 01:00 in Berlin: it waits for 09:00 there.
    assert row.due_at == utc(2026, 11, 26, 8)


async def test_reminders_repeat_every_two_working_days_and_escalate_once(db: Database) -> None:
    await setup_workspace(db, overrides={"nudges": {"escalate_to": "CESC1"}})
    number = await new_decision(db, MONDAY)
    moments = {
        utc(2026, 11, 30, 10, 1): 1,  # Mon: stalled
        utc(2026, 12, 1, 10, 1): 1,  # Tue: one working day later, no repeat yet
        utc(2026, 12, 2, 10, 0): 2,  # Wed, two working days after the stall to the second
        utc(2026, 12, 4, 10, 0): 3,  # Fri
        utc(2026, 12, 7, 10, 0): 3,  # Mon: the weekend does not count
        # Tue: the fourth would be due; the escalation goes instead, and then silence.
        utc(2026, 12, 8, 10, 0): 3,
        utc(2026, 12, 10, 10, 0): 3,
        utc(2026, 12, 22, 10, 0): 3,
    }
    for now, expected in moments.items():
        await tick(db, now)
        reminders = [k for k in await keys(db) if k[0] == "nudge:decision"]
        assert len(reminders) == expected, now
    escalations = [k for k in await keys(db) if k[0] == "escalation:decision"]
    assert escalations == [("escalation:decision", "D-1", "CESC1", "20261123T100000")]
    rows = {d.period: d for d in await ledger(db)}
    # The escalation to a channel keeps the workspace's zone (UTC): due when planned.
    assert rows["20261123T100000"].due_at == utc(2026, 12, 8, 10)
    assert rows["20261123T100000"].payload["owner"] == "U1"
    assert rows["20261123T100000"].payload["reminders"] == 3
    # Activity (here a snooze) restarts the cycle: a new episode, reminded from 1 again.
    async with db.transaction() as session:
        await decisions.snooze(
            session,
            ws=WS,
            number=number,
            actor=Actor("U1"),
            until=utc(2026, 12, 23, 10),
            now=utc(2026, 12, 22, 10),
        )
    await tick(db, utc(2026, 12, 29, 10, 1))  # five working days later
    assert [k[3] for k in await keys(db) if k[0] == "nudge:decision"][-1] == "20261222T100000#1"


async def test_no_escalation_without_a_target_or_to_the_owner_themselves(db: Database) -> None:
    await setup_workspace(db, overrides={"nudges": {"escalate_to": "U1"}})
    await new_decision(db, MONDAY)
    await tick(db, utc(2026, 12, 10, 10))
    assert [k[0] for k in await keys(db)] == ["nudge:decision"]


async def test_only_the_current_reminder_is_planned_after_downtime(db: Database) -> None:
    await setup_workspace(db)
    await new_decision(db, MONDAY)
    await tick(db, utc(2026, 12, 10, 10))
    assert [k[3] for k in await keys(db)] == ["20261123T100000#5"]


@pytest.mark.parametrize("outcome", ["decide", "drop"])
async def test_decided_and_dropped_decisions_are_never_nudged(db: Database, outcome: str) -> None:
    await setup_workspace(db)
    number = await new_decision(db, MONDAY, due=date(2026, 11, 24))
    async with db.transaction() as session:
        actor = Actor("U1")
        if outcome == "decide":
            await decisions.decide(
                session, ws=WS, number=number, actor=actor, resolution="yes", now=MONDAY
            )
        else:
            await decisions.drop(
                session, ws=WS, number=number, actor=actor, reason=None, now=MONDAY
            )
    assert (await tick(db, utc(2027, 1, 11, 10))).due == 0


async def test_snooze_holds_reminders_and_starts_a_new_episode(db: Database) -> None:
    await setup_workspace(db)
    number = await new_decision(db, MONDAY, due=date(2026, 11, 25))
    await tick(db, utc(2026, 11, 26, 10))
    assert len(await keys(db)) == 1
    snoozed_at = utc(2026, 11, 26, 10, 5)
    async with db.transaction() as session:
        await decisions.snooze(
            session,
            ws=WS,
            number=number,
            actor=Actor("U1"),
            until=snoozed_at + timedelta(days=1),
            now=snoozed_at,
        )
    # Snoozed until Fri 10:05; the activity also buys two working days of quiet (Mon 10:05).
    for quiet in (utc(2026, 11, 27, 10), utc(2026, 11, 27, 12), utc(2026, 11, 30, 10)):
        assert (await tick(db, quiet)).due == 0
    await tick(db, utc(2026, 11, 30, 10, 6))
    # The first episode began when the decision was recorded; the snooze began the second.
    assert [k[3] for k in await keys(db)] == ["20261123T100000#1", "20261126T100500#1"]


async def test_reassigning_starts_over_with_the_new_owner(db: Database) -> None:
    await setup_workspace(db)
    number = await new_decision(db, MONDAY)
    await tick(db, utc(2026, 11, 30, 10, 1))
    async with db.transaction() as session:
        await decisions.assign(
            session, ws=WS, number=number, actor=Actor("U1"), owner_id="U3", now=utc(2026, 12, 1)
        )
    await tick(db, utc(2026, 12, 7, 23, 59))
    assert [k[2] for k in await keys(db)] == ["U1"]
    await tick(db, utc(2026, 12, 8, 0, 1))
    assert [k[2] for k in await keys(db)] == ["U1", "U3"]


async def test_workspace_overrides_change_the_rules(db: Database) -> None:
    await setup_workspace(db, overrides={"nudges": {"stall_after_days": 2}})
    await new_decision(db, MONDAY)
    assert (await tick(db, utc(2026, 11, 25, 10, 1))).planned == 1


async def test_uninstalled_workspaces_are_left_alone(db: Database) -> None:
    await setup_workspace(db)
    await new_decision(db, MONDAY)
    async with db.transaction() as session:
        await session.execute(
            update(Workspace).where(Workspace.in_workspace(WS)).values(uninstalled_at=MONDAY)
        )
    assert (await tick(db, utc(2026, 12, 10, 10))).due == 0


async def test_planning_is_idempotent_and_asks_zones_only_for_new_rows(db: Database) -> None:
    await setup_workspace(db)
    for owner in ("U1", "U2", "U3"):
        await new_decision(db, MONDAY, owner=owner)
    zones = Zones()
    now = utc(2026, 11, 30, 10, 1)
    first = await plan_nudges(db, base=CadenceConfig(), now=now, zone_of=zones)
    second = await plan_nudges(db, base=CadenceConfig(), now=now, zone_of=zones)
    assert (first.due, first.planned, second.due, second.planned) == (3, 3, 3, 0)
    assert sorted(zones.asked) == ["U1", "U2", "U3"]


# --- working hours and time zones -----------------------------------------------------------


async def test_working_hours_in_each_recipients_own_zone(db: Database) -> None:
    await setup_workspace(db)
    await new_decision(db, MONDAY, owner="U1")
    await new_decision(db, MONDAY, owner="U2")
    await new_decision(db, MONDAY, owner="U3")
    await tick(db, utc(2026, 11, 30, 10, 1))
    due = {d.recipient: d.due_at for d in await ledger(db)}
    # Each in the first daily DM at the start of a working day after it stalled (10:00 UTC).
    assert due == {
        "U1": utc(2026, 12, 1, 8),  # stalled at 11:00 in Berlin: Tuesday 09:00 CET
        "U2": utc(2026, 11, 30, 17),  # Los Angeles 02:00: at 09:00 PST
        "U3": utc(2026, 12, 1, 0),  # Tokyo 19:00: Tuesday 09:00 JST
    }
    assert {d.recipient: d.due_at for d in await dailies(db)} == due


async def test_unknown_zone_falls_back_to_the_workspace_zone(db: Database) -> None:
    await setup_workspace(db, overrides={"timezone": "Asia/Kolkata"})
    await new_decision(db, MONDAY, owner="U9")
    await tick(db, utc(2026, 11, 30, 14))  # 19:30 in Kolkata
    (row,) = await ledger(db)
    assert row.due_at == utc(2026, 12, 1, 3, 30)  # Tuesday 09:00 IST


async def test_spring_forward_in_berlin(db: Database) -> None:
    """Europe/Berlin moves to CEST on Sunday 2026-03-29: 09:00 is 07:00 UTC from then on."""
    await setup_workspace(db)
    await new_decision(db, utc(2026, 3, 16, 10), owner="U1", due=date(2026, 3, 19))
    await new_decision(db, utc(2026, 3, 23, 10), owner="U1", due=date(2026, 3, 26), title="Y")
    await tick(db, utc(2026, 3, 20, 18))  # Friday 19:00 CET: the first waits for Monday
    await tick(db, utc(2026, 3, 27, 18))  # Friday 19:00 CET, before the change
    due = [d.due_at for d in await ledger(db) if d.period.endswith("#1")]
    assert due == [utc(2026, 3, 23, 8), utc(2026, 3, 30, 7)]


async def test_working_days_counted_across_spring_forward(db: Database) -> None:
    await setup_workspace(db, overrides={"timezone": "Europe/Berlin"})
    await new_decision(db, utc(2026, 3, 26, 9), owner="U1")  # Thu 10:00 CET
    # Five working days later is Thu 2 April, 10:00 CEST = 08:00 UTC.
    assert (await tick(db, utc(2026, 4, 2, 7, 59))).due == 0
    await tick(db, utc(2026, 4, 2, 8, 1))
    (row,) = await ledger(db)
    assert row.due_at == utc(2026, 4, 3, 7)  # the next daily DM: Friday 09:00 CEST


async def test_fall_back_in_los_angeles(db: Database) -> None:
    """America/Los_Angeles returns to PST on Sunday 2026-11-01: 09:00 is 17:00 UTC from then."""
    await setup_workspace(db)
    await new_decision(db, utc(2026, 10, 19, 17), owner="U2", due=date(2026, 10, 22))
    await new_decision(db, utc(2026, 10, 26, 17), owner="U2", due=date(2026, 10, 29), title="Y")
    await tick(db, utc(2026, 10, 24, 12))  # Saturday: waits for Monday 26 Oct 09:00 PDT
    await tick(db, utc(2026, 10, 31, 12))  # Saturday: waits for Monday 2 Nov 09:00 PST
    due = [d.due_at for d in await ledger(db) if d.period.endswith("#1")]
    assert due == [utc(2026, 10, 26, 16), utc(2026, 11, 2, 17)]


async def test_working_days_counted_across_fall_back(db: Database) -> None:
    await setup_workspace(db, overrides={"timezone": "America/Los_Angeles"})
    await new_decision(db, utc(2026, 10, 29, 17), owner="U2")  # Thu 10:00 PDT
    # Thu 5 Nov 10:00 PST = 18:00 UTC, an hour later in UTC than a week before.
    assert (await tick(db, utc(2026, 11, 5, 17, 59))).due == 0
    await tick(db, utc(2026, 11, 5, 18, 1))
    (row,) = await ledger(db)
    assert row.due_at == utc(2026, 11, 6, 17)  # the next daily DM: Friday 09:00 PST


# --- meetings and actions -------------------------------------------------------------------


async def test_outcome_free_meeting_after_the_grace_period(db: Database) -> None:
    await setup_workspace(db)
    await new_meeting(db, MONDAY)
    assert (await tick(db, MONDAY + timedelta(hours=3, minutes=59))).due == 0
    await tick(db, MONDAY + timedelta(hours=4))
    (row,) = await ledger(db)
    assert (row.kind, row.subject, row.recipient) == ("nudge:meeting", "M-1", "U2")
    assert row.due_at == utc(2026, 11, 23, 17)  # 09:00 in Los Angeles


async def test_meetings_with_outcomes_or_no_outcome_needed_are_left_alone(db: Database) -> None:
    await setup_workspace(db)
    with_outcome = await new_meeting(db, MONDAY, number=1)
    await new_action(db, with_outcome, due=date(2027, 1, 1), at=MONDAY)
    no_outcome = await new_meeting(db, MONDAY, number=2)
    async with db.transaction() as session:
        await session.execute(
            update(Meeting)
            .where(Meeting.id == no_outcome)
            .values(no_outcome_reason="Status only", no_outcome_at=MONDAY, no_outcome_by="U2")
        )
    await new_meeting(db, MONDAY, number=3)
    await tick(db, utc(2026, 11, 24, 10))
    assert [k[1] for k in await keys(db)] == ["M-3"]


async def test_meeting_reminders_repeat_too(db: Database) -> None:
    await setup_workspace(db)
    await new_meeting(db, MONDAY)
    await tick(db, utc(2026, 11, 23, 14))
    await tick(db, utc(2026, 11, 25, 14))
    assert [k[3] for k in await keys(db)] == ["20261123T100000#1", "20261123T100000#2"]


async def test_overdue_action_items(db: Database) -> None:
    await setup_workspace(db)
    meeting = await new_meeting(db, MONDAY)
    await new_action(db, meeting, due=date(2026, 11, 24), at=MONDAY)
    # The action is an outcome: the meeting owes nothing, and the action is not late yet.
    assert (await tick(db, utc(2026, 11, 24, 23, 59))).due == 0
    await tick(db, utc(2026, 11, 25, 0, 0))
    action = [d for d in await ledger(db) if d.kind == "nudge:action"]
    assert [(d.subject, d.recipient) for d in action] == [("A-1", "U3")]
    assert action[0].due_at == utc(2026, 11, 25, 0)  # 09:00 in Tokyo


async def test_done_and_snoozed_actions_are_not_nudged(db: Database) -> None:
    await setup_workspace(db)
    meeting = await new_meeting(db, MONDAY)
    await new_action(db, meeting, due=date(2026, 11, 24), at=MONDAY, number=1)
    await new_action(db, meeting, due=date(2026, 11, 24), at=MONDAY, number=2)
    async with db.transaction() as session:
        await session.execute(
            update(Outcome).where(Outcome.number == 1).values(done_at=MONDAY, done_by="U3")
        )
        await nudges.snooze_action(
            session,
            ws=WS,
            number=2,
            actor=Actor("U3"),
            until=utc(2026, 12, 2, 10),
            now=MONDAY,
        )
    await tick(db, utc(2026, 12, 1, 10))
    assert [k[1] for k in await keys(db) if k[0] == "nudge:action"] == []
    # After the snooze ends (and two working days after the activity), it is due again.
    await tick(db, utc(2026, 12, 2, 10))
    assert [k[1] for k in await keys(db) if k[0] == "nudge:action"] == ["A-2"]


# --- the pure schedule ---------------------------------------------------------------------


def test_reminder_numbers_and_moments_are_inverse() -> None:
    cadence = apply_overrides(CadenceConfig(), {"timezone": "Europe/Berlin"})
    start = utc(2026, 3, 25, 9)
    for number in range(1, 8):
        moment = rules.reminder_moment(start, number, cadence)
        assert rules.reminder_number(start, moment, cadence) == number
        assert rules.reminder_number(
            start, moment - timedelta(seconds=1), cadence
        ) == number - 1 or (number == 1)
    assert rules.reminder_number(start, start - timedelta(seconds=1), cadence) is None


def test_activity_on_an_overdue_item_buys_one_interval() -> None:
    cadence = CadenceConfig()
    stalled = rules.action_stalled_from(
        updated_at=utc(2026, 11, 26, 10),
        due_date=date(2026, 11, 24),
        snoozed_until=None,
        cadence=cadence,
    )
    assert stalled == utc(2026, 11, 30, 10)


def test_snooze_lengths_are_the_offered_ones() -> None:
    with pytest.raises(UserError) as refused:
        nudges.snooze_end(MONDAY, 2, zone=ZoneInfo("UTC"), cadence=CadenceConfig())
    assert "1 day, 3 days or 1 week" in words_for(refused.value)


@pytest.mark.parametrize(
    ("now", "days", "zone", "due", "until", "after_due"),
    [
        # The case: Thu 26 Nov 02:15, three days, due Friday. Not Sun 29 Nov 02:15 but
        # the start of Monday, and it says the due date is passed.
        (utc(2026, 11, 26, 2, 15), 3, "UTC", date(2026, 11, 27), utc(2026, 11, 30, 9), True),
        # A day from Friday afternoon in Berlin: Saturday is off, so Monday 09:00 CET.
        (utc(2026, 11, 27, 15), 1, "Europe/Berlin", None, utc(2026, 11, 30, 8), False),
        # "+N days" is the person's local date: Mon 23:30 in Los Angeles is Tue 07:30 UTC, and
        # one day from their Monday is Tuesday 09:00 PST.
        (utc(2026, 11, 24, 7, 30), 1, "America/Los_Angeles", None, utc(2026, 11, 24, 17), False),
        # Across the end of daylight time in Los Angeles (1 Nov): Monday 09:00 PST, 17:00 UTC.
        (utc(2026, 10, 30, 16), 3, "America/Los_Angeles", None, utc(2026, 11, 2, 17), False),
        # A week from a Monday afternoon lands on the next Monday's start; due that day is fine.
        (utc(2026, 11, 23, 15), 7, "UTC", date(2026, 11, 30), utc(2026, 11, 30, 9), False),
    ],
)
def test_a_snooze_ends_at_the_start_of_a_working_day_on_the_persons_clock(
    now: datetime, days: int, zone: str, due: date | None, until: datetime, after_due: bool
) -> None:
    end = nudges.snooze_end(now, days, zone=ZoneInfo(zone), cadence=CadenceConfig(), due_date=due)
    assert end.until == until
    assert end.zone.key == zone
    assert end.after_due == (due if after_due else None)


async def test_stalled_decisions_are_read_in_pages_without_gaps_or_repeats(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.nudges import planner

    monkeypatch.setattr(planner, "PAGE_SIZE", 2)
    await setup_workspace(db)
    for i in range(5):
        await new_decision(db, MONDAY + timedelta(minutes=i), title=f"idle {i}")
        await new_decision(db, MONDAY, due=date(2026, 11, 24), title=f"late {i}")
    async with db.transaction() as session:
        found = await planner.stalled_decisions(
            session, ws=WS, cadence=CadenceConfig(), now=utc(2026, 12, 1, 12)
        )
    # All ten are idle by then, the second five are also late: each is found exactly once.
    assert sorted(item.number for item in found) == list(range(1, 11))


# --- holidays (issue 15 point 4) ----------------------------------------------------------------

HOLIDAYS = CadenceConfig.model_validate(
    {"working_hours": {"holidays": ["2026-11-25", "2026-11-27"]}}
)


async def test_holidays_are_not_working_days_for_stalling(db: Database) -> None:
    await setup_workspace(db)
    await new_decision(db, MONDAY)
    # Five working days from Mon 23 Nov with Wed 25 and Fri 27 off: Tue, Thu, Mon, Tue, Wed.
    assert (await tick(db, utc(2026, 12, 2, 9, 59), HOLIDAYS)).due == 0
    assert (await tick(db, utc(2026, 12, 2, 10, 1), HOLIDAYS)).planned == 1
    # Without the holidays it would have been due on Mon 30 Nov.
    assert (await tick(db, utc(2026, 11, 30, 10, 1))).due == 1


async def test_nothing_is_delivered_on_a_holiday(db: Database) -> None:
    await setup_workspace(db)
    await new_decision(db, MONDAY, due=date(2026, 11, 24))  # past due from Wed 25 Nov 00:00
    await tick(db, utc(2026, 11, 25, 10), HOLIDAYS)
    (row,) = await ledger(db)
    assert row.due_at == utc(2026, 11, 26, 8)  # Thursday 09:00 in Berlin, after the holiday


def test_a_snooze_skips_holidays() -> None:
    end = nudges.snooze_end(
        utc(2026, 11, 24, 14), 1, zone=ZoneInfo("Europe/Berlin"), cadence=HOLIDAYS
    )
    assert end.until == utc(2026, 11, 26, 8)  # Wed 25 is off: Thursday 09:00 in Berlin


def test_holidays_are_checked() -> None:
    with pytest.raises(ValueError, match="more than once"):
        CadenceConfig.model_validate({"working_hours": {"holidays": ["2026-12-25", "2026-12-25"]}})
    with pytest.raises(ValueError, match="holidays"):
        CadenceConfig.model_validate({"working_hours": {"holidays": ["Christmas"]}})
