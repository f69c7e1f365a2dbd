"""Issue 17, follow-through: "What happens now?" after a decide, orphan reminders, the numbers.

Everything goes through signed requests into the app, the worker's tick and the fake Slack, on
both engines (the worker's fixture of tests/test_nudges_e2e.py).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from bot.decisions.asks import WHAT_NEXT_KIND
from bot.delivery.models import Delivery
from bot.devtools.blockkit_checks import check_message
from bot.workspaces import service as workspaces
from bot.workspaces.models import Workspace
from tests import test_nudges_e2e
from tests.conftest import MONDAY, AppEnv
from tests.test_nudges_e2e import Env, decision

env = test_nudges_e2e.env  # the worker's fixture: the app, the tick and the fake Slack


def dms_to(env: Env, user: str) -> list[dict[str, Any]]:
    return [
        c.params
        for c in env.fake.calls_to("chat.postMessage")
        if c.ok and c.params["channel"] == user
    ]


async def what_next_rows(env: Env) -> list[Delivery]:
    async with env.deps.db.transaction() as session:
        return list(
            await session.scalars(
                select(Delivery).where(Delivery.kind == WHAT_NEXT_KIND).order_by(Delivery.id)
            )
        )


def buttons(params: dict[str, Any]) -> list[str]:
    return [
        e["action_id"] for b in params["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]


def at(env: Env, moment: datetime) -> None:
    env.deps.clock.set(moment)  # type: ignore[attr-defined]


async def decided_by_command(env: Env, owner: str = "U1") -> dict[str, Any]:
    """D-1 decided by ``/decision decide``, the tick sent the question; its DM as pressed."""
    await env.command("/decision", f"new Pick a payroll vendor <@{owner}>", user_id="U1")
    await env.command("/decision", "decide D-1 Acme, from January", user_id=owner)
    report = await env.tick()
    assert report.sent.sent == 1
    return env.reminder(owner)


# --- point 2: "What happens now?" -------------------------------------------------------------


async def test_deciding_by_command_asks_the_owner_once_with_both_buttons(env: Env) -> None:
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    await env.command("/decision", "decide D-1 Acme, from January", user_id="U1")
    # The question is a ledger row written with the decide, due at once.
    (row,) = await what_next_rows(env)
    assert (row.subject, row.recipient, row.status, row.due_at) == ("D-1", "U1", "pending", MONDAY)
    assert dms_to(env, "U1") == []  # nothing is sent before the tick
    assert (await env.tick()).sent.sent == 1
    (dm,) = dms_to(env, "U1")
    assert dm["text"] == "D-1 Pick a payroll vendor is decided. What happens now?"
    shown = str(dm["blocks"])
    assert "Acme, from January" in shown and "What happens now?" in shown
    assert buttons(dm) == ["decision_add_action", "decision_no_action"]
    # Later ticks, a reopen and a second decide never ask again.
    at(env, MONDAY + timedelta(hours=1))
    await env.command("/decision", "reopen D-1", user_id="U1")
    await env.command("/decision", "decide D-1 Beta instead", user_id="U1")
    await env.tick()
    assert len(dms_to(env, "U1")) == 1
    assert len(await what_next_rows(env)) == 1


async def test_deciding_by_the_card_button_asks_the_owner(env: Env) -> None:
    await env.command("/decision", "new Pick a payroll vendor <@U3>", user_id="U1")
    d = await decision(env)
    card = {"ts": d.message_ts, "type": "message", "text": ""}
    await env.interact(
        env.driver.press(
            "decision_decide", user_id="U1", value="T1:D-1", channel_id="C1", message=card
        )
    )
    view = env.fake.calls_to("views.open")[-1].params["view"]
    await env.interact(
        env.driver.submit(
            view, {"resolution": {"type": "plain_text_input", "value": "Acme"}}, user_id="U1"
        )
    )
    (row,) = await what_next_rows(env)
    assert row.recipient == "U3"  # the owner is asked, not whoever pressed
    # 10:00 UTC is 19:00 in Tokyo: the question waits for U3's next working morning.
    report = await env.tick()
    assert (report.sent.sent, report.sent.deferred) == (0, 1)
    at(env, datetime(2026, 11, 24, 0, 30, tzinfo=UTC))  # Tue 09:30 in Tokyo
    assert (await env.tick()).sent.sent == 1
    assert "What happens now?" in str(dms_to(env, "U3")[0]["blocks"])


async def test_logging_a_decision_already_made_asks_its_owner(env: Env) -> None:
    await env.command("/decision", "log Launch date = March 3 <@U1|ana>", user_id="U2")
    (row,) = await what_next_rows(env)
    assert row.recipient == "U1"
    assert (await env.tick()).sent.sent == 1
    assert "March 3" in str(dms_to(env, "U1")[0]["blocks"])


async def test_no_question_when_the_next_step_came_first(env: Env) -> None:
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    await env.command("/decision", "decide D-1 Acme", user_id="U1")
    said = await env.command("/decision", "act D-1 none Acme runs it", user_id="U1")
    assert "needs no action" in said.json()["text"]
    report = await env.tick()
    assert (report.sent.sent, report.sent.cancelled) == (0, 1)
    assert dms_to(env, "U1") == []


async def test_an_open_decision_asks_nothing(env: Env) -> None:
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    await env.command("/decision", "drop D-1 not needed", user_id="U1")
    assert await what_next_rows(env) == []


async def test_no_action_needed_from_the_dm_saves_the_reason_and_updates_it(env: Env) -> None:
    message = await decided_by_command(env)
    await env.interact(
        env.driver.press(
            "decision_no_action", user_id="U1", value="T1:D-1", channel_id="DU1", message=message
        )
    )
    view = env.fake.calls_to("views.open")[-1].params["view"]
    assert view["callback_id"] == "decision_no_action"
    # A reason is required and is one line.
    response = await env.interact(
        env.driver.submit(
            view, {"reason": {"type": "plain_text_input", "value": "  "}}, user_id="U1"
        )
    )
    assert "The reason is empty" in response.json()["errors"]["reason"]
    assert (await decision(env)).no_action_at is None
    assert env.updates_of(message) == []
    response = await env.interact(
        env.driver.submit(
            view,
            {"reason": {"type": "plain_text_input", "value": "Acme runs it for us"}},
            user_id="U1",
        )
    )
    assert response.status_code == 200 and not response.content
    d = await decision(env)
    assert d.no_action_reason == "Acme runs it for us" and d.no_action_by == "U1"
    assert d.events[-1].action == "no_action_needed"
    (update,) = env.updates_of(message)
    assert update["channel"] == "DU1"
    assert "No action needed: Acme runs it for us" in str(update["blocks"])
    assert not [b for b in update["blocks"] if b["type"] == "actions"]


async def test_add_action_from_the_dm_adds_it_and_updates_the_dm(env: Env) -> None:
    message = await decided_by_command(env)  # in C1, which never had a meeting
    await env.interact(
        env.driver.press(
            "decision_add_action", user_id="U1", value="T1:D-1", channel_id="DU1", message=message
        )
    )
    view = env.fake.calls_to("views.open")[-1].params["view"]
    assert view["callback_id"] == "decision_add_action"
    await env.interact(
        env.driver.submit(
            view,
            {
                "outcome_text": {"type": "plain_text_input", "value": "Sign the contract"},
                "owner": {"type": "users_select", "selected_user": "U2"},
            },
            user_id="U1",
        )
    )
    shown = str((await env.command("/decision", "show D-1", user_id="U1")).json()["blocks"])
    assert "*A-1* Sign the contract" in shown
    (update,) = env.updates_of(message)
    assert "Added *A-1* to follow through on *D-1*." in str(update["blocks"])
    assert not [b for b in update["blocks"] if b["type"] == "actions"]
    # Once an action exists, "No action needed" is refused before any modal opens.
    opened = len(env.fake.calls_to("views.open"))
    await env.interact(
        env.driver.press(
            "decision_no_action", user_id="U1", value="T1:D-1", channel_id="DU1", message=message
        )
    )
    assert len(env.fake.calls_to("views.open")) == opened
    assert any("already has follow-through actions" in str(r.body) for r in env.fake.responses)


async def test_only_those_who_may_change_it_can_say_no_action(env: Env) -> None:
    message = await decided_by_command(env)
    await env.interact(
        env.driver.press(
            "decision_no_action", user_id="U3", value="T1:D-1", channel_id="DU3", message=message
        )
    )
    assert env.fake.calls_to("views.open") == []
    assert any("or a workspace admin can change it" in str(r.body) for r in env.fake.responses)
    assert (await decision(env)).no_action_at is None


async def test_a_stale_or_foreign_no_action_button_is_a_clear_error(env: Env) -> None:
    message = await decided_by_command(env)
    for value in ("T2:D-1", "garbage", "T1:D-99"):
        env.fake.reset()
        await env.interact(
            env.driver.press(
                "decision_no_action", user_id="U1", value=value, channel_id="DU1", message=message
            )
        )
        assert env.fake.calls_to("views.open") == []
        said = str([r.body for r in env.fake.responses])
        assert any(w in said for w in ("out of date", "another workspace", "no D-99")), value
    assert (await decision(env)).no_action_at is None


# --- point 3: orphan decisions ------------------------------------------------------------------


def reminders_to(env: Env, user: str) -> list[str]:
    """Orphan reminders as DMs of their own: there are none, they are in the daily DM."""
    return [p["text"] for p in dms_to(env, user) if p["text"].startswith("Reminder: D-")]


def orphan_entry_of(params: dict[str, Any], ref: str = "D-1") -> list[dict[str, Any]]:
    """The blocks of ``ref``'s orphan entry in a daily DM (its section and its buttons)."""
    blocks = params["blocks"]
    for i, block in enumerate(blocks):
        text = (block.get("text") or {}).get("text") or ""
        if block["type"] == "section" and text.startswith(f":hourglass_flowing_sand: *{ref}*"):
            return blocks[i : i + 2]
    return []


