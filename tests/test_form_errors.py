"""One error path for modals (issue 14 point 3): a ``FormError`` raised anywhere in a
``view_submission`` handler becomes Slack's ``response_action: errors`` through the one error
handler, every problem of a form at once, and every number of the settings modal has a bound
kept in one place (``bot/cadence/config.py``) that the modal, its reading and the cadence file
all use.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.cadence.config import (
    WORKSPACE_KEYS,
    CadenceConfigError,
    load_cadence_file,
    setting_range,
    setting_value,
)
from bot.decisions.models import Decision
from bot.errors import InvalidInput
from bot.slack.blocks.settings import KEY_BLOCKS
from bot.slack.errors import FormError, on_field
from bot.slack.ids import Block as BlockId
from bot.slack.ids import View as ViewId
from bot.slack.users import UserDirectory
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces
from tests.conftest import AppEnv
from tests.test_settings_e2e import audit, open_settings, overrides, save

LISTENERS = Path(__file__).resolve().parents[1] / "bot" / "slack" / "listeners"
T1 = WorkspaceKey("T1")
NUMBER_KEYS = [key for key in WORKSPACE_KEYS if setting_range(key) is not None]


def number(value: int | str) -> dict[str, Any]:
    return {"value": str(value)}


async def decisions(env: AppEnv) -> int:
    async with env.deps.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Decision)) or 0)


# --- the error itself -----------------------------------------------------------------------


def test_a_form_error_names_each_field_and_at_least_one() -> None:
    error = FormError({"title": "Say what.", "due": "Pick a later day."})
    assert error.errors == {"title": "Say what.", "due": "Pick a later day."}
    assert error.message == "Say what. Pick a later day."  # said as one message off a modal
    with pytest.raises(ValueError):
        FormError({})


def test_on_field_puts_a_refusal_beside_its_field_and_lets_a_form_error_through() -> None:
    with pytest.raises(FormError) as caught, on_field("reason"):
        raise InvalidInput("Only the owner may drop it.")
    assert caught.value.errors == {"reason": "Only the owner may drop it."}
    with pytest.raises(FormError) as passed, on_field("reason"):
        raise FormError({"title": "Say what."})
    assert passed.value.errors == {"title": "Say what."}
    with pytest.raises(KeyError), on_field("reason"):
        raise KeyError("ours, not the person's")


def test_no_listener_acknowledges_errors_itself() -> None:
    """The one error handler answers ``errors``; listeners raise ``FormError``."""
    pattern = re.compile(r"response_action\s*=\s*[\"']errors[\"']|[\"']response_action[\"']\s*:")
    assert pattern.search('await ack(response_action="errors", errors=errors)')
    found = [
        f"{path.name}:{n}"
        for path in sorted(LISTENERS.glob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


# --- every problem at once ------------------------------------------------------------------


async def test_three_wrong_settings_are_named_in_one_answer_and_nothing_is_saved(
    app_env: AppEnv,
) -> None:
    view = await open_settings(app_env)
    answer = await save(
        app_env,
        view,
        **{
            BlockId.SETTINGS_REPEAT_EVERY: number(99999),
            BlockId.SETTINGS_TIMEZONE: {"value": "Mars/Olympus"},
            BlockId.SETTINGS_STALL_AFTER: number(0),
        },
    )
    assert answer["response_action"] == "errors"
    errors = answer["errors"]
    assert set(errors) == {
        BlockId.SETTINGS_REPEAT_EVERY,
        BlockId.SETTINGS_TIMEZONE,
        BlockId.SETTINGS_STALL_AFTER,
    }
    assert errors[BlockId.SETTINGS_REPEAT_EVERY] == "Enter a whole number from 1 to 90."
    assert errors[BlockId.SETTINGS_STALL_AFTER] == "Enter a whole number from 1 to 365."
    assert "Mars/Olympus" in errors[BlockId.SETTINGS_TIMEZONE]
    assert await audit(app_env) == [] and await overrides(app_env) == {}


async def test_a_problem_between_fields_is_told_with_the_unreadable_ones(
    app_env: AppEnv,
) -> None:
    """The day's end before its start is found by the cadence's rules, not by reading the
    form; it is told in the same answer as a number that could not be read."""
    view = await open_settings(app_env)
    answer = await save(
        app_env,
        view,
        **{
            BlockId.SETTINGS_DAY_START: {"selected_time": "18:00"},
            BlockId.SETTINGS_DAY_END: {"selected_time": "08:00"},
            BlockId.SETTINGS_ESCALATE_AFTER: number("lots"),
        },
    )
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {BlockId.SETTINGS_DAY_END, BlockId.SETTINGS_ESCALATE_AFTER}
    assert "later than working_hours.start" in answer["errors"][BlockId.SETTINGS_DAY_END]
    assert await overrides(app_env) == {}

    # With the number put right, the same problem alone, from the save's own check.
    again = await save(
        app_env,
        view,
        **{
            BlockId.SETTINGS_DAY_START: {"selected_time": "18:00"},
            BlockId.SETTINGS_DAY_END: {"selected_time": "08:00"},
        },
    )
    assert set(again["errors"]) == {BlockId.SETTINGS_DAY_END}
    assert await overrides(app_env) == {}


async def test_the_new_decision_form_tells_every_problem_at_once(app_env: AppEnv) -> None:
    await app_env.command("/decision", "")
    view = app_env.fake.calls_to("views.open")[-1].params["view"]
    assert view["callback_id"] == ViewId.NEW_DECISION
    response = await app_env.interact(
        app_env.driver.submit(
            view,
            {
                BlockId.TITLE: {"type": "plain_text_input", "value": "x" * 201},
                BlockId.CONTEXT: {"type": "plain_text_input", "value": "y" * 2001},
                BlockId.DUE: {"type": "datepicker", "selected_date": "2020-01-01"},
                BlockId.RESOLUTION: {"type": "plain_text_input", "value": "We did"},
                BlockId.SUPERSEDES: {"type": "plain_text_input", "value": "the old one"},
            },
            user_id="U1",
        )
    )
    body = response.json()
    assert body["response_action"] == "errors"
    errors = body["errors"]
    assert set(errors) == {
        BlockId.TITLE,
        BlockId.CONTEXT,
        BlockId.DUE,
        BlockId.RESOLUTION,
        BlockId.SUPERSEDES,
    }
    assert "201 characters long; the limit is 200" in errors[BlockId.TITLE]
    assert "2001 characters long; the limit is 2000" in errors[BlockId.CONTEXT]
    assert "in the past" in errors[BlockId.DUE]
    assert "like D-4" in errors[BlockId.SUPERSEDES]
    assert await decisions(app_env) == 0


async def test_the_decide_form_tells_the_date_and_the_empty_resolution_together(
    app_env: AppEnv,
) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    async with app_env.deps.db.transaction() as session:
        d = await session.scalar(select(Decision))
    assert d is not None and d.message_ts
    message = {"ts": d.message_ts, "type": "message", "text": ""}
    await app_env.interact(
        app_env.driver.press(
            "decision_decide", user_id="U1", value="T1:D-1", channel_id="C1", message=message
        )
    )
    view = app_env.fake.calls_to("views.open")[-1].params["view"]
    assert view["callback_id"] == ViewId.DECIDE
    response = await app_env.interact(
        app_env.driver.submit(
            view,
            {
                BlockId.RESOLUTION: {"type": "plain_text_input", "value": "   "},
                BlockId.REVIEW_ON: {"type": "datepicker", "selected_date": "2020-01-01"},
            },
            user_id="U1",
        )
    )
    body = response.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {BlockId.RESOLUTION, BlockId.REVIEW_ON}
    assert "resolution is empty" in body["errors"][BlockId.RESOLUTION]
    assert "in the past" in body["errors"][BlockId.REVIEW_ON]
    async with app_env.deps.db.transaction() as session:
        d = await session.scalar(select(Decision))
    assert d is not None and d.status == "open"


async def test_a_refusal_by_the_service_is_shown_beside_its_field(app_env: AppEnv) -> None:
    """Raised inside the service, put beside a field with ``on_field``, answered by the handler."""
    await app_env.command("/decision", "new Pick a vendor")
    async with app_env.deps.db.transaction() as session:
        d = await session.scalar(select(Decision))
    assert d is not None and d.message_ts
    message = {"ts": d.message_ts, "type": "message", "text": ""}
    await app_env.interact(
        app_env.driver.press(
            "decision_drop", user_id="U1", value="T1:D-1", channel_id="C1", message=message
        )
    )
    view = app_env.fake.calls_to("views.open")[-1].params["view"]
    # Someone else submits the form (a forged or forwarded submission): refused beside Reason.
    response = await app_env.interact(
        app_env.driver.submit(
            view, {BlockId.REASON: {"type": "plain_text_input", "value": "no"}}, user_id="U2"
        )
    )
    body = response.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [BlockId.REASON]
    assert "<@U1>" in body["errors"][BlockId.REASON]


async def test_a_late_form_shows_every_problem_in_place_of_working_on_it(
    app_env: AppEnv,
) -> None:
    """Acknowledged at the deadline ("Working on it…"), the problems replace that screen."""
    await open_settings(app_env)
    # As Slack keeps it (with its id), so the late answer can replace it with views.update.
    stored = [v for v in app_env.fake.views.values() if v["callback_id"] == ViewId.SETTINGS][-1]
    app_env.deps.users = UserDirectory()  # the admin check asks Slack again, slowly
    app_env.fake.slow("users.info", 2.6)
    app_env.fake.clear_calls()
    answer = await save(
        app_env,
        stored,
        **{
            BlockId.SETTINGS_REPEAT_EVERY: number(91),
            BlockId.SETTINGS_ESCALATE_AFTER: number(0),
        },
    )
    assert "Working on it" in str(answer["view"])
    await app_env.settle()
    [update] = app_env.fake.calls_to("views.update")
    said = str(update.params["view"]["blocks"])
    assert "Nothing was saved" in said
    assert "from 1 to 90" in said and "from 1 to 50" in said
    assert await overrides(app_env) == {}


# --- the bounds, at their edges -------------------------------------------------------------


def test_every_number_in_the_settings_modal_has_a_bound() -> None:
    assert len(NUMBER_KEYS) == 7
    for key in NUMBER_KEYS:
        low, high = setting_range(key) or (0, 0)
        assert 0 <= low < high <= 730, key  # nothing "every 99999 working days"


async def test_the_modal_carries_the_bounds_and_accepts_them_at_both_edges(
    app_env: AppEnv,
) -> None:
    view = await open_settings(app_env)
    elements = {b["block_id"]: b.get("element", {}) for b in view["blocks"] if "block_id" in b}
    for key in NUMBER_KEYS:
        low, high = setting_range(key) or (0, 0)
        element = elements[KEY_BLOCKS[key]]
        assert (element["min_value"], element["max_value"]) == (str(low), str(high)), key
    for edge in (0, 1):  # every number at its lowest, then at its highest
        picked = {key: (setting_range(key) or (0, 0))[edge] for key in NUMBER_KEYS}
        answer = await save(
            app_env, view, **{KEY_BLOCKS[key]: number(value) for key, value in picked.items()}
        )
        assert answer["response_action"] == "update", answer
        async with app_env.deps.db.transaction() as session:
            current = await workspaces.cadence_for(session, ws=T1, base=app_env.deps.cadence)
        assert {key: setting_value(current, key) for key in NUMBER_KEYS} == picked
        view = await open_settings(app_env)


async def test_one_past_either_edge_is_refused_for_every_number_at_once(app_env: AppEnv) -> None:
    view = await open_settings(app_env)
    for step, edge in ((-1, 0), (1, 1)):
        answer = await save(
            app_env,
            view,
            **{
                KEY_BLOCKS[key]: number((setting_range(key) or (0, 0))[edge] + step)
                for key in NUMBER_KEYS
            },
        )
        assert answer["response_action"] == "errors"
        assert set(answer["errors"]) == {KEY_BLOCKS[key] for key in NUMBER_KEYS}
        for key in NUMBER_KEYS:
            low, high = setting_range(key) or (0, 0)
            assert (
                answer["errors"][KEY_BLOCKS[key]] == f"Enter a whole number from {low} to {high}."
            )
    assert await audit(app_env) == [] and await overrides(app_env) == {}


@pytest.mark.parametrize("key", NUMBER_KEYS)
def test_the_cadence_file_takes_the_same_bounds(tmp_path: Path, key: str) -> None:
    section, name = key.split(".")
    low, high = setting_range(key) or (0, 0)
    path = tmp_path / "cadence.toml"
    for good in (low, high):
        path.write_text(f"[{section}]\n{name} = {good}\n", encoding="utf-8")
        assert setting_value(load_cadence_file(path), key) == good
    for bad, words in ((low - 1, f"at least {low}"), (high + 1, f"at most {high}")):
        path.write_text(f"[{section}]\n{name} = {bad}\n", encoding="utf-8")
        with pytest.raises(CadenceConfigError) as caught:
            load_cadence_file(path)
        assert caught.value.problems == [f"{key}: must be {words} (got {bad})"]
