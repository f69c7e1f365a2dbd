"""Safe mrkdwn rendering and the Block Kit limit checkers, against Slack's own data."""

import inspect
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.devtools import blockkit_checks
from bot.devtools.blockkit_checks import check_blocks, check_message, check_view
from bot.slack import limits
from bot.slack.text import (
    BROADCAST_BREAKER,
    channel_mention,
    date_text,
    escape,
    mention,
    render_user_text,
    truncate,
    unescape,
)

FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "slack"

LINE_BREAK = re.compile(r"[ \t]*[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+[ \t]*")


def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(reason=f"Slack fixtures not found at {FIXTURES}")
    return FIXTURES


# ---------------------------------------------------------------------------------------------
# text


def test_escape_makes_control_sequences_inert() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    assert unescape(escape("a &lt; <b> & c")) == "a &lt; <b> & c"


@pytest.mark.parametrize(
    ("typed", "rendered"),
    [
        ("ask <@U123ABC> please", "ask <@U123ABC> please"),
        ("ask <@U123ABC|alice> please", "ask <@U123ABC> please"),
        ("grid <@W0042|bob>", "grid <@W0042>"),
        ("see <#C0123|general>", "see <#C0123>"),
        ("legacy <#G0123>", "legacy <#G0123>"),
        # Issue 16: what Slack made of typed words reads as typed and pings nobody.
        ("<!channel> now", f"@{BROADCAST_BREAKER}channel now"),
        ("<!here|here>", f"@{BROADCAST_BREAKER}here"),
        ("<!everyone>", f"@{BROADCAST_BREAKER}everyone"),
        ("<!subteam^S123|@eng>", "@eng"),
        ("<http://evil.example|innocent>", "<http://evil.example|innocent>"),
        ("<mailto:a@b.example|boss>", "&lt;mailto:a@b.example|boss&gt;"),
        ("<@u123>", "&lt;@u123&gt;"),
        ("<@U1|<!here>>", f"&lt;@U1|@{BROADCAST_BREAKER}here&gt;"),
        ("a & b > c", "a &amp; b &gt; c"),
        ("*bold* _it_ ~s~ `code`", "*bold* _it_ ~s~ `code`"),
        ("hey @channel and @HERE, @everyone!", None),
        ("mail bob@here.example", "mail bob@here.example"),
    ],
)
def test_render_user_text(typed: str, rendered: str | None) -> None:
    if rendered is None:
        rendered = (
            f"hey @{BROADCAST_BREAKER}channel and @{BROADCAST_BREAKER}HERE, "
            f"@{BROADCAST_BREAKER}everyone!"
        )
    assert render_user_text(typed) == rendered


HOSTILE_PIECES = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^S123|@eng>",
    "<!date^1392734382^{date}|Feb 18>",
    "<@U123>",
    "<@U123|bob>",
    "<@W9|>",
    "<#C1|general>",
    "<#G77>",
    "<@u1>",
    "<@U1",
    "<#",
    "<http://evil.example|innocent>",
    "<HTTP://x>",
    "<mailto:x@y.z|x>",
    "<",
    ">",
    "|",
    "&",
    "&amp;",
    "&lt;",
    "&#60;",
    "@channel",
    "@here",
    "@everyone",
    "!",
    "@",
    BROADCAST_BREAKER,
]
hostile_text = st.lists(
    st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=8)), max_size=16
).map("".join)

LIVE_MENTION = re.compile(r"<@[UW][A-Z0-9]+>|<#[CG][A-Z0-9]+>")
ENTITY = re.compile(r"&(amp|lt|gt);")
LABELLED_MENTION = re.compile(r"<([@#][A-Z][A-Z0-9]+)\|[^<>]*>")
TYPED_LINK = re.compile(r"<https?://[^\s<>|]+(?:\|[^<>]+)?>", re.IGNORECASE)
BROADCAST_WORD = re.compile(r"(?<!\w)@(channel|here|everyone)\b", re.IGNORECASE)


def assert_safe_mrkdwn(out: str) -> None:
    assert "<!" not in out
    # A link the person typed stays a link (issue 16): whole, with a label that cannot ping.
    for link in re.findall(r"<https?://[^>]*>?", out, re.IGNORECASE):
        assert re.fullmatch(r"<https?://[^\s<>|]+(\|[^<>]+)?>", link, re.IGNORECASE), link
    assert "<mailto" not in out.lower()
    for position, char in enumerate(out):
        if char == "<":
            assert LIVE_MENTION.match(out, position) or TYPED_LINK.match(out, position), (
                out,
                position,
            )
        if char == "&":
            assert ENTITY.match(out, position), (out, position)
    assert out.count(">") == len(LIVE_MENTION.findall(out)) + len(TYPED_LINK.findall(out))
    assert not BROADCAST_WORD.search(out)


