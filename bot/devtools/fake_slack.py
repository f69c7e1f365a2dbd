"""A fake of the Slack Web API served on loopback.

Tests, benchmarks and the local shell sandbox run the real app and the real slack_sdk client
against it (``AsyncWebClient(base_url=fake.api_url)``), so they exercise the HTTP layer, the
retry handlers and the rate-limit handling without a workspace or a network. It records what
the app sent and can be told to fail the way Slack fails: 429 with Retry-After, 5xx, an
``ok: false`` error, a dropped connection, a slow answer (``slow``) or a method rate limited
for a while (``rate_limit_for``). ``fail_next(..., after_accepting=True)`` carries the call out
first and then fails the answer (a 5xx, or a connection cut), as Slack does when a post went
through but its response was lost. Messages keep their ``metadata``, and
``conversations.history`` answers with them (``include_all_metadata``), so the app can look for
a message whose fate it does not know.

Everything runs on one event loop and every handler mutates state without awaiting in between,
so concurrent requests need no locks.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

JsonDict = dict[str, Any]
MethodHandler = Callable[["Call"], JsonDict]

# slack_sdk sends these as JSON strings inside form bodies; tests want the objects.
_JSON_STRING_FIELDS = frozenset(
    {"blocks", "view", "attachments", "files", "metadata", "user_auth_blocks", "unfurls"}
)
# Methods that authenticate with client credentials rather than a token.
_NO_TOKEN_METHODS = frozenset({"oauth.v2.access", "oauth.v2.exchange", "oauth.access"})
# The first ts handed out, in microseconds; 100 µs apart like Slack's own sequence suffixes.
_FIRST_TS_US = 1_700_000_000_000_100
_TS_STEP_US = 100


@dataclass(slots=True)
class Call:
    """One request the fake received; ``error`` is what it answered when it did not succeed."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class Message:
    channel: str
    ts: str
    text: str | None
    blocks: list[Any] | None
    user: str
    thread_ts: str | None = None
    updated: bool = False
    attachments: list[Any] | None = None
    metadata: JsonDict | None = None


@dataclass(slots=True)
class Ephemeral:
    channel: str
    user: str
    ts: str
    text: str | None
    blocks: list[Any] | None
    thread_ts: str | None = None


@dataclass(slots=True)
class UploadedFile:
    id: str
    name: str
    title: str | None
    content: bytes
    channels: list[str]
    initial_comment: str | None = None
    thread_ts: str | None = None

    @property
    def channel(self) -> str | None:
        return self.channels[0] if self.channels else None


@dataclass(slots=True)
class ResponsePost:
    """A body POSTed to a response_url (what Bolt's ``respond()`` sends)."""

    key: str
    body: JsonDict


@dataclass(slots=True)
class User:
    id: str
    name: str
    real_name: str
    tz: str
    is_admin: bool
    is_owner: bool
    is_bot: bool
    team_id: str
    email: str | None = None


@dataclass(slots=True)
class Channel:
    id: str
    name: str
    is_private: bool
    members: list[str]
    is_member: bool = True
    is_im: bool = False
    is_mpim: bool = False
    is_archived: bool = False
    user: str | None = None


@dataclass(slots=True)
class _Fault:
    error: str | None
    status: int
    retry_after: int | None
    drop_connection: bool
    remaining: int
    after_accepting: bool = False


@dataclass(slots=True)
class _PendingUpload:
    name: str
    length: int
    content: bytes | None = None


@dataclass(slots=True)
class _Bucket:
    tokens: float
    last: float


@dataclass(slots=True)
class DndStatus:
    """A person's do-not-disturb as Slack reports it (epoch seconds, as in ``dnd.info``).

    ``next_start``/``next_end`` is the next (or current) window of the schedule while
    ``enabled``; ``snooze_end`` is when a snooze they set themselves ends, if any.
    """

    enabled: bool = False
    next_start: int = 1
    next_end: int = 1
    snooze_end: int | None = None


