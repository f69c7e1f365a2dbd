"""Small builders over slack_sdk's Block Kit models for the shapes this app repeats.

Every builder clips its text to Slack's limits, so any amount of user data still renders; the
caller decides what the text says.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.slack import limits
from bot.slack.text import truncate

Block = dict[str, Any]


def plain(text: str, limit: int = limits.TEXT_OBJECT_MAX) -> PlainTextObject:
    return PlainTextObject(text=truncate(text, limit) or " ", emoji=True)


def header(text: str) -> Block:
    return HeaderBlock(text=plain(text, limits.HEADER_TEXT_MAX)).to_dict()


def section(text: str, *, fields: list[str] | None = None, block_id: str | None = None) -> Block:
    block = SectionBlock(
        block_id=block_id,
        text=MarkdownTextObject(text=truncate(text, limits.SECTION_TEXT_MAX) or " "),
        fields=[
            MarkdownTextObject(text=truncate(f, limits.SECTION_FIELD_TEXT_MAX) or " ")
            for f in (fields or [])[: limits.SECTION_FIELDS_MAX]
        ]
        or None,
    )
    return block.to_dict()


def context(*texts: str) -> Block:
    elements = [
        MarkdownTextObject(text=truncate(t, limits.TEXT_OBJECT_MAX))
        for t in texts[: limits.CONTEXT_ELEMENTS_MAX]
        if t
    ]
    return ContextBlock(elements=elements or [MarkdownTextObject(text=" ")]).to_dict()


def divider() -> Block:
    return DividerBlock().to_dict()


def button(
    text: str,
    *,
    action_id: str,
    value: str,
    style: str | None = None,
    confirm: tuple[str, str, str] | None = None,
) -> ButtonElement:
    """A button; ``confirm`` is (title, question, confirm label) for a 'are you sure' dialog."""
    return ButtonElement(
        text=plain(text, limits.BUTTON_TEXT_MAX),
        action_id=action_id,
        value=value[: limits.BUTTON_VALUE_MAX],
        style=style,
        confirm=ConfirmObject(
            title=plain(confirm[0], limits.CONFIRM_TITLE_MAX),
            text=plain(confirm[1], limits.CONFIRM_TEXT_MAX),
            confirm=plain(confirm[2], limits.CONFIRM_CONFIRM_MAX),
            deny=plain("Cancel", limits.CONFIRM_DENY_MAX),
        )
        if confirm
        else None,
    )


def actions(*elements: Any, block_id: str | None = None) -> Block:
    return ActionsBlock(
        block_id=block_id, elements=list(elements)[: limits.ACTIONS_ELEMENTS_MAX]
    ).to_dict()


def modal(
    *,
    callback_id: str,
    title: str,
    blocks: list[Block],
    submit: str | None = "Save",
    metadata: dict[str, Any] | None = None,
    close: str = "Cancel",
) -> Block:
    private = json.dumps(metadata or {}, separators=(",", ":"))
    if len(private) > limits.PRIVATE_METADATA_MAX:
        raise ValueError("modal metadata is too large")
    view = View(
        type="modal",
        callback_id=callback_id,
        title=plain(title, limits.MODAL_TITLE_MAX),
        submit=plain(submit, limits.MODAL_SUBMIT_MAX) if submit else None,
        close=plain(close, limits.MODAL_CLOSE_MAX),
        blocks=blocks[: limits.VIEW_BLOCKS_MAX],
        private_metadata=private,
    )
    return view.to_dict()


def capped(blocks: list[Block], *, limit: int, more: str) -> list[Block]:
    """Keep at most ``limit`` blocks; the last one says what was left out."""
    if len(blocks) <= limit:
        return blocks
    return [*blocks[: limit - 1], context(more)]


def line_sections(lines: list[str]) -> list[Block]:
    """Pack lines into as few sections as the section text limit allows."""
    blocks: list[Block] = []
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > limits.SECTION_TEXT_MAX:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    return blocks
