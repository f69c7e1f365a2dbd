"""The re-litigation warning on both engines (issue 18 points 3 and 6): the lookup over the terms
index (privacy, tenancy, the index after edit, decide, reopen, drop and purge), then through
signed requests and the fake Slack: `/decision new`'s warning and each of its buttons, Undo,
and the new-decision modal's "Record this anyway?"."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.db import Database
from bot.decisions import service
from bot.decisions.models import Decision, DecisionStatus, DecisionTerm
from bot.decisions.relitigation import find_repeat
from bot.visibility import Visibility
from bot.workspace import Actor, WorkspaceKey
from bot.workspaces.service import purge_workspace
from tests.conftest import MONDAY, AppEnv

T1, T2 = WorkspaceKey("T1"), WorkspaceKey("T2")
ADMIN = Actor(user_id="U1", is_admin=True)
EVERYONE = Visibility(reader="U9", channels=frozenset({"C1", "C2"}))


async def make(db: Database, ws: WorkspaceKey, title: str, channel: str = "C1") -> int:
    async with db.transaction() as session:
        made = await service.create_decision(
            session,
            service.new_decision(
                ws=ws, title=title, owner_id="U1", creator_id="U1", channel_id=channel, now=MONDAY
            ),
        )
        return made.number


async def like(
    db: Database,
    title: str,
    ws: WorkspaceKey = T1,
    visible: Visibility = EVERYONE,
    days: int = 365,
    later: timedelta = timedelta(0),
) -> str | None:
    async with db.transaction() as session:
        found = await find_repeat(
            session, ws=ws, title=title, visible=visible, now=MONDAY + later, relitigation_days=days
        )
    return found.decision.title if found else None


async def test_finds_the_repeat_among_false_friends_and_noise(db: Database) -> None:
    for title in ("Use Postgres for analytics", "Use MySQL for billing", "Hire a designer"):
        await make(db, T1, title)
    await make(db, T1, "Use Postgres for billing")
    assert await like(db, "Should billing run on PostgreSQL?") == "Use Postgres for billing"
    assert await like(db, "Buy new laptops") is None
    assert await like(db, "the of and") is None


async def test_other_workspaces_and_unreadable_conversations_never_match(db: Database) -> None:
    await make(db, T2, "Pick a payroll vendor")
    await make(db, T1, "Pick a payroll vendor", channel="G1")
    assert await like(db, "Choose the payroll vendor") is None
    member = Visibility(reader="U9", channels=frozenset({"G1"}))
    assert await like(db, "Choose the payroll vendor", visible=member) == "Pick a payroll vendor"
    assert await like(db, "Choose the payroll vendor", ws=T2) == "Pick a payroll vendor"


async def test_index_follows_edit_decide_reopen_drop_and_purge(db: Database) -> None:
    number = await make(db, T1, "Pick a payroll vendor")
    async with db.transaction() as session:
        await service.edit(
            session,
            ws=T1,
            number=number,
            actor=ADMIN,
            field="title",
            text="Rename the product to Beacon",
            now=MONDAY,
        )
    assert await like(db, "Choose the payroll vendor") is None
    assert await like(db, "Product rename to Beacon") == "Rename the product to Beacon"
    async with db.transaction() as session:
        await service.decide(
            session,
            ws=T1,
            number=number,
            actor=ADMIN,
            resolution="We store the backups in S3",
            now=MONDAY,
        )
    assert await like(db, "Keep backups in S3") == "Rename the product to Beacon"
    assert await like(db, "Keep backups in S3", days=30, later=timedelta(days=31)) is None
    async with db.transaction() as session:
        await service.reopen(session, ws=T1, number=number, actor=ADMIN, now=MONDAY)
    assert await like(db, "Keep backups in S3") is None
    async with db.transaction() as session:
        await service.drop(session, ws=T1, number=number, actor=ADMIN, reason=None, now=MONDAY)
    assert await like(db, "Product rename to Beacon") == "Rename the product to Beacon"
    assert await like(db, "Product rename to Beacon", days=7, later=timedelta(days=8)) is None
    async with db.transaction() as session:
        await purge_workspace(session, ws=T1)
        left = await session.scalar(select(func.count()).select_from(DecisionTerm))
    assert left == 0


# --- through Slack -------------------------------------------------------------------------


def later_answers(env: AppEnv, since: int) -> list[dict[str, Any]]:
    return [post.body for post in env.fake.responses[since:]]


def warnings_in(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in answers if "This looks like" in str(a.get("blocks"))]


async def record(env: AppEnv, text: str, **kw: Any) -> tuple[str, list[dict[str, Any]]]:
    """`/decision <text>`: the ack's text and what came through respond() afterwards."""
    since = len(env.fake.responses)
    response = await env.command("/decision", text, **kw)
    return response.json()["text"], later_answers(env, since)


