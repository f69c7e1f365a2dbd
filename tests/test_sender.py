"""The sender against the fake Slack: what it posts, and what it does when Slack fails."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock, RunningClock
from bot.db import Database
from bot.decisions import service as decisions
from bot.decisions.cards import CARD_KIND
from bot.delivery import ledger
from bot.delivery.models import Delivery
from bot.delivery.pacing import Pacer, Pacing
from bot.devtools.blockkit_checks import check_message
from bot.devtools.fake_slack import Call, FakeSlack
from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.nudges.planner import plan_nudges
from bot.slack.client import NO_PAUSES
from bot.slack.compose import (
    BatchedReads,
    ComposeContext,
    Composed,
    Composers,
    OutgoingFile,
    OutgoingMessage,
    default_composers,
    fetch_decisions,
)
from bot.slack.sender import (
    PERMANENT_ERRORS,
    Sender,
    SendReport,
    SlackClients,
    static_token,
)
from bot.slack.users import UserDirectory
from bot.worker import Jobs, TickReport, zone_lookup
from bot.workspace import Actor, WorkspaceKey
from bot.workspaces import service as workspaces
from bot.workspaces.models import Workspace
from tests.conftest import BOT_TOKEN, MONDAY, make_settings

WS = WorkspaceKey("T1")
WEEK_AGO = MONDAY - timedelta(days=8)  # stalled by MONDAY (10:00 UTC: 11:00 in Berlin)


@dataclass
class Rig:
    db: Database
    clock: ManualClock
    fake: FakeSlack
    clients: SlackClients
    sender: Sender
    jobs: Jobs

    async def tick(self) -> TickReport:
        return await self.jobs.tick()

    async def send(self) -> SendReport:
        return await self.sender.send_due()

    async def rows(self) -> list[Delivery]:
        """The ledger's rows but the decisions' channel cards (planned with each decision)."""
        async with self.db.transaction() as session:
            return list(
                (
                    await session.scalars(
                        select(Delivery).where(Delivery.kind != CARD_KIND).order_by(Delivery.id)
                    )
                ).all()
            )

    async def row(self) -> Delivery:
        """The one row that becomes a message: a daily DM (its reminders wait in it), an
        escalation or a digest."""
        (only,) = [r for r in await self.rows() if not r.kind.startswith("nudge:")]
        return only

    def posts(self) -> list[dict]:
        return [c.params for c in self.fake.calls_to("chat.postMessage")]


def build_rig(
    db: Database,
    clock: ManualClock,
    fake: FakeSlack,
    db_url: str,
    *,
    pacing: Pacing | None = None,
    composers: Composers | None = None,
    token: str | None = BOT_TOKEN,
) -> Rig:
    settings = make_settings(db_url, fake)

    async def token_for(_ws: WorkspaceKey) -> str | None:
        return token

    clients = SlackClients(
        settings, token_for if token is None else static_token(token), pauses=NO_PAUSES
    )
    users = UserDirectory()
    cadence = CadenceConfig()
    sender = Sender(
        db=db,
        clock=clock,
        clients=clients,
        composers=composers or default_composers(),
        cadence=cadence,
        users=users,
        pacing=pacing or Pacing(channel_interval=0.0),
    )
    jobs = Jobs(
        db=db, clock=clock, cadence=cadence, sender=sender, zone_of=zone_lookup(clients, users)
    )
    return Rig(db, clock, fake, clients, sender, jobs)


@pytest.fixture
async def rig(
    db: Database, clock: ManualClock, fake_slack: FakeSlack, db_url: str
) -> AsyncIterator[Rig]:
    async with db.transaction() as session:
        await workspaces.ensure_workspace(session, ws=WS, now=WEEK_AGO)
    made = build_rig(db, clock, fake_slack, db_url)
    yield made
    await made.clients.close()


async def new_decision(
    db: Database,
    *,
    owner: str = "U1",
    title: str = "Pick a payroll vendor",
    due: date | None = None,
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
                now=WEEK_AGO,
                due_date=due,
            ),
        )
        return d.number


# --- what goes out ---------------------------------------------------------------------------


async def test_a_stalled_decision_becomes_one_dm_with_buttons(rig: Rig) -> None:
    await new_decision(rig.db)
    report = await rig.tick()
    assert (report.planned.planned, report.sent.sent) == (1, 1)
    (post,) = rig.posts()
    assert post["channel"] == "U1"
    assert check_message(post) == []
    assert "D-1" in post["text"] and "Pick a payroll vendor" in post["text"]
    assert "Nothing has moved on it since Sun 15 Nov 2026." in str(post["blocks"])
    actions = next(b for b in post["blocks"] if b["type"] == "actions")
    assert actions["block_id"] == "decision:T1:D-1:nudge"
    assert [e["action_id"] for e in actions["elements"]] == [
        "decision_decide",
        "decision_snooze",
        "decision_reassign",
        "decision_drop",
    ]
    snooze = actions["elements"][1]["options"]
    assert [(o["text"]["text"], o["value"]) for o in snooze] == [
        ("1 day", "T1:D-1:1"),
        ("3 days", "T1:D-1:3"),
        ("1 week", "T1:D-1:7"),
    ]
    row = await rig.row()
    assert (row.status, row.message_channel_id, row.attempts) == ("sent", "DU1", 1)
    assert (row.message_channel_id, row.message_ts) in rig.fake.messages
    # The next tick finds the same reminder planned and sent: nothing more goes out.
    again = await rig.tick()
    assert (again.planned.planned, again.sent.sent) == (0, 0)
    assert len(rig.posts()) == 1


async def test_a_past_due_decision_says_when_it_was_due(rig: Rig) -> None:
    await new_decision(rig.db, due=date(2026, 11, 20))
    await rig.tick()
    (post,) = rig.posts()
    assert "It was due Fri 20 Nov 2026." in str(post["blocks"])
    assert "Due Fri 20 Nov 2026" in str(post["blocks"])


async def test_user_text_in_a_reminder_cannot_ping_or_link(rig: Rig) -> None:
    await new_decision(rig.db, title="Ship <!channel> <http://evil.example|here> @everyone")
    await rig.tick()
    (post,) = rig.posts()
    rendered = post["text"] + str(post["blocks"])
    assert "<!channel>" not in rendered
    assert "<http://evil.example|here>" in rendered  # the link as typed (issue 16)
    assert "@everyone" not in rendered


async def test_every_kind_renders_within_slacks_limits(rig: Rig) -> None:
    async with rig.db.transaction() as session:
        await session.execute(
            update(Workspace)
            .where(Workspace.in_workspace(WS))
            .values(overrides={"nudges": {"escalate_to": "CESCAL", "escalate_after": 1}})
        )
    await new_decision(rig.db, title="x" * 200)
    async with rig.db.transaction() as session:
        outcome_free, with_action = (
            Meeting(
                **Meeting.key_values(WS),
                number=number,
                title="y" * 200,
                organizer_id="U1",
                channel_id="C1",
                started_at=WEEK_AGO,
                ended_at=WEEK_AGO,
                created_at=WEEK_AGO,
            )
            for number in (1, 2)
        )
        session.add_all([outcome_free, with_action])
        await session.flush()
        session.add(
            Outcome(
                **Outcome.key_values(WS),
                meeting_id=with_action.id,
                number=1,
                kind=OutcomeKind.ACTION,
                text="z" * 3000,
                owner_id="U1",
                due_date=WEEK_AGO.date(),
                creator_id="U1",
                created_at=WEEK_AGO,
                updated_at=WEEK_AGO,
            )
        )
    # Day by day from the week before: each item's first reminder, then its escalation.
    rig.clock.set(WEEK_AGO + timedelta(days=1))
    for _ in range(13):
        await rig.tick()
        rig.clock.advance(timedelta(days=1))
    posts = rig.posts()
    kinds = sorted({d.kind for d in await rig.rows() if d.status == "sent"})
    assert kinds == [
        "escalation:action",
        "escalation:decision",
        "escalation:meeting",
        "nudge:action",
        "nudge:decision",
        "nudge:meeting",
        "reminders:daily",  # the reminders went out in the owner's daily DMs
    ]
    for post in posts:
        assert check_message(post) == [], post["text"]
        assert len(post["text"]) <= 300
    # The owner's DMs, the escalations, and the decision's card the tick posts in its channel.
    assert {p["channel"] for p in posts} == {"C1", "CESCAL", "U1"}


# --- when not to send ---------------------------------------------------------------------------


async def test_a_reminder_for_a_decision_decided_meanwhile_is_cancelled(rig: Rig) -> None:
    number = await new_decision(rig.db)
    await plan_nudges(rig.db, base=CadenceConfig(), now=MONDAY, zone_of=rig.jobs.zone_of)
    async with rig.db.transaction() as session:
        await decisions.decide(
            session, ws=WS, number=number, actor=Actor("U1"), resolution="Acme", now=MONDAY
        )
    report = await rig.send()
    # The reminder is cancelled; what is sent is the decide's own "What happens now?" (issue 17).
    # (The week-old decision's channel card, a ledger row since issue 12, is cancelled too: a
    # card more than a day late is old news.)
    assert (report.sent, report.cancelled) == (1, 2)
    assert [p["text"] for p in rig.posts()] == [
        "D-1 Pick a payroll vendor is decided. What happens now?"
    ]
    reminder, day, question = await rig.rows()
    assert (reminder.kind, reminder.status) == ("nudge:decision", "cancelled")
    assert (day.kind, day.status) == ("reminders:daily", "cancelled")  # nothing left in it
    assert (question.kind, question.status) == ("followthrough:what_next", "sent")


async def test_outside_working_hours_the_row_waits_without_an_attempt(rig: Rig) -> None:
    await new_decision(rig.db, owner="U2")  # Los Angeles: 02:00 at MONDAY
    await rig.tick()
    row = await rig.row()
    assert (row.status, row.due_at) == ("pending", MONDAY.replace(hour=17))
    # Someone forces it due early (as a retry's backoff might): the sender still waits.
    async with rig.db.transaction() as session:
        await session.execute(update(Delivery).values(due_at=MONDAY))
    report = await rig.send()
    assert (report.sent, report.deferred) == (0, 1)
    row = await rig.row()
    assert (row.attempts, row.due_at) == (0, MONDAY.replace(hour=17))
    assert "outside working hours in America/Los_Angeles" in (row.last_error or "")
    rig.clock.set(MONDAY.replace(hour=17))
    assert (await rig.send()).sent == 1


async def test_a_workspace_without_a_token_fails_its_rows(
    db: Database, clock: ManualClock, fake_slack: FakeSlack, db_url: str
) -> None:
    async with db.transaction() as session:
        await workspaces.ensure_workspace(session, ws=WS, now=WEEK_AGO)
    rig = build_rig(db, clock, fake_slack, db_url, token=None)
    try:
        await new_decision(db)
        await rig.tick()
        row = await rig.row()
        assert row.status == "failed" and (row.last_error or "").startswith("not_installed")
        assert rig.posts() == []
    finally:
        await rig.clients.close()


# --- when Slack fails ---------------------------------------------------------------------------


async def test_429_with_retry_after_is_honoured_and_sent_once(rig: Rig) -> None:
    await new_decision(rig.db)
    rig.fake.fail_next("chat.postMessage", retry_after=1)
    report = await rig.tick()
    assert report.sent.sent == 1
    first, second = rig.fake.calls_to("chat.postMessage")
    assert (first.error, second.error) == ("ratelimited", None)
    assert second.at - first.at >= 1.0
    assert len(rig.fake.messages) == 1
    assert (await rig.row()).status == "sent"


async def test_429_that_persists_comes_back_after_retry_after(rig: Rig) -> None:
    await new_decision(rig.db)
    rig.fake.fail_next("chat.postMessage", retry_after=0, times=3)
    report = await rig.tick()
    assert (report.sent.sent, report.sent.retried) == (0, 1)
    row = await rig.row()
    assert row.status == "pending" and row.last_error == "ratelimited"
    assert row.due_at >= MONDAY + ledger.backoff(1)
    rig.clock.set(row.due_at)
    assert (await rig.send()).sent == 1
    assert len(rig.fake.messages) == 1


async def test_a_server_error_is_not_resent_by_the_client_and_is_looked_for_first(
    rig: Rig,
) -> None:
    await new_decision(rig.db)
    rig.fake.fail_next("chat.postMessage", status=500)
    report = await rig.tick()
    assert (report.sent.sent, report.sent.retried) == (0, 1)
    # One request: a 5xx may have posted it, so slack_sdk does not send it again blindly.
    assert [c.error for c in rig.fake.calls_to("chat.postMessage")] == ["fatal_error"]
    row = await rig.row()
    assert row.last_error == "outcome unknown: fatal_error"
    rig.clock.advance(ledger.backoff(1))
    report = await rig.send()
    assert (report.sent, report.recovered) == (1, 0)
    # It was looked for in the DM's history first, and only then posted.
    (history,) = rig.fake.calls_to("conversations.history")
    assert history.params["include_all_metadata"] in (True, "true", "1")
    assert len(rig.fake.messages) == 1


@pytest.mark.parametrize("fault", ["status_500", "connection_cut"])
async def test_a_post_slack_accepted_whose_answer_was_lost_is_found_and_not_sent_again(
    rig: Rig, fault: str
) -> None:
    await new_decision(rig.db)
    if fault == "status_500":
        rig.fake.fail_next("chat.postMessage", status=500, after_accepting=True)
    else:
        rig.fake.fail_next("chat.postMessage", drop_connection=True, after_accepting=True)
    report = await rig.tick()
    assert (report.sent.sent, report.sent.retried) == (0, 1)
    assert len(rig.fake.messages) == 1  # Slack has it; the app does not know
    ((channel, ts),) = rig.fake.messages
    (posted,) = rig.fake.messages.values()
    row = await rig.row()
    assert posted.metadata == {
        "event_type": "followthrough_delivery",
        "event_payload": {"delivery_id": str(row.id)},
    }
    rig.clock.advance(ledger.backoff(1))
    report = await rig.send()
    assert (report.sent, report.recovered) == (1, 1)
    assert len(rig.fake.calls_to("chat.postMessage")) == 1
    assert len(rig.fake.messages) == 1
    row = await rig.row()
    assert (row.status, row.message_channel_id, row.message_ts) == ("sent", channel, ts)


async def test_without_the_history_scope_an_unknown_post_is_sent_again(rig: Rig) -> None:
    """The one way left to a second copy: the app may not read that conversation's history."""
    await new_decision(rig.db)
    rig.fake.fail_next("chat.postMessage", status=500, after_accepting=True)
    rig.fake.fail_next("conversations.history", error="missing_scope")
    await rig.tick()
    rig.clock.advance(ledger.backoff(1))
    report = await rig.send()
    assert (report.sent, report.recovered) == (1, 0)
    assert len(rig.fake.messages) == 2


