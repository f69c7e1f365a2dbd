"""The sending half of a worker tick: claim due ledger rows, compose each, post it, settle it.

Rows are claimed under a lease, at most one per conversation (see `bot.delivery.ledger`), and
flow through a pipeline: while some wait for their turn, more are claimed, so one busy channel
or workspace never holds up the rest. Before each post the `Pacer` keeps to about one message
per second per channel and to a per-minute budget per workspace, the limits Slack enforces on
``chat.postMessage``; a 429 that still gets through is honoured: a short Retry-After (at most
``client.MAX_RETRY_AFTER``) is slept out by the client, a longer one, or one that persists,
reschedules the row for the moment Slack named. No call sleeps past what is left of its lease.

While a row is in this sender's hands its lease is renewed every ``lease / 4``, so a post that is
slow (Slack slow, or waiting for its turn) never lets another sender claim and post it too. A
renewal that finds the row no longer ours (its lease ran out meanwhile and someone else took it)
stops the row here before it is posted.

Outcomes:
- Slack said ok: the row is sent, with the message's channel and ``ts``.
- A transient failure (429, 5xx, ``fatal_error`` …, a connection that could not be opened): the
  row goes back with exponential backoff, and fails after `ledger.MAX_ATTEMPTS`.
- A permanent error (``invalid_auth``, ``token_revoked``, ``account_inactive``,
  ``user_not_found``, ``channel_not_found``, ``not_in_channel`` and every other error Slack
  does not call temporary): the row fails at once, without retrying.
- The outcome is unknown (a 5xx or ``fatal_error``, the connection broke after the request went
  out, or it timed out): Slack may or may not have posted it. The row goes back with backoff;
  every post carries message metadata naming its delivery, and a row tried before is first
  looked for in the conversation's history (`Sender._already_posted`): found, it is recorded and
  not posted again. slack_sdk never resends a post except after a failure to *connect* or a 429.
- Slack said ok but recording it fails: only the recording is retried, per row; the post never
  is, and the row is never given back. docs/NUDGES.md says what can still give a second copy.

Tokens come from a ``token_for(ws)`` callable: the one bot token in single-workspace mode, the
installation store (with token rotation) in OAuth mode.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.cadence.config import CadenceConfig
from bot.clock import Clock
from bot.db import Database
from bot.delivery import ledger
from bot.delivery.models import Delivery
from bot.delivery.pacing import Pacer, Pacing
from bot.delivery.settle import Settler
from bot.prefs import service as prefs
from bot.settings import Settings
from bot.slack.client import (
    SLACK_PAUSES,
    RetryPauses,
    connection_retries,
    retry_after_seconds,
    web_client,
)
from bot.slack.compose import (
    BatchedReads,
    ComposeContext,
    Composers,
    Later,
    OutgoingMessage,
    Record,
)
from bot.slack.holds import Holds
from bot.slack.privacy import is_person
from bot.slack.replies import GONE
from bot.slack.users import UserDirectory
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces

log = logging.getLogger(__name__)

TokenFor = Callable[[WorkspaceKey], Awaitable[str | None]]
"""The bot token for a workspace, or None when the app is not installed there."""

# Errors Slack documents as temporary; every other `ok: false` error is about the request or
# the token, and sending the same thing again cannot help.
TRANSIENT_ERRORS = frozenset(
    {
        "ratelimited",
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)
# Errors after which Slack may have posted the message all the same (it says so of fatal_error):
# with any 5xx, the post's outcome is unknown, and it is looked for before it is sent again.
UNKNOWN_OUTCOME_ERRORS = frozenset(
    {"fatal_error", "internal_error", "service_unavailable", "request_timeout"}
)
# Every post carries this metadata event with its delivery's id, so a post whose answer was lost
# can be found in the conversation's history instead of being sent a second time.
DELIVERY_EVENT = "followthrough_delivery"
# How much of a conversation's newest history is searched for such a post (pages of 200).
HISTORY_PAGES = 2
HISTORY_PAGE_SIZE = 200
# Recording "sent" is retried this often (seconds between tries) before the row is left leased.
RECORD_RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0)

# The permanent errors a reminder meets most; listed for readers and tests, since any error
# outside TRANSIENT_ERRORS is treated the same way.
PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth",
        "token_revoked",
        "account_inactive",
        "user_not_found",
        "channel_not_found",
        "not_in_channel",
    }
)
# After these the cached token is dropped: the workspace may have reinstalled with a new one.
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "token_revoked", "account_inactive", "not_authed", "token_expired"}
)

# A post is started only while this much of its lease is left: enough for slack_sdk's retries
# (two Retry-After sleeps of at most MAX_RETRY_AFTER and three timeouts, ~2.5 min), so no other
# sender can claim the row while its send may still be under way, even if renewals failed.
SEND_MARGIN = timedelta(minutes=5)
TOKEN_CACHE_SECONDS = 300.0
ROTATE_BEFORE_MINUTES = 120


def is_transient(error: str | None, status: int) -> bool:
    return status == 429 or status >= 500 or (error is not None and error in TRANSIENT_ERRORS)


def sender_id() -> str:
    """Who holds a lease: host, process and a random part, for operators reading the ledger."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# --- tokens and clients -------------------------------------------------------------------------


