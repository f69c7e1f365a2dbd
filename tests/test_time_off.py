"""Time off (issue 15 point 4): /hygiene away and back, held DMs, the stall clock, escalations.

Everything goes through signed requests into the app, the worker's tick (the real planner and
sender) and the fake Slack, on both engines. The clock starts on Monday 23 Nov 2026 10:00 UTC;
U1 (ana) is in Berlin, U2 (ben) in Los Angeles; the workspace works Mon–Fri 09:00–17:30 in UTC,
stall_after_days 5, repeat_every_days 2.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import yaml
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select, update

from bot.clock import ManualClock
from bot.db import Database
from bot.delivery.models import Delivery
from bot.devtools.fake_slack import ApiError, FakeSlack
from bot.digest import stalled
from bot.slack.app import BOT_SCOPES
from bot.slack.holds import Dnd, DndDirectory
from bot.timeoff.models import TimeOff
from bot.worker import Jobs, TickReport
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces
from bot.workspaces.models import Workspace
from tests.conftest import BOT_TOKEN, MONDAY, ROOT, AppEnv
from tests.worker_support import wired_worker

WS = WorkspaceKey("T1")


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
    async with wired_worker(db, fake_slack, clock, db_url, Env) as made:
        yield made


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
    # The reminder is dropped; what U1 hears, once back, is the owner's "What happens now?"
    # (issue 17) and that the admin decided it (U1 recorded it: the owner-and-change notices
    # of issue 15 point 1).
    assert env.dms_to("U1") == [
        "D-1 Ship the beta is decided. What happens now?",
        "D-1 Ship the beta was decided by <@UADMIN>.",
    ]
    assert [(r.kind, r.status) for r in await env.rows("U1")] == [
        ("nudge:decision", "cancelled"),
        ("reminders:daily", "cancelled"),  # nothing left in it: not sent
        ("followthrough:what_next", "sent"),
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

    async def listed_stalled() -> list[str]:
        shown = json.dumps(await env.answer("/decision", "list stalled", user_id="U3"))
        return [ref for ref in ("D-1", "D-2") if ref in shown]

    async def counted_stalled() -> int:
        async with env.deps.db.transaction() as session:
            cadence = await workspaces.cadence_for(session, ws=WS, base=env.deps.cadence)
            counts = await stalled.stalled_counts(
                session,
                ws=WS,
                cadence=cadence,
                ends=[env.deps.clock.now()],
                channels=None,
                by_channel=False,
            )
        return counts[(0, None)]

    env.at(datetime(2026, 11, 30, 9, 59, tzinfo=UTC))
    await env.tick()
    assert await planned("U2") == [] and await planned("U1") == []
    env.at(datetime(2026, 11, 30, 10, tzinfo=UTC))
    await env.tick()
    assert await planned("U2") == ["D-2"]
    assert await planned("U1") == []
    # The same rule everywhere "stalled" is counted: the list and the digest's numbers.
    assert await listed_stalled() == ["D-2"]
    assert await counted_stalled() == 1
    env.at(datetime(2026, 12, 3, 9, 59, tzinfo=UTC))
    await env.tick()
    assert await planned("U1") == []
    env.at(datetime(2026, 12, 3, 10, tzinfo=UTC))
    await env.tick()
    assert await planned("U1") == ["D-1"]
    assert await listed_stalled() == ["D-1", "D-2"]
    assert await counted_stalled() == 2
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


# --- holidays still hold -------------------------------------------------------------------------


async def test_a_holiday_still_holds_a_reminder_until_the_next_working_day(env: Env) -> None:
    """D-1 due Thu 26 Nov is overdue from Fri 27 Nov, a holiday: delivered Mon 30 Nov 09:00."""
    await env.command("/decision", "new Ship the beta by thursday", user_id="U1")
    await env.override({"working_hours": {"holidays": ["2026-11-27"]}})
    env.at(datetime(2026, 11, 27, 10, tzinfo=UTC))
    await env.tick()
    assert env.dms_to("U1") == []
    (held,) = [r for r in await env.rows("U1") if r.kind == "reminders:daily"]
    assert held.due_at == datetime(2026, 11, 30, 8, tzinfo=UTC)  # 09:00 in Berlin
    env.at(held.due_at)
    await env.tick()
    assert len(env.dms_to("U1")) == 1


# --- snoozes skip away days ----------------------------------------------------------------------


async def test_a_snooze_never_ends_inside_the_snoozers_time_off(env: Env) -> None:
    """A reminder on Mon 23 Nov, snoozed a day while U1 is away Tue 24–Fri 27: it ends at the
    start of U1's first working day after, Mon 30 Nov 09:00 in Berlin."""
    env.at(datetime(2026, 11, 15, 10, tzinfo=UTC))
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    env.at(datetime(2026, 11, 23, 10, tzinfo=UTC))
    await env.say("away from tomorrow until friday")
    await env.tick()
    posts = [
        c for c in env.fake.calls_to("chat.postMessage") if c.ok and c.params["channel"] == "U1"
    ]
    (post,) = posts
    ts = next(ts for (channel, ts), m in env.fake.messages.items() if channel == "DU1")
    message = {
        "ts": ts,
        "type": "message",
        "text": post.params["text"],
        "blocks": post.params["blocks"],
    }
    payload = env.driver.block_action_payload(
        action={
            "type": "static_select",
            "action_id": "decision_snooze",
            "block_id": "decision:T1:D-1:nudge",
            "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": "T1:D-1:1"},
        },
        user_id="U1",
        channel_id="DU1",
        message=message,
    )
    await env.interact(env.driver.interact(payload))
    updated = [c.params for c in env.fake.calls_to("chat.update") if c.params["ts"] == ts]
    assert "Snoozed until Mon 30 Nov, 09:00 your time." in str(updated[-1]["blocks"])


