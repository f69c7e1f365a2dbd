"""The Slack Web API clients: our SLACK_API_URL and slack_sdk's retries, chosen per path.

- ``web_client``: for what the app sends on its own (the worker, the sender): it retries
  connection errors, 5xx and 429s as slack_sdk's handlers do, but sleeps out a Retry-After only
  up to ``MAX_RETRY_AFTER`` seconds. A longer one comes back to the caller as the 429, so the
  sender reschedules the row for then instead of sleeping past its delivery lease.
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

import contextlib
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings

#: Seconds one Web API call on the request path may take before it counts as failed.
REQUEST_TIMEOUT = 10
#: Seconds a listener waits in all for one fact (a person's time zone or admin rights), 429s
#: included; beyond that the fact is unknown and the listener says so or falls back.
FACT_PATIENCE = 20.0
#: The longest Retry-After the worker's clients sleep out within one call (twice at most).
MAX_RETRY_AFTER = 30.0
#: Seconds one Web API call of the worker may take (slack_sdk's default).
WORKER_TIMEOUT = 30


def retry_after_seconds(headers: Mapping[str, Any] | None) -> float | None:
    """The Retry-After header in seconds (whole or not), or None when absent or unreadable."""
    for name, value in dict(headers or {}).items():
        if name.lower() == "retry-after":
            with contextlib.suppress(TypeError, ValueError, IndexError):
                seconds = float(value[0] if isinstance(value, list) else value)
                if seconds >= 0:
                    return seconds
    return None


class CappedRateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, for a Retry-After of at most ``max_wait`` seconds only.

    slack_sdk sleeps out whatever Slack names. A longer wait, or a header it cannot read (the SDK
    would fail on one that is not a whole number), is left to the caller as the 429 itself.
    """

    def __init__(self, max_retry_count: int = 2, *, max_wait: float = MAX_RETRY_AFTER) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        names = [k for k in response.headers if k.lower() == "retry-after"]
        if not names:
            return True  # slack_sdk then waits about a second
        raw = response.headers[names[0]]
        text = str(raw[0] if isinstance(raw, list) and raw else raw)
        return text.isdigit() and int(text) <= self.max_wait


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
        timeout=WORKER_TIMEOUT,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            CappedRateLimitRetryHandler(max_retry_count=2),
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
