"""Block Kit for reminders: polite direct messages with the buttons that settle the item at once.

A decision reminder offers Decide, Snooze, Reassign and Drop; an outcome-free meeting offers
Record outcomes and No outcome needed; an overdue action offers Done and Snooze. The decision
buttons reuse the action ids (and the ``decision:<n>:<place>`` block id) of decision cards, and
the meeting and action buttons are the meetings surface's own (`bot.slack.blocks.meetings`), so
the same handlers serve cards and reminders. Escalations inform and carry no buttons: whoever
receives one is usually not the person who can act.

Every function is pure and returns ``(text, blocks)``: ``text`` is the notification line, made
of the same escaped user text as the blocks.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Option, StaticSelectElement, UserSelectElement

from bot.decisions.models import Decision
from bot.meetings.models import Meeting, Outcome
from bot.nudges.service import SNOOZE_DAYS, SnoozeEnd
from bot.slack import limits
from bot.slack.blocks.kit import Block, actions, button, context, plain, section
from bot.slack.blocks.meetings import action_block_id, done_button, meeting_outcome_buttons
from bot.slack.ids import Action
from bot.slack.parsing.items import item_value
from bot.slack.text import (
    conversation_text,
    date_text,
    mention,
    moment_token,
    render_user_text,
    truncate,
    until_text,
)

Rendered = tuple[str, list[Block]]

SNOOZE_LABELS = {1: "1 day", 3: "3 days", 7: "1 week"}
# The notification line shows in push notifications and previews; keep it short.
_TEXT_MAX = 300


def _place(item: Decision | Meeting) -> str:
    """Where the item was recorded, as every surface names it (a DM reads "a direct message")."""
    return conversation_text(item.channel_id, direct=item.direct)


def _line(text: str) -> str:
    return truncate(text, _TEXT_MAX)


def _reminder_note(reminder: int) -> str:
    return "First reminder" if reminder <= 1 else f"Reminder {reminder}"


def snooze_select(*, action_id: str, item: str) -> StaticSelectElement:
    """A Snooze menu for ``item`` (``T…:D-5``); each option's value is ``<item>:<days>``."""
    return StaticSelectElement(
        action_id=action_id,
        placeholder=plain("Snooze…", limits.PLACEHOLDER_MAX),
        options=[
            Option(value=f"{item}:{days}", text=plain(SNOOZE_LABELS[days], limits.OPTION_TEXT_MAX))
            for days in SNOOZE_DAYS
        ],
    )


def _due_note(due: date | None) -> str:
    return f"Due {date_text(due)}" if due else "No due date"


def decision_why(d: Decision, *, today: date, zone: ZoneInfo) -> str:
    """Why it is stalled, on the reader's calendar: past its due date, or idle since a day."""
    if d.due_date is not None and d.due_date < today:
        return f"It was due {date_text(d.due_date)}."
    idle_since = date_text(d.last_activity_at.astimezone(zone).date())
    return f"Nothing has moved on it since {idle_since}."


def decision_nudge(d: Decision, *, reminder: int, today: date, zone: ZoneInfo) -> Rendered:
    title = render_user_text(d.title)
    text = _line(f"Reminder: {d.ref} {title} is waiting for your decision.")
    blocks = [
        section(
            f":hourglass_flowing_sand: *{d.ref}* · {title}\n"
            f"{decision_why(d, today=today, zone=zone)} "
            "Could you decide it, or hand it to someone who can?"
        ),
        context(f"{_due_note(d.due_date)} · from {_place(d)} · {_reminder_note(reminder)}"),
        decision_actions(d, place="nudge"),
    ]
    return text, blocks


def decision_actions(d: Decision, *, place: str, snooze: bool = True) -> Block:
    """Decide, Snooze (unless ``snooze`` is off), Reassign and Drop for an open decision in a
    DM; the block id names the decision and where the buttons are (``nudge``, ``notice``)."""
    value = item_value(d.team_id, "D", d.number)
    return actions(
        button("Decide", action_id=Action.DECIDE, value=value, style="primary"),
        *([snooze_select(action_id=Action.SNOOZE, item=value)] if snooze else []),
        UserSelectElement(
            action_id=Action.REASSIGN, placeholder=plain("Reassign…", limits.PLACEHOLDER_MAX)
        ),
        button(
            "Drop",
            action_id=Action.DROP,
            value=value,
            style="danger",
            confirm=(
                "Drop this decision?",
                f"{d.ref} will be closed without a decision.",
                "Drop",
            ),
        ),
        block_id=f"decision:{value}:{place}",
    )


