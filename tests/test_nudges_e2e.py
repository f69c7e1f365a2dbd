"""Reminders end to end: a tick sends the DM, and its buttons work from the DM and update it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select, update

from bot.clock import ManualClock
from bot.db import Database
from bot.decisions import service as decisions
from bot.decisions.models import Decision
from bot.devtools.blockkit_checks import check_message
from bot.devtools.fake_slack import FakeSlack
from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.slack.blocks.nudges import meeting_escalation
from bot.worker import Jobs, TickReport
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces
from bot.workspaces.models import Workspace
from tests.conftest import MONDAY, AppEnv
from tests.worker_support import wired_worker

WS = WorkspaceKey("T1")
WEEK_AGO = MONDAY - timedelta(days=8)


class Env(AppEnv):
    jobs: Jobs

    async def tick(self) -> TickReport:
        return await self.jobs.tick()

    def reminder(self, user: str = "U1") -> dict[str, Any]:
        """The last reminder DM sent to ``user``, as the message a button press comes from."""
        posts = [
            c
            for c in self.fake.calls_to("chat.postMessage")
            if c.ok and c.params["channel"] == user
        ]
        assert posts, f"no reminder reached {user}"
        params = posts[-1].params
        assert check_message(params) == []
        ts = next(
            ts
            for (channel, ts), m in self.fake.messages.items()
            if channel == f"D{user}" and m.text == params["text"]
        )
        return {"ts": ts, "type": "message", "text": params["text"], "blocks": params["blocks"]}

    async def choose(
        self, action_id: str, value: str, *, user: str, message: dict[str, Any], block: str
    ) -> httpx.Response:
        """Pick ``value`` in a static select menu of ``message`` in ``user``'s DM."""
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

    def updates_of(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        found = [
            c.params for c in self.fake.calls_to("chat.update") if c.params["ts"] == message["ts"]
        ]
        for params in found:
            assert check_message(params) == []
        return found


@pytest.fixture
async def env(
    db: Database, fake_slack: FakeSlack, clock: ManualClock, db_url: str
) -> AsyncIterator[Env]:
    async with wired_worker(db, fake_slack, clock, db_url, Env) as made:
        yield made


async def decision(env: Env, number: int = 1) -> Decision:
    async with env.deps.db.transaction() as session:
        return await decisions.get_decision(session, ws=WS, number=number)


async def stalled_decision(env: Env, text: str = "new Pick a payroll vendor") -> dict[str, Any]:
    """Record a decision a week ago, tick now, and return the reminder its owner got."""
    env.deps.clock.set(WEEK_AGO)  # type: ignore[attr-defined]
    await env.command("/decision", text, user_id="U1", channel_id="C1")
    env.deps.clock.set(MONDAY)  # type: ignore[attr-defined]
    report = await env.tick()
    assert report.sent.sent == 1
    return env.reminder("U1")


# --- decisions --------------------------------------------------------------------------------


async def test_snoozing_from_the_reminder_updates_it_and_quiets_reminders(env: Env) -> None:
    message = await stalled_decision(env)
    await env.choose(
        "decision_snooze", "T1:D-1:3", user="U1", message=message, block="decision:T1:D-1:nudge"
    )
    d = await decision(env)
    # Three days from Monday is Thursday; it ends at the start of U1's day: 09:00 in Berlin.
    assert d.snoozed_until == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert d.last_activity_at == MONDAY
    assert [e.action for e in d.events][-1] == "snoozed"
    assert d.events[-1].detail["zone"] == "Europe/Berlin"
    (update,) = env.updates_of(message)
    assert update["channel"] == "DU1"
    assert "Snoozed until Thu 26 Nov, 09:00 your time." in str(update["blocks"])
    assert not [b for b in update["blocks"] if b["type"] == "actions"]
    env.deps.clock.set(MONDAY + timedelta(days=3, minutes=1))  # type: ignore[attr-defined]
    assert (await env.tick()).sent.sent == 0


async def test_a_snooze_past_the_due_date_lands_on_a_working_day_and_says_so(env: Env) -> None:
    """The issue's example: three days on Thu 26 Nov 02:15 UTC, due Friday 27 Nov."""
    message = await stalled_decision(env)
    async with env.deps.db.transaction() as session:
        await session.execute(update(Decision).values(due_date=date(2026, 11, 27)))
    env.deps.clock.set(datetime(2026, 11, 26, 2, 15, tzinfo=UTC))  # type: ignore[attr-defined]
    await env.choose(
        "decision_snooze", "T1:D-1:3", user="U1", message=message, block="decision:T1:D-1:nudge"
    )
    d = await decision(env)
    assert d.snoozed_until == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Mon 09:00 in Berlin
    shown = str(env.updates_of(message)[-1]["blocks"])
    assert "Snoozed until Mon 30 Nov, 09:00 your time." in shown
    assert "after its due date, Fri 27 Nov 2026" in shown
    # The history says until when, on the snoozer's clock.
    env.fake.reset()
    response = await env.command("/decision", "show D-1", user_id="U2")
    history = str(response.json()) + str([r.body for r in env.fake.responses])
    assert "snoozed reminders until Mon 30 Nov, 09:00 their time (Europe/Berlin)" in history


async def test_after_the_escalation_the_owner_hears_no_more_until_someone_acts(env: Env) -> None:
    """Three reminders to U1, then one escalation to UESC1, then silence; activity restarts it."""
    env.deps.clock.set(WEEK_AGO)  # type: ignore[attr-defined]
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1", channel_id="C1")
    async with env.deps.db.transaction() as session:
        await session.execute(
            update(Workspace).values(overrides={"nudges": {"escalate_to": "UESC1"}})
        )

    def dms_to(user: str) -> list[str]:
        return [
            str(c.params["text"])
            for c in env.fake.calls_to("chat.postMessage")
            if c.ok and c.params["channel"] == user
        ]

    day = MONDAY
    while day < datetime(2026, 12, 19, tzinfo=UTC):
        for hour in (10, 16):  # inside working hours in Berlin (U1) and Tokyo/LA alike
            env.deps.clock.set(day.replace(hour=hour))  # type: ignore[attr-defined]
            await env.tick()
        day += timedelta(days=1)
    assert len(dms_to("U1")) == 3  # Mon 23, Wed 25, Fri 27 Nov: no "Reminder 4", "Reminder 5"
    assert len(dms_to("UESC1")) == 1 and "D-1" in dms_to("UESC1")[0]
    # Someone acts: a new due date is activity, and the cycle starts again.
    env.deps.clock.set(datetime(2026, 12, 21, 10, tzinfo=UTC))  # type: ignore[attr-defined]
    await env.command("/decision", "due D-1 2026-12-22", user_id="U1")
    env.deps.clock.set(datetime(2026, 12, 23, 10, tzinfo=UTC))  # type: ignore[attr-defined]
    await env.tick()
    assert len(dms_to("U1")) == 4


async def test_decide_from_the_reminder_opens_the_modal_and_updates_the_dm(env: Env) -> None:
    message = await stalled_decision(env)
    await env.interact(
        env.driver.press(
            "decision_decide", user_id="U1", value="T1:D-1", channel_id="DU1", message=message
        )
    )
    (opened,) = env.fake.calls_to("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "decision_decide"
    await env.interact(
        env.driver.submit(
            view, {"resolution": {"type": "plain_text_input", "value": "Acme"}}, user_id="U1"
        )
    )
    assert (await decision(env)).status == "decided"
    updated = env.updates_of(message)
    assert updated and "Decided" in str(updated[-1]["blocks"])
    env.deps.clock.set(MONDAY + timedelta(days=7))  # type: ignore[attr-defined]
    # No more daily DMs about it; decided with no next step, it is an orphan (issue 17).
    await env.tick()
    texts = [c.params["text"] for c in env.fake.calls_to("chat.postMessage")]
    assert len([t for t in texts if "waiting for you today" in t]) == 1  # the first daily DM
    # Its orphan reminder fell due at 10:00 and waits for U1's next daily DM (Tue 09:00 Berlin),
    # where it is listed with its follow-through buttons, not sent as a DM of its own.
    assert not [t for t in texts if t.startswith("Reminder: D-1")]
    env.deps.clock.set(datetime(2026, 12, 1, 8, tzinfo=UTC))  # type: ignore[attr-defined]
    await env.tick()
    last = env.fake.calls_to("chat.postMessage")[-1].params
    assert last["text"] == "1 thing is waiting for you today: D-1 Pick a payroll vendor"
    assert ":hourglass_flowing_sand: *D-1*" in str(last["blocks"])
    assert "decision_no_action" in str(last["blocks"])


async def test_reassign_and_drop_from_the_reminder(env: Env) -> None:
    message = await stalled_decision(env)
    await env.interact(
        env.driver.press(
            "decision_reassign",
            user_id="U1",
            selected_user="U2",
            block_id="decision:T1:D-1:nudge",
            channel_id="DU1",
            message=message,
        )
    )
    assert (await decision(env)).owner_id == "U2"
    assert "<@U2>" in str(env.updates_of(message)[-1]["blocks"])
    await env.interact(
        env.driver.press(
            "decision_drop", user_id="U2", value="T1:D-1", channel_id="DU1", message=message
        )
    )
    # Drop asks for an optional reason first (issue 16).
    view = env.fake.calls_to("views.open")[-1].params["view"]
    assert view["callback_id"] == "decision_drop"
    await env.interact(
        env.driver.submit(view, {"reason": {"type": "plain_text_input"}}, user_id="U2")
    )
    assert (await decision(env)).status == "dropped"
    assert "Dropped" in str(env.updates_of(message)[-1]["blocks"])


async def test_only_those_who_may_change_it_can_snooze(env: Env) -> None:
    message = await stalled_decision(env)
    await env.choose(
        "decision_snooze", "T1:D-1:7", user="U3", message=message, block="decision:T1:D-1:nudge"
    )
    assert (await decision(env)).snoozed_until is None
    assert env.updates_of(message) == []
    assert any("or a workspace admin can change it" in str(r.body) for r in env.fake.responses)


async def test_a_garbled_snooze_choice_is_a_clear_error(env: Env) -> None:
    message = await stalled_decision(env)
    await env.choose("decision_snooze", "soon", user="U1", message=message, block="x")
    assert (await decision(env)).snoozed_until is None
    assert any("out of date" in str(r.body) for r in env.fake.responses)


async def test_a_decided_decision_gets_no_reminder_that_was_already_planned(env: Env) -> None:
    env.deps.clock.set(WEEK_AGO)  # type: ignore[attr-defined]
    await env.command("/decision", "new Pick a vendor", user_id="U2")  # Los Angeles: waits
    env.deps.clock.set(MONDAY)  # type: ignore[attr-defined]
    assert (await env.tick()).sent.deferred == 0
    await env.command("/decision", "decide D-1 Acme", user_id="U2")
    env.deps.clock.set(MONDAY.replace(hour=17))  # type: ignore[attr-defined]
    report = await env.tick()
    # The reminder is cancelled; what goes out is the decide's "What happens now?" (issue 17).
    assert (report.sent.sent, report.sent.cancelled) == (1, 1)
    assert "What happens now?" in env.reminder("U2")["text"]


# --- meetings and action items ----------------------------------------------------------------


async def add_meeting_with_action(db: Database) -> None:
    async with db.transaction() as session:
        await workspaces.ensure_workspace(session, ws=WS, now=WEEK_AGO)
        owes = Meeting(
            **Meeting.key_values(WS),
            number=1,
            title="Retro",
            organizer_id="U1",
            channel_id="C1",
            started_at=WEEK_AGO,
            ended_at=WEEK_AGO,
            created_at=WEEK_AGO,
        )
        planning = Meeting(
            **Meeting.key_values(WS),
            number=2,
            title="Planning",
            organizer_id="U1",
            channel_id="C1",
            started_at=WEEK_AGO,
            ended_at=WEEK_AGO,
            created_at=WEEK_AGO,
        )
        session.add_all([owes, planning])
        await session.flush()
        session.add(
            Outcome(
                **Outcome.key_values(WS),
                meeting_id=planning.id,
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


def reminder_about(env: Env, ref: str) -> dict[str, Any]:
    for (channel, ts), m in env.fake.messages.items():
        if channel == "DU1" and ref in (m.text or ""):
            return {"ts": ts, "type": "message", "text": m.text, "blocks": m.blocks}
    raise AssertionError(f"no reminder about {ref}")


async def test_action_reminder_snooze_and_done_work_from_the_dm(env: Env) -> None:
    await add_meeting_with_action(env.deps.db)
    report = await env.tick()
    assert report.sent.sent == 1  # the meeting and the action item share U1's daily DM
    message = reminder_about(env, "A-1")
    assert message == reminder_about(env, "M-1")
    actions = next(
        b
        for b in message["blocks"]
        if b["type"] == "actions" and b["block_id"].startswith("action:")
    )
    assert [e["action_id"] for e in actions["elements"]] == ["action_done", "action_snooze"]
    await env.choose(
        "action_snooze", "T1:A-1:7", user="U1", message=message, block=actions["block_id"]
    )
    async with env.deps.db.transaction() as session:
        action = await session.scalar(select(Outcome).where(Outcome.number == 1))
    # A week from Monday: the next Monday, at the start of U1's day (09:00 in Berlin).
    assert action is not None
    assert action.snoozed_until == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    shown = str(env.updates_of(message)[-1]["blocks"])
    assert "Snoozed until Mon 30 Nov, 09:00 your time." in shown
    await env.interact(
        env.driver.press(
            "action_done",
            user_id="U1",
            value=actions["elements"][0]["value"],
            channel_id="DU1",
            message=message,
        )
    )
    async with env.deps.db.transaction() as session:
        action = await session.scalar(select(Outcome).where(Outcome.number == 1))
    assert action is not None and action.done_at is not None


async def test_meeting_reminder_shows_when_it_ended_in_each_readers_zone(env: Env) -> None:
    await add_meeting_with_action(env.deps.db)
    await env.tick()
    blocks = reminder_about(env, "M-1")["blocks"]
    section = next(b["text"]["text"] for b in blocks if "*M-1*" in str(b))
    # Slack shows the token in each reader's zone; a client that cannot falls back to UTC.
    stamp = int(WEEK_AGO.timestamp())
    assert (
        f"It ended <!date^{stamp}^{{date_short_pretty}} {{time}}|2026-11-15 10:00 UTC> "
        "and has no outcomes yet." in section
    )


async def test_meeting_reminder_carries_the_meetings_own_buttons(env: Env) -> None:
    await add_meeting_with_action(env.deps.db)
    await env.tick()
    message = reminder_about(env, "M-1")
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("meeting_record_outcomes", "T1:M-1"),
        ("meeting_no_outcome", "T1:M-1"),
    ]
    await env.interact(
        env.driver.press(
            "meeting_no_outcome", user_id="U1", value="T1:M-1", channel_id="DU1", message=message
        )
    )
    assert env.fake.calls_to("views.open"), "No outcome needed should open its modal"


def test_meeting_escalation_shows_when_it_ended_as_a_date_token() -> None:
    m = Meeting(
        team_id="T1",
        number=1,
        title="Retro",
        organizer_id="U1",
        channel_id="C1",
        started_at=WEEK_AGO,
        ended_at=WEEK_AGO,
    )
    _text, blocks = meeting_escalation(m, reminders=2, zone=ZoneInfo("Europe/Berlin"))
    section = str(blocks[0])
    stamp = int(WEEK_AGO.timestamp())
    # Not the escalation target's fixed Berlin time: each reader's own, with a UTC fallback.
    assert (
        f"It ended <!date^{stamp}^{{date_short_pretty}} {{time}}|2026-11-15 10:00 UTC>" in section
    )
