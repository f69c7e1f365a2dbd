"""``python -m bot serve`` builds its web app with the same factory as the tests and the shell.

``serve`` calls ``wire(settings, build_deps(settings, cadence))``; this test builds exactly
that (no test-only parts), drives a signed command through it and sees the card go out through
the follow-ups queue, after the acknowledgement. tests/test_processes.py runs ``serve`` itself as
a subprocess.
"""

from __future__ import annotations

import httpx
import pytest

from bot.cadence.config import CadenceConfig
from bot.db import Database
from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import FakeSlack
from bot.server import build_deps, wire
from tests.conftest import SIGNING_SECRET, make_settings


@pytest.mark.commits  # the production wiring opens its own engine
async def test_serve_wiring_posts_cards_after_the_ack_through_the_follow_ups_queue(
    db: Database, fake_slack: FakeSlack, db_url: str
) -> None:
    settings = make_settings(db_url, fake_slack)
    wired = wire(settings, build_deps(settings, CadenceConfig()))
    assert wired.web.state.follow_ups is wired.deps.follow_ups
    transport = httpx.ASGITransport(app=wired.web)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://serve") as http:
            driver = SlackDriver(
                http, signing_secret=SIGNING_SECRET, response_url_for=fake_slack.response_url
            )
            response = await driver.command(
                "/decision", "new Wired like production", user_id="U1", channel_id="C1"
            )
            assert response.status_code == 200
            assert "D-1" in response.json()["text"]
            await wired.deps.follow_ups.drain()
    finally:
        await wired.close()
        await wired.deps.db.dispose()
    (card,) = [c for c in fake_slack.calls_to("chat.postMessage") if c.ok]
    assert card.params["channel"] == "C1"
    assert "Wired like production" in str(card.params.get("text"))
