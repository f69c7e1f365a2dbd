"""The privacy rule: who may see what was said in which conversation. One rule, one place.

Public channels are open to everyone in the workspace; a private channel, DM or group DM only
to its members (conversations.info, then conversations.members). An item is also visible to
its owner and to whoever recorded it: they were told of it anyway (``bot/visibility.py``).
Every surface — commands by reference, lists, App Home, buttons, modals, shortcuts, stats,
digests — asks through ``visibility_for`` (or ``ChannelAccess`` for a single conversation) and
hands the answer to the services as plain values, which put it into their SQL.

Channel facts (the info and the member list) come from ``ChannelFacts``: a per-workspace,
in-process cache with a TTL, emptied for a conversation when Slack says its membership, name,
archive state or sharing changed (``bot/slack/listeners/channels.py``). In-process is enough
for a cache: a process that has not heard an event still drops the facts at the TTL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.db import Database
from bot.decisions.service import channels_in_use, mark_direct
from bot.slack.client import FACT_PATIENCE, fact_client
from bot.visibility import Visibility
from bot.workspace import WorkspaceKey

log = logging.getLogger(__name__)
T = TypeVar("T")

LOOKUP_CONCURRENCY = 4
#: Seconds channel facts are trusted without an event saying they changed.
FACTS_TTL = 300.0
#: Errors that say the conversation is gone or closed to the app: worth remembering.
_LASTING = {"channel_not_found", "not_in_channel", "missing_scope", "access_denied"}


def is_person(recipient: str) -> bool:
    """User ids get a DM and see their private channels; anything else is a channel."""
    return recipient[:1] in ("U", "W")


def is_direct(channel_id: str) -> bool:
    """A direct message with the app or between people (ids starting with D)."""
    return channel_id[:1] == "D"


#: What Slack puts in a slash command's ``channel_name`` for a DM; a group DM's starts "mpdm-".
_DM_NAME = "directmessage"
_GROUP_DM_PREFIX = "mpdm-"


def _is_direct_info(info: dict[str, Any] | None) -> bool:
    return bool(info and (info.get("is_im") or info.get("is_mpim")))


def _is_closed(channel_id: str, info: dict[str, Any]) -> bool:
    """Members only: a private channel, a DM or a group DM. A ``D…`` id is a DM whatever
    the answer says (fails closed)."""
    return is_direct(channel_id) or bool(
        info.get("is_private") or info.get("is_im") or info.get("is_mpim")
    )


def direct_now(
    facts: ChannelFacts, team_id: str, channel_id: str, *, name: str | None = None
) -> bool | None:
    """Whether ``channel_id`` is a DM or group DM, from what is at hand: no Slack call.

    The id (``D…``; a person's id stands for their DM with the app), the ``channel_name`` a
    slash command carries, or the cached conversations.info. None when only Slack can say (a
    group DM's id looks like a channel's): the item is recorded, acknowledged, and
    ``settle_direct`` asks after the ack.
    """
    if is_direct(channel_id) or is_person(channel_id):
        return True
    if name and (name == _DM_NAME or name.startswith(_GROUP_DM_PREFIX)):
        return True
    known, info = facts.info(team_id, channel_id)
    return _is_direct_info(info) if known else None


async def settle_direct(
    client: AsyncWebClient, db: Database, facts: ChannelFacts, ws: WorkspaceKey, channel_id: str
) -> bool:
    """After the ack: ask Slack (through the shared cache) whether ``channel_id`` is a DM or
    group DM, and if so mark its items direct. Returns the answer; a failed lookup is False
    (the item reads as its channel until the next record there asks again)."""
    access = ChannelAccess(client, facts, team_id=ws.team_id)
    if not await access.is_direct_message(channel_id):
        return False
    async with db.transaction() as session:
        await mark_direct(session, ws=ws, channel_id=channel_id)
    return True


@dataclass
class _Fact:
    value: Any
    at: float


@dataclass
class ChannelFacts:
    """conversations.info and conversations.members answers, per workspace, for ``ttl`` seconds."""

    ttl: float = FACTS_TTL
    clock: Callable[[], float] = time.monotonic
    _info: dict[tuple[str, str], _Fact] = field(default_factory=dict)
    _members: dict[tuple[str, str], _Fact] = field(default_factory=dict)
    _inflight: dict[tuple[str, str, str], asyncio.Future[Any]] = field(default_factory=dict)
    # Bumped by ``forget``: an answer asked for before Slack said the conversation changed
    # is not kept.
    _generation: dict[tuple[str, str], int] = field(default_factory=dict)

    def generation(self, team_id: str, channel_id: str) -> int:
        return self._generation.get((team_id, channel_id), 0)

    def info(self, team_id: str, channel_id: str) -> tuple[bool, dict[str, Any] | None]:
        return self._get(self._info, (team_id, channel_id))

    def members(self, team_id: str, channel_id: str) -> tuple[bool, frozenset[str] | None]:
        return self._get(self._members, (team_id, channel_id))

    def keep_info(
        self, team_id: str, channel_id: str, info: dict[str, Any] | None, *, asked: int = -1
    ) -> None:
        """Keep an answer; ``asked`` is the generation when it was asked for, if known."""
        if asked < 0 or asked == self.generation(team_id, channel_id):
            self._info[(team_id, channel_id)] = _Fact(info, self.clock())

    def keep_members(
        self, team_id: str, channel_id: str, members: frozenset[str], *, asked: int = -1
    ) -> None:
        if asked < 0 or asked == self.generation(team_id, channel_id):
            self._members[(team_id, channel_id)] = _Fact(members, self.clock())

    async def shared(self, key: tuple[str, str, str], fetch: Callable[[str], Awaitable[T]]) -> T:
        """``fetch(channel)``, once for every request that wants the same fact meanwhile.

        Twenty readers opening App Home together ask Slack about each conversation once, not
        twenty times. The fetch is shielded: one waiter giving up does not cancel it for all.
        """
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(fetch(key[2]))
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        found: T = await asyncio.shield(task)
        return found

    def forget(self, team_id: str, channel_id: str) -> None:
        """Slack said this conversation changed: ask again next time."""
        key = (team_id, channel_id)
        self._generation[key] = self._generation.get(key, 0) + 1
        for kind in ("info", "members"):
            self._inflight.pop((kind, team_id, channel_id), None)
        self._info.pop((team_id, channel_id), None)
        self._members.pop((team_id, channel_id), None)

    def _get(self, store: dict[tuple[str, str], _Fact], key: tuple[str, str]) -> tuple[bool, Any]:
        fact = store.get(key)
        if fact is None:
            return False, None
        if self.clock() - fact.at >= self.ttl:
            del store[key]
            return False, None
        return True, fact.value


class ChannelAccess:
    """Which conversations a reader may see; facts from ``facts`` (shared) or per request."""

    def __init__(
        self, client: AsyncWebClient, facts: ChannelFacts | None = None, *, team_id: str = ""
    ) -> None:
        # Lookups wait out a 429 (bounded by FACT_PATIENCE); the ack deadline keeps the person
        # informed meanwhile (bot/slack/ack_budget.py).
        self._client = fact_client(client)
        self._facts = facts if facts is not None else ChannelFacts()
        self._team = team_id or str(client.default_params.get("team_id") or "")
        self._limit = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def readable(self, channel_ids: Iterable[str], reader: str) -> set[str]:
        """The conversations among ``channel_ids`` whose items may reach ``reader``.

        Answered from the cache where it can be, without a coroutine per conversation; only
        what the cache does not know is asked of Slack.
        """
        found: set[str] = set()
        unknown: list[str] = []
        for channel_id in sorted(set(channel_ids)):
            known = self._known(channel_id, reader)
            if known is None:
                unknown.append(channel_id)
            elif known:
                found.add(channel_id)
        allowed = await asyncio.gather(*(self.may_see(c, reader) for c in unknown))
        return found | {channel for channel, ok in zip(unknown, allowed, strict=True) if ok}

    def _known(self, channel_id: str, reader: str) -> bool | None:
        """``may_see`` from the cache alone; None when Slack must be asked."""
        known, info = self._facts.info(self._team, channel_id)
        if not known:
            return None
        if info is None:
            return False
        if not _is_closed(channel_id, info):
            return True
        if not is_person(reader):
            return False
        known, members = self._facts.members(self._team, channel_id)
        return None if not known or members is None else reader in members

    async def may_see(self, channel_id: str, reader: str) -> bool:
        info = await self._channel(channel_id)
        if info is None:
            return False
        if not _is_closed(channel_id, info):
            return True
        return is_person(reader) and reader in await self._member_ids(channel_id)

    async def is_conversation_private(self, channel_id: str) -> bool:
        """True for a private channel, DM or group DM, and for one Slack will not describe."""
        info = await self._channel(channel_id)
        return info is None or _is_closed(channel_id, info)

    async def is_direct_message(self, channel_id: str) -> bool:
        """A DM or a group DM (not a channel), by id or by what Slack says of it."""
        if is_direct(channel_id):
            return True
        return _is_direct_info(await self._channel(channel_id))

    def name(self, channel_id: str) -> str | None:
        _, info = self._facts.info(self._team, channel_id)
        name = info.get("name") if info else None
        return name if isinstance(name, str) and name else None

    async def _channel(self, channel_id: str) -> dict[str, Any] | None:
        known, info = self._facts.info(self._team, channel_id)
        if known:
            return info
        return await self._facts.shared(("info", self._team, channel_id), self._fetch_info)

    async def _fetch_info(self, channel_id: str) -> dict[str, Any] | None:
        asked = self._facts.generation(self._team, channel_id)
        async with self._limit:
            known, info = self._facts.info(self._team, channel_id)
            if known:
                return info
            try:
                async with asyncio.timeout(FACT_PATIENCE):
                    response = await self._client.conversations_info(channel=channel_id)
                found = response.get("channel")
            except SlackApiError as exc:
                error = exc.response.get("error")
                log.info("channel %s left out: %s", channel_id, error)
                if error in _LASTING:
                    self._facts.keep_info(self._team, channel_id, None, asked=asked)
                return None
            except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
                # Passing trouble: left out of this answer, asked again next time.
                log.info("channel %s left out: %s", channel_id, type(exc).__name__)
                return None
            kept = found if isinstance(found, dict) else None
            self._facts.keep_info(self._team, channel_id, kept, asked=asked)
            return kept

    async def _member_ids(self, channel_id: str) -> frozenset[str]:
        known, members = self._facts.members(self._team, channel_id)
        if known and members is not None:
            return members
        return await self._facts.shared(("members", self._team, channel_id), self._fetch_members)

    async def _fetch_members(self, channel_id: str) -> frozenset[str]:
        asked = self._facts.generation(self._team, channel_id)
        async with self._limit:
            known, members = self._facts.members(self._team, channel_id)
            if known and members is not None:
                return members
            found: set[str] = set()
            cursor: str | None = None
            try:
                async with asyncio.timeout(FACT_PATIENCE):
                    while True:
                        page = await self._client.conversations_members(
                            channel=channel_id, cursor=cursor, limit=1000
                        )
                        found.update(page.get("members") or [])
                        cursor = (page.get("response_metadata") or {}).get("next_cursor")
                        if not cursor:
                            break
            except SlackApiError as exc:
                log.info("members of %s unknown: %s", channel_id, exc.response.get("error"))
                return frozenset()
            except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
                log.info("members of %s unknown: %s", channel_id, type(exc).__name__)
                return frozenset()
            kept = frozenset(found)
            self._facts.keep_members(self._team, channel_id, kept, asked=asked)
            return kept


async def visibility_for(
    client: AsyncWebClient,
    db: Database,
    facts: ChannelFacts,
    ws: WorkspaceKey,
    reader: str,
    *,
    here: str | None = None,
) -> Visibility:
    """What ``reader`` may see in this workspace, worked out before any item is read.

    The candidates are every conversation that holds an item, so the answer does not depend on
    which item was asked for: a number never used and one the reader may not see cost the same
    and get the same reply. ``here`` is the conversation the request came from: Slack only
    lets members type or press there, so it is readable by definition.
    """
    async with db.transaction() as session:
        candidates = await channels_in_use(session, ws=ws)
    if here:
        candidates.discard(here)
    access = ChannelAccess(client, facts, team_id=ws.team_id)
    readable = await access.readable(candidates, reader)
    if here:
        readable.add(here)
    return Visibility(reader=reader, channels=frozenset(readable))
