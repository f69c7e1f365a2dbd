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

Every client's pauses between attempts come from one ``RetryPauses`` (slack_sdk's interval
calculator, with the jitter slack_sdk adds to a Retry-After): ``SLACK_PAUSES`` in production,
``NO_PAUSES`` in tests, passed where the clients are built. A Retry-After itself is always
honoured; only the backoff and the jitter are the calculator's.

Kept apart from the Bolt app so the worker can talk to Slack without importing every listener.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Mapping
from typing import Any

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
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


class RetryPauses(RetryIntervalCalculator):
    """How long a client pauses before trying again: slack_sdk's exponential backoff (with
    jitter) after a connection error or a 5xx, and Retry-After plus up to a second of jitter
    after a 429, as slack_sdk's own 429 handler sleeps.

    ``backoff_factor=0, jitter=False`` pauses for nothing but the Retry-After: the tests' choice.
    """

    def __init__(self, *, backoff_factor: float = 0.5, jitter: bool = True) -> None:
        self.backoff_factor = backoff_factor
        self.jitter = jitter
        self._sdk = BackoffRetryIntervalCalculator(backoff_factor=backoff_factor)

    def calculate_sleep_duration(self, current_attempt: int) -> float:
        if self.jitter:
            return float(self._sdk.calculate_sleep_duration(current_attempt))
        return float(self.backoff_factor * 2**current_attempt)

    def after_rate_limit(self, retry_after: float | None) -> float:
        """Seconds to wait after a 429 that named ``retry_after`` (None: about a second)."""
        wait = 1.0 if retry_after is None else retry_after
        return wait + (random.random() if self.jitter else 0.0)


#: Production: slack_sdk's own pauses.
SLACK_PAUSES = RetryPauses()
#: Tests: no backoff and no jitter; a Retry-After is still waited out.
NO_PAUSES = RetryPauses(backoff_factor=0, jitter=False)


def pauses_of(client: AsyncWebClient) -> RetryPauses:
    """The pauses ``client`` was built with (Bolt's copies of a client keep its handlers)."""
    for handler in client.retry_handlers or []:
        if isinstance(handler.interval_calculator, RetryPauses):
            return handler.interval_calculator
    return SLACK_PAUSES


def connection_retries(
    pauses: RetryPauses,
    max_retry_count: int,
    error_types: list[type[Exception]] | None = None,
) -> AsyncConnectionErrorRetryHandler:
    """slack_sdk's connection-error handler (its error types unless ``error_types``)."""
    if error_types is None:
        return AsyncConnectionErrorRetryHandler(max_retry_count, interval_calculator=pauses)
    return AsyncConnectionErrorRetryHandler(
        max_retry_count, interval_calculator=pauses, error_types=error_types
    )


class RateLimitRetryHandler(AsyncRateLimitErrorRetryHandler):
    """slack_sdk's 429 handler, pausing as its ``RetryPauses`` says (Retry-After + jitter).

    slack_sdk's own sleeps ``int(Retry-After) + random()`` and ignores its interval calculator;
    this one reads the header as ``retry_after_seconds`` does and asks the calculator.
    """

    def __init__(self, max_retry_count: int = 1, *, pauses: RetryPauses = SLACK_PAUSES) -> None:
        super().__init__(max_retry_count=max_retry_count, interval_calculator=pauses)
        self.pauses = pauses

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            if error is not None:
                raise error
            return
        state.next_attempt_requested = True
        await asyncio.sleep(self.pauses.after_rate_limit(retry_after_seconds(response.headers)))
        state.increment_current_attempt()


class CappedRateLimitRetryHandler(RateLimitRetryHandler):
    """slack_sdk's 429 handler, for a Retry-After of at most ``max_wait`` seconds only.

    slack_sdk sleeps out whatever Slack names. A longer wait, or a header it cannot read (the SDK
    would fail on one that is not a whole number), is left to the caller as the 429 itself.
    """

    def __init__(
        self,
        max_retry_count: int = 2,
        *,
        max_wait: float = MAX_RETRY_AFTER,
        pauses: RetryPauses = SLACK_PAUSES,
    ) -> None:
        super().__init__(max_retry_count=max_retry_count, pauses=pauses)
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
    settings: Settings,
    token: str | None = None,
    *,
    session: aiohttp.ClientSession | None = None,
    pauses: RetryPauses = SLACK_PAUSES,
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
            connection_retries(pauses, 2),
            CappedRateLimitRetryHandler(max_retry_count=2, pauses=pauses),
            AsyncServerErrorRetryHandler(max_retry_count=2, interval_calculator=pauses),
        ],
    )


def request_client(
    settings: Settings,
    token: str | None,
    *,
    session: aiohttp.ClientSession,
    pauses: RetryPauses = SLACK_PAUSES,
) -> AsyncWebClient:
    """The client Bolt copies for every request: short timeout, no Retry-After sleeps."""
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        session=session,
        timeout=REQUEST_TIMEOUT,
        retry_handlers=[connection_retries(pauses, 1)],
    )


def fact_client(client: AsyncWebClient) -> AsyncWebClient:
    """``client``'s token, connection pool and pauses, waiting out up to two 429s."""
    pauses = pauses_of(client)
    handlers: list[AsyncRetryHandler] = [
        connection_retries(pauses, 1),
        RateLimitRetryHandler(max_retry_count=2, pauses=pauses),
    ]
    return AsyncWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        session=client.session,
        team_id=client.default_params.get("team_id"),
        logger=client.logger,
        retry_handlers=handlers,
    )
