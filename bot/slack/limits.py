"""Block Kit limits as code, and checkers that find every breach before Slack does.

Slack answers an oversized block with ``invalid_blocks`` and no hint of which one; a user who
typed a long title then sees nothing. Renderers truncate to these constants, and tests run
:func:`check_blocks`, :func:`check_view` and :func:`check_message` over every rendered surface
so a breach shows up as a readable list of paths instead.

Values follow ``specs/block_kit_limits.json`` in the shared Slack fixtures (checked by a test);
the few that file does not list are marked with where they come from.
"""

from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

Surface = Literal["message", "modal", "home"]

# Surfaces
MESSAGE_BLOCKS_MAX: Final = 50
VIEW_BLOCKS_MAX: Final = 100
MESSAGE_ATTACHMENTS_MAX: Final = 100
#: Slack truncates a message's top-level ``text`` beyond this.
MESSAGE_TEXT_MAX: Final = 40_000
#: What Slack's docs recommend for ``text``; the hard limit is MESSAGE_TEXT_MAX.
MESSAGE_TEXT_RECOMMENDED: Final = 4_000
MODAL_TITLE_MAX: Final = 24
MODAL_SUBMIT_MAX: Final = 24
MODAL_CLOSE_MAX: Final = 24
PRIVATE_METADATA_MAX: Final = 3_000
CALLBACK_ID_MAX: Final = 255

# Ids
BLOCK_ID_MAX: Final = 255
ACTION_ID_MAX: Final = 255

# Text
TEXT_OBJECT_MAX: Final = 3_000
SECTION_TEXT_MAX: Final = 3_000
SECTION_FIELDS_MAX: Final = 10
SECTION_FIELD_TEXT_MAX: Final = 2_000
HEADER_TEXT_MAX: Final = 150
#: Summed over all markdown blocks of one payload.
MARKDOWN_BLOCKS_TEXT_MAX: Final = 12_000

# Blocks
ACTIONS_ELEMENTS_MAX: Final = 25
CONTEXT_ELEMENTS_MAX: Final = 10
INPUT_LABEL_MAX: Final = 2_000
INPUT_HINT_MAX: Final = 2_000
IMAGE_URL_MAX: Final = 3_000
IMAGE_ALT_TEXT_MAX: Final = 2_000
IMAGE_TITLE_MAX: Final = 2_000
TABLE_ROWS_MAX: Final = 100
TABLE_CELLS_PER_ROW_MAX: Final = 20

# Elements
BUTTON_TEXT_MAX: Final = 75
BUTTON_VALUE_MAX: Final = 2_000
BUTTON_URL_MAX: Final = 3_000
PLACEHOLDER_MAX: Final = 150
SELECT_OPTIONS_MAX: Final = 100
STATIC_SELECT_OPTIONS_MAX: Final = SELECT_OPTIONS_MAX
SELECT_OPTION_GROUPS_MAX: Final = 100
OPTION_TEXT_MAX: Final = 75
OPTION_VALUE_MAX: Final = 150
OPTION_DESCRIPTION_MAX: Final = 75
OPTION_GROUP_LABEL_MAX: Final = 75
OPTION_GROUP_OPTIONS_MAX: Final = 100
CHECKBOXES_OPTIONS_MAX: Final = 10
RADIO_BUTTONS_OPTIONS_MAX: Final = 10
OVERFLOW_OPTIONS_MIN: Final = 2
OVERFLOW_OPTIONS_MAX: Final = 5
CONFIRM_TITLE_MAX: Final = 100
CONFIRM_TEXT_MAX: Final = 300
CONFIRM_CONFIRM_MAX: Final = 30
CONFIRM_DENY_MAX: Final = 30
#: Not in the fixture file: docs.slack.dev, plain-text input element ("between 1 and 3000").
PLAIN_TEXT_INPUT_MAX_LENGTH: Final = 3_000

_SELECTS_WITH_OPTIONS: Final = frozenset({"static_select", "multi_static_select"})
_SMALL_OPTION_SETS: Final = {
    "checkboxes": CHECKBOXES_OPTIONS_MAX,
    "radio_buttons": RADIO_BUTTONS_OPTIONS_MAX,
}
_TEXT_TYPES: Final = frozenset({"plain_text", "mrkdwn"})


