"""Block Kit checks for tests: slack_sdk's own validators, plus the few rules it does not know.

Slack answers an oversized block with ``invalid_blocks`` and no hint of which one. Tests run
:func:`check_blocks`, :func:`check_view` and :func:`check_message` over every rendered surface
so a breach shows up as a readable list of paths instead.

Per-object validity (lengths, counts, required fields) is slack_sdk's: each dict is parsed with
its Block Kit models and every ``@JsonValidator`` on every nested object is run, so one call
reports every breach, not only the first that ``to_dict()`` would raise. What slack_sdk does not
check lives here: unique ``block_id`` per payload and ``action_id`` per block, blocks per
message, text summed over markdown blocks, a message's text and attachments, and the modal rules
that span fields (a title, a submit button when there are inputs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.slack.limits import MESSAGE_BLOCKS_MAX, VIEW_BLOCKS_MAX

Surface = Literal["message", "modal", "home"]

MESSAGE_ATTACHMENTS_MAX: Final = 100
#: Slack truncates a message's top-level ``text`` beyond this.
MESSAGE_TEXT_MAX: Final = 40_000
#: Summed over all markdown blocks of one payload.
MARKDOWN_BLOCKS_TEXT_MAX: Final = 12_000


def _validator_names(obj: JsonObject) -> list[str]:
    # The same candidates JsonObject.validate_json runs, in the same order.
    names = {name for name in dir(type(obj)) if not name.startswith("__")}
    names |= {name for name in vars(obj) if not name.startswith("__")}
    return sorted(
        name
        for name in names
        if callable(getattr(obj, name, None)) and hasattr(getattr(obj, name), "validator")
    )


def _sdk_problems(
    path: str, obj: JsonObject, problems: list[str], *, skip: frozenset[str] = frozenset()
) -> None:
    """Every slack_sdk validator ``obj`` and the objects inside it (but ``skip``) fail."""
    for name in _validator_names(obj):
        try:
            getattr(obj, name)()
        except SlackObjectFormationError as error:
            problems.append(f"{path}: {error}")
    for name, value in sorted(vars(obj).items()):
        label = name.lstrip("_")
        if label in skip:
            continue
        if isinstance(value, JsonObject):
            _sdk_problems(f"{path}.{label}", value, problems)
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                if isinstance(item, JsonObject):
                    _sdk_problems(f"{path}.{label}[{index}]", item, problems)


def _parse_block(path: str, block: object, problems: list[str]) -> None:
    if not isinstance(block, Mapping):
        problems.append(f"{path}: must be an object")
        return
    try:
        parsed = Block.parse(dict(block))
    except (TypeError, ValueError, SlackObjectFormationError) as error:
        # A missing required argument (an input's element, an image's alt_text) lands here.
        problems.append(f"{path}: {error}")
        return
    if parsed is None:
        problems.append(f"{path}.type: missing or unknown ({block.get('type')!r})")
        return
    _sdk_problems(path, parsed, problems)


def _unique(path: str, value: object, seen: set[object], problems: list[str], where: str) -> None:
    if value is None:
        return
    if value in seen:
        problems.append(f"{path}: duplicate {value!r}{where}")
    seen.add(value)


def _block_elements(block: Mapping[str, Any]) -> list[tuple[str, object]]:
    if isinstance(block.get("elements"), list) and block.get("type") == "actions":
        return [(f"elements[{i}]", e) for i, e in enumerate(block["elements"])]
    return [(name, block[name]) for name in ("accessory", "element") if name in block]


def _payload_rules(blocks: list[Any], problems: list[str]) -> None:
    """What slack_sdk does not check: unique ids, and markdown text summed over the payload."""
    block_ids: set[object] = set()
    markdown_chars = 0
    for index, block in enumerate(blocks):
        if not isinstance(block, Mapping):
            continue
        path = f"blocks[{index}]"
        _unique(f"{path}.block_id", block.get("block_id"), block_ids, problems, "")
        action_ids: set[object] = set()
        for name, element in _block_elements(block):
            if isinstance(element, Mapping):
                action_id = element.get("action_id")
                _unique(f"{path}.{name}.action_id", action_id, action_ids, problems, " in block")
        if block.get("type") == "markdown" and isinstance(block.get("text"), str):
            markdown_chars += len(block["text"])
    if markdown_chars > MARKDOWN_BLOCKS_TEXT_MAX:
        problems.append(
            f"blocks: markdown blocks hold {markdown_chars} characters, "
            f"more than {MARKDOWN_BLOCKS_TEXT_MAX}"
        )


def _each_block(blocks: list[Any], problems: list[str]) -> None:
    for index, block in enumerate(blocks):
        _parse_block(f"blocks[{index}]", block, problems)
    _payload_rules(blocks, problems)


def _count(blocks: object, limit: int, problems: list[str]) -> list[Any]:
    if not isinstance(blocks, list):
        problems.append(f"blocks: must be a list, got {type(blocks).__name__}")
        return []
    if len(blocks) > limit:
        problems.append(f"blocks: {len(blocks)} items, more than {limit}")
    return blocks


def check_blocks(blocks: list[dict[str, Any]], *, surface: Surface) -> list[str]:
    """Every Block Kit rule ``blocks`` breaks on ``surface``; empty when Slack should accept it."""
    problems: list[str] = []
    limit = MESSAGE_BLOCKS_MAX if surface == "message" else VIEW_BLOCKS_MAX
    _each_block(_count(blocks, limit, problems), problems)
    return problems


def check_view(view: dict[str, Any]) -> list[str]:
    """Every rule a modal or Home tab view breaks, its blocks included."""
    problems: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        problems.append(f"type: must be 'modal' or 'home', got {kind!r}")
    # slack_sdk's View checks title, submit, close, private_metadata, callback_id and the count
    # of blocks; the blocks are checked one by one below, with their paths (View.parse_all
    # skips a block it does not know).
    try:
        parsed = View(**view)
    except (TypeError, ValueError, SlackObjectFormationError) as error:
        problems.append(f"view: {error}")
    else:
        _sdk_problems("view", parsed, problems, skip=frozenset({"blocks"}))
    if kind == "modal":
        if view.get("title") is None:
            problems.append("title: missing")
        has_input = isinstance(view.get("blocks"), list) and any(
            isinstance(block, Mapping) and block.get("type") == "input" for block in view["blocks"]
        )
        # Slack refuses a modal with input blocks but no submit button.
        if has_input and view.get("submit") is None:
            problems.append("submit: missing")
    blocks = view.get("blocks")
    _each_block(blocks if isinstance(blocks, list) else [], problems)
    return problems


def check_message(message: Mapping[str, Any]) -> list[str]:
    """Every rule a chat.postMessage / chat.update / respond payload breaks."""
    problems: list[str] = []
    text, blocks, attachments = (message.get(k) for k in ("text", "blocks", "attachments"))
    if not text and not blocks and not attachments:
        problems.append("message: needs text, blocks or attachments")
    if isinstance(text, str) and len(text) > MESSAGE_TEXT_MAX:
        problems.append(f"text: {len(text)} characters, more than {MESSAGE_TEXT_MAX}")
    if isinstance(attachments, list) and len(attachments) > MESSAGE_ATTACHMENTS_MAX:
        problems.append(
            f"attachments: {len(attachments)} items, more than {MESSAGE_ATTACHMENTS_MAX}"
        )
    if blocks is not None:
        _each_block(_count(blocks, MESSAGE_BLOCKS_MAX, problems), problems)
    return problems
