"""Button, menu and modal values name their item's workspace: made and read back exactly."""

from __future__ import annotations

import pytest

from bot.errors import InvalidInput
from bot.slack.parsing.items import (
    OTHER_WORKSPACE,
    ItemRef,
    item_number,
    item_value,
    parse_item,
)


def test_a_value_round_trips() -> None:
    assert item_value("T0123ABCD", "D", 5) == "T0123ABCD:D-5"
    assert parse_item("T0123ABCD:D-5", "D") == ItemRef(team_id="T0123ABCD", number=5)
    assert item_number("T1:A-7", "A", team_id="T1", stale="old") == 7


@pytest.mark.parametrize(
    "raw",
    [
        "5",  # older buttons carried the bare number
        "D-5",
        "M-3",
        "T1:M-5",  # another kind of item
        "T1:D-0",
        "T1:D--1",
        "T1:D-1e3",
        "T1:D-٣",
        "T1:D-" + "9" * 10,
        ":D-5",
        "T 1:D-5",
        "T1:D-5:extra",
        None,
        123,
    ],
)
def test_anything_else_is_out_of_date(raw: object) -> None:
    assert parse_item(raw, "D") is None
    with pytest.raises(InvalidInput) as refused:
        item_number(raw, "D", team_id="T1", stale="That button is out of date.")
    assert refused.value.message == "That button is out of date."


def test_another_workspaces_item_is_refused_with_why() -> None:
    with pytest.raises(InvalidInput) as refused:
        item_number("T2:D-5", "D", team_id="T1", stale="old")
    assert refused.value.message == OTHER_WORKSPACE
    assert "shared between workspaces" in OTHER_WORKSPACE
