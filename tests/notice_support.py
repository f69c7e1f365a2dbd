"""A worker beside the app for tests of DMs: signed requests in, a tick, DMs out of the fake.

`worker_env` wires the Bolt app, a `Sender` and the worker's `Jobs` to one database, clock and
fake Slack, the way tests/test_nudges_e2e.py does, with two more people in London.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select

from bot.clock import ManualClock
from bot.db import Database
from bot.delivery.models import Delivery
from bot.devtools.blockkit_checks import check_message
from bot.devtools.fake_slack import FakeSlack
from bot.worker import Jobs, TickReport
from tests.conftest import AppEnv
from tests.worker_support import wired_worker

# Monday 10:00 UTC is 10:00 in London (UDEE4, working hours), 02:00 in Los Angeles (U2, night).
LONDON = "UDEE4"


class Env(AppEnv):
    jobs: Jobs

    async def tick(self) -> TickReport:
        return await self.jobs.tick()

    def at(self, moment: datetime) -> None:
        self.deps.clock.set(moment)  # type: ignore[attr-defined]

    def dms(self, user: str) -> list[dict[str, Any]]:
        """Every DM the worker posted to ``user`` (the channel is their id), checked for limits."""
        found = [
            c.params
            for c in self.fake.calls_to("chat.postMessage")
            if c.ok and c.params["channel"] == user
        ]
        for params in found:
            assert check_message(params) == [], params
        return found

    def dm_message(self, user: str) -> dict[str, Any]:
        """The last DM to ``user`` as the message a button press comes from."""
        params = self.dms(user)[-1]
        ts = next(
            ts
            for (channel, ts), m in self.fake.messages.items()
            if channel == f"D{user}" and m.text == params["text"]
        )
        return {"ts": ts, "type": "message", "text": params["text"], "blocks": params["blocks"]}

    def latest_view(self) -> dict[str, Any]:
        opened = self.fake.calls_to("views.open")
        assert opened, "no modal was opened"
        view: dict[str, Any] = opened[-1].params["view"]
        return view

    async def notices(self) -> list[Delivery]:
        async with self.deps.db.transaction() as session:
            rows = await session.scalars(
                select(Delivery).where(Delivery.kind.like("notice:%")).order_by(Delivery.id)
            )
            return list(rows)


@asynccontextmanager
async def worker_env(
    db: Database, fake_slack: FakeSlack, clock: ManualClock, db_url: str
) -> AsyncIterator[Env]:
    fake_slack.add_user(LONDON, name="dee", tz="Europe/London")
    fake_slack.add_user("UEVE5", name="eve", tz="Europe/London")
    async with wired_worker(db, fake_slack, clock, db_url, Env) as made:
        yield made