# --- Slack's do-not-disturb ----------------------------------------------------------------------


async def test_dnd_holds_a_dm_until_it_ends_across_zones_and_a_dst_change(env: Env) -> None:
    """U2 (Los Angeles) is in do-not-disturb from Fri 30 Oct 09:00 PDT to Mon 2 Nov 08:00 PST;
    US clocks go back on Sun 1 Nov. U1 (Berlin) has none. Both own a decision due Thu 29 Oct,
    overdue from Fri 30 Oct; the tick runs at 16:05 UTC, inside both people's working hours."""
    env.at(datetime(2026, 10, 26, 10, tzinfo=UTC))
    await env.command("/decision", "new Ship the beta by thursday", user_id="U1")
    await env.command("/decision", "new Pick a venue <@U2> by thursday", user_id="U1")
    dnd_end = datetime(2026, 11, 2, 16, tzinfo=UTC)  # 08:00 PST (UTC-8, after the change)
    env.fake.set_dnd("U2", start=datetime(2026, 10, 30, 16, tzinfo=UTC), end=dnd_end)
    told = len(env.dms_to("U2"))  # the notice that U1 made them owner, if it went already
    env.at(datetime(2026, 10, 30, 16, 5, tzinfo=UTC))  # 09:05 PDT in LA, 17:05 CET in Berlin
    await env.tick()
    assert len(env.dms_to("U1")) == 1  # U1 has no do-not-disturb: sent at once
    assert len(env.dms_to("U2")) == told
    # U2's daily DM, with the reminder (the notice that U1 made them owner went out on Mon 26
    # Oct).
    (held,) = [r for r in await env.rows("U2") if r.kind == "reminders:daily"]
    assert held.status == "pending" and held.due_at == dnd_end  # rescheduled, never dropped
    assert (held.last_error or "").startswith("do not disturb")
    env.at(dnd_end)  # DND is over, but 08:00 in LA is before U2's working hours
    await env.tick()
    assert len(env.dms_to("U2")) == told
    (held,) = [r for r in await env.rows("U2") if r.kind == "reminders:daily"]
    # 09:00 PST is 17:00 UTC (it was 16:00 UTC before the change).
    assert held.due_at == datetime(2026, 11, 2, 17, tzinfo=UTC)
    env.at(held.due_at)
    await env.tick()
    # The reminder (and whatever else was held by the do-not-disturb) goes now.
    assert "1 thing is waiting for you today: D-2 Pick a venue" in env.dms_to("U2")[told:]


