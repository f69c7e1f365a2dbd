"""Block Kit for decision search results: ranked lines with the matched words in bold."""

from __future__ import annotations

import json

from bot.decisions.models import Decision, DecisionStatus
from bot.decisions.search import SearchPage, SearchQuery, highlight
from bot.slack import limits
from bot.slack.blocks.kit import Block, actions, button, capped, context, section
from bot.slack.ids import Action
from bot.slack.text import conversation_text, date_text, escape, render_user_text

SNIPPET_WORDS = 24

_STATUS = {
    DecisionStatus.OPEN: "open",
    DecisionStatus.DECIDED: "decided",
    DecisionStatus.DROPPED: "dropped",
}


def highlighted(text: str, query: SearchQuery) -> str:
    """``text`` as safe mrkdwn on one line, the words the search matched in bold."""
    out = []
    for piece, matched in highlight(text, query):
        rendered = render_user_text(piece)
        out.append(f"*{rendered}*" if matched and rendered.strip() else rendered)
    return "".join(out)


def _snippet(text: str, query: SearchQuery) -> str | None:
    """Some words around the first match in ``text``, or None when nothing in it matched."""
    pieces = highlight(text, query)
    first = next((i for i, (_, matched) in enumerate(pieces) if matched), None)
    if first is None:
        return None
    before = "".join(p for p, _ in pieces[:first]).split()
    start_cut = len(before) > SNIPPET_WORDS // 3
    lead = " ".join(before[-(SNIPPET_WORDS // 3) :]) if start_cut else " ".join(before)
    rest = "".join(p for p, _ in pieces[first:]).split()
    tail = " ".join(rest[:SNIPPET_WORDS])
    window = (lead + " " + tail).strip()
    return (
        ("…" if start_cut else "")
        + highlighted(window, query)
        + ("…" if len(rest) > SNIPPET_WORDS else "")
    )


def result_line(d: Decision, query: SearchQuery) -> str:
    when = d.decided_at or d.dropped_at or d.created_at
    facts = [_STATUS.get(DecisionStatus(d.status), d.status), date_text(when.date())]
    facts.append(conversation_text(d.channel_id, direct=d.direct))
    line = f"*{d.ref}* {highlighted(d.title, query)} · {' · '.join(facts)}"
    for label, value in (
        ("Decided", d.resolution),
        ("Dropped", d.drop_reason),
        ("Context", d.context),
    ):
        snippet = _snippet(value or "", query)
        if snippet:
            return f"{line}\n>{label}: {snippet}"
    return line


def next_value(*, team_id: str, words: str, offset: int, channel_id: str) -> str:
    """The Next button's value: the search as typed, where the next page starts, and where."""
    return json.dumps({"t": team_id, "q": words, "o": offset, "c": channel_id})


def search_results(
    page: SearchPage, *, query: SearchQuery, shown_as: str, next_button: str | None
) -> list[Block]:
    """Results for the search ``shown_as`` (already escaped); ``next_button``: its value."""
    if not page.decisions:
        more = " (no more results)" if page.offset else ""
        return [section(f"No decisions match {shown_as}{more}.")]
    first, last = page.offset + 1, page.offset + len(page.decisions)
    span = f"{first}–{last}" if page.offset or page.has_more else f"{last} found"
    blocks = [section(f"*Decisions matching {shown_as}* ({span}, best first)")]
    blocks.extend(section(result_line(d, query)) for d in page.decisions)
    if page.has_more and next_button is not None:
        blocks.append(actions(button("Next", action_id=Action.SEARCH_NEXT, value=next_button)))
    else:
        blocks.append(context("That's all."))
    return capped(blocks, limit=limits.MESSAGE_BLOCKS_MAX, more="More not shown.")


def shown_search(words: str) -> str:
    return f"“{escape(words)}”"
