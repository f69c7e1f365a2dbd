"""What the fake Slack stores and records: calls, messages, people, channels, DND, faults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JsonDict = dict[str, Any]
MethodHandler = Callable[["Call"], JsonDict]


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
class Fault:
    error: str | None
    status: int
    retry_after: int | None
    drop_connection: bool
    remaining: int
    after_accepting: bool = False


@dataclass(slots=True)
class PendingUpload:
    name: str
    length: int
    content: bytes | None = None


@dataclass(slots=True)
class Bucket:
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
class TokenWorkspace:
    team_id: str
    enterprise_id: str | None = None
