"""Block Kit for decisions: the channel card, the detail with history, lists, modals, App Home."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    UserSelectElement,
)

from bot import validation
from bot.decisions.models import Decision, DecisionEvent, DecisionStatus
from bot.meetings.models import Outcome
from bot.paging import Page
from bot.slack import limits
from bot.slack.blocks.kit import (
    Block,
    actions,
    button,
    capped,
    context,
    divider,
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
    DIRECT_PLACE,
    conversation_text,
    date_text,
    escape,
    is_direct_item,
    mention,
    render_user_paragraphs,
    render_user_text,
    until_text,
)

STATUS_LABEL = {
    DecisionStatus.OPEN: ":large_yellow_circle: Open",
    DecisionStatus.DECIDED: ":white_check_mark: Decided",
    DecisionStatus.DROPPED: ":heavy_multiplication_x: Dropped",
    DecisionStatus.SUPERSEDED: ":leftwards_arrow_with_hook: Superseded",
    DecisionStatus.REVERSED: ":rewind: Reversed",
}


def review_day_text(day: date) -> str:
    """``on Thu 10 Dec 2026``: when a decision's owner is asked whether it held."""
    return f"on {date_text(day)}"


def due_text(due: date | None, *, today: date | None = None) -> str:
    if due is None:
        return "No date"
    text = date_text(due)
    if today is not None and due < today:
        return f"{text} :warning: overdue"
    return text


def decision_line(d: Decision, *, today: date | None = None) -> str:
    """One mrkdwn line: ref, title, owner, due; and "a direct message" for one recorded there.

    A channel's decisions need no place on the line (their card is in the channel); one from a
    DM or group DM says so, as its card does.
    """
    line = (
        f"*{d.ref}* {render_user_text(d.title)} · {mention(d.owner_id)} · "
        f"{due_text(d.due_date, today=today)}"
    )
    return f"{line} · {DIRECT_PLACE}" if is_direct_item(d.channel_id, direct=d.direct) else line


def decision_actions(d: Decision, *, place: str = "card") -> Block:
    """Decide / Reassign / Drop for ``d``; ``place`` keeps block ids unique within one view.

    The buttons carry the decision bound to its workspace (``T…:D-n``, bot/slack/parsing/items);
    the Reassign menu carries none, so the same value rides in the block id.
    """
    value = item_value(d.team_id, "D", d.number)
    return actions(
        button("Decide", action_id=Action.DECIDE, value=value, style="primary"),
        UserSelectElement(
            action_id=Action.REASSIGN, placeholder=plain("Reassign…", limits.PLACEHOLDER_MAX)
        ),
        button(
            "Drop",
            action_id=Action.DROP,
            value=value,
            style="danger",
            confirm=("Drop this decision?", f"{d.ref} will be closed without a decision.", "Drop"),
        ),
        block_id=f"decision:{value}:{place}",
    )


def decision_card(d: Decision, *, today: date | None = None) -> list[Block]:
    """What the channel sees: the decision, its state and, while open, what can be done."""
    blocks = [
        section(
            f"*{d.ref}* · {render_user_text(d.title)}",
            fields=[
                f"*Owner*\n{mention(d.owner_id)}",
                f"*Due*\n{due_text(d.due_date, today=today if d.is_open else None)}",
                f"*Status*\n{STATUS_LABEL[DecisionStatus(d.status)]}",
                f"*Channel*\n{conversation_text(d.channel_id, direct=d.direct)}",
            ],
        )
    ]
    if d.context:
        blocks.append(section(render_user_paragraphs(d.context)))
    if (
        d.status in (DecisionStatus.DECIDED, DecisionStatus.SUPERSEDED, DecisionStatus.REVERSED)
        and d.resolution
    ):
        label = "Resolution (reversed)" if d.status == DecisionStatus.REVERSED else "Resolution"
        blocks.append(section(f"*{label}*\n{render_user_paragraphs(d.resolution)}"))
    if d.status == DecisionStatus.REVERSED:
        reason = render_user_text(d.reversal_reason) if d.reversal_reason else "no reason given"
        blocks.append(section(f"*Reversed:* {reason}"))
    if d.status == DecisionStatus.DECIDED and d.review_on is not None:
        blocks.append(context(f":mag: Review {review_day_text(d.review_on)}: is it holding?"))
    if d.status == DecisionStatus.SUPERSEDED and d.superseded_by is not None:
        blocks.append(
            section(
                f"*Superseded by D-{d.superseded_by}* · "
                f"`/decision show D-{d.superseded_by}` for what holds now"
            )
        )
    if d.supersedes:
        refs = ", ".join(f"D-{n}" for n in d.supersedes)
        blocks.append(section(f"*Supersedes* {refs}"))
    if d.status == DecisionStatus.DROPPED:
        reason = render_user_text(d.drop_reason) if d.drop_reason else "no reason given"
        blocks.append(section(f"*Dropped:* {reason}"))
    footer = [f"Recorded by {mention(d.creator_id)} on {date_text(d.created_at.date())}"]
    if d.source_permalink:
        footer.append(f"<{escape(d.source_permalink)}|Original message>")
    blocks.append(context(" · ".join(footer)))
    if d.is_open:
        blocks.append(decision_actions(d))
    elif d.status == DecisionStatus.DECIDED:
        value = item_value(d.team_id, "D", d.number)
        blocks.append(
            actions(
                button("Add action", action_id=Action.ADD_ACTION, value=value),
                block_id=f"decision:{value}:follow",
            )
        )
    return blocks


