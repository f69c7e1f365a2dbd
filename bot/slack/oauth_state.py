"""The OAuth ``state`` of an install: signed, not stored, and good for one redirect.

``/slack/install`` is open to anyone, so it must not write anything: slack_sdk's
``StatelessOAuthStateStore`` issues a state that is an HMAC-signed token carrying its expiry,
and the install page also sets it as a cookie. The redirect is accepted only with a state we
signed, unexpired, matching the browser's cookie (Bolt checks that before asking the store),
and never used before: its first use is recorded in the used-once ledger (``bot/once.py``)
until the state would have expired anyway, so a replayed redirect is refused. Nothing is written
for a state that is forged, expired or from another browser.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from datetime import timedelta
from typing import Any

from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.stateless import StatelessOAuthStateStore

from bot.once import OnceLedger


class _NoncedState(StatelessOAuthStateStore):
    """slack_sdk's signed state with a random nonce beside its expiry.

    The library's token carries only the expiry, in whole seconds, so two installs started in
    the same second would get the same state and the second could never be used once. Signing
    and checking stay the library's; ``consume`` ignores claims it does not know.
    """

    def issue(self, *args: Any, **kwargs: Any) -> str:
        header = self._b64url_encode(b'{"alg":"HS256","typ":"JWT"}')
        claims = {"exp": int(time.time()) + self.expiration_seconds, "nonce": secrets.token_hex(8)}
        payload = self._b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
        return f"{header}.{payload}.{self._sign(f'{header}.{payload}')}"


class OneTimeOAuthState(AsyncOAuthStateStore):
    def __init__(self, *, secret: str, expiration_seconds: int, once: OnceLedger) -> None:
        self._signed = _NoncedState(expiration_seconds=expiration_seconds, signing_secret=secret)
        self._lifetime = timedelta(seconds=expiration_seconds)
        self._once = once

    @property
    def logger(self) -> Any:
        return self._signed.logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return self._signed.issue()

    async def async_consume(self, state: str) -> bool:
        if not self._signed.consume(state):
            return False
        digest = hashlib.sha256(state.encode("utf-8", "replace")).hexdigest()
        return await self._once.first_use(
            "oauth-state:" + digest, expires_at=self._once.now() + self._lifetime
        )
