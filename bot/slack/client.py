"""The Slack Web API clients: our SLACK_API_URL and slack_sdk's retries, chosen per path.

- ``web_client``: for what the app sends on its own (the worker, the sender): it retries
  connection errors, 5xx and 429s as slack_sdk's handlers do.
- ``request_client``: the Bolt app's, used while a person waits for an answer. It never sleeps
  out a Retry-After (a 429 is an error at once) and gives up on a call after
  ``REQUEST_TIMEOUT`` seconds.
- ``fact_client``: the same token as a request's client, for the facts a listener needs about a
  person or a channel (users.info, conversations.info). Those are worth waiting for, so it does
  wait out a 429; the ack deadline (``bot/slack/ack_budget.py``) keeps the person informed
  meanwhile, and callers bound the whole wait with ``FACT_PATIENCE``.

Kept apart from the Bolt app so the worker can talk to Slack without importing every listener.
"""

from __future__ import annotations

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings

#: Seconds one Web API call on the request path may take before it counts as failed.
REQUEST_TIMEOUT = 10
#: Seconds a listener waits in all for one fact (a person's time zone or admin rights), 429s
#: included; beyond that the fact is unknown and the listener says so or falls back.
FACT_PATIENCE = 20.0


def web_client(
    settings: Settings, token: str | None = None, *, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """A Web API client for ``SLACK_API_URL`` that retries what is safe to retry.

    Pass one ``session`` per process: without it slack_sdk opens a new connection per call.
    """
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        session=session,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def request_client(
    settings: Settings, token: str | None, *, session: aiohttp.ClientSession
) -> AsyncWebClient:
    """The client Bolt copies for every request: short timeout, no Retry-After sleeps."""
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        session=session,
        timeout=REQUEST_TIMEOUT,
        retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=1)],
    )


def fact_client(client: AsyncWebClient) -> AsyncWebClient:
    """``client``'s token and connection pool, waiting out up to two 429s."""
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        session=client.session,
        team_id=client.default_params.get("team_id"),
        logger=client.logger,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )
