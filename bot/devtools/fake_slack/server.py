"""The fake Slack's HTTP side: the loopback server, routing each Web API call to its method
(through the faults first), response_url posts, file upload bodies and Socket Mode."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from types import TracebackType
from typing import Self

from aiohttp import web

from bot.devtools.fake_slack.auth import AuthMethods
from bot.devtools.fake_slack.chat import ChatMethods
from bot.devtools.fake_slack.conversations import ConversationsMethods
from bot.devtools.fake_slack.faults import FaultInjection
from bot.devtools.fake_slack.files import FileMethods
from bot.devtools.fake_slack.records import ApiError, Call, JsonDict, MethodHandler, ResponsePost
from bot.devtools.fake_slack.users import UserMethods
from bot.devtools.fake_slack.views import ViewMethods
from bot.devtools.fake_slack.wire import basic_credentials, bearer_token, read_params

# Methods that authenticate with client credentials rather than a token.
_NO_TOKEN_METHODS = frozenset({"oauth.v2.access", "oauth.v2.exchange", "oauth.access"})


class FakeSlack(
    FaultInjection,
    ChatMethods,
    ConversationsMethods,
    UserMethods,
    ViewMethods,
    FileMethods,
    AuthMethods,
):
    """An in-process Slack Web API on 127.0.0.1; see the package docstring."""

    def _method_handlers(self) -> dict[str, MethodHandler]:
        return {
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

    # ----- HTTP plumbing -----------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            params = await read_params(request)
        except ValueError:
            return web.json_response({"ok": False, "error": "invalid_json"})
        authorization = request.headers.get("Authorization")
        token = bearer_token(authorization)
        # oauth.v2.access sends the client credentials as HTTP Basic auth or as form fields.
        for name, value in basic_credentials(authorization).items():
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

    # ----- Socket Mode -------------------------------------------------------------------------

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
