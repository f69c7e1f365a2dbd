"""Block Kit for meetings and outcomes: summaries, outcome cards, lists, modals and App Home.

The button builders (``meeting_outcome_buttons``, ``done_button``, ``action_item_buttons``) are
shared with the reminders: their action handlers work wherever the buttons are, a channel
message, a DM or App Home. Block ids carry the ref and a ``place`` so one view can hold the same
item twice without a clash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ButtonElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserSelectElement,
)

from bot import validation
from bot.decisions.models import Decision, DecisionStatus
from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.meetings.service import REASON_MAX, MeetingRow, is_overdue
from bot.paging import Page
from bot.slack import limits
from bot.slack.blocks.decisions import STATUS_LABEL, due_text, show_more
from bot.slack.blocks.kit import (
    Block,
    actions,
    button,
    capped,
    context,
    header,
    line_sections,
    modal,
    plain,
    section,
)
from bot.slack.ids import INPUT, Action
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.parsing.items import item_value
from bot.slack.text import (
    conversation_text,
    date_text,
    escape,
    mention,
    moment_token,
    render_user_text,
    truncate,
)

#: One outcome's line in a summary; the full text is on its own card and in `/meeting show`.
OUTCOME_LINE_MAX = 500
#: Outcomes a channel summary shows one by one (with their Done buttons) before "and N more".
SUMMARY_OUTCOMES_MAX = 30
#: Outcomes `/meeting show` lists; a line is at most ~600 characters, so a section holds four
#: or more and they stay within a message's 50 blocks.
DETAIL_OUTCOMES_MAX = 150
#: Rows in the "record outcomes" modal: enough for a meeting's worth, short enough to scan.
RECORD_ROWS = 5
#: Blocks each App Home section may use; the tab holds 100 blocks for all of its sections.
HOME_SECTION_BUDGET = 20
#: How many meetings the outcome modal from a message shortcut offers.
PICKER_MEETINGS_MAX = 25

Decisions = Mapping[int, Decision]


# --- small pieces ---------------------------------------------------------------------------


def moment_text(moment: datetime) -> str:
    """An instant that each reader's Slack shows in their own time zone (UTC as a fallback)."""
    return moment_token(moment)


def where(meeting: Meeting) -> str:
    """A channel link; meetings held in a DM or group DM have no channel to link to."""
    return conversation_text(meeting.channel_id, direct=meeting.direct)


def meeting_title(meeting: Meeting) -> str:
    return f"*{meeting.ref}* · {render_user_text(meeting.title)}"


def action_source(outcome: Outcome) -> str:
    """What an action came from: its meeting, else the decision it follows through on (one
    added with no meeting); load it with ``bot.meetings.place.load``."""
    if outcome.meeting is not None:
        return meeting_title(outcome.meeting)
    if outcome.decision is not None:
        return (
            f"Follow-through on *{outcome.decision.ref}* · "
            f"{render_user_text(outcome.decision.title)}"
        )
    return "Action item"


def action_origin(outcome: Outcome) -> str:
    """Where an action is from: "M-3 in #channel", or with no meeting "D-5 in #channel"."""
    if outcome.meeting is not None:
        ref = outcome.meeting.ref
    elif outcome.decision is not None:
        ref = outcome.decision.ref
    else:
        ref = "an action item"
    return f"{ref} in {conversation_text(outcome.channel_id, direct=outcome.direct)}"


def _duration(meeting: Meeting) -> str:
    if meeting.ended_at is None or meeting.ended_at == meeting.started_at:
        return ""
    minutes = max(1, round((meeting.ended_at - meeting.started_at).total_seconds() / 60))
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f" ({minutes} min)"
    return f" ({hours} h {rest} min)" if rest else f" ({hours} h)"


def when_text(meeting: Meeting) -> str:
    if meeting.ended_at is None:
        return f"Open since {moment_text(meeting.started_at)}"
    if meeting.ended_at == meeting.started_at:
        return f"Held {moment_text(meeting.ended_at)}"
    return f"Ended {moment_text(meeting.ended_at)}{_duration(meeting)}"


