"""Block Kit for reviews: the "Did D-12 hold?" DM, what it turns into once answered, the
Amended and Reversed modals, and App Home's "Reviews due".

The buttons carry the decision bound to its workspace and the review day they ask about
(``T…:D-12:2026-12-10``), so a question left over from an earlier review day is refused as
out of date instead of answering the current one. Every function is pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot import validation
from bot.decisions.models import Decision, DecisionReview, ReviewAnswer
from bot.errors import InvalidInput
from bot.slack import limits
from bot.slack.blocks.decisions import _text_input, review_day_text
from bot.slack.blocks.kit import Block, actions, button, context, header, modal, section
from bot.slack.ids import Action
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.parsing.items import item_number, item_value
from bot.slack.text import (
    conversation_text,
    date_text,
    render_user_paragraphs,
    render_user_text,
    truncate,
)

Rendered = tuple[str, list[Block]]

STALE = "That question is out of date; `/decision show D-…` has where the decision stands."
#: Reviews due that App Home names at once; the rest are counted.
HOME_AT_ONCE = 5


def review_value(d: Decision, day: date) -> str:
    return f"{item_value(d.team_id, 'D', d.number)}:{day.isoformat()}"


def parse_review_value(raw: object, *, team_id: str) -> tuple[int, date]:
    """(decision number, review day) from a button's value; ``InvalidInput`` when stale."""
    item, _, day = str(raw or "").rpartition(":")
    number = item_number(item, "D", team_id=team_id, stale=STALE)
    try:
        return number, date.fromisoformat(day)
    except ValueError:
        raise InvalidInput(STALE) from None


def _decided_line(d: Decision) -> str:
    when = f" {date_text(d.decided_at.date())}" if d.decided_at else ""
    return f"Decided{when}:\n{render_user_paragraphs(d.resolution or '')}"


def review_ask(d: Decision, *, day: date) -> Rendered:
    """The owner's question on the review day, with the four answers."""
    title = render_user_text(d.title)
    value = review_value(d, day)
    text = truncate(f"Did {d.ref} {title} hold?", 300)
    blocks = [
        section(f":mag: *Did {d.ref} hold?* · {title}\n{_decided_line(d)}"),
        context(
            f"From {conversation_text(d.channel_id)} · review day {date_text(day)} · "
            "Too early asks again later"
        ),
        actions(
            button("Kept", action_id=Action.REVIEW_KEPT, value=value, style="primary"),
            button("Amended", action_id=Action.REVIEW_AMENDED, value=value),
            button("Reversed", action_id=Action.REVIEW_REVERSED, value=value, style="danger"),
            button("Too early", action_id=Action.REVIEW_TOO_EARLY, value=value),
            block_id=f"review:{value}",
        ),
    ]
    return text, blocks


def review_answered(d: Decision, review: DecisionReview) -> Rendered:
    """What the question turns into once answered: the answer, and no buttons."""
    title = render_user_text(d.title)
    match ReviewAnswer(review.answer):
        case ReviewAnswer.KEPT:
            line = f":white_check_mark: *{d.ref}* · {title}\nKept: it held. Thanks for checking."
        case ReviewAnswer.AMENDED:
            line = (
                f":pencil2: *{d.ref}* · {title}\nAmended. It now reads:\n"
                f"{render_user_paragraphs(review.resolution_after or '')}"
            )
        case ReviewAnswer.REVERSED:
            line = (
                f":rewind: *{d.ref}* · {title}\nReversed: {render_user_text(review.reason or '')}"
            )
        case ReviewAnswer.TOO_EARLY:
            again = review_day_text(review.next_on) if review.next_on else "later"
            line = f":hourglass: *{d.ref}* · {title}\nToo early to tell. I'll ask again {again}."
    blocks = [section(line), context(f"`/decision show {d.ref}` has its history")]
    return truncate(line.splitlines()[0] + " " + line.splitlines()[-1], 300), blocks


def amend_modal(d: Decision, *, day: date, origin: dict[str, str]) -> Block:
    """Amended: the new resolution (the old one stays in the history)."""
    return modal(
        callback_id=ViewId.REVIEW_AMEND,
        title=f"Amend {d.ref}",
        submit="Amend",
        blocks=[
            section(f"*{d.ref}* · {render_user_text(d.title)}\n{_decided_line(d)}"),
            _text_input(
                BlockId.RESOLUTION,
                "What holds now?",
                max_length=validation.TEXT_MAX,
                multiline=True,
                initial=d.resolution or "",
            ),
            context("The old resolution stays in the decision's history."),
        ],
        metadata={"team": d.team_id, "number": str(d.number), "day": day.isoformat(), **origin},
    )


def reverse_modal(d: Decision, *, day: date, origin: dict[str, str]) -> Block:
    """Reversed: why (required); the decision is marked reversed."""
    return modal(
        callback_id=ViewId.REVIEW_REVERSE,
        title=f"Reverse {d.ref}",
        submit="Reverse",
        blocks=[
            section(f"*{d.ref}* · {render_user_text(d.title)}\n{_decided_line(d)}"),
            _text_input(
                BlockId.REASON,
                "Why did it not hold?",
                max_length=validation.TEXT_MAX,
                multiline=True,
                placeholder="e.g. The vendor raised prices; we went back to doing it in house",
            ),
            context(f"{d.ref} will be marked reversed; `/decision reopen {d.ref}` undoes it."),
        ],
        metadata={"team": d.team_id, "number": str(d.number), "day": day.isoformat(), **origin},
    )


def home_reviews_section(decisions: Sequence[Decision]) -> list[Block]:
    """App Home: my decided decisions whose review day has come. Always two blocks (the
    tab shows it only when there is one)."""
    blocks = [header("Reviews due")]
    if not decisions:
        return [*blocks, context("No decision of yours is waiting for its review.")]
    lines = [
        f"• *{d.ref}* {render_user_text(d.title)} · review day "
        f"{date_text(d.review_on) if d.review_on else ''}"
        for d in decisions[:HOME_AT_ONCE]
    ]
    if len(decisions) > HOME_AT_ONCE:
        lines.append(f"…and {len(decisions) - HOME_AT_ONCE} more.")
    lines.append("Your DM from Followthrough asks about each; answer there.")
    return [*blocks, section(truncate("\n".join(lines), limits.SECTION_TEXT_MAX))]
