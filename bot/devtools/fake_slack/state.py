"""The fake Slack's workspace: its people, channels, DND and everything the app did there,
with the lookups the method handlers share and the queries tests make of it."""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.devtools.fake_slack.records import (
    ApiError,
    Bucket,
    Call,
    Channel,
    DndStatus,
    Ephemeral,
    Fault,
    JsonDict,
    Message,
    MethodHandler,
    PendingUpload,
    ResponsePost,
    TokenWorkspace,
    UploadedFile,
    User,
)

# The first ts handed out, in microseconds; 100 µs apart like Slack's own sequence suffixes.
_FIRST_TS_US = 1_700_000_000_000_100

_TS_STEP_US = 100


class WorkspaceState:
    """The state behind every Web API method; ``FakeSlack`` adds the server and the methods."""

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
        self.token_workspaces: dict[str, TokenWorkspace] = {}
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

        self._faults: dict[str, deque[Fault]] = {}
        self._delays: dict[str, float] = {}
        self._limited: dict[str, tuple[float, int]] = {}
        self._pending_uploads: dict[str, PendingUpload] = {}
        self._refresh_tokens: set[str] = set()
        self._channel_buckets: dict[str, Bucket] = {}
        self._method_windows: dict[tuple[str | None, str], deque[float]] = {}
        # A sandbox that resumes an old database starts after the ts values it already stored.
        self._ts_us = int(first_ts * 1_000_000) if first_ts is not None else _FIRST_TS_US
        self._ids = itertools.count(1)
        self._overrides: dict[str, MethodHandler] = {}
        self._handlers: dict[str, MethodHandler] = self._method_handlers()
        self._runner: web.AppRunner | None = None
        # Socket Mode: envelopes waiting to be pushed, the open socket, and what came back.
        self._socket: web.WebSocketResponse | None = None
        self._socket_outbox: list[JsonDict] = []
        self.socket_acks: list[JsonDict] = []
        self.base_url = ""
        self.api_url = ""

    def _method_handlers(self) -> dict[str, MethodHandler]:
        """The Web API methods the fake answers, by name (``FakeSlack`` lists them)."""
        return {}

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

    # ----- helpers for handlers ----------------------------------------------------------------

    def _next_ts(self) -> str:
        self._ts_us += _TS_STEP_US
        return f"{self._ts_us // 1_000_000}.{self._ts_us % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}FAKE{next(self._ids):06d}"

    def _workspace_for(self, token: str | None) -> TokenWorkspace:
        found = self.token_workspaces.get(token) if token else None
        return found or TokenWorkspace(self.team_id, self.enterprise_id)

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