def static_token(token: str) -> TokenFor:
    """Single-workspace mode: the one bot token (``SLACK_BOT_TOKEN``) serves every row."""

    async def token_for(_ws: WorkspaceKey) -> str | None:
        return token

    return token_for


def installation_tokens(settings: Settings, engine: AsyncEngine) -> TokenFor:
    """OAuth mode: each workspace's bot token from the installation store, rotated when due."""
    assert settings.slack_client_id and settings.slack_client_secret
    store = AsyncSQLAlchemyInstallationStore(client_id=settings.slack_client_id, engine=engine)
    rotator = AsyncTokenRotator(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        client=web_client(settings),
    )

    async def token_for(ws: WorkspaceKey) -> str | None:
        bot: Bot | None = await store.async_find_bot(
            enterprise_id=ws.enterprise_id or None, team_id=ws.team_id
        )
        if bot is None and ws.enterprise_id:
            bot = await store.async_find_bot(
                enterprise_id=ws.enterprise_id, team_id=None, is_enterprise_install=True
            )
        if bot is None:
            return None
        if bot.bot_refresh_token:
            refreshed = await rotator.perform_bot_token_rotation(
                bot=bot, minutes_before_expiration=ROTATE_BEFORE_MINUTES
            )
            if refreshed is not None:
                await store.async_save_bot(refreshed)
                bot = refreshed
        return bot.bot_token

    return token_for


def token_source(settings: Settings, db: Database) -> TokenFor:
    if settings.oauth_mode:
        return installation_tokens(settings, db.engine)
    assert settings.slack_bot_token is not None
    return static_token(settings.slack_bot_token.get_secret_value())


class WorkspaceUnavailable(Exception):
    """No token could be had for a workspace just now (its rotation or the store failed).

    Raised by `SlackClients.for_workspace`; the failure is logged once, with the workspace, and
    remembered for ``TOKEN_FAILURE_SECONDS``, so one workspace's broken installation costs one
    line a tick and never stops the others.
    """

    def __init__(self, ws: WorkspaceKey, reason: str) -> None:
        super().__init__(f"no token for {ws}: {reason}")
        self.ws = ws
        self.reason = reason


TOKEN_FAILURE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class WorkspaceClients:
    """``reader`` is the app's client (reads are safe to retry on any connection error);
    ``sender`` retries only failures to connect, so a post is never resent blindly."""

    reader: AsyncWebClient
    sender: AsyncWebClient


