"""Decision search on both engines: ranking, phrases, prefixes, accents, privacy, tenancy, the
index after every kind of write, and `/decision search` end to end."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text as sql_text

from bot.db import Database
from bot.decisions import service
from bot.decisions.search import parse_query, search_decisions
from bot.errors import InvalidInput
from bot.migrate import downgrade, upgrade
from bot.visibility import Visibility
from bot.workspace import Actor, WorkspaceKey
from bot.workspaces.service import purge_workspace
from tests.conftest import MONDAY, AppEnv, fresh_database_url

T1, T2 = WorkspaceKey("T1"), WorkspaceKey("T2")
ADMIN = Actor(user_id="U1", is_admin=True)


async def make(
    db: Database, ws: WorkspaceKey, *titles: str, channel: str = "C1", **kw: object
) -> None:
    async with db.transaction() as session:
        for i, title in enumerate(titles):
            await service.create_decisions(
                session,
                [
                    service.new_decision(
                        ws=ws,
                        title=title,
                        owner_id=str(kw.get("owner", "U1")),
                        creator_id="U1",
                        channel_id=channel,
                        now=MONDAY + timedelta(minutes=i),
                        context=kw.get("context"),  # type: ignore[arg-type]
                    )
                ],
            )


async def found(db: Database, text: str, ws: WorkspaceKey = T1, **kw: object) -> list[str]:
    async with db.transaction() as session:
        page = await search_decisions(session, ws=ws, query=parse_query(text), **kw)  # type: ignore[arg-type]
    return [d.title for d in page.decisions]


async def test_title_matches_rank_above_context_and_ties_go_newest_first(db: Database) -> None:
    await make(db, T1, "Lunch menu", context="the vendor brings sandwiches")
    await make(db, T1, "Pick a payroll vendor", "Pick a cleaning vendor")
    titles = await found(db, "vendor")
    assert titles[-1] == "Lunch menu"
    assert titles[:2] == ["Pick a cleaning vendor", "Pick a payroll vendor"]


async def test_phrase_prefix_and_accents(db: Database) -> None:
    await make(
        db, T1, "Payroll vendor for Spain", "Vendor of payroll software", "Café opening hours"
    )
    assert await found(db, '"payroll vendor"') == ["Payroll vendor for Spain"]
    assert sorted(await found(db, "vend*")) == [
        "Payroll vendor for Spain",
        "Vendor of payroll software",
    ]
    assert await found(db, "cafe") == ["Café opening hours"]
    assert await found(db, "CAFÉ open*") == ["Café opening hours"]
    assert await found(db, "nothing-like-this") == []


@pytest.mark.parametrize(
    "bad",
    ['"unclosed phrase', "*", "v*", "ve*ndor", "...", 'AND OR NOT "" NEAR(', "x" * 400],
)
async def test_hostile_syntax_is_a_friendly_refusal_or_harmless(db: Database, bad: str) -> None:
    await make(db, T1, "Pick a vendor")
    try:
        query = parse_query(bad)
    except InvalidInput as refusal:
        assert refusal.message.endswith(".")
        return
    async with db.transaction() as session:  # operators are only words to the engine
        await search_decisions(session, ws=T1, query=query)


async def test_other_workspaces_and_unreadable_channels_never_show(db: Database) -> None:
    await make(db, T1, "Vendor in the open", channel="C1")
    await make(db, T1, "Vendor in private", channel="G9")
    await make(db, T2, "Vendor elsewhere", channel="C1")
    assert sorted(await found(db, "vendor")) == ["Vendor in private", "Vendor in the open"]
    assert await found(
        db, "vendor", visible=Visibility(reader="UX", channels=frozenset({"C1"}))
    ) == ["Vendor in the open"]
    assert await found(db, "vendor", visible=Visibility(reader="UX", channels=frozenset())) == []
    assert await found(db, "elsewhere") == []


async def test_index_follows_decide_drop_reopen_and_purge(db: Database) -> None:
    await make(db, T1, "Pick a vendor", "Office move")
    async with db.transaction() as session:
        await service.decide(
            session, ws=T1, number=1, actor=ADMIN, resolution="Acme wins", now=MONDAY
        )
        await service.drop(
            session, ws=T1, number=2, actor=ADMIN, reason="lease extended", now=MONDAY
        )
    assert await found(db, "acme") == ["Pick a vendor"]
    assert await found(db, "lease") == ["Office move"]
    async with db.transaction() as session:
        await service.reopen(session, ws=T1, number=1, actor=ADMIN, now=MONDAY)
    assert await found(db, "acme") == []
    assert await found(db, "vendor") == ["Pick a vendor"]
    async with db.transaction() as session:
        await service.decide(session, ws=T1, number=1, actor=ADMIN, resolution="Globex", now=MONDAY)
    assert await found(db, "globex") == ["Pick a vendor"] and await found(db, "acme") == []
    async with db.transaction() as session:
        await purge_workspace(session, ws=T1)
    assert await found(db, "vendor") == [] and await found(db, "lease") == []
    await make(db, T1, "Pick a vendor again")
    assert await found(db, "vendor") == ["Pick a vendor again"]


async def test_filters_status_channel_person_and_paging(db: Database) -> None:
    await make(db, T1, *[f"Vendor {i}" for i in range(12)], channel="C1")
    await make(db, T1, "Vendor by ben", channel="C2", owner="U2")
    async with db.transaction() as session:
        await service.decide(session, ws=T1, number=1, actor=ADMIN, resolution="ok", now=MONDAY)
    from bot.decisions.models import DecisionStatus

    assert await found(db, "vendor", status=DecisionStatus.DECIDED) == ["Vendor 0"]
    assert await found(db, "vendor", channel_id="C2") == ["Vendor by ben"]
    assert await found(db, "vendor", person_id="U2") == ["Vendor by ben"]
    async with db.transaction() as session:
        first = await search_decisions(session, ws=T1, query=parse_query("vendor"))
        second = await search_decisions(session, ws=T1, query=parse_query("vendor"), offset=10)
    assert first.has_more and not second.has_more
    assert len(first.decisions) == 10 and len(second.decisions) == 3
    assert not {d.id for d in first.decisions} & {d.id for d in second.decisions}


async def test_search_command_highlights_pages_and_refuses_bad_syntax(app_env: AppEnv) -> None:
    for i in range(11):
        await app_env.command("/decision", f"new Pick a payroll vendor number {i}")
    await app_env.command("/decision", "new Lunch &lt;b&gt; vendor")
    body = await app_env.answer("/decision", "search vend* open")
    text = str(body["blocks"])
    assert body["response_type"] == "ephemeral"
    assert "*vendor*" in text and "D-12" in text
    assert "&lt;b&gt;" in text and "<b>" not in text
    buttons = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons and buttons[0]["action_id"] == "decision_search_next"
    refused = await app_env.answer("/decision", 'search "unclosed')
    assert refused["response_type"] == "ephemeral" and "quote" in refused["text"]
    assert "D-" not in refused["text"]


async def test_next_button_shows_the_following_page(app_env: AppEnv) -> None:
    for i in range(12):
        await app_env.command("/decision", f"new Vendor choice {i}")
    body = await app_env.answer("/decision", "search vendor")
    button = next(e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"])
    await app_env.interact(
        app_env.driver.press(
            "decision_search_next", user_id="U1", value=button["value"], channel_id="C1"
        )
    )
    page = app_env.fake.responses[-1].body
    assert page.get("replace_original") is True
    assert "11–12" in str(page["blocks"]) and "That's all" in str(page["blocks"])
    forged = button["value"].replace('"T1"', '"T2"')
    await app_env.interact(
        app_env.driver.press("decision_search_next", user_id="U1", value=forged, channel_id="C1")
    )
    assert "out of date" in str(app_env.fake.responses[-1].body)


async def test_private_channel_decisions_only_reach_its_members(app_env: AppEnv) -> None:
    app_env.fake.add_channel("G7", name="secret", is_private=True, members=["U2"])
    await app_env.command("/decision", "new Secret vendor plan", channel_id="G7", user_id="U2")
    await app_env.command("/decision", "new Public vendor plan")
    outsider = str(await app_env.answer("/decision", "search vendor", user_id="U1"))
    member = str(await app_env.answer("/decision", "search vendor", user_id="U2"))
    assert "Public" in outsider and "Secret" not in outsider
    assert "Public" in member and "Secret" in member


# The revision the search index's migration follows: downgrading to it drops only the index.
SEARCH_REVISION_BEFORE = "b48e2f1c7d60"


async def make_at_old_schema(db: Database, ws: WorkspaceKey, title: str) -> None:
    """A decision written as the app at SEARCH_REVISION_BEFORE would: only the columns its
    schema had (the models describe the newest schema, with columns added since)."""
    async with db.transaction() as session:
        await session.execute(
            sql_text(
                "INSERT INTO decisions (enterprise_id, team_id, number, title, owner_id, "
                "creator_id, channel_id, status, created_at, updated_at, last_activity_at) "
                "VALUES (:e, :t, 999, :title, 'U1', 'U1', 'C1', 'open', CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"e": ws.enterprise_id, "t": ws.team_id, "title": title},
        )


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
async def test_index_is_rebuilt_over_existing_rows_after_down_and_up(
    engine: str, tmp_path: Path
) -> None:
    url = await asyncio.to_thread(
        fresh_database_url, engine, tmp_path, "followthrough_search_migration"
    )
    await asyncio.to_thread(upgrade, url)
    database = Database(url)
    try:
        await make(database, T1, "Pick a payroll vendor")
        await asyncio.to_thread(downgrade, url, SEARCH_REVISION_BEFORE)
        await make_at_old_schema(database, T1, "Vendor added while the index was gone")
        await database.dispose()
        await asyncio.to_thread(upgrade, url)
        database = Database(url)
        assert sorted(await found(database, "vendor")) == [
            "Pick a payroll vendor",
            "Vendor added while the index was gone",
        ]
    finally:
        await database.dispose()


def test_search_filters_are_read_from_anywhere_and_status_only_last() -> None:
    from bot.slack.parsing.commands import DecisionSearch, parse_decision

    assert parse_decision("search payroll vendor in <#C9|ops> <@U2|ben> decided") == (
        DecisionSearch(words="payroll vendor", channel_id="C9", person_id="U2", status="decided")
    )
    assert parse_decision("search open source") == DecisionSearch(words="open source")
    assert parse_decision("find keep it open") == DecisionSearch(words="keep it", status="open")
    for bad in ("search", "search in <#C1>", "search x <#C1>", "search x <@U1> <@U2>"):
        with pytest.raises(InvalidInput):
            parse_decision(bad)