def daily_dms_with_orphan(env: Env, user: str, ref: str = "D-1") -> list[dict[str, Any]]:
    """The daily reminder DMs to ``user`` that list ``ref`` as an orphan."""
    return [
        p
        for p in dms_to(env, user)
        if "waiting for you today" in p["text"] and orphan_entry_of(p, ref)
    ]


async def orphan_rows(env: Env) -> list[Delivery]:
    async with env.deps.db.transaction() as session:
        return list(
            await session.scalars(
                select(Delivery).where(Delivery.kind == "nudge:orphan").order_by(Delivery.id)
            )
        )


async def test_an_orphan_is_reminded_in_the_daily_dm_on_the_right_days_then_left_to_the_digest(
    env: Env,
) -> None:
    """Decided Mon 23 Nov 10:00 UTC, no next step: with the default 3 working days it is an
    orphan from Thu 26 Nov 10:00; reminders every 2 working days, three of them at most. Each
    goes in U1's first daily DM after it falls due (09:00 in Berlin, 08:00 UTC): Fri 27 Nov,
    Tue 1 Dec, Thu 3 Dec; never as a DM of its own."""
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    await env.command("/decision", "decide D-1 Acme", user_id="U1")
    await env.tick()  # the "What happens now?" question
    seen: dict[str, int] = {}
    day = MONDAY
    while day < datetime(2026, 12, 12, tzinfo=UTC):
        for hour_minute in ((7, 59), (8, 0), (10, 0), (15, 0)):
            at(env, day.replace(hour=hour_minute[0], minute=hour_minute[1]))
            await env.tick()
            seen[f"{day:%a %d}@{hour_minute[0]}:{hour_minute[1]:02d}"] = len(
                daily_dms_with_orphan(env, "U1")
            )
        day += timedelta(days=1)
    assert seen["Thu 26@15:00"] == 0
    assert seen["Fri 27@7:59"] == 0 and seen["Fri 27@8:00"] == 1
    assert seen["Mon 30@15:00"] == 1  # reminder 2 fell due at 10:00: it waits for Tuesday's DM
    assert seen["Tue 01@7:59"] == 1 and seen["Tue 01@8:00"] == 2
    assert seen["Wed 02@15:00"] == 2 and seen["Thu 03@8:00"] == 3
    assert seen["Fri 11@15:00"] == 3  # no fourth: escalate_after (3) reminders at most
    assert reminders_to(env, "U1") == []  # never a DM of its own
    first, _second, third = daily_dms_with_orphan(env, "U1")
    assert first["text"] == "1 thing is waiting for you today: D-1 Pick a payroll vendor"
    section, buttons_block = orphan_entry_of(first)
    assert "It was decided" in section["text"]["text"]
    assert "First reminder" in section["text"]["text"]
    assert [e["action_id"] for e in buttons_block["elements"]] == [
        "decision_add_action",
        "decision_no_action",
    ]
    assert "Reminder 3" in orphan_entry_of(third)[0]["text"]["text"]
    # The ledger agrees: three bundled reminders, each sent in its day's daily DM.
    rows = await orphan_rows(env)
    assert [(r.period.split("#")[1], r.status) for r in rows] == [
        ("1", "sent"),
        ("2", "sent"),
        ("3", "sent"),
    ]