def card_fallback_text(d: Decision) -> str:
    """The notification text for a card (shown where blocks are not)."""
    return f"{d.ref} {render_user_text(d.title)} — owner {mention(d.owner_id)}, {d.status}"


def _snoozed_until(detail: dict[str, Any], zone: ZoneInfo) -> str:
    """`` until Mon 30 Nov, 09:00 their time (Europe/Berlin)``, on the snoozer's clock."""
    try:
        until = datetime.fromisoformat(str(detail["until"]))
        theirs = ZoneInfo(str(detail["zone"])) if detail.get("zone") else zone
    except (KeyError, ValueError, ZoneInfoNotFoundError):
        return ""
    return f" until {until_text(until, theirs)} their time ({escape(theirs.key)})"


def _event_text(event: DecisionEvent, zone: ZoneInfo) -> str:
    # Slack's date token: each reader sees their own zone; the fallback is the asker's.
    fallback = event.at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    when = f"<!date^{int(event.at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"
    who = mention(event.actor_id)
    detail = event.detail or {}
    match event.action:
        case "created":
            what = f"recorded it for {mention(detail.get('owner') or event.actor_id)}"
        case "assigned":
            what = f"reassigned it from {mention(detail['from'])} to {mention(detail['to'])}"
        case "due_changed":
            new = detail.get("to")
            what = (
                f"set the due date to {date_text(date.fromisoformat(new))}"
                if new
                else "cleared the due date"
            )
        case "decided":
            what = f"decided: {render_user_text(str(detail.get('resolution', '')))}"
            if detail.get("review"):
                what += f" (review {_iso_day(detail['review'])})"
        case "review_set":
            new = detail.get("to")
            what = f"set its review {_iso_day(new)}" if new else "cleared its review date"
        case "review_kept":
            what = "reviewed it: it held (kept)"
        case "review_too_early":
            what = f"reviewed it: too early to tell; asked again {_iso_day(detail.get('next'))}"
        case "amended":
            what = (
                f"reviewed it and amended the resolution to: "
                f"{render_user_text(str(detail.get('to', '')))} "
                f"(was: {render_user_text(str(detail.get('from') or ''))})"
            )
        case "reversed":
            what = f"reviewed it and reversed it: {render_user_text(str(detail.get('reason', '')))}"
        case "dropped":
            reason = detail.get("reason")
            what = f"dropped it ({render_user_text(reason)})" if reason else "dropped it"
        case "reopened":
            what = "reopened it"
        case "snoozed":
            what = "snoozed reminders" + _snoozed_until(detail, zone)
        case "superseded":
            what = f"marked it superseded by D-{detail.get('by')}"
        case "supersedes":
            what = f"marked it as superseding D-{detail.get('number')}"
        case "supersedes_undone":
            what = f"reopened D-{detail.get('number')}, which it no longer supersedes"
        case "action_added":
            what = f"added action A-{detail.get('number')}"
        case "action_linked":
            what = f"linked action A-{detail.get('number')}"
        case "no_action_needed":
            what = f"said no action is needed ({render_user_text(str(detail.get('reason', '')))})"
        case "edited" if detail.get("field") == "title":
            what = f"renamed it (was: {render_user_text(str(detail.get('from') or ''))})"
        case "edited":
            what = "rewrote the context"
        case "noted":
            what = f"noted: {render_user_text(str(detail.get('text', '')))}"
        case _:
            what = escape(event.action)
    return f"• {when} {who} {what}"


