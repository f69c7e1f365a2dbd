"""/decision end to end: signed requests in, rows stored, Web API calls out to the fake Slack."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.decisions.models import Decision
from tests.conftest import AppEnv


async def count_decisions(env: AppEnv) -> int:
    async with env.deps.db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Decision)) or 0)


async def test_new_decision_is_stored_acked_with_ref_and_posted(app_env: AppEnv) -> None:
    response = await app_env.command("/decision", "new Pick a payroll vendor <@U2|ben> by friday")
    assert response.status_code == 200
    assert "D-1" in response.json()["text"]
    posts = app_env.fake.calls_to("chat.postMessage")
    assert len(posts) == 1
    assert posts[0].params["channel"] == "C1"
    text = str(posts[0].params["blocks"])
    assert "Pick a payroll vendor" in text and "<@U2>" in text and "Fri 27 Nov 2026" in text
    async with app_env.deps.db.transaction() as session:
        d = await session.scalar(select(Decision))
    assert d is not None and d.number == 1 and d.owner_id == "U2" and d.message_ts


async def test_bad_date_is_refused_and_nothing_changes(app_env: AppEnv) -> None:
    response = await app_env.command("/decision", "new Pick a vendor by 2026-13-45")
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    assert "YYYY-MM-DD" in body["text"]
    assert await count_decisions(app_env) == 0
    assert app_env.fake.calls_to("chat.postMessage") == []


@pytest.mark.parametrize("hostile", ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S123|team>"])
async def test_broadcasts_never_go_out_live(app_env: AppEnv, hostile: str) -> None:
    await app_env.command("/decision", f"new Ship it {hostile} &lt;http://evil.example|click&gt;")
    post = app_env.fake.calls_to("chat.postMessage")[0]
    rendered = str(post.params["blocks"]) + post.params.get("text", "")
    assert "<!" not in rendered
    assert "<http" not in rendered
