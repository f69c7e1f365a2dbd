"""Slash command text into commands: every form, every refusal, and totality on any text."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import InvalidInput
from bot.slack.parsing.commands import (
    DECISION_USAGE,
    HYGIENE_USAGE,
    MEETING_USAGE,
    OUTCOME_USAGE,
    DecisionAssign,
    DecisionDecide,
    DecisionDrop,
    DecisionDue,
    DecisionList,
    DecisionNew,
    DecisionOpenModal,
    DecisionReopen,
    DecisionShow,
    Help,
    HygieneDigest,
    HygieneExport,
    HygieneSettings,
    HygieneStats,
    MeetingEnd,
    MeetingList,
    MeetingLog,
    MeetingShow,
    MeetingStart,
    OutcomeAdd,
    OutcomeDone,
    parse_channel_mention,
    parse_decision,
    parse_hygiene,
    parse_meeting,
    parse_outcome,
    parse_ref,
    parse_user_mention,
)
from bot.slack.parsing.dates import ACCEPTED_DATE_FORMS

FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "slack"

Parser = Callable[[str], Any]

PARSERS: dict[str, tuple[Parser, tuple[type, ...], str]] = {
    "decision": (
        parse_decision,
        (
            DecisionOpenModal,
            DecisionNew,
            DecisionList,
            DecisionShow,
            DecisionDecide,
            DecisionAssign,
            DecisionDue,
            DecisionDrop,
            DecisionReopen,
            Help,
        ),
        DECISION_USAGE,
    ),
    "meeting": (
        parse_meeting,
        (MeetingStart, MeetingEnd, MeetingLog, MeetingList, MeetingShow, Help),
        MEETING_USAGE,
    ),
    "outcome": (parse_outcome, (OutcomeAdd, OutcomeDone, Help), OUTCOME_USAGE),
    "hygiene": (
        parse_hygiene,
        (HygieneSettings, HygieneStats, HygieneDigest, HygieneExport, Help),
        HYGIENE_USAGE,
    ),
}


def assert_one_line_refusal(message: str, usage: str) -> None:
    """A parse error is one line on what was wrong; the full usage is kept for help."""
    assert usage not in message
    assert "\n" not in message


# --- helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("<@U123ABC>", "U123ABC"),
        ("<@U123ABC|ana>", "U123ABC"),
        ("<@W0ENT1|ana lee>", "W0ENT1"),
        (" <@U123ABC> ", "U123ABC"),
        ("<@U1>", "U1"),
        ("<@U>", None),
        ("<@u123abc>", None),
        ("<@C123ABC>", None),
        ("@ana", None),
        ("<@U123ABC", None),
        ("<#C123ABC|general>", None),
        ("", None),
    ],
)
def test_parse_user_mention(token: str, expected: str | None) -> None:
    assert parse_user_mention(token) == expected


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("<#C123ABC|general>", "C123ABC"),
        ("<#C123ABC>", "C123ABC"),
        ("<#G0PRIV>", "G0PRIV"),
        ("<@U123ABC>", None),
        ("#general", None),
    ],
)
def test_parse_channel_mention(token: str, expected: str | None) -> None:
    assert parse_channel_mention(token) == expected


@pytest.mark.parametrize(
    ("token", "prefix", "expected"),
    [
        ("D-12", "D", 12),
        ("d-12", "D", 12),
        ("D12", "D", 12),
        ("D-007", "D", 7),
        ("M-3", "M", 3),
        ("a7", "A", 7),
        ("D-999999999", "D", 999_999_999),
        ("D-1000000000", "D", None),
        ("D-0", "D", None),
        ("D--1", "D", None),
        ("D-", "D", None),
        ("D-1.5", "D", None),
        ("M-3", "D", None),
        ("12", "D", None),
        ("D-١٢", "D", None),
        ("", "D", None),
    ],
)
def test_parse_ref(token: str, prefix: str, expected: int | None) -> None:
    assert parse_ref(token, prefix) == expected


# --- /decision --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", DecisionOpenModal()),
        ("   ", DecisionOpenModal()),
        ("help", Help()),
        ("HELP", Help()),
        ("new Pick a vendor", DecisionNew("Pick a vendor", None, None)),
        ("NEW  Pick   a vendor ", DecisionNew("Pick   a vendor", None, None)),
        ("new Pick a vendor <@U123ABC|ana>", DecisionNew("Pick a vendor", "U123ABC", None)),
        ("new Pick a vendor by friday", DecisionNew("Pick a vendor", None, "friday")),
        (
            "new Pick a vendor <@U123ABC> by 2026-05-01",
            DecisionNew("Pick a vendor", "U123ABC", "2026-05-01"),
        ),
        (
            "new Pick a vendor by in 2 weeks <@U123ABC>",
            DecisionNew("Pick a vendor", "U123ABC", "in 2 weeks"),
        ),
        ("new Ship it BY Next Week", DecisionNew("Ship it", None, "Next Week")),
        ("new Ship it by friday.", DecisionNew("Ship it", None, "friday")),
        ("new Decide by committee", DecisionNew("Decide by committee", None, None, "by committee")),
        (
            "new Decide by committee by eow",
            DecisionNew("Decide by committee", None, "eow"),
        ),
        (
            "new Ask <@U111AAA> about pricing <@U222BBB>",
            DecisionNew("Ask <@U111AAA> about pricing", "U222BBB", None),
        ),
        (
            "new Ask <@U111AAA> about pricing",
            DecisionNew("Ask <@U111AAA> about pricing", None, None),
        ),
        (
            "new Decide by 3/4 majority",
            DecisionNew("Decide by 3/4 majority", None, None, "by 3/4 majority"),
        ),
        ("new Byline style", DecisionNew("Byline style", None, None)),
        ("list", DecisionList("channel")),
        ("list mine", DecisionList("mine")),
        ("LIST Stalled", DecisionList("stalled")),
        ("list all", DecisionList("all")),
        ("list <@U123ABC|ana>", DecisionList("user", "U123ABC")),
        ("show D-12", DecisionShow(12)),
        ("show d12", DecisionShow(12)),
        ("decide D-3 We go with Acme", DecisionDecide(3, "We go with Acme")),
        ("decide D-3 We go with Acme by friday", DecisionDecide(3, "We go with Acme by friday")),
        ("assign D-3 <@U123ABC>", DecisionAssign(3, "U123ABC")),
        ("assign D-3 to <@U123ABC|ana>", DecisionAssign(3, "U123ABC")),
        ("due D-3 friday", DecisionDue(3, "friday")),
        ("due D-3 in 2 weeks", DecisionDue(3, "in 2 weeks")),
        ("due D-3 2020-01-01", DecisionDue(3, "2020-01-01")),
        ("drop D-3", DecisionDrop(3, None)),
        ("drop D-3 No longer relevant", DecisionDrop(3, "No longer relevant")),
        ("reopen D-3", DecisionReopen(3)),
    ],
)
def test_decision_forms(text: str, expected: object) -> None:
    assert parse_decision(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("new", "decision title is missing"),
        ("new <@U123ABC>", "decision title is missing"),
        ("new by friday", "decision title is missing"),
        ("new " + "x" * 201, "is 201 characters long; the limit is 200"),
        ("new Decide by tomorow", "couldn't read “tomorow”"),
        ("new Decide by 2026-13-45", "“2026-13-45” is not a real date"),
        ("new Decide by in x days", "couldn't read “in x days”"),
        ("new Decide by next month", "couldn't read “next month”"),
        ("new Decide by yesterday", "“yesterday” is in the past"),
        ("new Decide by 31 feb", "“31 feb” is not a real date"),
        ("new Fix login <@U0BEN> <@U0CHO>", "A decision has one owner"),
        ("new Fix login <@U0BEN> <@U0CHO> by friday", "A decision has one owner"),
        ("new Fix login <@U0BEN> by friday <@U0CHO>", "A decision has one owner"),
        ("new Decide by in 0 days", "from 1 to 3650 days"),
        ("list everything", "takes mine, stalled, all or a @person"),
        ("list mine all", "takes mine, stalled, all or a @person"),
        ("list @ana", "takes mine, stalled, all or a @person"),
        ("show", "Say which decision"),
        ("show 12", "“12” is not a decision reference"),
        ("show M-12", "“M-12” is not a decision reference"),
        ("show D-0", "“D-0” is not a decision reference"),
        ("show D-1000000000", "is not a decision reference"),
        ("show D-12 now", "takes one decision, but you typed “D-12 now”"),
        ("show D-1 D-2", "for example `/decision show D-1`"),
        ("reopen", "Say which decision"),
        ("decide D-3", "resolution is missing"),
        ("decide We go with Acme", "“We” is not a decision reference"),
        ("decide D-3 " + "y" * 2001, "is 2001 characters long; the limit is 2000"),
        ("assign D-3", "Say who should own it"),
        ("assign D-3 ana", "“ana” is not a person I can assign"),
        ("assign D-3 <@U123ABC> <@U456DEF>", "A decision has one owner"),
        ("due D-3", "Say when it is due"),
        ("due D-3 someday", "couldn't read “someday”"),
        ("due D-3 2026-02-30", "not a real date"),
        ("drop D-3 " + "z" * 2001, "the limit is 2000"),
    ],
)
def test_decision_refusals(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_decision(text)
    assert fragment in caught.value.message
    assert_one_line_refusal(caught.value.message, DECISION_USAGE)


def test_date_refusals_list_the_accepted_forms() -> None:
    for text in ("new Decide by tomorow", "due D-1 someday"):
        with pytest.raises(InvalidInput) as caught:
            parse_decision(text)
        assert ACCEPTED_DATE_FORMS in caught.value.message


def test_title_at_the_limit_is_accepted() -> None:
    title = "t" * 200
    assert parse_decision(f"new {title} <@U123ABC> by friday") == DecisionNew(
        title, "U123ABC", "friday"
    )


# --- /meeting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("help", Help()),
        ("start Weekly planning", MeetingStart("Weekly planning")),
        ("START  Weekly planning ", MeetingStart("Weekly planning")),
        ("end", MeetingEnd()),
        ("End", MeetingEnd()),
        ("log Retro with <@U123ABC>", MeetingLog("Retro with <@U123ABC>")),
        ("list", MeetingList()),
        ("show M-4", MeetingShow(4)),
        ("show m4", MeetingShow(4)),
    ],
)
def test_meeting_forms(text: str, expected: object) -> None:
    assert parse_meeting(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("start", "meeting title is missing"),
        ("log   ", "meeting title is missing"),
        ("start " + "x" * 250, "is 250 characters long; the limit is 200"),
        ("end now please", "`/meeting end` takes nothing more, but you typed “now please”"),
        ("list all", "`/meeting list` takes nothing more"),
        ("show", "Say which meeting"),
        ("show D-4", "“D-4” is not a meeting reference"),
    ],
)
def test_meeting_refusals(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_meeting(text)
    assert fragment in caught.value.message
    assert_one_line_refusal(caught.value.message, MEETING_USAGE)


# --- /outcome ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("help", Help()),
        ("Help", Help()),
        ("We ship on Monday", OutcomeAdd(None, "We ship on Monday", None, None)),
        (
            "Write the brief <@U123ABC> by friday",
            OutcomeAdd(None, "Write the brief", "U123ABC", "friday"),
        ),
        ("M-3 Budget approved", OutcomeAdd(3, "Budget approved", None, None)),
        ("m3 Budget approved <@U123ABC>", OutcomeAdd(3, "Budget approved", "U123ABC", None)),
        (
            "M-3 Send notes by tomorrow <@U123ABC>",
            OutcomeAdd(3, "Send notes", "U123ABC", "tomorrow"),
        ),
        ("done A-7", OutcomeDone(7)),
        ("DONE a7", OutcomeDone(7)),
        ("done with the migration", OutcomeAdd(None, "done with the migration", None, None)),
        ("help the new hires", OutcomeAdd(None, "help the new hires", None, None)),
        ("Decided by vote", OutcomeAdd(None, "Decided by vote", None, None, "by vote")),
        ("Mostly agreed", OutcomeAdd(None, "Mostly agreed", None, None)),
    ],
)
def test_outcome_forms(text: str, expected: object) -> None:
    assert parse_outcome(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Say what the outcome is"),
        ("   ", "Say what the outcome is"),
        ("M-3", "outcome text is missing"),
        ("M-3 <@U123ABC> by friday", "outcome text is missing"),
        ("M-0 Budget approved", "“M-0” is not a meeting reference"),
        ("done", "Say which action"),
        ("done A-0", "“A-0” is not an action reference"),
        ("done D-7", "“D-7” is not an action reference"),
        ("done A-7 and more", "takes one action, but you typed “A-7 and more”"),
        ("Send notes by tomorow", "couldn't read “tomorow”"),
        ("x" * 2001, "is 2001 characters long; the limit is 2000"),
    ],
)
def test_outcome_refusals(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_outcome(text)
    assert fragment in caught.value.message
    assert_one_line_refusal(caught.value.message, OUTCOME_USAGE)


# --- /hygiene ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Help()),
        ("help", Help()),
        ("settings", HygieneSettings()),
        ("stats", HygieneStats("week", None)),
        ("stats month", HygieneStats("month", None)),
        ("stats WEEK <#C123ABC|general>", HygieneStats("week", "C123ABC")),
        ("stats <#C123ABC> month", HygieneStats("month", "C123ABC")),
        ("stats last week", HygieneStats("week", None)),
        ("stats so far", HygieneStats("week", None, so_far=True)),
        ("stats week So Far", HygieneStats("week", None, so_far=True)),
        ("stats this week <#C123ABC>", HygieneStats("week", "C123ABC", so_far=True)),
        ("stats <#C123ABC> month so far", HygieneStats("month", "C123ABC", so_far=True)),
        ("stats this month", HygieneStats("month", None, so_far=True)),
        ("digest", HygieneDigest(preview=False)),
        ("digest Preview", HygieneDigest(preview=True)),
        ("export", HygieneExport()),
    ],
)
def test_hygiene_forms(text: str, expected: object) -> None:
    assert parse_hygiene(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("settings now", "`/hygiene settings` takes nothing more"),
        ("export csv", "`/hygiene export` takes nothing more"),
        ("digest now", "takes only `preview`, but you typed “now”"),
        ("stats year", "takes week or month, `so far` and a #channel"),
        ("stats year", "not “year”"),
        ("stats so", "not “so”"),
        ("stats far week", "not “far”"),
        ("stats last week so far", "not both"),
        ("stats week month", "not “month”"),
        ("stats #general", "not “#general”"),
        ("stats <#C123ABC> <#C456DEF>", "not “#C456DEF”"),
    ],
)
def test_hygiene_refusals(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_hygiene(text)
    assert fragment in caught.value.message
    assert_one_line_refusal(caught.value.message, HYGIENE_USAGE)


def test_usage_lists_one_line_per_form_with_the_command_name() -> None:
    for name, (_, _, usage) in PARSERS.items():
        lines = usage.splitlines()
        forms = [line for line in lines if line.startswith("• ")]
        assert forms, name
        assert all(f"`/{name}" in line for line in forms)
        # Angle brackets would be read as Slack control sequences in mrkdwn.
        assert "<" not in usage and ">" not in usage


# --- never anything but a command or InvalidInput ---------------------------------------


def _assert_total(name: str, text: str) -> None:
    parse, kinds, _ = PARSERS[name]
    try:
        result = parse(text)
    except InvalidInput as refusal:
        assert refusal.message.strip()
    else:
        assert isinstance(result, kinds)


_GRAMMAR = st.sampled_from(
    [
        "new",
        "list",
        "show",
        "decide",
        "assign",
        "due",
        "drop",
        "reopen",
        "help",
        "start",
        "end",
        "log",
        "done",
        "stats",
        "digest",
        "preview",
        "settings",
        "export",
        "week",
        "month",
        "mine",
        "all",
        "stalled",
        "to",
        "by",
        "BY",
        "D-12",
        "d7",
        "M-3",
        "A-0",
        "D-99999999999",
        "<@U123ABC>",
        "<@W0ENT1|ana lee>",
        "<@U1",
        "<#C123ABC|general>",
        "<#C1>",
        "friday",
        "tomorow",
        "in",
        "3",
        "days",
        "next",
        "eow",
        "2026-13-45",
        "2026-05-01",
        "Pick a vendor",
        "x" * 199,
        "y" * 1999,
        "&lt;b&gt;",
        "\n",
        "\u00a0",
        "",
    ]
)
_GRAMMAR_TEXT = st.lists(_GRAMMAR | st.text(max_size=5), max_size=8).map(" ".join)


@pytest.mark.parametrize("name", sorted(PARSERS))
@given(text=st.text())
def test_any_text_gives_a_command_or_invalid_input(name: str, text: str) -> None:
    _assert_total(name, text)


@pytest.mark.parametrize("name", sorted(PARSERS))
@given(text=_GRAMMAR_TEXT)
def test_grammar_like_text_gives_a_command_or_invalid_input(name: str, text: str) -> None:
    _assert_total(name, text)


@given(
    title=st.text(
        st.characters(blacklist_categories=("Cs", "Zs", "Cc", "Zl", "Zp")), min_size=1, max_size=30
    ),
    owner=st.sampled_from(["U123ABC", "W0ENT1", "UABCDEF9"]),
    due=st.sampled_from(["friday", "tomorrow", "in 3 days", "next week", "eow", "2030-01-02"]),
)
def test_new_round_trips_owner_and_due(title: str, owner: str, due: str) -> None:
    result = parse_decision(f"new Plan {title} <@{owner}|someone> by {due}")
    assert result == DecisionNew(f"Plan {title}", owner, due)


def _fixture_texts() -> list[str]:
    folder = FIXTURES / "slash_commands" / "bolt_python_tests_extracted"
    if not folder.is_dir():
        pytest.skip(reason=f"Slack fixtures not found at {folder}")
    texts = [json.loads(path.read_text())["text"] for path in sorted(folder.glob("*decoded.json"))]
    assert texts, f"no *decoded.json slash command fixtures in {folder}"
    return texts


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_real_slash_command_fixture_text_parses_without_crashing(name: str) -> None:
    for text in _fixture_texts():
        _assert_total(name, text)
        _assert_total(name, f"new {text}")
        _assert_total(name, f"{text} <@U123ABC> by friday")


@pytest.mark.parametrize(
    ("parse", "text", "usage", "fragment"),
    [
        (
            parse_decision,
            "frobnicate",
            DECISION_USAGE,
            "`/decision` has no subcommand “frobnicate”.",
        ),
        (parse_decision, "Should we ship?", DECISION_USAGE, "no subcommand “Should”."),
        (parse_decision, "nwe Ship it", DECISION_USAGE, "Did you mean `/decision new`?"),
        (parse_decision, "shwo D-1", DECISION_USAGE, "Did you mean `/decision show`?"),
        (parse_decision, "reopne D-1", DECISION_USAGE, "Did you mean `/decision reopen`?"),
        (parse_meeting, "begin Planning", MEETING_USAGE, "`/meeting` has no subcommand “begin”."),
        (parse_meeting, "strat Planning", MEETING_USAGE, "Did you mean `/meeting start`?"),
        (parse_hygiene, "purge", HYGIENE_USAGE, "`/hygiene` has no subcommand “purge”."),
        (parse_hygiene, "stast", HYGIENE_USAGE, "Did you mean `/hygiene stats`?"),
    ],
)
def test_unknown_subcommands_get_a_suggestion_or_the_full_help(
    parse: Callable[[str], object], text: str, usage: str, fragment: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(text)
    said = caught.value.message
    assert fragment in said
    if "Did you mean" in fragment:
        # A typo: one line, the suggestion and where the help is, not twenty lines of help.
        assert "\n" not in said and said.endswith("help` lists them all.)")
    else:
        assert said.endswith(usage)
        assert "Did you mean" not in said


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("due D-3 none", DecisionDue(3, None)),
        ("due D-3 clear", DecisionDue(3, None)),
        ("due D-3 No Date", DecisionDue(3, None)),
        ("due D-3 next friday", DecisionDue(3, "next friday")),
        ("due D-3 dec 15", DecisionDue(3, "dec 15")),
        ("new Ship it by end of month", DecisionNew("Ship it", None, "end of month")),
        ("new Ship it <@U0ANA> by 15 dec", DecisionNew("Ship it", "U0ANA", "15 dec")),
        ("new Ship it by in a week", DecisionNew("Ship it", None, "in a week")),
        (
            "new Ask <@U0BEN> about login <@U0CHO>",
            DecisionNew("Ask <@U0BEN> about login", "U0CHO", None),
        ),
    ],
)
def test_new_date_forms_and_clearing(text: str, expected: object) -> None:
    assert parse_decision(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("log Retro", MeetingLog("Retro")),
        ("log Retro on monday", MeetingLog("Retro", "monday")),
        ("log Retro on dec 1 at 14:30", MeetingLog("Retro", "dec 1", "14:30")),
        ("log Retro on 2026-11-30 at 9am", MeetingLog("Retro", "2026-11-30", "9am")),
        ("log Retro at 2:30 pm", MeetingLog("Retro", None, "2:30 pm")),
        ("log Notes on onboarding", MeetingLog("Notes on onboarding")),
        ("log Look at the roadmap", MeetingLog("Look at the roadmap")),
    ],
)
def test_meeting_log_takes_a_past_date_and_time(text: str, expected: MeetingLog) -> None:
    assert parse_meeting(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("log Retro on next friday", "is in the future"),
        ("log Retro on 31 feb", "is not a real date"),
        ("log Retro on monday at 25:00", "is not a real time"),
    ],
)
def test_meeting_log_refusals(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_meeting(text)
    assert fragment in caught.value.message
    assert_one_line_refusal(caught.value.message, MEETING_USAGE)