@settings(max_examples=400, deadline=None)
@given(hostile_text)
def test_render_user_text_never_renders_live_controls(typed: str) -> None:
    out = render_user_text(typed)
    assert_safe_mrkdwn(out)
    # Typed text stays on the app's line: no line break of any kind survives.
    assert len(out.splitlines()) <= 1
    # Nothing else typed is lost: readers see what was typed, minus mention labels, with each
    # line break (and the spaces around it) shown as one space.
    if "<!" in typed or re.search(r"<https?://", typed, re.IGNORECASE):
        return  # rendered as Slack shows them (issue 16); test_text_edge checks those words
    shown = unescape(out).replace(BROADCAST_BREAKER, "")
    labels_dropped = LABELLED_MENTION.sub(
        lambda m: f"<{m.group(1)}>" if LIVE_MENTION.fullmatch(f"<{m.group(1)}>") else m.group(0),
        LINE_BREAK.sub(" ", typed),
    )
    assert shown == labels_dropped.replace(BROADCAST_BREAKER, "")


@settings(max_examples=400, deadline=None)
@given(hostile_text, st.integers(min_value=0, max_value=60), st.sampled_from(["…", "...", ""]))
def test_truncate_never_exceeds_and_never_splits(typed: str, limit: int, ellipsis: str) -> None:
    rendered = render_user_text(typed)
    out = truncate(rendered, limit, ellipsis=ellipsis)
    assert len(out) <= limit
    if len(rendered) <= limit:
        assert out == rendered
    else:
        kept = out.removesuffix(ellipsis) if ellipsis else out
        assert rendered.startswith(kept)
    assert_safe_mrkdwn(out)


def test_truncate_examples() -> None:
    assert truncate("hello world", 20) == "hello world"
    assert truncate("hello world", 8) == "hello w…"
    assert truncate("hello world", 8, ellipsis="...") == "hello..."
    assert truncate("a &amp; b", 4) == "a…"
    assert truncate("ask <@U123456> now", 12) == "ask…"
    assert truncate("abcdef", 1) == "a"
    assert truncate("abcdef", 0) == ""


def test_mentions_and_dates() -> None:
    assert mention("U123") == "<@U123>"
    assert mention("W42") == "<@W42>"
    assert channel_mention("C0AB") == "<#C0AB>"
    for bad in ("", "U1>", "<!here>", "u1", "C1"):
        with pytest.raises(ValueError):
            mention(bad)
    with pytest.raises(ValueError):
        channel_mention("C1|x")
    assert date_text(date(2026, 11, 27)) == "Fri 27 Nov 2026"
    assert date_text(date(2024, 2, 29)) == "Thu 29 Feb 2024"
    assert date_text(date(2027, 1, 3)) == "Sun 3 Jan 2027"


# ---------------------------------------------------------------------------------------------
# limit constants against the fixture


def limit_constants() -> dict[str, int]:
    """The renderers' fitting limits and the test checks' own, by name."""
    return {
        name: value
        for module in (limits, blockkit_checks)
        for name, value in inspect.getmembers(module)
        if name.isupper() and isinstance(value, int)
    }


