"""The digest's schedule, its Block Kit, its chart, the export, and who sees which channel."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.cadence.config import CadenceConfig, DigestSchedule
from bot.db import Database
from bot.devtools.blockkit_checks import check_message
from bot.devtools.fake_slack import FakeSlack
from bot.digest import schedule
from bot.digest.chart import TrendPoint, trend_chart
from bot.digest.export import load_export, render_export
from bot.digest.metrics import Figures
from bot.meetings.models import OutcomeKind
from bot.slack.blocks.digest import Report, StalledItem, report_blocks, report_text
from bot.slack.digest_compose import compose_digest, compose_stats
from bot.slack.text import BROADCAST_BREAKER
from tests.conftest import BOT_TOKEN
from tests.digest_support import WS, add_decision, add_meeting, add_outcome, local, utc


def with_digest(timezone: str = "UTC", **digest: object) -> CadenceConfig:
    values = {"recipients": ["U0MANAGER"], **digest}
    return CadenceConfig(timezone=timezone, digest=DigestSchedule.model_validate(values))


# --- schedule -------------------------------------------------------------------------------------


def test_monday_digest_reports_the_week_just_ended() -> None:
    due = schedule.digest_due(utc(2026, 11, 30, 9, 5), with_digest())
    assert due is not None
    assert due.due_at == utc(2026, 11, 30, 9)
    assert due.period_key == "2026-W48"
    assert (due.week.first_day, due.week.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    assert (due.week.start, due.week.end) == (utc(2026, 11, 23, 0), utc(2026, 11, 30, 0))


def test_digest_is_due_for_a_day_after_its_moment_then_skipped() -> None:
    cadence = with_digest()
    before = schedule.digest_due(utc(2026, 11, 30, 8, 59), cadence)
    late = schedule.digest_due(utc(2026, 12, 1, 8, 59), cadence)
    too_late = schedule.digest_due(utc(2026, 12, 1, 9, 0), cadence)
    assert before is None  # last week's moment is more than a day ago
    assert late is not None and late.period_key == "2026-W48"
    assert too_late is None


def test_no_recipients_means_no_digest() -> None:
    assert schedule.digest_due(utc(2026, 11, 30, 9, 5), CadenceConfig()) is None


def test_a_tick_every_ten_minutes_sees_each_week_once_with_one_moment() -> None:
    """Whatever the tick rate, each period key maps to one due moment, one week apart."""
    cadence = with_digest("America/Los_Angeles", day="sun", time="02:30")
    moments: dict[str, set] = {}
    tick = utc(2026, 2, 20)
    while tick < utc(2026, 4, 20):
        due = schedule.digest_due(tick, cadence)
        if due is not None:
            moments.setdefault(due.period_key, set()).add(due.due_at)
        tick += timedelta(minutes=10)
    assert all(len(found) == 1 for found in moments.values())
    ordered = sorted(next(iter(found)) for found in moments.values())
    assert len(ordered) == 9  # the Sundays from 22 Feb to 19 Apr
    assert all(timedelta(hours=167) <= b - a <= timedelta(hours=169) for a, b in pairwise(ordered))
    # 02:30 does not exist on Sun 8 Mar 2026 in Los Angeles: due at the jump, 03:00 PDT.
    assert local("America/Los_Angeles", 2026, 3, 8, 3, 0) in ordered


def test_auckland_monday_digest_is_due_on_sunday_evening_utc() -> None:
    due = schedule.digest_due(utc(2026, 11, 29, 20, 1), with_digest("Pacific/Auckland"))
    assert due is not None
    assert due.due_at == utc(2026, 11, 29, 20)  # Mon 30 Nov 09:00 NZDT
    assert due.period_key == "2026-W48"
    assert due.week.end == utc(2026, 11, 29, 11)  # Mon 30 Nov 00:00 NZDT


def test_los_angeles_digest_keeps_local_time_across_the_fall_back() -> None:
    cadence = with_digest("America/Los_Angeles")
    before = schedule.digest_due(utc(2026, 10, 26, 16, 30), cadence)
    after = schedule.digest_due(utc(2026, 11, 2, 17, 30), cadence)
    assert before is not None and before.due_at == utc(2026, 10, 26, 16)  # 09:00 PDT
    assert after is not None and after.due_at == utc(2026, 11, 2, 17)  # 09:00 PST
    assert after.week.end - after.week.start == timedelta(hours=169)
    assert after.period_key == "2026-W44"


def test_a_friday_digest_reports_friday_to_thursday() -> None:
    due = schedule.digest_due(utc(2026, 11, 27, 16), with_digest(day="fri", time=time(16)))
    assert due is not None
    assert (due.week.first_day, due.week.last_day) == (date(2026, 11, 20), date(2026, 11, 26))
    assert due.period_key == "2026-W48"


def test_months_in_auckland() -> None:
    cadence = CadenceConfig(timezone="Pacific/Auckland")
    april = schedule.month_of(utc(2026, 4, 10), cadence)
    march = schedule.previous_month(april, cadence)
    assert april.start == local("Pacific/Auckland", 2026, 4, 1, 0)
    assert april.end == local("Pacific/Auckland", 2026, 5, 1, 0)
    assert (march.first_day, march.last_day, march.end) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
        april.start,
    )
    assert schedule.previous_month(schedule.month_of(utc(2026, 1, 15), cadence), cadence).key == (
        "2025-12"
    )


def test_weeks_ending_are_consecutive() -> None:
    cadence = CadenceConfig(timezone="Pacific/Auckland")
    weeks = schedule.weeks_ending(schedule.week_of(utc(2026, 10, 5), cadence), 8, cadence)
    assert len(weeks) == 8
    assert all(a.end == b.start for a, b in pairwise(weeks))
    assert len(schedule.bounds_of(weeks)) == 9


# --- chart ----------------------------------------------------------------------------------------

POINTS = [
    TrendPoint(f"{d} Oct", rate, median)
    for d, rate, median in [
        (5, 50, timedelta(days=2)),
        (12, None, None),
        (19, 100, timedelta(hours=5)),
        (26, 0, timedelta(days=9)),
    ]
]


def test_chart_is_a_deterministic_png_without_metadata() -> None:
    first = trend_chart(POINTS, title="Trend")
    second = trend_chart(POINTS, title="Trend")
    assert first.startswith(b"\x89PNG\r\n\x1a\n")
    assert first == second
    assert b"Software" not in first and b"atplotlib" not in first
    assert trend_chart(POINTS[:3], title="Trend") != first


def test_chart_needs_at_least_one_week() -> None:
    with pytest.raises(ValueError):
        trend_chart([], title="Trend")


# --- Block Kit ------------------------------------------------------------------------------------

ZONE = ZoneInfo("Europe/Berlin")
START, END = utc(2026, 11, 23), utc(2026, 11, 30)


def report(**changes: object) -> Report:
    values: dict[str, object] = {
        "title": "Weekly digest",
        "period_text": "Mon 23 Nov 2026 – Sun 29 Nov 2026 (Europe/Berlin)",
        "current_label": "Week of Mon 23 Nov",
        "previous_label": "week before",
        "comparison": "the week before (Mon 16 Nov – Sun 22 Nov)",
        "current": Figures(start=START, end=END),
        "previous": Figures(start=START - timedelta(days=7), end=START),
        "scope_note": "Public channels only.",
        "zone": ZONE,
    }
    values.update(changes)
    return Report(**values)  # type: ignore[arg-type]


def rendered(r: Report) -> str:
    blocks = report_blocks(r)
    assert check_message({"text": report_text(r), "blocks": blocks}) == []
    return str(blocks)


def test_an_empty_week_reads_as_a_sentence() -> None:
    text = rendered(report())
    assert "Nothing to report" in text
    assert "Meetings held" not in text


def test_a_quiet_week_after_a_busy_one_still_compares() -> None:
    busy = Figures(start=START - timedelta(days=7), end=START, meetings_held=4, decisions_decided=2)
    text = rendered(report(previous=busy))
    assert "no meeting ended and no decision was opened" in text
    assert "*Meetings held*\\n0  _(week before 4; −4)_" in text


def test_comparison_shows_rates_medians_and_changes() -> None:
    now = Figures(
        start=START,
        end=END,
        meetings_held=5,
        meetings_with_outcome=3,
        meetings_no_outcome_needed=1,
        decisions_decided=4,
        median_time_to_decision=timedelta(hours=30),
        stalled=2,
        overdue_actions=1,
    )
    before = Figures(
        start=START - timedelta(days=7),
        end=START,
        meetings_held=4,
        meetings_with_outcome=2,
        decisions_decided=4,
        median_time_to_decision=timedelta(days=3),
    )
    text = rendered(report(current=now, previous=before))
    assert "*Outcome rate*\\n75% of 4  _(week before 50%; +25 pts)_" in text
    assert "30 h  _(week before 3 days; −42 h)_" in text
    assert "*Decisions decided*\\n4  _(week before 4; no change)_" in text
    assert "1 marked “no outcome needed”" in text
    assert "*Oldest stalled decisions* (2 stalled)" in text


def test_percentages_round_half_up_and_counts_agree_in_number() -> None:
    # 5 of 8 is 62.5 %, 3 of 8 is 37.5 %: half up gives 63 % and 38 % (half to even: 62, 38).
    now = Figures(start=START, end=END, meetings_held=8, meetings_with_outcome=5, overdue_actions=1)
    before = Figures(
        start=START - timedelta(days=7), end=START, meetings_held=8, meetings_with_outcome=3
    )
    r = report(current=now, previous=before, channels={"C1": now})
    text = rendered(r)
    assert "*Outcome rate*\\n63% of 8  _(week before 38%; +25 pts)_" in text
    assert "8 meetings, 63% with outcomes" in text
    assert "1 overdue action" in text and "1 overdue actions" not in text
    line = report_text(r)
    assert "8 meetings held (63% with outcomes)" in line
    assert "1 overdue action." in line
    one = Figures(start=START, end=END, meetings_held=1, meetings_with_outcome=1)
    assert "1 meeting held (100% with outcomes)" in report_text(report(current=one))
    assert "no meetings held" in report_text(report())
    assert "no overdue actions" in report_text(report())
    assert "nothing stalled" in report_text(report())


def test_half_up_for_minutes_and_hours_too() -> None:
    from bot.slack.blocks.digest import _duration

    assert _duration(timedelta(seconds=150)) == "3 min"  # 2.5 min
    assert _duration(timedelta(hours=2, minutes=15)) == "2.3 h"  # 2.25 h
    assert _duration(timedelta(hours=12, minutes=45)) == "12.8 h"  # 12.75 h


def test_a_revised_figure_says_what_was_reported() -> None:
    before = Figures(
        start=START - timedelta(days=7), end=START, meetings_held=4, meetings_with_outcome=3
    )
    reported = Figures(
        start=START - timedelta(days=7), end=START, meetings_held=4, meetings_with_outcome=2
    )
    now = Figures(start=START, end=END, meetings_held=2, meetings_with_outcome=1)
    text = rendered(report(current=now, previous=before, previous_reported=reported))
    assert "*Outcome rate*\\n50% of 2  _(week before 75%, revised from 50%; −25 pts)_" in text
    assert "*Meetings held*\\n2  _(week before 4; −2)_" in text
    assert "“Revised from” marks a figure that changed after the last digest reported it" in text


def test_any_amount_of_data_fits_with_and_n_more() -> None:
    hostile = "<!channel> " + "x" * 5000
    channels = {
        f"C{i:04d}": Figures(start=START, end=END, meetings_held=i + 1, stalled=1)
        for i in range(400)
    }
    stalled = [
        StalledItem(
            ref=f"D-{i}",
            title=hostile,
            owner_id="U1",
            channel_id="C0001",
            created_at=utc(2026, 10, 1),
            due_date=date(2026, 11, 1),
            last_activity_at=utc(2026, 10, 2),
            link=f"https://fake.slack.com/archives/C0001/p{i}?a=1&b=2",
        )
        for i in range(10)
    ]
    now = Figures(start=START, end=END, meetings_held=10_000, stalled=400)
    text = rendered(report(current=now, channels=channels, stalled=stalled))
    assert "and 385 more channels" in text
    assert "and 390 more" in text
    assert "<!channel>" not in text and f"@{BROADCAST_BREAKER}" not in text
    assert "channel xxx" in text  # the typed words, as typed, pinging nobody
    assert "<https://fake.slack.com/archives/C0001/p0?a=1&amp;b=2|D-0>" in text
    # The busiest channel comes first.
    assert text.index("<#C0399>") < text.index("<#C0398>")


# --- export ---------------------------------------------------------------------------------------


def read_csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def test_export_has_decisions_with_history_meetings_and_outcomes(db: Database) -> None:
    async with db.transaction() as session:
        meeting = await add_meeting(
            session, ended=utc(2026, 11, 24, 10), title="=cmd|' /C calc'!A0"
        )
        await add_outcome(
            session,
            meeting,
            created=utc(2026, 11, 24, 11),
            kind=OutcomeKind.ACTION,
            due=date(2026, 11, 27),
            text="Ship the beta — für alle",
        )
        await add_decision(
            session,
            created=utc(2026, 11, 23, 9),
            decided=utc(2026, 11, 24, 9),
            title="+Pick a vendor",
            owner="U2",
        )
        await add_decision(session, created=utc(2026, 11, 23, 9), channel="G1", title="Secret")
    async with db.transaction() as session:
        data = await load_export(session, ws=WS, channels={"C1"})
    files = render_export(
        data,
        zone=ZONE,
        today=date(2026, 11, 30),
        people={"U2": "ben"},
        channel_names={"C1": "general"},
    )
    assert [f.filename for f in files] == [
        "followthrough-decisions-2026-11-30.csv",
        "followthrough-meetings-2026-11-30.csv",
        "followthrough-outcomes-2026-11-30.csv",
    ]
    decisions, meetings, outcomes = (read_csv(f.content) for f in files)
    assert len(decisions) == 1  # the private channel's decision is not the reader's
    row = decisions[0]
    assert row["Title"] == "'+Pick a vendor"
    assert row["Owner"] == "ben (U2)"
    assert row["Channel"] == "#general (C1)"
    assert row["Created (Europe/Berlin)"] == "2026-11-23 10:00"
    assert row["History"].splitlines() == [
        "2026-11-23 10:00 ben (U2) recorded it for ben (U2)",
        "2026-11-24 10:00 ben (U2) decided: Done",
    ]
    assert meetings[0]["Title"] == "'=cmd|' /C calc'!A0"
    assert (meetings[0]["Outcomes"], meetings[0]["Actions"]) == ("1", "1")
    assert outcomes[0]["Text"] == "Ship the beta — für alle"
    assert outcomes[0]["Action"].startswith("A-")
    assert outcomes[0]["Due"] == "2026-11-27"
    assert data.people == {"U1", "U2"}


# --- composing for a reader -----------------------------------------------------------------------


@pytest.fixture
async def slack(fake_slack: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    yield AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.api_url)


async def seed_three_channels(db: Database) -> None:
    async with db.transaction() as session:
        for channel, count in (("C1", 1), ("C2", 2), ("G1", 4)):
            for _ in range(count):
                await add_meeting(session, ended=utc(2026, 11, 24, 10), channel=channel)
            await add_decision(
                session,
                created=utc(2026, 11, 2),
                due=date(2026, 11, 10),
                channel=channel,
                title=f"Stalled in {channel}",
                message_ts="1700000000.000100",
            )


async def test_a_channel_digest_covers_public_channels_only(
    db: Database, fake_slack: FakeSlack, slack: AsyncWebClient
) -> None:
    await seed_three_channels(db)
    digest = await compose_digest(
        db=db,
        cadence=with_digest(),
        ws=WS,
        recipient="C1",
        client=slack,
        now=utc(2026, 11, 30, 9),
    )
    text = str(digest.blocks)
    assert check_message({"text": digest.text, "blocks": digest.blocks}) == []
    assert digest.period_key == "2026-W48"
    assert "*Meetings held*\\n3" in text
    assert "G1" not in text and "Stalled in G1" not in text
    assert "Public channels only." in text
    assert "<https://fake.slack.com/archives/C1/p1700000000000100|D-" in text
    assert digest.chart.startswith(b"\x89PNG")
    assert fake_slack.calls_to("conversations.members") == []


async def test_a_dm_digest_includes_private_channels_the_reader_is_in(
    db: Database, fake_slack: FakeSlack, slack: AsyncWebClient
) -> None:
    await seed_three_channels(db)
    cadence = with_digest()
    member = await compose_digest(
        db=db, cadence=cadence, ws=WS, recipient="U1", client=slack, now=utc(2026, 11, 30, 9)
    )
    outsider = await compose_digest(
        db=db, cadence=cadence, ws=WS, recipient="U2", client=slack, now=utc(2026, 11, 30, 9)
    )
    assert "*Meetings held*\\n7" in str(member.blocks) and "Stalled in G1" in str(member.blocks)
    assert "*Meetings held*\\n3" in str(outsider.blocks)
    assert "G1" not in str(outsider.blocks)


async def test_membership_is_read_across_every_page(
    db: Database, fake_slack: FakeSlack, slack: AsyncWebClient
) -> None:
    fake_slack.add_channel(
        "G2", name="big", is_private=True, members=[f"U{i:05d}" for i in range(2500)] + ["U2"]
    )
    async with db.transaction() as session:
        await add_meeting(session, ended=utc(2026, 11, 24, 10), channel="G2")
    _, blocks = await compose_stats(
        db=db,
        cadence=CadenceConfig(),
        ws=WS,
        reader="U2",
        client=slack,
        now=utc(2026, 11, 26, 9),
        period="week",
        so_far=True,
    )
    assert "<#G2>" in str(blocks)
    assert len(fake_slack.calls_to("conversations.members")) == 3


async def test_unknown_channels_are_left_out(
    db: Database, fake_slack: FakeSlack, slack: AsyncWebClient
) -> None:
    async with db.transaction() as session:
        await add_meeting(session, ended=utc(2026, 11, 24, 10), channel="CGONE")
    _, blocks = await compose_stats(
        db=db,
        cadence=CadenceConfig(),
        ws=WS,
        reader="U1",
        client=slack,
        now=utc(2026, 11, 26, 9),
        period="week",
        so_far=True,
    )
    assert "Nothing to report" in str(blocks)


async def test_a_card_whose_permalink_fails_is_named_without_a_link(
    db: Database, fake_slack: FakeSlack, slack: AsyncWebClient
) -> None:
    async with db.transaction() as session:
        await add_decision(
            session,
            created=utc(2026, 11, 2),
            due=date(2026, 11, 10),
            title="Card deleted",
            message_ts="1700000000.000100",
        )
    fake_slack.fail_next("chat.getPermalink", error="message_not_found")
    _, blocks = await compose_stats(
        db=db,
        cadence=CadenceConfig(),
        ws=WS,
        reader="U1",
        client=slack,
        now=utc(2026, 11, 26, 9),
        period="week",
        so_far=True,
    )
    text = str(blocks)
    assert "Card deleted" in text and "|D-" not in text


async def test_stats_so_far_at_the_stroke_of_a_new_week_compare_two_empty_stretches(
    db: Database, fake_slack: FakeSlack, slack: AsyncWebClient
) -> None:
    async with db.transaction() as session:
        await add_meeting(session, ended=utc(2026, 11, 20, 10))
    _, blocks = await compose_stats(
        db=db,
        cadence=CadenceConfig(),
        ws=WS,
        reader="U1",
        client=slack,
        now=utc(2026, 11, 23, 0),
        period="week",
        so_far=True,
    )
    # Both stretches are empty (the meeting on Friday is outside last week's first instant),
    # so this is not a drop from last week's 1: there is simply nothing to report yet.
    text = str(blocks)
    assert "Nothing to report" in text and "Meetings held" not in text


# --- the periods /hygiene stats shows ---------------------------------------------------------


def test_stats_periods_worked_by_hand() -> None:
    from bot.slack.digest_compose import stats_periods

    utc_ = CadenceConfig()
    thursday = utc(2026, 11, 26, 10, 30)
    whole = stats_periods(thursday, utc_, period="week", so_far=False)
    assert (whole.start, whole.end) == (utc(2026, 11, 16, 0), utc(2026, 11, 23, 0))
    assert (whole.previous_start, whole.previous_end) == (utc(2026, 11, 9, 0), whole.start)
    assert whole.current_label == "Week of Mon 16 Nov"
    so_far = stats_periods(thursday, utc_, period="week", so_far=True)
    assert (so_far.start, so_far.end) == (utc(2026, 11, 23, 0), thursday)
    assert (so_far.previous_start, so_far.previous_end) == (
        utc(2026, 11, 16, 0),
        utc(2026, 11, 19, 10, 30),
    )
    # 31 March so far against February: February has no 31st, so all of it.
    march = stats_periods(utc(2026, 3, 31, 10), utc_, period="month", so_far=True)
    assert (march.previous_start, march.previous_end) == (utc(2026, 2, 1, 0), utc(2026, 3, 1, 0))
    assert stats_periods(thursday, utc_, period="month", so_far=False).current_label == (
        "October 2026"
    )
    # Across a change of clocks the same stretch is the same wall-clock time, not 168 hours:
    # Wed 1 Apr 2026 10:00 in Berlin (CEST) against Wed 25 Mar 10:00 (CET), 167 hours before.
    berlin = CadenceConfig(timezone="Europe/Berlin")
    spring = stats_periods(
        local("Europe/Berlin", 2026, 4, 1, 10), berlin, period="week", so_far=True
    )
    assert spring.previous_end == local("Europe/Berlin", 2026, 3, 25, 10)
    assert spring.end - spring.previous_end == timedelta(hours=167)
