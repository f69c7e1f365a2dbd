"""Per-person reminder preferences end to end (issue 15 point 7): App Home's "Your reminders",
its modal, the audit, and the planner and sender honouring a pause and "only my daily DM" from
the next tick on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.cadence.config import WorkingHours
from bot.clock import ManualClock
from bot.db import Database
from bot.delivery.models import Delivery
from bot.devtools.fake_slack import FakeSlack
from bot.prefs import service as prefs
from bot.prefs.models import PersonPrefs, PersonPrefsChange
from bot.workspace import WorkspaceKey
from tests.conftest import MONDAY
from tests.notice_support import LONDON, Env, worker_env

WS = WorkspaceKey("T1")


@pytest.fixture
async def env(
    db: Database, fake_slack: FakeSlack, clock: ManualClock, db_url: str
) -> AsyncIterator[Env]:
    async with worker_env(db, fake_slack, clock, db_url) as made:
        yield made


async def open_home(env: Env, user: str = "U1") -> list[dict[str, Any]]:
    await env.interact(env.driver.event({"type": "app_home_opened", "user": user, "tab": "home"}))
    published = [c for c in env.fake.calls_to("views.publish") if c.params["user_id"] == user]
    assert published, "App Home was not published"
    blocks: list[dict[str, Any]] = published[-1].params["view"]["blocks"]
    assert len(blocks) <= 100
    return blocks


async def open_prefs(env: Env, user: str = "U1") -> dict[str, Any]:
    home = await open_home(env, user)
    assert [b for b in home if b.get("accessory", {}).get("action_id") == "reminder_prefs_open"]
    await env.interact(
        env.driver.press(
            "reminder_prefs_open",
            user_id=user,
            value="prefs",
            view={"type": "home", "id": "VHOME", "blocks": home},
        )
    )
    view = env.latest_view()
    assert view["callback_id"] == "reminder_prefs"
    return view


def form(
    *, hour: str = "start", notices: str = "now", pause: str | None = None
) -> dict[str, dict[str, Any]]:
    return {
        "prefs_reminder_hour": {
            "type": "static_select",
            "selected_option": {"value": hour, "text": {"type": "plain_text", "text": hour}},
        },
        "prefs_owner_notices": {
            "type": "radio_buttons",
            "selected_option": {"value": notices, "text": {"type": "plain_text", "text": notices}},
        },
        "prefs_paused_until": {"type": "datepicker", "selected_date": pause},
    }


async def submit(env: Env, user: str = "U1", **values: Any) -> dict[str, Any]:
    view = await open_prefs(env, user)
    response = await env.interact(env.driver.submit(view, form(**values), user_id=user))
    body: dict[str, Any] = response.json() if response.content else {}
    return body


async def stored(env: Env, user: str = "U1") -> prefs.Prefs:
    async with env.deps.db.transaction() as session:
        return await prefs.get(session, ws=WS, user_id=user)


async def audit(env: Env) -> list[PersonPrefsChange]:
    async with env.deps.db.transaction() as session:
        return list(await session.scalars(select(PersonPrefsChange).order_by(PersonPrefsChange.id)))


async def rows(env: Env, user: str) -> list[Delivery]:
    async with env.deps.db.transaction() as session:
        found = await session.scalars(
            select(Delivery).where(Delivery.recipient == user).order_by(Delivery.id)
        )
        return list(found)


# --- the section and the modal ---------------------------------------------------------------


async def test_app_home_says_what_you_get_and_offers_a_change(env: Env) -> None:
    blocks = await open_home(env)
    (section,) = [b for b in blocks if "*Your reminders*" in str(b)]
    text = section["text"]["text"]
    assert "start of your working day (09:00)" in text
    assert "I tell you at once when someone makes you the owner" in text


async def test_the_modal_round_trip_stores_audits_and_shows_it(env: Env) -> None:
    view = await open_prefs(env)
    hours = [o["value"] for o in view["blocks"][0]["element"]["options"]]
    assert hours == ["start", *(str(h) for h in range(10, 18))]  # 09:00 to 17:30 working hours
    body = await submit(env, hour="11", notices="daily", pause="2026-11-26")
    assert body["response_action"] == "update"
    saved = str(body["view"]["blocks"])
    assert (
        "Saved." in saved
        and "11:00 your time" in saved
        and "before your working day starts on Thu 26 Nov 2026" in saved
    )
    assert await stored(env) == prefs.Prefs(
        reminder_hour=11, owner_notices=False, paused_until=date(2026, 11, 26)
    )
    (change,) = await audit(env)
    assert (change.user_id, change.actor_id, change.at) == ("U1", "U1", MONDAY)
    assert change.old_value == {"reminder_hour": None, "owner_notices": True, "paused_until": None}
    assert change.new_value == {
        "reminder_hour": 11,
        "owner_notices": False,
        "paused_until": "2026-11-26",
    }
    # App Home is published again with the new choices.
    home = str(await open_home(env))
    assert "11:00 your time" in home and "no separate owner notices" in home
    # Opening the modal again shows what is stored; saving it unchanged writes nothing.
    again = await open_prefs(env)
    assert again["blocks"][0]["element"]["initial_option"]["value"] == "11"
    assert again["blocks"][1]["element"]["initial_option"]["value"] == "daily"
    assert again["blocks"][2]["element"]["initial_date"] == "2026-11-26"
    unchanged = await submit(env, hour="11", notices="daily", pause="2026-11-26")
    assert "Nothing changed." in str(unchanged["view"]["blocks"])
    assert len(await audit(env)) == 1


async def test_every_bad_value_is_told_in_one_answer(env: Env) -> None:
    """An unreadable choice and two values the rules refuse: all three beside their fields."""
    body = await submit(env, hour="23", notices="sometimes", pause="2026-11-20")
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {
        "prefs_reminder_hour",
        "prefs_owner_notices",
        "prefs_paused_until",
    }
    assert "inside the working hours" in body["errors"]["prefs_reminder_hour"]
    assert "after today" in body["errors"]["prefs_paused_until"]
    assert await audit(env) == []


async def test_bad_values_are_told_beside_the_field_and_nothing_is_stored(env: Env) -> None:
    past = await submit(env, pause="2026-11-20")
    assert past["response_action"] == "errors"
    assert set(past["errors"]) == {"prefs_paused_until"}
    assert "after today" in past["errors"]["prefs_paused_until"]
    today = await submit(env, pause="2026-11-23")
    assert "after today" in today["errors"]["prefs_paused_until"]
    far = await submit(env, pause="2027-06-01")
    assert "at most 90 days" in far["errors"]["prefs_paused_until"]
    night = await submit(env, hour="23")
    assert set(night["errors"]) == {"prefs_reminder_hour"}
    assert "inside the working hours (09:00 to 17:00)" in night["errors"]["prefs_reminder_hour"]
    nonsense = await submit(env, hour="9am; drop table")
    assert "prefs_reminder_hour" in nonsense["errors"]
    missing = await submit(env, notices="sometimes")
    assert set(missing["errors"]) == {"prefs_owner_notices"}
    view = await open_prefs(env)
    stale = await env.interact(
        env.driver.submit({**view, "private_metadata": "{}"}, form(), user_id="U1")
    )
    assert stale.json()["errors"] == {
        "prefs_reminder_hour": "This form is out of date; please start again."
    }
    for errors in (past, today, far, night, nonsense, missing):
        (message,) = errors["errors"].values()
        assert message.endswith(".") and message.count(". ") == 0  # one sentence
    async with env.deps.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(PersonPrefs)) == 0
    assert await audit(env) == []


async def test_nobody_changes_anyone_elses_preferences(env: Env) -> None:
    """The modal is the submitter's own: a submission from U2 of a form U1 opened sets U2's."""
    view = await open_prefs(env, "U1")
    await env.interact(env.driver.submit(view, form(notices="daily"), user_id="U2"))
    assert await stored(env, "U1") == prefs.DEFAULT
    assert (await stored(env, "U2")).owner_notices is False


# --- honoured by the sender and the planner at the next tick -------------------------------


async def test_only_my_daily_dm_drops_owner_and_change_notices(env: Env) -> None:
    await submit(env, user=LONDON, notices="daily")
    await env.command("/decision", f"new Pick a payroll vendor <@{LONDON}>", user_id="U1")
    await env.tick()
    assert env.dms(LONDON) == []
    (row,) = await rows(env, LONDON)
    assert (row.kind, row.status) == ("notice:owner:decision", "cancelled")
    # As the creator too: U1 asks for the daily DM only, LONDON decides.
    await submit(env, user="U1", notices="daily")
    await env.command("/decision", "decide D-1 Acme", user_id=LONDON)
    await env.tick()
    assert env.dms("U1") == []
    # Switched back on, the next notice comes.
    await submit(env, user=LONDON, notices="now")
    await env.command("/decision", f"new Hire a designer <@{LONDON}>", user_id="U1")
    await env.tick()
    (dm,) = [dm for dm in env.dms(LONDON) if "You now own" in dm["text"]]
    assert "D-2 Hire a designer" in dm["text"]


async def test_a_pause_holds_every_dm_until_it_ends_and_stops_reminders_meanwhile(
    env: Env,
) -> None:
    # A week-old decision of U1's (Berlin) stalls; a notice for U1 is planned; then U1 pauses.
    env.at(MONDAY - timedelta(days=8))
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    env.at(MONDAY)
    await env.command("/decision", "new Hire a designer <@U1>", user_id=LONDON)
    await submit(env, user="U1", pause="2026-11-26")  # Thursday
    for day in range(3):  # Mon, Tue, Wed at 10:00 UTC: inside Berlin's hours, all paused
        env.at(MONDAY + timedelta(days=day))
        await env.tick()
    assert env.dms("U1") == []
    held = [r for r in await rows(env, "U1") if r.kind == "notice:owner:decision"]
    assert [(r.status, r.due_at) for r in held] == [
        ("pending", datetime(2026, 11, 26, 8, 0, tzinfo=UTC))  # Thu 09:00 in Berlin
    ]
    assert [r for r in await rows(env, "U1") if r.kind.startswith("nudge:")] == []
    env.at(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    await env.tick()
    texts = [dm["text"] for dm in env.dms("U1")]
    assert len(texts) == 2  # the held notice, and the daily DM with the one reminder due now
    assert any("You now own D-2" in t for t in texts)
    assert any("1 thing is waiting for you today: D-1" in t for t in texts)


async def test_clearing_a_pause_releases_what_it_held_at_once(env: Env) -> None:
    await submit(env, user="U1", pause="2026-12-01")
    await env.command("/decision", "new Hire a designer <@U1>", user_id=LONDON)
    await env.tick()
    assert env.dms("U1") == []
    await submit(env, user="U1")  # pause cleared
    await env.tick()
    (dm,) = env.dms("U1")
    assert "You now own D-1" in dm["text"]
    assert [c.new_value["paused_until"] for c in await audit(env)] == ["2026-12-01", None]


# --- the reminder hour: stored, and read through the daily DM's seam -----------------------


async def test_the_reminder_hour_is_stored_and_falls_back_to_the_days_start() -> None:
    hours = WorkingHours(start=time(9), end=time(17, 30))
    assert prefs.reminder_time(prefs.Prefs(reminder_hour=11), hours) == time(11)
    assert prefs.reminder_time(prefs.DEFAULT, hours) == time(9)
    # An admin moves the working hours so the chosen hour is outside them: the day's start.
    later = WorkingHours(start=time(12), end=time(20))
    assert prefs.reminder_time(prefs.Prefs(reminder_hour=11), later) == time(12)
    assert prefs.reminder_hours(WorkingHours(start=time(9, 30), end=time(17))) == list(
        range(10, 17)
    )
