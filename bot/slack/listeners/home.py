"""The App Home tab, published whenever someone opens it or changes something from it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.decisions import service as decisions
from bot.slack.blocks.home import HomeData, home_view
from bot.slack.deps import Deps, deps_of, workspace_of
from bot.workspace import WorkspaceKey


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(home_opened)


async def home_opened(
    event: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    if event.get("tab", "home") != "home":
        return
    await publish_home(client, deps_of(context), workspace_of(context), event["user"])


async def publish_home(client: AsyncWebClient, deps: Deps, ws: WorkspaceKey, user_id: str) -> None:
    zone = await deps.user_zone(client, ws, user_id)
    async with deps.db.transaction() as session:
        owned, waiting = await decisions.home_decisions(session, ws=ws, user_id=user_id)
    data = HomeData(today=deps.now().astimezone(zone).date(), owned=owned, waiting=waiting)
    await client.views_publish(user_id=user_id, view=home_view(data))
