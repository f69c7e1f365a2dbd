"""/meeting end to end: signed requests in, rows stored, what reached the fake Slack checked."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import func, select

from bot.devtools.blockkit_checks import check_blocks, check_message, check_view
from bot.meetings import service
from bot.meetings.models import Meeting, Outcome
from bot.slack.blocks import meetings as render
from bot.workspace import WorkspaceKey
from tests.conftest import BOT_TOKEN, AppEnv

WS = WorkspaceKey("T1")


# --- helpers shared by the outcome and shortcut tests ---------------------------------------


async def count(env: AppEnv, model: type) -> int:
    async with env.deps.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def meeting(env: AppEnv, number: int = 1) -> Meeting:
    async with env.deps.db.transaction() as session:
        return await service.get_meeting(session, ws=WS, number=number)


def posts(env: AppEnv, channel: str | None = None) -> list[dict[str, Any]]:
    """Every chat.postMessage the app made (to ``channel``), each checked against the limits."""
    found = [
        c.params
        for c in env.fake.calls_to("chat.postMessage")
        if c.ok and (channel is None or c.params["channel"] == channel)
    ]
    for params in found:
        assert check_message(params) == [], params
    return found


def updates(env: AppEnv) -> list[dict[str, Any]]:
    found = [c.params for c in env.fake.calls_to("chat.update")]
    for params in found:
        assert check_message(params) == [], params
    return found


def latest_view(env: AppEnv) -> dict[str, Any]:
    opened = env.fake.calls_to("views.open")
    assert opened, "no modal was opened"
    view: dict[str, Any] = opened[-1].params["view"]
    assert check_view(view) == []
    return view


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    found = []
    for block in blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("action_id"):
                found.append(element["action_id"])
    return found


def stored_message(env: AppEnv, channel: str, ts: str) -> dict[str, Any]:
    """A message as a block_actions payload carries it: ts, text and the blocks Slack shows."""
    message = env.fake.messages[(channel, ts)]
    return {"type": "message", "ts": ts, "text": message.text, "blocks": message.blocks}


async def summary_message(env: AppEnv, number: int = 1) -> dict[str, Any]:
    m = await meeting(env, number)
    assert m.message_channel_id and m.message_ts, "the summary was not remembered"
    return stored_message(env, m.message_channel_id, m.message_ts)


async def ended_meeting(env: AppEnv, title: str = "Weekly planning", **kw: Any) -> None:
    await env.command("/meeting", f"start {title}", **kw)
    await env.command("/meeting", "end", **kw)


async def bot_dm(env: AppEnv, user_id: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """A reminder-like DM from the app, as the nudges send them, holding our buttons."""
    client = AsyncWebClient(token=BOT_TOKEN, base_url=env.fake.api_url)
    posted = await client.chat_postMessage(channel=user_id, text="Reminder", blocks=blocks)
    return stored_message(env, posted["channel"], posted["ts"])


def rows(*filled: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """State values for the "record outcomes" modal: one dict (text, owner, due) per row."""
    values: dict[str, dict[str, Any]] = {}
    for index, row in enumerate(filled, start=1):
        text_id, owner_id, due_id = render.row_block_ids(index)
        values[text_id] = {"type": "plain_text_input", "value": row.get("text")}
        values[owner_id] = {"type": "users_select", "selected_user": row.get("owner")}
        values[due_id] = {"type": "datepicker", "selected_date": row.get("due")}
    return values


# --- /meeting -------------------------------------------------------------------------------


async def test_start_is_acked_in_channel_with_its_ref(app_env: AppEnv) -> None:
    response = await app_env.command("/meeting", "start Weekly planning")
    body = response.json()
    assert body["response_type"] == "in_channel"
    assert "*M-1*" in body["text"] and "Weekly planning" in body["text"]
    assert (await meeting(app_env)).ended_at is None


async def test_second_start_and_end_without_meeting_are_refused(app_env: AppEnv) -> None:
    refused = (await app_env.command("/meeting", "end")).json()
    assert refused["response_type"] == "ephemeral" and "No meeting is open" in refused["text"]
    await app_env.command("/meeting", "start One")
    again = (await app_env.command("/meeting", "start Two")).json()
    assert again["response_type"] == "ephemeral"
    assert "M-1" in again["text"] and "still open" in again["text"]
    assert await count(app_env, Meeting) == 1
    # Another channel may hold its own meeting at the same time.
    other = (await app_env.command("/meeting", "start Design", channel_id="C2")).json()
    assert "M-2" in other["text"]


async def test_end_without_outcomes_posts_summary_with_two_buttons(app_env: AppEnv) -> None:
    await ended_meeting(app_env)
    (summary,) = posts(app_env, "C1")
    assert "M-1" in summary["text"]
    assert action_ids(summary["blocks"]) == ["meeting_record_outcomes", "meeting_no_outcome"]
    assert "No outcomes recorded" in str(summary["blocks"])
    assert (await meeting(app_env)).message_ts is not None


async def test_record_outcomes_from_the_summary(app_env: AppEnv) -> None:
    await ended_meeting(app_env)
    message = await summary_message(app_env)
    await app_env.interact(
        app_env.driver.press(
            "meeting_record_outcomes",
            user_id="U2",
            value="T1:M-1",
            channel_id="C1",
            message=message,
        )
    )
    view = latest_view(app_env)
    assert view["callback_id"] == "meeting_record_outcomes"
    response = await app_env.interact(
        app_env.driver.submit(
            view,
            rows(
                {"text": "Scope agreed"},
                {"text": "Ship the beta", "owner": "U3", "due": "2026-11-27"},
                {"text": "Write the memo", "due": "2026-12-01"},
            ),
            user_id="U2",
        )
    )
    assert response.status_code == 200 and not response.content
    m = await meeting(app_env)
    assert [(o.kind, o.ref, o.owner_id) for o in m.outcomes] == [
        ("note", None, None),
        ("action", "A-1", "U3"),
        ("action", "A-2", "U2"),
    ]
    (update,) = updates(app_env)
    assert update["ts"] == message["ts"]
    text = str(update["blocks"])
    assert "Scope agreed" in text and "<@U3>" in text and "Fri 27 Nov 2026" in text
    # Outcomes recorded: the two buttons are gone, each open action has its Done button.
    assert action_ids(update["blocks"]) == ["action_done", "action_done"]


async def test_bad_rows_are_refused_in_the_modal_and_nothing_is_stored(app_env: AppEnv) -> None:
    await ended_meeting(app_env)
    message = await summary_message(app_env)
    await app_env.interact(
        app_env.driver.press(
            "meeting_record_outcomes",
            user_id="U1",
            value="T1:M-1",
            channel_id="C1",
            message=message,
        )
    )
    view = latest_view(app_env)
    response = await app_env.interact(
        app_env.driver.submit(
            view,
            rows(
                {"text": "Fine"},
                {"owner": "U2"},
                {"text": "Too late", "due": "2020-01-01"},
                {"text": "x" * 2001},
            ),
            user_id="U1",
        )
    )
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"outcome_text_2", "due_3", "outcome_text_4"}
    assert await count(app_env, Outcome) == 0
    empty = await app_env.interact(app_env.driver.submit(view, rows({}), user_id="U1"))
    assert set(empty.json()["errors"]) == {"outcome_text_1"}
    assert updates(app_env) == []


async def test_no_outcome_needed_by_the_organizer(app_env: AppEnv) -> None:
    await ended_meeting(app_env)
    message = await summary_message(app_env)
    await app_env.interact(
        app_env.driver.press(
            "meeting_no_outcome", user_id="U2", value="T1:M-1", channel_id="C1", message=message
        )
    )
    assert app_env.fake.calls_to("views.open") == []
    assert any("Only the organizer" in str(r.body) for r in app_env.fake.responses)
    await app_env.interact(
        app_env.driver.press(
            "meeting_no_outcome", user_id="U1", value="T1:M-1", channel_id="C1", message=message
        )
    )
    view = latest_view(app_env)
    assert view["callback_id"] == "meeting_no_outcome"
    await app_env.interact(
        app_env.driver.submit(
            view,
            {"reason": {"type": "plain_text_input", "value": "Status sync only"}},
            user_id="U1",
        )
    )
    m = await meeting(app_env)
    assert (m.no_outcome_reason, m.no_outcome_by) == ("Status sync only", "U1")
    (update,) = updates(app_env)
    assert update["ts"] == message["ts"]
    assert "No outcome needed" in str(update["blocks"]) and action_ids(update["blocks"]) == []


async def test_no_outcome_reason_errors_stay_in_the_modal(app_env: AppEnv) -> None:
    await ended_meeting(app_env)
    message = await summary_message(app_env)
    await app_env.interact(
        app_env.driver.press(
            "meeting_no_outcome", user_id="U1", value="T1:M-1", channel_id="C1", message=message
        )
    )
    view = latest_view(app_env)
    response = await app_env.interact(
        app_env.driver.submit(
            view, {"reason": {"type": "plain_text_input", "value": " "}}, user_id="U1"
        )
    )
    assert response.json()["response_action"] == "errors"
    assert "reason" in response.json()["errors"]
    assert (await meeting(app_env)).no_outcome_reason is None


async def test_buttons_work_from_a_reminder_dm(app_env: AppEnv) -> None:
    await ended_meeting(app_env)
    m = await meeting(app_env)
    dm = await bot_dm(app_env, "U1", [render.meeting_outcome_buttons(m, place="nudge")])
    await app_env.interact(
        app_env.driver.press(
            "meeting_record_outcomes", user_id="U1", value="T1:M-1", channel_id="DU1", message=dm
        )
    )
    await app_env.interact(
        app_env.driver.submit(latest_view(app_env), rows({"text": "Agreed"}), user_id="U1")
    )
    updated = {(u["channel"], u["ts"]) for u in updates(app_env)}
    # Both the channel summary and the DM it was pressed in now show the outcome.
    assert updated == {("C1", m.message_ts), ("DU1", dm["ts"])}
    assert "Agreed" in str(app_env.fake.messages[("DU1", dm["ts"])].blocks)


async def test_buttons_work_from_app_home(app_env: AppEnv) -> None:
    await ended_meeting(app_env)
    await app_env.interact(app_env.driver.open_home("U1"))
    home = app_env.fake.published_home["U1"]
    assert check_view(home) == []
    assert "Meetings that still owe outcomes" in str(home["blocks"])
    assert "meeting_no_outcome" in action_ids(home["blocks"])
    await app_env.interact(
        app_env.driver.press("meeting_no_outcome", user_id="U1", value="T1:M-1", view=home)
    )
    await app_env.interact(
        app_env.driver.submit(
            latest_view(app_env),
            {"reason": {"type": "plain_text_input", "value": "Cancelled"}},
            user_id="U1",
        )
    )
    republished = app_env.fake.published_home["U1"]
    assert len(app_env.fake.calls_to("views.publish")) == 2
    assert "meeting_no_outcome" not in action_ids(republished["blocks"])
    assert "Every meeting you ran has its outcomes" in str(republished["blocks"])


async def test_log_records_a_past_meeting_that_owes_outcomes(app_env: AppEnv) -> None:
    response = (await app_env.command("/meeting", "log Customer call")).json()
    assert response["response_type"] == "ephemeral" and "M-1" in response["text"]
    m = await meeting(app_env)
    assert m.ended_at is not None
    (summary,) = posts(app_env, "C1")
    assert action_ids(summary["blocks"]) == ["meeting_record_outcomes", "meeting_no_outcome"]


async def test_summary_lists_decisions_made_during_the_meeting(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Vendor review")
    await app_env.command("/decision", "new Pick a payroll vendor <@U2>")
    await app_env.command("/outcome", "Call Acme <@U3> by friday")
    await app_env.command("/meeting", "end")
    summary = posts(app_env, "C1")[-1]
    text = str(summary["blocks"])
    assert "D-1" in text and "Pick a payroll vendor" in text
    assert "A-1" in text and "Call Acme" in text and "Fri 27 Nov 2026" in text
    assert action_ids(summary["blocks"]) == ["action_done"]


@pytest.mark.parametrize(
    "hostile", ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S123|team>"]
)
async def test_hostile_text_is_inert_in_summaries(app_env: AppEnv, hostile: str) -> None:
    await app_env.command("/meeting", f"start Plan {hostile} &lt;http://evil.example|x&gt;")
    await app_env.command("/outcome", f"Do it {hostile} &lt;http://evil.example|click&gt; <@U2>")
    await app_env.command("/meeting", "end")
    shown = (await app_env.command("/meeting", "show M-1")).json()
    for rendered in [*posts(app_env), shown]:
        text = str(rendered.get("blocks")) + str(rendered.get("text"))
        assert hostile not in text
        assert "<!channel" not in text and "<!here" not in text and "<!subteam" not in text


async def test_many_outcomes_stay_within_limits(app_env: AppEnv) -> None:
    await app_env.command("/meeting", "start Big one")
    async with app_env.deps.db.transaction() as session:
        m = await service.get_meeting(session, ws=WS, number=1)
        await service.add_outcomes(
            session,
            ws=WS,
            meeting=m,
            drafts=[
                service.OutcomeDraft(f"Item {i} " + "&<>" * 600, owner_id="U2") for i in range(200)
            ],
            creator_id="U1",
            now=app_env.deps.now(),
        )
    await app_env.command("/meeting", "end")
    summary = posts(app_env, "C1")[-1]
    assert "and 170 more" in str(summary["blocks"])
    shown = (await app_env.command("/meeting", "show M-1")).json()
    assert check_message(shown) == []
    assert "and 50 more not shown" in str(shown["blocks"])


async def test_list_and_show(app_env: AppEnv) -> None:
    await ended_meeting(app_env, "First")
    await app_env.command("/meeting", "start Second")
    await app_env.command("/meeting", "start Elsewhere", channel_id="C2")
    listed = (await app_env.command("/meeting", "list")).json()
    assert check_message(listed) == []
    text = str(listed["blocks"])
    assert "First" in text and "Second" in text and "Elsewhere" not in text
    assert "no outcome yet" in text and "open now" in text
    shown = (await app_env.command("/meeting", "show M-1", channel_id="C2")).json()
    assert shown["response_type"] == "ephemeral" and "First" in str(shown["blocks"])
    missing = (await app_env.command("/meeting", "show M-9")).json()
    assert "no M-9" in missing["text"]


async def test_private_and_other_workspace_meetings_are_not_found(app_env: AppEnv) -> None:
    await ended_meeting(app_env, "Secret plans", channel_id="G1")
    member = (await app_env.command("/meeting", "show M-1", user_id="U1")).json()
    assert "Secret plans" in str(member["blocks"])
    outsider = (await app_env.command("/meeting", "show M-1", user_id="U2")).json()
    assert "no M-1" in outsider["text"] and "Secret" not in str(outsider)
    other = (await app_env.command("/meeting", "show M-1", team_id="T2")).json()
    assert "no M-1" in other["text"]
    end_there = (await app_env.command("/meeting", "end", channel_id="G1", team_id="T2")).json()
    assert "No meeting is open" in end_there["text"]


async def test_help_and_bad_input(app_env: AppEnv) -> None:
    helped = (await app_env.command("/meeting", "help")).json()
    assert "/meeting start" in helped["text"]
    too_long = (await app_env.command("/meeting", "start " + "x" * 201)).json()
    assert too_long["response_type"] == "ephemeral" and "200" in too_long["text"]
    bad_ref = (await app_env.command("/meeting", "show D-1")).json()
    assert "M-3" in bad_ref["text"]
    assert await count(app_env, Meeting) == 0


async def test_summary_reaches_the_person_where_the_app_may_not_post(app_env: AppEnv) -> None:
    app_env.fake.add_channel("C9", name="closed", is_member=False)
    await ended_meeting(app_env, channel_id="C9")
    assert posts(app_env, "C9") == []
    (reply,) = [r.body for r in app_env.fake.responses if "blocks" in r.body]
    assert reply["response_type"] == "ephemeral"
    assert check_message(reply) == []
    assert "/invite" in str(reply["blocks"])
    assert "meeting_record_outcomes" in action_ids(reply["blocks"])


# --- rendering, for any text and any number of outcomes -------------------------------------

hostile_text = st.lists(
    st.sampled_from([*"ab <>&|!@#*_~`:\n", "<!channel>", "<!here>", "<http://x|y>", "&amp;"]),
    min_size=1,
    max_size=120,
).map("".join)


def _rendered_meeting(title: str, texts: list[str], *, ended: bool, number: int = 7) -> Meeting:
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    m = Meeting(
        number=number,
        title=title,
        organizer_id="U1",
        channel_id="C1",
        started_at=now,
        ended_at=now + timedelta(minutes=50) if ended else None,
        created_at=now,
        outcomes=[],
    )
    for i, text in enumerate(texts):
        # Setting the meeting also puts the outcome in m.outcomes (the relationship's other side).
        Outcome(
            number=i + 1 if i % 2 else None,
            kind="action" if i % 2 else "note",
            text=text * 20,
            owner_id="U2" if i % 2 else None,
            due_date=date(2026, 11, 20) if i % 4 == 1 else None,
            creator_id="U1",
            created_at=now,
            updated_at=now,
            meeting=m,
        )
    return m


@settings(max_examples=25, deadline=None)
@given(
    title=hostile_text,
    texts=st.lists(hostile_text, max_size=8),
    extra=st.sampled_from([0, 45, 160]),
    ended=st.booleans(),
)
def test_summaries_fit_and_stay_inert(
    title: str, texts: list[str], extra: int, ended: bool
) -> None:
    m = _rendered_meeting(title, texts + ["x"] * extra, ended=ended)
    today = date(2026, 11, 23)
    rendered = [
        render.meeting_summary(m, decisions={}, today=today),
        render.meeting_summary(m, decisions={}, today=today, detail=True),
        *(render.outcome_card(o, meeting=m, today=today) for o in m.outcomes[:3]),
    ]
    for blocks in rendered:
        assert check_blocks(blocks, surface="message") == []
        text = str(blocks)
        assert "<!channel>" not in text and "<!here>" not in text
    page = service.Page(items=[o for o in m.outcomes if o.number][:20], total=len(m.outcomes))
    home = {
        "type": "home",
        "blocks": render.home_actions_section(page, today=today)
        + render.home_meetings_section(
            service.Page(
                items=[_rendered_meeting(title, [], ended=True, number=n) for n in range(20)],
                total=50,
            )
        ),
    }
    assert check_view(home) == []
    modals = [
        render.record_outcomes_modal(m, origin={"origin": {"url": "x" * 300}}),
        render.no_outcome_modal(m, origin={}),
        render.record_outcome_modal(
            [m] * 30, team_id="T1", channel_id="C1", text=title * 40, source_permalink="https://x"
        ),
    ]
    for modal in modals:
        assert check_view(modal) == []
