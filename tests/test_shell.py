"""The local sandbox: Block Kit rendered as text, typed input turned into Slack's payloads, and
scripted sessions (the demo week among them) through the real app, database and worker tick.

The sandbox always runs on a SQLite file, so its sessions run on SQLite only; the pure parts need
no database at all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.models.blocks import (
    ButtonElement,
    ImageBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.blocks.basic_components import Option

from bot.cli import main
from bot.shell import render
from bot.shell.command import clock_source
from bot.shell.forms import (
    FieldProblem,
    command_text,
    initial_state,
    parse_duration,
    typed_state,
)
from bot.shell.render import Control, labelled, mrkdwn, render_blocks, render_message, render_view
from bot.shell.sandbox import Sandbox
from bot.shell.script import ScriptError, parse_script, run_script
from bot.shell.session import (
    Cancelled,
    FieldPrompt,
    Shell,
    action_for,
    find_control,
    state_text,
    tick_moments,
)
from bot.shell.terminal import PromptedReplies
from bot.shell.world import ANA, BEN, GENERAL, LEADS, START, World, demo_cadence
from bot.slack.blocks.decisions import new_decision_modal
from bot.slack.blocks.kit import actions, button, context, divider, header, plain, section
from tests.conftest import ROOT, slack_fixture

WORLD = World()
BERLIN = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 11, 23)


# --- rendering ---------------------------------------------------------------------------------


def test_mrkdwn_reads_like_the_slack_client_shows_it() -> None:
    text = (
        "<@U0ANA> asked <@U0BEN|benny> in <#C0GENERAL> and <#C9|elsewhere>: "
        "&lt;b&gt; &amp; <https://x.example/p|the plan> <https://y.example> <!here> "
        "<!subteam^S1|@leads> <!date^1700000000^{date}|Nov 14> <@UNKNOWN>"
    )
    assert mrkdwn(text, WORLD) == (
        "@ana asked @ben in #general and #elsewhere: <b> & the plan (https://x.example/p) "
        "https://y.example @here @leads Tue 14 Nov 2023 @UNKNOWN"
    )


def test_mrkdwn_keeps_formatting_and_plain_text_stays_as_typed() -> None:
    assert mrkdwn("*D-1* · _soon_ ~no~ `code`", WORLD) == "*D-1* · _soon_ ~no~ `code`"
    assert render.plain_or_mrkdwn({"type": "plain_text", "text": "<@U0ANA>"}, WORLD) == "<@U0ANA>"


def test_a_card_renders_header_fields_context_and_numbered_controls() -> None:
    blocks = [
        header("Weekly digest"),
        section(
            "*D-1* · Pick a vendor", fields=["*Owner*\n<@U0BEN>", "*Due*\nFri", "*Status*\nOpen"]
        ),
        context("Recorded by <@U0ANA>", "in <#C0GENERAL>"),
        divider(),
        actions(
            button("Decide", action_id="decide", value="1"),
            UserSelectElement(action_id="reassign", placeholder=plain("Reassign…")),
            button("Drop", action_id="drop", value="1"),
            block_id="decision:1:card",
        ),
        ImageBlock(image_url="https://x.example/c.png", alt_text="trend chart").to_dict(),
        {"type": "something_new"},
    ]
    out = render_blocks(blocks, WORLD)
    assert out.lines == [
        "== Weekly digest ==",
        "*D-1* · Pick a vendor",
        "  Owner: @ben · Due: Fri",
        "  Status: Open",
        "  Recorded by @ana · in #general",
        "─" * 40,
        "[1 Decide] [2 Reassign…] [3 Drop]",
        "[image: trend chart]",
        "[something_new block]",
    ]
    assert [(c.number, c.label, c.block_id) for c in out.controls] == [
        (1, "Decide", "decision:1:card"),
        (2, "Reassign…", "decision:1:card"),
        (3, "Drop", "decision:1:card"),
    ]


def test_accessories_and_selects_show_what_they_hold() -> None:
    select = StaticSelectElement(
        action_id="snooze",
        placeholder=plain("Snooze…"),
        options=[Option(value="1", text="1 day"), Option(value="3", text="3 days")],
        initial_option=Option(value="3", text="3 days"),
    )
    blocks = [
        {**section("Ship it"), "accessory": ButtonElement(text="Done", action_id="d").to_dict()},
        {**section("Later"), "accessory": select.to_dict()},
        {**section("Pic"), "accessory": {"type": "image", "image_url": "u", "alt_text": "cat"}},
    ]
    out = render_blocks(blocks, WORLD, first_number=4)
    assert out.lines == ["Ship it [4 Done]", "Later [5 Snooze…: 3 days]", "Pic [image: cat]"]


def test_a_modal_shows_its_fields_as_labels_with_what_they_hold() -> None:
    view = new_decision_modal(
        team_id="T1", channel_id="C0GENERAL", owner_id="U0ANA", title="Pick a vendor"
    )
    out = render_view(view, WORLD)
    assert out.lines == [
        "┌ New decision",
        "▸ What needs deciding? (text): Pick a vendor",
        "▸ Context (text, optional)",
        "▸ Owner (a person): @ana",
        "▸ Decide by (a date, optional)",
        "▸ State (choose one): To be decided",
        "▸ What was decided? (if decided already) (text, optional)",
        "▸ Review on (a date, optional)",
        "    If decided already: the day its owner is asked whether it held.",
        "▸ Supersedes (text, optional)",
        "└ (Record) (Cancel)",
    ]


def test_a_message_without_blocks_shows_its_text_and_attachments() -> None:
    out = render_message(
        text="Hello <@U0CHO>",
        blocks=None,
        names=WORLD,
        attachments=[{"fallback": "an old-style attachment"}],
    )
    assert out.lines == ["Hello @cho", "| an old-style attachment"]


def test_labelled_puts_one_line_beside_the_label_and_more_under_it() -> None:
    assert labelled("[only you]", "Recorded D-1.") == "[only you] Recorded D-1."
    assert labelled("[#general] bot:", "a\nb\n") == "[#general] bot:\n  a\n  b"


def test_rich_text_reads_as_lines() -> None:
    block = json.loads(
        slack_fixture("block_kit", "slack_morphism_rust", "slack_rich_text_block.json").read_text()
    )
    text = render.rich_text(block, WORLD)
    assert text.splitlines() == [
        "Hello @U123ABC456! Check out this link (https://example.com):wave:#C123ABC456@here",
        "• Item one",
        "• Item two",
        "fn main() {}",
        "> A wise quote",
    ]


def _interactive_count(blocks: list[dict[str, Any]]) -> int:
    count = 0
    for block in blocks:
        if block.get("type") == "actions":
            count += len(block.get("elements") or [])
        accessory = block.get("accessory") or {}
        if accessory.get("type") in render.INTERACTIVE:
            count += 1
    return count


def test_slacks_published_views_render_and_number_every_control() -> None:
    folder = slack_fixture("block_kit", "python_slack_sdk_views")
    views = sorted(folder.glob("*.json"))
    assert views
    for path in views:
        view = json.loads(path.read_text())
        out = render_view(view, WORLD)
        assert any(line.strip() for line in out.lines), path.name
        assert len(out.controls) == _interactive_count(view["blocks"]), path.name
        assert [c.number for c in out.controls] == list(range(1, len(out.controls) + 1))


# --- typing: what Slack's client would send ----------------------------------------------------


def test_command_text_is_escaped_and_mentions_linked_like_slack_does() -> None:
    text = command_text(
        "new Pick <a> vendor & more @ben #design @here @nobody https://x.io/a", WORLD
    )
    assert text == (
        "new Pick &lt;a&gt; vendor &amp; more <@U0BEN|ben> <#C0DESIGN|design> <!here> "
        "@nobody <https://x.io/a>"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3d", timedelta(days=3)),
        ("2h", timedelta(hours=2)),
        ("30m", timedelta(minutes=30)),
        ("1w", timedelta(weeks=1)),
        ("1d 4h", timedelta(days=1, hours=4)),
        ("0m", timedelta()),
        ("3", None),
        ("soon", None),
        ("-1d", None),
    ],
)
def test_durations(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


def _typed(element: dict[str, Any], text: str) -> dict[str, Any]:
    return typed_state(element, text, world=WORLD, today=TODAY, zone=BERLIN)


def test_typed_values_take_the_shape_slack_reports_for_each_element() -> None:
    options = [
        {"text": {"type": "plain_text", "text": n}, "value": v}
        for n, v in [("Monday", "mon"), ("Tuesday", "tue")]
    ]
    assert _typed({"type": "plain_text_input"}, "a\\nb") == {
        "type": "plain_text_input",
        "value": "a\nb",
    }
    assert _typed({"type": "number_input", "is_decimal_allowed": False}, "3")["value"] == "3"
    assert _typed({"type": "users_select"}, "@ben") == {
        "type": "users_select",
        "selected_user": "U0BEN",
    }
    assert _typed({"type": "multi_users_select"}, "ana, cho")["selected_users"] == [
        "U0ANA",
        "U0CHO",
    ]
    assert _typed({"type": "conversations_select"}, "#leads")["selected_conversation"] == LEADS.id
    assert _typed({"type": "multi_conversations_select"}, "general design")[
        "selected_conversations"
    ] == [GENERAL.id, "C0DESIGN"]
    assert _typed({"type": "datepicker"}, "friday")["selected_date"] == "2026-11-27"
    assert _typed({"type": "timepicker"}, "9:05")["selected_time"] == "09:05"
    assert (
        _typed({"type": "static_select", "options": options}, "tue")["selected_option"]
        == options[1]
    )
    assert (
        _typed({"type": "static_select", "options": options}, "1")["selected_option"] == options[0]
    )
    assert (
        _typed({"type": "checkboxes", "options": options}, "Monday, 2")["selected_options"]
        == options
    )
    assert (
        _typed({"type": "datepicker", "initial_date": "2026-12-01"}, "-")["selected_date"] is None
    )


@pytest.mark.parametrize(
    ("element", "text", "problem"),
    [
        ({"type": "users_select"}, "zed", "Nobody called 'zed'"),
        ({"type": "conversations_select"}, "#nowhere", "No channel '#nowhere'"),
        ({"type": "datepicker"}, "someday", "YYYY-MM-DD"),
        ({"type": "timepicker"}, "25:00", "HH:MM"),
        ({"type": "number_input", "is_decimal_allowed": False}, "2.5", "whole number"),
        ({"type": "number_input", "min_value": "1"}, "0", "smallest allowed is 1"),
        ({"type": "plain_text_input", "max_length": 3}, "abcd", "At most 3"),
        ({"type": "static_select", "options": []}, "x", "not one of the choices"),
        ({"type": "file_input"}, "x", "cannot fill"),
    ],
)
def test_values_an_element_cannot_take_are_explained(
    element: dict[str, Any], text: str, problem: str
) -> None:
    with pytest.raises(FieldProblem) as caught:
        _typed(element, text)
    assert problem in caught.value.message


def test_untouched_elements_report_their_initial_values() -> None:
    assert initial_state({"type": "users_select", "initial_user": "U0ANA"}) == {
        "type": "users_select",
        "selected_user": "U0ANA",
    }
    assert initial_state({"type": "plain_text_input"}) == {
        "type": "plain_text_input",
        "value": None,
    }
    assert initial_state({"type": "checkboxes"})["selected_options"] == []
    assert (
        state_text({"type": "multi_users_select", "selected_users": ["U0ANA", "U0BEN"]}, WORLD)
        == "@ana, @ben"
    )


def test_a_pressed_control_reports_only_fields_slack_sends() -> None:
    payload = json.loads(
        slack_fixture(
            "interactivity",
            "java_sdk_json_logs_samples_app_backend",
            "interactive-components",
            "BlockActionPayload.json",
        ).read_text()
    )
    slack_keys = set(payload["actions"][0])
    select = Control(
        2, {"type": "users_select", "action_id": "r", "initial_user": "U0ANA"}, "b", "x"
    )
    picked = action_for(select, _typed(dict(select.element), "ben"))
    assert picked["selected_user"] == "U0BEN" and picked["initial_user"] == "U0ANA"
    assert set(picked) <= slack_keys
    pressed = action_for(Control(1, button("Go", action_id="go", value="7").to_dict(), "b", "Go"))
    assert pressed["value"] == "7" and pressed["type"] == "button"
    assert set(pressed) <= slack_keys


def test_controls_are_found_by_number_or_by_label() -> None:
    controls = [
        Control(1, {}, "b", "Decide"),
        Control(2, {}, "b", "Reassign…"),
        Control(3, {}, "b", "Record outcomes"),
    ]
    assert find_control(controls, ["2", "ben"]) == (controls[1], "ben")
    assert find_control(controls, ["reassign", "ben"]) == (controls[1], "ben")
    assert find_control(controls, ["Record", "outcomes"]) == (controls[2], "")
    with pytest.raises(LookupError, match="no 4"):
        find_control(controls, ["4"])
    with pytest.raises(LookupError, match="Which one"):
        find_control(controls, [])


def test_the_worker_ticks_each_minute_on_short_advances_and_sparser_on_long_ones() -> None:
    start = datetime(2026, 11, 23, 9, 30, 20, tzinfo=UTC)
    short = tick_moments(start, start + timedelta(minutes=3))
    assert [m.strftime("%H:%M:%S") for m in short] == [
        "09:31:00",
        "09:32:00",
        "09:33:00",
        "09:33:20",
    ]
    hours = tick_moments(start, start + timedelta(hours=1))
    assert [m.strftime("%H:%M") for m in hours] == ["09:45", "10:00", "10:15", "10:30", "10:30"]
    days = tick_moments(start, start + timedelta(days=1))
    assert len(days) == 25 and days[0].minute == 0 and days[-1] == start + timedelta(days=1)
    assert tick_moments(start, start) == []


def test_scripts_give_form_fields_on_indented_lines() -> None:
    steps = parse_script("# a comment\n/decision\n  title: Pick: a vendor\n  due:\n\n:home\n")
    assert [s.line for s in steps] == ["/decision", ":home"]
    assert [(f.key, f.value) for f in steps[0].fields] == [("title", "Pick: a vendor"), ("due", "")]
    with pytest.raises(ScriptError, match="line 1"):
        parse_script("  title: orphan\n")
    with pytest.raises(ScriptError, match="line 2"):
        parse_script("/decision\n  no colon here\n")


# --- sessions through the real app -------------------------------------------------------------


class Transcript:
    """A console that keeps what was shown, and answers prompts from a list."""

    def __init__(self, answers: list[str] | None = None) -> None:
        self.lines: list[str] = []
        self.answers = list(answers or [])
        self.asked: list[str] = []

    def show(self, text: str) -> None:
        self.lines.append(text)

    async def ask(self, prompt: str) -> str | None:
        self.asked.append(prompt)
        return self.answers.pop(0) if self.answers else None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with Sandbox.open(
        database=tmp_path / "shell.db", start=START, cadence=demo_cadence()
    ) as opened:
        yield opened


async def test_a_scripted_session_shows_cards_refusals_forms_and_home(sandbox: Sandbox) -> None:
    console = Transcript()
    shell = Shell(sandbox, console)
    problems = await run_script(
        shell,
        """\
