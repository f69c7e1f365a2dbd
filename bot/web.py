"""The HTTP face of the app: Slack's requests, the OAuth install pages and a health check.

Nothing reaches Bolt, and nothing is parsed, before the request has proved it comes from Slack
(``SlackGate``): the body is read with a cap, the timestamp must be a whole number of seconds
within five minutes of now, and the ``v0`` signature must match. Anything else is answered 401
at once, without a traceback and without a single call to Slack or any other URL. Only then is
the body parsed (400 when it cannot be) and checked against replays: a signed request is carried
out once, however often it is sent again within its window (``bot/once.py``).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.db import Database
from bot.once import OnceLedger
from bot.settings import Settings
from bot.slack.ack_budget import RECEIVED_AT
from bot.slack.errors import VERIFIED
from bot.slack.follow_ups import FollowUps

log = logging.getLogger(__name__)

#: The largest request body read, in bytes (1 MiB). Slack's own payloads are far smaller; a
#: larger one is refused (413) while it is being read, before it can use up memory.
BODY_LIMIT = 1024 * 1024
#: Slack's window: a request whose timestamp is further than this from now is refused.
SIGNATURE_WINDOW_SECONDS = 300
#: How long a used signature is remembered past its timestamp: the window, plus clock skew
#: between the processes that share the ledger.
REPLAY_MEMORY = timedelta(seconds=SIGNATURE_WINDOW_SECONDS + 60)


ALREADY_RECEIVED = "That request was already received, so it was not carried out a second time."


class Refused(Exception):
    """A request answered before Bolt sees it; ``status`` and a short reason for the sender."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class SlackGate:
    """Checks that a request is Slack's, fresh, whole and new, before anything acts on it."""

    def __init__(self, *, signing_secret: str | None, once: OnceLedger | None) -> None:
        # No secret (a Socket Mode deployment): every HTTP request to /slack/events is refused.
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._once = once

    @classmethod
    def for_settings(cls, settings: Settings, db: Database) -> SlackGate:
        secret = settings.slack_signing_secret
        return cls(
            signing_secret=secret.get_secret_value() if secret else None, once=OnceLedger(db)
        )

    def verify(self, headers: Any, body: bytes) -> str:
        """The body as text, if the request is signed by Slack and fresh; else ``Refused`` 401."""
        timestamp = headers.get("x-slack-request-timestamp") or ""
        signature = headers.get("x-slack-signature") or ""
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
            raise Refused(401, "missing or malformed X-Slack-Request-Timestamp")
        if abs(time.time() - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
            raise Refused(401, "stale X-Slack-Request-Timestamp")
        if not (
            len(signature) == 67
            and signature.startswith("v0=")
            and all(c in "0123456789abcdef" for c in signature[3:])
        ):
            raise Refused(401, "missing or malformed X-Slack-Signature")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            # Slack signs UTF-8 text; bytes that are not cannot carry its signature.
            raise Refused(401, "body is not UTF-8") from None
        if self._verifier is None or not self._verifier.is_valid(
            body=text, timestamp=timestamp, signature=signature
        ):
            raise Refused(401, "signature does not match")
        return text

    async def first_time(self, headers: Any) -> bool:
        """Whether this signed request is new: its signature never used before in its window."""
        if self._once is None:
            return True
        sent = datetime.fromtimestamp(int(headers["x-slack-request-timestamp"]), UTC)
        return await self._once.first_use(
            "request:" + headers["x-slack-signature"][3:], expires_at=sent + REPLAY_MEMORY
        )


async def read_body(request: Request, limit: int = BODY_LIMIT) -> bytes:
    """The request body, read no further than ``limit`` bytes; ``Refused`` 413 beyond it."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise Refused(400, "malformed Content-Length")
        if int(declared) > limit:
            raise Refused(413, f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def bolt_request(request: Request, text: str, *, received_at: float) -> AsyncBoltRequest:
    """Bolt's request for a verified body; ``Refused`` 400 when the body cannot be read."""
    try:
        parsed = AsyncBoltRequest(
            body=text,
            query=request.url.query,
            headers=dict(request.headers),
            context={VERIFIED: True, RECEIVED_AT: received_at},
        )
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError):
        raise Refused(400, "body is neither a form nor a JSON object Slack would send") from None
    if not isinstance(parsed.body, dict):
        raise Refused(400, "body is not a JSON object")
    return parsed


def _refusal(refused: Refused, request: Request) -> Response:
    log.info(
        "refused %s %s (%d): %s", request.method, request.url.path, refused.status, refused.reason
    )
    return PlainTextResponse(refused.reason, status_code=refused.status)


def create_web_app(
    bolt: AsyncApp,
    db: Database,
    *,
    oauth: bool,
    gate: SlackGate,
    follow_ups: FollowUps | None,
    dispose_db: bool = True,
) -> Starlette:
    """``follow_ups``: the queue whose work waits while Slack requests await their ack."""

    async def slack_events(request: Request) -> Response:
        received_at = time.monotonic()
        try:
            body = await read_body(request)
            text = gate.verify(request.headers, body)
            incoming = bolt_request(request, text, received_at=received_at)
            if not await gate.first_time(request.headers):
                log.info("a replayed request was not carried out again")
                return _already_received(incoming)
        except Refused as refused:
            return _refusal(refused, request)
        if follow_ups is None:
            return to_starlette_response(await bolt.async_dispatch(incoming))
        with follow_ups.acknowledging():
            return to_starlette_response(await bolt.async_dispatch(incoming))

    async def oauth_page(request: Request) -> Response:
        flow = bolt.oauth_flow
        assert flow is not None
        try:
            body = await read_body(request)
            incoming = bolt_request(request, body.decode("utf-8"), received_at=time.monotonic())
        except UnicodeDecodeError:
            return _refusal(Refused(400, "body is not UTF-8"), request)
        except Refused as refused:
            return _refusal(refused, request)
        if request.url.path == flow.install_path:
            return to_starlette_response(await flow.handle_installation(incoming))
        return to_starlette_response(await flow.handle_callback(incoming))

    async def healthz(_request: Request) -> Response:
        if await db.ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "database unavailable"}, status_code=503)

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    if oauth:
        routes += [
            Route("/slack/install", oauth_page, methods=["GET"]),
            Route("/slack/oauth_redirect", oauth_page, methods=["GET"]),
        ]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        if bolt.client.session is not None:
            await bolt.client.session.close()
        if dispose_db:
            await db.dispose()

    app = Starlette(routes=routes, lifespan=lifespan)
    # What the routes hand their after-ack work to; kept visible so wiring can be checked.
    app.state.follow_ups = follow_ups
    return app


def _already_received(incoming: AsyncBoltRequest) -> Response:
    if "command" in incoming.body and "type" not in incoming.body:
        return JSONResponse({"response_type": "ephemeral", "text": ALREADY_RECEIVED})
    return Response(status_code=200)


def settle_heap() -> None:
    """Call once the app is built, before serving: start-up objects (modules, the app, its
    listeners, models) live as long as the process, so move them out of the cyclic garbage
    collector's way (``gc.freeze``) and let it run less often. Without this, a full collection
    in the middle of a burst of commands held every acknowledgement back by 100 ms or more."""
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(young, 10_000), middle, old)