async def test_a_weekend_and_a_workspace_setting_move_the_orphan_day(env: Env) -> None:
    """Decided Fri 27 Nov 10:00 with followthrough_after_days 1: an orphan from Mon 30 Nov
    10:00, so in U1's daily DM of Tue 1 Dec (09:00 Berlin, 08:00 UTC)."""
    async with env.deps.db.transaction() as session:
        await workspaces.ensure_workspace(session, ws=test_nudges_e2e.WS, now=MONDAY)
        await session.execute(
            update(Workspace).values(overrides={"decisions": {"followthrough_after_days": 1}})
        )
    friday = datetime(2026, 11, 27, 10, tzinfo=UTC)
    at(env, friday)
    await env.command("/decision", "log Launch date = March 3", user_id="U1")
    await env.tick()
    for moment in (friday.replace(hour=16), datetime(2026, 11, 30, 9, 59, tzinfo=UTC)):
        at(env, moment)
        await env.tick()
    assert await orphan_rows(env) == []
    at(env, datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    await env.tick()
    (row,) = await orphan_rows(env)
    assert (row.status, row.due_at) == ("bundled", datetime(2026, 12, 1, 8, tzinfo=UTC))
    assert daily_dms_with_orphan(env, "U1") == []
    at(env, datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    await env.tick()
    assert len(daily_dms_with_orphan(env, "U1")) == 1
    assert reminders_to(env, "U1") == []


async def test_no_action_from_the_daily_dm_updates_it_and_ends_the_reminders(env: Env) -> None:
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    await env.command("/decision", "decide D-1 Acme", user_id="U1")
    await env.tick()
    at(env, datetime(2026, 11, 26, 10, tzinfo=UTC))
    await env.tick()
    at(env, datetime(2026, 11, 27, 8, tzinfo=UTC))
    await env.tick()
    message = env.reminder("U1")
    assert message["text"] == "1 thing is waiting for you today: D-1 Pick a payroll vendor"
    await env.interact(
        env.driver.press(
            "decision_no_action", user_id="U1", value="T1:D-1", channel_id="DU1", message=message
        )
    )
    view = env.fake.calls_to("views.open")[-1].params["view"]
    await env.interact(
        env.driver.submit(
            view, {"reason": {"type": "plain_text_input", "value": "Nothing to do"}}, user_id="U1"
        )
    )
    # The daily DM is redrawn in place: the entry says it is settled and has no buttons left.
    updated = env.updates_of(message)[-1]
    assert "It has its next step now." in str(updated["blocks"])
    assert not [b for b in updated["blocks"] if b["type"] == "actions"]
    assert (await decision(env)).no_action_reason == "Nothing to do"
    at(env, datetime(2026, 12, 4, 10, tzinfo=UTC))
    await env.tick()
    assert len(daily_dms_with_orphan(env, "U1")) == 1


async def test_a_planned_orphan_reminder_is_dropped_once_it_has_a_next_step(env: Env) -> None:
    await env.command("/decision", "new Pick a payroll vendor <@U2>", user_id="U1")
    await env.command("/decision", "decide D-1 Acme", user_id="U1")
    # Thu 26 Nov 10:00 UTC is 02:00 in Los Angeles: the reminder is planned and waits.
    at(env, datetime(2026, 11, 26, 10, tzinfo=UTC))
    report = await env.tick()
    assert report.planned.planned == 1
    await env.command("/decision", "act D-1 none Acme runs it", user_id="U2")
    at(env, datetime(2026, 11, 26, 17, tzinfo=UTC))  # 09:00 in Los Angeles: U2's daily DM
    report = await env.tick()
    assert report.sent.sent == 0 and report.sent.cancelled >= 1
    assert daily_dms_with_orphan(env, "U2", "D-1") == []
    assert [r.status for r in await orphan_rows(env)] == ["cancelled"]


# --- point 7: the numbers in stats and the digest; point 8: App Home ---------------------------


async def a_week_of_decisions(env: AppEnv) -> None:
    """Week of Mon 23 Nov (UTC): D-1 decided with no next step; D-2 logged decided and
    reopened the same day (decided again); D-3 decided and "no action needed"."""
    await env.command("/decision", "new Pick a payroll vendor", user_id="U1")
    await env.command("/decision", "decide D-1 Acme", user_id="U1")
    await env.command("/decision", "log Launch date = March 3", user_id="U1")
    await env.command("/decision", "reopen D-2", user_id="U1")
    await env.command("/decision", "new Office plants", user_id="U1")
    await env.command("/decision", "decide D-3 Ferns", user_id="U1")
    await env.command("/decision", "act D-3 none The office manager handles it", user_id="U1")
    env.deps.clock.set(datetime(2026, 11, 30, 10, tzinfo=UTC))  # type: ignore[attr-defined]
    env.fake.reset()


async def test_the_digest_names_orphans_and_counts_topics_decided_again(app_env: AppEnv) -> None:
    await a_week_of_decisions(app_env)
    await app_env.command("/hygiene", "digest preview", user_id="U1", channel_id="C1")
    body = app_env.fake.responses[-1].body
    assert check_message(body) == []
    text = str(body["blocks"])
    assert "*Week of Mon 23 Nov* against the week before" in text
    # Owed in the week: decided from Wed 18 Nov 00:00 to Wed 25 Nov 00:00 (3 working days
    # before its end): D-1 and D-3 (D-2 was reopened); D-3 has its answer.
    assert "Followed through: 50% (1 of 2) (week before: —)" in text
    assert "Topics decided again: 1 (week before: 0)" in text
    assert "*Orphan decisions now* (1: decided, no next step after 3 working days)" in text
    assert "*D-1* Pick a payroll vendor · <@U1> · <#C1> · decided Mon 23 Nov 2026" in text
    assert "• <#C1>: 1 of 2 followed through · 1 decided again" in text


async def test_stats_show_the_follow_through_numbers(app_env: AppEnv) -> None:
    await a_week_of_decisions(app_env)
    await app_env.command("/hygiene", "stats", user_id="U2", channel_id="C1")
    text = str(app_env.fake.responses[-1].body["blocks"])
    assert "Followed through: 50% (1 of 2)" in text
    assert "Decision to done: — (week before: —)" in text
    assert "*Orphan decisions now* (1:" in text


async def test_app_home_tells_orphans_from_decisions_awaiting_the_answer(app_env: AppEnv) -> None:
    await a_week_of_decisions(app_env)
    await app_env.command("/decision", "new Pick a bank", user_id="U1")
    await app_env.command("/decision", "decide D-4 The local one", user_id="U1")
    await app_env.interact(app_env.driver.open_home("U1"))
    home = str(app_env.fake.published_home["U1"]["blocks"])
    follow = home.split("Decisions waiting on your follow-through")[1].split("'divider'")[0]
    assert (
        "*D-1* Pick a payroll vendor · decided Mon 23 Nov 2026 · :warning: no next step" in follow
    )
    assert "*D-4* Pick a bank · decided Mon 30 Nov 2026 · waiting for your answer" in follow
    assert "D-2" not in follow and "D-3" not in follow


async def test_the_export_has_the_follow_through_numbers_by_week(app_env: AppEnv) -> None:
    await a_week_of_decisions(app_env)
    await app_env.command("/hygiene", "export", user_id="UADMIN", channel_id="C1")
    (file,) = [f for f in app_env.fake.files.values() if "follow-through" in f.name]
    assert file.name == "followthrough-follow-through-2026-11-30.csv"
    rows = list(csv.DictReader(io.StringIO(file.content.decode("utf-8-sig"))))
    assert len(rows) == 8  # the trend's eight weeks, oldest first
    last = rows[-1]
    assert (last["Week"], last["First day"], last["Last day"]) == (
        "2026-W48",
        "2026-11-23",
        "2026-11-29",
    )
    assert last["Decisions owed a next step"] == "2"
    assert last["Followed through by the week's end"] == "1"
    assert last["Follow-through rate (%)"] == "50"
    assert last["Median decision to done (hours)"] == ""
    assert last["Topics decided again"] == "1"