def _iso_day(value: object) -> str:
    """``on Thu 10 Dec 2026`` for an ISO date kept in a history entry."""
    try:
        return review_day_text(date.fromisoformat(str(value)))
    except ValueError:
        return escape(str(value))


def follow_through_lines(
    d: Decision, actions: Sequence[Outcome], *, today: date | None = None
) -> list[str]:
    """What a decided decision led to: its actions, or why none was needed."""
    lines = []
    for a in actions:
        state = (
            f"done {date_text(a.done_at.date())}"
            if a.done_at is not None
            else due_text(a.due_date, today=today)
        )
        owner = mention(a.owner_id) if a.owner_id else "no owner"
        lines.append(f"• *{a.ref}* {render_user_text(a.text)} · {owner} · {state}")
    if not lines and d.no_action_at is not None:
        lines.append(f"• No action needed: {render_user_text(d.no_action_reason or '')}")
    if not lines and d.status == DecisionStatus.DECIDED:
        lines.append(f"• None yet. `/decision act {d.ref} …` adds one.")
    return lines


def decision_detail(
    d: Decision,
    *,
    zone: ZoneInfo,
    today: date | None = None,
    actions: Sequence[Outcome] = (),
) -> list[Block]:
    """`/decision show`: the card, its follow-through, then its history, newest last."""
    blocks = [b for b in decision_card(d, today=today) if b["type"] != "actions"]
    follow = follow_through_lines(d, actions, today=today)
    if follow:
        blocks.append(section("*Follow-through*\n" + "\n".join(follow)))
    blocks.append(divider())
    lines = [_event_text(e, zone) for e in d.events]
    blocks.append(context(f"History ({zone.key})"))
    blocks.extend(line_sections(lines))
    return capped(blocks, limit=limits.MESSAGE_BLOCKS_MAX, more="Later history is not shown.")


def decision_list(
    decisions: Sequence[Decision], *, title: str, empty: str, today: date | None = None
) -> list[Block]:
    if not decisions:
        return [section(f"*{escape(title)}*\n{empty}")]
    blocks = [section(f"*{escape(title)}* ({len(decisions)})")]
    blocks.extend(line_sections([decision_line(d, today=today) for d in decisions]))
    return capped(blocks, limit=limits.MESSAGE_BLOCKS_MAX, more="More not shown.")


def decision_list_page(
    page: Page[Decision],
    *,
    title: str,
    empty: str,
    today: date | None = None,
    next_value: str | None = None,
) -> list[Block]:
    """One page of a list: the total, these decisions, and "Next" while more follow.

    ``title`` is mrkdwn the caller wrote (a mention may be in it), never a person's text."""
    if not page.items:
        if page.offset:
            return [section(f"*{title}* ({page.total})\nNo more.")]
        return [section(f"*{title}*\n{empty}")]
    first, last = page.offset + 1, page.offset + len(page.items)
    shown = f"{first}–{last} of {page.total}" if page.total > len(page.items) else page.total
    blocks = [section(f"*{title}* ({shown})")]
    blocks.extend(line_sections([decision_line(d, today=today) for d in page.items]))
    blocks = capped(blocks, limit=limits.MESSAGE_BLOCKS_MAX - 1, more="More not shown.")
    if next_value is not None:
        blocks.append(
            actions(
                button("Next", action_id=Action.DECISION_LIST_NEXT, value=next_value),
                block_id="decision_list_next",
            )
        )
    return blocks


def _text_input(
    block_id: str,
    label: str,
    *,
    max_length: int,
    multiline: bool = False,
    optional: bool = False,
    initial: str | None = None,
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
            initial_value=(initial or None) and initial[:max_length],
            placeholder=plain(placeholder, limits.PLACEHOLDER_MAX) if placeholder else None,
        ),
    ).to_dict()


NEW_STATE_OPEN = "open"
NEW_STATE_DECIDED = "decided"


