"""The Bolt app, a `Sender` and the worker's `Jobs` wired to one database, clock and fake Slack.

Several end-to-end files drive the web side through signed requests and the worker side by
ticking; each has its own `AppEnv` subclass with the helpers it needs, and builds it here so the
wiring (the production `wire`, no retry pauses, no pacing between posts) is written once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx

from bot.cadence.config import CadenceConfig
from bot.clock import ManualClock
from bot.db import Database
from bot.delivery.pacing import Pacing
from bot.devtools.driver import SlackDriver
from bot.devtools.fake_slack import FakeSlack
from bot.server import wire
from bot.slack.client import NO_PAUSES
from bot.slack.compose import default_composers
from bot.slack.deps import Deps
from bot.slack.sender import Sender, SlackClients, static_token
from bot.worker import Jobs, zone_lookup
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, AppEnv, make_settings

E = TypeVar("E", bound=AppEnv)


@asynccontextmanager
async def wired_worker(
    db: Database, fake_slack: FakeSlack, clock: ManualClock, db_url: str, make: Callable[..., E]
) -> AsyncIterator[E]:
    """``make`` (an `AppEnv` subclass with a ``jobs`` attribute) over the wired app and worker."""
    settings = make_settings(db_url, fake_slack)
    cadence = CadenceConfig()
    deps = Deps(db=db, clock=clock, cadence=cadence)
    wired = wire(settings, deps, dispose_db=False, pauses=NO_PAUSES)
    clients = SlackClients(settings, static_token(BOT_TOKEN), pauses=NO_PAUSES)
    sender = Sender(
        db=db,
        clock=clock,
        clients=clients,
        composers=default_composers(),
        cadence=cadence,
        users=deps.users,
        pacing=Pacing(channel_interval=0.0),
    )
    jobs = Jobs(
        db=db, clock=clock, cadence=cadence, sender=sender, zone_of=zone_lookup(clients, deps.users)
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=wired.web), base_url="http://testserver"
    ) as http:
        driver = SlackDriver(
            http, signing_secret=SIGNING_SECRET, response_url_for=fake_slack.response_url
        )
        made: Any = make(
            settings=settings, deps=deps, fake=fake_slack, driver=driver, http=http, web=wired.web
        )
        made.jobs = jobs
        yield made
        await made.settle()
    await clients.close()
    # The app's own clients and follow-up task, so none is left for a later test's log.
    await wired.close()