async def test_a_snooze_in_slack_holds_the_dm_until_it_ends(env: Env) -> None:
    await env.command("/decision", "new Ship the beta by tuesday", user_id="U1")
    until = datetime(2026, 11, 25, 13, 30, tzinfo=UTC)
    env.fake.set_dnd("U1", snooze_until=until)
    env.at(datetime(2026, 11, 25, 10, tzinfo=UTC))
    await env.tick()
    assert env.dms_to("U1") == []
    (held,) = [r for r in await env.rows("U1") if r.kind == "reminders:daily"]
    assert held.due_at == until
    env.at(datetime(2026, 11, 25, 13, tzinfo=UTC))
    await env.tick()
    assert env.dms_to("U1") == []
    env.at(until)
    await env.tick()
    assert len(env.dms_to("U1")) == 1


async def test_without_the_dnd_scope_dms_go_anyway_and_it_is_logged_once(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(_call: Any) -> dict[str, Any]:
        raise ApiError("missing_scope")

    env.fake.on("dnd.info", refuse)
    env.fake.on("dnd.teamInfo", refuse)
    await env.command("/decision", "new Ship the beta by tuesday", user_id="U1")
    await env.command("/decision", "new Pick a venue by wednesday", user_id="U1")
    env.fake.set_dnd("U1", snooze_until=datetime(2026, 11, 30, tzinfo=UTC))  # unseen
    env.at(datetime(2026, 11, 25, 10, tzinfo=UTC))
    with caplog.at_level("WARNING", logger="bot.slack.holds"):
        await env.tick()
        env.at(datetime(2026, 11, 26, 10, tzinfo=UTC))
        await env.tick()
    assert len(env.dms_to("U1")) == 2
    warned = [r for r in caplog.records if "do-not-disturb is unknown" in r.getMessage()]
    assert len(warned) == 1 and "dnd:read" in warned[0].getMessage()


async def test_dnd_lookups_are_batched_and_cached(fake_slack: FakeSlack) -> None:
    """Sixty people asked at once: two dnd.teamInfo calls (50 + 10), none one by one; asked
    again within the minute, no call; a minute later, asked again."""
    for n in range(60):
        fake_slack.add_user(f"UP{n}", name=f"p{n}")
    fake_slack.set_dnd("UP7", start=MONDAY - timedelta(hours=1), end=MONDAY + timedelta(hours=2))
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)
    dnd = DndDirectory()
    people = [f"UP{n}" for n in range(60)]

    async def ask(now: datetime) -> list[Dnd | None]:
        return list(
            await asyncio.gather(
                *(dnd.get(client, team_id="T1", user_id=u, now=now) for u in people)
            )
        )

    found = await ask(MONDAY)
    calls = fake_slack.calls_to("dnd.teamInfo")
    assert [len(c.params["users"].split(",")) for c in calls] == [50, 10]
    assert fake_slack.calls_to("dnd.info") == []
    held = {u for u, d in zip(people, found, strict=True) if d is not None and d.until(MONDAY)}
    assert held == {"UP7"}
    assert found[7] is not None and found[7].until(MONDAY) == MONDAY + timedelta(hours=2)
    await ask(MONDAY + timedelta(seconds=59))
    assert len(fake_slack.calls_to("dnd.teamInfo")) == 2
    await ask(MONDAY + timedelta(seconds=61))
    assert len(fake_slack.calls_to("dnd.teamInfo")) == 4
    # One person alone is asked with dnd.info, which also reports a snooze.
    fake_slack.set_dnd("UP3", snooze_until=MONDAY + timedelta(hours=5))
    alone = await dnd.get(client, team_id="T1", user_id="UP3", now=MONDAY + timedelta(hours=1))
    assert alone is not None and alone.until(MONDAY + timedelta(hours=1)) == MONDAY + timedelta(
        hours=5
    )
    assert len(fake_slack.calls_to("dnd.info")) == 1


def test_the_manifest_and_the_install_ask_for_dnd_read() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert "dnd:read" in manifest["oauth_config"]["scopes"]["bot"]
    assert "dnd:read" in BOT_SCOPES