/decision new Pick a payroll vendor @ben by friday
:as cho
:press Drop
:as ana
:in #design
/decision
  title: Choose the new logo
  due: 2026-11-01
  due: thursday
:press Reassign… ben
:home
""",
    )
    text = console.text
    assert problems == 0, text
    assert (
        "[only you] Recorded *D-1* “Pick a payroll vendor” — owner @ben, due Fri 27 Nov 2026 "
        "(you said “friday”), in #general." in text
    )
    assert (
        "[#general] bot:\n  *D-1* · Pick a payroll vendor\n    Owner: @ben · Due: Fri 27 Nov 2026"
        in text
    )
    assert "[1 Decide] [2 Reassign…] [3 Drop]" in text
    # cho neither owns nor recorded D-1: only cho is told, and nothing changed.
    assert "cho@#general> :press Drop\n  (Drop this decision?" in text
    assert "[only you] Only the owner (@ben)" in text
    assert "Dropped" not in text
    # A past date is refused by the app, shown, and asked for again.
    assert "[modal] not accepted:\n  ! Decide by: That date is in the past" in text
    assert text.count("✎ Decide by:") == 2
    assert "*D-3* · Choose the new logo" not in text and "*D-2* · Choose the new logo" in text
    assert "Due: Thu 26 Nov 2026" in text
    assert "[#design] bot (edited):\n  *D-2* · Choose the new logo\n    Owner: @ben" in text
    assert "[home]\n" in text and "== Decisions you own ==" in text


async def test_refused_input_is_a_problem_and_changes_nothing(sandbox: Sandbox) -> None:
    console = Transcript()
    shell = Shell(sandbox, console)
    problems = await run_script(
        shell,
        """\