async def test_server_errors_that_persist_back_off_and_then_send(rig: Rig) -> None:
    await new_decision(rig.db)
    rig.fake.fail_next("chat.postMessage", status=503, times=2)
    assert (await rig.tick()).sent.retried == 1
    row = await rig.row()
    assert (row.status, row.attempts, row.due_at) == ("pending", 1, MONDAY + ledger.backoff(1))
    assert await rig.send() == SendReport()  # not due yet
    rig.clock.advance(ledger.backoff(1))
    assert (await rig.send()).retried == 1
    rig.clock.advance(ledger.backoff(2))
    report = await rig.send()
    assert report.sent == 1
    assert (await rig.row()).attempts == 3
    assert len(rig.fake.messages) == 1


async def test_a_dropped_connection_is_not_resent_blindly_but_retried_later(rig: Rig) -> None:
    await new_decision(rig.db)
    rig.fake.fail_next("chat.postMessage", drop_connection=True)
    report = await rig.tick()
    assert (report.sent.sent, report.sent.retried) == (0, 1)
    # One request only: the client did not repeat a post whose outcome it could not know.
    assert [c.error for c in rig.fake.calls_to("chat.postMessage")] == ["connection_dropped"]
    row = await rig.row()
    assert row.status == "pending" and (row.last_error or "").startswith("outcome unknown")
    rig.clock.advance(ledger.backoff(1))
    assert (await rig.send()).sent == 1
    assert len(rig.fake.messages) == 1