def meeting_nudge(m: Meeting, *, reminder: int, zone: ZoneInfo) -> Rendered:
    title = render_user_text(m.title)
    ended = moment_token(m.ended_at) if m.ended_at else "a while ago"
    text = _line(f"{m.ref} {title} ended without recorded outcomes.")
    blocks = [
        section(
            f":memo: *{m.ref}* · {title}\n"
            f"It ended {ended} and has no outcomes yet. Could you record what it produced "
            "(notes, actions, decisions), or mark that none was needed?"
        ),
        context(f"In {_place(m)} · {_reminder_note(reminder)}"),
        meeting_outcome_buttons(m, place="nudge"),
    ]
    return text, blocks


def _action_ref(a: Outcome) -> str:
    return a.ref or "Action"


def action_nudge(a: Outcome, *, reminder: int) -> Rendered:
    what = render_user_text(a.text)
    due = date_text(a.due_date) if a.due_date else "earlier"
    text = _line(f"Reminder: {_action_ref(a)} {what} was due {due}.")
    origin = f"From {a.meeting.ref} in {_place(a.meeting)} · "
    blocks = [
        section(
            f":ballot_box_with_check: *{_action_ref(a)}* · {what}\n"
            f"It was due {due}. Is it done? If not, snooze it until you can get to it."
        ),
        context(origin + _reminder_note(reminder)),
        actions(
            done_button(a),
            snooze_select(
                action_id=Action.ACTION_SNOOZE, item=item_value(a.team_id, "A", a.number or 0)
            ),
            block_id=action_block_id(a, "nudge"),
        ),
    ]
    return text, blocks


def _reminders(count: int) -> str:
    if count == 0:
        return "no reminders"
    return "one reminder" if count == 1 else f"{count} reminders"


def _had(who: str, reminders: int, away_until: date | None) -> str:
    """What the escalation says of the owner: their reminders, or that they are away."""
    if away_until is not None:
        return f"{who} is away until {date_text(away_until)} (their last day off)"
    return f"{who} has had {_reminders(reminders)}"


def decision_escalation(
    d: Decision,
    *,
    reminders: int,
    today: date,
    zone: ZoneInfo,
    away_until: date | None = None,
) -> Rendered:
    title = render_user_text(d.title)
    owner = mention(d.owner_id)
    text = _line(f"{d.ref} {title} has stalled; {_had(owner, reminders, away_until)}.")
    blocks = [
        section(
            f":rotating_light: *{d.ref}* · {title}\n"
            f"{decision_why(d, today=today, zone=zone)} Its owner "
            f"{_had(owner, reminders, away_until)} and it is still open."
        ),
        context(f"From {_place(d)} · `/decision show {d.ref}` has its history"),
    ]
    return text, blocks


def meeting_escalation(
    m: Meeting, *, reminders: int, zone: ZoneInfo, away_until: date | None = None
) -> Rendered:
    title = render_user_text(m.title)
    organizer = mention(m.organizer_id)
    ended = moment_token(m.ended_at) if m.ended_at else "a while ago"
    if away_until is None:
        text = _line(f"{m.ref} {title} still has no outcomes after {_reminders(reminders)}.")
    else:
        text = _line(f"{m.ref} {title} still has no outcomes; {_had(organizer, 0, away_until)}.")
    blocks = [
        section(
            f":rotating_light: *{m.ref}* · {title}\n"
            f"It ended {ended} and still has no recorded outcomes. Its organizer "
            f"{_had(organizer, reminders, away_until)}."
        ),
        context(f"In {_place(m)}"),
    ]
    return text, blocks


def action_escalation(a: Outcome, *, reminders: int, away_until: date | None = None) -> Rendered:
    what = render_user_text(a.text)
    owner = mention(a.owner_id) if a.owner_id else "its owner"
    due = date_text(a.due_date) if a.due_date else "earlier"
    text = _line(f"{_action_ref(a)} {what} is overdue; {_had(owner, reminders, away_until)}.")
    blocks = [
        section(
            f":rotating_light: *{_action_ref(a)}* · {what}\n"
            f"It was due {due} and is not done. Its owner "
            f"{_had(owner, reminders, away_until)}."
        ),
        context(f"From {a.meeting.ref} in {_place(a.meeting)}"),
    ]
    return text, blocks


def snoozed(ref: str, title: str, *, end: SnoozeEnd) -> Rendered:
    """What a reminder turns into once snoozed: no buttons, and when it will be back."""
    shown = render_user_text(title)
    when = f"{until_text(end.until, end.zone)} your time"
    late = (
        f" That is after its due date, {date_text(end.after_due)}: change the date if it has "
        "moved, or pick a shorter snooze."
        if end.after_due is not None
        else ""
    )
    text = _line(f"{ref} {shown} is snoozed until {when}.{late}")
    blocks = [
        section(
            f":zzz: *{ref}* · {shown}\nSnoozed until {when}. If it still needs you then, "
            f"I'll remind you again.{late}"
        )
    ]
    return text, blocks
