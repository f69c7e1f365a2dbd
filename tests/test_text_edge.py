"""Text is checked at the edge, the same way on both engines.

The attack run: a NUL byte was "Sorry, something went wrong" on PostgreSQL (and stored on
SQLite), a lone surrogate in modal text was HTTP 500 on both, and a title over several lines drew
fake lines in a card ("*D-99* :white_check_mark: decided by @admin"). Now NUL and lone
surrogates are refused with one friendly message before anything is stored (never stripped
silently), titles are stored on one line, and typed text never starts a line of its own.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.decisions.models import Decision
from bot.meetings.models import Meeting
from bot.slack.ids import Block as BlockId
from bot.slack.parsing.unstorable import UNSTORABLE_TEXT, find_unstorable
from bot.slack.text import render_user_paragraphs, render_user_text
from tests.conftest import AppEnv
from tests.test_meetings_e2e import latest_view, posts

FAKE_LINE = "*D-99* :white_check_mark: decided by @admin"


async def count(env: AppEnv, model: type) -> int:
    async with env.deps.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def only_decision(env: AppEnv) -> Decision:
    async with env.deps.db.transaction() as session:
        found = await session.scalar(select(Decision))
    assert found is not None
    return found


def json_body(payload: dict[str, Any]) -> str:
    """A payload as Slack sends it: JSON (here with ``\\u`` escapes) in a form field."""
    return urlencode({"payload": json.dumps(payload)})


@pytest.mark.parametrize("bad", ["\x00", "a\x00b"])
@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/decision", "new Ship {bad} it"),
        ("/meeting", "start Standup {bad}"),
        ("/decision", "decide D-1 Yes{bad}"),
    ],
)
async def test_a_nul_in_a_command_is_refused_and_nothing_is_stored(
    app_env: AppEnv, bad: str, command: str, text: str
) -> None:
    answer = (await app_env.command(command, text.format(bad=bad))).json()
    assert answer == {"response_type": "ephemeral", "text": UNSTORABLE_TEXT}
    assert await count(app_env, Decision) == 0 and await count(app_env, Meeting) == 0
    assert app_env.fake.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("bad", ["\ud800", "\udfff", "\x00"])
async def test_unstorable_text_in_a_modal_is_shown_beside_its_field(
    app_env: AppEnv, bad: str
) -> None:
    await app_env.command("/decision", "")
    view = latest_view(app_env)
    payload = app_env.driver.view_submission_payload(
        view,
        {
            BlockId.TITLE: {"type": "plain_text_input", "value": f"Hire{bad}"},
            BlockId.CONTEXT: {"type": "plain_text_input", "value": "fine"},
        },
        user_id="U1",
    )
    response = await app_env.interact(app_env.driver.post(json_body(payload)))
    assert response.status_code == 200
    assert response.json() == {
        "response_action": "errors",
        "errors": {BlockId.TITLE: UNSTORABLE_TEXT},
    }
    assert await count(app_env, Decision) == 0


async def test_a_lone_surrogate_in_a_button_or_a_shortcut_is_refused(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    press = app_env.driver.block_action_payload(
        action={"action_id": "decision_drop", "block_id": "b", "type": "button", "value": "\ud83d"},
        user_id="U1",
        channel_id="C1",
    )
    await app_env.interact(app_env.driver.post(json_body(press)))
    shortcut = app_env.driver.message_shortcut_payload(
        "record_decision",
        user_id="U1",
        channel_id="C1",
        message={"ts": "1700000000.000200", "user": "U2", "text": "broken \ud83d emoji"},
    )
    await app_env.interact(app_env.driver.post(json_body(shortcut)))
    told = [post.body.get("text") for post in app_env.fake.responses]
    assert told.count(UNSTORABLE_TEXT) == 2
    assert (await only_decision(app_env)).status == "open"
    assert app_env.fake.calls_to("views.open") == []


async def test_a_whole_emoji_and_other_unusual_text_is_stored_as_typed(app_env: AppEnv) -> None:
    title = "Ship \U0001f680 \u00e9t\u00e9 \u202e\u2066 \x01 end"
    await app_env.command("/decision", f"new {title}")
    assert (await only_decision(app_env)).title == title


@pytest.mark.parametrize(
    "title",
    [
        f"Pick a vendor\n{FAKE_LINE}",
        f"Pick a vendor\r\n{FAKE_LINE}",
        f"Pick a vendor\u2028{FAKE_LINE}",
        f"Pick a vendor\u2029\x0b\x0c\x85{FAKE_LINE}",
    ],
)
async def test_a_title_is_one_line_wherever_it_comes_from(app_env: AppEnv, title: str) -> None:
    await app_env.command("/decision", f"new {title}")
    await app_env.command("/decision", "")
    view = latest_view(app_env)
    typed = {BlockId.TITLE: {"type": "plain_text_input", "value": title}}
    first = await app_env.interact(app_env.driver.submit(view, typed, user_id="U1"))
    # The same title again: the modal first asks whether it repeats D-1; it is a different one.
    warned = first.json()["view"]
    different = {"type": "radio_buttons", "selected_option": {"value": "different"}}
    await app_env.interact(
        app_env.driver.submit(warned, {**typed, BlockId.REPEAT_CONFIRM: different}, user_id="U1")
    )
    await app_env.command("/meeting", f"start {title}")
    async with app_env.deps.db.transaction() as session:
        titles = [*await session.scalars(select(Decision.title))]
        titles += [*await session.scalars(select(Meeting.title))]
    assert titles == [f"Pick a vendor {FAKE_LINE}"] * 3
    for post in posts(app_env):
        for line in json.dumps(post).replace("\\n", "\n").splitlines():
            assert not line.lstrip('"').startswith("*D-99*"), line


async def test_typed_lines_in_a_resolution_cannot_pass_for_the_apps(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    resolution = f"Acme\n{FAKE_LINE}"
    announced = (await app_env.command("/decision", f"decide D-1 {resolution}")).json()
    assert "\n" not in announced["text"]
    [card_update] = [c.params for c in app_env.fake.calls_to("chat.update")]
    shown = json.dumps(card_update["blocks"])
    assert ">Acme\\n>*D-99*" in shown and "\\n*D-99*" not in shown


def test_renderers_fold_or_quote_every_line_break() -> None:
    shown = FAKE_LINE
    assert render_user_text(f"a\n{FAKE_LINE}") == f"a {shown}"
    assert render_user_paragraphs(f"a\n\n{FAKE_LINE}\n> not a quote") == (
        f">a\n>{shown}\n>&gt; not a quote"
    )


def test_find_unstorable_walks_deep_payloads_without_recursion() -> None:
    deep: Any = "fine"
    for _ in range(50_000):
        deep = [deep]
    assert find_unstorable({"a": deep}) is None
    deep = "bad\x00"
    for _ in range(50_000):
        deep = {"k": deep}
    found = find_unstorable(deep)
    assert found is not None and len(found.path) == 50_000
    view = {"view": {"state": {"values": {"title": {"input": {"value": "\ud800"}}}}}}
    hit = find_unstorable(view)
    assert hit is not None and hit.view_block == "title"


# --- issue 16 point 3: user text renders as typed, nothing pings a group ----------------------

_BROADCAST_OR_GROUP = ("<!here", "<!channel", "<!everyone", "<!subteam")


def test_typed_entities_render_as_typed() -> None:
    assert render_user_text("Ship <!here> @here") == "Ship @\u2060here @\u2060here"
    assert render_user_text("see <https://docs.example.com/rfc/42>") == (
        "see <https://docs.example.com/rfc/42>"
    )
    assert render_user_text("*bold* … <https://evil.example|click me>") == (
        "*bold* … <https://evil.example|click me>"
    )
    assert render_user_text("<!subteam^S1|@team> <@U1|ana> <#C1|general>") == "@team <@U1> <#C1>"


@given(
    st.lists(
        st.one_of(
            st.text(alphabet="<>|!@&^*_~ abhtps:/.#UC1", max_size=12),
            st.sampled_from(
                [
                    "<!here>",
                    "<!channel|channel>",
                    "<!everyone>",
                    "<!subteam^S1|@team>",
                    "@here",
                    "<https://a.example|a <b>",
                    "<https://a.example|<!here>>",
                    "<https://a.example>",
                    "<@U1>",
                    "<#C1|x>",
                    "<!date^1^{date}|x>",
                ]
            ),
        ),
        max_size=8,
    ).map("".join)
)
def test_hostile_text_never_pings_a_group_and_never_garbles(text: str) -> None:
    rendered = render_user_text(text)
    assert not any(bad in rendered for bad in _BROADCAST_OR_GROUP)
    assert re.search(r"(?<!\w)@(here|channel|everyone)", rendered, re.I) is None
    # Every "<" opens a mention or a link and closes it before any other "<": nothing garbled.
    for entity in re.findall(r"<[^>]*>?", rendered):
        assert re.fullmatch(
            r"<(@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|https?://[^\s<>|]+(\|[^<>]+)?)>", entity, re.I
        ), entity
    # Words typed outside entities are still there, as typed.
    plain = re.sub(r"<[^>]*>", " ", text)
    for word in re.findall(r"[a-z]{3,}", plain):
        assert word in rendered.replace("\u2060", "")
