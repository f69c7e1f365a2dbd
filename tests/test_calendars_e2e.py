"""Calendar feeds end to end: the slash commands over signed HTTP, the worker's tick reading a
feed from a calendar server on loopback, and the meetings, nudges and numbers that follow."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.cadence.config import CadenceConfig
from bot.calendars.fetch import HttpFetcher
from bot.calendars.models import CalendarFeed, CalendarOccurrence
from bot.calendars.poll import CalendarPoller, PollReport
from bot.calendars.secrets import NO_KEY, SecretBox
from bot.calendars.service import CalendarOptions
from bot.clock import ManualClock
from bot.db import Database
from bot.delivery.pacing import Pacing
from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import FakeSlack
from bot.meetings.models import Meeting
from bot.slack.app import build_app
from bot.slack.compose import default_composers
from bot.slack.deps import Deps
from bot.slack.sender import Sender, SlackClients, static_token
from bot.web import SlackGate, create_web_app
from bot.worker import Jobs, TickReport, email_lookup, zone_lookup
from bot.workspace import WorkspaceKey
from tests.calendar_support import KEY, TEAM_FEED, CalendarServer
from tests.conftest import BOT_TOKEN, MONDAY, SIGNING_SECRET, AppEnv, make_settings

WS = WorkspaceKey("T1")


class Env(AppEnv):
    jobs: Jobs
    server: CalendarServer
    clock: ManualClock

    async def tick(self, at: datetime) -> TickReport:
        self.clock.set(at)
        return await self.jobs.tick()

    def said(self, response: httpx.Response) -> str:
        return str(response.json().get("text", ""))

    async def meetings(self) -> list[Meeting]:
        async with self.deps.db.transaction() as session:
            return list(
                await session.scalars(
                    select(Meeting).where(Meeting.in_workspace(WS)).order_by(Meeting.number)
                )
            )

    def posts_to(self, channel: str) -> list[str]:
        return [
            str(c.params.get("text", ""))
            for c in self.fake.calls_to("chat.postMessage")
            if c.ok and c.params["channel"] == channel
        ]


@pytest.fixture
async def env(
    db: Database, fake_slack: FakeSlack, clock: ManualClock, db_url: str
) -> AsyncIterator[Env]:
    fake_slack.users["U1"].email = "ana@example.com"
    fake_slack.users["U2"].email = "ben@example.com"
    settings = make_settings(db_url, fake_slack)
    cadence = CadenceConfig()
    options = CalendarOptions(box=SecretBox(KEY), allow_private=True)
    deps = Deps(db=db, clock=clock, cadence=cadence, calendars=options)
    bolt = build_app(settings, deps)
    web = create_web_app(
        bolt,
        db,
        oauth=False,
        gate=SlackGate.for_settings(settings, db),
        follow_ups=deps.follow_ups,
        dispose_db=False,
    )
    clients = SlackClients(settings, static_token(BOT_TOKEN))
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
    fetcher = HttpFetcher(allow_private=True, timeout=1.0, max_bytes=1_000_000)
    jobs.add_source(
        "calendars",
        CalendarPoller(
            db=db,
            fetcher=fetcher,
            box=options.box,
            base=cadence,
            lookup_email=email_lookup(clients),
        ),
    )
    async with (
        CalendarServer() as server,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=web), base_url="http://testserver"
        ) as http,
    ):
        driver = SlackDriver(
            http, signing_secret=SIGNING_SECRET, response_url_for=fake_slack.response_url
        )
        made = Env(settings=settings, deps=deps, fake=fake_slack, driver=driver, http=http, web=web)
        made.jobs, made.server, made.clock = jobs, server, clock
        yield made
        await made.settle()
    await fetcher.aclose()
    await clients.close()
    if bolt.client.session is not None:
        await bolt.client.session.close()


async def test_add_list_remove_keep_the_address_secret(env: Env) -> None:
    env.server.files["team.ics"] = TEAM_FEED
    url = env.server.url("team.ics") + "?token=private-5ecre7"
    added = env.said(await env.command("/meeting", f"calendar add {url}"))
    assert "now follows the calendar" in added
    assert "5ecre7" not in added and "team.ics" not in added
    async with env.deps.db.transaction() as session:
        feed = (await session.scalars(select(CalendarFeed))).one()
    assert "5ecre7" not in feed.url_secret and "127.0.0.1" not in feed.url_secret
    assert SecretBox(KEY).open(feed.url_secret) == url

    listed = env.said(await env.command("/meeting", "calendar list"))
    assert "1." in listed and "not read yet" in listed and "5ecre7" not in listed
    again = env.said(await env.command("/meeting", f"calendar add {url}"))
    assert again == "This channel already follows that calendar (number 1)."
    assert "follows no calendar" in env.said(
        await env.command("/meeting", "calendar list", channel_id="C2")
    )
    removed = env.said(await env.command("/meeting", "calendar remove 1"))
    assert "no longer follows" in removed and "5ecre7" not in removed
    missing = env.said(await env.command("/meeting", "calendar remove 1"))
    assert missing == "This channel follows no calendar; `/meeting calendar add URL` adds one."


async def test_adding_is_refused_without_an_encryption_key(env: Env) -> None:
    env.deps.calendars = CalendarOptions(box=None)
    said = env.said(await env.command("/meeting", "calendar add https://example.com/a.ics"))
    assert said == NO_KEY
    async with env.deps.db.transaction() as session:
        assert (await session.scalars(select(CalendarFeed))).all() == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://example.com/a.ics", "That is not a calendar address I can read"),
        ("https://10.0.0.5/a.ics", "That address points at a private network"),
        ("http://localhost:8080/a.ics", "That address points at this machine"),
    ],
)
async def test_bad_addresses_are_refused_in_a_sentence(env: Env, url: str, expected: str) -> None:
    env.deps.calendars = CalendarOptions(box=SecretBox(KEY), allow_private=False)
    said = env.said(await env.command("/meeting", f"calendar add {url}"))
    assert said.startswith(expected)
    async with env.deps.db.transaction() as session:
        assert (await session.scalars(select(CalendarFeed))).all() == []


async def test_a_feed_that_fails_shows_its_error_and_backs_off(env: Env) -> None:
    for name in ("missing.ics", "not-ical.ics", "huge.ics"):
        await env.command("/meeting", f"calendar add {env.server.url(name)}")
    report = await env.tick(MONDAY)
    assert report.steps["calendars"] == PollReport(failed=3)
    listed = env.said(await env.command("/meeting", "calendar list"))
    assert "The server answered HTTP 404." in listed
    assert "did not return an iCalendar (.ics) feed" in listed
    assert "larger than 976 KiB" in listed
    # Twenty minutes' wait after the first failure: not asked again after eleven.
    await env.tick(MONDAY + timedelta(minutes=11))
    assert env.server.hits["missing.ics"] == 1
    await env.tick(MONDAY + timedelta(minutes=21))
    assert env.server.hits["missing.ics"] == 2
    async with env.deps.db.transaction() as session:
        feed = (await session.scalars(select(CalendarFeed).order_by(CalendarFeed.id))).first()
    assert feed is not None and feed.failures == 2
    assert feed.next_fetch_at == MONDAY + timedelta(minutes=21) + timedelta(minutes=40)


async def test_a_feed_is_read_at_most_every_ten_minutes_with_its_etag(env: Env) -> None:
    env.server.files["team.ics"] = TEAM_FEED
    await env.command("/meeting", f"calendar add {env.server.url('team.ics')}")
    first = await env.tick(MONDAY)
    assert first.steps["calendars"] == PollReport(fetched=1)
    await env.tick(MONDAY + timedelta(minutes=5))
    assert env.server.hits["team.ics"] == 1
    later = await env.tick(MONDAY + timedelta(minutes=10))
    assert later.steps["calendars"] == PollReport(unchanged=1)
    assert env.server.conditional_hits["team.ics"] == 1
    listed = env.said(await env.command("/meeting", "calendar list"))
    assert "last read" in listed and "upcoming meetings" in listed


async def test_calendar_events_become_meetings_that_owe_outcomes(env: Env) -> None:
    env.server.files["team.ics"] = TEAM_FEED
    await env.command("/meeting", f"calendar add {env.server.url('team.ics')}")
    await env.tick(MONDAY)  # Monday 23 Nov, 10:00 UTC
    async with env.deps.db.transaction() as session:
        expected = list(
            await session.scalars(select(CalendarOccurrence).order_by(CalendarOccurrence.starts_at))
        )
    # From the feed's adding on: the series (24 Nov, 1 Dec moved; 8 Dec cancelled, 15 Dec
    # removed) and the vendor call; not the all-day offsite, focus time or the declined one.
    assert [(o.title, f"{o.starts_at:%m-%d %H:%M}") for o in expected] == [
        ("Weekly sync", "11-24 09:00"),
        ("Vendor call", "12-01 10:00"),
        ("Weekly sync (moved)", "12-01 13:00"),
    ]
    assert await env.meetings() == []  # expected, not held yet

    # 24 Nov: ben starts the meeting in the channel during the event: it is the same meeting.
    env.clock.set(datetime(2026, 11, 24, 9, 5, tzinfo=UTC))
    await env.command("/meeting", "start Weekly sync", user_id="U2")
    env.clock.set(datetime(2026, 11, 24, 9, 55, tzinfo=UTC))
    await env.command("/meeting", "end", user_id="U2")
    await env.tick(datetime(2026, 11, 24, 11, 0, tzinfo=UTC))
    [started] = await env.meetings()
    assert started.number == 1 and started.organizer_id == "U2"

    # The organizer moves 1 Dec by another hour and renames it; the next read moves it.
    env.server.files["team.ics"] = TEAM_FEED.replace("20261201T140000", "20261201T150000").replace(
        "20261201T150000\nSUMMARY:Weekly sync (moved)", "20261201T160000\nSUMMARY:Planning"
    )
    # 2 Dec, 09:30 UTC: both 1 Dec meetings ended more than outcome_grace_hours ago.
    report = await env.tick(datetime(2026, 12, 2, 9, 30, tzinfo=UTC))
    assert report.steps["calendars"] == PollReport(fetched=1, meetings=2)
    held = await env.meetings()
    assert [(m.number, m.title, m.organizer_id) for m in held] == [
        (1, "Weekly sync", "U2"),
        (2, "Vendor call", "C1"),  # organizer unknown to Slack: the channel owes it
        (3, "Planning", "U1"),  # ana, found by users.lookupByEmail
    ]
    assert held[2].started_at == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert held[2].ended_at == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    assert report.sent.sent == 2
    assert any("M-3" in text for text in env.posts_to("U1"))
    assert any("M-2" in text for text in env.posts_to("C1"))
    assert [c.params["email"] for c in env.fake.calls_to("users.lookupByEmail")].count(
        "ana@example.com"
    ) == 1  # answers are kept, not asked on every read

    # Point 6: per channel, this week so far against the same stretch of the week before.
    await env.command("/hygiene", "stats so far", user_id="U1", channel_id="C1")
    assert env.fake.responses, "no stats reply"
    shown = str(env.fake.responses[-1].body.get("blocks"))
    assert "Meetings on the calendar / recorded / with outcomes" in shown
    # This week: the vendor call and the moved sync, both brought in by the calendar; the week
    # before: the 24 Nov sync, which ben also recorded with /meeting start.
    assert (
        "<#C1>: 2 meetings on the calendar, 0 recorded, 0 with outcomes (" in shown
        and ": 1 / 1 / 0)" in shown
    )