class ApiError(Exception):
    """Raised by a method handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


@dataclass(slots=True)
class _Workspace:
    team_id: str
    enterprise_id: str | None = None


class FakeSlack:
    """An in-process Slack Web API on 127.0.0.1; see the module docstring."""

    def __init__(
        self,
        *,
        team_id: str = "T1",
        team_name: str = "Fake Team",
        team_domain: str = "fake",
        enterprise_id: str | None = None,
        enterprise_name: str | None = None,
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        bot_name: str = "followthrough",
        app_id: str = "AFAKEAPP",
        auto_create_channels: bool = True,
        enforce_rate_limits: bool = False,
        per_channel_per_second: float = 1.0,
        per_channel_burst: int = 3,
        per_method_per_minute: dict[str, int] | None = None,
        per_method_window_seconds: float = 60.0,
        oauth_token_rotation: bool = False,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
        first_ts: float | None = None,
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.enterprise_id = enterprise_id
        self.enterprise_name = enterprise_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_name = bot_name
        self.app_id = app_id
        self.auto_create_channels = auto_create_channels
        self.enforce_rate_limits = enforce_rate_limits
        self.per_channel_per_second = per_channel_per_second
        self.per_channel_burst = per_channel_burst
        self.per_method_per_minute: dict[str, int] = dict(per_method_per_minute or {})
        #: The window of ``per_method_per_minute`` (Slack's is a minute; tests shrink it).
        self.per_method_window_seconds = per_method_window_seconds
        self.oauth_token_rotation = oauth_token_rotation
        self._clock = clock
        self._host = host
        self._port = port

        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.token_valid: Callable[[str], bool] | None = None
        self.revoked_tokens: set[str] = set()
        # Tokens issued by oauth.v2.access answer auth.test for their own workspace.
        self.token_workspaces: dict[str, _Workspace] = {}
        self.valid_oauth_codes: set[str] = set()
        self.oauth_response: JsonDict | None = None
        self.oauth_client: tuple[str, str] | None = None

        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], Message] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, JsonDict] = {}
        self.published_home: dict[str, JsonDict] = {}
        self.responses: list[ResponsePost] = []
        #: Called with each post to a response_url as it arrives (benchmarks time them).
        self.on_response: Callable[[ResponsePost], None] | None = None
        self.files: dict[str, UploadedFile] = {}
        #: Do-not-disturb per user (`set_dnd`); a user without an entry has none.
        self.dnd: dict[str, DndStatus] = {}
        self.rate_limited_count = 0

        self._faults: dict[str, deque[_Fault]] = {}
        self._delays: dict[str, float] = {}
        self._limited: dict[str, tuple[float, int]] = {}
        self._pending_uploads: dict[str, _PendingUpload] = {}
        self._refresh_tokens: set[str] = set()
        self._channel_buckets: dict[str, _Bucket] = {}
        self._method_windows: dict[tuple[str | None, str], deque[float]] = {}
        # A sandbox that resumes an old database starts after the ts values it already stored.
        self._ts_us = int(first_ts * 1_000_000) if first_ts is not None else _FIRST_TS_US
        self._ids = itertools.count(1)
        self._overrides: dict[str, MethodHandler] = {}
        self._handlers: dict[str, MethodHandler] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "conversations.history": self._conversations_history,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.delete": self._chat_delete,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "oauth.v2.access": self._oauth_v2_access,
            "team.info": self._team_info,
            "apps.connections.open": self._apps_connections_open,
            "dnd.info": self._dnd_info,
            "dnd.teamInfo": self._dnd_team_info,
        }
        self._runner: web.AppRunner | None = None
        # Socket Mode: envelopes waiting to be pushed, the open socket, and what came back.
        self._socket: web.WebSocketResponse | None = None
        self._socket_outbox: list[JsonDict] = []
        self.socket_acks: list[JsonDict] = []
        self.base_url = ""
        self.api_url = ""

    # ----- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_post("/response/{key}", self._handle_response_url)
        app.router.add_get("/socket-mode", self._handle_socket_mode)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port)
        await site.start()
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self.api_url = f"{self.base_url}/api/"

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ----- directory and configuration ---------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str | None = None,
        tz: str = "UTC",
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        team_id: str | None = None,
        email: str | None = None,
    ) -> User:
        user = User(
            id=user_id,
            name=name,
            real_name=real_name if real_name is not None else name,
            tz=tz,
            is_admin=is_admin,
            is_owner=is_owner,
            is_bot=is_bot,
            team_id=team_id or self.team_id,
            email=email,
        )
        self.users[user_id] = user
        return user

    def set_dnd(
        self,
        user_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        snooze_until: datetime | None = None,
    ) -> DndStatus:
        """Give ``user_id`` a do-not-disturb window from ``start`` to ``end`` (their schedule's
        next or current one) and/or a snooze until ``snooze_until``; all aware instants."""
        status = DndStatus()
        if start is not None and end is not None:
            status = DndStatus(
                enabled=True, next_start=int(start.timestamp()), next_end=int(end.timestamp())
            )
        if snooze_until is not None:
            status.snooze_end = int(snooze_until.timestamp())
        self.dnd[user_id] = status
        return status

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str,
        is_private: bool = False,
        members: list[str] | None = None,
        is_member: bool = True,
        is_archived: bool = False,
    ) -> Channel:
        channel = Channel(
            id=channel_id,
            name=name,
            is_private=is_private,
            members=list(members or []),
            is_member=is_member,
            is_archived=is_archived,
        )
        self.channels[channel_id] = channel
        return channel

    def add_group_dm(self, channel_id: str, members: list[str]) -> Channel:
        """A group DM (an mpim) of ``members`` and the app. Slack gives new ones ids starting
        with C, like a channel's: only conversations.info's ``is_mpim`` tells them apart."""
        channel = self.add_channel(
            channel_id,
            name="mpdm-" + "--".join(sorted(members)) + "-1",
            is_private=True,
            members=[*members, self.bot_user_id],
        )
        channel.is_mpim = True
        return channel

    def add_dm(self, user_id: str) -> Channel:
        """The DM between ``user_id`` and the app (``D<user>``), as Slack opens it."""
        return self._dm_channel(user_id)

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
        fault = _Fault(error, status, retry_after, drop_connection, times, after_accepting)
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

    def on(self, method: str, handler: MethodHandler) -> None:
        """Answer ``method`` with ``handler`` (for methods the fake lacks or odd answers).

        The handler gets the recorded Call and returns the JSON body; it may raise ApiError.
        """
        self._overrides[method] = handler

    def response_url(self, key: str) -> str:
        return f"{self.base_url}/response/{key}"

    # ----- inspection --------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def responses_to(self, key: str) -> list[JsonDict]:
        return [post.body for post in self.responses if post.key == key]

    def clear_calls(self) -> None:
        self.calls.clear()

    def reset(self) -> None:
        """Forget everything the app did; keep users, channels and configuration."""
        self.calls.clear()
        self.messages.clear()
        self.ephemerals.clear()
        self.views.clear()
        self.published_home.clear()
        self.responses.clear()
        self.files.clear()
        self.rate_limited_count = 0
        self._faults.clear()
        self._delays.clear()
        self._limited.clear()
        self._pending_uploads.clear()
        self._channel_buckets.clear()
        self._method_windows.clear()

    # ----- HTTP plumbing -----------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            params = await _read_params(request)
        except ValueError:
            return web.json_response({"ok": False, "error": "invalid_json"})
        authorization = request.headers.get("Authorization")
        token = _bearer_token(authorization)
        # oauth.v2.access sends the client credentials as HTTP Basic auth or as form fields.
        for name, value in _basic_credentials(authorization).items():
            params.setdefault(name, value)
        form_token = params.pop("token", None)
        if token is None and isinstance(form_token, str):
            token = form_token
        call = Call(method=method, params=params, token=token, at=self._clock())
        self.calls.append(call)
        delay = self._delays.get(method)
        if delay:
            await asyncio.sleep(delay)
        limited = self._limited.get(method)
        if limited is not None and time.monotonic() < limited[0]:
            call.error = "ratelimited"
            self.rate_limited_count += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(limited[1])},
            )

        fault = self._take_fault(method)
        if fault is not None and fault.after_accepting:
            handler = self._overrides.get(method) or self._handlers.get(method)
            if handler is not None:
                with contextlib.suppress(ApiError):
                    self._check_token(token)
                    handler(call)
        if fault is not None:
            if fault.drop_connection:
                call.error = "connection_dropped"
                if request.transport is not None:
                    request.transport.close()
                return web.Response()
            call.error = fault.error
            headers = (
                {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            )
            if fault.status == 429:
                self.rate_limited_count += 1
            return web.json_response(
                {"ok": False, "error": fault.error}, status=fault.status, headers=headers
            )

        handler = self._overrides.get(method) or self._handlers.get(method)
        try:
            if handler is None:
                raise ApiError("unknown_method")
            if method not in _NO_TOKEN_METHODS:
                self._check_token(token)
            retry_after = self._rate_limit(method, token, params)
            if retry_after is not None:
                call.error = "ratelimited"
                self.rate_limited_count += 1
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(retry_after)},
                )
            body = handler(call)
        except ApiError as exc:
            call.error = exc.error
            body = {"ok": False, "error": exc.error}
        return web.json_response(body)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        pending = self._pending_uploads.get(request.match_info["file_id"])
        if pending is None:
            return web.Response(status=404, text="Not Found")
        pending.content = await request.read()
        # What files.slack.com answers; slack_sdk only checks the status.
        return web.Response(text=f"OK - {len(pending.content)}")

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        post = ResponsePost(key=request.match_info["key"], body=body)
        self.responses.append(post)
        if self.on_response is not None:
            self.on_response(post)
        return web.Response(text="ok")

    def _take_fault(self, method: str) -> _Fault | None:
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
                bucket = _Bucket(tokens=float(self.per_channel_burst), last=now)
                self._channel_buckets[channel] = bucket
            bucket.tokens = min(
                float(self.per_channel_burst), bucket.tokens + (now - bucket.last) * rate
            )
            bucket.last = now
            if bucket.tokens < 1.0:
                return max(1, math.ceil((1.0 - bucket.tokens) / rate))
            bucket.tokens -= 1.0
        return None

    # ----- helpers for handlers ----------------------------------------------------------------

    def _next_ts(self) -> str:
        self._ts_us += _TS_STEP_US
        return f"{self._ts_us // 1_000_000}.{self._ts_us % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}FAKE{next(self._ids):06d}"

    def _workspace_for(self, token: str | None) -> _Workspace:
        found = self.token_workspaces.get(token) if token else None
        return found or _Workspace(self.team_id, self.enterprise_id)

    def _dm_channel(self, user_id: str) -> Channel:
        channel_id = f"D{user_id}"
        channel = self.channels.get(channel_id)
        if channel is None:
            channel = Channel(
                id=channel_id,
                name=user_id,
                is_private=True,
                members=[user_id, self.bot_user_id],
                is_im=True,
                user=user_id,
            )
            self.channels[channel_id] = channel
        return channel

    def _postable_channel(self, ref: Any) -> Channel:
        if not isinstance(ref, str) or not ref:
            raise ApiError("channel_not_found")
        if ref[0] in "UW":
            return self._dm_channel(ref)
        channel = self.channels.get(ref)
        if channel is None and ref[0] == "D" and ref[1:] in self.users:
            # A person's DM with the app, by its id (as the sandbox and tests name it).
            return self._dm_channel(ref[1:])
        if channel is None:
            if not self.auto_create_channels:
                raise ApiError("channel_not_found")
            channel = self.add_channel(ref, name=ref.lower())
        if channel.is_archived:
            raise ApiError("is_archived")
        if not channel.is_member:
            raise ApiError("channel_not_found" if channel.is_private else "not_in_channel")
        return channel

    def _known_channel(self, ref: Any) -> Channel:
        channel = self.channels.get(ref) if isinstance(ref, str) else None
        if channel is None:
            raise ApiError("channel_not_found")
        return channel

    def _message_json(self, message: Message) -> JsonDict:
        body: JsonDict = {
            "type": "message",
            "user": message.user,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": message.text or "",
            "ts": message.ts,
        }
        if message.blocks is not None:
            body["blocks"] = message.blocks
        if message.attachments is not None:
            body["attachments"] = message.attachments
        if message.thread_ts is not None:
            body["thread_ts"] = message.thread_ts
        if message.updated:
            body["edited"] = {"user": message.user, "ts": self._current_ts()}
        return body

    def _current_ts(self) -> str:
        return f"{self._ts_us // 1_000_000}.{self._ts_us % 1_000_000:06d}"

    # ----- Web API methods ---------------------------------------------------------------------

    def _api_test(self, call: Call) -> JsonDict:
        return {"ok": True, "args": call.params}

    def _auth_test(self, call: Call) -> JsonDict:
        workspace = self._workspace_for(call.token)
        body: JsonDict = {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self.bot_name,
            "team_id": workspace.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }
        if workspace.enterprise_id is not None:
            body["enterprise_id"] = workspace.enterprise_id
        return body

    def _users_lookup_by_email(self, call: Call) -> JsonDict:
        """Slack matches the address case-insensitively and answers like users.info."""
        wanted = str(call.params.get("email", "")).strip().lower()
        for user in self.users.values():
            if user.email is not None and user.email.lower() == wanted and wanted:
                return self._user_json(user)
        raise ApiError("users_not_found")

    def _users_info(self, call: Call) -> JsonDict:
        user = self.users.get(str(call.params.get("user", "")))
        if user is None:
            raise ApiError("user_not_found")
        return self._user_json(user)

    def _dnd_json(self, user_id: str) -> JsonDict:
        status = self.dnd.get(user_id, DndStatus())
        body: JsonDict = {
            "dnd_enabled": status.enabled,
            "next_dnd_start_ts": status.next_start,
            "next_dnd_end_ts": status.next_end,
        }
        if status.snooze_end is not None:
            remaining = max(0, status.snooze_end - int(self._clock()))
            body.update(
                snooze_enabled=True, snooze_endtime=status.snooze_end, snooze_remaining=remaining
            )
        return body

    def _dnd_info(self, call: Call) -> JsonDict:
        """``dnd.info`` (the OpenAPI spec's shape): the schedule, and the snooze if one is set."""
        user_id = str(call.params.get("user", ""))
        if user_id not in self.users:
            raise ApiError("user_not_found")
        return {"ok": True, **self._dnd_json(user_id)}

    def _dnd_team_info(self, call: Call) -> JsonDict:
        """``dnd.teamInfo`` for a comma-separated ``users`` list (the spec's example shape;
        a snooze shows as in ``dnd.info``, which the spec's open schema allows). Unknown ids
        are left out."""
        wanted = [u for u in str(call.params.get("users", "")).split(",") if u]
        return {"ok": True, "users": {u: self._dnd_json(u) for u in wanted if u in self.users}}

    def _user_json(self, user: User) -> JsonDict:
        try:
            zone = ZoneInfo(user.tz)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        local = datetime.fromtimestamp(self._clock(), UTC).astimezone(zone)
        offset = local.utcoffset()
        return {
            "ok": True,
            "user": {
                "id": user.id,
                "team_id": user.team_id,
                "name": user.name,
                "deleted": False,
                "real_name": user.real_name,
                "tz": user.tz,
                "tz_label": local.tzname() or user.tz,
                "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
                "is_admin": user.is_admin,
                "is_owner": user.is_owner,
                "is_primary_owner": False,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "is_bot": user.is_bot,
                "is_app_user": False,
                "updated": 1_700_000_000,
                "profile": {
                    "real_name": user.real_name,
                    "real_name_normalized": user.real_name,
                    "display_name": user.name,
                    "display_name_normalized": user.name,
                    "team": user.team_id,
                    **({"email": user.email} if user.email is not None else {}),
                },
            },
        }

    def _conversations_open(self, call: Call) -> JsonDict:
        existing = call.params.get("channel")
        if isinstance(existing, str) and existing:
            return {"ok": True, "channel": {"id": self._known_channel(existing).id}}
        users = [u for u in str(call.params.get("users", "")).split(",") if u]
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) == 1:
            return {"ok": True, "channel": {"id": self._dm_channel(users[0]).id}}
        mpim_id = "G" + "".join(sorted(users))
        if mpim_id not in self.channels:
            self.channels[mpim_id] = Channel(
                id=mpim_id,
                name="mpdm-" + "--".join(sorted(users)),
                is_private=True,
                members=[*sorted(users), self.bot_user_id],
                is_mpim=True,
            )
        return {"ok": True, "channel": {"id": mpim_id}}

    def _conversations_info(self, call: Call) -> JsonDict:
        channel = self._known_channel(call.params.get("channel"))
        body: JsonDict = {
            "id": channel.id,
            "created": 1_700_000_000,
            "is_archived": channel.is_archived,
            "is_im": channel.is_im,
            "is_org_shared": False,
            "context_team_id": self.team_id,
        }
        if channel.is_im:
            body.update({"user": channel.user, "is_user_deleted": False})
        else:
            body.update(
                {
                    "name": channel.name,
                    "name_normalized": channel.name,
                    "is_channel": not channel.is_private and not channel.is_mpim,
                    "is_group": channel.is_private and not channel.is_mpim,
                    "is_mpim": channel.is_mpim,
                    "is_private": channel.is_private,
                    "is_general": False,
                    "is_shared": False,
                    "is_ext_shared": False,
                    "is_member": channel.is_member,
                    "creator": "",
                    "topic": {"value": "", "creator": "", "last_set": 0},
                    "purpose": {"value": "", "creator": "", "last_set": 0},
                    "num_members": len(channel.members),
                }
            )
        return {"ok": True, "channel": body}

    def _conversations_members(self, call: Call) -> JsonDict:
        channel = self._known_channel(call.params.get("channel"))
        try:
            limit = int(call.params.get("limit") or 100)
        except (TypeError, ValueError) as exc:
            raise ApiError("invalid_limit") from exc
        limit = max(1, min(limit, 1000))
        start = _decode_cursor(call.params.get("cursor"))
        page = channel.members[start : start + limit]
        end = start + len(page)
        next_cursor = _encode_cursor(end) if end < len(channel.members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _chat_post_message(self, call: Call) -> JsonDict:
        params = call.params
        channel = self._postable_channel(params.get("channel"))
        text, blocks, attachments = _content(params)
        if not text and not blocks and not attachments:
            raise ApiError("no_text")
        thread_ts = params.get("thread_ts") or None
        message = Message(
            channel=channel.id,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            user=self.bot_user_id,
            thread_ts=str(thread_ts) if thread_ts else None,
            attachments=attachments,
            metadata=_metadata(params.get("metadata")),
        )
        self.messages[(channel.id, message.ts)] = message
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "message": self._message_json(message),
        }

    def _conversations_history(self, call: Call) -> JsonDict:
        """Newest first, between ``oldest`` and ``latest``; metadata only when asked for."""
        params = call.params
        channel = self._known_channel(params.get("channel"))
        if not channel.is_member and not channel.is_im:
            raise ApiError("not_in_channel")
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or math.inf)
        limit = max(1, min(int(params.get("limit") or 100), 999))
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        found = sorted(
            (
                m
                for (channel_id, ts), m in self.messages.items()
                if channel_id == channel.id and oldest < float(ts) <= latest
            ),
            key=lambda m: float(m.ts),
            reverse=True,
        )
        start = _decode_cursor(params.get("cursor"))
        page = found[start : start + limit]
        end = start + len(page)
        body = []
        for message in page:
            shown = self._message_json(message)
            if with_metadata and message.metadata is not None:
                shown["metadata"] = message.metadata
            body.append(shown)
        return {
            "ok": True,
            "messages": body,
            "has_more": end < len(found),
            "response_metadata": {"next_cursor": _encode_cursor(end) if end < len(found) else ""},
        }

    def _chat_update(self, call: Call) -> JsonDict:
        params = call.params
        key = (str(params.get("channel", "")), str(params.get("ts", "")))
        message = self.messages.get(key)
        if message is None:
            raise ApiError("message_not_found")
        text, blocks, attachments = _content(params)
        if not text and not blocks and not attachments:
            raise ApiError("no_text")
        if "text" in params:
            message.text = text
        if "blocks" in params:
            message.blocks = blocks
        if "attachments" in params:
            message.attachments = attachments
        message.updated = True
        return {
            "ok": True,
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text or "",
            "message": self._message_json(message),
        }

    def _chat_post_ephemeral(self, call: Call) -> JsonDict:
        params = call.params
        channel = self._postable_channel(params.get("channel"))
        user = params.get("user")
        if not isinstance(user, str) or not user:
            raise ApiError("user_not_in_channel")
        text, blocks, attachments = _content(params)
        if not text and not blocks and not attachments:
            raise ApiError("no_text")
        thread_ts = params.get("thread_ts") or None
        ephemeral = Ephemeral(
            channel=channel.id,
            user=user,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            thread_ts=str(thread_ts) if thread_ts else None,
        )
        self.ephemerals.append(ephemeral)
        return {"ok": True, "message_ts": ephemeral.ts}

    def _chat_get_permalink(self, call: Call) -> JsonDict:
        channel = call.params.get("channel")
        ts = call.params.get("message_ts")
        if not isinstance(channel, str) or not channel:
            raise ApiError("channel_not_found")
        if not isinstance(ts, str) or not ts:
            raise ApiError("message_not_found")
        link = f"https://{self.team_domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}"
        message = self.messages.get((channel, ts))
        if message is not None and message.thread_ts and message.thread_ts != ts:
            link += f"?thread_ts={message.thread_ts}&cid={channel}"
        return {"ok": True, "channel": channel, "permalink": link}

    def _chat_delete(self, call: Call) -> JsonDict:
        key = (str(call.params.get("channel", "")), str(call.params.get("ts", "")))
        if self.messages.pop(key, None) is None:
            raise ApiError("message_not_found")
        return {"ok": True, "channel": key[0], "ts": key[1]}

    def _stored_view(
        self,
        view: Any,
        *,
        view_id: str,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
    ) -> JsonDict:
        if not isinstance(view, dict) or "type" not in view:
            raise ApiError("invalid_arguments")
        stored: JsonDict = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self._clock())}.{next(self._ids):08d}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root_view_id or view_id,
            "previous_view_id": previous_view_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        for optional in ("title", "submit", "close"):
            stored[optional] = view.get(optional)
        self.views[view_id] = stored
        return stored

    def _views_open(self, call: Call) -> JsonDict:
        if not call.params.get("trigger_id") and not call.params.get("interactivity_pointer"):
            raise ApiError("invalid_arguments")
        view = self._stored_view(call.params.get("view"), view_id=self._next_id("V"))
        return {"ok": True, "view": view}

    def _views_update(self, call: Call) -> JsonDict:
        view_id = call.params.get("view_id")
        external_id = call.params.get("external_id")
        current: JsonDict | None = None
        if isinstance(view_id, str) and view_id:
            current = self.views.get(view_id)
        elif isinstance(external_id, str) and external_id:
            current = next(
                (v for v in self.views.values() if v.get("external_id") == external_id), None
            )
        else:
            raise ApiError("invalid_arguments")
        if current is None:
            raise ApiError("not_found")
        expected_hash = call.params.get("hash")
        if expected_hash and expected_hash != current["hash"]:
            raise ApiError("hash_conflict")
        view = self._stored_view(
            call.params.get("view"),
            view_id=current["id"],
            root_view_id=current["root_view_id"],
            previous_view_id=current["previous_view_id"],
        )
        if view["type"] == "home":
            for user_id, home in self.published_home.items():
                if home["id"] == view["id"]:
                    self.published_home[user_id] = view
        return {"ok": True, "view": view}

    def _views_publish(self, call: Call) -> JsonDict:
        user_id = call.params.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise ApiError("invalid_arguments")
        view_param = call.params.get("view")
        if not isinstance(view_param, dict) or view_param.get("type") != "home":
            raise ApiError("invalid_arguments")
        previous = self.published_home.get(user_id)
        expected_hash = call.params.get("hash")
        if previous is not None and expected_hash and expected_hash != previous["hash"]:
            raise ApiError("hash_conflict")
        view_id = previous["id"] if previous is not None else self._next_id("V")
        view = self._stored_view(view_param, view_id=view_id)
        self.published_home[user_id] = view
        return {"ok": True, "view": view}

    def _files_get_upload_url(self, call: Call) -> JsonDict:
        filename = call.params.get("filename")
        try:
            length = int(call.params.get("length", ""))
        except (TypeError, ValueError) as exc:
            raise ApiError("invalid_arguments") from exc
        if not isinstance(filename, str) or not filename:
            raise ApiError("invalid_arguments")
        file_id = self._next_id("F")
        self._pending_uploads[file_id] = _PendingUpload(name=filename, length=length)
        return {
            "ok": True,
            "upload_url": f"{self.base_url}/upload/v1/{file_id}",
            "file_id": file_id,
        }

    def _files_complete_upload(self, call: Call) -> JsonDict:
        entries = call.params.get("files")
        if not isinstance(entries, list) or not entries:
            raise ApiError("invalid_arguments")
        channels: list[str] = []
        channel_id = call.params.get("channel_id")
        if isinstance(channel_id, str) and channel_id:
            channels.append(channel_id)
        channels += [c for c in str(call.params.get("channels", "")).split(",") if c]
        for channel in channels:
            self._postable_channel(channel)
        completed: list[tuple[str, str | None, _PendingUpload]] = []
        for entry in entries:
            file_id = entry.get("id") if isinstance(entry, dict) else None
            pending = self._pending_uploads.get(str(file_id))
            if pending is None or pending.content is None:
                raise ApiError("file_not_found")
            completed.append((str(file_id), entry.get("title"), pending))
        initial_comment = call.params.get("initial_comment")
        thread_ts = call.params.get("thread_ts")
        answer = []
        for file_id, title, pending in completed:
            del self._pending_uploads[file_id]
            content = pending.content or b""
            self.files[file_id] = UploadedFile(
                id=file_id,
                name=pending.name,
                title=title,
                content=content,
                channels=channels,
                initial_comment=initial_comment if isinstance(initial_comment, str) else None,
                thread_ts=thread_ts if isinstance(thread_ts, str) else None,
            )
            answer.append(
                {
                    "id": file_id,
                    "name": pending.name,
                    "title": title or pending.name,
                    "size": len(content),
                    "user": self.bot_user_id,
                    "permalink": (
                        f"https://{self.team_domain}.slack.com/files/"
                        f"{self.bot_user_id}/{file_id}/{pending.name}"
                    ),
                }
            )
        return {"ok": True, "files": answer}

    def _oauth_v2_access(self, call: Call) -> JsonDict:
        params = call.params
        if self.oauth_client is not None:
            client_id = params.get("client_id")
            if client_id != self.oauth_client[0]:
                raise ApiError("invalid_client_id")
            if params.get("client_secret") != self.oauth_client[1]:
                raise ApiError("bad_client_secret")
        if params.get("grant_type") == "refresh_token":
            refresh_token = params.get("refresh_token")
            if refresh_token not in self._refresh_tokens:
                raise ApiError("invalid_refresh_token")
            self._refresh_tokens.discard(str(refresh_token))
            return self._issue_tokens(rotating=True)
        code = params.get("code")
        if not isinstance(code, str) or code not in self.valid_oauth_codes:
            raise ApiError("invalid_code")
        self.valid_oauth_codes.discard(code)
        if self.oauth_response is not None:
            body = dict(self.oauth_response)
            token = body.get("access_token")
            team = body.get("team")
            enterprise = body.get("enterprise")
            if isinstance(token, str) and isinstance(team, dict):
                self.token_workspaces[token] = _Workspace(
                    str(team.get("id")),
                    str(enterprise["id"]) if isinstance(enterprise, dict) else None,
                )
            return body
        return self._issue_tokens(rotating=self.oauth_token_rotation)

    def _issue_tokens(self, *, rotating: bool) -> JsonDict:
        serial = next(self._ids)
        access_token = f"xoxb-{self.team_id}-{serial:06d}-fake"
        self.token_workspaces[access_token] = _Workspace(self.team_id, self.enterprise_id)
        body: JsonDict = {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {
                "id": "UINSTALLER",
                "scope": "",
                "access_token": f"xoxp-{self.team_id}-{serial:06d}-fake",
                "token_type": "user",
            },
            "scope": "chat:write,commands,im:write,users:read,channels:read,groups:read",
            "token_type": "bot",
            "access_token": access_token,
            "bot_user_id": self.bot_user_id,
            "team": {"id": self.team_id, "name": self.team_name},
            "enterprise": (
                {"id": self.enterprise_id, "name": self.enterprise_name or ""}
                if self.enterprise_id is not None
                else None
            ),
            "is_enterprise_install": False,
        }
        if rotating:
            refresh_token = f"xoxe-1-{self.team_id}-{serial:06d}-fake"
            self._refresh_tokens.add(refresh_token)
            body["refresh_token"] = refresh_token
            body["expires_in"] = 43_200
        return body

    def _apps_connections_open(self, call: Call) -> JsonDict:
        return {"ok": True, "url": self.base_url.replace("http://", "ws://") + "/socket-mode"}

    async def _handle_socket_mode(self, request: web.Request) -> web.WebSocketResponse:
        """Slack's Socket Mode: push envelopes to the app and collect its acknowledgements."""
        socket = web.WebSocketResponse(heartbeat=None)
        await socket.prepare(request)
        self._socket = socket
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}}
        )
        for envelope in self._socket_outbox:
            await socket.send_json(envelope)
        self._socket_outbox.clear()
        async for message in socket:
            if message.type == web.WSMsgType.TEXT:
                with contextlib.suppress(json.JSONDecodeError):
                    self.socket_acks.append(json.loads(message.data))
        if self._socket is socket:
            self._socket = None
        return socket

    async def socket_send(self, envelope: JsonDict) -> None:
        """Deliver one Socket Mode envelope now, or as soon as the app connects."""
        if self._socket is not None and not self._socket.closed:
            await self._socket.send_json(envelope)
        else:
            self._socket_outbox.append(envelope)

    @property
    def socket_connected(self) -> bool:
        return self._socket is not None and not self._socket.closed

    def _team_info(self, call: Call) -> JsonDict:
        team: JsonDict = {
            "id": self.team_id,
            "name": self.team_name,
            "domain": self.team_domain,
            "email_domain": "",
            "icon": {"image_default": True},
        }
        if self.enterprise_id is not None:
            team["enterprise_id"] = self.enterprise_id
            team["enterprise_name"] = self.enterprise_name or ""
        return {"ok": True, "team": team}


