"""Issue #13: private channels and DMs, end to end through signed HTTP and the fake Slack.

G1 is private with U1 as its only member; C1 and C2 are public. U3 is in no private channel,
and UADMIN is a workspace admin who is not in G1 either: being an admin grants no reading.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.decisions import service as decisions
from bot.devtools.blockkit_checks import check_view
from bot.slack.digest_compose import compose_digest
from bot.slack.privacy import ChannelAccess, ChannelFacts
from bot.workspace import WorkspaceKey
from tests.conftest import BOT_TOKEN, AppEnv
from tests.test_nudges_e2e import Env, env  # noqa: F401  (the worker's fixture)

WS = WorkspaceKey("T1")


def flat(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def said(response: Any) -> str:
    body = response.json() if response.content else {}
    return str(body.get("text") or "")


def slack_methods(app_env: AppEnv) -> list[str]:
    """The Web API methods called, in order, without the ones every request makes."""
    return [c.method for c in app_env.fake.calls if c.method not in {"auth.test", "users.info"}]


async def private_decision(app_env: AppEnv, title: str = "Promote cho to staff") -> None:
    await app_env.command("/decision", f"new {title}", user_id="U1", channel_id="G1")


# --- point 1: by reference, a hidden item is a number never used -------------------------------


async def many_decisions(
    app_env: AppEnv, texts: list[str], *, user_id: str = "U1", channel_id: str = "C1"
) -> None:
    """Record ``/decision new <text>`` for each text, as a burst of them would be: the first
    through signed HTTP, the rest in one unit of work (``create_decisions``, which the web
    process's group commit runs for a burst). The tests below read them; typing each one cost
    most of this file's time."""
    await app_env.command("/decision", f"new {texts[0]}", user_id=user_id, channel_id=channel_id)
    now = app_env.deps.now()
    requests = []
    for text in texts[1:]:
        title, _, owner = text.partition(" <@")
        requests.append(
            decisions.new_decision(
                ws=WS,
                title=title,
                owner_id=owner.rstrip(">") or user_id,
                creator_id=user_id,
                channel_id=channel_id,
                now=now,
            )
        )
    async with app_env.deps.db.transaction() as session:
        await decisions.create_decisions(session, requests)


@pytest.mark.parametrize(
    "text",
    [
        "show D-{n}",
        "drop D-{n} confidential reason: budget freeze",
        "reopen D-{n}",
        "decide D-{n} yes",
        "assign D-{n} <@U3>",
        "due D-{n} friday",
        "edit D-{n} title Leaked",
        "note D-{n} just looking",
        "act D-{n} Tell everyone",
        "act D-{n} none nothing to do",
        "supersede D-{n} with D-2",
    ],
)
async def test_decision_by_reference_hides_a_private_channels_decision(
    app_env: AppEnv, text: str
) -> None:
    await private_decision(app_env)
    await app_env.command("/decision", "new Public one", channel_id="C1")
    for user in ("U3", "UADMIN"):
        await app_env.command("/decision", "list all", user_id=user)  # warm the caches alike
        app_env.fake.clear_calls()
        hidden = await app_env.command("/decision", text.format(n=1), user_id=user)
        hidden_calls = slack_methods(app_env)
        app_env.fake.clear_calls()
        missing = await app_env.command("/decision", text.format(n=30), user_id=user)
        assert said(hidden) == said(missing).replace("D-30", "D-1")
        assert said(hidden) == "There is no D-1 in this workspace. `/decision list all` shows them."
        assert hidden_calls == slack_methods(app_env)
    async with app_env.deps.db.transaction() as session:
        d = await decisions.get_decision(session, ws=WS, number=1)
    assert d.status == "open" and d.owner_id == "U1" and d.due_date is None
    posted = flat([c.params for c in app_env.fake.calls_to("chat.postMessage")])
    assert "budget freeze" not in posted


async def test_outcome_done_and_meeting_show_hide_a_private_channels_items(
    app_env: AppEnv,
) -> None:
    await app_env.command("/meeting", "start Leads sync", user_id="U1", channel_id="G1")
    await app_env.command("/outcome", "Tell cho <@U1>", user_id="U1", channel_id="G1")
    done = await app_env.command("/outcome", "done A-1", user_id="UADMIN")
    never = await app_env.command("/outcome", "done A-9", user_id="UADMIN")
    assert said(done) == said(never).replace("A-9", "A-1")
    assert said(done).startswith("There is no A-1 in this workspace.")
    shown = await app_env.command("/meeting", "show M-1", user_id="U3")
    assert said(shown).startswith("There is no M-1 in this workspace.")
    added = await app_env.command("/outcome", "M-1 Sneak in <@U3>", user_id="U3")
    assert said(added).startswith("There is no M-1 in this workspace.")
    # The member still sees and changes it from anywhere.
    mine = await app_env.command("/outcome", "done A-1", user_id="U1", channel_id="C1")
    assert "Marked *A-1* done" in said(mine)


async def test_buttons_on_a_private_decision_refuse_an_outsider_as_if_missing(
    app_env: AppEnv,
) -> None:
    await private_decision(app_env)
    for action in ("decision_decide", "decision_drop"):
        await app_env.interact(
            app_env.driver.press(action, user_id="UADMIN", value="T1:D-1", channel_id="C1")
        )
    await app_env.interact(
        app_env.driver.press(
            "decision_reassign",
            user_id="UADMIN",
            selected_user="UADMIN",
            block_id="decision:T1:D-1:card",
            channel_id="C1",
        )
    )
    told = [r.body.get("text") for r in app_env.fake.responses]
    assert told.count("There is no D-1 in this workspace. `/decision list all` shows them.") == 3
    assert not app_env.fake.calls_to("views.open")
    async with app_env.deps.db.transaction() as session:
        d = await decisions.get_decision(session, ws=WS, number=1)
    assert d.status == "open" and d.owner_id == "U1"


# --- point 2: a change is announced in the item's own conversation only -----------------------


async def test_a_change_typed_elsewhere_is_announced_only_where_the_decision_lives(
    app_env: AppEnv,
) -> None:
    await private_decision(app_env)
    app_env.fake.clear_calls()
    dropped = await app_env.command(
        "/decision", "drop D-1 confidential reason: budget freeze", user_id="U1", channel_id="C1"
    )
    body = dropped.json()
    assert body["response_type"] == "ephemeral" and "dropped *D-1*" in body["text"]
    posts = [c.params for c in app_env.fake.calls_to("chat.postMessage")]
    assert [p["channel"] for p in posts] == ["G1"]
    assert "budget freeze" in posts[0]["text"]
    # Typed in the decision's own channel, the channel hears it as before.
    reopened = await app_env.command("/decision", "reopen D-1", user_id="U1", channel_id="G1")
    assert reopened.json()["response_type"] == "in_channel"


# --- point 3: visibility in the SQL; channel facts cached, invalidated by events --------------


async def test_list_all_counts_public_decisions_behind_many_private_ones(app_env: AppEnv) -> None:
    await many_decisions(app_env, [f"Secret {i}" for i in range(55)], channel_id="G1")
    await many_decisions(app_env, [f"Open {i}" for i in range(3)], channel_id="C2")
    listed = await app_env.answer("/decision", "list all", user_id="U3")
    blocks = flat(listed["blocks"])
    assert "All open decisions* (3)" in blocks
    assert "Open 0" in blocks and "Open 2" in blocks and "Secret" not in blocks
    member = await app_env.answer("/decision", "list all", user_id="U1")
    assert "(1–20 of 58)" in flat(member["blocks"])


async def test_membership_is_cached_until_slack_says_it_changed(app_env: AppEnv) -> None:
    await private_decision(app_env, "Leads only")
    assert "Leads only" not in flat(await app_env.answer("/decision", "list all", user_id="U3"))
    app_env.fake.channels["G1"].members.append("U3")
    app_env.fake.clear_calls()
    cached = await app_env.answer("/decision", "list all", user_id="U3")
    assert "Leads only" not in flat(cached)
    assert not app_env.fake.calls_to("conversations.members")
    await app_env.interact(
        app_env.driver.event(
            {"type": "member_joined_channel", "user": "U3", "channel": "G1", "channel_type": "G"}
        )
    )
    joined = await app_env.answer("/decision", "list all", user_id="U3")
    assert "Leads only" in flat(joined)
    app_env.fake.channels["G1"].members.remove("U3")
    await app_env.interact(
        app_env.driver.event(
            {"type": "member_left_channel", "user": "U3", "channel": "G1", "channel_type": "G"}
        )
    )
    left = await app_env.answer("/decision", "list all", user_id="U3")
    assert "Leads only" not in flat(left)


@pytest.mark.parametrize(
    "event",
    [
        {"type": "channel_archive", "channel": "G1", "user": "U1"},
        {"type": "channel_rename", "channel": {"id": "G1", "name": "x", "created": 1}},
        {"type": "group_rename", "channel": {"id": "G1", "name": "x", "created": 1}},
        {"type": "channel_shared", "connected_team_id": "T9", "channel": "G1"},
    ],
)
async def test_channel_events_drop_the_cached_facts(app_env: AppEnv, event: dict[str, Any]) -> None:
    facts = app_env.deps.channel_facts
    facts.keep_info("T1", "G1", {"id": "G1", "is_private": True})
    facts.keep_members("T1", "G1", frozenset({"U1"}))
    facts.keep_info("T1", "C2", {"id": "C2"})
    await app_env.interact(app_env.driver.event(event))
    assert facts.info("T1", "G1") == (False, None)
    assert facts.members("T1", "G1") == (False, None)
    assert facts.info("T1", "C2")[0] is True


def test_channel_facts_expire_after_their_ttl() -> None:
    now = [100.0]
    facts = ChannelFacts(ttl=60.0, clock=lambda: now[0])
    facts.keep_info("T1", "C1", {"id": "C1"})
    facts.keep_info("T2", "C1", None)
    assert facts.info("T1", "C1") == (True, {"id": "C1"})
    assert facts.info("T2", "C1") == (True, None)  # per workspace
    now[0] += 59.9
    assert facts.info("T1", "C1")[0] is True
    now[0] += 0.1
    assert facts.info("T1", "C1") == (False, None)


def test_an_answer_asked_for_before_a_change_is_not_kept() -> None:
    facts = ChannelFacts()
    asked = facts.generation("T1", "G1")
    facts.forget("T1", "G1")  # member_joined_channel arrived while Slack was being asked
    facts.keep_members("T1", "G1", frozenset({"U1"}), asked=asked)
    assert facts.members("T1", "G1") == (False, None)
    facts.keep_members("T1", "G1", frozenset({"U1", "U3"}), asked=facts.generation("T1", "G1"))
    assert facts.members("T1", "G1") == (True, frozenset({"U1", "U3"}))


async def test_a_cold_cache_acknowledges_the_list_at_once(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Elsewhere", channel_id="C2")
    app_env.deps.channel_facts = ChannelFacts()
    app_env.fake.slow("conversations.info", 1.0)
    response = await app_env.command("/decision", "list all", user_id="U3")
    assert not response.content or not response.json().get("blocks")
    told = flat([r.body for r in app_env.fake.responses])
    assert "Elsewhere" in told


# --- point 4: pages and "Show more" -----------------------------------------------------------


async def test_list_pages_with_a_count_and_next(app_env: AppEnv) -> None:
    await many_decisions(app_env, [f"Item {i:02d}" for i in range(45)])
    first = await app_env.answer("/decision", "list all", user_id="U2")
    text = flat(first["blocks"])
    assert "(1–20 of 45)" in text and "Item 00" in text and "Item 20" not in text
    (button,) = [e for b in first["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == "decision_list_next"
    await app_env.interact(
        app_env.driver.press(
            "decision_list_next", user_id="U2", value=button["value"], channel_id="C1"
        )
    )
    second = app_env.fake.responses[-1].body
    assert second["replace_original"] is True
    page = flat(second["blocks"])
    assert "(21–40 of 45)" in page and "Item 20" in page and "Item 00" not in page
    forged = await app_env.interact(
        app_env.driver.press("decision_list_next", user_id="U2", value="T9:all::20")
    )
    assert forged.status_code == 200
    assert "out of date" in flat(app_env.fake.responses[-1].body)


async def test_app_home_stays_within_100_blocks_and_shows_more(app_env: AppEnv) -> None:
    await many_decisions(
        app_env, [t for i in range(30) for t in (f"Mine {i:02d}", f"Theirs {i:02d} <@U2>")]
    )
    await app_env.interact(app_env.driver.open_home("U1"))
    home = app_env.fake.published_home["U1"]
    assert check_view(home) == [] and len(home["blocks"]) <= 100
    text = flat(home["blocks"])
    assert "1–10 of 30" in text and "Mine 09" in text and "Mine 10" not in text
    buttons = [
        e
        for b in home["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("action_id") == "home_more"
    ]
    assert [b["value"] for b in buttons] == ["owned:10", "waiting:10"]
    await app_env.interact(
        app_env.driver.press("home_more", user_id="U1", value="owned:10", view=home)
    )
    more = flat(app_env.fake.published_home["U1"]["blocks"])
    assert "11–20 of 30" in more and "Mine 10" in more and "Mine 09" not in more


# --- point 5: decisions, actions and outcomes recorded in a DM ---------------------------------


async def test_a_dm_decision_is_private_reaches_its_owner_and_reads_as_a_dm(
    app_env: AppEnv,
) -> None:
    app_env.fake.add_dm("U1")
    await app_env.command("/decision", "new Raise for cho <@U3> by friday", channel_id="DU1")
    card = [c.params for c in app_env.fake.calls_to("chat.postMessage")][-1]
    assert card["channel"] == "DU1"
    assert "a direct message" in flat(card["blocks"]) and "#DU1" not in flat(card)
    owner = flat(await app_env.answer("/decision", "list mine", user_id="U3"))
    assert "Raise for cho" in owner
    await app_env.interact(app_env.driver.open_home("U3"))
    assert "Raise for cho" in flat(app_env.fake.published_home["U3"]["blocks"])
    outsider = flat(await app_env.answer("/decision", "list all", user_id="U2"))
    assert "Raise for cho" not in outsider
    shown = await app_env.command("/decision", "show D-1", user_id="U2")
    assert said(shown).startswith("There is no D-1 in this workspace.")
    detail = await app_env.command("/decision", "show D-1", user_id="U3", channel_id="C1")
    assert "a direct message" in flat(detail.json()) and "DU1" not in flat(detail.json()["blocks"])


async def test_a_dm_decisions_nudge_is_sent(env: Env) -> None:  # noqa: F811
    env.fake.add_dm("U1")
    env.deps.clock.set(env.deps.clock.now() - timedelta(days=8))  # type: ignore[attr-defined]
    await env.command("/decision", "new Budget for Q1", user_id="U1", channel_id="DU1")
    env.deps.clock.set(env.deps.clock.now() + timedelta(days=8))  # type: ignore[attr-defined]
    report = await env.tick()
    assert report.sent.sent == 1
    reminder = env.reminder("U1")
    assert "a direct message" in flat(reminder["blocks"])


async def test_a_dm_meeting_and_its_action_reach_the_owner_only(app_env: AppEnv) -> None:
    app_env.fake.add_dm("U1")
    await app_env.command("/meeting", "log One to one", user_id="U1", channel_id="DU1")
    await app_env.command("/outcome", "Send the offer <@U2>", user_id="U1", channel_id="DU1")
    await app_env.interact(app_env.driver.open_home("U2"))
    assert "Send the offer" in flat(app_env.fake.published_home["U2"]["blocks"])
    hidden = await app_env.command("/outcome", "done A-1", user_id="U3")
    assert said(hidden).startswith("There is no A-1 in this workspace.")
    done = await app_env.command("/outcome", "done A-1", user_id="U2", channel_id="C1")
    assert "Marked *A-1* done" in said(done)


# --- point 5 for group DMs: an mpim's id looks like a channel's --------------------------------


def posted_to(app_env: AppEnv, channel_id: str) -> dict[str, Any]:
    posts = [c.params for c in app_env.fake.calls_to("chat.postMessage") if c.ok]
    found = [p for p in posts if p["channel"] == channel_id]
    assert found, f"nothing posted to {channel_id}"
    return found[-1]


async def test_a_group_dm_decision_reads_as_a_dm_on_card_list_and_home(app_env: AppEnv) -> None:
    # New group DMs get C ids; only conversations.info says "is_mpim", asked after the ack.
    app_env.fake.add_group_dm("CMP1", ["U1", "U2"])
    await app_env.command("/decision", "new Offer for dana <@U3> by friday", channel_id="CMP1")
    methods = slack_methods(app_env)
    assert "conversations.info" in methods
    assert methods.index("conversations.info") < methods.index("chat.postMessage")
    card = posted_to(app_env, "CMP1")
    assert "a direct message" in flat(card["blocks"]) and "CMP1" not in flat(card["blocks"])
    async with app_env.deps.db.transaction() as session:
        stored = await decisions.get_decision(session, ws=WS, number=1)
    assert stored.direct
    for reader in ("U3", "U2"):
        listed = flat(await app_env.answer("/decision", "list all", user_id=reader))
        assert "Offer for dana" in listed and "a direct message" in listed
        assert "CMP1" not in listed
    await app_env.interact(app_env.driver.open_home("U3"))
    home = flat(app_env.fake.published_home["U3"]["blocks"])
    assert "Offer for dana" in home and "a direct message" in home and "CMP1" not in home
    detail = await app_env.command("/decision", "show D-1", user_id="U2", channel_id="C1")
    shown = flat(detail.json()["blocks"])
    assert "a direct message" in shown and "CMP1" not in shown
    outsider = flat(await app_env.answer("/decision", "list all", user_id="UADMIN"))
    assert "Offer for dana" not in outsider
    hidden = await app_env.command("/decision", "show D-1", user_id="UADMIN")
    assert said(hidden).startswith("There is no D-1 in this workspace.")


async def test_a_group_dm_named_by_slack_is_known_without_a_lookup(app_env: AppEnv) -> None:
    app_env.fake.add_group_dm("CMP1", ["U1", "U2"])
    ack = await app_env.command(
        "/decision", "new Offer for dana", channel_id="CMP1", channel_name="mpdm-ana--ben-1"
    )
    assert "in this conversation" in said(ack) and "CMP1" not in said(ack)
    assert "conversations.info" not in slack_methods(app_env)
    assert "a direct message" in flat(posted_to(app_env, "CMP1")["blocks"])


async def test_a_channel_decision_still_links_its_channel(app_env: AppEnv) -> None:
    ack = await app_env.command("/decision", "new Pick a vendor")
    assert "in <#C1>" in said(ack)
    card = flat(posted_to(app_env, "C1")["blocks"])
    assert "<#C1>" in card and "a direct message" not in card


async def test_a_group_dm_meeting_and_its_action_item_read_as_a_dm(app_env: AppEnv) -> None:
    app_env.fake.add_group_dm("CMP1", ["U1", "U2"])
    await app_env.command("/meeting", "log Hiring sync", user_id="U1", channel_id="CMP1")
    summary = flat(posted_to(app_env, "CMP1")["blocks"])
    assert "a direct message" in summary and "CMP1" not in summary
    await app_env.command("/outcome", "Send the offer <@U3>", user_id="U1", channel_id="CMP1")
    await app_env.interact(app_env.driver.open_home("U3"))
    home = flat(app_env.fake.published_home["U3"]["blocks"])
    assert "Send the offer" in home and "CMP1" not in home
    shown = await app_env.command("/meeting", "show M-1", user_id="U2", channel_id="C1")
    body = flat(shown.json())
    assert "Hiring sync" in body and "a direct message" in body and "CMP1" not in body
    hidden = await app_env.command("/meeting", "show M-1", user_id="UADMIN")
    assert said(hidden).startswith("There is no M-1 in this workspace.")
    refused = await app_env.command("/outcome", "done A-1", user_id="UADMIN")
    assert said(refused).startswith("There is no A-1 in this workspace.")
    done = await app_env.command("/outcome", "done A-1", user_id="U3", channel_id="C1")
    assert "Marked *A-1* done" in said(done)


async def test_a_group_dm_decisions_nudge_says_from_a_direct_message(env: Env) -> None:  # noqa: F811
    env.fake.add_group_dm("CMP1", ["U1", "U2"])
    env.deps.clock.set(env.deps.clock.now() - timedelta(days=8))  # type: ignore[attr-defined]
    await env.command("/decision", "new Budget for Q1", user_id="U1", channel_id="CMP1")
    env.deps.clock.set(env.deps.clock.now() + timedelta(days=8))  # type: ignore[attr-defined]
    report = await env.tick()
    assert report.sent.sent == 1
    reminder = flat(env.reminder("U1")["blocks"])
    assert "from a direct message" in reminder and "CMP1" not in reminder


# --- point 5: DM items count in their owner's own numbers only ---------------------------------


async def record_dm_and_channel_decisions(app_env: AppEnv) -> None:
    """D-1 in a group DM of U1 and U2, D-2 in U1's DM with the app, both owned by U3 (in
    neither); D-3 in the public C1, owned by U1."""
    app_env.fake.add_group_dm("CMP1", ["U1", "U2"])
    app_env.fake.add_dm("U1")
    await app_env.command("/decision", "new Offer for dana <@U3>", channel_id="CMP1")
    await app_env.command("/decision", "new Raise for cho <@U3>", channel_id="DU1")
    await app_env.command("/decision", "new Pick a vendor")
    app_env.deps.clock.set(app_env.deps.now() + timedelta(hours=1))  # type: ignore[attr-defined]


async def stats_of(app_env: AppEnv, reader: str) -> str:
    return flat(await app_env.answer("/hygiene", "stats so far", user_id=reader))


async def test_dm_items_count_in_their_owners_stats_only(app_env: AppEnv) -> None:
    await record_dm_and_channel_decisions(app_env)
    owner = await stats_of(app_env, "U3")
    assert "*Decisions opened*\\n3" in owner
    assert "Direct messages: 2 opened" in owner and "<#C1>: 1 opened" in owner
    assert "CMP1" not in owner and "DU1" not in owner
    # Numbers of one channel are that channel's alone, for the owner too.
    one = flat(await app_env.answer("/hygiene", "stats so far <#C1|general>", user_id="U3"))
    assert "*Decisions opened*\\n1" in one and "Direct messages" not in one
    # Members of the DMs and whoever recorded them see only the channel's decision.
    for reader in ("U1", "U2", "UADMIN"):
        others = await stats_of(app_env, reader)
        assert "*Decisions opened*\\n1" in others, reader
        assert "Direct messages" not in others and "CMP1" not in others


async def test_dm_items_count_in_their_owners_digest_only(app_env: AppEnv) -> None:
    await record_dm_and_channel_decisions(app_env)
    later = app_env.deps.now() + timedelta(days=7)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=app_env.fake.api_url)

    async def digest_for(recipient: str) -> str:
        composed = await compose_digest(
            db=app_env.deps.db,
            cadence=app_env.deps.cadence,
            ws=WS,
            recipient=recipient,
            client=client,
            now=later,
        )
        return flat(composed.blocks)

    owner = await digest_for("U3")
    assert "*Decisions opened*\\n3" in owner and "Direct messages: 2 opened" in owner
    assert "CMP1" not in owner and "DU1" not in owner
    for recipient in ("C1", "U1", "U2", "UADMIN"):
        assert "*Decisions opened*\\n1" in await digest_for(recipient), recipient


async def test_dm_items_stalled_in_the_owners_digest_read_as_a_dm(app_env: AppEnv) -> None:
    await record_dm_and_channel_decisions(app_env)
    app_env.deps.clock.set(app_env.deps.now() + timedelta(days=14))  # type: ignore[attr-defined]
    owner = await stats_of(app_env, "U3")
    assert "Offer for dana" in owner and "Raise for cho" in owner
    assert "a direct message" in owner and "CMP1" not in owner
    member = await stats_of(app_env, "U2")
    assert "Pick a vendor" in member and "Offer for dana" not in member


async def test_export_has_dm_rows_only_for_their_owner(app_env: AppEnv) -> None:
    app_env.fake.add_group_dm("CMP1", ["U1", "UADMIN"])
    await app_env.command("/decision", "new Offer for dana <@UADMIN>", channel_id="CMP1")
    await app_env.command("/decision", "new Raise for cho <@U3>", channel_id="CMP1")
    await app_env.command("/meeting", "log Hiring sync", user_id="UADMIN", channel_id="CMP1")
    await app_env.command("/outcome", "Call dana <@UADMIN>", user_id="UADMIN", channel_id="CMP1")
    await app_env.command("/hygiene", "export", user_id="UADMIN", channel_id="C1")
    files = {f.name.split("-")[1]: f for f in app_env.fake.files.values()}
    decisions = csv_rows(files["decisions"].content)
    # UADMIN is in the group DM, but only the decision they own is theirs to export.
    assert [(row["Decision"], row["Channel"]) for row in decisions] == [("D-1", "direct message")]
    meetings = csv_rows(files["meetings"].content)
    assert [row["Channel"] for row in meetings] == ["direct message"]
    outcomes = csv_rows(files["outcomes"].content)
    assert [row["Channel"] for row in outcomes] == ["direct message"]
    assert "CMP1" not in flat([decisions, meetings, outcomes])


async def test_a_dm_decision_stays_private_to_a_reader_in_their_own_dm(app_env: AppEnv) -> None:
    # Typed in DMs the fake had not opened before (as the sandbox does): still DMs.
    await app_env.command("/decision", "new Raise for cho <@U3>", channel_id="DU1")
    shown = await app_env.command("/decision", "show D-1", user_id="U2", channel_id="DU2")
    assert said(shown).startswith("There is no D-1 in this workspace.")
    listed = flat(await app_env.answer("/decision", "list all", user_id="U2", channel_id="DU2"))
    assert "Raise for cho" not in listed


async def test_a_d_id_is_members_only_whatever_slack_says_of_it() -> None:
    facts = ChannelFacts()
    facts.keep_info("T1", "DU1", {"id": "DU1"})  # no is_im: fails closed all the same
    facts.keep_members("T1", "DU1", frozenset({"U1"}))
    access = ChannelAccess(AsyncWebClient(token=BOT_TOKEN), facts, team_id="T1")
    assert await access.readable(["DU1"], "U2") == set()
    assert await access.readable(["DU1"], "U1") == {"DU1"}
    assert not await access.may_see("DU1", "U2")