:as ben
:in #leads
/nosuch thing
:press 1
/decision
  title: Choose the new logo
  colour: blue
/decision
  context: no title given
""",
    )
    text = console.text
    assert problems == 5, text
    assert "#leads is private and ben is not a member." in text
    assert '/nosuch failed with the error "dispatch_failed"' in text
    assert "Nothing to press" in text
    assert "no form field 'colour' was asked for here" in text
    assert "! What needs deciding?: Please fill out this field." in text
    assert "Form closed without submitting: the script gives no other value for 'What" in text
    assert sandbox.fake.calls_to("chat.postMessage")[0].params["channel"] == GENERAL.id
    assert len(sandbox.fake.calls_to("chat.postMessage")) == 1


async def test_forms_at_the_prompt_are_asked_field_by_field(sandbox: Sandbox) -> None:
    console = Transcript(["", "Pick a vendor", ":done"])
    shell = Shell(sandbox, console)
    await shell.handle("/decision", PromptedReplies(console))
    assert console.asked[0] == "  What needs deciding?> "
    assert "  ! What needs deciding?: Please fill out this field." in console.lines
    assert "*D-1* · Pick a vendor" in console.text
    assert "Owner: @ana" in console.text


async def test_advancing_the_clock_runs_the_worker_and_nudges_arrive_as_dms(
    sandbox: Sandbox,
) -> None:
    console = Transcript()
    shell = Shell(sandbox, console)
    problems = await run_script(
        shell,
        """\