@pytest.mark.parametrize("error", sorted(PERMANENT_ERRORS))
async def test_permanent_errors_fail_without_retrying(rig: Rig, error: str) -> None:
    await new_decision(rig.db)
    rig.fake.fail_next("chat.postMessage", error=error)
    report = await rig.tick()
    assert (report.sent.sent, report.sent.failed, report.sent.retried) == (0, 1, 0)
    row = await rig.row()
    assert (row.status, row.last_error, row.attempts) == ("failed", error, 1)
    assert len(rig.fake.calls_to("chat.postMessage")) == 1
    rig.clock.advance(timedelta(days=1))
    assert (await rig.send()).settled == 0


async def test_a_refused_token_is_looked_up_again(
    db: Database, clock: ManualClock, fake_slack: FakeSlack, db_url: str
) -> None:
    async with db.transaction() as session:
        await workspaces.ensure_workspace(session, ws=WS, now=WEEK_AGO)
    tokens = iter(["xoxb-old", "xoxb-new"])
    asked: list[str] = []

    async def token_for(_ws: WorkspaceKey) -> str | None:
        asked.append(next(tokens))
        return asked[-1]

    fake_slack.revoked_tokens.add("xoxb-old")
    rig = build_rig(db, clock, fake_slack, db_url)
    rig.clients = rig.sender.clients = SlackClients(
        make_settings(db_url, fake_slack), token_for, pauses=NO_PAUSES
    )

    async def no_zone(_ws: WorkspaceKey, _user: str) -> None:
        return None

    try:
        await new_decision(db, owner="U1")
        await plan_nudges(db, base=CadenceConfig(), now=MONDAY, zone_of=no_zone)
        assert (await rig.send()).errors == {"token_revoked": 1}
        # The app was reinstalled: the next row asks for the token again instead of reusing it.
        await new_decision(db, owner="UADMIN", title="Second")
        await plan_nudges(db, base=CadenceConfig(), now=MONDAY, zone_of=no_zone)
        assert (await rig.send()).sent == 1
        assert asked == ["xoxb-old", "xoxb-new"]
        assert [c.token for c in fake_slack.calls_to("chat.postMessage")] == [
            "xoxb-old",
            "xoxb-new",
        ]
    finally:
        await rig.clients.close()


