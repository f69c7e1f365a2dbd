"""/hygiene stats, digest and export end to end: signed commands in, Slack calls out to the fake."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from sqlalchemy import update

from bot.devtools.blockkit_checks import check_message
from bot.meetings.models import OutcomeKind
from bot.workspaces.models import Workspace
from bot.workspaces.service import ensure_workspace
from tests.conftest import AppEnv
from tests.digest_support import WS, add_decision, add_meeting, add_outcome, utc

THURSDAY = utc(2026, 11, 26, 10)


async def seed(env: AppEnv) -> None:
    """This week (from Mon 23 Nov, UTC): C1 decided one decision and held a meeting with an
    outcome; C2 held a meeting without one; private G1 (member: U1) has a stalled decision."""
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1", channel_id="C1")
    env.deps.clock.set(utc(2026, 11, 24, 16))  # type: ignore[attr-defined]
    await env.command("/decision", "decide D-1 Acme it is", user_id="U1", channel_id="C1")
    async with env.deps.db.transaction() as session:
        meeting = await add_meeting(session, ended=utc(2026, 11, 24, 10), channel="C1")
        await add_outcome(session, meeting, created=utc(2026, 11, 24, 11))
        await add_meeting(session, ended=utc(2026, 11, 25, 10), channel="C2")
        await add_meeting(session, ended=utc(2026, 11, 18, 10), channel="C1")  # last week
        await add_decision(
            session,
            created=utc(2026, 11, 2),
            due=date(2026, 11, 10),
            channel="G1",
            title="Secret reorg",
        )
    env.deps.clock.set(THURSDAY)  # type: ignore[attr-defined]
    env.fake.reset()


def last_response(env: AppEnv) -> dict[str, Any]:
    assert env.fake.responses, "nothing was sent to the response_url"
    body = env.fake.responses[-1].body
    assert body.get("response_type") == "ephemeral"
    assert check_message(body) == []
    return body


async def test_stats_show_this_week_so_far_against_the_same_stretch_of_last_week(
    app_env: AppEnv,
) -> None:
    await seed(app_env)
    response = await app_env.command("/hygiene", "stats so far", user_id="U2", channel_id="C1")
    assert response.status_code == 200
    body = last_response(app_env)
    text = str(body["blocks"])
    assert "This week so far" in text
    # Thursday 10:00: compared with Monday to Thursday 10:00 of last week, not all of it.
    # Instants are Slack date tokens, so each reader sees their own zone; the fallback is UTC.
    last_thursday = int(utc(2026, 11, 19, 10).timestamp())
    assert (
        "the same stretch of last week (Mon 16 Nov – "
        f"<!date^{last_thursday}^{{date_short_pretty}} {{time}}|2026-11-19 10:00 UTC>)" in text
    )
    now = int(THURSDAY.timestamp())
    assert (
        f"Mon 23 Nov 2026 to now, <!date^{now}^{{date_short_pretty}} {{time}}|2026-11-26 10:00 UTC>"
        in text
    )
    assert "*Meetings held*\\n2  _(same time last week 1; +1)_" in text
    assert "*Outcome rate*\\n50% of 2  _(same time last week 0%; +50 pts)_" in text
    assert "*Decisions decided*\\n1" in text
    assert "*Median time to decide*\\n30 h" in text  # Mon 10:00 → Tue 16:00
    assert "<#C1>" in text and "<#C2>" in text
    # U2 is not in the private channel: neither its name nor its decision shows.
    assert "G1" not in text and "Secret reorg" not in text
    assert "Nothing is stalled" in text


async def test_stats_show_the_last_whole_week_by_default(app_env: AppEnv) -> None:
    await seed(app_env)
    # Wednesday of the following week: the last whole week is 23–29 Nov.
    app_env.deps.clock.set(utc(2026, 12, 2, 15))  # type: ignore[attr-defined]
    await app_env.command("/hygiene", "stats", user_id="U2", channel_id="C1")
    text = str(last_response(app_env)["blocks"])
    assert "Mon 23 Nov 2026 – Sun 29 Nov 2026" in text
    assert "*Week of Mon 23 Nov* against the week before (Mon 16 Nov – Sun 22 Nov)" in text
    assert "*Meetings held*\\n2  _(week before 1; +1)_" in text
    assert "`/hygiene stats week so far` shows this week up to now." in text
    assert "This week" not in text


async def test_stats_for_a_member_include_their_private_channel(app_env: AppEnv) -> None:
    await seed(app_env)
    await app_env.command("/hygiene", "stats this week", user_id="U1", channel_id="C1")
    text = str(last_response(app_env)["blocks"])
    assert "<#G1>" in text and "Secret reorg" in text
    assert "*Oldest stalled decisions* (1 stalled now)" in text


async def test_stats_for_one_channel_and_a_month(app_env: AppEnv) -> None:
    await seed(app_env)
    await app_env.command(
        "/hygiene", "stats month so far <#C2|design>", user_id="U2", channel_id="C1"
    )
    body = last_response(app_env)
    text = str(body["blocks"])
    assert "This month so far" in text and "<#C2> only" in text
    assert "*Meetings held*\\n1  _(same time last month 0; +1)_" in text
    assert "*Decisions decided*\\n0" in text
    assert "By channel" not in text


async def test_stats_for_a_private_channel_is_refused_to_outsiders(app_env: AppEnv) -> None:
    await seed(app_env)
    response = await app_env.command(
        "/hygiene", "stats <#G1|secret>", user_id="U2", channel_id="C1"
    )
    assert "private channels you are in" in response.json()["text"]
    assert app_env.fake.responses == []
    await app_env.command("/hygiene", "stats <#G1|secret>", user_id="U1", channel_id="C1")
    assert "Secret reorg" in str(last_response(app_env)["blocks"])


async def test_stats_with_words_it_does_not_know_shows_usage(app_env: AppEnv) -> None:
    response = await app_env.command("/hygiene", "stats yearly", user_id="U1")
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "week or month" in body["text"] and "/hygiene stats" in body["text"]


async def test_stats_on_an_empty_workspace_say_so(app_env: AppEnv) -> None:
    await app_env.command("/hygiene", "stats", user_id="U1")
    assert "Nothing to report" in str(last_response(app_env)["blocks"])


async def test_digest_preview_goes_to_the_caller_only_with_the_chart_in_their_dm(
    app_env: AppEnv,
) -> None:
    await seed(app_env)
    # Monday 30 Nov: the digest due today reports 23–29 Nov.
    app_env.deps.clock.set(utc(2026, 11, 30, 10))  # type: ignore[attr-defined]
    await app_env.command("/hygiene", "digest preview", user_id="U1", channel_id="C1")
    body = last_response(app_env)
    text = str(body["blocks"])
    assert "Weekly digest" in text and "Mon 23 Nov 2026 – Sun 29 Nov 2026" in text
    assert "*Week of Mon 23 Nov* against the week before (Mon 16 Nov – Sun 22 Nov)" in text
    assert "*Meetings held*\\n2  _(week before 1; +1)_" in text
    assert "Secret reorg" in text  # U1 is in G1
    assert app_env.fake.calls_to("chat.postMessage") == []
    [chart] = app_env.fake.files.values()
    assert chart.channels == ["DU1"]
    assert chart.content.startswith(b"\x89PNG")
    assert chart.name == "followthrough-trend-2026-W48.png"


async def test_export_is_for_admins_only(app_env: AppEnv) -> None:
    response = await app_env.command("/hygiene", "export", user_id="U1")
    assert "Only workspace admins can export" in response.json()["text"]
    assert app_env.fake.files == {}


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def test_export_sends_its_csv_files_to_the_admins_dm(app_env: AppEnv) -> None:
    await seed(app_env)
    response = await app_env.command("/hygiene", "export", user_id="UADMIN", channel_id="C1")
    assert "arrive in your DM" in response.json()["text"]
    files = {f.name.split("-")[1]: f for f in app_env.fake.files.values()}
    # … and the weeks' follow-through numbers (issue 17, tests/test_followthrough_e2e.py).
    assert set(files) == {"decisions", "meetings", "outcomes", "follow"}
    assert all(f.channels == ["DUADMIN"] for f in files.values())
    decisions = csv_rows(files["decisions"].content)
    # The admin is not a member of G1: its decision stays out of the admin's export too.
    assert [row["Decision"] for row in decisions] == ["D-1"]
    assert decisions[0]["Owner"] == "ana (U1)"
    assert decisions[0]["Channel"] == "#general (C1)"
    assert "decided: Acme it is" in decisions[0]["History"]
    assert len(csv_rows(files["meetings"].content)) == 3
    assert len(csv_rows(files["outcomes"].content)) == 1
    comment = next(iter(files.values())).initial_comment or ""
    assert comment.startswith("Followthrough export: 1 decision with its history, 3 meetings")


async def set_recipients(env: AppEnv, recipients: list[str]) -> None:
    async with env.deps.db.transaction() as session:
        await ensure_workspace(session, ws=WS, now=env.deps.now())
        await session.execute(
            update(Workspace)
            .where(Workspace.in_workspace(WS))
            .values(overrides={"digest": {"recipients": recipients}})
        )


async def test_sending_the_digest_now_is_for_admins_with_recipients(app_env: AppEnv) -> None:
    refused = await app_env.command("/hygiene", "digest", user_id="U1")
    assert "Only workspace admins" in refused.json()["text"]
    nobody = await app_env.command("/hygiene", "digest", user_id="UADMIN")
    assert "No one receives the digest yet" in nobody.json()["text"]
    assert app_env.fake.calls_to("chat.postMessage") == []


async def test_sending_the_digest_now_respects_each_recipients_privacy(app_env: AppEnv) -> None:
    app_env.fake.add_user("UMANAGER", name="mia", tz="Europe/Berlin")
    app_env.fake.add_channel("CLEADS", name="leads")
    app_env.fake.channels["G1"].members.append("UMANAGER")
    await seed(app_env)
    await set_recipients(app_env, ["UMANAGER", "CLEADS"])
    app_env.deps.clock.set(utc(2026, 11, 30, 10))  # type: ignore[attr-defined]
    response = await app_env.command("/hygiene", "digest", user_id="UADMIN", channel_id="C1")
    assert "Sending the digest to <@UMANAGER>, <#CLEADS>" in response.json()["text"]
    posts = {
        call.params["channel"]: call.params for call in app_env.fake.calls_to("chat.postMessage")
    }
    # Sent through the outbox like the weekly digest: to the person (Slack puts it in the DM).
    assert set(posts) == {"UMANAGER", "CLEADS"}
    assert {m.channel for m in app_env.fake.messages.values()} == {"DUMANAGER", "CLEADS"}
    assert "Secret reorg" in str(posts["UMANAGER"]["blocks"])
    assert "Secret reorg" not in str(posts["CLEADS"]["blocks"])
    assert "Public channels only." in str(posts["CLEADS"]["blocks"])
    assert sorted(f.channels[0] for f in app_env.fake.files.values()) == ["CLEADS", "DUMANAGER"]
    assert "Sent the digest to <@UMANAGER>, <#CLEADS>." in app_env.fake.responses[-1].body["text"]


async def test_a_recipient_slack_refuses_is_reported_not_hidden(app_env: AppEnv) -> None:
    app_env.fake.add_channel("CGONE", name="gone", is_archived=True)
    app_env.fake.add_channel("CLEADS", name="leads")
    await set_recipients(app_env, ["CGONE", "CLEADS"])
    await app_env.command("/hygiene", "digest", user_id="UADMIN", channel_id="C1")
    summary = app_env.fake.responses[-1].body["text"]
    assert "Sent the digest to <#CLEADS>." in summary
    assert "Could not reach: <#CGONE> (is_archived)" in summary


async def test_meeting_ended_minutes_ago_is_not_yet_judged(app_env: AppEnv) -> None:
    async with app_env.deps.db.transaction() as session:
        await add_meeting(session, ended=THURSDAY - timedelta(minutes=10), channel="C1")
        done = await add_meeting(session, ended=utc(2026, 11, 24, 10), channel="C1")
        await add_outcome(session, done, created=utc(2026, 11, 24, 11), kind=OutcomeKind.NOTE)
    app_env.deps.clock.set(THURSDAY)  # type: ignore[attr-defined]
    await app_env.command("/hygiene", "stats so far", user_id="U1")
    text = str(last_response(app_env)["blocks"])
    assert "*Outcome rate*\\n100% of 1" in text
    assert "1 still within the outcome grace period" in text


async def test_digest_preview_midweek_is_the_next_digest_computed_now(app_env: AppEnv) -> None:
    """Issue 16 point 6: on a Thursday the preview is the digest due next Monday, for the week
    running now, not last week's digest that already went out."""
    await seed(app_env)
    # Thursday 3 Dec 2026: the next digest (Monday 7 Dec) reports Mon 30 Nov – Sun 6 Dec.
    app_env.deps.clock.set(utc(2026, 12, 3, 10))  # type: ignore[attr-defined]
    await app_env.command("/hygiene", "digest preview", user_id="U1", channel_id="C1")
    body = last_response(app_env)
    text = str(body["blocks"])
    assert "Preview of the digest due <!date^" in text
    assert "covering Mon 30 Nov 2026 – Sun 6 Dec 2026, with the numbers as they are now." in text
    assert "*Week of Mon 30 Nov*" in text
    assert "Mon 23 Nov 2026 – Sun 29 Nov 2026 (" not in text
    assert check_message(body) == []
