"""The fake's ``conversations.*`` methods: opening DMs, channel info, members and history."""

from __future__ import annotations

import math

from bot.devtools.fake_slack.records import ApiError, Call, Channel, JsonDict
from bot.devtools.fake_slack.state import WorkspaceState
from bot.devtools.fake_slack.wire import decode_cursor, encode_cursor


class ConversationsMethods(WorkspaceState):
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
        start = decode_cursor(call.params.get("cursor"))
        page = channel.members[start : start + limit]
        end = start + len(page)
        next_cursor = encode_cursor(end) if end < len(channel.members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": next_cursor}}

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
        start = decode_cursor(params.get("cursor"))
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
            "response_metadata": {"next_cursor": encode_cursor(end) if end < len(found) else ""},
        }
