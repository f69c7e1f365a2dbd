"""Block Kit for decisions: the channel card, the detail with history, lists, modals, App Home."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    PlainTextInputElement,
    UserSelectElement,
)

from bot import validation
from bot.decisions.models import Decision, DecisionEvent, DecisionStatus
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
    date_text,
    escape,
    mention,
    render_user_paragraphs,
    render_user_text,
)

STATUS_LABEL = {
    DecisionStatus.OPEN: ":large_yellow_circle: Open",
    DecisionStatus.DECIDED: ":white_check_mark: Decided",
    DecisionStatus.DROPPED: ":heavy_multiplication_x: Dropped",
}


def due_text(due: date | None, *, today: date | None = None) -> str:
    if due is None:
        return "No date"
    text = date_text(due)
    if today is not None and due < today:
        return f"{text} :warning: overdue"
    return text


def decision_line(d: Decision, *, today: date | None = None) -> str:
    """One mrkdwn line: ref, title, owner, due."""
    return (
        f"*{d.ref}* {render_user_text(d.title)} · {mention(d.owner_id)} · "
        f"{due_text(d.due_date, today=today)}"
    )


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
                f"*Channel*\n<#{d.channel_id}>",
            ],
        )
    ]
    if d.context:
        blocks.append(section(render_user_paragraphs(d.context)))
    if d.status == DecisionStatus.DECIDED and d.resolution:
        blocks.append(section(f"*Resolution*\n{render_user_paragraphs(d.resolution)}"))
    if d.status == DecisionStatus.DROPPED:
        reason = render_user_text(d.drop_reason) if d.drop_reason else "no reason given"
        blocks.append(section(f"*Dropped:* {reason}"))
    footer = [f"Recorded by {mention(d.creator_id)} on {date_text(d.created_at.date())}"]
    if d.source_permalink:
        footer.append(f"<{escape(d.source_permalink)}|Original message>")
    blocks.append(context(" · ".join(footer)))
    if d.is_open:
        blocks.append(decision_actions(d))
    return blocks


def card_fallback_text(d: Decision) -> str:
    """The notification text for a card (shown where blocks are not)."""
    return f"{d.ref} {render_user_text(d.title)} — owner {mention(d.owner_id)}, {d.status}"


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
        case "dropped":
            reason = detail.get("reason")
            what = f"dropped it ({render_user_text(reason)})" if reason else "dropped it"
        case "reopened":
            what = "reopened it"
        case "snoozed":
            what = "snoozed reminders"
        case _:
            what = escape(event.action)
    return f"• {when} {who} {what}"


def decision_detail(d: Decision, *, zone: ZoneInfo, today: date | None = None) -> list[Block]:
    """`/decision show`: the card plus its history, newest last."""
    blocks = [b for b in decision_card(d, today=today) if b["type"] != "actions"]
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


def new_decision_modal(
    *,
    team_id: str,
    channel_id: str,
    owner_id: str,
    title: str = "",
    context_text: str = "",
    source_permalink: str | None = None,
) -> Block:
    """The "new decision" modal; ``title``/``context_text`` prefill it from a shortcut's message."""
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
            element=DatePickerElement(action_id=INPUT),
        ).to_dict(),
    ]
    if source_permalink:
        blocks.append(context(f"From <{escape(source_permalink)}|this message>"))
    return modal(
        callback_id=ViewId.NEW_DECISION,
        title="New decision",
        submit="Record",
        blocks=blocks,
        metadata={"team": team_id, "channel_id": channel_id, "permalink": source_permalink},
    )


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
        ],
        metadata={"team": d.team_id, "number": str(d.number), **origin},
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
    decisions: Sequence[Decision],
    *,
    empty: str,
    today: date,
    budget: int,
    place: str,
) -> list[Block]:
    """A titled group of decision cards for App Home, within ``budget`` blocks."""
    blocks = [header(title)]
    if not decisions:
        return [*blocks, context(empty)]
    per_card = 2
    room = max(0, (budget - 2) // per_card)
    for d in decisions[:room]:
        blocks.append(section(decision_line(d, today=today)))
        blocks.append(decision_actions(d, place=place))
    if len(decisions) > room:
        blocks.append(context(f"…and {len(decisions) - room} more: `/decision list mine`"))
    return blocks
