"""Domain errors carry a code and the facts; the Slack layer words them (bot/slack/wording.py).

Read from the source: every error a converted domain package makes names a ``code`` that has
words, with exactly the facts those words take, and no domain error's text carries Slack
markup or command syntax. The words themselves are the ones the end-to-end tests assert.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

from bot.cadence.config import InvalidSettings
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound, UserError
from bot.slack.errors import FormError, on_field
from bot.slack.wording import WORDS, words_for

BOT = Path(__file__).resolve().parents[1] / "bot"
ERRORS = {"UserError", "InvalidInput", "NotFound", "Forbidden", "Conflict"}
#: Packages whose errors are all codes and facts.
CONVERTED = (
    "decisions",
    "meetings",
    "timeoff",
    "calendars",
    "nudges",
    "workspaces",
    "validation",
    "cadence",
)
#: Domain code outside bot/slack whose errors are still made from a message. Their messages
#: may not gain markup either, except the packages named here, which still have some.
DOMAIN = sorted(
    p for p in BOT.rglob("*.py") if "slack" not in p.parts and "migrations" not in p.parts
)
STILL_WITH_MARKUP: set[str] = set()

#: Backticks, a mention, *bold*, a slash command.
MARKUP = re.compile(r"`|<@|<#|<!|(?<!\w)\*\w[^*]*\*(?!\w)|(?<![\w/])/(decision|meeting|outcome)\b")


def error_calls(path: Path) -> Iterator[ast.Call]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in ERRORS:
                yield node


def texts_in(call: ast.Call) -> Iterator[str]:
    for node in ast.walk(call):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value


def package_of(path: Path) -> str:
    parts = path.relative_to(BOT).parts
    return parts[0] if len(parts) > 1 else path.stem


def test_the_markup_pattern_sees_slack_syntax() -> None:
    for marked in ("`/decision list all`", "<@U1>", "*bold*", "use /decision new", "<#C1>"):
        assert MARKUP.search(marked), marked
    for plain in ("D-12 is already open.", "put a quote after the phrase", "2 * 3", "and/or"):
        assert not MARKUP.search(plain), plain


def test_converted_packages_raise_codes_with_words_and_their_facts() -> None:
    problems, raised = [], set()
    for path in DOMAIN:
        if package_of(path) not in CONVERTED:
            continue
        for call in error_calls(path):
            where = f"{path.relative_to(BOT.parent)}:{call.lineno}"
            keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
            code = keywords.pop("code", None)
            if call.args or not isinstance(code, ast.Constant) or not isinstance(code.value, str):
                problems.append(f"{where}: made from a message, not code=... and facts")
                continue
            raised.add(code.value)
            if code.value not in WORDS:
                problems.append(f"{where}: {code.value!r} has no words in bot/slack/wording.py")
                continue
            try:
                inspect.signature(WORDS[code.value]).bind(**dict.fromkeys(keywords))
            except TypeError as exc:
                problems.append(f"{where}: {code.value!r} facts do not fit its words ({exc})")
    assert not problems, "\n".join(problems)
    domains = {c.split(".")[0] for c in raised}
    unused = sorted(c for c in WORDS if c.split(".")[0] in domains and c not in raised)
    assert not unused, f"words for codes nothing raises: {unused}"


def test_no_domain_error_text_carries_slack_markup() -> None:
    marked = {}
    for path in DOMAIN:
        for call in error_calls(path):
            for text in texts_in(call):
                if MARKUP.search(text):
                    marked.setdefault(package_of(path), []).append(
                        f"{path.relative_to(BOT.parent)}:{call.lineno}: {text!r}"
                    )
    unexpected = {p: lines for p, lines in marked.items() if p not in STILL_WITH_MARKUP}
    assert not unexpected, "domain errors speak Slack:\n" + "\n".join(
        line for lines in unexpected.values() for line in lines
    )
    # Converted packages leave the list (and must: the test says when one is done).
    assert set(marked) == STILL_WITH_MARKUP


def test_the_slack_layer_words_a_code_and_says_a_message_as_it_is() -> None:
    missing = NotFound(code="decision.not_found", number=12)
    assert missing.code == "decision.not_found" and missing.facts == {"number": 12}
    assert "`" not in missing.message and "<@" not in missing.message
    assert words_for(missing) == (
        "There is no D-12 in this workspace. `/decision list all` shows them."
    )
    assert words_for(
        Forbidden(code="decision.may_not_change", ref="D-3", owner="U1", creator="U1")
    ) == ("Only <@U1> (who owns and recorded D-3) or a workspace admin can change it.")
    assert (
        words_for(Conflict(code="decision.not_open", ref="D-3", status="dropped", doing="dropped"))
        == "D-3 is already dropped. Use `/decision reopen D-3` first."
    )
    assert words_for(UserError("Plain words.")) == "Plain words."
    # A refusal beside a modal's field is worded the same way.
    try:
        with on_field("title"):
            raise Conflict(code="decision.same_title", ref="D-4")
    except FormError as caught:
        assert caught.errors == {"title": "D-4 already has that title."}


def test_the_remaining_domains_are_worded_as_before() -> None:
    assert words_for(InvalidInput(code="snooze.not_offered", days=2)) == (
        "A reminder can be snoozed for 1 day, 3 days or 1 week; pick one of those."
    )
    assert words_for(Conflict(code="action.snooze_done", number=7)) == (
        "A-7 is already done, so there is nothing to snooze."
    )
    assert words_for(InvalidInput(code="text.too_long", what="title", length=201, limit=200)) == (
        "The title is 201 characters long; the limit is 200. "
        "Please shorten it (details can go in a follow-up message)."
    )
    assert words_for(InvalidInput(code="text.empty", what="reason")) == (
        "The reason is empty. Please write a few words."
    )
    assert words_for(Forbidden(code="settings.not_admin")).endswith(
        "Ask one of them to run `/hygiene settings`."
    )
    assert words_for(InvalidInput(code="settings.not_here", keys=["a", "b"])) == (
        "These settings cannot be changed here: a, b."
    )


def test_invalid_settings_are_worded_one_or_as_a_list() -> None:
    one = InvalidSettings(["timezone: no such zone"], {"timezone": "no such zone"})
    assert one.code == "cadence.invalid_settings" and "timezone" not in one.message
    assert words_for(one) == "That setting is not valid. timezone: no such zone"
    two = InvalidSettings(["a: bad", "b: worse"], {"a": "bad", "b": "worse"})
    assert words_for(two) == "Those settings are not valid:\n• a: bad\n• b: worse"


def test_every_domain_error_is_a_code_now() -> None:
    """No domain package (outside bot/slack) makes an error from a message any more."""
    made_from_messages = [
        f"{path.relative_to(BOT.parent)}:{call.lineno}"
        for path in DOMAIN
        for call in error_calls(path)
        if call.args
    ]
    assert not made_from_messages
