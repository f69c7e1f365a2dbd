"""Block Kit for notices: "you were made owner" and "a decision you care about changed".

An owner notice carries the item's buttons (a decision's Decide, Reassign and Drop; an action
item's Done), with the same action ids as cards and reminders so the same handlers serve it and
update it in place. A change notice only informs: whoever recorded a decision, or had it
escalated to them, learns what became of it.

Every function is pure and returns ``(text, blocks)``.
"""

from __future__ import annotations

from bot.decisions.models import Decision
from bot.meetings.models import Outcome
from bot.slack.blocks.kit import actions, context, section
from bot.slack.blocks.meetings import action_block_id, action_origin, done_button
from bot.slack.blocks.nudges import Rendered, decision_actions
from bot.slack.text import (
    conversation_text,
    date_text,
    mention,
    render_user_paragraphs,
    render_user_text,
    truncate,
)

_TEXT_MAX = 300


def _made_owner(by: str, *, created: bool) -> str:
    return (
        f"{mention(by)} recorded it and made you its owner."
        if created
        else f"{mention(by)} made you its owner."
    )


def decision_owner(d: Decision, *, by: str, created: bool) -> Rendered:
    """To the person someone else made the owner of an open decision."""
    title = render_user_text(d.title)
    due = f"Due {date_text(d.due_date)}" if d.due_date else "No due date"
    text = truncate(f"You now own {d.ref} {title} ({mention(by)} made you its owner).", _TEXT_MAX)
    blocks = [
        section(
            f":wave: *{d.ref}* · {title}\n{_made_owner(by, created=created)} "
            "Decide it when you can, or hand it to someone who can."
        ),
        context(f"{due} · from {conversation_text(d.channel_id, direct=d.direct)}"),
        decision_actions(d, place="notice", snooze=False),
    ]
    return text, blocks


def action_owner(a: Outcome, *, by: str, created: bool) -> Rendered:
    """To the person someone else gave an open action item."""
    ref = a.ref or "Action"
    what = render_user_text(a.text)
    due = f"Due {date_text(a.due_date)}" if a.due_date else "No due date"
    text = truncate(f"You now own {ref} {what} ({mention(by)} gave it to you).", _TEXT_MAX)
    blocks = [
        section(
            f":ballot_box_with_check: *{ref}* · {what}\n{_made_owner(by, created=created)} "
            "Press Done once it is done."
        ),
        context(f"{due} · from {action_origin(a)}"),
        actions(done_button(a), block_id=action_block_id(a, "notice")),
    ]
    return text, blocks


def _why(role: str) -> str:
    return "It was escalated to you." if role == "escalated" else "You recorded it."


def decision_decided(d: Decision, *, by: str, role: str) -> Rendered:
    title = render_user_text(d.title)
    text = truncate(f"{d.ref} {title} was decided by {mention(by)}.", _TEXT_MAX)
    resolution = f"\n{render_user_paragraphs(d.resolution)}" if d.resolution else ""
    blocks = [
        section(f":white_check_mark: *{d.ref}* · {title}\n{mention(by)} decided it.{resolution}"),
        context(f"{_why(role)} · `/decision show {d.ref}` has its history"),
    ]
    return text, blocks


def decision_dropped(d: Decision, *, by: str, role: str) -> Rendered:
    title = render_user_text(d.title)
    text = truncate(f"{d.ref} {title} was dropped by {mention(by)}.", _TEXT_MAX)
    reason = f" Why: {render_user_text(d.drop_reason)}" if d.drop_reason else " No reason given."
    blocks = [
        section(f":wastebasket: *{d.ref}* · {title}\n{mention(by)} dropped it.{reason}"),
        context(f"{_why(role)} · `/decision reopen {d.ref}` brings it back"),
    ]
    return text, blocks


def decision_reassigned(
    d: Decision, *, by: str, role: str, previous: str | None, owner: str
) -> Rendered:
    title = render_user_text(d.title)
    text = truncate(f"{d.ref} {title} now belongs to {mention(owner)}.", _TEXT_MAX)
    handed = (
        f"{mention(by)} handed it from {mention(previous)} to {mention(owner)}."
        if previous and previous != by
        else f"{mention(by)} handed it to {mention(owner)}."
    )
    blocks = [
        section(f":arrows_counterclockwise: *{d.ref}* · {title}\n{handed}"),
        context(f"{_why(role)} · `/decision show {d.ref}` has its history"),
    ]
    return text, blocks
