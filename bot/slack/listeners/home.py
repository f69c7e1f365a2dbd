"""The App Home tab, published whenever someone opens it or changes something from it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.decisions import followthrough
from bot.decisions import service as decisions
from bot.meetings import service as meetings
from bot.slack.blocks import decisions as decision_blocks
from bot.slack.blocks import meetings as meeting_blocks
from bot.slack.blocks.home import HomeData, home_view, section_budget
from bot.slack.deps import Deps, deps_of, workspace_of
from bot.slack.listeners.decisions import visible_channels
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
        follow = await followthrough.waiting_on_follow_through(session, ws=ws, owner_id=user_id)
        channels = await meetings.channels_of_home_items(session, ws=ws, user_id=user_id)
    channels |= {d.channel_id for d in (*owned, *waiting, *follow)}
    # App Home has no channel of its own: every channel must pass the privacy rule on its own.
    visible = await visible_channels(client, channels, user_id, current_channel="")
    owned = [d for d in owned if d.channel_id in visible]
    waiting = [d for d in waiting if d.channel_id in visible]
    follow = [d for d in follow if d.channel_id in visible]
    async with deps.db.transaction() as session:
        actions = await meetings.open_actions_of(session, ws=ws, owner_id=user_id, channels=visible)
        owed = await meetings.meetings_owing_outcomes(
            session, ws=ws, organizer_id=user_id, channels=visible
        )
    today = deps.now().astimezone(zone).date()
    budget = section_budget(extra_sections=3)
    data = HomeData(
        today=today,
        owned=owned,
        waiting=waiting,
        extra_sections=[
            decision_blocks.home_follow_through_section(follow, budget=budget),
            meeting_blocks.home_actions_section(actions, today=today, budget=budget),
            meeting_blocks.home_meetings_section(owed, budget=budget),
        ],
    )
    await client.views_publish(user_id=user_id, view=home_view(data))