/decision new Pick a payroll vendor @ben
:advance 3d
:as ben
:press Decide on D-1
  What was decided?: Gusto
""",
    )
    text = console.text
    assert problems == 0, text
    assert "[DM to ben] bot:" in text and "*D-1* · Pick a payroll vendor" in text
    assert "(ben pressed [Decide] on the message in DM to ben)" in text
    assert "Status: :white_check_mark: Decided" in text
    assert sandbox.clock.now() == START + timedelta(days=3)


async def test_the_demo_week_runs_end_to_end(sandbox: Sandbox) -> None:
    console = Transcript()
    shell = Shell(sandbox, console)
    problems = await run_script(shell, (ROOT / "demo" / "week.txt").read_text())
    text = console.text
    assert problems == 0, "\n".join(shell.problems)
    milestones = [
        "[only you] Recorded *D-1* “Pick a payroll vendor” — owner @ben, due Fri 27 Nov 2026",
        "[modal] not accepted:",
        "[only you] Only @ana (who owns and recorded D-3)",
        "@ana started *M-1* · Design review",
        ":warning: *No outcomes recorded yet.*",
        # Reminders come in one daily DM, at the start of the person's working day.
        "[DM to ana] bot:\n  :wave: *1 thing is waiting for you today*, most urgent first.\n"
        "  :memo: *M-1* · Design review",
        "Status: 2 outcomes",
        # D-1 is due Friday: not stalled for being quiet before then, so no reminder to ben.
        "@ben decided *D-1* Pick a payroll vendor: Gusto, starting in January",
        "[#leads] bot:\n  :rotating_light: *D-2*",
        "== Weekly digest ==",
        "Mon 23 Nov 2026 – Sun 29 Nov 2026",
    ]
    position = 0
    for milestone in milestones:
        found = text.find(milestone, position)
        assert found >= 0, f"{milestone!r} missing after position {position}:\n{text}"
        position = found
    assert sandbox.clock.now().astimezone(BERLIN).strftime("%a %H:%M") == "Mon 10:15"


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_the_cli_keeps_the_database_and_the_clock_between_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], root_logging: None
) -> None:
    db = tmp_path / "sandbox" / "shell.db"
    script = tmp_path / "one.txt"
    script.write_text("/decision new Pick a vendor\n:advance 2h\n")
    assert main(["shell", "--fresh", "--db", str(db), "--script", str(script)]) == 0
    first = capsys.readouterr().out
    assert "Recorded *D-1*" in first and "Now Mon 23 Nov 2026 11:30 Europe/Berlin" in first
    script.write_text("/decision new Another one\n:now\n")
    assert main(["shell", "--db", str(db), "--script", str(script)]) == 0
    second = capsys.readouterr().out
    assert "Recorded *D-2*" in second and "Mon 23 Nov 2026 11:30 Europe/Berlin" in second
    assert main(["shell", "--fresh", "--db", str(db), "--script", str(script)]) == 0
    assert "Recorded *D-1*" in capsys.readouterr().out


def test_the_cli_reports_script_problems_in_its_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], root_logging: None
) -> None:
    script = tmp_path / "bad.txt"
    script.write_text(":as nobody\n")
    assert main(["shell", "--db", str(tmp_path / "s.db"), "--script", str(script)]) == 1
    assert "Nobody called 'nobody'" in capsys.readouterr().out
    script.write_text("  orphan: field\n")
    assert main(["shell", "--db", str(tmp_path / "s.db"), "--script", str(script)]) == 2
    assert "line 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage_error:  # a bad flag is argparse's usage error
        main(["shell", "--db", str(tmp_path / "s.db"), "--now", "2026-11-23T09:30"])
    assert usage_error.value.code == 2


async def test_a_prompted_field_shows_its_choices_and_current_value() -> None:
    console = Transcript([":cancel"])
    prompt = FieldPrompt(
        block_id="owner",
        label="Owner",
        element={"type": "users_select"},
        optional=False,
        hint="",
        current="@ana",
        choices="one of: ana, ben, cho",
    )
    with pytest.raises(Cancelled):
        await PromptedReplies(console).field(prompt, "Nobody called 'zed'")
    assert console.lines == ["    (one of: ana, ben, cho)"]
    assert console.asked == ["  Owner [@ana]> "]
    assert BEN.name in prompt.choices and ANA.is_admin


async def test_dates_show_in_the_acting_persons_zone_and_as_works_from_a_dm(
    sandbox: Sandbox,
) -> None:
    """Issue 16 points 5 and 7: Slack's date token reads in each reader's zone; `:as` from a
    DM goes to the new person's DM instead of refusing."""
    console = Transcript()
    shell = Shell(sandbox, console)
    problems = await run_script(
        shell,
        """\
/meeting log Retro on friday at 14:30
/meeting show M-1
:as cho
/meeting show M-1
:in dm
:as ben
""",
    )
    text = console.text
    assert problems == 0, text
    # 14:30 in Berlin (ana) is 13:30 UTC, 22:30 in Tokyo (cho).
    assert "Held Fri 20 Nov 2026 14:30" in text
    assert "Held Fri 20 Nov 2026 22:30" in text
    assert "UTC" not in text.split(":as cho", 1)[1]
    assert "not in that channel" not in text
    assert "In your DM with" in text.rsplit(":as ben", 1)[1]