def _bearer_token(header: str | None) -> str | None:
    if header and header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def _basic_credentials(header: str | None) -> dict[str, str]:
    if not header or header[:6].lower() != "basic ":
        return {}
    try:
        decoded = base64.b64decode(header[6:].strip()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return {}
    client_id, _, client_secret = decoded.partition(":")
    return {"client_id": client_id, "client_secret": client_secret}


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method != "GET" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    for name in _JSON_STRING_FIELDS & params.keys():
        value = params[name]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                params[name] = json.loads(value)
    return params


def _content(params: dict[str, Any]) -> tuple[str | None, list[Any] | None, list[Any] | None]:
    text = params.get("text")
    blocks = params.get("blocks")
    attachments = params.get("attachments")
    return (
        str(text) if text is not None else None,
        blocks if isinstance(blocks, list) else None,
        attachments if isinstance(attachments, list) else None,
    )


def _metadata(value: Any) -> JsonDict | None:
    """Message metadata as Slack keeps it: an event type and a payload object."""
    if not isinstance(value, dict) or not isinstance(value.get("event_type"), str):
        return None
    payload = value.get("event_payload")
    return {
        "event_type": value["event_type"],
        "event_payload": payload if isinstance(payload, dict) else {},
    }


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        prefix, _, number = base64.b64decode(str(cursor)).decode().partition(":")
        if prefix != "offset":
            raise ValueError(cursor)
        return int(number)
    except ValueError as exc:
        raise ApiError("invalid_cursor") from exc
