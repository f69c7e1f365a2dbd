"""The App Home tab, published whenever someone opens it or changes something from it, and its
own controls: "Show more" under a section, and "Your reminders" (the reader's preferences).
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import InvalidInput
from bot.prefs import service as prefs
from bot.slack import searching
from bot.slack.blocks import prefs as prefs_blocks
from bot.slack.blocks.home import SECTIONS
from bot.slack.blocks.search import STATUS_CHOICES, search_form, search_results_view
from bot.slack.deps import Deps, deps_of, workspace_of
from bot.slack.errors import FormError, on_field
from bot.slack.home_publish import publish_home
from bot.slack.ids import Action
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.modal_state import view_metadata, view_value
from bot.slack.parsing.commands import DecisionSearch, SearchStatus
from bot.slack.text import escape, unescape
from bot.slack.wording import words_for
from bot.workspace import WorkspaceKey


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(home_opened)
    app.action(Action.HOME_MORE)(home_more_pressed)
    app.action(Action.PREFS_OPEN)(prefs_pressed)
    app.view(ViewId.PREFS)(prefs_submitted)
    app.action(Action.HOME_SEARCH)(home_search_pressed)
    app.view(ViewId.SEARCH)(search_submitted)
    app.action(Action.HOME_SEARCH_NEXT)(search_next_pressed)


async def home_opened(
    event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    if event.get("tab", "home") != "home":
        return
    await publish_home(client, deps_of(context), workspace_of(context), event["user"])


async def home_more_pressed(
    ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: AsyncBoltContext
) -> None:
    """ "Show more" under one section: the tab again, that section at its next items."""
    deps, ws = deps_of(context), workspace_of(context)
    place, _, offset = str(action.get("value") or "").partition(":")
    if place not in SECTIONS or not offset.isdigit():
        raise InvalidInput("That button is out of date; open the Home tab again.")
    await ack()
    client: AsyncWebClient = context["client"]
    await publish_home(client, deps, ws, body["user"]["id"], offsets={place: int(offset)})


# --- "Your reminders" ---------------------------------------------------------------------------


async def prefs_pressed(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient
) -> None:
    """The reader's own preferences in a modal; nobody else's can be opened."""
    deps, ws = deps_of(context), workspace_of(context)
    user_id = body["user"]["id"]
    zone = await deps.user_zone(client, ws, user_id)
    async with deps.db.transaction() as session:
        mine = await prefs.get(session, ws=ws, user_id=user_id)
    hours = (await deps.cadence_for(ws)).working_hours
    today = deps.now().astimezone(zone).date()
    await ack()
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=prefs_blocks.prefs_modal(mine, hours, team_id=ws.team_id, today=today),
    )


async def prefs_submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Check the form, store it with its audit entry, and show what the reader now gets.

    What is wrong is said beside the field and nothing is stored. A submission only ever
    changes the submitter's own preferences.
    """
    deps, ws = deps_of(context), workspace_of(context)
    user_id = body["user"]["id"]
    with on_field(BlockId.PREFS_HOUR):
        view_metadata(view, team_id=ws.team_id)
    form = prefs_blocks.read_prefs(view)
    zone = await deps.user_zone(client, ws, user_id)
    now = deps.now()
    hours = (await deps.cadence_for(ws)).working_hours
    problems: dict[str, str] = {}
    try:
        chosen = prefs.check(
            reminder_hour=form.reminder_hour,
            owner_notices=form.owner_notices,
            paused_until=form.paused_until,
            today=now.astimezone(zone).date(),
            hours=hours,
        )
    except prefs.InvalidPrefs as exc:
        problems = {str(prefs_blocks.FIELD_BLOCKS[key]): why for key, why in exc.problems.items()}
    # Every problem at once: what could not be read, and what was read but is not allowed.
    if form.errors or problems:
        raise FormError({**problems, **form.errors})
    async with deps.db.transaction() as session:
        before = await prefs.save(
            session, ws=ws, user_id=user_id, actor_id=user_id, prefs=chosen, now=now
        )
    paused_now = prefs.paused_at(chosen, now, zone, hours) is not None
    await ack(
        response_action="update",
        view=prefs_blocks.saved_view(
            chosen, hours, paused_now=paused_now, changed=before is not None
        ),
    )
    await publish_home(client, deps, ws, user_id)


