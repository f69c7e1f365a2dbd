"""Failing the way Slack fails: queued faults (429, 5xx, ``ok: false``, a dropped connection,
an answer lost after the call went through), slow methods, rate limits and bad tokens."""

from __future__ import annotations

import math
import time
from collections import deque

from bot.devtools.fake_slack.records import ApiError, Bucket, Fault, JsonDict
from bot.devtools.fake_slack.state import WorkspaceState


class FaultInjection(WorkspaceState):
    def fail_next(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        drop_connection: bool = False,
        times: int = 1,
        after_accepting: bool = False,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail; faults queue up in order.

        ``retry_after`` alone means a 429; ``status`` >= 500 alone means a server error;
        ``error`` alone means HTTP 200 with ``ok: false``. ``after_accepting``: carry the call
        out (a post is stored) and only then fail the answer.
        """
        if retry_after is not None and status == 200:
            status = 429
        if error is None:
            error = "ratelimited" if status == 429 else "fatal_error" if status >= 500 else None
        if error is None and not drop_connection:
            raise ValueError("fail_next needs an error, a failing status, or drop_connection")
        fault = Fault(error, status, retry_after, drop_connection, times, after_accepting)
        self._faults.setdefault(method, deque()).append(fault)

    def slow(self, method: str, seconds: float) -> None:
        """Answer every call of ``method`` only after ``seconds`` (0 or ``reset`` ends it).

        The call is recorded when it arrives; faults queued with ``fail_next`` still apply.
        """
        if seconds > 0:
            self._delays[method] = seconds
        else:
            self._delays.pop(method, None)

    def rate_limit_for(self, method: str, seconds: float, *, retry_after: int) -> None:
        """Answer every call of ``method`` arriving in the next ``seconds`` with a 429 and
        ``Retry-After``, as Slack does once a method's per-minute budget is spent."""
        self._limited[method] = (time.monotonic() + seconds, retry_after)

    def _take_fault(self, method: str) -> Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    def _check_token(self, token: str | None) -> None:
        if not token:
            raise ApiError("not_authed")
        if token in self.revoked_tokens:
            raise ApiError("token_revoked")
        if self.token_valid is not None and not self.token_valid(token):
            raise ApiError("invalid_auth")

    def _rate_limit(self, method: str, token: str | None, params: JsonDict) -> int | None:
        """Seconds the client must wait, or None when the call is within Slack's limits."""
        if not self.enforce_rate_limits:
            return None
        now = self._clock()
        budget = self.per_method_per_minute.get(method)
        if budget is not None:
            window = self._method_windows.setdefault((token, method), deque())
            span = self.per_method_window_seconds
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= budget:
                return max(1, math.ceil(window[0] + span - now))
            window.append(now)
        channel = params.get("channel")
        if method == "chat.postMessage" and isinstance(channel, str) and channel:
            rate = self.per_channel_per_second
            bucket = self._channel_buckets.get(channel)
            if bucket is None:
                bucket = Bucket(tokens=float(self.per_channel_burst), last=now)
                self._channel_buckets[channel] = bucket
            bucket.tokens = min(
                float(self.per_channel_burst), bucket.tokens + (now - bucket.last) * rate
            )
            bucket.last = now
            if bucket.tokens < 1.0:
                return max(1, math.ceil((1.0 - bucket.tokens) / rate))
            bucket.tokens -= 1.0
        return None