async def test_press_on_a_reference_matches_it_exactly(sandbox: Sandbox) -> None:
    """Issue 16 point 7: `:press Drop on D-1` is D-1's card, never the later D-12's."""
    console = Transcript()
    shell = Shell(sandbox, console)
    script = "".join(f"/decision new Item {n}\n" for n in range(1, 13)) + ":press Drop on D-1\n"
    problems = await run_script(shell, script)
    text = console.text
    assert problems == 0, text
    [opened] = sandbox.fake.calls_to("views.open")
    assert opened.params["view"]["title"]["text"] == "Drop D-1"


async def test_uploaded_files_are_saved_and_their_path_shown(sandbox: Sandbox) -> None:
    """Issue 16 point 7: an export can be opened, not just seen as "[file] … (8.7 KB)"."""
    console = Transcript()
    shell = Shell(sandbox, console)
    problems = await run_script(shell, "/decision new Pick a vendor\n/hygiene export\n")
    text = console.text
    assert problems == 0, text
    saved = re.findall(r"saved as (\S+\.csv)", text)
    assert saved, text
    contents = saved_contents(saved, sandbox.files_dir)
    assert any("Pick a vendor" in content for content in contents)


def saved_contents(names: list[str], folder: Path) -> list[str]:
    paths = [Path(name) for name in names]
    assert all(path.parent == folder and path.is_file() for path in paths)
    return [path.read_text() for path in paths]