# --- search -----------------------------------------------------------------------------
#
# "Search decisions" on the tab opens a form; submitting it shows the results under the form
# (the same service, renderer and privacy rule as `/decision search`, with no conversation of
# its own, as the tab); "Next" pages through them in place.


async def home_search_pressed(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The form: opened from the tab, or again from a results view ("New search"), filled in
    with the search it showed."""
    ws = workspace_of(context)
    view = body.get("view") or {}
    if view.get("type") == "modal":
        searched = _searched(view, ws)
        await ack()
        await client.views_update(
            view_id=view.get("id"),
            hash=view.get("hash"),
            view=search_form(
                team_id=ws.team_id,
                words=unescape(searched.words),
                channel_id=searched.channel_id,
                person_id=searched.person_id,
                status=searched.status,
            ),
        )
        return
    await ack()
    await client.views_open(trigger_id=body["trigger_id"], view=search_form(team_id=ws.team_id))


def _searched(view: dict[str, Any], ws: WorkspaceKey) -> DecisionSearch:
    """The search a results view shows (from its metadata)."""
    meta = view_metadata(view, team_id=ws.team_id)
    stale = InvalidInput("That button is out of date; search again from the Home tab.")
    try:
        words, channel, person, status = meta["q"], meta["c"], meta["p"], meta["s"]
    except KeyError:
        raise stale from None
    if (
        not all(isinstance(v, str) for v in (words, channel, person, status))
        or status not in dict(STATUS_CHOICES)
        or not words
    ):
        raise stale
    return DecisionSearch(
        words=escape(words), channel_id=channel or None, person_id=person or None, status=status
    )


def _submitted_search(view: dict[str, Any]) -> DecisionSearch:
    words = (view_value(view, BlockId.SEARCH_WORDS).get("value") or "").strip()
    channel = view_value(view, BlockId.SEARCH_CHANNEL).get("selected_conversation") or None
    person = view_value(view, BlockId.SEARCH_PERSON).get("selected_user") or None
    picked = (view_value(view, BlockId.SEARCH_STATUS).get("selected_option") or {}).get("value")
    status: SearchStatus = picked if picked in dict(STATUS_CHOICES) else "all"
    # The form's text is as typed; the command's arrives escaped, and the search unescapes it.
    return DecisionSearch(words=escape(words), channel_id=channel, person_id=person, status=status)


async def _results_view(
    deps: Deps,
    client: AsyncWebClient,
    ws: WorkspaceKey,
    search: DecisionSearch,
    *,
    user_id: str,
    offset: int,
) -> dict[str, Any]:
    blocks = await searching.search_blocks(
        deps,
        client,
        ws,
        search,
        user_id=user_id,
        channel_id="",
        offset=offset,
        next_action=Action.HOME_SEARCH_NEXT,
    )
    return search_results_view(
        team_id=ws.team_id,
        words=unescape(search.words),
        channel_id=search.channel_id,
        person_id=search.person_id,
        status=search.status,
        results=blocks,
    )


async def search_submitted(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    view_metadata(view, team_id=ws.team_id)
    search = _submitted_search(view)
    try:
        results = await _results_view(
            deps, client, ws, search, user_id=body["user"]["id"], offset=0
        )
    except InvalidInput as refusal:
        # Bad syntax is said beside the words; nothing was searched.
        raise FormError({BlockId.SEARCH_WORDS: words_for(refusal)}) from None
    await ack(response_action="update", view=results)


async def search_next_pressed(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps, ws = deps_of(context), workspace_of(context)
    view = body.get("view") or {}
    stale = InvalidInput("That button is out of date; search again from the Home tab.")
    search = _searched(view, ws)
    try:
        value = json.loads(str(action.get("value") or ""))
        team, offset = value["t"], value["o"]
    except (ValueError, KeyError, TypeError):
        raise stale from None
    if team != ws.team_id or not isinstance(offset, int) or not 0 <= offset <= 10_000:
        raise stale
    await ack()
    results = await _results_view(
        deps, client, ws, search, user_id=body["user"]["id"], offset=offset
    )
    await client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=results)
