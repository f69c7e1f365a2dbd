"""user_change: Slack tells us a person changed (admin rights, time zone, name), and this
process stops trusting what it had cached about them.

Other processes keep their cached answer until it ages out, which is why admin rights are never
taken from an old answer: see ``Deps.actor`` and ``Deps.as_actor``.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.slack.deps import deps_of, workspace_of

USER_CHANGE = "user_change"


def register(app: AsyncApp) -> None:
    app.event(USER_CHANGE)(user_changed)


async def user_changed(event: dict[str, Any], context: AsyncBoltContext) -> None:
    user = event.get("user")
    if isinstance(user, dict):
        deps_of(context).users.remember(team_id=workspace_of(context).team_id, data=user)
