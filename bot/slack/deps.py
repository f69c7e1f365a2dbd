"""What every listener needs, put into Bolt's context by one middleware.

Listeners read ``context["deps"]`` and ``context["ws"]``; tests and the local sandbox build the
same object with a manual clock and a fake Slack.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.cadence.config import CadenceConfig
from bot.clock import Clock
from bot.db import Database
from bot.decisions.models import Decision
from bot.decisions.service import NewDecision, create_decisions
from bot.group_commit import GroupCommit
from bot.slack.follow_ups import FollowUps
from bot.slack.users import SlackUser, UserDirectory
from bot.workspace import Actor, WorkspaceKey
from bot.workspaces import service as workspaces


@dataclass
class Deps:
    db: Database
    clock: Clock
    cadence: CadenceConfig
    users: UserDirectory = field(default_factory=UserDirectory)
    known_workspaces: set[WorkspaceKey] = field(default_factory=set)
    follow_ups: FollowUps = field(default_factory=FollowUps)
    # New decisions arriving together are stored in one transaction (bot/group_commit.py).
    new_decisions: GroupCommit[NewDecision, Decision] = field(init=False)

    def __post_init__(self) -> None:
        self.new_decisions = GroupCommit(self.db, create_decisions)

    async def cadence_for(self, ws: WorkspaceKey) -> CadenceConfig:
        async with self.db.transaction() as session:
            return await workspaces.cadence_for(session, ws=ws, base=self.cadence)

    async def user(self, client: AsyncWebClient, ws: WorkspaceKey, user_id: str) -> SlackUser:
        return await self.users.get(client, team_id=ws.team_id, user_id=user_id)

    async def actor(self, client: AsyncWebClient, ws: WorkspaceKey, user_id: str) -> Actor:
        user = await self.user(client, ws, user_id)
        is_admin = user.is_admin or user.is_owner or user_id in self.cadence.admins
        return Actor(user_id=user_id, is_admin=is_admin)

    async def user_zone(self, client: AsyncWebClient, ws: WorkspaceKey, user_id: str) -> ZoneInfo:
        user = await self.user(client, ws, user_id)
        return user.zone(self.cadence.zone)

    async def user_today(self, client: AsyncWebClient, ws: WorkspaceKey, user_id: str) -> date:
        return self.now().astimezone(await self.user_zone(client, ws, user_id)).date()

    def now(self) -> datetime:
        return self.clock.now()


def workspace_of(context: AsyncBoltContext | dict[str, Any]) -> WorkspaceKey:
    return WorkspaceKey(
        team_id=context.get("team_id") or "", enterprise_id=context.get("enterprise_id") or ""
    )


def deps_of(context: AsyncBoltContext | dict[str, Any]) -> Deps:
    deps = context["deps"]
    assert isinstance(deps, Deps)
    return deps
