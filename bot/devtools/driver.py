"""Drives the app the way Slack does: signed HTTP requests with Slack's payload shapes.

Tests, the benchmarks and the local shell all use this, so every path they exercise is the one
production traffic takes: signature check, Bolt routing, listeners, database, Web API calls.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

EVENTS_PATH = "/slack/events"

_ids = itertools.count(1)


class SlackDriver:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        signing_secret: str,
        team_id: str = "T1",
        enterprise_id: str | None = None,
        api_app_id: str = "A1",
        response_url_for: Callable[[str], str],
    ) -> None:
        self.http = http
        self.signer = SignatureVerifier(signing_secret)
        self.team_id = team_id
        self.enterprise_id = enterprise_id
        self.api_app_id = api_app_id
        # Where respond() posts go: the fake Slack in tests, never Slack itself.
        self.response_url_for = response_url_for

    # --- transport ------------------------------------------------------------------------

    def signed_headers(self, body: str, *, timestamp: int | None = None) -> dict[str, str]:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = self.signer.generate_signature(timestamp=ts, body=body)
        return {
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": ts,
            "x-slack-signature": signature or "",
        }

    async def post(
        self, body: str, *, content_type: str = "application/x-www-form-urlencoded", **sign: Any
    ) -> httpx.Response:
        headers = self.signed_headers(body, **sign)
        headers["content-type"] = content_type
        return await self.http.post(EVENTS_PATH, content=body.encode(), headers=headers)

    async def post_unsigned(self, body: str, headers: dict[str, str]) -> httpx.Response:
        return await self.http.post(EVENTS_PATH, content=body.encode(), headers=headers)

    # --- payloads -------------------------------------------------------------------------

    def _team(self, team_id: str | None) -> dict[str, Any]:
        team: dict[str, Any] = {"id": team_id or self.team_id, "domain": "followthrough-test"}
        if self.enterprise_id:
            team["enterprise_id"] = self.enterprise_id
        return team

    def _response_url(self, kind: str) -> str:
        return self.response_url_for(f"{kind}-{next(_ids)}")

    def command_form(
        self,
        command: str,
        text: str,
        *,
        user_id: str,
        channel_id: str,
        team_id: str | None = None,
        channel_name: str | None = None,
    ) -> dict[str, str]:
        """A slash command's form; ``channel_name`` as Slack sends it where it matters (a DM's
        is "directmessage", a group DM's "mpdm-…")."""
        form = {
            "token": "verification-token-unused",
            "team_id": team_id or self.team_id,
            "team_domain": "followthrough-test",
            "channel_id": channel_id,
            "channel_name": channel_name or channel_id.lower(),
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url("commands"),
            "trigger_id": f"{next(_ids)}.{next(_ids)}.trigger",
        }
        if self.enterprise_id:
            form["enterprise_id"] = self.enterprise_id
        return form

    async def command(
        self,
        command: str,
        text: str = "",
        *,
        user_id: str,
        channel_id: str,
        team_id: str | None = None,
        channel_name: str | None = None,
    ) -> httpx.Response:
        form = self.command_form(
            command,
            text,
            user_id=user_id,
            channel_id=channel_id,
            team_id=team_id,
            channel_name=channel_name,
        )
        return await self.post(urlencode(form))

    async def interact(self, payload: dict[str, Any]) -> httpx.Response:
        return await self.post(urlencode({"payload": json.dumps(payload)}))

    def block_action_payload(
        self,
        *,
        action: dict[str, Any],
        user_id: str,
        channel_id: str | None = None,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {
                "id": user_id,
                "username": user_id.lower(),
                "name": user_id.lower(),
                "team_id": team_id or self.team_id,
            },
            "api_app_id": self.api_app_id,
            "token": "verification-token-unused",
            "trigger_id": f"{next(_ids)}.{next(_ids)}.trigger",
            "team": self._team(team_id),
            "enterprise": {"id": self.enterprise_id} if self.enterprise_id else None,
            "is_enterprise_install": False,
            "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id", "V0")}
            payload["view"] = view
        else:
            ts = (message or {}).get("ts", "0.0")
            payload["container"] = {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel_id, "name": (channel_id or "").lower()}
            payload["message"] = message or {"ts": ts, "type": "message", "text": ""}
            payload["response_url"] = self._response_url("actions")
        return payload

    async def press(
        self,
        action_id: str,
        *,
        user_id: str,
        value: str | None = None,
        block_id: str = "b",
        channel_id: str | None = None,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        selected_user: str | None = None,
        team_id: str | None = None,
    ) -> httpx.Response:
        action: dict[str, Any] = {"action_id": action_id, "block_id": block_id}
        if selected_user is not None:
            action.update(type="users_select", selected_user=selected_user)
        else:
            action.update(type="button", value=value, text={"type": "plain_text", "text": "Button"})
        payload = self.block_action_payload(
            action=action,
            user_id=user_id,
            channel_id=channel_id,
            message=message,
            view=view,
            team_id=team_id,
        )
        return await self.interact(payload)

    def view_submission_payload(
        self,
        view: dict[str, Any],
        values: dict[str, dict[str, Any]],
        *,
        user_id: str,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        """A submission of ``view``; ``values`` maps block ids to element states.

        For example ``{"title": {"type": "plain_text_input", "value": "x"}}``.
        """
        submitted = dict(view)
        submitted.setdefault("id", f"V{next(_ids)}")
        submitted["team_id"] = team_id or self.team_id
        submitted["state"] = {
            "values": {block: {"input": state} for block, state in values.items()}
        }
        submitted.setdefault("hash", f"{int(time.time())}.hash")
        submitted.setdefault("app_id", self.api_app_id)
        return {
            "type": "view_submission",
            "team": self._team(team_id),
            "user": {
                "id": user_id,
                "username": user_id.lower(),
                "name": user_id.lower(),
                "team_id": team_id or self.team_id,
            },
            "api_app_id": self.api_app_id,
            "token": "verification-token-unused",
            "trigger_id": f"{next(_ids)}.{next(_ids)}.trigger",
            "view": submitted,
            "response_urls": [],
            "enterprise": {"id": self.enterprise_id} if self.enterprise_id else None,
            "is_enterprise_install": False,
        }

    async def submit(
        self,
        view: dict[str, Any],
        values: dict[str, dict[str, Any]],
        *,
        user_id: str,
        team_id: str | None = None,
    ) -> httpx.Response:
        return await self.interact(
            self.view_submission_payload(view, values, user_id=user_id, team_id=team_id)
        )

    def message_shortcut_payload(
        self,
        callback_id: str,
        *,
        user_id: str,
        channel_id: str,
        message: dict[str, Any],
        team_id: str | None = None,
    ) -> dict[str, Any]:
        return {
            "type": "message_action",
            "token": "verification-token-unused",
            "action_ts": f"{time.time():.6f}",
            "team": self._team(team_id),
            "user": {"id": user_id, "name": user_id.lower(), "team_id": team_id or self.team_id},
            "channel": {"id": channel_id, "name": channel_id.lower()},
            "is_enterprise_install": False,
            "enterprise": {"id": self.enterprise_id} if self.enterprise_id else None,
            "callback_id": callback_id,
            "trigger_id": f"{next(_ids)}.{next(_ids)}.trigger",
            "response_url": self._response_url("actions"),
            "message_ts": message["ts"],
            "message": {"type": "message", **message},
        }

    async def message_shortcut(
        self,
        callback_id: str,
        *,
        user_id: str,
        channel_id: str,
        message: dict[str, Any],
        team_id: str | None = None,
    ) -> httpx.Response:
        payload = self.message_shortcut_payload(
            callback_id, user_id=user_id, channel_id=channel_id, message=message, team_id=team_id
        )
        return await self.interact(payload)

    async def event(self, event: dict[str, Any], *, team_id: str | None = None) -> httpx.Response:
        envelope = {
            "token": "verification-token-unused",
            "team_id": team_id or self.team_id,
            "enterprise_id": self.enterprise_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{next(_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": self.enterprise_id,
                    "team_id": team_id or self.team_id,
                    "user_id": "UBOT",
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        return await self.post(json.dumps(envelope), content_type="application/json")

    async def open_home(self, user_id: str, *, team_id: str | None = None) -> httpx.Response:
        return await self.event(
            {
                "type": "app_home_opened",
                "user": user_id,
                "channel": f"D{user_id}",
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            },
            team_id=team_id,
        )
