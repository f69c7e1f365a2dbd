"""Block Kit for the re-litigation warning (issue 18 point 3): pure functions of their input.

"This looks like D-12 'Use Postgres for billing' (decided 3 Mar by @ana: 'Yes, Postgres 16')",
with what can be done about it: after `/decision new` as buttons, in the new-decision modal as a
required choice before the decision is recorded.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import InputBlock, Option, RadioButtonsElement

from bot.decisions.models import Decision, DecisionStatus
from bot.slack.blocks.kit import Block, actions, button, context, plain, section
from bot.slack.ids import INPUT, Action
from bot.slack.ids import Block as BlockId
from bot.slack.text import date_text, day_text, mention, render_user_text, truncate

QUOTE_MAX = 120
#: The modal's "Record this anyway?" choices.
CONFIRM_DIFFERENT = "different"
CONFIRM_SUPERSEDE = "supersede"
CONFIRMS = frozenset({CONFIRM_DIFFERENT, CONFIRM_SUPERSEDE})


def _when(moment: datetime | None, today: date) -> str:
    if moment is None:
        return ""
    day = moment.date()
    return f" {day_text(day) if day.year == today.year else date_text(day)}"


def _quoted(text: str | None) -> str:
    return f"“{render_user_text(truncate(' '.join((text or '').split()), QUOTE_MAX))}”"


def settled_by(d: Decision, action: str) -> str | None:
    """Who last did ``action`` ("decided", "dropped") to ``d``, from its history."""
    for event in reversed(d.events):
        if event.action == action:
            return event.actor_id
    return None


def looks_like(old: Decision, *, today: date) -> str:
    """The warning's sentence, with the earlier decision's state and who settled it when."""
    status = DecisionStatus(old.status)
    if status is DecisionStatus.DECIDED:
        who = settled_by(old, "decided") or old.owner_id
        state = (
            f"decided{_when(old.decided_at, today)} by {mention(who)}: {_quoted(old.resolution)}"
        )
    elif status is DecisionStatus.DROPPED:
        who = settled_by(old, "dropped") or old.owner_id
        reason = f": {_quoted(old.drop_reason)}" if old.drop_reason else ""
        state = f"dropped{_when(old.dropped_at, today)} by {mention(who)}{reason}"
    else:
        state = f"still open, owner {mention(old.owner_id)}, since{_when(old.created_at, today)}"
    return f"This looks like *{old.ref}* {_quoted(old.title)} ({state})."


def button_value(team_id: str, new_number: int, old_number: int) -> str:
    """What each warning button carries: both decisions, as this workspace's references."""
    return json.dumps(
        {"new": f"{team_id}:D-{new_number}", "old": f"{team_id}:D-{old_number}"},
        separators=(",", ":"),
    )


def warning(new: Decision, old: Decision, *, today: date) -> list[Block]:
    """The ephemeral message after `/decision new` recorded ``new``, which looks like ``old``."""
    value = button_value(new.team_id, new.number, old.number)
    buttons: list[Any] = [button(f"Show {old.ref}", action_id=Action.REPEAT_SHOW, value=value)]
    if old.status in (DecisionStatus.DECIDED, DecisionStatus.DROPPED):
        buttons.append(button(f"Reopen {old.ref}", action_id=Action.REPEAT_REOPEN, value=value))
    if old.status in (DecisionStatus.DECIDED, DecisionStatus.OPEN):
        buttons.append(
            button(
                f"Record as superseding {old.ref}",
                action_id=Action.REPEAT_SUPERSEDE,
                value=value,
            )
        )
    buttons.append(
        button("It's a different question", action_id=Action.REPEAT_DIFFERENT, value=value)
    )
    buttons.append(
        button(
            "Undo",
            action_id=Action.REPEAT_UNDO,
            value=value,
            style="danger",
            confirm=(
                f"Undo {new.ref}?",
                f"{new.ref} is removed as if it had never been recorded; its number stays used.",
                f"Undo {new.ref}",
            ),
        )
    )
    return [
        section(f"{looks_like(old, today=today)}\nYou just recorded *{new.ref}*."),
        actions(*buttons, block_id=f"repeat:{new.team_id}:D-{new.number}"),
    ]


def warning_text(new: Decision, old: Decision, *, today: date) -> str:
    """The notification text of the warning (shown where blocks are not)."""
    return f"{looks_like(old, today=today)} You just recorded {new.ref}."


def settled(text: str, *, undo_value: str | None = None, new_ref: str = "") -> list[Block]:
    """What the warning becomes once a button answered it; Undo stays while it can."""
    blocks = [section(text)]
    if undo_value is not None:
        blocks.append(
            actions(
                button(
                    f"Undo {new_ref}",
                    action_id=Action.REPEAT_UNDO,
                    value=undo_value,
                    style="danger",
                    confirm=(
                        f"Undo {new_ref}?",
                        f"{new_ref} is removed as if it had never been recorded; "
                        "its number stays used.",
                        f"Undo {new_ref}",
                    ),
                )
            )
        )
    return blocks


def modal_warning(old: Decision, *, today: date) -> list[Block]:
    """Shown at the top of the new-decision modal before anything is recorded."""
    choices = [
        Option(value=CONFIRM_DIFFERENT, label="Yes: it's a different question"),
    ]
    if old.status in (DecisionStatus.DECIDED, DecisionStatus.OPEN):
        choices.append(Option(value=CONFIRM_SUPERSEDE, label=f"Yes, as superseding {old.ref}"))
    return [
        section(f":warning: {looks_like(old, today=today)}"),
        context(
            "If it is the same question, close this and use "
            f"`/decision show {old.ref}` or `/decision reopen {old.ref}` instead."
        ),
        InputBlock(
            block_id=BlockId.REPEAT_CONFIRM,
            label=plain("Record this anyway?"),
            element=RadioButtonsElement(action_id=INPUT, options=choices),
        ).to_dict(),
    ]
