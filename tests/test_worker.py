"""The worker and run-jobs as processes: exactly once under concurrency, nothing lost on SIGKILL.

These run ``python -m bot run-jobs`` and ``python -m bot worker`` as real subprocesses against a
database of their own and the fake Slack, the way cron and a platform's process manager do.
A worker killed mid-send is tested on PostgreSQL, where several workers are expected (the lease
logic it exercises is covered on both engines in tests/test_ledger.py); the web process killed
mid-burst (cards, meeting summaries and outcome cards each delivered once) on both engines; the
SIGTERM test on SQLite: shutting down does not depend on the engine.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.cadence.config import CadenceConfig
from bot.cli import _parser
from bot.clock import ManualClock
from bot.db import Database
from bot.decisions import service as decisions
from bot.decisions.models import Decision
from bot.delivery import ledger
from bot.delivery.models import Delivery
from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import ApiError, Call, FakeSlack
from bot.meetings import posts
from bot.meetings import service as meetings
from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.migrate import upgrade
from bot.slack.client import NO_PAUSES
from bot.slack.compose import ComposeContext, Composed, Composers, default_composers
from bot.slack.sender import Sender, SlackClients, static_token
from bot.slack.users import UserDirectory
from bot.worker import Jobs, ShiftedClock, zone_lookup
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces
from tests.conftest import BOT_TOKEN, MONDAY, SIGNING_SECRET, fresh_database_url, make_settings

WS = WorkspaceKey("T1")
WEEK_AGO = MONDAY - timedelta(days=8)
PEOPLE = [f"UP{i:02d}" for i in range(12)]


# --- the command line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-11-23T10:00:00Z", datetime.fromisoformat("2026-11-23T10:00:00+00:00")),
        ("2026-11-23T11:00:00+01:00", datetime.fromisoformat("2026-11-23T10:00:00+00:00")),
    ],
)
def test_run_jobs_reads_an_aware_now(given: str, expected: datetime) -> None:
    args = _parser().parse_args(["run-jobs", "--now", given])
    assert args.now == expected and args.now.tzinfo is not None


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("2026-11-23T10:00:00", "has no time zone"),
        ("yesterday", "is not an ISO-8601 date and time"),
        ("2026-13-45T10:00Z", "is not an ISO-8601 date and time"),
    ],
)
def test_run_jobs_refuses_a_bad_now_with_exit_code_2(
    given: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        _parser().parse_args(["run-jobs", "--now", given])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert complaint in error and "2026-11-23T10:00:00Z" in error


def test_shifted_clock_starts_at_now_and_runs_on() -> None:
    clock = ShiftedClock(MONDAY)
    first = clock.now()
    assert MONDAY <= first < MONDAY + timedelta(seconds=5)
    assert clock.now() >= first
    with pytest.raises(ValueError):
        ShiftedClock(datetime(2026, 11, 23, 10))


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def own_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = fresh_database_url(request.param, tmp_path, "followthrough_worker_test")
    upgrade(url)
    return url


async def seed(url: str, owners: list[str]) -> None:
    """The workspace and one decision per owner, stalled by MONDAY."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            await workspaces.ensure_workspace(session, ws=WS, now=WEEK_AGO)
            for owner in owners:
                await decisions.create_decision(
                    session,
                    decisions.new_decision(
                        ws=WS,
                        title=f"Decision for {owner}",
                        owner_id=owner,
                        creator_id=owner,
                        channel_id="C1",
                        now=WEEK_AGO,
                    ),
                )
    finally:
        await db.dispose()