async def test_the_interactive_clock_runs_with_real_time_and_advance_still_moves_it(
    tmp_path: Path,
) -> None:
    seconds = [100.0]
    async with Sandbox.open(
        database=tmp_path / "shell.db",
        start=START,
        cadence=demo_cadence(),
        monotonic=lambda: seconds[0],
    ) as sandbox:
        assert sandbox.clock.now() == START
        seconds[0] += 90
        assert sandbox.clock.now() == START + timedelta(seconds=90)
        shell = Shell(sandbox, Transcript())
        assert await run_script(shell, ":advance 2h") == 0
        assert sandbox.clock.now() == START + timedelta(hours=2, seconds=90)
        seconds[0] += 30
        assert sandbox.clock.now() == START + timedelta(hours=2, seconds=120)


async def test_without_a_source_of_real_time_the_clock_stays_frozen(sandbox: Sandbox) -> None:
    assert sandbox.clock.now() == START
    await run_script(Shell(sandbox, Transcript()), ":advance 30m")
    assert sandbox.clock.now() == START + timedelta(minutes=30)
    await asyncio.sleep(1.1)
    assert sandbox.clock.now() == START + timedelta(minutes=30)


def test_freeze_and_scripts_keep_the_clock_still_and_the_help_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert clock_source(freeze=False, script=False) is time.monotonic
    assert clock_source(freeze=True, script=False) is None
    assert clock_source(freeze=False, script=True) is None
    with pytest.raises(SystemExit):
        main(["shell", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--freeze" in help_text
    assert "--script runs are always frozen" in help_text