def state_text(meeting: Meeting, outcome_count: int) -> str:
    counted = f"{outcome_count} outcome{'s' if outcome_count != 1 else ''}"
    if meeting.ended_at is None:
        return ":large_green_circle: open now" + (f" · {counted}" if outcome_count else "")
    if outcome_count:
        return counted
    if meeting.no_outcome_reason is not None:
        return "no outcome needed"
    return ":warning: no outcome yet"


def outcome_line(outcome: Outcome, *, decisions: Decisions, today: date) -> str:
    """One mrkdwn line for an outcome: what it is, who owns it, by when, and its state."""
    if outcome.kind == OutcomeKind.DECISION:
        decision = decisions.get(outcome.decision_id) if outcome.decision_id else None
        if decision is None:
            return f":scales: {_clip(outcome.text)}"
        state = STATUS_LABEL[DecisionStatus(decision.status)]
        return (
            f":scales: *{decision.ref}* {_clip(decision.title)} · "
            f"{mention(decision.owner_id)} · {state}"
        )
    if outcome.kind == OutcomeKind.ACTION:
        parts = [f"{_action_icon(outcome)} *{outcome.ref}* {_clip(outcome.text)}"]
        if outcome.owner_id:
            parts.append(mention(outcome.owner_id))
        if outcome.done_at is not None:
            parts.append(f"done{f' by {mention(outcome.done_by)}' if outcome.done_by else ''}")
        else:
            parts.append(_due(outcome, today))
        return " · ".join(parts)
    return f":memo: {_clip(outcome.text)}"


def _clip(text: str) -> str:
    return truncate(render_user_text(text), OUTCOME_LINE_MAX)


def _action_icon(outcome: Outcome) -> str:
    return ":white_check_mark:" if outcome.done_at is not None else ":arrow_right:"


def _due(outcome: Outcome, today: date) -> str:
    if outcome.due_date is None:
        return "no due date"
    return "due " + due_text(outcome.due_date, today=today if is_overdue(outcome, today) else None)


def _is_open_action(outcome: Outcome) -> bool:
    return outcome.kind == OutcomeKind.ACTION and outcome.done_at is None


# --- buttons (shared with reminders) --------------------------------------------------------


def meeting_outcome_buttons(meeting: Meeting, *, place: str = "summary") -> Block:
    """The "Record outcomes" and "No outcome needed" buttons of an outcome-free meeting.

    Each button's value is the meeting bound to its workspace (``T…:M-3``); ``place`` keeps the
    block id unique when one view shows the same meeting twice.
    """
    value = item_value(meeting.team_id, "M", meeting.number)
    return actions(
        button(
            "Record outcomes",
            action_id=Action.MEETING_RECORD_OUTCOMES,
            value=value,
            style="primary",
        ),
        button("No outcome needed", action_id=Action.MEETING_NO_OUTCOME, value=value),
        block_id=f"meeting:{meeting.number}:{place}",
    )


def _done(outcome: Outcome) -> ButtonElement:
    value = item_value(outcome.team_id, "A", outcome.number or 0)
    return button("Done", action_id=Action.ACTION_DONE, value=value, style="primary")


def done_button(outcome: Outcome) -> dict[str, Any]:
    """The Done button of an action item, for a section's accessory; its value is ``T…:A-7``."""
    return dict(_done(outcome).to_dict())


def action_item_buttons(outcome: Outcome, *, place: str = "card") -> Block:
    """An actions block holding the Done button of an open action item."""
    return actions(_done(outcome), block_id=action_block_id(outcome, place))


def action_block_id(outcome: Outcome, place: str) -> str:
    return f"action:{outcome.number}:{place}"


def with_done_button(block: Block, outcome: Outcome) -> Block:
    return {**block, "accessory": done_button(outcome)} if _is_open_action(outcome) else block


def action_item_section(outcome: Outcome, *, today: date, place: str) -> Block:
    """An action item as one section with its Done button beside it (while it is open)."""
    line = outcome_line(outcome, decisions={}, today=today)
    return with_done_button(section(line, block_id=action_block_id(outcome, place)), outcome)


# --- meeting summary ------------------------------------------------------------------------


