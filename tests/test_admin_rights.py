"""Admin rights are never taken from an old answer.

The attack run found a demoted admin keeping admin powers for an hour (users.info cached 3,600
s). Now: changing one's own item asks Slack nothing; changing someone else's asks at once;
admin-only actions (settings, export, sending the digest) take an answer at most three minutes
old; a ``user_change`` event replaces the cached answer as soon as Slack sends it.
"""

from __future__ import annotations

import pytest

from bot.slack.users import ADMIN_MAX_AGE, UserDirectory
from tests.conftest import AppEnv
from tests.test_tenancy import T1 as WS
from tests.test_tenancy import decision


def users_info_calls(env: AppEnv, user: str) -> int:
    return len([c for c in env.fake.calls_to("users.info") if c.params.get("user") == user])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_changing_ones_own_item_asks_slack_nothing(app_env: AppEnv) -> None:
    await app_env.command("/decision", "new Pick a vendor")
    await app_env.command("/decision", "new Pick a venue")
    app_env.deps.users = UserDirectory()
    app_env.fake.clear_calls()
    decided = (await app_env.command("/decision", "decide D-1 Acme")).json()
    assert decided["response_type"] == "in_channel"
    await app_env.command("/decision", "drop D-2")
    assert app_env.fake.calls_to("users.info") == []
    assert (await decision(app_env, WS, 1)).status == "decided"
    assert (await decision(app_env, WS, 2)).status == "dropped"


async def test_a_demoted_admin_is_refused_at_once_for_other_peoples_items(
    app_env: AppEnv,
) -> None:
    for title in ("One", "Two", "Three"):
        await app_env.command("/decision", f"new {title}")
    assert (
        "decided"
        in (await app_env.command("/decision", "decide D-1 Yes", user_id="UADMIN")).json()["text"]
    )
    app_env.fake.users["UADMIN"].is_admin = False
    refused = (await app_env.command("/decision", "drop D-2", user_id="UADMIN")).json()
    assert "or a workspace admin can change it" in refused["text"]
    assert (await decision(app_env, WS, 2)).status == "open"
    # The same for a button: the Drop button on D-3's card.
    await app_env.interact(
        app_env.driver.press("decision_drop", user_id="UADMIN", value="T1:D-3", channel_id="C1")
    )
    assert (await decision(app_env, WS, 3)).status == "open"
    assert users_info_calls(app_env, "UADMIN") == 3  # asked each time, never from the cache


async def test_admin_only_actions_take_an_answer_at_most_three_minutes_old(
    app_env: AppEnv,
) -> None:
    clock = Clock()
    app_env.deps.users = UserDirectory(clock=clock)
    await app_env.command("/hygiene", "settings", user_id="UADMIN")
    assert len(app_env.fake.calls_to("views.open")) == 1
    app_env.fake.users["UADMIN"].is_admin = False
    clock.now += ADMIN_MAX_AGE - 1  # the answer from a moment ago still serves
    await app_env.command("/hygiene", "settings", user_id="UADMIN")
    assert len(app_env.fake.calls_to("views.open")) == 2
    assert users_info_calls(app_env, "UADMIN") == 1
    clock.now += 2  # now it is too old: Slack is asked, and says no
    refused = (await app_env.command("/hygiene", "settings", user_id="UADMIN")).json()
    assert "admins and owners" in refused["text"]
    assert len(app_env.fake.calls_to("views.open")) == 2
    export = (await app_env.command("/hygiene", "export", user_id="UADMIN")).json()
    assert "Only workspace admins can export" in export["text"]


async def test_user_change_events_replace_what_is_cached_at_once(app_env: AppEnv) -> None:
    clock = Clock()
    app_env.deps.users = UserDirectory(clock=clock)
    await app_env.command("/hygiene", "settings", user_id="UADMIN")
    demoted = {"id": "UADMIN", "name": "ada", "tz": "UTC", "is_admin": False, "team_id": "T1"}
    await app_env.interact(app_env.driver.event({"type": "user_change", "user": demoted}))
    refused = (await app_env.command("/hygiene", "settings", user_id="UADMIN")).json()
    assert "admins and owners" in refused["text"]
    promoted = {"id": "U2", "name": "ben", "tz": "UTC", "is_admin": True, "team_id": "T1"}
    await app_env.interact(app_env.driver.event({"type": "user_change", "user": promoted}))
    app_env.fake.clear_calls()
    await app_env.command("/hygiene", "settings", user_id="U2")
    assert len(app_env.fake.calls_to("views.open")) == 1
    assert users_info_calls(app_env, "U2") == 0


@pytest.mark.parametrize("failure", [{"status": 500}, {"error": "fatal_error"}])
async def test_rights_slack_cannot_confirm_are_a_clear_refusal(
    app_env: AppEnv, failure: dict[str, object]
) -> None:
    await app_env.command("/decision", "new One")
    app_env.fake.fail_next("users.info", **failure)  # type: ignore[arg-type]
    refused = (await app_env.command("/decision", "drop D-1", user_id="UADMIN")).json()
    assert "could not check your rights with Slack" in refused["text"]
    assert "nothing was changed" in refused["text"]
    assert (await decision(app_env, WS, 1)).status == "open"
