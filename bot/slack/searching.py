"""Decision search for every place that offers it: `/decision search`, App Home, the export.

Beside the listeners, not among them (they never import each other): each of them parses what
was typed with ``grammar.parse_decision_search``, then calls ``search_blocks`` (one page, the
reader's rights worked out here, as for lists); the export filters by
``bot.decisions.search.matching_select`` itself.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.decisions import search
from bot.decisions.models import DecisionStatus
from bot.slack.blocks import search as render_search
from bot.slack.deps import Deps
from bot.slack.ids import Action
from bot.slack.parsing import commands as grammar
from bot.slack.text import unescape
from bot.workspace import WorkspaceKey


def status_of(cmd: grammar.DecisionSearch) -> DecisionStatus | None:
    return None if cmd.status == "all" else DecisionStatus(cmd.status)


def search_text(cmd: grammar.DecisionSearch) -> str:
    """The search as it could be typed again (a Next button carries it)."""
    parts = [cmd.words]
    if cmd.channel_id:
        parts.append(f"in <#{cmd.channel_id}>")
    if cmd.person_id:
        parts.append(f"<@{cmd.person_id}>")
    if cmd.status != "all":
        parts.append(cmd.status)
    return " ".join(parts)


async def search_blocks(
    deps: Deps,
    client: AsyncWebClient,
    ws: WorkspaceKey,
    cmd: grammar.DecisionSearch,
    *,
    user_id: str,
    channel_id: str,
    offset: int,
    next_action: str = Action.SEARCH_NEXT,
) -> list[dict[str, Any]]:
    """One page of results as blocks, for ``user_id`` reading in ``channel_id`` ("" where
    there is no conversation, as on App Home: then every result must pass on its own)."""
    query = search.parse_query(unescape(cmd.words))
    visible = await deps.visibility(client, ws, user_id, here=channel_id or None)
    async with deps.db.read() as session:
        page = await search.search_decisions(
            session,
            ws=ws,
            query=query,
            status=status_of(cmd),
            channel_id=cmd.channel_id,
            person_id=cmd.person_id,
            visible=visible,
            offset=offset,
        )
    return render_search.search_results(
        page,
        query=query,
        shown_as=render_search.shown_search(unescape(cmd.words)),
        next_button=render_search.next_value(
            team_id=ws.team_id,
            words=search_text(cmd),
            offset=offset + len(page.decisions),
            channel_id=channel_id,
        ),
        next_action=next_action,
    )
