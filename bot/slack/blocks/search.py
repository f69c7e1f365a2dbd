"""Block Kit for decision search results: ranked lines with the matched words in bold."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ConversationSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)

from bot.decisions.models import Decision, DecisionStatus
from bot.decisions.search import QUERY_MAX, SearchPage, SearchQuery, highlight
from bot.slack import limits
from bot.slack.blocks.kit import Block, actions, button, capped, context, modal, plain, section
from bot.slack.ids import INPUT, Action
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
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
        ("Note", d.notes),
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
    page: SearchPage,
    *,
    query: SearchQuery,
    shown_as: str,
    next_button: str | None,
    next_action: str = Action.SEARCH_NEXT,
) -> list[Block]:
    """Results for the search ``shown_as`` (already escaped); ``next_button``: its value, for
    a button ``next_action`` (a message's or App Home's)."""
    if not page.decisions:
        more = " (no more results)" if page.offset else ""
        return [section(f"No decisions match {shown_as}{more}.")]
    first, last = page.offset + 1, page.offset + len(page.decisions)
    span = f"{first}–{last}" if page.offset or page.has_more else f"{last} found"
    blocks = [section(f"*Decisions matching {shown_as}* ({span}, best first)")]
    blocks.extend(section(result_line(d, query)) for d in page.decisions)
    if page.has_more and next_button is not None:
        blocks.append(actions(button("Next", action_id=next_action, value=next_button)))
    else:
        blocks.append(context("That's all."))
    return capped(blocks, limit=limits.MESSAGE_BLOCKS_MAX, more="More not shown.")


def shown_search(words: str) -> str:
    return f"“{escape(words)}”"


# The App Home search modal: the words, then the filters `/decision search` reads from text.
STATUS_CHOICES = (
    ("all", "Any status"),
    ("open", "Open"),
    ("decided", "Decided"),
    ("dropped", "Dropped"),
)
SEARCH_HINT = (
    'Words, "a phrase" or the start of a word like `vend*`; titles, context, resolutions, drop '
    "reasons and notes are searched."
)


def _input(block_id: str, label: str, element: Any, *, optional: bool = True) -> Block:
    return InputBlock(
        block_id=block_id, label=plain(label), element=element, optional=optional
    ).to_dict()


def search_form(
    *,
    team_id: str,
    words: str = "",
    channel_id: str | None = None,
    person_id: str | None = None,
    status: str = "all",
) -> Block:
    """The search form, filled in with an earlier search when there is one."""
    chosen = dict(STATUS_CHOICES)
    options = [Option(value=v, text=plain(label)) for v, label in STATUS_CHOICES]
    form = [
        _input(
            BlockId.SEARCH_WORDS,
            "Search decisions for",
            PlainTextInputElement(
                action_id=INPUT,
                max_length=QUERY_MAX,
                initial_value=words or None,
                placeholder=plain('e.g. payroll vendor, "billing database", vend*'),
            ),
            optional=False,
        ),
        _input(
            BlockId.SEARCH_CHANNEL,
            "In channel",
            ConversationSelectElement(action_id=INPUT, initial_conversation=channel_id),
        ),
        _input(
            BlockId.SEARCH_PERSON,
            "Owned or recorded by",
            UserSelectElement(action_id=INPUT, initial_user=person_id),
        ),
        _input(
            BlockId.SEARCH_STATUS,
            "Status",
            StaticSelectElement(
                action_id=INPUT,
                options=options,
                initial_option=Option(value=status, text=plain(chosen.get(status, "Any status"))),
            ),
        ),
        context(SEARCH_HINT),
    ]
    return modal(
        callback_id=ViewId.SEARCH,
        title="Search decisions",
        submit="Search",
        blocks=form,
        metadata={"team": team_id},
    )


def search_results_view(
    *,
    team_id: str,
    words: str,
    channel_id: str | None,
    person_id: str | None,
    status: str,
    results: list[Block],
) -> Block:
    """One page of results in the modal, with "New search" (the form again, filled in).

    The search rides in the metadata, so "Next" and "New search" know what was searched.
    """
    again = actions(button("New search", action_id=Action.HOME_SEARCH, value="again"))
    searched = {"q": words, "c": channel_id or "", "p": person_id or "", "s": status}
    return modal(
        callback_id=ViewId.SEARCH_RESULTS,
        title="Search results",
        submit=None,
        close="Done",
        blocks=[*results, again],
        metadata={"team": team_id, **searched},
    )
