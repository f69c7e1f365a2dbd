"""Time off (issue 15 point 4): /hygiene away and back, held DMs, the stall clock, escalations.

Everything goes through signed requests into the app, the worker's tick (the real planner and
sender) and the fake Slack, on both engines. The clock starts on Monday 23 Nov 2026 10:00 UTC;
U1 (ana) is in Berlin, U2 (ben) in Los Angeles; the workspace works Mon–Fri 09:00–17:30 in UTC,
stall_after_days 5, repeat_every_days 2.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock
from bot.db import Database
from bot.delivery.models import Delivery
from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import FakeSlack
from bot.server import wire
from bot.slack.client import NO_PAUSES
from bot.slack.compose import default_composers
from bot.slack.deps import Deps
from bot.slack.sender import Pacing, Sender, SlackClients, static_token
from bot.timeoff.models import TimeOff
from bot.worker import Jobs, TickReport, zone_lookup
from bot.workspaces.models import Workspace
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, AppEnv, make_settings


class Env(AppEnv):
    jobs: Jobs

    async def tick(self) -> TickReport:
        return await self.jobs.tick()

    def at(self, moment: datetime) -> None:
        self.deps.clock.set(moment)  # type: ignore[attr-defined]

    def dms_to(self, user: str) -> list[str]:
        return [
            str(c.params["text"])
            for c in self.fake.calls_to("chat.postMessage")
            if c.ok and c.params["channel"] == user
        ]

    async def say(self, text: str, user: str = "U1") -> str:
        """What /hygiene TEXT answered ``user`` (the ephemeral text)."""
        body = await self.answer("/hygiene", text, user_id=user)
        return str(body.get("text"))

    async def periods(self) -> list[tuple[str, date, date]]:
        async with self.deps.db.transaction() as session:
            rows = await session.scalars(select(TimeOff).order_by(TimeOff.id))
            return [(r.user_id, r.first_day, r.last_day) for r in rows]

    async def rows(self, recipient: str) -> list[Delivery]:
        async with self.deps.db.transaction() as session:
            found = await session.scalars(
                select(Delivery).where(Delivery.recipient == recipient).order_by(Delivery.id)
            )
            return list(found)

    async def override(self, overrides: dict[str, Any]) -> None:
        """Workspace settings (the workspace is recorded on its first request)."""
        async with self.deps.db.transaction() as session:
            done = await session.execute(update(Workspace).values(overrides=overrides))
        assert getattr(done, "rowcount", 0) == 1


@pytest.fixture
async def env(
    db: Database, fake_slack: FakeSlack, clock: ManualClock, db_url: str
) -> AsyncIterator[Env]:
    settings = make_settings(db_url, fake_slack)
    cadence = CadenceConfig()
    deps = Deps(db=db, clock=clock, cadence=cadence)
    web = wire(settings, deps, dispose_db=False, pauses=NO_PAUSES).web
    clients = SlackClients(settings, static_token(BOT_TOKEN), pauses=NO_PAUSES)
    sender = Sender(
        db=db,
        clock=clock,
        clients=clients,
        composers=default_composers(),
        cadence=cadence,
        users=deps.users,
        pacing=Pacing(channel_interval=0.0),
    )
    jobs = Jobs(
        db=db, clock=clock, cadence=cadence, sender=sender, zone_of=zone_lookup(clients, deps.users)
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web), base_url="http://testserver"
    ) as http:
        driver = SlackDriver(
            http, signing_secret=SIGNING_SECRET, response_url_for=fake_slack.response_url
        )
        made = Env(settings=settings, deps=deps, fake=fake_slack, driver=driver, http=http, web=web)
        made.jobs = jobs
        yield made
        await made.settle()
    await clients.close()


# --- the command ---------------------------------------------------------------------------------


async def test_away_round_trip_says_the_dates_on_the_persons_clock(env: Env) -> None:
    said = await env.say("away until friday")
    assert said.startswith(
        "Got it: you are away from today through Fri 27 Nov 2026 (Europe/Berlin). "
        "I'll hold your messages until Mon 30 Nov, 09:00 your time."
    )
    assert await env.periods() == [("U1", date(2026, 11, 23), date(2026, 11, 27))]
    shown = await env.say("away")
    assert "You are away from today through Fri 27 Nov 2026 (Europe/Berlin)" in shown
    # Saying it again replaces the period that is not over yet.
    said = await env.say("away from dec 21 until jan 1")
    assert "from Mon 21 Dec 2026 through Fri 1 Jan 2027" in said
    # Mon 4 Jan 09:00 in Berlin (the first working day after New Year's Day).
    assert "until Mon 4 Jan, 09:00 your time" in said
    assert await env.periods() == [("U1", date(2026, 12, 21), date(2027, 1, 1))]
    # Another person's time off is their own.
    said = await env.say("away until tomorrow", user="U2")
    assert "through Tue 24 Nov 2026 (America/Los_Angeles)" in said
    # Back before it began: the period is forgotten.
    said = await env.say("back")
    assert said == (
        "Your time off from Mon 21 Dec 2026 through Fri 1 Jan 2027 is cancelled, "
        "so you'll get your messages as usual."
    )
    assert await env.periods() == [("U2", date(2026, 11, 23), date(2026, 11, 24))]


async def test_back_during_the_time_off_keeps_the_days_already_away(env: Env) -> None:
    await env.say("away until friday")
    env.at(datetime(2026, 11, 25, 10, tzinfo=UTC))  # Wednesday
    said = await env.say("back")
    assert said.startswith("Welcome back: your time off since Mon 23 Nov 2026 ended yesterday.")
    assert await env.periods() == [("U1", date(2026, 11, 23), date(2026, 11, 24))]
    assert "You have no time off set." in await env.say("away")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("away until yesterday", "“yesterday” is in the past; give today or a later date"),
        ("away until 2026-11-20", "“2026-11-20” is in the past; give today or a later date"),
        ("away until 2026-02-30", "“2026-02-30” is not a real date."),
        ("away from friday until tuesday", "Your time off would end on Tue 24 Nov 2026, before"),
        ("away until 2028-01-01", "Time off can be at most 366 days at a time"),
        ("away friday", "`/hygiene away` needs the last day you are away after `until`"),
        ("away next month please", "`/hygiene away` takes `until DATE`, not “next month please”"),
        ("back", "You aren't marked away, so there is nothing to end"),
        ("back to work", "`/hygiene back` takes nothing more"),
        ("awya until friday", "Did you mean `/hygiene away`?"),
    ],
)
async def test_bad_away_commands_get_one_friendly_sentence_and_change_nothing(
    env: Env, text: str, expected: str
) -> None:
    said = await env.say(text)
    assert expected in said
    assert "Traceback" not in said and "error" not in said.lower()
    assert await env.periods() == []


async def test_the_help_lists_away_and_back(env: Env) -> None:
    said = await env.say("help")
    assert "`/hygiene away until DATE`" in said and "`/hygiene back`" in said


# --- nothing is sent while away ------------------------------------------------------------------


async def test_nothing_is_sent_while_away_and_it_goes_out_once_back(env: Env) -> None:
    """D-1 is due Tue 24 Nov, so it is overdue from Wed 25 Nov 00:00; U1 is away Wed–Fri."""
    await env.command("/decision", "new Ship the beta by tuesday", user_id="U1")
    await env.say("away from wednesday until friday")
    env.at(datetime(2026, 11, 25, 10, tzinfo=UTC))
    await env.tick()
    assert env.dms_to("U1") == []
    # The reminder waits in U1's daily DM, and the daily DM is what is held.
    reminder, held = await env.rows("U1")
    assert (reminder.kind, reminder.status) == ("nudge:decision", "bundled")
    assert (held.kind, held.status) == ("reminders:daily", "pending")
    # Held until Mon 30 Nov 09:00 in Berlin, the start of U1's first working day back.
    assert held.due_at == datetime(2026, 11, 30, 8, tzinfo=UTC)
    assert (held.last_error or "").startswith("away")
    for day in (26, 27, 28, 29):
        env.at(datetime(2026, 11, day, 10, tzinfo=UTC))
        await env.tick()
    assert env.dms_to("U1") == []
    env.at(datetime(2026, 11, 30, 8, tzinfo=UTC))
    await env.tick()
    (dm,) = env.dms_to("U1")
    assert "D-1" in dm
    # Away days are not working days for repeat_every_days either: it was reminder 1.
    reminders = [r for r in await env.rows("U1") if r.kind.startswith("nudge:")]
    assert [r.period.rsplit("#", 1)[1] for r in reminders] == ["1"]


async def test_back_early_releases_what_was_held(env: Env) -> None:
    await env.command("/decision", "new Ship the beta by tuesday", user_id="U1")
    await env.say("away from wednesday until friday")
    env.at(datetime(2026, 11, 25, 10, tzinfo=UTC))
    await env.tick()
    assert env.dms_to("U1") == []
    env.at(datetime(2026, 11, 26, 10, tzinfo=UTC))  # Thursday, 11:00 in Berlin
    await env.say("back")
    await env.tick()
    (dm,) = env.dms_to("U1")
    assert "D-1" in dm


async def test_a_held_reminder_about_something_settled_meanwhile_is_dropped(env: Env) -> None:
    await env.command("/decision", "new Ship the beta by tuesday", user_id="U1")
    await env.say("away from wednesday until friday")
    env.at(datetime(2026, 11, 25, 10, tzinfo=UTC))
    await env.tick()
    await env.command("/decision", "decide D-1 Ship on Monday", user_id="UADMIN")
    env.at(datetime(2026, 11, 30, 8, tzinfo=UTC))
    await env.tick()
    # The reminder is dropped; what U1 hears, once back, is that the admin decided it (U1
    # recorded it: the owner-and-change notices of issue 15 point 1).
    assert env.dms_to("U1") == ["D-1 Ship the beta was decided by <@UADMIN>."]
    assert [(r.kind, r.status) for r in await env.rows("U1")] == [
        ("nudge:decision", "cancelled"),
        ("reminders:daily", "cancelled"),  # nothing left in it: not sent
        ("notice:decision", "sent"),
    ]


# --- the stall clock skips away days -------------------------------------------------------------


async def test_the_stall_clock_skips_the_owners_away_days_and_holidays(env: Env) -> None:
    """Hand-worked. D-1 (U1) and D-2 (U2), no due dates, both recorded Mon 23 Nov 10:00 UTC.

    Workspace holiday Tue 1 Dec; U1 away Wed 25 and Thu 26 Nov. Five working days:
    - D-2 (U2, not away): Tue 24, Wed 25, Thu 26, Fri 27, Mon 30: stalled Mon 30 Nov 10:00.
    - D-1 (U1): Tue 24, (Wed 25, Thu 26 away), Fri 27, Mon 30, (Tue 1 Dec holiday), Wed 2,
      Thu 3: stalled Thu 3 Dec 10:00 UTC, three working days later than D-2.
    """
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    await env.override({"working_hours": {"holidays": ["2026-12-01"]}})
    await env.command("/decision", "new Pick a venue <@U2>", user_id="U2")
    await env.say("away from wednesday until thursday")

    async def planned(user: str) -> list[str]:
        """The reminders planned for ``user`` (not the daily DM they wait in)."""
        return [r.subject for r in await env.rows(user) if r.kind.startswith("nudge:")]

    env.at(datetime(2026, 11, 30, 9, 59, tzinfo=UTC))
    await env.tick()
    assert await planned("U2") == [] and await planned("U1") == []
    env.at(datetime(2026, 11, 30, 10, tzinfo=UTC))
    await env.tick()
    assert await planned("U2") == ["D-2"]
    assert await planned("U1") == []
    env.at(datetime(2026, 12, 3, 9, 59, tzinfo=UTC))
    await env.tick()
    assert await planned("U1") == []
    env.at(datetime(2026, 12, 3, 10, tzinfo=UTC))
    await env.tick()
    assert await planned("U1") == ["D-1"]
    # It stalled at 11:00 in Berlin, after U1's day began: it waits for Friday's daily DM.
    assert env.dms_to("U1") == []
    env.at(datetime(2026, 12, 4, 8, tzinfo=UTC))
    await env.tick()
    (dm,) = env.dms_to("U1")
    assert "D-1" in dm


# --- escalations while away ----------------------------------------------------------------------


async def test_what_falls_due_while_away_goes_to_escalate_to_instead(env: Env) -> None:
    await env.command("/decision", "new Ship the beta by tuesday", user_id="U1")
    await env.override({"nudges": {"escalate_to": "UADMIN"}})
    await env.command("/decision", "new Pick a venue", user_id="U1")  # no date: not due
    said = await env.say("away from wednesday until friday")
    assert "Anything of yours that falls due meanwhile goes to <@UADMIN> instead." in said
    env.at(datetime(2026, 11, 25, 10, tzinfo=UTC))
    await env.tick()
    (escalation,) = env.dms_to("UADMIN")
    assert "D-1" in escalation
    assert "<@U1> is away until Fri 27 Nov 2026 (their last day off)" in escalation
    assert env.dms_to("U1") == []
    assert await env.rows("U1") == []
    # Once: later ticks while away add nothing.
    env.at(datetime(2026, 11, 27, 10, tzinfo=UTC))
    await env.tick()
    assert len(env.dms_to("UADMIN")) == 1
    # Back, the owner hears of it in their own reminders.
    env.at(datetime(2026, 11, 30, 10, tzinfo=UTC))
    await env.tick()
    assert [("D-1" in t) for t in env.dms_to("U1")] == [True]


async def test_without_time_off_the_escalation_waits_for_the_reminders(env: Env) -> None:
    """The control: the same item, nobody away, goes to the owner first."""
    await env.command("/decision", "new Ship the beta by tuesday", user_id="U1")
    await env.override({"nudges": {"escalate_to": "UADMIN"}})
    env.at(datetime(2026, 11, 25, 10, tzinfo=UTC))
    await env.tick()
    assert env.dms_to("UADMIN") == []
    assert len(env.dms_to("U1")) == 1