class _Checker:
    """Collects problems while walking one payload; paths read like ``blocks[2].fields[0]``."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.markdown_chars = 0

    def add(self, path: str, problem: str) -> None:
        self.problems.append(f"{path}: {problem}")

    def length(self, path: str, value: object, limit: int, *, min_len: int = 0) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.add(path, f"must be a string, got {type(value).__name__}")
        elif len(value) > limit:
            self.add(path, f"{len(value)} characters, more than {limit}")
        elif len(value) < min_len:
            self.add(path, f"{len(value)} characters, fewer than {min_len}")

    def items(
        self, path: str, value: object, limit: int, *, min_items: int = 0
    ) -> list[Any] | None:
        if value is None:
            if min_items:
                self.add(path, "missing")
            return None
        if not isinstance(value, list):
            self.add(path, f"must be a list, got {type(value).__name__}")
            return None
        if len(value) > limit:
            self.add(path, f"{len(value)} items, more than {limit}")
        elif len(value) < min_items:
            self.add(path, f"{len(value)} items, fewer than {min_items}")
        return value

    def text(
        self,
        path: str,
        obj: object,
        limit: int,
        *,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                self.add(path, "missing")
            return
        if not isinstance(obj, Mapping):
            self.add(path, "must be a text object")
            return
        kind = obj.get("type")
        if plain_only and kind != "plain_text":
            self.add(f"{path}.type", f"must be plain_text, got {kind!r}")
        elif kind not in _TEXT_TYPES:
            self.add(f"{path}.type", f"must be plain_text or mrkdwn, got {kind!r}")
        if "text" not in obj:
            self.add(f"{path}.text", "missing")
        else:
            self.length(f"{path}.text", obj["text"], limit, min_len=1)

    def blocks(self, path: str, blocks: object, limit: int) -> None:
        items = self.items(path, blocks, limit)
        if items is None:
            return
        seen_ids: set[str] = set()
        for index, block in enumerate(items):
            block_path = f"{path}[{index}]"
            if not isinstance(block, Mapping):
                self.add(block_path, "must be an object")
                continue
            block_id = block.get("block_id")
            if block_id is not None:
                self.unique_id(f"{block_path}.block_id", block_id, BLOCK_ID_MAX, seen_ids)
            self.block(block_path, block)
        if self.markdown_chars > MARKDOWN_BLOCKS_TEXT_MAX:
            self.add(
                path,
                f"markdown blocks hold {self.markdown_chars} characters, "
                f"more than {MARKDOWN_BLOCKS_TEXT_MAX}",
            )

    def block(self, path: str, block: Mapping[str, Any]) -> None:
        kind = block.get("type")
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.add(path, "a section needs text or fields")
            self.text(f"{path}.text", block.get("text"), SECTION_TEXT_MAX, required=False)
            fields = self.items(f"{path}.fields", block.get("fields"), SECTION_FIELDS_MAX)
            for index, field in enumerate(fields or ()):
                self.text(f"{path}.fields[{index}]", field, SECTION_FIELD_TEXT_MAX)
            if "accessory" in block:
                self.elements(path, [block["accessory"]], names=("accessory",))
        elif kind == "header":
            self.text(f"{path}.text", block.get("text"), HEADER_TEXT_MAX, plain_only=True)
        elif kind == "context":
            elements = self.items(
                f"{path}.elements", block.get("elements"), CONTEXT_ELEMENTS_MAX, min_items=1
            )
            for index, element in enumerate(elements or ()):
                element_path = f"{path}.elements[{index}]"
                if isinstance(element, Mapping) and element.get("type") == "image":
                    self.image(element_path, element)
                else:
                    self.text(element_path, element, TEXT_OBJECT_MAX)
        elif kind == "actions":
            elements = self.items(
                f"{path}.elements", block.get("elements"), ACTIONS_ELEMENTS_MAX, min_items=1
            )
            self.elements(path, elements or [])
        elif kind == "input":
            self.text(f"{path}.label", block.get("label"), INPUT_LABEL_MAX, plain_only=True)
            self.text(
                f"{path}.hint", block.get("hint"), INPUT_HINT_MAX, plain_only=True, required=False
            )
            if "element" not in block:
                self.add(f"{path}.element", "missing")
            else:
                self.elements(path, [block["element"]], names=("element",))
        elif kind == "image":
            self.image(path, block)
            self.text(
                f"{path}.title",
                block.get("title"),
                IMAGE_TITLE_MAX,
                plain_only=True,
                required=False,
            )
        elif kind == "markdown":
            text = block.get("text")
            if not isinstance(text, str) or not text:
                self.add(f"{path}.text", "missing")
            else:
                self.markdown_chars += len(text)
        elif kind == "table":
            rows = self.items(f"{path}.rows", block.get("rows"), TABLE_ROWS_MAX, min_items=1)
            for index, row in enumerate(rows or ()):
                self.items(f"{path}.rows[{index}]", row, TABLE_CELLS_PER_ROW_MAX)
        elif not isinstance(kind, str) or not kind:
            self.add(f"{path}.type", "missing")
        # Other block types (divider, file, video, rich_text, ...) have no limits we rely on.

    def image(self, path: str, image: Mapping[str, Any]) -> None:
        if "image_url" not in image and "slack_file" not in image:
            self.add(path, "an image needs image_url or slack_file")
        self.length(f"{path}.image_url", image.get("image_url"), IMAGE_URL_MAX, min_len=1)
        if "alt_text" not in image:
            self.add(f"{path}.alt_text", "missing")
        self.length(f"{path}.alt_text", image.get("alt_text"), IMAGE_ALT_TEXT_MAX, min_len=1)

    def unique_id(self, path: str, value: Any, limit: int, seen: set[Any], where: str = "") -> None:
        """An id (block_id, action_id): within ``limit``, and not seen before in its scope."""
        self.length(path, value, limit, min_len=1)
        if value in seen:
            self.add(path, f"duplicate {value!r}{where}")
        seen.add(value)

    def elements(
        self, path: str, elements: Iterable[object], *, names: tuple[str, ...] = ()
    ) -> None:
        seen_ids: set[str] = set()
        for index, element in enumerate(elements):
            element_path = f"{path}.{names[index]}" if names else f"{path}.elements[{index}]"
            if not isinstance(element, Mapping):
                self.add(element_path, "must be an object")
                continue
            action_id = element.get("action_id")
            if action_id is not None:
                self.unique_id(
                    f"{element_path}.action_id", action_id, ACTION_ID_MAX, seen_ids, " in block"
                )
            self.element(element_path, element)

    def element(self, path: str, element: Mapping[str, Any]) -> None:
        kind = element.get("type")
        self.text(
            f"{path}.placeholder",
            element.get("placeholder"),
            PLACEHOLDER_MAX,
            plain_only=True,
            required=False,
        )
        if "confirm" in element:
            self.confirm(f"{path}.confirm", element["confirm"])
        if kind == "button":
            self.text(f"{path}.text", element.get("text"), BUTTON_TEXT_MAX, plain_only=True)
            self.length(f"{path}.value", element.get("value"), BUTTON_VALUE_MAX)
            self.length(f"{path}.url", element.get("url"), BUTTON_URL_MAX)
        elif kind in _SELECTS_WITH_OPTIONS:
            if "options" in element and "option_groups" in element:
                self.add(path, "give options or option_groups, not both")
            options = self.items(f"{path}.options", element.get("options"), SELECT_OPTIONS_MAX)
            self.options(f"{path}.options", options, plain_only=True)
            groups = self.items(
                f"{path}.option_groups", element.get("option_groups"), SELECT_OPTION_GROUPS_MAX
            )
            for index, group in enumerate(groups or ()):
                self.option_group(f"{path}.option_groups[{index}]", group)
            self.initial_options(path, element, plain_only=True)
        elif kind == "overflow":
            options = self.items(
                f"{path}.options",
                element.get("options"),
                OVERFLOW_OPTIONS_MAX,
                min_items=OVERFLOW_OPTIONS_MIN,
            )
            self.options(f"{path}.options", options, plain_only=True)
        elif kind in _SMALL_OPTION_SETS:
            options = self.items(
                f"{path}.options", element.get("options"), _SMALL_OPTION_SETS[kind], min_items=1
            )
            self.options(f"{path}.options", options, plain_only=False)
            self.initial_options(path, element, plain_only=False)
        elif kind == "plain_text_input":
            self.bounded_int(f"{path}.max_length", element.get("max_length"), 1)
            self.bounded_int(f"{path}.min_length", element.get("min_length"), 0)
            low, high = element.get("min_length"), element.get("max_length")
            if isinstance(low, int) and isinstance(high, int) and low > high:
                self.add(path, f"min_length {low} is more than max_length {high}")
            initial = element.get("initial_value")
            if isinstance(high, int):
                self.length(f"{path}.initial_value", initial, high)
        elif kind == "image":
            self.image(path, element)
        elif not isinstance(kind, str) or not kind:
            self.add(f"{path}.type", "missing")

    def bounded_int(self, path: str, value: object, low: int) -> None:
        if value is None:
            return
        if not isinstance(value, int) or isinstance(value, bool):
            self.add(path, "must be an integer")
        elif not low <= value <= PLAIN_TEXT_INPUT_MAX_LENGTH:
            self.add(path, f"{value} is outside {low}..{PLAIN_TEXT_INPUT_MAX_LENGTH}")

    def initial_options(self, path: str, element: Mapping[str, Any], *, plain_only: bool) -> None:
        if "initial_option" in element:
            self.option(f"{path}.initial_option", element["initial_option"], plain_only=plain_only)
        initial = element.get("initial_options")
        if isinstance(initial, list):
            self.options(f"{path}.initial_options", initial, plain_only=plain_only)

    def options(self, path: str, options: list[Any] | None, *, plain_only: bool) -> None:
        for index, option in enumerate(options or ()):
            self.option(f"{path}[{index}]", option, plain_only=plain_only)

    def option(self, path: str, option: object, *, plain_only: bool) -> None:
        if not isinstance(option, Mapping):
            self.add(path, "must be an option object")
            return
        self.text(f"{path}.text", option.get("text"), OPTION_TEXT_MAX, plain_only=plain_only)
        if "value" not in option:
            self.add(f"{path}.value", "missing")
        self.length(f"{path}.value", option.get("value"), OPTION_VALUE_MAX, min_len=1)
        # Checkboxes and radio buttons take mrkdwn descriptions too (Slack's own templates do).
        self.text(
            f"{path}.description",
            option.get("description"),
            OPTION_DESCRIPTION_MAX,
            plain_only=plain_only,
            required=False,
        )
        self.length(f"{path}.url", option.get("url"), BUTTON_URL_MAX)

    def option_group(self, path: str, group: object) -> None:
        if not isinstance(group, Mapping):
            self.add(path, "must be an option group object")
            return
        self.text(f"{path}.label", group.get("label"), OPTION_GROUP_LABEL_MAX, plain_only=True)
        options = self.items(
            f"{path}.options", group.get("options"), OPTION_GROUP_OPTIONS_MAX, min_items=1
        )
        self.options(f"{path}.options", options, plain_only=True)

    def confirm(self, path: str, confirm: object) -> None:
        if not isinstance(confirm, Mapping):
            self.add(path, "must be a confirmation dialog object")
            return
        self.text(f"{path}.title", confirm.get("title"), CONFIRM_TITLE_MAX, plain_only=True)
        self.text(f"{path}.text", confirm.get("text"), CONFIRM_TEXT_MAX)
        self.text(f"{path}.confirm", confirm.get("confirm"), CONFIRM_CONFIRM_MAX, plain_only=True)
        self.text(f"{path}.deny", confirm.get("deny"), CONFIRM_DENY_MAX, plain_only=True)


def check_blocks(blocks: list[dict[str, Any]], *, surface: Surface) -> list[str]:
    """Every Block Kit limit ``blocks`` breaks on ``surface``; empty when Slack should accept it."""
    checker = _Checker()
    limit = MESSAGE_BLOCKS_MAX if surface == "message" else VIEW_BLOCKS_MAX
    checker.blocks("blocks", blocks, limit)
    return checker.problems


def _has_input_block(blocks: object) -> bool:
    return isinstance(blocks, list) and any(
        isinstance(block, Mapping) and block.get("type") == "input" for block in blocks
    )


def check_view(view: dict[str, Any]) -> list[str]:
    """Every limit a modal or Home tab view breaks, its blocks included."""
    checker = _Checker()
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.add("type", f"must be 'modal' or 'home', got {kind!r}")
    if kind == "modal":
        checker.text("title", view.get("title"), MODAL_TITLE_MAX, plain_only=True)
        # Slack refuses a modal with input blocks but no submit button.
        submit_required = _has_input_block(view.get("blocks"))
        checker.text(
            "submit",
            view.get("submit"),
            MODAL_SUBMIT_MAX,
            plain_only=True,
            required=submit_required,
        )
        checker.text("close", view.get("close"), MODAL_CLOSE_MAX, plain_only=True, required=False)
    checker.length("private_metadata", view.get("private_metadata"), PRIVATE_METADATA_MAX)
    checker.length("callback_id", view.get("callback_id"), CALLBACK_ID_MAX)
    if "blocks" not in view:
        checker.add("blocks", "missing")
    else:
        checker.blocks("blocks", view["blocks"], VIEW_BLOCKS_MAX)
    return checker.problems


def check_message(message: Mapping[str, Any]) -> list[str]:
    """Every limit a chat.postMessage / chat.update / respond payload breaks."""
    checker = _Checker()
    text, blocks, attachments = (message.get(k) for k in ("text", "blocks", "attachments"))
    if not text and not blocks and not attachments:
        checker.add("message", "needs text, blocks or attachments")
    checker.length("text", text, MESSAGE_TEXT_MAX)
    checker.items("attachments", attachments, MESSAGE_ATTACHMENTS_MAX)
    if blocks is not None:
        checker.blocks("blocks", blocks, MESSAGE_BLOCKS_MAX)
    return checker.problems
