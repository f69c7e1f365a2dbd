"""Decision search on both engines: ranking, phrases, prefixes, accents, privacy, tenancy, the
index after every kind of write, and `/decision search` end to end."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import bindparam, text

from bot.db import Database, UTCDateTime
from bot.decisions import service
from bot.decisions.models import DecisionStatus
from bot.decisions.search import count_matches, parse_query, search_decisions
from bot.devtools.blockkit_checks import check_view
from bot.errors import InvalidInput
from bot.migrate import downgrade, upgrade
from bot.slack.wording import words_for
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
        assert words_for(refusal).endswith(".")
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


async def test_title_beats_resolution_beats_context(db: Database) -> None:
    await make(db, T1, "Lunch menu", context="ask the caterer")
    await make(db, T1, "Team offsite")
    await make(db, T1, "Pick a caterer")
    async with db.transaction() as session:
        await service.decide(
            session, ws=T1, number=2, actor=ADMIN, resolution="the caterer decides", now=MONDAY
        )
    assert await found(db, "caterer") == ["Pick a caterer", "Team offsite", "Lunch menu"]


async def test_notes_edits_and_drop_reasons_are_searchable_as_they_change(db: Database) -> None:
    await make(db, T1, "Pick a vendor", context="budget is tight")
    async with db.transaction() as session:
        await service.note(
            session, ws=T1, number=1, actor=ADMIN, text="Réunion with Acme on Friday", now=MONDAY
        )
        await service.note(session, ws=T1, number=1, actor=ADMIN, text="Globex too", now=MONDAY)
    assert await found(db, "reunion acme") == ["Pick a vendor"]
    assert await found(db, "globex") == ["Pick a vendor"]
    async with db.transaction() as session:
        await service.edit(
            session, ws=T1, number=1, actor=ADMIN, field="title", text="Pick a caterer", now=MONDAY
        )
        await service.edit(
            session, ws=T1, number=1, actor=ADMIN, field="context", text="money", now=MONDAY
        )
    assert await found(db, "vendor") == [] and await found(db, "budget") == []
    assert await found(db, "caterer money globex") == ["Pick a caterer"]
    async with db.transaction() as session:
        await service.drop(
            session, ws=T1, number=1, actor=ADMIN, reason="Déjà vu, see D-9", now=MONDAY
        )
    assert await found(db, "deja", status=DecisionStatus.DROPPED) == ["Pick a caterer"]
    assert await found(db, "deja", status=DecisionStatus.OPEN) == []


async def test_filters_follow_status_owner_and_supersede(db: Database) -> None:
    await make(db, T1, "Vendor one", "Vendor two")
    async with db.transaction() as session:
        await service.assign(session, ws=T1, number=1, actor=ADMIN, owner_id="U5", now=MONDAY)
    assert await found(db, "vendor", person_id="U5") == ["Vendor one"]
    async with db.transaction() as session:
        await service.decide(session, ws=T1, number=1, actor=ADMIN, resolution="yes", now=MONDAY)
        await service.decide(session, ws=T1, number=2, actor=ADMIN, resolution="no", now=MONDAY)
        await service.supersede(session, ws=T1, old_number=1, new_number=2, actor=ADMIN, now=MONDAY)
    assert await found(db, "vendor", status=DecisionStatus.DECIDED) == ["Vendor two"]
    assert await found(db, "vendor", status=DecisionStatus.OPEN) == []
    assert await found(db, "vendor") == ["Vendor two", "Vendor one"]


async def test_enterprise_workspaces_with_one_team_id_stay_apart(db: Database) -> None:
    grid = WorkspaceKey("T1", enterprise_id="E1")
    await make(db, T1, "Vendor of the plain workspace")
    await make(db, grid, "Vendor of the grid workspace")
    assert await found(db, "vendor") == ["Vendor of the plain workspace"]
    assert await found(db, "vendor", ws=grid) == ["Vendor of the grid workspace"]
    assert await found(db, "vendor", ws=WorkspaceKey("T", enterprise_id="1")) == []


async def test_privacy_holds_when_the_best_matches_are_all_hidden(db: Database) -> None:
    # More hidden decisions outrank the visible ones than the index hands on at first.
    await make(db, T1, *[f"Vendor vendor {i}" for i in range(70)], channel="G9")
    await make(db, T1, *[f"A long title about a vendor choice {i}" for i in range(12)])
    await make(db, T1, "Vendor vendor of mine", channel="G9", owner="UX")
    reader = Visibility(reader="UX", channels=frozenset({"C1"}))
    async with db.transaction() as session:
        first = await search_decisions(session, ws=T1, query=parse_query("vendor"), visible=reader)
        second = await search_decisions(
            session, ws=T1, query=parse_query("vendor"), visible=reader, offset=10
        )
        counted = await count_matches(session, ws=T1, query=parse_query("vendor"), visible=reader)
        everything = await count_matches(session, ws=T1, query=parse_query("vendor"))
    titles = [d.title for d in first.decisions + second.decisions]
    assert titles[0] == "Vendor vendor of mine"
    assert titles[1:] == [f"A long title about a vendor choice {i}" for i in reversed(range(12))]
    assert first.has_more and not second.has_more
    assert (counted, everything) == (13, 83)


async def test_filters_status_channel_person_and_paging(db: Database) -> None:
    await make(db, T1, *[f"Vendor {i}" for i in range(12)], channel="C1")
    await make(db, T1, "Vendor by ben", channel="C2", owner="U2")
    async with db.transaction() as session:
        await service.decide(session, ws=T1, number=1, actor=ADMIN, resolution="ok", now=MONDAY)

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


# The revisions before the search index (none at all) and before notes and scope tokens.
SEARCH_REVISION_BEFORE = "b48e2f1c7d60"
SCOPE_REVISION_BEFORE = "a3d9e2f41b07"
_BARE_INSERT = text(
    "INSERT INTO decisions (enterprise_id, team_id, number, title, owner_id, creator_id, "
    "channel_id, status, created_at, updated_at, last_activity_at) "
    "VALUES ('', 'T1', :number, :title, 'U1', 'U1', 'C1', 'open', :at, :at, :at)"
).bindparams(bindparam("at", type_=UTCDateTime()))


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
        async with database.transaction() as session:
            await service.note(
                session, ws=T1, number=1, actor=ADMIN, text="Ask Acme for a quote", now=MONDAY
            )
        await database.dispose()
        for number, revision in enumerate((SCOPE_REVISION_BEFORE, SEARCH_REVISION_BEFORE), 2):
            await asyncio.to_thread(downgrade, url, revision)
            database = Database(url)
            async with database.transaction() as session:
                await session.execute(
                    _BARE_INSERT,
                    {"number": number, "title": f"Vendor {number} added a step down", "at": MONDAY},
                )
            await database.dispose()
        await asyncio.to_thread(upgrade, url)
        database = Database(url)
        assert await found(database, "vendor") == [
            "Vendor 3 added a step down",
            "Vendor 2 added a step down",
            "Pick a payroll vendor",
        ]
        # Notes written before the migration are found: it filled them in from the history.
        assert await found(database, "acme") == ["Pick a payroll vendor"]
        async with database.transaction() as session:
            await service.decide(
                session, ws=T1, number=2, actor=ADMIN, resolution="Acme again", now=MONDAY
            )
        assert await found(database, "acme", status=DecisionStatus.DECIDED) == [
            "Vendor 2 added a step down"
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


# --- App Home ---------------------------------------------------------------------------


def _words(text_: str, **more: dict[str, object]) -> dict[str, dict[str, object]]:
    return {"search_words": {"type": "plain_text_input", "value": text_}, **more}


async def _search_form(app_env: AppEnv, user_id: str) -> dict[str, object]:
    await app_env.interact(app_env.driver.open_home(user_id))
    home = app_env.fake.published_home[user_id]
    assert check_view(home) == []
    [accessory] = [
        b["accessory"]
        for b in home["blocks"]
        if b.get("accessory", {}).get("action_id") == "home_search"
    ]
    await app_env.interact(
        app_env.driver.press("home_search", user_id=user_id, value=accessory["value"], view=home)
    )
    form: dict[str, object] = app_env.fake.calls_to("views.open")[-1].params["view"]
    assert check_view(form) == []
    return form


async def test_app_home_search_shows_ranked_private_aware_results_and_pages(
    app_env: AppEnv,
) -> None:
    app_env.fake.add_channel("G7", name="secret", is_private=True, members=["U2"])
    await app_env.command("/decision", "new Secret vendor plan", channel_id="G7", user_id="U2")
    for i in range(11):
        await app_env.command("/decision", f"new Vendor choice {i}")
    await app_env.command("/decision", "new Lunch", user_id="U3")
    await app_env.command("/decision", "note D-13 the vendor brings food", user_id="U3")
    form = await _search_form(app_env, "U1")
    response = await app_env.interact(app_env.driver.submit(form, _words("vend*"), user_id="U1"))
    answer = response.json()
    assert answer["response_action"] == "update"
    results = answer["view"]
    assert check_view(results) == []
    text_ = str(results["blocks"])
    assert "*Vendor* choice 10" in text_ and "Secret" not in text_ and "Lunch" not in text_
    assert "1–10" in text_
    # "Next" pages in place, through views.update; "New search" is the form again, filled in.
    assert results["callback_id"] == "decision_search_results" and "submit" not in results
    button = next(e for b in results["blocks"] if b["type"] == "actions" for e in b["elements"])
    stored = next(
        iter(v for v in app_env.fake.views.values() if v["callback_id"] == "decision_search")
    )
    shown = {**results, "id": stored["id"], "hash": stored["hash"]}
    await app_env.interact(
        app_env.driver.press("home_search_next", user_id="U1", value=button["value"], view=shown)
    )
    updated = app_env.fake.calls_to("views.update")[-1].params["view"]
    assert check_view(updated) == []
    page = str(updated["blocks"])
    assert "11–12" in page and "Lunch" in page and "*vendor* brings food" in page
    assert "Secret" not in page
    again = next(
        e
        for b in updated["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "home_search"
    )
    await app_env.interact(
        app_env.driver.press(
            "home_search", user_id="U1", value=again["value"], view=app_env.fake.views[shown["id"]]
        )
    )
    refill = app_env.fake.calls_to("views.update")[-1].params["view"]
    assert refill["callback_id"] == "decision_search" and check_view(refill) == []
    assert refill["blocks"][0]["element"]["initial_value"] == "vend*"
    assert app_env.fake.views[shown["id"]]["callback_id"] == "decision_search"
    # A member of the private channel finds its decision from App Home too.
    member_form = await _search_form(app_env, "U2")
    member = await app_env.interact(
        app_env.driver.submit(member_form, _words("secret"), user_id="U2")
    )
    assert "Secret" in str(member.json()["view"]["blocks"])


async def test_app_home_search_refuses_bad_syntax_beside_the_words(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    form = await _search_form(app_env, "U1")
    for bad, said in (('"unclosed', "quote"), ("v*", "letters"), ("*", "letters")):
        response = await app_env.interact(app_env.driver.submit(form, _words(bad), user_id="U1"))
        answer = response.json()
        assert answer["response_action"] == "errors", bad
        assert said in answer["errors"]["search_words"], bad
    filtered = await app_env.interact(
        app_env.driver.submit(
            form,
            _words(
                "vendor",
                search_status={"type": "static_select", "selected_option": {"value": "decided"}},
            ),
            user_id="U1",
        )
    )
    assert "No decisions match" in str(filtered.json()["view"]["blocks"])
    forged = {**form, "private_metadata": '{"team": "T2"}'}
    other = await app_env.interact(app_env.driver.submit(forged, _words("vendor"), user_id="U1"))
    assert "Pick a vendor" not in other.text


# --- /hygiene export search ---------------------------------------------------------------


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def test_export_search_sends_only_the_matching_decisions_the_admin_may_see(
    app_env: AppEnv,
) -> None:
    app_env.fake.add_channel("G7", name="secret", is_private=True, members=["U2"])
    await app_env.command("/decision", "new Secret vendor plan", channel_id="G7", user_id="U2")
    await app_env.command("/decision", "new Pick a payroll vendor")
    await app_env.command("/decision", "new Office move")
    await app_env.command("/decision", "note D-3 the vendor of desks is late")
    await app_env.command("/decision", "decide D-2 Acme")
    await app_env.command("/decision", "new Vendor for T2", team_id="T2")
    response = await app_env.command(
        "/hygiene", "export search vend*", user_id="UADMIN", channel_id="C1"
    )
    assert "arrive in your DM" in response.json()["text"]
    [sent] = app_env.fake.files.values()
    assert sent.name.startswith("followthrough-decisions-")
    rows = _csv_rows(sent.content)
    assert [row["Decision"] for row in rows] == ["D-2", "D-3"]
    assert "decided: Acme" in rows[0]["History"]
    assert "noted: the vendor of desks is late" in rows[1]["History"]
    assert (sent.initial_comment or "").startswith(
        "Followthrough export: 2 decisions matching “vend*”, with their history."
    )
    app_env.fake.files.clear()
    await app_env.command("/hygiene", "export search vendor decided", user_id="UADMIN")
    [decided] = app_env.fake.files.values()
    assert [row["Decision"] for row in _csv_rows(decided.content)] == ["D-2"]


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("export search", "Say what the export should look for"),
        ('export search "unclosed', "quote"),
        ("export search v*", "letters"),
        ("export everything", "takes nothing more or `search`"),
    ],
)
async def test_export_search_refuses_bad_input_and_sends_nothing(
    app_env: AppEnv, typed: str, said: str
) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    answer = await app_env.answer("/hygiene", typed, user_id="UADMIN")
    assert said in answer["text"] and answer["response_type"] == "ephemeral"
    assert app_env.fake.files == {}


async def test_broad_search_ranks_the_newest_matches_and_the_newest_title_matches(
    db: Database,
) -> None:
    # More matches than are ranked (``ranked=5`` here, 100 in use): an old title match is still
    # a candidate and beats newer context matches, the ranked candidates come first, best
    # first, and the other matches follow newest first, with none shown twice or hidden.
    await make(db, T1, "Pick a caterer")  # D-1: an old title match
    await make(db, T1, *[f"Lunch plan {i}" for i in range(8)], context="ask the caterer")
    await make(db, T1, "Secret caterer", channel="G9")  # not visible to the reader
    reader = Visibility(reader="UX", channels=frozenset({"C1"}))
    async with db.transaction() as session:
        first = await search_decisions(
            session, ws=T1, query=parse_query("caterer"), visible=reader, ranked=5, limit=4
        )
        second = await search_decisions(
            session,
            ws=T1,
            query=parse_query("caterer"),
            visible=reader,
            ranked=5,
            limit=4,
            offset=4,
        )
        third = await search_decisions(
            session,
            ws=T1,
            query=parse_query("caterer"),
            visible=reader,
            ranked=5,
            limit=4,
            offset=8,
        )
    titles = [d.title for p in (first, second, third) for d in p.decisions]
    # Ranked: the title match, then the five newest context matches (ties: newest first).
    assert titles[:6] == ["Pick a caterer"] + [f"Lunch plan {i}" for i in (7, 6, 5, 4, 3)]
    # Then the older matches, newest first.
    assert titles[6:] == [f"Lunch plan {i}" for i in (2, 1, 0)]
    assert first.has_more and second.has_more and not third.has_more
    assert "Secret caterer" not in titles