def the_warning(answers: list[dict[str, Any]]) -> dict[str, Any]:
    found = warnings_in(answers)
    assert len(found) == 1, answers
    return found[0]


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        element["action_id"]: element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


async def press(
    env: AppEnv, message: dict[str, Any], action_id: str, user_id: str = "U1"
) -> list[dict[str, Any]]:
    since = len(env.fake.responses)
    await env.interact(
        env.driver.press(
            action_id,
            user_id=user_id,
            value=buttons(message)[action_id]["value"],
            channel_id="C1",
        )
    )
    return later_answers(env, since)


async def stored(env: AppEnv, number: int) -> Decision | None:
    async with env.deps.db.transaction() as session:
        return await session.scalar(
            select(Decision).where(Decision.team_id == "T1", Decision.number == number)
        )


async def test_new_is_acked_first_then_warned_with_every_button(app_env: AppEnv) -> None:
    await record(app_env, "log Use Postgres for billing = Yes, Postgres 16", user_id="U2")
    ack, answers = await record(app_env, "new Should billing run on PostgreSQL?")
    assert ack.startswith("Recorded *D-2*")
    warning = the_warning(answers)
    text = str(warning["blocks"])
    assert (
        "This looks like *D-1* “Use Postgres for billing” (decided Mon 23 Nov by <@U2>: "
        "“Yes, Postgres 16”)." in text
    )
    assert "You just recorded *D-2*" in text
    assert list(buttons(warning)) == [
        "repeat_show",
        "repeat_reopen",
        "repeat_supersede",
        "repeat_different",
        "repeat_undo",
    ]
    assert [b["text"]["text"] for b in buttons(warning).values()] == [
        "Show D-1",
        "Reopen D-1",
        "Record as superseding D-1",
        "It's a different question",
        "Undo",
    ]
    # Something new is recorded without a word more.
    _, quiet = await record(app_env, "new Hire a second designer")
    assert warnings_in(quiet) == []


async def test_show_reopen_and_a_refusal_for_someone_else(app_env: AppEnv) -> None:
    await record(app_env, "log Use Postgres for billing = Yes, Postgres 16")
    _, answers = await record(app_env, "new Billing: use Postgres")
    warning = the_warning(answers)
    (shown,) = await press(app_env, warning, "repeat_show")
    assert "*D-1* · Use Postgres for billing" in str(shown["blocks"])
    assert shown.get("replace_original") is False
    refused = await press(app_env, warning, "repeat_reopen", user_id="U3")
    assert "Only <@U1>" in str(refused)
    d1 = await stored(app_env, 1)
    assert d1 is not None and d1.status == DecisionStatus.DECIDED
    (reopened,) = await press(app_env, warning, "repeat_reopen")
    assert reopened["replace_original"] is True
    assert "reopened *D-1*" in str(reopened["blocks"])
    assert "repeat_undo" in buttons(reopened)
    d1 = await stored(app_env, 1)
    assert d1 is not None and d1.status == DecisionStatus.OPEN
    assert await stored(app_env, 2) is not None


async def test_record_as_superseding_uses_the_supersede_service(app_env: AppEnv) -> None:
    await record(app_env, "log Use Postgres for billing = Yes, Postgres 16")
    _, answers = await record(app_env, "new Use Postgress for billing")
    (done,) = await press(app_env, the_warning(answers), "repeat_supersede")
    assert "*D-2* Use Postgress for billing now supersedes *D-1*" in str(done["blocks"])
    old, new = await stored(app_env, 1), await stored(app_env, 2)
    assert old is not None and old.status == DecisionStatus.SUPERSEDED and old.superseded_by == 2
    assert new is not None and new.supersedes == [1]


