"""The fake's ``chat.*`` methods: posts, updates, ephemerals, permalinks and deletes."""

from __future__ import annotations

from bot.devtools.fake_slack.records import ApiError, Call, Ephemeral, JsonDict, Message
from bot.devtools.fake_slack.state import WorkspaceState
from bot.devtools.fake_slack.wire import message_content, message_metadata


class ChatMethods(WorkspaceState):
    def _chat_post_message(self, call: Call) -> JsonDict:
        params = call.params
        channel = self._postable_channel(params.get("channel"))
        text, blocks, attachments = message_content(params)
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
            metadata=message_metadata(params.get("metadata")),
        )
        self.messages[(channel.id, message.ts)] = message
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "message": self._message_json(message),
        }

    def _chat_update(self, call: Call) -> JsonDict:
        params = call.params
        key = (str(params.get("channel", "")), str(params.get("ts", "")))
        message = self.messages.get(key)
        if message is None:
            raise ApiError("message_not_found")
        text, blocks, attachments = message_content(params)
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
        text, blocks, attachments = message_content(params)
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