def new_decision_modal(
    *,
    team_id: str,
    channel_id: str,
    owner_id: str,
    title: str = "",
    context_text: str = "",
    source_permalink: str | None = None,
    decided: bool = False,
    resolution: str = "",
    due: date | None = None,
    supersedes: str = "",
    review: date | None = None,
    warning: list[Block] | None = None,
    repeat_of: int | None = None,
) -> Block:
    """The "new decision" modal; ``title``/``context_text`` prefill it from a shortcut's message.

    "Decided already" (preselected with ``decided``) records it as made, with the resolution
    below it. ``warning`` (the re-litigation warning, with its required "Record this anyway?")
    goes on top when the modal comes back after a submission that looked like D-``repeat_of``,
    every field as it was submitted.
    """
    choices = [
        Option(value=NEW_STATE_OPEN, label="To be decided"),
        Option(value=NEW_STATE_DECIDED, label="Decided already"),
    ]
    blocks = [
        _text_input(
            BlockId.TITLE,
            "What needs deciding?",
            max_length=validation.TITLE_MAX,
            initial=title,
            placeholder="e.g. Which vendor do we pick for payroll?",
        ),
        _text_input(
            BlockId.CONTEXT,
            "Context",
            max_length=validation.TEXT_MAX,
            multiline=True,
            optional=True,
            initial=context_text,
        ),
        InputBlock(
            block_id=BlockId.OWNER,
            label=plain("Owner"),
            element=UserSelectElement(action_id=INPUT, initial_user=owner_id),
        ).to_dict(),
        InputBlock(
            block_id=BlockId.DUE,
            label=plain("Decide by"),
            optional=True,
            element=DatePickerElement(
                action_id=INPUT, initial_date=due.isoformat() if due else None
            ),
        ).to_dict(),
        InputBlock(
            block_id=BlockId.DECIDED_ALREADY,
            label=plain("State"),
            element=RadioButtonsElement(
                action_id=INPUT, options=choices, initial_option=choices[1 if decided else 0]
            ),
        ).to_dict(),
        _text_input(
            BlockId.RESOLUTION,
            "What was decided? (if decided already)",
            max_length=validation.TEXT_MAX,
            multiline=True,
            optional=True,
            initial=resolution,
        ),
        review_input(
            hint="If decided already: the day its owner is asked whether it held.",
            initial=review,
        ),
        _text_input(
            BlockId.SUPERSEDES,
            "Supersedes",
            max_length=24,
            optional=True,
            placeholder="e.g. D-4, the decision this one replaces",
            initial=supersedes,
        ),
    ]
    if source_permalink:
        blocks.append(context(f"From <{escape(source_permalink)}|this message>"))
    metadata: dict[str, Any] = {
        "team": team_id,
        "channel_id": channel_id,
        "permalink": source_permalink,
    }
    if repeat_of is not None:
        metadata["repeat_of"] = str(repeat_of)
    return modal(
        callback_id=ViewId.NEW_DECISION,
        title="New decision",
        submit="Record anyway" if warning else "Record",
        blocks=[*(warning or []), *blocks],
        metadata=metadata,
    )


def review_input(*, hint: str | None = None, initial: date | None = None) -> Block:
    """An optional date picker for the day its owner is asked whether the decision held."""
    return InputBlock(
        block_id=BlockId.REVIEW_ON,
        label=plain("Review on"),
        optional=True,
        element=DatePickerElement(
            action_id=INPUT, initial_date=initial.isoformat() if initial else None
        ),
        hint=plain(hint, limits.INPUT_HINT_MAX) if hint else None,
    ).to_dict()


def decide_modal(d: Decision, *, origin: dict[str, str]) -> Block:
    return modal(
        callback_id=ViewId.DECIDE,
        title=f"Decide {d.ref}",
        submit="Decide",
        blocks=[
            section(f"*{d.ref}* · {render_user_text(d.title)}"),
            _text_input(
                BlockId.RESOLUTION,
                "What was decided?",
                max_length=validation.TEXT_MAX,
                multiline=True,
            ),
            review_input(
                hint="On this day its owner is asked whether it held. Leave it empty for the "
                "workspace's default."
            ),
        ],
        metadata={"team": d.team_id, "number": str(d.number), **origin},
    )