async def test_a_different_question_changes_nothing(app_env: AppEnv) -> None:
    await record(app_env, "new Pick a payroll vendor")
    _, answers = await record(app_env, "new Choose the payroll vendor")
    (done,) = await press(app_env, the_warning(answers), "repeat_different")
    assert "Kept *D-2* as a question of its own" in str(done["blocks"])
    assert buttons(done) == {}
    for number in (1, 2):
        d = await stored(app_env, number)
        assert d is not None and d.status == DecisionStatus.OPEN


async def test_undo_removes_the_new_decision_and_its_card_and_keeps_its_number(
    app_env: AppEnv,
) -> None:
    await record(app_env, "new Pick a payroll vendor")
    _, answers = await record(app_env, "new Choose the payroll vendor")
    card = await stored(app_env, 2)
    assert card is not None and card.message_ts
    warning = the_warning(answers)
    refused = await press(app_env, warning, "repeat_undo", user_id="U2")
    assert "Only <@U1>, who recorded D-2, can undo it." in str(refused)
    assert await stored(app_env, 2) is not None
    (done,) = await press(app_env, warning, "repeat_undo")
    assert "Undone: *D-2*" in str(done["blocks"])
    assert await stored(app_env, 2) is None
    (deleted,) = app_env.fake.calls_to("chat.delete")
    assert deleted.params["ts"] == card.message_ts
    ack, _ = await record(app_env, "new Something else entirely")
    assert ack.startswith("Recorded *D-3*")
    again = await press(app_env, warning, "repeat_undo")
    assert "There is no D-2" in str(again)


async def test_undo_is_refused_once_something_happened(app_env: AppEnv) -> None:
    await record(app_env, "new Pick a payroll vendor")
    _, answers = await record(app_env, "new Choose the payroll vendor")
    await app_env.command("/decision", "assign D-2 <@U2>")
    refused = await press(app_env, the_warning(answers), "repeat_undo")
    assert "D-2 has changed since it was recorded, so it can't be undone" in str(refused)
    assert await stored(app_env, 2) is not None


async def test_a_forged_or_broken_button_changes_nothing(app_env: AppEnv) -> None:
    await record(app_env, "new Pick a payroll vendor")
    _, answers = await record(app_env, "new Choose the payroll vendor")
    forged = json.loads(buttons(the_warning(answers))["repeat_undo"]["value"])
    forged["new"] = forged["new"].replace("T1", "T2")
    for value in (json.dumps(forged), "nonsense"):
        since = len(app_env.fake.responses)
        await app_env.interact(
            app_env.driver.press("repeat_undo", user_id="U1", value=value, channel_id="C1")
        )
        told = str(later_answers(app_env, since))
        assert "workspace" in told or "out of date" in told
        assert await stored(app_env, 2) is not None


async def test_private_decisions_only_warn_their_members(app_env: AppEnv) -> None:
    await record(app_env, "new Pick a payroll vendor", channel_id="G1")
    _, member = await record(app_env, "new Which payroll vendor do we pick?", user_id="U1")
    warning = the_warning(member)
    assert "*D-1*" in str(warning["blocks"])
    await press(app_env, warning, "repeat_undo")
    _, outsider = await record(app_env, "new Choose the payroll vendor", user_id="U3")
    assert warnings_in(outsider) == []


async def test_other_workspaces_and_old_settled_decisions_never_warn(app_env: AppEnv) -> None:
    async with app_env.deps.db.transaction() as session:
        await service.create_decision(
            session,
            service.new_decision(
                ws=T2,
                title="Pick a payroll vendor",
                owner_id="U1",
                creator_id="U1",
                channel_id="C1",
                now=MONDAY,
            ),
        )
    _, answers = await record(app_env, "new Choose the payroll vendor")
    assert warnings_in(answers) == []
    await record(app_env, "log Use Postgres for billing = Yes")
    app_env.deps.clock.advance(timedelta(days=366))  # type: ignore[attr-defined]
    _, answers = await record(app_env, "new Billing: use Postgres")
    assert warnings_in(answers) == []