class SlackClients:
    """Web API clients per workspace token, sharing one HTTP connection pool and one
    ``RetryPauses`` (``bot.slack.client``)."""

    def __init__(
        self,
        settings: Settings,
        token_for: TokenFor,
        *,
        cache_seconds: float = TOKEN_CACHE_SECONDS,
        pauses: RetryPauses = SLACK_PAUSES,
    ) -> None:
        self._settings = settings
        self._pauses = pauses
        self._token_for = token_for
        self._cache_seconds = cache_seconds
        self._tokens: dict[WorkspaceKey, tuple[float, str | None]] = {}
        self._broken: dict[WorkspaceKey, tuple[float, str]] = {}
        self._clients: dict[str, WorkspaceClients] = {}
        self._session: aiohttp.ClientSession | None = None

    async def for_workspace(self, ws: WorkspaceKey) -> WorkspaceClients | None:
        """The workspace's clients; None when the app is not installed there.

        Raises `WorkspaceUnavailable` when its token cannot be had now (a failed rotation, say).
        """
        cached = self._tokens.get(ws)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            token = cached[1]
        else:
            broken = self._broken.get(ws)
            if broken is not None and broken[0] > now:
                raise WorkspaceUnavailable(ws, broken[1])
            try:
                token = await self._token_for(ws)
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                self._broken[ws] = (now + TOKEN_FAILURE_SECONDS, reason)
                log.error("no token for %s (the others go on): %s", ws, reason)
                raise WorkspaceUnavailable(ws, reason) from exc
            self._broken.pop(ws, None)
            self._tokens[ws] = (now + self._cache_seconds, token)
        if token is None:
            return None
        clients = self._clients.get(token)
        if clients is None:
            clients = WorkspaceClients(
                reader=self._client(token, for_posting=False),
                sender=self._client(token, for_posting=True),
            )
            self._clients[token] = clients
        return clients

    def forget(self, ws: WorkspaceKey) -> None:
        """Drop a workspace's token after Slack refused it; the next use asks ``token_for``."""
        cached = self._tokens.pop(ws, None)
        if cached is not None and cached[1] is not None:
            self._clients.pop(cached[1], None)

    def _client(self, token: str, *, for_posting: bool) -> AsyncWebClient:
        client = web_client(self._settings, token=token, pauses=self._pauses)
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=client.timeout)
            )
        client.session = self._session
        if for_posting:
            # A post is resent by the SDK only when nothing reached Slack: a failure to connect,
            # or a 429 (Slack refused it). A 5xx may have posted it (Slack says so of
            # fatal_error), so the sender decides, after looking for it (see `_already_posted`).
            client.retry_handlers = [
                connection_retries(self._pauses, 2, error_types=[aiohttp.ClientConnectorError]),
                *(
                    h
                    for h in client.retry_handlers
                    if not isinstance(
                        h, AsyncConnectionErrorRetryHandler | AsyncServerErrorRetryHandler
                    )
                ),
            ]
        return client

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._clients.clear()


# --- the sender -----------------------------------------------------------------------------------


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    cancelled: int = 0
    retried: int = 0
    deferred: int = 0
    # Workspaces whose token could not be had during the pass (their rows are retried).
    unavailable: int = 0
    # Rows an earlier try had posted after all: found by their metadata, recorded, not resent.
    recovered: int = 0
    # Rows posted whose "sent" could not be recorded (they stay leased; see `_record_sent`).
    unrecorded: int = 0
    errors: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def settled(self) -> int:
        return self.sent + self.failed + self.cancelled


def _retry_after(response: Any) -> float | None:
    return retry_after_seconds(getattr(response, "headers", None))


def _is_delivery(message: Any, delivery_id: int) -> bool:
    if not isinstance(message, dict):
        return False
    metadata = message.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("event_type") != DELIVERY_EVENT:
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, dict) and str(payload.get("delivery_id")) == str(delivery_id)


