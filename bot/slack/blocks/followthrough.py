"""Block Kit for a decided decision's next steps: "What happens now?" and the orphan reminder.

Both DMs carry the same two buttons: "Add action" (the decision card's own button and modal)
and "No action needed" (a modal asking for a one-line reason). Whichever is used, the DM it was
pressed in turns into a line saying what was settled. Every function is pure; messages are
``(text, blocks)`` like the other reminders.
"""

from __future__ import annotations

from bot import validation
from bot.decisions.models import Decision
from bot.slack.blocks.decisions import _text_input
from bot.slack.blocks.kit import Block, actions, button, context, modal, section
from bot.slack.blocks.nudges import Rendered, place, reminder_note, settled_entry
from bot.slack.ids import Action
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.parsing.items import item_value
from bot.slack.text import (
    conversation_text,
    date_text,
    mention,
    moment_token,
    render_user_text,
    truncate,
)

_TEXT_MAX = 300


def follow_through_buttons(d: Decision, *, place: str) -> Block:
    """Add action / No action needed for ``d``; ``place`` keeps block ids apart per surface."""
    value = item_value(d.team_id, "D", d.number)
    return actions(
        button("Add action", action_id=Action.ADD_ACTION, value=value, style="primary"),
        button("No action needed", action_id=Action.NO_ACTION, value=value),
        block_id=f"decision:{value}:{place}",
    )


def _decided(d: Decision) -> str:
    resolution = render_user_text(d.resolution or "")
    return f"*{d.ref}* · {render_user_text(d.title)}\n*Decided:* {resolution}"


def what_next(d: Decision) -> Rendered:
    """The owner's question once ``d`` is decided."""
    title = render_user_text(d.title)
    text = truncate(f"{d.ref} {title} is decided. What happens now?", _TEXT_MAX)
    blocks = [
        section(f":white_check_mark: {_decided(d)}"),
        section(
            "*What happens now?* Add the actions that carry it out, or say that none is needed."
        ),
        context(f"From {conversation_text(d.channel_id)} · you own this decision"),
        follow_through_buttons(d, place="whatnext"),
    ]
    return text, blocks


def orphan_nudge(d: Decision, *, reminder: int) -> Rendered:
    """A reminder that decided ``d`` still has no action and no "no action needed"."""
    title = render_user_text(d.title)
    decided = moment_token(d.decided_at) if d.decided_at else "a while ago"
    text = truncate(f"Reminder: {d.ref} {title} was decided but has no next step yet.", _TEXT_MAX)
    note = "First reminder" if reminder <= 1 else f"Reminder {reminder}"
    blocks = [
        section(
            f":hourglass_flowing_sand: {_decided(d)}\n"
            f"It was decided {decided} and nothing follows from it yet. Could you add the "
            "actions that carry it out, or say that none is needed?"
        ),
        context(f"From {conversation_text(d.channel_id)} · {note}"),
        follow_through_buttons(d, place="orphan"),
    ]
    return text, blocks


def follow_through_settled(d: Decision, note: str) -> Rendered:
    """What the DM becomes once its question is answered: the answer, no buttons."""
    text = truncate(f"{d.ref}: {note}", _TEXT_MAX)
    return text, [section(f":white_check_mark: *{d.ref}* · {render_user_text(d.title)}\n{note}")]


def no_action_modal(d: Decision, *, origin: dict[str, str]) -> Block:
    """ "No action needed": the one-line reason the card and the history will show."""
    when = f" (decided {date_text(d.decided_at.date())})" if d.decided_at else ""
    return modal(
        callback_id=ViewId.NO_ACTION,
        title=f"No action for {d.ref}",
        submit="Save",
        blocks=[
            section(f"*{d.ref}* · {render_user_text(d.title)}{when}"),
            _text_input(
                BlockId.REASON,
                "Why does it need no action?",
                max_length=validation.TITLE_MAX,
                placeholder="e.g. The decision was to keep things as they are",
            ),
        ],
        metadata={"team": d.team_id, "number": str(d.number), **origin},
    )


# --- in the daily reminder DM (bot/slack/daily_compose.py) ------------------------------------


def orphan_entry(d: Decision, *, reminder: int) -> list[Block]:
    """A decided decision with no next step yet (issue 17's orphan), with its two buttons."""
    title = render_user_text(d.title)
    decided = moment_token(d.decided_at) if d.decided_at else "a while ago"
    return [
        section(
            f":hourglass_flowing_sand: *{d.ref}* · {title}\n"
            f"It was decided {decided} and nothing follows from it yet: add the actions that "
            f"carry it out, or say that none is needed.\n_From {place(d)} · "
            f"{reminder_note(reminder)}_"
        ),
        follow_through_buttons(d, place="orphan"),
    ]


def orphan_state(d: Decision, *, followed: bool, recipient: str) -> Block:
    if followed:
        return settled_entry(d.ref, d.title, "It has its next step now.")
    if d.owner_id != recipient:
        return settled_entry(
            d.ref, d.title, f"Now with {mention(d.owner_id)}.", emoji="arrow_right"
        )
    return settled_entry(d.ref, d.title, "No longer waiting for you.")