def add_action_modal(d: Decision, *, owner_id: str, origin: dict[str, str] | None = None) -> Block:
    """ "Add action" on a decided card: a follow-through action item for ``d``.

    ``origin`` is where the button was pressed, so the submission reads with the same rights.
    """
    return modal(
        callback_id=ViewId.ADD_ACTION,
        title=f"Action for {d.ref}",
        submit="Add",
        blocks=[
            section(f"*{d.ref}* · {render_user_text(d.title)}"),
            _text_input(
                BlockId.OUTCOME_TEXT,
                "What needs doing?",
                max_length=validation.TEXT_MAX,
                placeholder="e.g. Tell sales about the new date",
            ),
            InputBlock(
                block_id=BlockId.OWNER,
                label=plain("Owner"),
                element=UserSelectElement(action_id=INPUT, initial_user=owner_id),
            ).to_dict(),
            InputBlock(
                block_id=BlockId.DUE,
                label=plain("Due"),
                optional=True,
                element=DatePickerElement(action_id=INPUT),
            ).to_dict(),
        ],
        metadata={"team": d.team_id, "number": str(d.number), **(origin or {})},
    )


def drop_modal(d: Decision, *, origin: dict[str, str]) -> Block:
    """The Drop button's question: an optional reason, so the card can say why."""
    return modal(
        callback_id=ViewId.DROP,
        title=f"Drop {d.ref}",
        submit="Drop",
        blocks=[
            section(f"*{d.ref}* · {render_user_text(d.title)}"),
            _text_input(
                BlockId.REASON,
                "Why is it no longer needed? (optional)",
                max_length=validation.TEXT_MAX,
                optional=True,
                placeholder="e.g. Superseded by D-12",
            ),
        ],
        metadata={"team": d.team_id, "number": str(d.number), **origin},
    )


def home_section(
    title: str,
    decisions: Page[Decision] | Sequence[Decision],
    *,
    empty: str,
    today: date,
    budget: int,
    place: str,
) -> list[Block]:
    """A titled group of decision cards for App Home, within ``budget`` blocks.

    Given a page, it says which of how many these are and offers "Show more" for the next.
    """
    page = decisions if isinstance(decisions, Page) else Page(list(decisions), len(decisions))
    blocks = [header(title)]
    if not page.items:
        return [*blocks, context(empty)]
    per_card = 2
    room = max(0, (budget - 3) // per_card)
    shown = page.items[:room]
    for d in shown:
        blocks.append(section(decision_line(d, today=today)))
        blocks.append(decision_actions(d, place=place))
    return [*blocks, *show_more(place, offset=page.offset, shown=len(shown), total=page.total)]


def show_more(place: str, *, offset: int, shown: int, total: int) -> list[Block]:
    """An App Home section's tail: where these sit among all, and a button to the next ones."""
    end = offset + shown
    if offset == 0 and end >= total:
        return []
    note = context(f"{offset + 1}–{end} of {total}")
    if end >= total:
        return [note]
    more = button("Show more", action_id=Action.HOME_MORE, value=f"{place}:{end}")
    return [
        note,
        actions(more, block_id=f"home_more:{place}"),
    ]


#: Decisions the follow-through section of App Home names; the rest are counted.
FOLLOW_THROUGH_AT_ONCE = 5


def home_follow_through_section(
    decisions: Sequence[Decision],
    *,
    orphaned_up_to: datetime | None = None,
    after_days: int | None = None,
) -> list[Block]:
    """App Home: decided decisions of mine that wait for actions or "no action needed".

    Those decided at or before ``orphaned_up_to`` are orphans (their ``after_days`` working days
    have gone by, and they are reminded); the others await the answer to "What happens now?".
    Always two blocks (a header and one section), so the paged sections keep their room.
    """
    blocks = [header("Decisions waiting on your follow-through")]
    if not decisions:
        return [*blocks, context("Every decision you own has its next steps. :white_check_mark:")]

    def state(d: Decision) -> str:
        if d.decided_at is None or orphaned_up_to is None:
            return ""
        if d.decided_at <= orphaned_up_to:
            days = f" for {after_days}+ working days" if after_days else ""
            return f" · :warning: no next step{days}"
        return " · waiting for your answer to “What happens now?”"

    lines = [
        f"• *{d.ref}* {render_user_text(d.title)} · decided "
        f"{date_text(d.decided_at.date()) if d.decided_at else ''}{state(d)}"
        for d in decisions[:FOLLOW_THROUGH_AT_ONCE]
    ]
    if len(decisions) > FOLLOW_THROUGH_AT_ONCE:
        lines.append(f"…and {len(decisions) - FOLLOW_THROUGH_AT_ONCE} more.")
    lines.append(
        "`/decision act D-n …` adds an action; `/decision act D-n none REASON` says none is needed."
    )
    return [*blocks, section("\n".join(lines))]