def meeting_summary(
    meeting: Meeting,
    *,
    decisions: Decisions,
    today: date,
    detail: bool = False,
    buttons: bool = True,
) -> list[Block]:
    """A meeting and what it produced, for the channel (one section per outcome, with Done
    buttons) or, with ``detail``, for `/meeting show` (outcomes packed densely, so hundreds fit).

    An outcome-free meeting gets the "Record outcomes" / "No outcome needed" buttons.
    """
    outcomes = list(meeting.outcomes)
    blocks = [
        section(
            meeting_title(meeting),
            fields=[
                f"*Organizer*\n{mention(meeting.organizer_id)}",
                f"*Channel*\n{where(meeting)}",
                f"*When*\n{when_text(meeting)}",
                f"*Status*\n{state_text(meeting, len(outcomes))}",
            ],
        )
    ]
    if outcomes:
        blocks += (
            _packed_outcomes(outcomes, decisions=decisions, today=today)
            if detail
            else _outcome_sections(meeting, outcomes, decisions=decisions, today=today)
        )
    elif meeting.no_outcome_reason is not None:
        by = f" — {mention(meeting.no_outcome_by)}" if meeting.no_outcome_by else ""
        blocks.append(
            section(f"*No outcome needed:* {render_user_text(meeting.no_outcome_reason)}{by}")
        )
    elif meeting.ended_at is not None:
        blocks.append(
            section(
                ":warning: *No outcomes recorded yet.* Record what it produced, or mark that it "
                "needed none."
            )
        )
        if buttons:
            blocks.append(meeting_outcome_buttons(meeting, place="detail" if detail else "summary"))
    else:
        blocks.append(
            context(
                "Add outcomes with `/outcome TEXT [@owner] [by DATE]`; "
                "decisions recorded here meanwhile count too. `/meeting end` when you're done."
            )
        )
    return blocks


def _outcome_sections(
    meeting: Meeting, outcomes: Sequence[Outcome], *, decisions: Decisions, today: date
) -> list[Block]:
    blocks: list[Block] = []
    for index, outcome in enumerate(outcomes[:SUMMARY_OUTCOMES_MAX]):
        block = section(
            outcome_line(outcome, decisions=decisions, today=today),
            block_id=f"outcome:{index}",
        )
        blocks.append(with_done_button(block, outcome))
    hidden = len(outcomes) - SUMMARY_OUTCOMES_MAX
    if hidden > 0:
        blocks.append(context(f"…and {hidden} more: `/meeting show {meeting.ref}` lists them all."))
    return blocks


def _packed_outcomes(
    outcomes: Sequence[Outcome], *, decisions: Decisions, today: date
) -> list[Block]:
    lines = [
        f"• {outcome_line(o, decisions=decisions, today=today)}"
        for o in outcomes[:DETAIL_OUTCOMES_MAX]
    ]
    blocks = line_sections(lines)
    hidden = len(outcomes) - DETAIL_OUTCOMES_MAX
    if hidden > 0:
        blocks.append(context(f"…and {hidden} more not shown."))
    return blocks


def summary_text(meeting: Meeting) -> str:
    """The notification text of a summary (shown where blocks are not)."""
    title = f"{meeting.ref} {render_user_text(meeting.title)}"
    count = len(meeting.outcomes)
    if meeting.ended_at is None:
        return f"{title} is open"
    if count:
        return f"{title} ended with {count} outcome{'s' if count != 1 else ''}"
    if meeting.no_outcome_reason is not None:
        return f"{title} ended; no outcome needed"
    return f"{title} ended with no outcomes recorded"


def meeting_list(rows: Sequence[MeetingRow], *, title: str, empty: str) -> list[Block]:
    if not rows:
        return [section(f"*{escape(title)}*\n{empty}")]
    lines = [
        f"{meeting_title(r.meeting)} · {when_text(r.meeting)} · "
        f"{state_text(r.meeting, r.outcome_count)}"
        for r in rows
    ]
    blocks = [section(f"*{escape(title)}* ({len(rows)})"), *line_sections(lines)]
    blocks.append(context("`/meeting show M-3` shows one meeting with its outcomes."))
    return capped(blocks, limit=limits.MESSAGE_BLOCKS_MAX, more="More not shown.")


# --- one outcome ----------------------------------------------------------------------------


