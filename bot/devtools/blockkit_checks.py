"""Block Kit checks for tests: slack_sdk's own validators, plus the few rules it does not know.

Slack answers an oversized block with ``invalid_blocks`` and no hint of which one. Tests run
:func:`check_blocks`, :func:`check_view` and :func:`check_message` over every rendered surface
so a breach shows up as a readable list of paths instead.

Per-object validity (lengths, counts, required fields) is slack_sdk's: each dict is parsed with
its Block Kit models and every ``@JsonValidator`` on every nested object is run, so one call
reports every breach, not only the first that ``to_dict()`` would raise. What slack_sdk does not
check lives here: unique ``block_id`` per payload and ``action_id`` per block, blocks per
message, text summed over markdown blocks, a message's text and attachments, the modal rules
that span fields (a title, a submit button when there are inputs), and the per-object limits its
models leave out (the data-driven rules below: text object types and minimum lengths, option and
option group text inside selects, option counts, plain-text input lengths, table sizes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.slack.limits import (
    MESSAGE_BLOCKS_MAX,
    OPTION_TEXT_MAX,
    SECTION_FIELD_TEXT_MAX,
    VIEW_BLOCKS_MAX,
)

Surface = Literal["message", "modal", "home"]

MESSAGE_ATTACHMENTS_MAX: Final = 100
#: Slack truncates a message's top-level ``text`` beyond this.
MESSAGE_TEXT_MAX: Final = 40_000
#: Summed over all markdown blocks of one payload.
MARKDOWN_BLOCKS_TEXT_MAX: Final = 12_000

# Limits slack_sdk's models do not check (values from the shared fixtures' Block Kit limits).
OPTION_VALUE_MAX: Final = 150
OPTION_DESCRIPTION_MAX: Final = 75
OPTION_GROUP_LABEL_MAX: Final = 75
OVERFLOW_OPTIONS_MIN: Final = 2
CHECKBOXES_OPTIONS_MAX: Final = 10
RADIO_BUTTONS_OPTIONS_MAX: Final = 10
TABLE_ROWS_MAX: Final = 100
TABLE_CELLS_PER_ROW_MAX: Final = 20
#: Not in the fixture file: docs.slack.dev, plain-text input element ("between 1 and 3000").
PLAIN_TEXT_INPUT_MAX_LENGTH: Final = 3_000

_TEXT_TYPES: Final = frozenset({"plain_text", "mrkdwn"})


@dataclass(frozen=True)
class _Text:
    """A text object in one field: its type, at least 1 character, and a maximum if slack_sdk
    does not check that one itself (``None``)."""

    max_chars: int | None = None
    plain_only: bool = False


_PLAIN: Final = _Text(plain_only=True)
# (block or element type, field) -> the text object it holds; "name[]" is each item of a list.
_TEXTS: Final[dict[tuple[str, str], _Text]] = {
    ("section", "text"): _Text(),
    ("section", "fields[]"): _Text(SECTION_FIELD_TEXT_MAX),
    ("header", "text"): _PLAIN,
    ("context", "elements[]"): _Text(),
    ("input", "label"): _PLAIN,
    ("input", "hint"): _PLAIN,
    ("image", "title"): _PLAIN,
    ("button", "text"): _PLAIN,
}
# (block or element type, list field) -> (fewest, most or None where slack_sdk checks the most);
# "name[]" is each item of a list of lists.
_COUNTS: Final[dict[tuple[str, str], tuple[int, int | None]]] = {
    ("context", "elements"): (1, None),
    ("actions", "elements"): (1, None),
    ("overflow", "options"): (OVERFLOW_OPTIONS_MIN, None),
    ("checkboxes", "options"): (1, CHECKBOXES_OPTIONS_MAX),
    ("radio_buttons", "options"): (1, RADIO_BUTTONS_OPTIONS_MAX),
    ("table", "rows"): (0, TABLE_ROWS_MAX),  # slack_sdk refuses an empty one
    ("table", "rows[]"): (1, TABLE_CELLS_PER_ROW_MAX),
}
# Element types holding options -> (option text plain_text only, slack_sdk checks option
# text and value lengths itself). It does for checkboxes and multi_static_select only.
_OPTION_HOLDERS: Final[dict[str, tuple[bool, bool]]] = {
    "static_select": (True, False),
    "multi_static_select": (True, True),
    "overflow": (True, False),
    "checkboxes": (False, True),
    "radio_buttons": (False, False),
}
# plain_text_input integer fields -> their lowest value; the highest is PLAIN_TEXT_INPUT_MAX_LENGTH.
_INPUT_LENGTHS: Final = {"min_length": 0, "max_length": 1}


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


def _text(path: str, obj: object, rule: _Text, problems: list[str]) -> None:
    if obj is None:
        return  # slack_sdk reports a required text that is missing
    if not isinstance(obj, Mapping):
        problems.append(f"{path}: must be a text object")
        return
    kind = obj.get("type")
    if rule.plain_only and kind != "plain_text":
        problems.append(f"{path}.type: must be plain_text, got {kind!r}")
    elif kind not in _TEXT_TYPES:
        problems.append(f"{path}.type: must be plain_text or mrkdwn, got {kind!r}")
    _length(f"{path}.text", obj.get("text"), rule.max_chars, problems, min_len=1)


def _length(
    path: str, value: object, limit: int | None, problems: list[str], *, min_len: int = 0
) -> None:
    if not isinstance(value, str):
        return
    if limit is not None and len(value) > limit:
        problems.append(f"{path}: {len(value)} characters, more than {limit}")
    elif len(value) < min_len:
        problems.append(f"{path}: {len(value)} characters, fewer than {min_len}")


def _count(path: str, value: object, low: int, high: int | None, problems: list[str]) -> None:
    if not isinstance(value, list):
        return
    if high is not None and len(value) > high:
        problems.append(f"{path}: {len(value)} items, more than {high}")
    elif len(value) < low:
        problems.append(f"{path}: {len(value)} items, fewer than {low}")


def _option(
    path: str, option: object, plain_only: bool, sdk_lengths: bool, problems: list[str]
) -> None:
    if not isinstance(option, Mapping):
        return
    text_max = None if sdk_lengths else OPTION_TEXT_MAX
    _text(f"{path}.text", option.get("text"), _Text(text_max, plain_only), problems)
    if not sdk_lengths:
        _length(f"{path}.value", option.get("value"), OPTION_VALUE_MAX, problems)
    _text(f"{path}.description", option.get("description"), _Text(OPTION_DESCRIPTION_MAX), problems)


def _options(path: str, element: Mapping[str, Any], kind: str, problems: list[str]) -> None:
    plain_only, sdk_lengths = _OPTION_HOLDERS[kind]
    found: list[tuple[str, object]] = []
    for name in ("options", "initial_options"):
        if isinstance(element.get(name), list):
            found += [(f"{path}.{name}[{i}]", o) for i, o in enumerate(element[name])]
    if "initial_option" in element:
        found.append((f"{path}.initial_option", element["initial_option"]))
    groups = element.get("option_groups")
    for index, group in enumerate(groups if isinstance(groups, list) else []):
        if not isinstance(group, Mapping):
            continue
        group_path = f"{path}.option_groups[{index}]"
        label = _Text(OPTION_GROUP_LABEL_MAX, plain_only=True)
        _text(f"{group_path}.label", group.get("label"), label, problems)
        if isinstance(group.get("options"), list):
            found += [(f"{group_path}.options[{i}]", o) for i, o in enumerate(group["options"])]
    for option_path, option in found:
        _option(option_path, option, plain_only, sdk_lengths, problems)


def _plain_text_input(path: str, element: Mapping[str, Any], problems: list[str]) -> None:
    top = PLAIN_TEXT_INPUT_MAX_LENGTH
    for name, lowest in _INPUT_LENGTHS.items():
        value = element.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{path}.{name}: must be an integer")
        elif not lowest <= value <= top:
            problems.append(f"{path}.{name}: {value} is outside {lowest}..{top}")
    low, high = element.get("min_length"), element.get("max_length")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        problems.append(f"{path}: min_length {low} is more than max_length {high}")
    if isinstance(high, int):
        _length(f"{path}.initial_value", element.get("initial_value"), high, problems)


def _object_rules(path: str, obj: Mapping[str, Any], problems: list[str]) -> None:
    """The per-object rules slack_sdk lacks, for one block or element."""
    kind = obj.get("type")
    if not isinstance(kind, str):
        return
    for (owner, field), rule in _TEXTS.items():
        if owner != kind:
            continue
        if field.endswith("[]"):
            items = obj.get(field[:-2])
            for index, item in enumerate(items if isinstance(items, list) else []):
                if not (isinstance(item, Mapping) and item.get("type") == "image"):
                    _text(f"{path}.{field[:-2]}[{index}]", item, rule, problems)
        else:
            _text(f"{path}.{field}", obj.get(field), rule, problems)
    for (owner, field), (low, high) in _COUNTS.items():
        if owner != kind:
            continue
        if field.endswith("[]"):
            items = obj.get(field[:-2])
            for index, item in enumerate(items if isinstance(items, list) else []):
                _count(f"{path}.{field[:-2]}[{index}]", item, low, high, problems)
        else:
            _count(f"{path}.{field}", obj.get(field), low, high, problems)
    if "placeholder" in obj:
        _text(f"{path}.placeholder", obj["placeholder"], _PLAIN, problems)
    if kind in _OPTION_HOLDERS:
        _options(path, obj, kind, problems)
    elif kind == "plain_text_input":
        _plain_text_input(path, obj, problems)


def _block_rules(path: str, block: object, problems: list[str]) -> None:
    if not isinstance(block, Mapping):
        return
    _object_rules(path, block, problems)
    elements = list(_block_elements(block))
    if block.get("type") == "context" and isinstance(block.get("elements"), list):
        elements = [(f"elements[{i}]", e) for i, e in enumerate(block["elements"])]
    for name, element in elements:
        if isinstance(element, Mapping):
            _object_rules(f"{path}.{name}", element, problems)


def _each_block(blocks: list[Any], problems: list[str]) -> None:
    for index, block in enumerate(blocks):
        _parse_block(f"blocks[{index}]", block, problems)
        _block_rules(f"blocks[{index}]", block, problems)
    _payload_rules(blocks, problems)


def _count_blocks(blocks: object, limit: int, problems: list[str]) -> list[Any]:
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
    _each_block(_count_blocks(blocks, limit, problems), problems)
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
    for name in ("title", "submit", "close"):
        # slack_sdk checks their lengths, not their type.
        value = view.get(name)
        if isinstance(value, Mapping) and value.get("type") != "plain_text":
            problems.append(f"{name}.type: must be plain_text, got {value.get('type')!r}")
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
        _each_block(_count_blocks(blocks, MESSAGE_BLOCKS_MAX, problems), problems)
    return problems
