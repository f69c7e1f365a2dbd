"""What every listener needs, put into Bolt's context by one middleware.

Listeners read ``context["deps"]`` and ``context["ws"]``; tests and the local sandbox build the
same object with a manual clock and a fake Slack.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.cadence.config import CadenceConfig
from bot.calendars.service import CalendarOptions
from bot.clock import Clock
from bot.db import Database
from bot.decisions.models import Decision
from bot.decisions.service import NewDecision, create_decisions
from bot.errors import Forbidden, UserError
from bot.group_commit import GroupCommit
from bot.slack.ack_budget import InFlight
from bot.slack.follow_ups import FollowUps
from bot.slack.privacy import ChannelFacts, direct_now, settle_direct, visibility_for
from bot.slack.users import CACHE_SECONDS, SlackUser, UserDirectory
from bot.visibility import Visibility
from bot.workspace import Actor, WorkspaceKey
from bot.workspaces import service as workspaces

if TYPE_CHECKING:
    from bot.slack.sender import Sender

T = TypeVar("T")

RIGHTS_UNKNOWN = (
    "I could not check your rights with Slack just now, so nothing was changed. "
    "Please try again in a minute."
)


@dataclass
class Deps:
    db: Database
    clock: Clock
    cadence: CadenceConfig
    users: UserDirectory = field(default_factory=UserDirectory)
    known_workspaces: set[WorkspaceKey] = field(default_factory=set)
    follow_ups: FollowUps = field(default_factory=FollowUps)
    # Channel info and members per workspace, with a TTL and event invalidation.
    channel_facts: ChannelFacts = field(default_factory=ChannelFacts)
    # The web process's sender: what a listener planned into the ledger goes out through it
    # right after the ack (`bot.server.wire` sets it; the worker takes whatever is left).
    outbox: Sender | None = None
    # Calendar feeds: the key that encrypts their addresses, and the private-address rule.
    calendars: CalendarOptions = field(default_factory=CalendarOptions)
    # The listener runs Bolt started after acknowledging (bot/slack/ack_budget.py).
    in_flight: InFlight = field(default_factory=InFlight)
    # New decisions arriving together are stored in one transaction (bot/group_commit.py).
    new_decisions: GroupCommit[NewDecision, Decision] = field(init=False)

    def __post_init__(self) -> None:
        self.new_decisions = GroupCommit(self.db, create_decisions)

    async def cadence_for(self, ws: WorkspaceKey) -> CadenceConfig:
        async with self.db.transaction() as session:
            return await workspaces.cadence_for(session, ws=ws, base=self.cadence)

    async def user(
        self,
        client: AsyncWebClient,
        ws: WorkspaceKey,
        user_id: str,
        *,
        max_age: float = CACHE_SECONDS,
    ) -> SlackUser:
        return await self.users.get(client, team_id=ws.team_id, user_id=user_id, max_age=max_age)

    async def actor(
        self, client: AsyncWebClient, ws: WorkspaceKey, user_id: str, *, max_age: float
    ) -> Actor:
        """The person with their admin rights, from an answer at most ``max_age`` seconds old.

        The cadence file's admins need no lookup. ``UserError`` when Slack could not say.
        """
        if user_id in self.cadence.admins:
            return Actor(user_id=user_id, is_admin=True)
        user = await self.user(client, ws, user_id, max_age=max_age)
        if not user.known:
            raise UserError(RIGHTS_UNKNOWN)
        return Actor(user_id=user_id, is_admin=user.is_admin or user.is_owner)

    async def as_actor(
        self,
        client: AsyncWebClient,
        ws: WorkspaceKey,
        user_id: str,
        attempt: Callable[[Actor], Awaitable[T]],
    ) -> T:
        """Run ``attempt`` as the person, asking Slack for admin rights only if it needs them.

        A change to one's own item needs no rights, so it costs no users.info at all. When the
        item is someone else's (``attempt`` raised ``Forbidden``), admin rights are asked for
        at once, not from the cache, so a demoted admin is refused as soon as Slack says so;
        ``attempt`` runs again if they hold. ``attempt`` must change nothing when it raises
        (the services check before they write, in a transaction that then rolls back).
        """
        if user_id not in self.cadence.admins:
            try:
                return await attempt(Actor(user_id=user_id, is_admin=False))
            except Forbidden:
                actor = await self.actor(client, ws, user_id, max_age=0.0)
                if not actor.is_admin:
                    raise
        return await attempt(Actor(user_id=user_id, is_admin=True))

    async def visibility(
        self, client: AsyncWebClient, ws: WorkspaceKey, reader: str, *, here: str | None = None
    ) -> Visibility:
        """What ``reader`` may see, for the services' queries (``bot/slack/privacy.py``)."""
        return await visibility_for(client, self.db, self.channel_facts, ws, reader, here=here)

    def direct_now(
        self, ws: WorkspaceKey, channel_id: str, *, name: str | None = None
    ) -> bool | None:
        """Whether ``channel_id`` is a DM or group DM, if known without asking Slack."""
        return direct_now(self.channel_facts, ws.team_id, channel_id, name=name)

    async def settle_direct(
        self, client: AsyncWebClient, ws: WorkspaceKey, channel_id: str
    ) -> bool:
        """After an ack: ask Slack whether ``channel_id`` is a DM or group DM; mark its items."""
        return await settle_direct(client, self.db, self.channel_facts, ws, channel_id)

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