def values(title: str, **more: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "title": {"type": "plain_text_input", "value": title},
        "owner": {"type": "users_select", "selected_user": "U1"},
        **more,
    }


async def opened_modal(env: AppEnv) -> dict[str, Any]:
    await env.command("/decision", "")
    view: dict[str, Any] = env.fake.calls_to("views.open")[-1].params["view"]
    return view


async def test_modal_shows_the_warning_before_recording_and_needs_a_choice(
    app_env: AppEnv,
) -> None:
    await record(app_env, "log Use Postgres for billing = Yes, Postgres 16")
    view = await opened_modal(app_env)
    first = await app_env.interact(
        app_env.driver.submit(
            view,
            values(
                "Billing: use Postgres",
                due={"type": "datepicker", "selected_date": "2026-12-20"},
            ),
            user_id="U1",
        )
    )
    body = first.json()
    assert body["response_action"] == "update"
    warned = body["view"]
    text = str(warned["blocks"])
    assert "This looks like *D-1* “Use Postgres for billing” (decided Mon 23 Nov" in text
    assert "Record this anyway?" in text
    assert warned["submit"]["text"] == "Record anyway"
    fields = {b.get("block_id"): b for b in warned["blocks"]}
    assert fields["title"]["element"]["initial_value"] == "Billing: use Postgres"
    assert fields["due"]["element"]["initial_date"] == "2026-12-20"
    assert await stored(app_env, 2) is None
    unanswered = await app_env.interact(
        app_env.driver.submit(warned, values("Billing: use Postgres"), user_id="U1")
    )
    assert "record it anyway" in unanswered.json()["errors"]["repeat_confirm"]
    assert await stored(app_env, 2) is None
    confirm = {"type": "radio_buttons", "selected_option": {"value": "different"}}
    await app_env.interact(
        app_env.driver.submit(
            warned, values("Billing: use Postgres", repeat_confirm=confirm), user_id="U1"
        )
    )
    new = await stored(app_env, 2)
    assert new is not None and new.title == "Billing: use Postgres"
    old = await stored(app_env, 1)
    assert old is not None and old.status == DecisionStatus.DECIDED


async def test_modal_can_record_it_as_superseding(app_env: AppEnv) -> None:
    await record(app_env, "log Use Postgres for billing = Yes, Postgres 16")
    view = await opened_modal(app_env)
    first = await app_env.interact(
        app_env.driver.submit(view, values("Use Postgres for billing"), user_id="U1")
    )
    warned = first.json()["view"]
    confirm = {"type": "radio_buttons", "selected_option": {"value": "supersede"}}
    await app_env.interact(
        app_env.driver.submit(
            warned, values("Use Postgres for billing", repeat_confirm=confirm), user_id="U1"
        )
    )
    old = await stored(app_env, 1)
    assert old is not None and old.status == DecisionStatus.SUPERSEDED and old.superseded_by == 2


async def test_modal_without_a_match_records_at_once(app_env: AppEnv) -> None:
    await record(app_env, "new Pick a payroll vendor")
    view = await opened_modal(app_env)
    await app_env.interact(
        app_env.driver.submit(view, values("Hire a second designer"), user_id="U1")
    )
    assert await stored(app_env, 2) is not None


async def test_record_as_decision_shortcut_warns_in_its_modal(app_env: AppEnv) -> None:
    await record(app_env, "new Move the launch to March")
    message = {"ts": "1700000000.000300", "user": "U2", "text": "Moving the launch to march?"}
    await app_env.interact(
        app_env.driver.message_shortcut(
            "record_decision", user_id="U1", channel_id="C1", message=message
        )
    )
    view: dict[str, Any] = app_env.fake.calls_to("views.open")[-1].params["view"]
    first = await app_env.interact(
        app_env.driver.submit(view, values("Moving the launch to march?"), user_id="U1")
    )
    warned = first.json()["view"]
    assert "This looks like *D-1* “Move the launch to March” (still open" in str(warned["blocks"])
    assert "1700000000000300" in warned["private_metadata"]  # the permalink is kept
    assert await stored(app_env, 2) is None