# (fixture "what", key inside a dict value or None) -> names of constants carrying that value
FIXTURE_NAMES: dict[tuple[str, str | None], tuple[str, ...]] = {
    ("message.blocks", None): ("MESSAGE_BLOCKS_MAX",),
    ("view(modal|home).blocks", None): ("VIEW_BLOCKS_MAX",),
    ("modal title / submit / close (plain_text)", None): (
        "MODAL_TITLE_MAX",
        "MODAL_SUBMIT_MAX",
        "MODAL_CLOSE_MAX",
    ),
    ("view.private_metadata", None): ("PRIVATE_METADATA_MAX",),
    ("section.text", None): ("SECTION_TEXT_MAX",),
    ("section.fields", None): ("SECTION_FIELDS_MAX",),
    ("section.fields[].text", None): ("SECTION_FIELD_TEXT_MAX",),
    ("text object (plain_text/mrkdwn).text", None): ("TEXT_OBJECT_MAX",),
    ("header.text", None): ("HEADER_TEXT_MAX",),
    ("markdown block.text", None): ("MARKDOWN_BLOCKS_TEXT_MAX",),
    ("actions.elements", None): ("ACTIONS_ELEMENTS_MAX",),
    ("context.elements", None): ("CONTEXT_ELEMENTS_MAX",),
    ("input.label / input.hint", None): ("INPUT_LABEL_MAX", "INPUT_HINT_MAX"),
    ("button text / value / url", "text"): ("BUTTON_TEXT_MAX",),
    ("button text / value / url", "value"): ("BUTTON_VALUE_MAX",),
    ("option.text / option.value", "text"): ("OPTION_TEXT_MAX",),
    ("option.text / option.value", "value"): ("OPTION_VALUE_MAX",),
    ("option_group.label / options", "label_chars"): ("OPTION_GROUP_LABEL_MAX",),
    ("checkboxes / radio_buttons options", None): (
        "CHECKBOXES_OPTIONS_MAX",
        "RADIO_BUTTONS_OPTIONS_MAX",
    ),
    ("placeholder (select/input)", None): ("PLACEHOLDER_MAX",),
    ("confirm dialog title/text/confirm/deny", "title"): ("CONFIRM_TITLE_MAX",),
    ("confirm dialog title/text/confirm/deny", "text"): ("CONFIRM_TEXT_MAX",),
    ("confirm dialog title/text/confirm/deny", "confirm"): ("CONFIRM_CONFIRM_MAX",),
    ("confirm dialog title/text/confirm/deny", "deny"): ("CONFIRM_DENY_MAX",),
    ("table block", "rows"): ("TABLE_ROWS_MAX",),
    ("table block", "cells_per_row"): ("TABLE_CELLS_PER_ROW_MAX",),
    ("message.attachments", None): ("MESSAGE_ATTACHMENTS_MAX",),
    ("chat.postMessage text", None): ("MESSAGE_TEXT_MAX",),
}
# Values the fixture gives only in a note: (fixture "what", regex on the note) -> constant.
FIXTURE_NOTE_NAMES: dict[tuple[str, str], str] = {
    ("option.text / option.value", r"option\.description: (\d+)"): "OPTION_DESCRIPTION_MAX",
    ("overflow options", r"min (\d+)"): "OVERFLOW_OPTIONS_MIN",
}
# Limits the fixture does not list; blockkit_checks.py says where each comes from.
NOT_IN_FIXTURE = {"PLAIN_TEXT_INPUT_MAX_LENGTH": 3000}


def test_every_limit_constant_matches_the_fixture() -> None:
    data = json.loads((fixtures_dir() / "specs" / "block_kit_limits.json").read_text())
    by_what = {entry["what"]: entry for entry in data["limits"]}
    expected: dict[str, int] = dict(NOT_IN_FIXTURE)
    for (what, key), names in FIXTURE_NAMES.items():
        value = by_what[what]["value"]
        for name in names:
            expected[name] = value[key] if key else value
    for (what, pattern), name in FIXTURE_NOTE_NAMES.items():
        found = re.search(pattern, by_what[what]["notes"])
        assert found, (what, pattern)
        expected[name] = int(found.group(1))
    constants = limit_constants()
    assert constants, "no limit constants found"
    assert {name: expected.get(name) for name in constants} == constants


# ---------------------------------------------------------------------------------------------
# checkers


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def section(text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text), **extra}


def button(**extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain("Go"), "action_id": "go", **extra}


def option(text: str = "one", value: str = "1", **extra: Any) -> dict[str, Any]:
    return {"text": plain(text), "value": value, **extra}


def options(n: int) -> list[dict[str, Any]]:
    return [option(f"o{i}", str(i)) for i in range(n)]


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements)}