async def deliveries(url: str, *, cards: bool = False) -> list[Delivery]:
    """The ledger's rows; without ``cards``, not the decisions' channel cards (planned with each
    seeded decision, and cancelled as a week late)."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            query = select(Delivery).order_by(Delivery.id)
            if not cards:
                query = query.where(Delivery.kind != "card:decision")
            return list((await session.scalars(query)).all())
    finally:
        await db.dispose()


def add_people(fake: FakeSlack) -> None:
    for person in PEOPLE:
        fake.add_user(person, name=person.lower(), tz="Europe/Berlin")


def environment(url: str, api_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DATABASE_URL", "FOLLOWTHROUGH_"))
    }
    env.update(
        DATABASE_URL=url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=api_url,
        LOG_LEVEL="INFO",
    )
    return env


async def start(args: list[str], env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run_jobs(url: str, api_url: str, now: datetime, cwd: Path) -> tuple[int, str, str]:
    process = await start(["run-jobs", "--now", now.isoformat()], environment(url, api_url), cwd)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def sent_per_key(rows: list[Delivery]) -> Counter[tuple[str, str, str, str]]:
    return Counter((d.kind, d.subject, d.recipient, d.period) for d in rows if d.status == "sent")


# --- run-jobs ----------------------------------------------------------------------------------


@pytest.mark.slow
async def test_run_jobs_plans_sends_and_exits(
    own_db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    add_people(fake_slack)
    await seed(own_db_url, PEOPLE[:2])
    code, out, err = await run_jobs(own_db_url, fake_slack.api_url, MONDAY, tmp_path)
    assert code == 0, err
    assert "planned 2 new of 2 due reminders in 1 workspaces; sent 2" in out
    assert (
        sorted(c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")) == PEOPLE[:2]
    )
    assert BOT_TOKEN not in out + err


@pytest.mark.slow
async def test_two_run_jobs_at_the_same_now_send_nothing_twice(
    own_db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    add_people(fake_slack)
    await seed(own_db_url, PEOPLE)
    results = await asyncio.gather(
        *(run_jobs(own_db_url, fake_slack.api_url, MONDAY, tmp_path) for _ in range(2))
    )
    assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
    again = await run_jobs(own_db_url, fake_slack.api_url, MONDAY, tmp_path)
    assert again[0] == 0 and "sent 0" in again[1]
    posts = Counter(c.params["channel"] for c in fake_slack.calls_to("chat.postMessage"))
    assert posts == Counter(PEOPLE)
    rows = await deliveries(own_db_url)
    # Per person: one reminder, and the daily DM it went out in, each sent once.
    assert Counter(r.kind for r in rows) == {"nudge:decision": 12, "reminders:daily": 12}
    assert len(PEOPLE) == 12 and {r.status for r in rows} == {"sent"}
    assert set(sent_per_key(rows).values()) == {1}


@contextmanager
def fake_on_its_own_thread() -> Iterator[FakeSlack]:
    """A fake Slack whose handlers may block without blocking the test's event loop."""
    loop = asyncio.new_event_loop()
    fake = FakeSlack(team_id="T1")
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(fake.start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="fake-slack", daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.mark.slow
@pytest.mark.parametrize("own_db_url", ["postgres"], indirect=True)
async def test_a_worker_killed_mid_send_loses_nothing(own_db_url: str, tmp_path: Path) -> None:
    with fake_on_its_own_thread() as fake:
        add_people(fake)
        await seed(own_db_url, PEOPLE[:1])
        reached = threading.Event()
        release = threading.Event()
        delivered: list[Call] = []

        def post_message(call: Call) -> dict[str, object]:
            if not reached.is_set():
                # The first sender hangs inside chat.postMessage until it is killed.
                reached.set()
                release.wait(30)
                raise ApiError("fatal_error")
            delivered.append(call)
            return {"ok": True, "channel": f"D{call.params['channel']}", "ts": "1700000001.000100"}

        fake.on("chat.postMessage", post_message)
        env = environment(own_db_url, fake.api_url)
        first = await start(["run-jobs", "--now", MONDAY.isoformat()], env, tmp_path)
        try:
            assert await asyncio.to_thread(reached.wait, 30), "the send never started"
        finally:
            first.kill()
            await first.wait()
            release.set()
        assert first.returncode == -signal.SIGKILL
        reminder, row = await deliveries(own_db_url)  # the reminder waits in the daily DM
        assert (reminder.kind, reminder.status) == ("nudge:decision", "bundled")
        assert reminder.lease_owner == f"daily:{row.id}"
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.lease_owner and row.lease_expires_at is not None
        assert row.lease_expires_at > MONDAY + ledger.LEASE - timedelta(seconds=1)

        # While the lease holds, another run leaves the row alone.
        code, out, err = await run_jobs(
            own_db_url, fake.api_url, MONDAY + timedelta(minutes=5), tmp_path
        )
        assert code == 0, err
        assert "sent 0" in out and delivered == []

        # Once it has expired, the next run sends it, exactly once.
        code, out, err = await run_jobs(
            own_db_url, fake.api_url, MONDAY + ledger.LEASE + timedelta(minutes=1), tmp_path
        )
        assert code == 0, err
        assert "sent 1" in out
        assert [c.params["channel"] for c in delivered] == [PEOPLE[0]]
        reminder, row = await deliveries(own_db_url)
        assert (row.status, row.attempts, row.message_ts) == ("sent", 2, "1700000001.000100")
        assert (reminder.status, reminder.message_ts) == ("sent", "1700000001.000100")


BURST = 50
CHANNELS = [f"C{n}" for n in range(1, 11)]


def burst_command(i: int) -> tuple[str, str, str]:
    """The burst's ``i``th command, its text's unique token, and the channel: by turns a decision
    (its channel card), a logged meeting (its summary) and an outcome of the channel's open
    meeting (its outcome card): the three kinds of message a command posts after its ack."""
    token = f"n{i:02d}"
    channel = CHANNELS[i % len(CHANNELS)]
    match i % 3:
        case 0:
            return "/decision", f"new Item {token}", channel
        case 1:
            return "/meeting", f"log Meeting {token}", channel
        case _:
            return "/outcome", f"Note {token}", channel


async def seed_open_meetings(url: str) -> None:
    """The workspace and one open meeting per channel, for the burst's outcomes."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            now = datetime.now(UTC)
            await workspaces.ensure_workspace(session, ws=WS, now=now)
            for channel in CHANNELS:
                await meetings.start_meeting(
                    session, ws=WS, title="Standup", organizer_id="U1", channel_id=channel, now=now
                )
    finally:
        await db.dispose()


async def burst_deliveries(url: str) -> dict[str, Delivery]:
    """The ledger row of each burst command's message, by the command's token."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            rows = {(r.kind, r.subject): r for r in (await session.scalars(select(Delivery))).all()}
            found: dict[str, Delivery] = {}
            for number, title in (
                await session.execute(select(Decision.number, Decision.title))
            ).all():
                found[title.split()[-1]] = rows[("card:decision", f"D-{number}")]
            for number, title in (
                await session.execute(select(Meeting.number, Meeting.title))
            ).all():
                if title != "Standup":
                    found[title.split()[-1]] = rows[(posts.SUMMARY_KIND, f"M-{number}")]
            # (A decision made while its channel's meeting is open is an outcome too; its
            # message is the decision's card.)
            notes = select(Outcome.id, Outcome.text).where(Outcome.kind == OutcomeKind.NOTE)
            for oid, text in (await session.execute(notes)).all():
                found[text.split()[-1]] = rows[(posts.OUTCOME_CARD_KIND, f"outcome:{oid}")]
            return found
    finally:
        await db.dispose()


@pytest.mark.slow
async def test_a_web_process_killed_mid_burst_loses_no_card_and_sends_none_twice(
    own_db_url: str, tmp_path: Path
) -> None:
    """Issue 12 point 7: ``serve`` is SIGKILLed in the middle of a burst of 50 commands that
    each post a message (a decision's card, a meeting's summary, an outcome's card), one post
    accepted by Slack but not yet answered; then one ``run-jobs`` (after the dead process's
    leases ran out): every acknowledged command's message is in Slack exactly once, and no
    message of any command is there twice (counted by the delivery id in its metadata).

    (Before issue 12 a card was claimed, then posted: the card in flight was lost.)
    """
    await seed_open_meetings(own_db_url)
    with fake_on_its_own_thread() as fake:
        fake.add_user("U1", name="ana", tz="Europe/Berlin")
        for channel in CHANNELS:
            fake.add_channel(channel, name=channel.lower())
        accept = fake._handlers["chat.postMessage"]
        reached, release = threading.Event(), threading.Event()

        def post_message(call: Call) -> dict[str, object]:
            if len(fake.messages) >= 3 and not reached.is_set():
                # Slack takes this one, but its answer comes only once the process is dead.
                reached.set()
                release.wait(60)
            answer: dict[str, object] = accept(call)
            return answer

        fake.on("chat.postMessage", post_message)
        port = free_port()
        env = {**environment(own_db_url, fake.api_url), "HOST": "127.0.0.1", "PORT": str(port)}
        server = await start(["serve"], env, tmp_path)
        acked: set[str] = set()
        sent = 0
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                await until_healthy(http, server)
                driver = SlackDriver(
                    http, signing_secret=SIGNING_SECRET, response_url_for=fake.response_url
                )

                async def one(i: int) -> None:
                    name, text, channel = burst_command(i)
                    try:
                        ack = await driver.command(name, text, user_id="U1", channel_id=channel)
                    except httpx.TransportError:
                        return  # cut off by the kill: not acknowledged
                    if ack.status_code == 200:
                        # What was recorded, naming the token; or "Working on it…" when the
                        # ack could not wait (what was recorded then follows through
                        # respond(), found below).
                        reply = str(ack.json().get("text") or "")
                        assert reply.startswith(("Recorded", "Logged", "Added", "Working")), reply
                        if f"n{i:02d}" in reply:
                            acked.add(f"n{i:02d}")

                tasks: list[asyncio.Task[None]] = []
                for i in range(BURST):
                    if i == 2 * BURST // 3 and not reached.is_set():
                        # Keep a third of the burst for after the kill.
                        assert await asyncio.to_thread(reached.wait, 60), "no post started"
                    if reached.is_set() and len(acked) >= BURST // 3:
                        break
                    tasks.append(asyncio.create_task(one(i)))
                    sent += 1
                    await asyncio.sleep(0.05)
                server.kill()
                await server.wait()
                await asyncio.gather(*tasks)
        finally:
            if server.returncode is None:
                server.kill()
                await server.wait()
            release.set()
        assert server.returncode == -signal.SIGKILL
        assert reached.is_set()
        assert BURST // 3 <= len(acked) <= sent < BURST, (len(acked), sent)
        for _ in range(100):  # the accepted post's handler finishes on the fake's thread
            if sum(1 for c in fake.calls_to("chat.postMessage") if c.ok) == len(fake.messages):
                break
            await asyncio.sleep(0.05)

        code, _out, err = await run_jobs(
            own_db_url,
            fake.api_url,
            datetime.now(UTC) + ledger.LEASE + timedelta(minutes=1),
            tmp_path,
        )
        assert code == 0, err
        for r in fake.responses:  # what the "Working on it…" acks reported later
            reply = str(r.body.get("text") or "")
            if reply.startswith(("Recorded", "Logged", "Added")):
                acked.update(t for t in (f"n{i:02d}" for i in range(sent)) if t in reply)
        # Each kind of message was in the burst, and among what was acknowledged.
        assert {int(t[1:]) % 3 for t in acked} == {0, 1, 2}, acked
        posted = Counter(
            str(m.metadata["event_payload"]["delivery_id"])
            for m in fake.messages.values()
            if m.metadata is not None
        )
        assert len(posted) == len(fake.messages)  # every post names its delivery
        assert set(posted.values()) == {1}, posted  # none twice
        rows = await burst_deliveries(own_db_url)
        assert acked <= set(rows)
        assert {t: posted[str(rows[t].id)] for t in acked} == dict.fromkeys(acked, 1)
        assert {r.status for r in rows.values()} == {"sent"}
        # The post whose answer was lost was found by its metadata, not sent again.
        assert any(r.attempts == 2 for r in rows.values())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def until_healthy(http: httpx.AsyncClient, server: asyncio.subprocess.Process) -> None:
    for _ in range(1200):  # a minute: a loaded machine starts slowly
        if server.returncode is not None:
            pytest.fail(f"the web process exited with {server.returncode}")
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    pytest.fail("the web process never became healthy")


# --- the worker --------------------------------------------------------------------------------


async def test_four_workers_on_the_same_tick_send_each_reminder_once(
    own_db_url: str, fake_slack: FakeSlack
) -> None:
    add_people(fake_slack)
    await seed(own_db_url, PEOPLE)
    settings = make_settings(own_db_url, fake_slack)
    clock = ManualClock(MONDAY)
    fleet: list[Jobs] = []
    for _ in range(4):
        db = Database(own_db_url)
        clients = SlackClients(settings, static_token(BOT_TOKEN), pauses=NO_PAUSES)
        users = UserDirectory()
        sender = Sender(
            db=db,
            clock=clock,
            clients=clients,
            composers=default_composers(),
            cadence=CadenceConfig(),
            users=users,
            claim_size=2,
        )
        fleet.append(
            Jobs(
                db=db,
                clock=clock,
                cadence=CadenceConfig(),
                sender=sender,
                zone_of=zone_lookup(clients, users),
                clients=clients,
            )
        )
    try:
        reports = await asyncio.gather(*(jobs.tick() for jobs in fleet))
    finally:
        for jobs in fleet:
            await jobs.close()
    assert sum(r.planned.planned for r in reports) == len(PEOPLE)
    assert sum(r.sent.sent for r in reports) == len(PEOPLE)
    posts = Counter(c.params["channel"] for c in fake_slack.calls_to("chat.postMessage"))
    assert posts == Counter(PEOPLE)
    assert set(sent_per_key(await deliveries(own_db_url)).values()) == {1}


@pytest.fixture
async def worker_process(
    own_db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await start(["worker"], environment(own_db_url, fake_slack.api_url), tmp_path)
    yield process
    if process.returncode is None:
        process.kill()
        await process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("own_db_url", ["sqlite"], indirect=True)
async def test_the_worker_ticks_and_stops_cleanly_on_sigterm(
    worker_process: asyncio.subprocess.Process,
) -> None:
    assert worker_process.stderr is not None
    seen: list[str] = []

    async def until(text: str) -> None:
        while not any(text in line for line in seen):
            line = await worker_process.stderr.readline()  # type: ignore[union-attr]
            assert line, f"the worker exited before logging {text!r}: {seen}"
            seen.append(line.decode())

    await asyncio.wait_for(until("tick at"), timeout=30)
    worker_process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(until("worker stopped"), timeout=30)
    assert await asyncio.wait_for(worker_process.wait(), timeout=30) == 0


async def test_a_stopping_worker_cancels_a_stuck_send_and_the_row_stays_leased(
    db: Database, clock: ManualClock, fake_slack: FakeSlack, db_url: str
) -> None:
    started, never = asyncio.Event(), asyncio.Event()

    async def stuck(_ctx: ComposeContext, _delivery: Delivery) -> Composed:
        started.set()
        await never.wait()
        return None

    composers = Composers()
    composers.register("stuck", stuck)
    async with db.transaction() as session:
        await ledger.plan(
            session, rows=[ledger.Planned(WS, "stuck", "x", "U1", "p", MONDAY)], now=MONDAY
        )
    clients = SlackClients(
        make_settings(db_url, fake_slack), static_token(BOT_TOKEN), pauses=NO_PAUSES
    )
    sender = Sender(
        db=db, clock=clock, clients=clients, composers=composers, cadence=CadenceConfig()
    )
    jobs = Jobs(
        db=db,
        clock=clock,
        cadence=CadenceConfig(),
        sender=sender,
        zone_of=zone_lookup(clients, UserDirectory()),
    )
    try:
        ticking = asyncio.create_task(jobs.tick())
        await asyncio.wait_for(started.wait(), timeout=10)
        await jobs.stop(grace=0.1)
        assert ticking.cancelled()
    finally:
        await clients.close()
    async with db.transaction() as session:
        (row,) = (await session.scalars(select(Delivery))).all()
    assert (row.status, row.lease_owner, row.attempts) == ("pending", sender.owner, 1)