# --- composers and the pipeline -------------------------------------------------------------------


async def test_a_kind_without_a_composer_is_retried_not_lost(
    db: Database, clock: ManualClock, fake_slack: FakeSlack, db_url: str
) -> None:
    async with db.transaction() as session:
        await ledger.plan(
            session,
            rows=[ledger.Planned(WS, "retro", "week", "U1", "2026-W48", MONDAY)],
            now=MONDAY,
        )
    rig = build_rig(db, clock, fake_slack, db_url)
    try:
        report = await rig.send()
        assert report.retried == 1
        row = await rig.row()
        assert row.status == "pending" and row.last_error == "no composer for kind 'retro'"

        async def compose_retro(ctx: ComposeContext, delivery: Delivery) -> Composed:
            chart = OutgoingFile(content=b"\x89PNG chart", filename="week.png", title="Trend")
            return OutgoingMessage(
                channel=delivery.recipient, text="Your week", blocks=[], files=(chart,)
            )

        composers = default_composers()
        composers.register("retro", compose_retro)
        with pytest.raises(ValueError, match="already registered"):
            composers.register("retro", compose_retro)
        rig.sender.composers = composers
        clock.advance(ledger.backoff(1))
        assert (await rig.send()).sent == 1
        assert rig.posts()[0]["text"] == "Your week"
        # The chart follows the message into the same conversation.
        (shared,) = fake_slack.files.values()
        assert (shared.name, shared.content, shared.channels) == (
            "week.png",
            b"\x89PNG chart",
            ["DU1"],
        )
        assert (await rig.row()).last_error is None
    finally:
        await rig.clients.close()


