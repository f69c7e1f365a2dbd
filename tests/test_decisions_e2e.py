"""/decision end to end: signed requests in, rows stored, Web API calls out to the fake Slack."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.decisions.models import Decision
from tests.conftest import AppEnv


async def count_decisions(env: AppEnv) -> int:
    async with env.deps.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Decision)) or 0)


async def test_new_decision_is_stored_acked_with_ref_and_posted(app_env: AppEnv) -> None:
    response = await app_env.command("/decision", "new Pick a payroll vendor <@U2|ben> by friday")
    assert response.status_code == 200
    assert "D-1" in response.json()["text"]
    posts = app_env.fake.calls_to("chat.postMessage")
    assert len(posts) == 1
    assert posts[0].params["channel"] == "C1"
    text = str(posts[0].params["blocks"])
    assert "Pick a payroll vendor" in text and "<@U2>" in text and "Fri 27 Nov 2026" in text
    async with app_env.deps.db.transaction() as session:
        d = await session.scalar(select(Decision))
    assert d is not None and d.number == 1 and d.owner_id == "U2" and d.message_ts


async def test_bad_date_is_refused_and_nothing_changes(app_env: AppEnv) -> None:
    response = await app_env.command("/decision", "new Pick a vendor by 2026-13-45")
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "YYYY-MM-DD" in body["text"]
    assert await count_decisions(app_env) == 0
    assert app_env.fake.calls_to("chat.postMessage") == []


@pytest.mark.parametrize(
    "hostile", ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S123|team>"]
)
async def test_broadcasts_never_go_out_live(app_env: AppEnv, hostile: str) -> None:
    await app_env.command("/decision", f"new Ship it {hostile} &lt;http://evil.example|click&gt;")
    post = app_env.fake.calls_to("chat.postMessage")[0]
    rendered = str(post.params["blocks"]) + post.params.get("text", "")
    assert "<!" not in rendered
    # The link the person typed is a link with its own text (issue 16, point 3).
    assert "<http://evil.example|click>" in rendered


async def latest_view(env: AppEnv) -> dict:
    opened = env.fake.calls_to("views.open")
    assert opened, "no modal was opened"
    return opened[-1].params["view"]


async def card_message(env: AppEnv, number: int = 1) -> dict:
    async with env.deps.db.transaction() as session:
        d = await session.scalar(select(Decision).where(Decision.number == number))
    assert d is not None and d.message_ts
    return {"ts": d.message_ts, "type": "message", "text": ""}


async def decision(env: AppEnv, number: int = 1) -> Decision:
    from bot.decisions import service
    from bot.workspace import WorkspaceKey

    async with env.deps.db.transaction() as session:
        return await service.get_decision(session, ws=WorkspaceKey("T1"), number=number)


async def test_numbers_count_up_and_are_never_reused(app_env: AppEnv) -> None:
    for title in ("One", "Two", "Three"):
        await app_env.command("/decision", f"new {title}")
    await app_env.command("/decision", "drop D-3 not needed")
    response = await app_env.command("/decision", "new Four")
    assert "D-4" in response.json()["text"]


async def test_unknown_or_other_workspace_ref_is_not_found(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Ours")
    response = await app_env.command("/decision", "show D-1", team_id="T2")
    assert response.json()["response_type"] == "ephemeral"
    assert "no D-1" in response.json()["text"]
    response = await app_env.command("/decision", "decide D-1 yes", team_id="T2")
    assert "no D-1" in response.json()["text"]
    assert (await decision(app_env)).status == "open"
    response = await app_env.command("/decision", "show D-99")
    assert "no D-99" in response.json()["text"]


async def test_decide_updates_card_and_history(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor <@U2> by tomorrow")
    response = await app_env.command("/decision", "decide D-1 Acme, cheapest", user_id="U2")
    body = response.json()
    assert body["response_type"] == "in_channel"
    assert "Acme, cheapest" in body["text"]
    updates = app_env.fake.calls_to("chat.update")
    assert len(updates) == 1
    assert "Decided" in str(updates[0].params["blocks"])
    # Decided: no Decide/Reassign/Drop any more, only "Add action" (issue 17).
    assert "decision_decide" not in str(updates[0].params["blocks"])
    assert "decision_add_action" in str(updates[0].params["blocks"])
    shown = await app_env.command("/decision", "show D-1")
    text = str(shown.json()["blocks"])
    assert "recorded it for <@U2>" in text and "decided: Acme, cheapest" in text


async def test_only_creator_owner_or_admin_may_change(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor <@U2>", user_id="U1")
    refused = await app_env.command("/decision", "decide D-1 mine", user_id="U3")
    assert refused.json()["response_type"] == "ephemeral"
    assert "Only the owner" in refused.json()["text"]
    assert (await decision(app_env)).status == "open"
    allowed = await app_env.command("/decision", "assign D-1 <@U3>", user_id="UADMIN")
    assert allowed.json()["response_type"] == "in_channel"
    assert (await decision(app_env)).owner_id == "U3"


async def test_due_drop_reopen_and_their_history(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Budget")
    await app_env.command("/decision", "due D-1 2026-12-15")
    assert str((await decision(app_env)).due_date) == "2026-12-15"
    await app_env.command("/decision", "drop D-1 superseded")
    d = await decision(app_env)
    assert d.status == "dropped" and d.drop_reason == "superseded"
    again = await app_env.command("/decision", "drop D-1")
    assert "already dropped" in again.json()["text"]
    await app_env.command("/decision", "reopen D-1")
    d = await decision(app_env)
    assert d.status == "open"
    assert [e.action for e in d.events] == ["created", "due_changed", "dropped", "reopened"]


async def test_due_in_the_past_is_refused(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Budget")
    response = await app_env.command("/decision", "due D-1 2020-01-01")
    assert "past" in response.json()["text"]
    assert (await decision(app_env)).due_date is None


async def test_dates_are_read_in_the_users_timezone(app_env: AppEnv) -> None:
    # 2026-11-23 10:00 UTC is Monday 02:00 in Los Angeles and Monday 19:00 in Tokyo.
    app_env.deps.clock.set(app_env.deps.clock.now().replace(hour=23))  # type: ignore[attr-defined]
    # 23:00 UTC Monday: Tokyo is already Tuesday 08:00, Los Angeles still Monday 15:00.
    await app_env.command("/decision", "new A by tomorrow", user_id="U3")
    await app_env.command("/decision", "new B by tomorrow", user_id="U2")
    assert str((await decision(app_env, 1)).due_date) == "2026-11-25"
    assert str((await decision(app_env, 2)).due_date) == "2026-11-24"


async def test_over_long_title_is_a_clear_error(app_env: AppEnv) -> None:
    response = await app_env.command("/decision", "new " + "x" * 201)
    assert "200" in response.json()["text"]
    assert await count_decisions(app_env) == 0


async def test_help_and_unknown_subcommand(app_env: AppEnv) -> None:
    helped = await app_env.command("/decision", "help")
    assert "/decision new" in helped.json()["text"]
    unknown = await app_env.command("/decision", "frobnicate D-1")
    assert unknown.json()["response_type"] == "ephemeral"
    assert "frobnicate" in unknown.json()["text"]


async def test_list_views(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Here one")
    await app_env.command("/decision", "new Elsewhere <@U2>", channel_id="C2")
    await app_env.command("/decision", "new Secret", channel_id="G1")
    here = str((await app_env.answer("/decision", "list"))["blocks"])
    assert "Here one" in here and "Elsewhere" not in here
    mine = str((await app_env.answer("/decision", "list mine", user_id="U2"))["blocks"])
    assert "Elsewhere" in mine and "Here one" not in mine
    other = str((await app_env.answer("/decision", "list <@U2>"))["blocks"])
    assert "Elsewhere" in other
    # The heading names the person as a mention Slack shows, not escaped into "&lt;@U2&gt;".
    assert "*Open decisions owned by <@U2>*" in other
    # U3 is not a member of the private channel G1: its decision stays hidden from them.
    every = str((await app_env.answer("/decision", "list all", user_id="U3"))["blocks"])
    assert "Here one" in every and "Elsewhere" in every and "Secret" not in every
    member = str((await app_env.answer("/decision", "list all", user_id="U1"))["blocks"])
    assert "Secret" in member


async def test_list_stalled(app_env: AppEnv) -> None:
    from datetime import timedelta

    await app_env.command("/decision", "new Old one")
    app_env.deps.clock.advance(timedelta(days=8))  # type: ignore[attr-defined]
    await app_env.command("/decision", "new Fresh one")
    await app_env.command("/decision", "new Overdue by tomorrow")
    app_env.deps.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    stalled = str((await app_env.answer("/decision", "list stalled"))["blocks"])
    assert "Old one" in stalled and "Overdue" in stalled and "Fresh one" not in stalled


async def test_modal_opens_and_submission_creates(app_env: AppEnv) -> None:
    await app_env.command("/decision", "")
    view = await latest_view(app_env)
    assert view["callback_id"] == "decision_new"
    response = await app_env.interact(
        app_env.driver.submit(
            view,
            {
                "title": {"type": "plain_text_input", "value": "Hire a designer"},
                "context": {"type": "plain_text_input", "value": "We are behind"},
                "owner": {"type": "users_select", "selected_user": "U2"},
                "due": {"type": "datepicker", "selected_date": "2026-12-01"},
            },
            user_id="U1",
        )
    )
    assert response.status_code == 200
    d = await decision(app_env)
    assert (d.title, d.owner_id, str(d.due_date), d.channel_id) == (
        "Hire a designer",
        "U2",
        "2026-12-01",
        "C1",
    )
    assert app_env.fake.calls_to("chat.postMessage")


async def test_modal_errors_stay_in_the_modal(app_env: AppEnv) -> None:
    await app_env.command("/decision", "")
    view = await latest_view(app_env)
    response = await app_env.interact(
        app_env.driver.submit(
            view,
            {
                "title": {"type": "plain_text_input", "value": "   "},
                "owner": {"type": "users_select", "selected_user": "U1"},
                "due": {"type": "datepicker", "selected_date": "2020-01-01"},
            },
            user_id="U1",
        )
    )
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"title", "due"}
    assert await count_decisions(app_env) == 0


async def test_decide_button_opens_modal_and_updates_card(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    message = await card_message(app_env)
    await app_env.interact(
        app_env.driver.press(
            "decision_decide", user_id="U1", value="T1:D-1", channel_id="C1", message=message
        )
    )
    view = await latest_view(app_env)
    assert view["callback_id"] == "decision_decide"
    await app_env.interact(
        app_env.driver.submit(
            view, {"resolution": {"type": "plain_text_input", "value": "Acme"}}, user_id="U1"
        )
    )
    d = await decision(app_env)
    assert d.status == "decided" and d.resolution == "Acme"
    assert app_env.fake.calls_to("chat.update")[-1].params["ts"] == message["ts"]


async def test_decide_button_refuses_others_before_the_modal(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    message = await card_message(app_env)
    await app_env.interact(
        app_env.driver.press(
            "decision_decide", user_id="U3", value="T1:D-1", channel_id="C1", message=message
        )
    )
    assert app_env.fake.calls_to("views.open") == []
    refusals = [r.body for r in app_env.fake.responses]
    assert any("Only <@U1> (who owns and recorded D-1)" in str(r) for r in refusals)


async def test_reassign_and_drop_buttons(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    message = await card_message(app_env)
    await app_env.interact(
        app_env.driver.press(
            "decision_reassign",
            user_id="U1",
            selected_user="U2",
            block_id="decision:T1:D-1:card",
            channel_id="C1",
            message=message,
        )
    )
    assert (await decision(app_env)).owner_id == "U2"
    await app_env.interact(
        app_env.driver.press(
            "decision_drop", user_id="U2", value="T1:D-1", channel_id="C1", message=message
        )
    )
    assert (await decision(app_env)).status == "open"
    view = await latest_view(app_env)
    assert view["callback_id"] == "decision_drop"
    await app_env.interact(
        app_env.driver.submit(view, {"reason": {"type": "plain_text_input"}}, user_id="U2")
    )
    d = await decision(app_env)
    assert d.status == "dropped" and d.drop_reason is None
    assert len(app_env.fake.calls_to("chat.update")) == 2


async def test_app_home_shows_owned_and_waiting(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Mine to decide")
    await app_env.command("/decision", "new Waiting on ben <@U2>")
    await app_env.command("/decision", "new Not mine at all", user_id="U3")
    await app_env.interact(app_env.driver.open_home("U1"))
    home = app_env.fake.published_home["U1"]
    text = str(home["blocks"])
    assert "Mine to decide" in text and "Waiting on ben" in text and "Not mine at all" not in text
    from bot.devtools.blockkit_checks import check_view

    assert check_view(home) == []


@pytest.mark.commits  # its transactions race each other on their own connections
async def test_concurrent_creates_get_distinct_numbers(app_env: AppEnv) -> None:
    import asyncio

    responses = await asyncio.gather(
        *(
            app_env.driver.command("/decision", f"new Item {i}", user_id="U1", channel_id="C1")
            for i in range(25)
        )
    )
    await app_env.settle()
    refs = sorted(int(r.json()["text"].split("D-")[1].split("*")[0]) for r in responses)
    assert refs == list(range(1, 26))
    assert await count_decisions(app_env) == 25


async def test_app_home_shows_the_owner_a_private_channels_decision(app_env: AppEnv) -> None:
    # U1 records a decision in private G1 for U2, who is not a member of G1: as its owner, U2
    # was told of it and sees it; U3, neither member, owner nor creator, does not.
    await app_env.command("/decision", "new Private matter <@U2>", channel_id="G1")
    await app_env.command("/decision", "new Public matter <@U2>", channel_id="C1")
    await app_env.interact(app_env.driver.open_home("U2"))
    text = str(app_env.fake.published_home["U2"]["blocks"])
    assert "Public matter" in text and "Private matter" in text
    listed = str((await app_env.answer("/decision", "list all", user_id="U3"))["blocks"])
    assert "Public matter" in listed and "Private matter" not in listed