def _rate_limited(exc: BaseException) -> float | None:
    """Seconds Slack asked us to wait when ``exc`` is a 429 (1 when it named none), else None."""
    if not isinstance(exc, SlackApiError):
        return None
    status = int(getattr(exc.response, "status_code", 200) or 200)
    data = getattr(exc.response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    if status != 429 and error != "ratelimited":
        return None
    return _retry_after(exc.response) or 1.0


class Sender:
    """Delivers what is due in the ledger; one `send_due` pass at a time per instance."""

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        clients: SlackClients,
        composers: Composers,
        cadence: CadenceConfig,
        users: UserDirectory | None = None,
        pacing: Pacing | None = None,
        owner: str | None = None,
        lease: timedelta = ledger.LEASE,
        capacity: int = 256,
        claim_size: int = 100,
        claim_interval: float = 0.25,
        renew_every: float | None = None,
    ) -> None:
        if lease <= SEND_MARGIN:
            raise ValueError("the lease must be longer than SEND_MARGIN")
        self.renew_every = lease.total_seconds() / 4 if renew_every is None else renew_every
        if not 0 < self.renew_every < (lease - SEND_MARGIN).total_seconds():
            raise ValueError("leases must be renewed more often than lease - SEND_MARGIN")
        self.db = db
        self.clock = clock
        self.clients = clients
        self.composers = composers
        self.cadence = cadence
        self.users = users or UserDirectory()
        self.pacer = Pacer(pacing or Pacing())
        self.owner = owner or sender_id()
        self.lease = lease
        self.capacity = capacity
        self.claim_size = claim_size
        self.claim_interval = claim_interval
        self.settler = Settler(db)
        self._reads = BatchedReads(db)
        # A person away (or in do-not-disturb) gets their messages later (bot/slack/holds.py).
        self.holds = Holds(db)
        self._stopping = asyncio.Event()
        self._stop_waiter: asyncio.Future[Any] | None = None
        self._in_flight: collections.Counter[WorkspaceKey] = collections.Counter()
        self._cadences: dict[WorkspaceKey, CadenceConfig] = {}
        # People's preferences that may hold or drop a DM (a pause, owner notices off), read
        # once per workspace per pass so a change counts from the next pass on.
        self._holding: dict[WorkspaceKey, dict[str, prefs.Prefs]] = {}
        # Rows Slack has accepted during this pass: whatever happens next, never retried.
        self._posted: set[int] = set()
        # Workspaces whose token could not be had this pass: their rows wait for the next one.
        self._unavailable: set[WorkspaceKey] = set()

    def stop(self) -> None:
        """Finish the posts under way, give back the rows not yet started, and return."""
        self._stopping.set()

    def _stop_signal(self) -> asyncio.Future[Any]:
        """One future that completes on `stop`, shared by every row waiting for its turn."""
        if self._stop_waiter is None:
            self._stop_waiter = asyncio.ensure_future(self._stopping.wait())
        return self._stop_waiter

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def send_due(self) -> SendReport:
        """Deliver every row due now; returns when none is due and none is in flight."""
        report = SendReport()
        self._cadences.clear()
        self._holding.clear()
        self.holds.forget()
        self._unavailable.clear()
        tasks: set[asyncio.Task[None]] = set()
        last_claim = -math.inf
        # Since when claims have found nothing while due rows wait for their turn (pacing).
        paced_since: float | None = None
        paced_at = self.clock.now()
        try:
            while True:
                claimed = 0
                room = self.capacity - len(tasks)
                if room > 0 and not self.stopping:
                    last_claim = time.monotonic()
                    for row in await self._claim(min(room, self.claim_size)):
                        claimed += 1
                        tasks.add(asyncio.create_task(self._deliver(row, report)))
                if not tasks:
                    if claimed == 0:
                        if self.stopping or not await self._only_paced():
                            return report
                        # Their turn comes within a window, unless a long 429 holds them: then
                        # the next tick takes them. So does it when the clock stands still (a
                        # test's or the sandbox's manual clock): their turn never comes then.
                        moment = self.clock.now()
                        if paced_since is None:
                            paced_since, paced_at = time.monotonic(), moment
                        elif (
                            moment == paced_at
                            or time.monotonic() - paced_since > self.pacer.pacing.window_seconds
                        ):
                            return report
                        await asyncio.wait({self._stop_signal()}, timeout=self.claim_interval)
                        continue
                    paced_since = None
                    continue
                paced_since = None
                # Claim again when something finished (its conversation is free again) or
                # after a while (another sender may have freed some).
                done, pending = await asyncio.wait(
                    tasks, timeout=1.0, return_when=asyncio.FIRST_COMPLETED
                )
                tasks = set(pending)
                for task in done:
                    if not task.cancelled() and task.exception() is not None:
                        # The row stays leased and is retried once the lease runs out.
                        log.error("a delivery could not be settled", exc_info=task.exception())
                if tasks:
                    # A claim is a pass over every due row: while posts are under way, one
                    # every claim_interval is plenty, since a freed conversation's next row
                    # must wait about a second for its turn anyway.
                    await asyncio.sleep(
                        max(0.0, last_claim + self.claim_interval - time.monotonic())
                    )
        except asyncio.CancelledError:
            # Posts cut short keep their rows leased; they are retried when the leases expire.
            for task in tasks:
                task.cancel()
            raise
        finally:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            if self._stop_waiter is not None and not self._stop_waiter.done():
                self._stop_waiter.cancel()
            self._stop_waiter = None

    async def deliver_planned(self, ws: WorkspaceKey, rows: list[ledger.Planned]) -> list[Delivery]:
        """Send rows this process has just planned, through the same path as `send_due`.

        For the web process, right after the ack: it claims the rows it planned (a worker that
        got there first keeps them), delivers each, and returns them as they then stand (sent,
        failed, or pending for a retry that the worker's next tick makes).
        """
        report = SendReport()
        self._holding.clear()
        self.holds.forget()
        async with self.db.transaction() as session:
            claimed = await ledger.claim_planned(
                session, rows=rows, now=self.clock.now(), owner=self.owner, lease=self.lease
            )
        for row in claimed:
            self._in_flight[ledger.workspace_of(row)] += 1
        await asyncio.gather(*(self._deliver(row, report) for row in claimed))
        async with self.db.transaction() as session:
            found = await ledger.outcomes(session, ws=ws, ids=[row.id for row in claimed])
        return [found[row.id] for row in claimed if row.id in found]

    async def _claim(self, limit: int) -> list[Delivery]:
        cap = self.pacer.pacing.workspace_in_flight
        busy = [ws for ws, n in self._in_flight.items() if n >= cap]
        busy += [ws for ws in self._unavailable if ws not in busy]
        async with self.db.transaction() as session:
            rows = await ledger.claim(
                session,
                now=self.clock.now(),
                owner=self.owner,
                limit=limit,
                lease=self.lease,
                busy=busy,
                limits=self.pacer.pacing.limits,
            )
        for row in rows:
            self._in_flight[ledger.workspace_of(row)] += 1
        return rows

    async def _only_paced(self) -> bool:
        """After a claim found nothing and nothing is in flight here: whether due rows wait only
        for their turn (another sender posted to them a moment ago, or their workspace's budget
        is spent for the window), so this pass should wait for them rather than end."""
        busy = list(self._unavailable)
        async with self.db.transaction() as session:
            return await ledger.waiting(session, now=self.clock.now(), busy=busy)

    async def _deliver(self, row: Delivery, report: SendReport) -> None:
        ws = ledger.workspace_of(row)
        keeper = asyncio.create_task(self._keep_lease(row))
        try:
            await self._deliver_one(row, ws, report)
        except Exception as exc:
            if row.id in self._posted:
                # Slack has it: giving the row back would post it again. It stays leased; if
                # "sent" was not recorded, the next try finds the message by its metadata.
                log.exception("delivery %s was posted, then something failed", row.id)
                return
            wait = _rate_limited(exc)
            if wait is not None:
                # A composer's read was rate limited past what the client sleeps out.
                not_before = await self._hold(ws, row.recipient, wait)
                await self._retry(row, report, "ratelimited while composing", not_before=not_before)
                return
            # A bug in a composer or here must not stall the pass or lose the row.
            log.exception("delivery %s (%s %s) failed unexpectedly", row.id, row.kind, row.subject)
            await self._retry(row, report, f"unexpected error: {exc!r}")
        finally:
            self._posted.discard(row.id)
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            self._in_flight[ws] -= 1
            if self._in_flight[ws] <= 0:
                del self._in_flight[ws]

    async def _keep_lease(self, row: Delivery) -> None:
        """Renew ``row``'s lease until cancelled; mark it lost once it is no longer ours.

        A renewal the database refuses is tried again at the next beat: the lease still has at
        least SEND_MARGIN left when a post starts, more than any one post can take.
        """
        while True:
            await asyncio.sleep(self.renew_every)
            try:
                async with self.db.transaction() as session:
                    expires = await ledger.renew_lease(
                        session,
                        delivery=row,
                        owner=self.owner,
                        now=self.clock.now(),
                        lease=self.lease,
                    )
            except (SQLAlchemyError, OSError) as exc:
                log.warning("could not renew the lease of delivery %s: %s", row.id, exc)
                continue
            if expires is None:
                # Settled meanwhile, or taken by another sender after our lease ran out.
                row.lease_expires_at = None
                return
            row.lease_expires_at = expires

    async def _deliver_one(self, row: Delivery, ws: WorkspaceKey, report: SendReport) -> None:
        try:
            clients = await self.clients.for_workspace(ws)
        except WorkspaceUnavailable as exc:
            # Logged once by SlackClients; the row is retried later, the other workspaces go on.
            if ws not in self._unavailable:
                self._unavailable.add(ws)
                report.unavailable += 1
            await self._retry(row, report, f"workspace unavailable: {exc.reason}")
            return
        if clients is None:
            await self._fail(row, report, "not_installed: no bot token for this workspace")
            return
        composer = self.composers.get(row.kind)
        if composer is None:
            # Most likely an older worker meeting a kind a newer one planned during a deploy.
            await self._retry(row, report, f"no composer for kind {row.kind!r}")
            return
        context = ComposeContext(
            ws=ws,
            db=self.db,
            now=self.clock.now(),
            cadence=await self._cadence(ws),
            client=clients.reader,
            users=self.users,
            reads=self._reads,
            prefs=await self._prefs(ws),
        )
        composed = await composer(context, row)
        if composed is None:
            await self._settle(
                report, "cancelled", ledger.mark_cancelled, row, reason="no longer needed"
            )
            return
        if isinstance(composed, Later):
            await self._give_back(row, report, until=composed.until, reason=composed.reason)
            return
        if composed.holdable and is_person(composed.channel):
            held = await self.holds.check(context, composed.channel)
            if held is not None:
                await self._give_back(row, report, until=held.until, reason=held.reason)
                return
        if row.attempts > 1 and composed.replaces is None:
            # Tried before: that try may have posted it (an answer lost, a process killed, or
            # "sent" not recorded). Look before posting again.
            try:
                found = await self._already_posted(clients.reader, row, composed.channel)
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
                await self._retry(row, report, f"outcome unknown: history not readable ({exc})")
                return
            if found is not None:
                log.info("delivery %s was already posted (%s %s)", row.id, *found)
                self._posted.add(row.id)
                report.recovered += 1
                sent_at = await self._record_sent(
                    row, report, channel_id=found[0], ts=found[1], note=None, record=composed.record
                )
                if sent_at is not None and composed.after_sent is not None:
                    await self._after_sent(row, composed, sent_at)
                return
        if not await self._wait_turn(ws, composed, row):
            await self._give_back(row, report)
            return
        await self._post(row, ws, clients.sender, composed, report)

    async def _already_posted(
        self, reader: AsyncWebClient, row: Delivery, channel: str
    ) -> tuple[str, str] | None:
        """The (channel, ts) of ``row``'s message if an earlier try posted it, else None.

        Looks through the newest messages of the conversation for the metadata every post
        carries. None too where the app may not read that history (no ``*:history`` scope, not
        a member): the message is then sent again, the one case that can still give a person
        a second copy (docs/NUDGES.md). Raises on a transient failure: the row waits.
        """
        conversation = channel
        try:
            if channel[:1] in ("U", "W"):
                opened = await reader.conversations_open(users=channel)
                conversation = str(opened["channel"]["id"])
            cursor: str | None = None
            for _ in range(HISTORY_PAGES):
                page = await reader.conversations_history(
                    channel=conversation,
                    limit=HISTORY_PAGE_SIZE,
                    include_all_metadata=True,
                    cursor=cursor,
                )
                for message in page.get("messages") or []:
                    if _is_delivery(message, row.id):
                        return conversation, str(message.get("ts"))
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except SlackApiError as exc:
            error = exc.response.get("error")
            if is_transient(error, int(exc.response.status_code or 200)):
                raise
            log.info("cannot look in %s for delivery %s: %s", conversation, row.id, error)
        return None

    async def _wait_turn(self, ws: WorkspaceKey, message: OutgoingMessage, row: Delivery) -> bool:
        """Wait until the pacer allows the post; False when stopping or the lease ran short."""
        while True:
            if self.stopping:
                return False
            expires = row.lease_expires_at
            if expires is None or expires - self.clock.now() < SEND_MARGIN:
                return False
            delay = self.pacer.delay(ws, message.channel)
            if delay <= 0:
                self.pacer.take(ws, message.channel)
                return True
            # Look again at least once per renewal: the row may have been lost meanwhile.
            await asyncio.wait({self._stop_signal()}, timeout=min(delay, self.renew_every))

    async def _post(
        self,
        row: Delivery,
        ws: WorkspaceKey,
        client: AsyncWebClient,
        message: OutgoingMessage,
        report: SendReport,
    ) -> None:
        if message.replaces is not None:
            await self._update(row, client, message, report)
            return
        try:
            response = await client.chat_postMessage(
                channel=message.channel,
                text=message.text,
                blocks=message.blocks or None,  # a text-only message has no blocks
                unfurl_links=False,
                unfurl_media=False,
                metadata={
                    "event_type": DELIVERY_EVENT,
                    "event_payload": {"delivery_id": str(row.id)},
                },
            )
        except SlackApiError as exc:
            await self._refused(row, ws, message, exc, report)
            return
        except aiohttp.ClientConnectorError as exc:
            await self._retry(row, report, f"not sent: could not connect to Slack ({exc})")
            return
        except (aiohttp.ClientError, TimeoutError) as exc:
            await self._retry(
                row, report, f"outcome unknown: {type(exc).__name__} after the request went out"
            )
            return
        self._posted.add(row.id)
        channel_id = str(response.get("channel") or message.channel)
        note = await self._share_files(client, channel_id, message)
        now = await self._record_sent(
            row,
            report,
            channel_id=channel_id,
            ts=str(response.get("ts") or ""),
            note=note,
            record=message.record,
        )
        if now is not None and message.after_sent is not None:
            await self._after_sent(row, message, now)

    async def _update(
        self, row: Delivery, client: AsyncWebClient, message: OutgoingMessage, report: SendReport
    ) -> None:
        """Replace a message of ours (a refresh, `bot.delivery.live`). Sending it again is
        harmless, so an unknown outcome is simply retried; a message that is gone settles it."""
        assert message.replaces is not None
        try:
            await client.chat_update(
                channel=message.channel,
                ts=message.replaces,
                text=message.text,
                blocks=message.blocks,
            )
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in GONE:
                await self._settle(
                    report, "cancelled", ledger.mark_cancelled, row, reason=f"message gone: {error}"
                )
                return
            await self._refused(row, ledger.workspace_of(row), message, exc, report)
            return
        except (aiohttp.ClientError, TimeoutError) as exc:
            await self._retry(row, report, f"not updated: {type(exc).__name__}")
            return
        self._posted.add(row.id)
        await self._record_sent(
            row, report, channel_id=message.channel, ts=message.replaces, note=None
        )

    async def _record_sent(
        self,
        row: Delivery,
        report: SendReport,
        *,
        channel_id: str,
        ts: str,
        note: str | None,
        record: Record | None = None,
    ) -> datetime | None:
        """Record that Slack has the message; the moment recorded, or None if it never held.

        Only the recording is retried, on its own, never the post: ``mark_sent`` is idempotent.
        If the database refuses every try, the row stays leased to this sender; the next try
        after the lease runs out finds the message by its metadata and records it then.
        """
        now = self.clock.now()

        async def settlement(session: AsyncSession) -> bool:
            marked = await ledger.mark_sent(
                session, delivery=row, channel_id=channel_id, ts=ts, now=now, note=note
            )
            if record is not None:
                # Idempotent, and kept even if another try settled the row first.
                await record(session, channel_id, ts)
            return marked

        try:
            await self.settler.settle(settlement)
        except Exception as first:
            problem: Exception = first
            for delay in RECORD_RETRY_DELAYS:
                await asyncio.sleep(delay)
                try:
                    async with self.db.transaction() as session:
                        await settlement(session)
                    break
                except Exception as exc:
                    problem = exc
            else:
                log.error(
                    "delivery %s is posted (%s %s) but could not be recorded as sent: %s",
                    row.id,
                    channel_id,
                    ts,
                    problem,
                )
                report.unrecorded += 1
                return None
        report.sent += 1
        return now

    async def _after_sent(self, row: Delivery, message: OutgoingMessage, sent_at: datetime) -> None:
        """Keep what the composer asked to keep about a message that is now out.

        In its own transaction, after the row is settled as sent: a failure here must neither
        undo that (the message would go out twice) nor hold up the rest of the pass, so it is
        logged and the row stays sent.
        """
        assert message.after_sent is not None
        try:
            async with self.db.transaction() as session:
                await message.after_sent(session, sent_at)
        except Exception:
            log.exception(
                "delivery %s (%s) was sent but what it showed was not kept", row.id, row.kind
            )

    async def _share_files(
        self, client: AsyncWebClient, channel_id: str, message: OutgoingMessage
    ) -> str | None:
        """Upload the message's files beside it; what went wrong, if anything, for the row."""
        problems = []
        for item in message.files:
            try:
                await client.files_upload_v2(
                    channel=channel_id,
                    content=item.content,
                    filename=item.filename,
                    title=item.title,
                )
            except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
                log.warning("could not share %s in %s: %s", item.filename, channel_id, exc)
                problems.append(f"{item.filename} not shared: {exc}")
        return "; ".join(problems) or None

    async def _refused(
        self,
        row: Delivery,
        ws: WorkspaceKey,
        message: OutgoingMessage,
        exc: SlackApiError,
        report: SendReport,
    ) -> None:
        status = int(getattr(exc.response, "status_code", 200) or 200)
        data = getattr(exc.response, "data", None)
        error = data.get("error") if isinstance(data, dict) else None
        if status >= 500 or error in UNKNOWN_OUTCOME_ERRORS:
            # Slack may have posted it: the next try looks for it before posting again.
            await self._retry(row, report, f"outcome unknown: {error or f'HTTP {status}'}")
            return
        if not is_transient(error, status):
            if error in TOKEN_ERRORS:
                self.clients.forget(ws)
            await self._fail(row, report, str(error or f"HTTP {status}"))
            return
        not_before = None
        if status == 429 or error == "ratelimited":
            seconds = _retry_after(exc.response) or 1.0
            # Without a channel in the limit's scope Slack means the method as a whole.
            not_before = await self._hold(ws, message.channel, seconds)
        await self._retry(row, report, str(error or f"HTTP {status}"), not_before=not_before)

    async def _hold(self, ws: WorkspaceKey, channel: str, seconds: float) -> datetime:
        """A 429: nothing more from this workspace for ``seconds``, here and, through the
        ledger's holds, in every other sender. Returns the moment the hold ends."""
        self.pacer.hold(ws, channel, seconds, whole_workspace=True)
        now = self.clock.now()
        until = now + timedelta(seconds=seconds)
        try:
            await self.settler.settle(
                lambda session: ledger.hold(session, ws=ws, channel="", until=until, now=now)
            )
        except (SQLAlchemyError, OSError) as exc:
            # This sender keeps to it all the same; the others may meet the 429 themselves.
            log.warning("could not share the 429 hold of %s: %s", ws, exc)
        return until

    async def _prefs(self, ws: WorkspaceKey) -> dict[str, prefs.Prefs]:
        holding = self._holding.get(ws)
        if holding is None:
            async with self.db.transaction() as session:
                holding = await prefs.holding(session, ws=ws, now=self.clock.now())
            self._holding[ws] = holding
        return holding

    async def _cadence(self, ws: WorkspaceKey) -> CadenceConfig:
        cadence = self._cadences.get(ws)
        if cadence is None:
            async with self.db.transaction() as session:
                cadence = await workspaces.cadence_for(session, ws=ws, base=self.cadence)
            self._cadences[ws] = cadence
        return cadence

    # --- settling ---------------------------------------------------------------------------

    async def _settle(
        self, report: SendReport, outcome: str, action: Any, row: Delivery, **kwargs: Any
    ) -> None:
        now = self.clock.now()
        await self.settler.settle(
            lambda session: action(session, delivery=row, owner=self.owner, now=now, **kwargs)
        )
        setattr(report, outcome, getattr(report, outcome) + 1)

    async def _fail(self, row: Delivery, report: SendReport, error: str) -> None:
        log.warning("delivery %s to %s failed for good: %s", row.id, row.recipient, error)
        report.errors[error.split(":")[0]] += 1
        await self._settle(report, "failed", ledger.mark_failed, row, error=error)

    async def _retry(
        self,
        row: Delivery,
        report: SendReport,
        error: str,
        *,
        not_before: datetime | None = None,
    ) -> None:
        log.info("delivery %s to %s will be retried: %s", row.id, row.recipient, error)
        report.errors[error.split(":")[0]] += 1
        now = self.clock.now()
        again = await self.settler.settle(
            lambda session: ledger.release_for_retry(
                session,
                delivery=row,
                owner=self.owner,
                error=error,
                now=now,
                not_before=not_before,
            )
        )
        if again:
            report.retried += 1
        else:
            report.failed += 1

    async def _give_back(
        self,
        row: Delivery,
        report: SendReport,
        *,
        until: datetime | None = None,
        reason: str | None = None,
    ) -> None:
        now = self.clock.now()
        await self.settler.settle(
            lambda session: ledger.give_back(
                session, delivery=row, owner=self.owner, now=now, until=until, reason=reason
            )
        )
        report.deferred += 1