async def test_a_failing_composer_does_not_lose_the_row(
    db: Database, clock: ManualClock, fake_slack: FakeSlack, db_url: str
) -> None:
    async def broken(ctx: ComposeContext, delivery: Delivery) -> Composed:
        raise RuntimeError("boom")

    composers = Composers()
    composers.register("broken", broken)
    async with db.transaction() as session:
        await ledger.plan(
            session, rows=[ledger.Planned(WS, "broken", "x", "U1", "p", MONDAY)], now=MONDAY
        )
    rig = build_rig(db, clock, fake_slack, db_url, composers=composers)
    try:
        assert (await rig.send()).retried == 1
        row = await rig.row()
        assert row.status == "pending" and "boom" in (row.last_error or "")
    finally:
        await rig.clients.close()


async def compose_note(ctx: ComposeContext, delivery: Delivery) -> Composed:
    return OutgoingMessage(channel=delivery.recipient, text=f"Note {delivery.period}", blocks=[])


async def plan_notes(db: Database, recipients: list[str]) -> Composers:
    """Rows of a plain kind, several for one person (reminders now share one daily DM, so
    they no longer give one person several rows); the composers that send them."""
    async with db.transaction() as session:
        await ledger.plan(
            session,
            rows=[
                ledger.Planned(WS, "note", "x", recipient, f"p{i}", MONDAY)
                for i, recipient in enumerate(recipients)
            ],
            now=MONDAY,
        )
    composers = Composers()
    composers.register("note", compose_note)
    return composers


