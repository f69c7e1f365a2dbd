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

from datetime import date, datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Option, StaticSelectElement, UserSelectElement

from bot.decisions.models import Decision, DecisionStatus
from bot.meetings.models import Meeting, Outcome
from bot.nudges.service import SNOOZE_DAYS, SnoozeEnd
from bot.slack import limits
from bot.slack.blocks.kit import Block, actions, button, context, plain, section
from bot.slack.blocks.meetings import (
    action_block_id,
    action_origin,
    done_button,
    meeting_outcome_buttons,
)
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


place = _place


def reminder_note(reminder: int) -> str:
    return _reminder_note(reminder)


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
    origin = f"From {action_origin(a)} · "
    blocks = [
        section(
            f":ballot_box_with_check: *{_action_ref(a)}* · {what}\n"
            f"It was due {due}. Is it done? If not, snooze it until you can get to it."
        ),
        context(origin + _reminder_note(reminder)),
        _action_actions(a),
    ]
    return text, blocks


def _action_actions(a: Outcome) -> Block:
    return actions(
        done_button(a),
        snooze_select(
            action_id=Action.ACTION_SNOOZE, item=item_value(a.team_id, "A", a.number or 0)
        ),
        block_id=action_block_id(a, "nudge"),
    )


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
        context(f"From {action_origin(a)}"),
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


# --- the daily DM ---------------------------------------------------------------------------
#
# One message a working day holds every reminder due for a person. Each entry is two blocks (a
# section that says what and why, and the item's buttons), so 24 entries fit Slack's 50 blocks
# with the greeting and the "and N more" line. An entry that was handled from the DM becomes one
# line saying what happened to it, without buttons.

DAILY_BLOCKS_MAX = limits.MESSAGE_BLOCKS_MAX


def decision_entry(d: Decision, *, reminder: int, today: date, zone: ZoneInfo) -> list[Block]:
    title = render_user_text(d.title)
    return [
        section(
            f":hourglass_flowing_sand: *{d.ref}* · {title}\n"
            f"{decision_why(d, today=today, zone=zone)} Could you decide it, or hand it on?\n"
            f"_{_due_note(d.due_date)} · from {_place(d)} · "
            f"{_reminder_note(reminder)}_"
        ),
        decision_actions(d, place="nudge"),
    ]


def meeting_entry(m: Meeting, *, reminder: int) -> list[Block]:
    title = render_user_text(m.title)
    ended = moment_token(m.ended_at) if m.ended_at else "a while ago"
    return [
        section(
            f":memo: *{m.ref}* · {title}\n"
            f"It ended {ended} and has no outcomes yet. Could you record what it produced, or "
            f"mark that none was needed?\n_In {_place(m)} · "
            f"{_reminder_note(reminder)}_"
        ),
        meeting_outcome_buttons(m, place="nudge"),
    ]


def action_entry(a: Outcome, *, reminder: int) -> list[Block]:
    what = render_user_text(a.text)
    due = date_text(a.due_date) if a.due_date else "earlier"
    return [
        section(
            f":ballot_box_with_check: *{_action_ref(a)}* · {what}\n"
            f"It was due {due}. Is it done? If not, snooze it until you can get to it.\n"
            f"_From {action_origin(a)} · "
            f"{_reminder_note(reminder)}_"
        ),
        _action_actions(a),
    ]


def settled_entry(ref: str, title: str, state: str, *, emoji: str = "white_check_mark") -> Block:
    """A handled entry: what it is and what became of it, without buttons."""
    return section(f":{emoji}: *{ref}* · {render_user_text(title)}\n{state}")


