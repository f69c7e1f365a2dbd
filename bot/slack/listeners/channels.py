"""Slack says a conversation changed: its members, name, archive state or sharing.

This process then stops trusting the channel facts it had cached (``bot/slack/privacy.py``),
so the next read asks Slack again. Other processes drop theirs at the TTL.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.slack.deps import deps_of, workspace_of

#: The events after which what we know of a conversation may be wrong.
CHANNEL_EVENTS = (
    "member_joined_channel",
    "member_left_channel",
    "channel_archive",
    "channel_rename",
    "group_rename",
    "channel_shared",
)


def register(app: AsyncApp) -> None:
    for name in CHANNEL_EVENTS:
        app.event(name)(channel_changed)


def channel_of(event: dict[str, Any]) -> str | None:
    """The conversation an event is about: an id, or (renames) an object carrying it."""
    channel = event.get("channel")
    if isinstance(channel, dict):
        channel = channel.get("id")
    return channel if isinstance(channel, str) and channel else None


async def channel_changed(event: dict[str, Any], context: AsyncBoltContext) -> None:
    channel_id = channel_of(event)
    if channel_id is not None:
        deps_of(context).channel_facts.forget(workspace_of(context).team_id, channel_id)