async def test_rows_for_one_person_are_paced_a_second_apart(
    db: Database, clock: ManualClock, fake_slack: FakeSlack, db_url: str
) -> None:
    async with db.transaction() as session:
        await workspaces.ensure_workspace(session, ws=WS, now=WEEK_AGO)
    composers = await plan_notes(db, ["U1", "U1", "U1", "UADMIN"])
    # The claim paces by the rows' sent_at, so this test's clock runs with real time.
    running = RunningClock(clock.now())
    rig = build_rig(db, running, fake_slack, db_url, pacing=Pacing(), composers=composers)
    try:
        report = await rig.send()
        assert report.sent == 4
        to_u1 = [
            c.at for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == "U1"
        ]
        assert len(to_u1) == 3
        assert all(later - earlier >= 0.99 for earlier, later in itertools.pairwise(to_u1)), to_u1
        assert fake_slack.rate_limited_count == 0
    finally:
        await rig.clients.close()


async def test_a_stopping_sender_gives_back_what_it_has_not_started(rig: Rig) -> None:
    rig.sender.composers = await plan_notes(rig.db, ["U1", "U1", "U1"])
    rig.sender.pacer = Pacer(Pacing(channel_interval=30.0))
    posted = asyncio.Event()

    def answer(call: Call) -> dict:
        posted.set()
        return {"ok": True, "channel": "DU1", "ts": "1700000000.000100"}

    rig.fake.on("chat.postMessage", answer)
    sending = asyncio.create_task(rig.send())
    await asyncio.wait_for(posted.wait(), timeout=5)
    rig.sender.stop()
    report = await asyncio.wait_for(sending, timeout=5)
    assert report.sent == 1
    rows = await rig.rows()
    assert sorted(r.status for r in rows) == ["pending", "pending", "sent"]
    assert all(r.lease_owner is None for r in rows)
    assert sorted(r.attempts for r in rows) == [0, 0, 1]


# --- the pacer ------------------------------------------------------------------------------------


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_pacer_keeps_a_channel_to_one_post_per_interval() -> None:
    tick = FakeMonotonic()
    pacer = Pacer(Pacing(channel_interval=1.0, workspace_per_minute=100), monotonic=tick)
    assert pacer.delay(WS, "U1") == 0
    pacer.take(WS, "U1")
    assert pacer.delay(WS, "U1") == pytest.approx(1.0)
    assert pacer.delay(WS, "U2") == 0
    assert pacer.delay(WorkspaceKey("T2"), "U1") == 0
    tick.t += 0.4
    assert pacer.delay(WS, "U1") == pytest.approx(0.6)


def test_pacer_keeps_a_workspace_within_its_budget_per_window() -> None:
    tick = FakeMonotonic()
    pacer = Pacer(Pacing(workspace_per_minute=3, window_seconds=61.0), monotonic=tick)
    for channel in ("U1", "U2", "U3"):
        assert pacer.delay(WS, channel) == 0
        pacer.take(WS, channel)
        tick.t += 1.0
    assert pacer.delay(WS, "U4") == pytest.approx(58.0)
    assert pacer.delay(WorkspaceKey("T2"), "U4") == 0
    tick.t += 58.0
    assert pacer.delay(WS, "U4") == 0


def test_pacer_holds_after_a_429() -> None:
    tick = FakeMonotonic()
    pacer = Pacer(Pacing(), monotonic=tick)
    pacer.hold(WS, "U1", 5.0, whole_workspace=False)
    assert pacer.delay(WS, "U1") == pytest.approx(5.0)
    assert pacer.delay(WS, "U2") == 0
    pacer.hold(WS, "U1", 7.0, whole_workspace=True)
    assert pacer.delay(WS, "U2") == pytest.approx(7.0)


def test_workspace_in_flight_follows_the_budget() -> None:
    assert Pacing(workspace_per_minute=300).workspace_in_flight == 15
    assert Pacing(workspace_per_minute=10).workspace_in_flight == 2


async def test_reads_made_at_the_same_moment_share_one_transaction(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        await new_decision(db, title=f"Decision {i}")
    opened = 0
    original = db.transaction

    def counting() -> Any:
        nonlocal opened
        opened += 1
        return original()

    monkeypatch.setattr(db, "transaction", counting)
    reads = BatchedReads(db)
    found = await asyncio.gather(
        *(reads.get(fetch_decisions, WS, n) for n in (1, 2, 3, 4, 5, 5, 99))
    )
    assert [d.number if d else None for d in found] == [1, 2, 3, 4, 5, 5, None]
    assert opened == 1
    other = await reads.get(fetch_decisions, WorkspaceKey("T2"), 1)
    assert other is None and opened == 2
