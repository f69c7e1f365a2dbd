"""The fake's ``files.*`` methods: Slack's two-step external upload."""

from __future__ import annotations

from bot.devtools.fake_slack.records import ApiError, Call, JsonDict, PendingUpload, UploadedFile
from bot.devtools.fake_slack.state import WorkspaceState


class FileMethods(WorkspaceState):
    def _files_get_upload_url(self, call: Call) -> JsonDict:
        filename = call.params.get("filename")
        try:
            length = int(call.params.get("length", ""))
        except (TypeError, ValueError) as exc:
            raise ApiError("invalid_arguments") from exc
        if not isinstance(filename, str) or not filename:
            raise ApiError("invalid_arguments")
        file_id = self._next_id("F")
        self._pending_uploads[file_id] = PendingUpload(name=filename, length=length)
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
        completed: list[tuple[str, str | None, PendingUpload]] = []
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
