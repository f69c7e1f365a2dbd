"""The daily reminder DM (issue 15 point 2), through the real planner, sender and fake Slack.

Everything due for a person goes out in one DM a working day, at the start of their day, most
urgent first; its buttons update that DM in place; escalations stay messages of their own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select, update

from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock
from bot.db import Database
from bot.decisions import service as decisions
from bot.delivery.models import Delivery, DeliveryStatus
from bot.devtools.blockkit_checks import check_message
from bot.devtools.fake_slack import FakeSlack
from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.nudges import daily
from bot.prefs import service as prefs
from bot.slack.blocks import nudges as blocks
from bot.slack.limits import MESSAGE_BLOCKS_MAX
from bot.worker import Jobs, TickReport
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces
from bot.workspaces.models import Workspace
from tests.conftest import MONDAY, AppEnv
from tests.worker_support import wired_worker

WS = WorkspaceKey("T1")
WEEK_AGO = MONDAY - timedelta(days=8)  # Sunday 15 Nov: stalled by Monday 23 Nov
BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


class Env(AppEnv):
    jobs: Jobs

    def at(self, moment: datetime) -> None:
        self.deps.clock.set(moment)  # type: ignore[attr-defined]

    async def tick_at(self, moment: datetime) -> TickReport:
        self.at(moment)
        return await self.jobs.tick()

    def dms_to(self, user: str) -> list[dict[str, Any]]:
        """Every reminder DM posted to ``user`` (not the "What happens now?" a decision they
        own gets once decided), checked against Slack's limits."""
        posts = [
            c.params
            for c in self.fake.calls_to("chat.postMessage")
            if c.ok and c.params["channel"] == user and "What happens now?" not in c.params["text"]
        ]
        for params in posts:
            assert check_message(params) == [], params["text"]
        return posts

    def message(self, params: dict[str, Any], user: str = "U1") -> dict[str, Any]:
        """A posted DM as the message a button press comes from (its ``ts`` from the fake)."""
        ts = next(
            ts
            for (channel, ts), m in self.fake.messages.items()
            if channel == f"D{user}" and m.text == params["text"]
        )
        return {"ts": ts, "type": "message", "text": params["text"], "blocks": params["blocks"]}

    def updates_of(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        found = [
            c.params for c in self.fake.calls_to("chat.update") if c.params["ts"] == message["ts"]
        ]
        for params in found:
            assert check_message(params) == []
        return found

    async def choose(
        self, action_id: str, value: str, *, user: str, message: dict[str, Any], block: str
    ) -> httpx.Response:
        payload = self.driver.block_action_payload(
            action={
                "type": "static_select",
                "action_id": action_id,
                "block_id": block,
                "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value},
            },
            user_id=user,
            channel_id=f"D{user}",
            message=message,
        )
        return await self.interact(self.driver.interact(payload))


@pytest.fixture
async def env(
    db: Database, fake_slack: FakeSlack, clock: ManualClock, db_url: str
) -> AsyncIterator[Env]:
    async with wired_worker(db, fake_slack, clock, db_url, Env) as made:
        yield made


async def add_decisions(
    db: Database, count: int, *, owner: str = "U1", at: datetime = WEEK_AGO, due: date | None = None
) -> None:
    async with db.transaction() as session:
        await workspaces.ensure_workspace(session, ws=WS, now=at)
        requests = [
            decisions.new_decision(
                ws=WS,
                title=f"Question {n}",
                owner_id=owner,
                creator_id=owner,
                channel_id="C1",
                now=at,
                due_date=due,
            )
            for n in range(1, count + 1)
        ]
        for request in requests:
            await decisions.create_decision(session, request)


async def overrides(db: Database, values: dict[str, Any]) -> None:
    async with db.transaction() as session:
        await session.execute(
            update(Workspace).where(Workspace.in_workspace(WS)).values(overrides=values)
        )


async def rows(db: Database, kind: str | None = None) -> list[Delivery]:
    async with db.transaction() as session:
        query = select(Delivery).order_by(Delivery.id)
        if kind is not None:
            query = query.where(Delivery.kind == kind)
        return list((await session.scalars(query)).all())


def entry_refs(params: dict[str, Any]) -> list[str]:
    """The items a daily DM lists, in order (the bold reference of each entry's section)."""
    found = []
    for block in params["blocks"]:
        text = (block.get("text") or {}).get("text") or ""
        if block["type"] == "section" and text.startswith(":") and "*" in text:
            ref = text.split("*")[1]
            if ref[:2] in ("D-", "A-", "M-"):
                found.append(ref)
    return found


def buttons_of(params: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in params["blocks"] if b["type"] == "actions"]


# --- one DM a working day -------------------------------------------------------------------


async def test_sixteen_due_items_make_one_dm_a_working_day_not_sixteen(env: Env) -> None:
    await add_decisions(env.deps.db, 16)
    day = MONDAY.replace(hour=7)  # 08:00 in Berlin, before U1's day starts
    per_day: Counter[date] = Counter()
    while day < utc(2026, 12, 5):
        for hour in (7, 8, 10, 13, 16):  # Berlin 08:00 … 17:00, and again after a minute
            for minute in (0, 1):
                await env.tick_at(day.replace(hour=hour, minute=minute))
        per_day[day.date()] = len(env.dms_to("U1")) - sum(per_day.values())
        day += timedelta(days=1)
    dms = env.dms_to("U1")
    first = dms[0]
    assert len(entry_refs(first)) == 16 and len(buttons_of(first)) == 16
    assert sorted(entry_refs(first)) == sorted(f"D-{n}" for n in range(1, 17))
    assert first["text"].startswith("16 things are waiting for you today: D-")
    # Sent at the start of U1's day (09:00 Berlin, 08:00 UTC), never twice a day, never at the
    # weekend; the rhythm (every 2 working days) decides which days have one.
    assert max(per_day.values()) == 1
    assert per_day[date(2026, 11, 28)] == per_day[date(2026, 11, 29)] == 0
    assert [d for d, n in sorted(per_day.items()) if n] == [
        date(2026, 11, 23),
        date(2026, 11, 25),
        date(2026, 11, 27),
        date(2026, 12, 1),
        date(2026, 12, 3),
    ]
    sent = [
        c for c in env.fake.calls_to("chat.postMessage") if c.ok and c.params["channel"] == "U1"
    ]
    assert len(sent) == 5
    # The ledger agrees: one daily row per day, each reminder sent once, in its day's DM.
    dailies = await rows(env.deps.db, daily.DAILY_KIND)
    assert [r.status for r in dailies] == ["sent"] * 5
    reminders = await rows(env.deps.db, "nudge:decision")
    assert len(reminders) == 16 * 5 and {r.status for r in reminders} == {"sent"}
    assert {r.message_ts for r in reminders} == {r.message_ts for r in dailies}


async def test_the_dm_waits_for_the_start_of_the_recipients_day(env: Env) -> None:
    await add_decisions(env.deps.db, 2, owner="U2")  # Los Angeles
    report = await env.tick_at(MONDAY)  # 02:00 in Los Angeles
    assert report.planned.daily == 1 and env.dms_to("U2") == []
    (row,) = await rows(env.deps.db, daily.DAILY_KIND)
    assert row.due_at == utc(2026, 11, 23, 17)  # 09:00 PST
    assert (row.subject, row.recipient, row.period) == ("daily:U2", "U2", "2026-11-23")
    await env.tick_at(utc(2026, 11, 23, 16, 59))
    assert env.dms_to("U2") == []
    await env.tick_at(utc(2026, 11, 23, 17))
    assert len(env.dms_to("U2")) == 1


async def test_sixty_items_end_with_the_limit_line(env: Env) -> None:
    await add_decisions(env.deps.db, 60)
    await env.tick_at(MONDAY)
    (dm,) = env.dms_to("U1")
    assert len(dm["blocks"]) <= MESSAGE_BLOCKS_MAX
    assert len(entry_refs(dm)) == 24
    assert dm["blocks"][-1]["type"] == "context"
    assert "and 36 more: see App Home" in str(dm["blocks"][-1])
    assert dm["text"].startswith("60 things are waiting for you today")


async def test_most_urgent_first(env: Env) -> None:
    """More reminders first (nearest to escalation), then stalled longest."""
    await add_decisions(env.deps.db, 1, at=utc(2026, 11, 2, 10))  # D-1: stalled long ago
    async with env.deps.db.transaction() as session:
        for at, title in ((utc(2026, 11, 13, 10), "Fresh"), (utc(2026, 11, 12, 10), "Older")):
            await decisions.create_decision(
                session,
                decisions.new_decision(
                    ws=WS, title=title, owner_id="U1", creator_id="U1", channel_id="C1", now=at
                ),
            )
    await env.tick_at(MONDAY.replace(hour=8))  # 09:00 in Berlin
    (dm,) = env.dms_to("U1")
    # D-1 stalled on 9 Nov and is on reminder 5; D-3 stalled on 19 Nov, D-2 on 20 Nov.
    assert entry_refs(dm) == ["D-1", "D-3", "D-2"]
    assert "Reminder 5" in str(dm["blocks"][1])


async def test_no_dm_at_the_weekend_or_on_a_holiday(env: Env) -> None:
    await add_decisions(env.deps.db, 3, due=date(2026, 11, 26))  # overdue from Fri 27 Nov
    await overrides(env.deps.db, {"working_hours": {"holidays": ["2026-11-30"]}})
    for moment in (utc(2026, 11, 27, 7), utc(2026, 11, 28, 9), utc(2026, 11, 29, 12)):
        await env.tick_at(moment)  # before Friday's start, then Saturday and Sunday
    await env.tick_at(utc(2026, 11, 30, 9))  # Monday 30 Nov is a holiday
    await env.tick_at(utc(2026, 11, 30, 15))
    assert env.dms_to("U1") == []
    await env.tick_at(utc(2026, 12, 1, 8))  # Tuesday 09:00 in Berlin
    (dm,) = env.dms_to("U1")
    assert len(entry_refs(dm)) == 3


# --- the "still wanted?" rule, nothing lost, nothing twice ---------------------------------------


async def test_an_item_settled_before_the_send_is_left_out(env: Env) -> None:
    await add_decisions(env.deps.db, 3)
    await env.tick_at(MONDAY.replace(hour=7))  # planned for 09:00 Berlin
    assert env.dms_to("U1") == []
    await env.command("/decision", "decide D-2 Acme", user_id="U1")
    await env.tick_at(MONDAY.replace(hour=8))
    (dm,) = env.dms_to("U1")
    assert entry_refs(dm) == ["D-1", "D-3"]
    statuses = {r.subject: r.status for r in await rows(env.deps.db, "nudge:decision")}
    assert statuses == {"D-1": "sent", "D-2": "cancelled", "D-3": "sent"}


async def test_a_dm_with_nothing_left_is_not_sent(env: Env) -> None:
    await add_decisions(env.deps.db, 2)
    await env.tick_at(MONDAY.replace(hour=7))
    await env.command("/decision", "decide D-1 Acme", user_id="U1")
    await env.command("/decision", "decide D-2 Acme", user_id="U1")
    report = await env.tick_at(MONDAY.replace(hour=8))
    assert env.dms_to("U1") == []
    assert report.sent.cancelled == 1
    (row,) = await rows(env.deps.db, daily.DAILY_KIND)
    assert row.status == DeliveryStatus.CANCELLED
    # Nothing is left waiting for a later day either.
    await env.tick_at(utc(2026, 11, 24, 8))
    assert env.dms_to("U1") == []


async def test_an_item_due_after_the_days_dm_waits_for_the_next_one(env: Env) -> None:
    await add_decisions(env.deps.db, 1)
    await env.tick_at(MONDAY.replace(hour=8))
    assert len(env.dms_to("U1")) == 1
    # A meeting that owes outcomes falls due at 11:00 (after the grace period): tomorrow's DM.
    async with env.deps.db.transaction() as session:
        session.add(
            Meeting(
                **Meeting.key_values(WS),
                number=1,
                title="Retro",
                organizer_id="U1",
                channel_id="C1",
                started_at=utc(2026, 11, 22, 10),
                ended_at=utc(2026, 11, 22, 11),
                created_at=utc(2026, 11, 22, 10),
            )
        )
    for hour in (11, 12, 15):
        await env.tick_at(MONDAY.replace(hour=hour))
    assert len(env.dms_to("U1")) == 1
    await env.tick_at(utc(2026, 11, 24, 8))
    dms = env.dms_to("U1")
    assert len(dms) == 2 and entry_refs(dms[1]) == ["M-1"]


async def test_a_daily_row_lost_mid_send_holds_its_rows_for_no_other_dm(env: Env) -> None:
    """A send cut short leaves its rows held by that DM: a second daily row takes none of them,
    and once the first goes out every reminder is in it, once."""
    await add_decisions(env.deps.db, 2)
    await env.tick_at(MONDAY.replace(hour=7))
    (first,) = await rows(env.deps.db, daily.DAILY_KIND)
    async with env.deps.db.transaction() as session:
        members = list(
            (await session.scalars(select(Delivery).where(Delivery.kind == "nudge:decision"))).all()
        )
        await daily.hold(session, daily=first, rows=members, now=MONDAY)
        taken = await daily.take_members(
            session,
            daily=Delivery(
                id=first.id + 1000, team_id="T1", enterprise_id="", recipient="U1", payload={}
            ),
            now=MONDAY,
        )
    assert taken == []
    await env.tick_at(MONDAY.replace(hour=8))
    (dm,) = env.dms_to("U1")
    assert sorted(entry_refs(dm)) == ["D-1", "D-2"]


# --- buttons update the DM in place --------------------------------------------------------------


async def add_action(db: Database) -> None:
    async with db.transaction() as session:
        meeting = Meeting(
            **Meeting.key_values(WS),
            number=1,
            title="Planning",
            organizer_id="U2",
            channel_id="C1",
            started_at=WEEK_AGO,
            ended_at=WEEK_AGO,
            created_at=WEEK_AGO,
        )
        session.add(meeting)
        await session.flush()
        session.add(
            Outcome(
                **Outcome.key_values(WS),
                meeting_id=meeting.id,
                number=1,
                kind=OutcomeKind.ACTION,
                text="Send the deck",
                owner_id="U1",
                due_date=date(2026, 11, 20),
                creator_id="U1",
                created_at=WEEK_AGO,
                updated_at=WEEK_AGO,
            )
        )


async def daily_dm(env: Env) -> dict[str, Any]:
    await env.tick_at(MONDAY)
    (dm,) = env.dms_to("U1")
    return env.message(dm)


async def test_snooze_in_the_daily_dm_updates_only_its_entry(env: Env) -> None:
    await add_decisions(env.deps.db, 3)
    message = await daily_dm(env)
    await env.choose(
        "decision_snooze", "T1:D-2:3", user="U1", message=message, block="decision:T1:D-2:nudge"
    )
    (updated,) = env.updates_of(message)
    assert updated["channel"] == "DU1"
    shown = str(updated["blocks"])
    assert "Snoozed until Thu 26 Nov, 09:00 your time." in shown
    assert sorted(buttons_of(updated)) == ["decision:T1:D-1:nudge", "decision:T1:D-3:nudge"]
    assert sorted(entry_refs(updated)) == ["D-1", "D-2", "D-3"]
    assert updated["text"].startswith("2 things are waiting for you today")


async def test_decide_reassign_drop_and_done_update_the_dm_in_place(env: Env) -> None:
    await add_decisions(env.deps.db, 3)
    await add_action(env.deps.db)
    message = await daily_dm(env)
    assert sorted(entry_refs(message)) == ["A-1", "D-1", "D-2", "D-3"]
    # Decide (through its modal).
    await env.interact(
        env.driver.press(
            "decision_decide", user_id="U1", value="T1:D-1", channel_id="DU1", message=message
        )
    )
    view = env.fake.calls_to("views.open")[-1].params["view"]
    await env.interact(
        env.driver.submit(
            view, {"resolution": {"type": "plain_text_input", "value": "Acme"}}, user_id="U1"
        )
    )
    last = env.updates_of(message)[-1]
    assert "Decided: Acme." in str(last["blocks"])
    assert "decision:T1:D-1:nudge" not in buttons_of(last)
    assert len(buttons_of(last)) == 3
    # Reassign.
    await env.interact(
        env.driver.press(
            "decision_reassign",
            user_id="U1",
            selected_user="U2",
            block_id="decision:T1:D-2:nudge",
            channel_id="DU1",
            message=message,
        )
    )
    last = env.updates_of(message)[-1]
    assert "Now with <@U2>." in str(last["blocks"]) and len(buttons_of(last)) == 2
    # Drop (through its modal).
    await env.interact(
        env.driver.press(
            "decision_drop", user_id="U1", value="T1:D-3", channel_id="DU1", message=message
        )
    )
    view = env.fake.calls_to("views.open")[-1].params["view"]
    await env.interact(
        env.driver.submit(view, {"reason": {"type": "plain_text_input"}}, user_id="U1")
    )
    last = env.updates_of(message)[-1]
    assert "Dropped." in str(last["blocks"]) and len(buttons_of(last)) == 1
    # Done on the action item.
    actions = next(b for b in last["blocks"] if b["type"] == "actions")
    await env.interact(
        env.driver.press(
            "action_done",
            user_id="U1",
            value=actions["elements"][0]["value"],
            block_id=actions["block_id"],
            channel_id="DU1",
            message={**message, "blocks": last["blocks"]},
        )
    )
    last = env.updates_of(message)[-1]
    assert buttons_of(last) == []
    assert "Done." in str(last["blocks"])
    assert last["text"].startswith("Nothing here is waiting for you any more")
    # Every update was of the one daily DM; no new message was posted for it.
    assert len(env.dms_to("U1")) == 1


async def test_someone_else_cannot_act_on_the_dm(env: Env) -> None:
    await add_decisions(env.deps.db, 2)
    message = await daily_dm(env)
    await env.choose(
        "decision_snooze", "T1:D-1:7", user="U3", message=message, block="decision:T1:D-1:nudge"
    )
    assert env.updates_of(message) == []
    assert any("or a workspace admin can change it" in str(r.body) for r in env.fake.responses)


# --- escalation -----------------------------------------------------------------------------


async def test_escalation_goes_once_to_escalate_to_and_the_item_leaves_the_dm(env: Env) -> None:
    await add_decisions(env.deps.db, 1)
    await add_decisions(env.deps.db, 1, at=utc(2026, 11, 24, 10))  # D-2 stalls a day later
    await overrides(env.deps.db, {"nudges": {"escalate_to": "UESC1"}})
    day = MONDAY
    while day < utc(2026, 12, 12):
        for hour in (8, 10, 16):
            await env.tick_at(day.replace(hour=hour))
        day += timedelta(days=1)
    escalations = env.dms_to("UESC1")
    assert len(escalations) == 2
    assert ["D-1" in e["text"] for e in escalations] == [True, False]
    # Each decision was in three daily DMs, then never again; never more than one DM a day.
    dms = env.dms_to("U1")
    refs = Counter(ref for dm in dms for ref in entry_refs(dm))
    assert refs == {"D-1": 3, "D-2": 3}
    assert all(
        not any(b["type"] == "actions" for b in e["blocks"]) for e in escalations
    )  # escalations inform, without buttons


# --- pure parts -------------------------------------------------------------------------------


def test_the_daily_slot_is_the_reminder_hour_of_a_working_day() -> None:
    hours = CadenceConfig().working_hours
    at = time(9)
    # Monday 11:00 in Berlin: tomorrow 09:00; Friday evening: Monday; exactly 09:00: now.
    assert daily.daily_slot(utc(2026, 11, 23, 10), BERLIN, hours, at) == utc(2026, 11, 24, 8)
    assert daily.daily_slot(utc(2026, 11, 27, 18), BERLIN, hours, at) == utc(2026, 11, 30, 8)
    assert daily.daily_slot(utc(2026, 11, 23, 8), BERLIN, hours, at) == utc(2026, 11, 23, 8)
    # Across the spring-forward change: 09:00 CEST is 07:00 UTC.
    assert daily.daily_slot(utc(2026, 3, 27, 12), BERLIN, hours, at) == utc(2026, 3, 30, 7)
    # A chosen hour (ownerdm's preferences plug in here) moves the slot.
    assert daily.reminder_hour(time(10, 30), CadenceConfig()) == time(10, 30)
    assert daily.reminder_hour(None, CadenceConfig()) == time(9)


def test_fit_entries_keeps_room_for_the_limit_line() -> None:
    two = [{"type": "section"}, {"type": "actions"}]
    assert blocks.fit_entries([two] * 24) == 24  # 1 + 48 = 49 blocks
    assert blocks.fit_entries([two] * 25) == 24  # 1 + 48 + the "more" line = 50
    assert blocks.fit_entries([[{"type": "section"}]] * 60) == 48


async def test_a_chosen_reminder_hour_moves_the_daily_dm(env: Env) -> None:
    """ownerdm's preference (App Home, bot/prefs) plugs into the planner's reminder hour."""
    await add_decisions(env.deps.db, 2)
    async with env.deps.db.transaction() as session:
        await prefs.save(
            session,
            ws=WS,
            user_id="U1",
            actor_id="U1",
            prefs=prefs.Prefs(reminder_hour=11),
            now=WEEK_AGO,
        )
    await env.tick_at(MONDAY.replace(hour=7))
    (row,) = await rows(env.deps.db, daily.DAILY_KIND)
    assert row.due_at == MONDAY.replace(hour=10)  # 11:00 in Berlin
    await env.tick_at(MONDAY.replace(hour=9, minute=59))
    assert env.dms_to("U1") == []
    await env.tick_at(MONDAY.replace(hour=10))
    (dm,) = env.dms_to("U1")
    assert len(entry_refs(dm)) == 2