def outcome_card(outcome: Outcome, *, meeting: Meeting | None, today: date) -> list[Block]:
    """What the channel sees for one new outcome: the outcome, its meeting (or, for an action
    with none, its decision: ``outcome.decision`` loaded), and Done if open."""
    if outcome.kind == OutcomeKind.NOTE:
        first = f":memo: *Note* · {_clip(outcome.text)}"
    else:
        first = outcome_line(outcome, decisions={}, today=today)
    footer = [
        f"Outcome of {meeting_title(meeting)}" if meeting is not None else action_source(outcome),
        f"recorded by {mention(outcome.creator_id)} on {date_text(outcome.created_at.date())}",
    ]
    if outcome.source_permalink:
        footer.append(f"<{escape(outcome.source_permalink)}|Original message>")
    return [
        with_done_button(section(first, block_id=action_block_id(outcome, "card")), outcome),
        context(" · ".join(footer)),
    ]


def outcome_text(outcome: Outcome) -> str:
    """The notification text of an outcome card."""
    what = render_user_text(outcome.text)
    if outcome.kind != OutcomeKind.ACTION:
        return f"Outcome: {what}"
    owner = f" — owner {mention(outcome.owner_id)}" if outcome.owner_id else ""
    due = f", due {date_text(outcome.due_date)}" if outcome.due_date else ""
    state = " (done)" if outcome.done_at is not None else ""
    return f"{outcome.ref} {what}{owner}{due}{state}"


def restate_action(
    blocks: Sequence[Block], outcome: Outcome, *, pressed: str, today: date
) -> list[Block] | None:
    """``blocks`` with every block of ``outcome`` (the one ``pressed`` and any other whose id
    names it) restated as its current state, ids kept; None when none of them is there."""
    mine = f"action:{outcome.number}:"
    found = False
    result: list[Block] = []
    for block in blocks:
        block_id = str(block.get("block_id") or "")
        if block_id and (block_id == pressed or block_id.startswith(mine)):
            restated = action_item_section(outcome, today=today, place="")
            result.append({**restated, "block_id": block_id})
            found = True
        else:
            result.append(block)
    return result if found else None


# --- modals ---------------------------------------------------------------------------------


def _text_input(
    block_id: str,
    label: str,
    *,
    max_length: int,
    optional: bool,
    multiline: bool = False,
    initial: str = "",
    placeholder: str | None = None,
) -> Block:
    return InputBlock(
        block_id=block_id,
        label=plain(label, limits.INPUT_LABEL_MAX),
        optional=optional,
        element=PlainTextInputElement(
            action_id=INPUT,
            multiline=multiline,
            max_length=max_length,
            initial_value=initial[:max_length] or None,
            placeholder=plain(placeholder, limits.PLACEHOLDER_MAX) if placeholder else None,
        ),
    ).to_dict()


def _owner_input(block_id: str, label: str) -> Block:
    return InputBlock(
        block_id=block_id,
        label=plain(label),
        optional=True,
        element=UserSelectElement(
            action_id=INPUT, placeholder=plain("Nobody: a note", limits.PLACEHOLDER_MAX)
        ),
    ).to_dict()


def _due_input(block_id: str, label: str) -> Block:
    return InputBlock(
        block_id=block_id,
        label=plain(label),
        optional=True,
        element=DatePickerElement(action_id=INPUT),
    ).to_dict()


def row_block_ids(row: int) -> tuple[str, str, str]:
    """The (text, owner, due) block ids of one row of the "record outcomes" modal."""
    return (
        f"{BlockId.OUTCOME_TEXT}_{row}",
        f"{BlockId.OWNER}_{row}",
        f"{BlockId.DUE}_{row}",
    )


def record_outcomes_modal(meeting: Meeting, *, origin: dict[str, Any]) -> Block:
    """Several outcomes at once: a row each, the first required, owner and date optional."""
    blocks: list[Block] = [
        section(meeting_title(meeting)),
        context(
            "One outcome per row. Leave owner and date empty for a note; "
            "with either it becomes an action item."
        ),
    ]
    for row in range(1, RECORD_ROWS + 1):
        text_id, owner_id, due_id = row_block_ids(row)
        blocks += [
            _text_input(
                text_id,
                f"Outcome {row}",
                max_length=validation.TEXT_MAX,
                optional=row > 1,
                placeholder="e.g. Ship the beta to five customers" if row == 1 else None,
            ),
            _owner_input(owner_id, f"Owner of outcome {row}"),
            _due_input(due_id, f"Due date of outcome {row}"),
        ]
    return modal(
        callback_id=ViewId.RECORD_OUTCOMES,
        title=f"Outcomes of {meeting.ref}",
        submit="Record",
        blocks=blocks,
        metadata={"team": meeting.team_id, "number": meeting.number, **origin},
    )


