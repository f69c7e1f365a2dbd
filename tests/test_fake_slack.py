"""The fake Slack Web API, driven by the real slack_sdk client the app uses.

If the fake drifts from what slack_sdk sends or expects, every test built on it lies; these
tests pin that contract down.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.devtools.fake_slack import ApiError, Call, FakeSlack

SLACK_FIXTURES = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "slack"
JULY_2024 = datetime(2024, 7, 1, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as running:
        yield running


def client_for(fake: FakeSlack, **kwargs: object) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.api_url, **kwargs)


async def test_urls_point_at_loopback(fake: FakeSlack) -> None:
    assert fake.base_url.startswith("http://127.0.0.1:")
    assert fake.api_url == fake.base_url + "/api/"


async def test_auth_test_describes_the_bot() -> None:
    async with FakeSlack(enterprise_id="E1") as fake:
        answer = await client_for(fake).auth_test()
    assert answer["team_id"] == "T1"
    assert answer["user_id"] == "UBOT"
    assert answer["bot_id"] == "BBOT"
    assert answer["enterprise_id"] == "E1"
    assert answer["url"].startswith("https://")
    call = fake.calls_to("auth.test")[0]
    assert call.token == "xoxb-test"
    assert call.ok


async def test_post_update_delete_and_permalink(fake: FakeSlack) -> None:
    client = client_for(fake)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*D-1* ship it?"}}]
    first = await client.chat_postMessage(channel="C1", text="D-1 ship it?", blocks=blocks)
    second = await client.chat_postMessage(channel="C1", text="reply", thread_ts=first["ts"])
    assert first["channel"] == "C1"
    assert first["message"]["text"] == "D-1 ship it?"
    assert first["ts"] < second["ts"]
    assert float(first["ts"]) > 1_600_000_000

    stored = fake.messages[("C1", first["ts"])]
    assert stored.blocks == blocks
    assert stored.user == "UBOT"
    assert not stored.updated
    assert fake.messages[("C1", second["ts"])].thread_ts == first["ts"]
    assert fake.calls_to("chat.postMessage")[0].params["blocks"] == blocks

    updated = await client.chat_update(channel="C1", ts=first["ts"], text="D-1 decided")
    assert updated["text"] == "D-1 decided"
    assert fake.messages[("C1", first["ts"])].updated
    assert fake.messages[("C1", first["ts"])].text == "D-1 decided"

    link = await client.chat_getPermalink(channel="C1", message_ts=first["ts"])
    assert link["permalink"] == (
        f"https://fake.slack.com/archives/C1/p{first['ts'].replace('.', '')}"
    )

    await client.chat_delete(channel="C1", ts=first["ts"])
    assert ("C1", first["ts"]) not in fake.messages
    with pytest.raises(SlackApiError) as missing:
        await client.chat_update(channel="C1", ts=first["ts"], text="again")
    assert missing.value.response["error"] == "message_not_found"


async def test_post_needs_content_and_a_known_channel_when_not_auto_creating() -> None:
    async with FakeSlack(auto_create_channels=False) as fake:
        fake.add_channel("C1", name="general")
        client = client_for(fake)
        await client.chat_postMessage(channel="C1", text="hello")
        with pytest.raises(SlackApiError) as unknown:
            await client.chat_postMessage(channel="C999", text="hello")
        with pytest.raises(SlackApiError) as empty, pytest.warns(UserWarning):
            await client.chat_postMessage(channel="C1", text="")
    assert unknown.value.response["error"] == "channel_not_found"
    assert empty.value.response["error"] == "no_text"
    assert [call.error for call in fake.calls] == [None, "channel_not_found", "no_text"]


async def test_form_encoded_params_and_token_field_are_understood(fake: FakeSlack) -> None:
    blocks = [{"type": "divider"}]
    client = AsyncWebClient(base_url=fake.api_url)
    await client.api_call(
        "chat.postMessage",
        data={"token": "xoxb-form", "channel": "C2", "blocks": json.dumps(blocks)},
    )
    call = fake.calls[0]
    assert call.token == "xoxb-form"
    assert "token" not in call.params
    assert call.params["blocks"] == blocks
    assert next(iter(fake.messages.values())).blocks == blocks


async def test_posting_to_a_user_opens_their_dm(fake: FakeSlack) -> None:
    client = client_for(fake)
    opened = await client.conversations_open(users="U1")
    posted = await client.chat_postMessage(channel="U1", text="nudge")
    assert opened["channel"]["id"] == "DU1" == posted["channel"]
    info = await client.conversations_info(channel="DU1")
    assert info["channel"]["is_im"]
    assert info["channel"]["user"] == "U1"


async def test_ephemeral_messages_are_kept_apart(fake: FakeSlack) -> None:
    answer = await client_for(fake).chat_postEphemeral(channel="C1", user="U1", text="usage")
    assert answer["message_ts"]
    assert fake.messages == {}
    [ephemeral] = fake.ephemerals
    assert (ephemeral.channel, ephemeral.user, ephemeral.text) == ("C1", "U1", "usage")


async def test_views_open_push_update_and_publish(fake: FakeSlack) -> None:
    client = client_for(fake)
    modal = {
        "type": "modal",
        "callback_id": "new_decision",
        "private_metadata": "C1",
        "title": {"type": "plain_text", "text": "New decision"},
        "blocks": [],
    }
    opened = await client.views_open(trigger_id="123.456", view=modal)
    view_id = opened["view"]["id"]
    assert view_id.startswith("V")
    assert fake.views[view_id]["callback_id"] == "new_decision"
    assert fake.views[view_id]["private_metadata"] == "C1"

    pushed = await client.views_push(trigger_id="123.789", view={**modal, "callback_id": "step2"})
    assert pushed["view"]["id"] != view_id

    changed = await client.views_update(view_id=view_id, view={**modal, "private_metadata": "x"})
    assert changed["view"]["id"] == view_id
    assert fake.views[view_id]["private_metadata"] == "x"
    await client.views_update(
        view_id=view_id, view={**modal, "external_id": "ext-1"}, hash=changed["view"]["hash"]
    )
    by_external = await client.views_update(external_id="ext-1", view={**modal, "blocks": []})
    assert by_external["view"]["id"] == view_id
    with pytest.raises(SlackApiError) as conflict:
        await client.views_update(view_id=view_id, view=modal, hash="stale")
    assert conflict.value.response["error"] == "hash_conflict"
    with pytest.raises(SlackApiError) as no_trigger:
        await client.api_call("views.open", json={"view": modal})
    assert no_trigger.value.response["error"] == "invalid_arguments"

    home = {"type": "home", "blocks": [{"type": "divider"}]}
    first = await client.views_publish(user_id="U1", view=home)
    again = await client.views_publish(user_id="U1", view=home)
    assert first["view"]["id"] == again["view"]["id"]
    assert fake.published_home["U1"]["type"] == "home"
    assert fake.published_home["U1"]["blocks"] == [{"type": "divider"}]


async def test_users_info_reports_timezone_and_roles() -> None:
    async with FakeSlack(clock=lambda: JULY_2024) as fake:
        fake.add_user("U1", name="ada", tz="America/Los_Angeles", is_admin=True)
        client = client_for(fake)
        answer = await client.users_info(user="U1")
        with pytest.raises(SlackApiError) as unknown:
            await client.users_info(user="U404")
    user = answer["user"]
    assert (user["id"], user["name"], user["team_id"]) == ("U1", "ada", "T1")
    assert user["tz"] == "America/Los_Angeles"
    assert user["tz_offset"] == -7 * 3600
    assert user["is_admin"] and not user["is_owner"] and not user["is_bot"]
    assert unknown.value.response["error"] == "user_not_found"


async def test_conversations_members_paginates(fake: FakeSlack) -> None:
    members = [f"U{n}" for n in range(5)]
    fake.add_channel("G1", name="secret", is_private=True, members=members)
    first_page = await client_for(fake).conversations_members(channel="G1", limit=2)
    seen: list[str] = []
    async for page in first_page:
        seen += page["members"]
    assert seen == members
    assert len(fake.calls_to("conversations.members")) == 3
    info = await client_for(fake).conversations_info(channel="G1")
    assert info["channel"]["is_private"]
    with pytest.raises(SlackApiError) as bad_cursor:
        await client_for(fake).conversations_members(channel="G1", cursor="!!")
    assert bad_cursor.value.response["error"] == "invalid_cursor"


async def test_files_upload_v2_stores_the_bytes(fake: FakeSlack) -> None:
    answer = await client_for(fake).files_upload_v2(
        channel="C1", filename="export.csv", title="Export", content=b"id,title\n1,ship\n"
    )
    assert answer["file"]["name"] == "export.csv"
    [stored] = fake.files.values()
    assert (stored.name, stored.title, stored.channel) == ("export.csv", "Export", "C1")
    assert stored.content == b"id,title\n1,ship\n"


# slack_sdk itself still sends client credentials with aiohttp's deprecated BasicAuth.
skip_basic_auth_warning = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated")


@skip_basic_auth_warning
async def test_oauth_codes_are_single_use_and_tokens_belong_to_the_install() -> None:
    async with FakeSlack(team_id="T9", enterprise_id="E9", oauth_token_rotation=True) as fake:
        fake.valid_oauth_codes.add("code-1")
        fake.oauth_client = ("cid", "secret")
        client = AsyncWebClient(base_url=fake.api_url)
        install = await client.oauth_v2_access(
            client_id="cid", client_secret="secret", code="code-1"
        )
        assert install["access_token"].startswith("xoxb-")
        assert install["team"]["id"] == "T9"
        assert install["enterprise"]["id"] == "E9"
        assert install["bot_user_id"] == "UBOT"
        assert install["authed_user"]["id"]
        assert install["refresh_token"].startswith("xoxe-")
        assert install["expires_in"] > 0
        with pytest.raises(SlackApiError) as reused:
            await client.oauth_v2_access(client_id="cid", client_secret="secret", code="code-1")
        with pytest.raises(SlackApiError) as bad_secret:
            await client.oauth_v2_access(client_id="cid", client_secret="nope", code="code-1")

        refreshed = await client.oauth_v2_access(
            client_id="cid",
            client_secret="secret",
            grant_type="refresh_token",
            refresh_token=install["refresh_token"],
        )
        assert refreshed["access_token"] != install["access_token"]
        with pytest.raises(SlackApiError) as refresh_twice:
            await client.oauth_v2_access(
                client_id="cid",
                client_secret="secret",
                grant_type="refresh_token",
                refresh_token=install["refresh_token"],
            )
        whoami = await AsyncWebClient(
            token=install["access_token"], base_url=fake.api_url
        ).auth_test()
    assert reused.value.response["error"] == "invalid_code"
    assert bad_secret.value.response["error"] == "bad_client_secret"
    assert refresh_twice.value.response["error"] == "invalid_refresh_token"
    assert (whoami["team_id"], whoami["enterprise_id"]) == ("T9", "E9")


@skip_basic_auth_warning
async def test_configured_oauth_response_is_returned(fake: FakeSlack) -> None:
    fake.valid_oauth_codes.add("c")
    fake.oauth_response = {"ok": True, "access_token": "xoxb-custom", "team": {"id": "T5"}}
    answer = await AsyncWebClient(base_url=fake.api_url).oauth_v2_access(
        client_id="a", client_secret="b", code="c"
    )
    assert answer["access_token"] == "xoxb-custom"
    whoami = await AsyncWebClient(token="xoxb-custom", base_url=fake.api_url).auth_test()
    assert whoami["team_id"] == "T5"


async def test_team_info_and_unknown_method(fake: FakeSlack) -> None:
    client = client_for(fake)
    team = await client.team_info()
    assert team["team"]["id"] == "T1"
    with pytest.raises(SlackApiError) as unknown:
        await client.api_call("chat.nonsense")
    assert unknown.value.response["error"] == "unknown_method"


async def test_custom_handler_answers_a_method(fake: FakeSlack) -> None:
    def lookup(call: Call) -> dict[str, object]:
        if call.params.get("email") != "ada@example.com":
            raise ApiError("users_not_found")
        return {"ok": True, "user": {"id": "U1"}}

    fake.on("users.lookupByEmail", lookup)
    client = client_for(fake)
    assert (await client.users_lookupByEmail(email="ada@example.com"))["user"]["id"] == "U1"
    with pytest.raises(SlackApiError):
        await client.users_lookupByEmail(email="bob@example.com")


async def test_rate_limited_fault_reaches_the_client_with_retry_after(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as limited:
        await client_for(fake).chat_postMessage(channel="C1", text="hi")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "7"
    assert limited.value.response["error"] == "ratelimited"
    assert fake.rate_limited_count == 1
    assert fake.messages == {}


async def test_rate_limit_retry_handler_succeeds_on_the_second_try(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", retry_after=0)
    client = client_for(fake, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    answer = await client.chat_postMessage(channel="C1", text="hi")
    assert answer["ok"]
    assert [call.error for call in fake.calls_to("chat.postMessage")] == ["ratelimited", None]


async def test_server_error_and_error_answers(fake: FakeSlack) -> None:
    client = client_for(fake)
    fake.fail_next("chat.postMessage", status=500)
    fake.fail_next("chat.postMessage", error="token_revoked")
    with pytest.raises(SlackApiError) as server:
        await client.chat_postMessage(channel="C1", text="hi")
    with pytest.raises(SlackApiError) as revoked:
        await client.chat_postMessage(channel="C1", text="hi")
    await client.chat_postMessage(channel="C1", text="hi")
    assert server.value.response.status_code == 500
    assert revoked.value.response.status_code == 200
    assert revoked.value.response["error"] == "token_revoked"
    assert len(fake.messages) == 1


async def test_slow_answers_until_told_otherwise(fake: FakeSlack) -> None:
    fake.add_user("U1", name="ada")
    fake.slow("users.info", 0.3)
    client = client_for(fake)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert (await client.users_info(user="U1"))["ok"]
    assert loop.time() - started >= 0.3
    assert len(fake.calls_to("users.info")) == 1
    fake.slow("users.info", 0)
    started = loop.time()
    await client.users_info(user="U1")
    assert loop.time() - started < 0.3


async def test_a_method_rate_limited_for_a_while(fake: FakeSlack) -> None:
    fake.add_user("U1", name="ada")
    fake.rate_limit_for("users.info", 0.3, retry_after=5)
    client = client_for(fake)
    with pytest.raises(SlackApiError) as limited:
        await client.users_info(user="U1")
    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "5"
    await asyncio.sleep(0.35)
    assert (await client.users_info(user="U1"))["ok"]


async def test_fault_repeats_the_requested_number_of_times(fake: FakeSlack) -> None:
    fake.fail_next("users.info", error="fatal_error", times=2)
    fake.add_user("U1", name="ada")
    client = client_for(fake)
    for _ in range(2):
        with pytest.raises(SlackApiError):
            await client.users_info(user="U1")
    assert (await client.users_info(user="U1"))["ok"]


async def test_dropped_connection_raises_a_client_error(fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", drop_connection=True)
    with pytest.raises(aiohttp.ClientError):
        await client_for(fake, retry_handlers=[]).chat_postMessage(channel="C1", text="hi")
    assert fake.messages == {}

    # What slack_sdk's default handler does, minus its back-off: retry a dropped connection once.
    fake.fail_next("chat.postMessage", drop_connection=True)
    retry_once = AsyncConnectionErrorRetryHandler(
        max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.0)
    )
    client = client_for(fake, retry_handlers=[retry_once])
    assert (await client.chat_postMessage(channel="C1", text="hi"))["ok"]
    assert [call.error for call in fake.calls_to("chat.postMessage")] == [
        "connection_dropped",
        "connection_dropped",
        None,
    ]


async def test_token_checks(fake: FakeSlack) -> None:
    fake.revoked_tokens.add("xoxb-old")
    fake.token_valid = lambda token: token != "xoxb-bad"
    outcomes = []
    for token in ("xoxb-old", "xoxb-bad", None):
        with pytest.raises(SlackApiError) as failed:
            await AsyncWebClient(token=token, base_url=fake.api_url).auth_test()
        outcomes.append(failed.value.response["error"])
    assert outcomes == ["token_revoked", "invalid_auth", "not_authed"]
    assert (await client_for(fake).auth_test())["ok"]


async def test_per_channel_rate_limit_allows_a_burst_then_answers_429() -> None:
    now = [1000.0]
    async with FakeSlack(
        enforce_rate_limits=True, per_channel_burst=2, clock=lambda: now[0]
    ) as fake:
        client = client_for(fake, retry_handlers=[])
        await client.chat_postMessage(channel="C1", text="1")
        await client.chat_postMessage(channel="C1", text="2")
        with pytest.raises(SlackApiError) as limited:
            await client.chat_postMessage(channel="C1", text="3")
        await client.chat_postMessage(channel="C2", text="other channel")
        now[0] += 1.0
        await client.chat_postMessage(channel="C1", text="after a second")
    assert limited.value.response.status_code == 429
    assert int(limited.value.response.headers["Retry-After"]) >= 1
    assert fake.rate_limited_count == 1
    assert len(fake.messages) == 4


async def test_per_method_budget_per_minute() -> None:
    now = [0.0]
    budget = {"users.info": 2}
    async with FakeSlack(
        enforce_rate_limits=True, per_method_per_minute=budget, clock=lambda: now[0]
    ) as fake:
        fake.add_user("U1", name="ada")
        client = client_for(fake, retry_handlers=[])
        await client.users_info(user="U1")
        now[0] = 30.0
        await client.users_info(user="U1")
        with pytest.raises(SlackApiError) as limited:
            await client.users_info(user="U1")
        now[0] = 60.5
        await client.users_info(user="U1")
    assert limited.value.response.headers["Retry-After"] == "30"
    assert fake.rate_limited_count == 1


async def test_response_url_records_what_respond_sends(fake: FakeSlack) -> None:
    url = fake.response_url("cmd-1")
    sent = await AsyncWebhookClient(url).send(text="D-1 recorded", response_type="ephemeral")
    assert sent.status_code == 200
    assert fake.responses_to("cmd-1") == [{"text": "D-1 recorded", "response_type": "ephemeral"}]


async def test_many_concurrent_posts_get_distinct_increasing_ts(fake: FakeSlack) -> None:
    async with aiohttp.ClientSession() as session:
        client = client_for(fake, session=session)
        answers = await asyncio.gather(
            *(client.chat_postMessage(channel=f"C{n % 5}", text=str(n)) for n in range(200))
        )
    timestamps = [answer["ts"] for answer in answers]
    assert len(set(timestamps)) == 200
    assert len(fake.messages) == 200
    assert sorted(timestamps, key=float) == sorted(timestamps)


async def test_reset_keeps_the_directory(fake: FakeSlack) -> None:
    fake.add_user("U1", name="ada")
    fake.add_channel("C1", name="general", members=["U1"])
    client = client_for(fake)
    await client.chat_postMessage(channel="C1", text="hi")
    fake.clear_calls()
    assert fake.calls == [] and len(fake.messages) == 1
    fake.fail_next("auth.test", error="fatal_error")
    fake.reset()
    assert fake.messages == {}
    assert (await client.auth_test())["ok"]
    assert (await client.users_info(user="U1"))["ok"]
    assert (await client.conversations_members(channel="C1"))["members"] == ["U1"]


@skip_basic_auth_warning
@pytest.mark.parametrize(
    "method",
    [
        "auth.test",
        "users.info",
        "conversations.open",
        "conversations.info",
        "conversations.members",
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "chat.getPermalink",
        "chat.delete",
        "views.open",
        "views.publish",
        "oauth.v2.access",
        "team.info",
    ],
)
async def test_answers_carry_the_fields_of_slacks_examples(fake: FakeSlack, method: str) -> None:
    example_file = (
        SLACK_FIXTURES / "web_api_responses" / "openapi_spec_examples" / f"{method}.ok.json"
    )
    if not SLACK_FIXTURES.is_dir():
        pytest.skip(reason=f"Slack fixtures not found at {SLACK_FIXTURES}")
    example = json.loads(example_file.read_text())

    fake.add_user("U1", name="ada")
    fake.add_channel("C1", name="general", members=["U1"])
    fake.valid_oauth_codes.add("code")
    client = client_for(fake)
    posted = await client.chat_postMessage(channel="C1", text="hi")
    view = {"type": "home" if method == "views.publish" else "modal", "blocks": []}
    args: dict[str, dict[str, object]] = {
        "users.info": {"user": "U1"},
        "conversations.open": {"users": "U1"},
        "conversations.info": {"channel": "C1"},
        "conversations.members": {"channel": "C1"},
        "chat.postMessage": {"channel": "C1", "text": "x"},
        "chat.update": {"channel": "C1", "ts": posted["ts"], "text": "y"},
        "chat.postEphemeral": {"channel": "C1", "user": "U1", "text": "x"},
        "chat.getPermalink": {"channel": "C1", "message_ts": posted["ts"]},
        "chat.delete": {"channel": "C1", "ts": posted["ts"]},
        "views.open": {"trigger_id": "1.2", "view": view},
        "views.publish": {"user_id": "U1", "view": view},
        "oauth.v2.access": {"code": "code", "client_id": "a", "client_secret": "b"},
    }
    answer = await client.api_call(method, json=args.get(method, {}))
    assert set(example) <= set(answer.data)
    if "view" in example:
        assert set(example["view"]) - {"close", "submit", "previous_view_id"} <= set(answer["view"])