def decision_state(d: Decision, *, recipient: str, zone: ZoneInfo, now: datetime) -> Block:
    """What became of a decision since the daily DM asked about it."""
    if d.status == DecisionStatus.DECIDED:
        said = f": {render_user_text(d.resolution)}" if d.resolution else ""
        return settled_entry(d.ref, d.title, f"Decided{said}.")
    if d.status == DecisionStatus.DROPPED:
        return settled_entry(d.ref, d.title, "Dropped.", emoji="wastebasket")
    if not d.is_open:
        return settled_entry(d.ref, d.title, "Closed.")
    if d.owner_id != recipient:
        return settled_entry(
            d.ref, d.title, f"Now with {mention(d.owner_id)}.", emoji="arrow_right"
        )
    if d.snoozed_until is not None and d.snoozed_until > now:
        return settled_entry(
            d.ref, d.title, _snoozed_until(d.snoozed_until, zone, d.due_date), emoji="zzz"
        )
    return settled_entry(d.ref, d.title, "No longer waiting for you.")


def meeting_state(m: Meeting) -> Block:
    if m.no_outcome_reason is not None:
        return settled_entry(m.ref, m.title, "Marked as needing no outcome.")
    if m.outcomes:
        return settled_entry(m.ref, m.title, "Outcomes recorded.")
    return settled_entry(m.ref, m.title, "No longer waiting for you.")


def action_state(a: Outcome, *, recipient: str, zone: ZoneInfo, now: datetime) -> Block:
    ref = _action_ref(a)
    if a.done_at is not None:
        return settled_entry(ref, a.text, "Done.")
    if a.owner_id != recipient:
        owner = f"Now with {mention(a.owner_id)}." if a.owner_id else "Nobody owns it now."
        return settled_entry(ref, a.text, owner, emoji="arrow_right")
    if a.snoozed_until is not None and a.snoozed_until > now:
        return settled_entry(
            ref, a.text, _snoozed_until(a.snoozed_until, zone, a.due_date), emoji="zzz"
        )
    return settled_entry(ref, a.text, "No longer waiting for you.")


def entry_name(ref: str, item: object) -> str:
    """``D-5 Pick a vendor``: an item's reference and title (or text) for a notification line."""
    if isinstance(item, tuple) and item:
        item = item[0]
    title = getattr(item, "title", None) or getattr(item, "text", None) or ""
    return f"{ref} {render_user_text(str(title))}".strip()


def gone_entry(ref: str) -> Block:
    return section(f":white_check_mark: *{ref}* · no longer waiting for you.")


def _snoozed_until(until: datetime, zone: ZoneInfo, due: date | None) -> str:
    late = (
        f" That is after its due date, {date_text(due)}: change the date if it has moved, "
        "or pick a shorter snooze."
        if due is not None and until.astimezone(zone).date() > due
        else ""
    )
    return f"Snoozed until {until_text(until, zone)} your time.{late}"


def _things(count: int) -> str:
    return "1 thing is" if count == 1 else f"{count} things are"


def daily_dm(entries: list[list[Block]], *, names: list[str], more: int, waiting: int) -> Rendered:
    """The daily DM: a greeting, the entries (most urgent first) and, if not all fit, how many
    more there are. ``names`` (``D-5 Pick a vendor``) make the notification line; ``waiting``
    is how many still wait for the reader (fewer than the entries once some were handled)."""
    if waiting:
        greeting = f"{_things(waiting).capitalize()} waiting for you today"
        blocks: list[Block] = [section(f":wave: *{greeting}*, most urgent first.")]
    else:
        greeting = "Nothing here is waiting for you any more"
        blocks = [section(f":white_check_mark: *{greeting}.*")]
    text = _line(f"{greeting}: " + "; ".join(names) if names else greeting)
    for entry in entries:
        blocks.extend(entry)
    if more:
        blocks.append(context(f"and {more} more: see App Home"))
    return text, blocks


def fit_entries(entries: list[list[Block]], *, limit: int = DAILY_BLOCKS_MAX) -> int:
    """How many of ``entries`` fit in one message with the greeting and the "more" line."""
    used = 1
    for count, entry in enumerate(entries):
        last = count == len(entries) - 1
        room = limit - used - (0 if last else 1)
        if len(entry) > room:
            return count
        used += len(entry)
    return len(entries)