def no_outcome_modal(meeting: Meeting, *, origin: dict[str, Any]) -> Block:
    return modal(
        callback_id=ViewId.NO_OUTCOME,
        title="No outcome needed",
        submit="Save",
        blocks=[
            section(meeting_title(meeting)),
            _text_input(
                BlockId.REASON,
                "Why did this meeting need no outcome?",
                max_length=REASON_MAX,
                optional=False,
                placeholder="e.g. Social call; nothing to decide",
            ),
        ],
        metadata={"team": meeting.team_id, "number": meeting.number, **origin},
    )


def _meeting_option(meeting: Meeting) -> Option:
    state = "open" if meeting.ended_at is None else date_text(meeting.started_at.date())
    label = truncate(f"{meeting.ref} {meeting.title} ({state})", limits.OPTION_TEXT_MAX)
    value = item_value(meeting.team_id, "M", meeting.number)
    return Option(text=plain(label, limits.OPTION_TEXT_MAX), value=value)


def record_outcome_modal(
    meetings: Sequence[Meeting],
    *,
    team_id: str,
    channel_id: str,
    text: str = "",
    source_permalink: str | None = None,
) -> Block:
    """One outcome from a message: which meeting (the open or latest first), text, owner, date."""
    options = [_meeting_option(m) for m in meetings[:PICKER_MEETINGS_MAX]]
    blocks: list[Block] = [
        InputBlock(
            block_id=BlockId.MEETING,
            label=plain("Meeting"),
            element=StaticSelectElement(
                action_id=INPUT,
                options=options,
                initial_option=options[0] if options else None,
            ),
        ).to_dict(),
        _text_input(
            BlockId.OUTCOME_TEXT,
            "Outcome",
            max_length=validation.TEXT_MAX,
            optional=False,
            multiline=True,
            initial=text,
        ),
        _owner_input(BlockId.OWNER, "Owner (makes it an action item)"),
        _due_input(BlockId.DUE, "Due date (makes it an action item)"),
    ]
    if source_permalink:
        blocks.append(context(f"From <{escape(source_permalink)}|this message>"))
    return modal(
        callback_id=ViewId.RECORD_OUTCOME,
        title="Record outcome",
        submit="Record",
        blocks=blocks,
        metadata={"team": team_id, "channel_id": channel_id, "permalink": source_permalink},
    )


# --- App Home -------------------------------------------------------------------------------


def home_actions_section(
    page: Page[Outcome], *, today: date, budget: int = HOME_SECTION_BUDGET
) -> list[Block]:
    """The viewer's open action items, each with its meeting and Done, within ``budget``."""
    blocks = [header("Your open action items")]
    if not page.items:
        return [*blocks, context("No open action items. :sparkles:")]
    shown = page.items[: budget - 3]
    for outcome in shown:
        line = outcome_line(outcome, decisions={}, today=today)
        block = section(
            f"{line}\n_{action_source(outcome)}_",
            block_id=action_block_id(outcome, "home"),
        )
        blocks.append(with_done_button(block, outcome))
    return [*blocks, *show_more("actions", offset=page.offset, shown=len(shown), total=page.total)]


def home_meetings_section(page: Page[Meeting], *, budget: int = HOME_SECTION_BUDGET) -> list[Block]:
    """Outcome-free meetings the viewer organized, each with its two buttons, within ``budget``."""
    blocks = [header("Meetings that still owe outcomes")]
    if not page.items:
        return [*blocks, context("Every meeting you ran has its outcomes. :tada:")]
    shown = page.items[: (budget - 3) // 2]
    for meeting in shown:
        blocks.append(
            section(f"{meeting_title(meeting)} · {where(meeting)} · {when_text(meeting)}")
        )
        blocks.append(meeting_outcome_buttons(meeting, place="home"))
    return [*blocks, *show_more("meetings", offset=page.offset, shown=len(shown), total=page.total)]