def modal(blocks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Title"), "blocks": blocks, **extra}


# What slack_sdk's models refuse (its own wording, with a path), then the rules
# bot/devtools/blockkit_checks.py adds because slack_sdk does not check them.
VIOLATIONS: list[tuple[str, list[dict[str, Any]], str]] = [
    ("section text", [section("x" * 3001)], "blocks[0]: text attribute cannot exceed 3000"),
    ("section without text", [{"type": "section"}], "text or fields attribute must be specified"),
    (
        "section fields count",
        [{"type": "section", "fields": [mrkdwn("f")] * 11}],
        "blocks[0]: fields attribute cannot exceed 10 items",
    ),
    (
        "header length",
        [{"type": "header", "text": plain("h" * 151)}],
        "text attribute cannot exceed 150",
    ),
    (
        "context count",
        [{"type": "context", "elements": [mrkdwn("c")] * 11}],
        "blocks[0]: elements attribute cannot exceed 10 elements",
    ),
    (
        "actions count",
        [actions(*[button(action_id=f"b{i}") for i in range(26)])],
        "elements attribute cannot exceed 25 elements",
    ),
    (
        "block_id length",
        [section(block_id="b" * 256)],
        "blocks[0]: block_id cannot exceed 255 characters",
    ),
    (
        "action_id length",
        [actions(button(action_id="a" * 256))],
        "blocks[0].elements[0]: action_id attribute cannot exceed 255",
    ),
    (
        "button text",
        [actions(button(text=plain("t" * 76)))],
        "blocks[0].elements[0]: text attribute cannot exceed 75",
    ),
    (
        "button value",
        [actions(button(value="v" * 2001))],
        "blocks[0].elements[0]: value attribute cannot exceed 2000",
    ),
    (
        "button url",
        [actions(button(url="u" * 3001))],
        "blocks[0].elements[0]: url attribute cannot exceed 3000",
    ),
    (
        "button confirm",
        [
            actions(
                button(
                    confirm={
                        "title": plain("t" * 101),
                        "text": mrkdwn("x" * 301),
                        "confirm": plain("c" * 31),
                        "deny": plain("d" * 31),
                    }
                )
            )
        ],
        "blocks[0].elements[0].confirm: title attribute cannot exceed 100",
    ),
    (
        "select options count",
        [section(accessory={"type": "static_select", "action_id": "s", "options": options(101)})],
        "blocks[0].accessory: options attribute cannot exceed 100",
    ),
    (
        "option groups options",
        [
            section(
                accessory={
                    "type": "multi_static_select",
                    "option_groups": [{"label": plain("l"), "options": options(101)}],
                }
            )
        ],
        "blocks[0].accessory.option_groups[0]: options attribute cannot exceed 100",
    ),
    (
        "placeholder",
        [section(accessory={"type": "users_select", "placeholder": plain("p" * 151)})],
        "blocks[0].accessory: placeholder attribute cannot exceed 150",
    ),
    (
        "overflow too many",
        [section(accessory={"type": "overflow", "options": options(6)})],
        "blocks[0].accessory: options attribute must have between 1 and 5 items",
    ),
    (
        "input label",
        [{"type": "input", "label": plain("l" * 2001), "element": {"type": "plain_text_input"}}],
        "blocks[0]: label attribute cannot exceed 2000",
    ),
    (
        "input hint",
        [
            {
                "type": "input",
                "label": plain("l"),
                "hint": plain("h" * 2001),
                "element": {"type": "plain_text_input"},
            }
        ],
        "blocks[0]: hint attribute cannot exceed 2000",
    ),
    ("input element", [{"type": "input", "label": plain("l")}], "argument: 'element'"),
    (
        "image",
        [
            {
                "type": "image",
                "image_url": "u" * 3001,
                "alt_text": "a" * 2001,
                "title": plain("t" * 2001),
            }
        ],
        "blocks[0]: image_url attribute cannot exceed 3000",
    ),
    ("image alt", [{"type": "image", "image_url": "https://x"}], "argument: 'alt_text'"),
    # Not slack_sdk's: payload-wide rules.
    ("message block count", [section()] * 51, "blocks: 51 items, more than 50"),
    (
        "duplicate block_id",
        [section(block_id="a"), section(block_id="a")],
        "blocks[1].block_id: duplicate 'a'",
    ),
    (
        "duplicate action_id",
        [actions(button(), button())],
        "blocks[0].elements[1].action_id: duplicate 'go' in block",
    ),
    (
        "markdown total",
        [{"type": "markdown", "text": "m" * 7000}, {"type": "markdown", "text": "m" * 5001}],
        "markdown blocks hold 12001 characters",
    ),
    ("block without type", [{"text": mrkdwn("x")}], "blocks[0].type: missing or unknown"),
    ("unknown block type", [{"type": "sectoin"}], "blocks[0].type: missing or unknown"),
    # Not slack_sdk's: per-object limits its models do not check.
    ("empty section text", [section("")], "blocks[0].text.text: 0 characters, fewer than 1"),
    (
        "section field text",
        [{"type": "section", "fields": [mrkdwn("f"), mrkdwn("y" * 2001)]}],
        "blocks[0].fields[1].text: 2001 characters, more than 2000",
    ),
    (
        "text object type",
        [{"type": "section", "text": {"type": "html", "text": "x"}}],
        "blocks[0].text.type: must be plain_text or mrkdwn, got 'html'",
    ),
    (
        "header mrkdwn",
        [{"type": "header", "text": mrkdwn("h")}],
        "blocks[0].text.type: must be plain_text, got 'mrkdwn'",
    ),
    (
        "button text mrkdwn",
        [actions(button(text=mrkdwn("Go")))],
        "blocks[0].elements[0].text.type: must be plain_text",
    ),
    (
        "context empty",
        [{"type": "context", "elements": []}],
        "blocks[0].elements: 0 items, fewer than 1",
    ),
    ("actions empty", [actions()], "blocks[0].elements: 0 items, fewer than 1"),
    (
        "option text",
        [section(accessory={"type": "static_select", "options": [option("t" * 76)]})],
        "blocks[0].accessory.options[0].text.text: 76 characters, more than 75",
    ),
    (
        "option value",
        [section(accessory={"type": "static_select", "options": [option(value="v" * 151)]})],
        "blocks[0].accessory.options[0].value: 151 characters, more than 150",
    ),
    (
        "option description",
        [
            section(
                accessory={
                    "type": "static_select",
                    "options": [option(description=plain("d" * 76))],
                }
            )
        ],
        "blocks[0].accessory.options[0].description.text: 76 characters, more than 75",
    ),
    (
        "select option text mrkdwn",
        [
            section(
                accessory={
                    "type": "static_select",
                    "options": [{"text": mrkdwn("a"), "value": "a"}],
                }
            )
        ],
        "blocks[0].accessory.options[0].text.type: must be plain_text, got 'mrkdwn'",
    ),
    (
        "option group label",
        [
            section(
                accessory={
                    "type": "static_select",
                    "option_groups": [{"label": plain("l" * 76), "options": options(1)}],
                }
            )
        ],
        "blocks[0].accessory.option_groups[0].label.text: 76 characters, more than 75",
    ),
    (
        "option group option text",
        [
            section(
                accessory={
                    "type": "static_select",
                    "option_groups": [{"label": plain("l"), "options": [option("t" * 76)]}],
                }
            )
        ],
        "blocks[0].accessory.option_groups[0].options[0].text.text: 76 characters",
    ),
    (
        "initial option",
        [
            section(
                accessory={
                    "type": "static_select",
                    "options": options(2),
                    "initial_option": option("i" * 80),
                }
            )
        ],
        "blocks[0].accessory.initial_option.text.text: 80 characters, more than 75",
    ),
    (
        "overflow option text",
        [section(accessory={"type": "overflow", "options": [option("t" * 76), option()]})],
        "blocks[0].accessory.options[0].text.text: 76 characters, more than 75",
    ),
    (
        "radio option value",
        [
            actions(
                {"type": "radio_buttons", "action_id": "r", "options": [option(value="v" * 151)]}
            )
        ],
        "blocks[0].elements[0].options[0].value: 151 characters, more than 150",
    ),
    (
        "overflow too few",
        [section(accessory={"type": "overflow", "options": options(1)})],
        "blocks[0].accessory.options: 1 items, fewer than 2",
    ),
    (
        "checkboxes",
        [actions({"type": "checkboxes", "action_id": "c", "options": options(11)})],
        "blocks[0].elements[0].options: 11 items, more than 10",
    ),
    (
        "radio buttons",
        [actions({"type": "radio_buttons", "action_id": "r", "options": options(11)})],
        "blocks[0].elements[0].options: 11 items, more than 10",
    ),
    (
        "placeholder mrkdwn",
        [section(accessory={"type": "users_select", "placeholder": mrkdwn("p")})],
        "blocks[0].accessory.placeholder.type: must be plain_text",
    ),
    (
        "plain_text_input max_length",
        [
            {
                "type": "input",
                "label": plain("l"),
                "element": {"type": "plain_text_input", "max_length": 3001},
            }
        ],
        "blocks[0].element.max_length: 3001 is outside 1..3000",
    ),
    (
        "plain_text_input min over max",
        [
            {
                "type": "input",
                "label": plain("l"),
                "element": {"type": "plain_text_input", "min_length": 5, "max_length": 3},
            }
        ],
        "blocks[0].element: min_length 5 is more than max_length 3",
    ),
    (
        "plain_text_input initial value",
        [
            {
                "type": "input",
                "label": plain("l"),
                "element": {"type": "plain_text_input", "max_length": 3, "initial_value": "four"},
            }
        ],
        "blocks[0].element.initial_value: 4 characters, more than 3",
    ),
    (
        "input label mrkdwn",
        [{"type": "input", "label": mrkdwn("l"), "element": {"type": "plain_text_input"}}],
        "blocks[0].label.type: must be plain_text",
    ),
    (
        "table cells",
        [{"type": "table", "rows": [[{"type": "raw_text", "text": "c"}] * 21]}],
        "blocks[0].rows[0]: 21 items, more than 20",
    ),
    (
        "table rows",
        [{"type": "table", "rows": [[{"type": "raw_text", "text": "c"}]] * 101}],
        "blocks[0].rows: 101 items, more than 100",
    ),
]


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [pytest.param(blocks, expected, id=name) for name, blocks, expected in VIOLATIONS],
)
def test_check_blocks_finds_each_violation(blocks: list[dict[str, Any]], expected: str) -> None:
    problems = check_blocks(blocks, surface="message")
    assert any(expected in problem for problem in problems), problems


def test_check_blocks_reports_every_violation_not_just_the_first() -> None:
    blocks = [
        section("x" * 3001, block_id="b" * 300),
        actions(button(value="v" * 2001, text=plain("t" * 80))),
    ]
    assert len(check_blocks(blocks, surface="home")) == 4


def test_view_surfaces_allow_100_blocks_messages_50() -> None:
    blocks = [{"type": "divider"}] * 100
    assert check_blocks(blocks, surface="modal") == []
    assert check_blocks(blocks, surface="home") == []
    assert check_blocks(blocks, surface="message") == ["blocks: 100 items, more than 50"]
    assert check_blocks([*blocks, {"type": "divider"}], surface="home") == [
        "blocks: 101 items, more than 100"
    ]


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (modal([section()], title=plain("t" * 25)), "view: title must be between 1 and 24"),
        (modal([section()], submit=plain("s" * 25)), "view: submit cannot exceed 24"),
        (modal([section()], close=plain("c" * 25)), "view: close cannot exceed 24"),
        ({"type": "modal", "blocks": [section()]}, "title: missing"),
        (modal([section()], title=mrkdwn("t")), "title.type: must be plain_text, got 'mrkdwn'"),
        (
            modal([{"type": "input", "label": plain("l"), "element": {"type": "datepicker"}}]),
            "submit: missing",
        ),
        (modal([section()], private_metadata="p" * 3001), "private_metadata cannot exceed 3000"),
        (modal([section()], callback_id="c" * 256), "view: callback_id cannot exceed 255"),
        ({"type": "workflow_step", "blocks": []}, "type: must be 'modal' or 'home'"),
        ({"type": "home"}, "view: views must contain between 1 and 100 blocks"),
        ({"type": "home", "blocks": [section()] * 101}, "views must contain between 1 and 100"),
        ({"type": "home", "blocks": [section("x" * 3001)]}, "blocks[0]: text attribute cannot"),
    ],
)
def test_check_view_finds_each_violation(view: dict[str, Any], expected: str) -> None:
    problems = check_view(view)
    assert any(expected in problem for problem in problems), problems


def test_check_message() -> None:
    assert check_message({"text": "hi", "blocks": [section()]}) == []
    assert check_message({}) == ["message: needs text, blocks or attachments"]
    assert check_message({"text": "t" * 40_001}) == ["text: 40001 characters, more than 40000"]
    assert check_message({"text": "x", "blocks": [section()] * 51}) == [
        "blocks: 51 items, more than 50"
    ]


def view_fixtures() -> list[Path]:
    block_kit = FIXTURES / "block_kit"
    return sorted(
        [
            *block_kit.glob("python_slack_sdk_views/*.json"),
            *block_kit.glob("java_bolt_servlet_test_resources/views__*.json"),
        ]
    )


def test_view_fixtures_are_present() -> None:
    fixtures_dir()
    assert len(view_fixtures()) >= 20


@pytest.mark.parametrize("path", view_fixtures(), ids=lambda p: p.name)
def test_slack_view_fixtures_pass(path: Path) -> None:
    view = json.loads(path.read_text())
    assert check_view(view) == []
    assert check_blocks(view["blocks"], surface=view["type"]) == []
