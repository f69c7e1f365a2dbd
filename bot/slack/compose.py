"""What each kind of ledger row says when it is sent, decided at send time from current state.

The sender looks a row's ``kind`` up in a `Composers` registry. A composer reads what it needs
(short transactions; `ComposeContext.load` gathers the reads of rows composed at the same
moment into one) and answers with the message to send, with `Later` when it must wait (the
recipient is outside working hours now), or with None when the row is no longer wanted (the
decision was made, the action done, the item had activity since it was planned): the sender
then cancels the row. Composing at send time rather than at planning time means a reminder
never shows stale state and never nags about something already settled.

Other packages add their kinds with ``composers.register(kind, composer)``; `default_composers`
is what the worker uses.
"""

from __future__ import annotations

import asyncio
from asyncio import Future
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.cadence.config import CadenceConfig
from bot.cadence.hours import is_working_time, next_working_moment
from bot.db import Database
from bot.decisions.asks import WHAT_NEXT_KIND
from bot.decisions.followthrough import has_follow_through
from bot.decisions.models import Decision, DecisionStatus
from bot.delivery.models import Delivery
from bot.digest.planner import DIGEST_KIND
from bot.meetings import place
from bot.meetings import service as meetings
from bot.meetings.models import Meeting, Outcome, OutcomeKind
from bot.nudges.notices import Change, NoticeKind
from bot.nudges.reviews import REVIEW_KIND
from bot.nudges.rules import NudgeKind, episode_key, is_user_id
from bot.prefs.service import DEFAULT as DEFAULT_PREFS
from bot.prefs.service import Prefs
from bot.slack.blocks import followthrough as render_follow
from bot.slack.blocks import notices as notice_blocks
from bot.slack.blocks import nudges as render
from bot.slack.blocks import reviews as render_reviews
from bot.slack.blocks.kit import Block
from bot.slack.digest_compose import compose_digest, record_sent
from bot.slack.privacy import ChannelAccess, is_person
from bot.slack.users import UserDirectory
from bot.workspace import WorkspaceKey


@dataclass(frozen=True, slots=True)
class OutgoingFile:
    """A file shared in the same conversation right after the message (a digest's chart)."""

    content: bytes
    filename: str
    title: str


AfterSent = Callable[[AsyncSession, datetime], Awaitable[None]]
Record = Callable[[AsyncSession, str, str], Awaitable[None]]
"""Keep where a message is (its conversation and ``ts``), in the transaction that settles it."""


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message for ``chat.postMessage``; a user id as ``channel`` means their DM with the app.

    ``files`` are uploaded after the message is posted. The row counts as sent once the message
    is: an upload that then fails is noted on the row, not retried, since retrying would post
    the message again.
    """

    channel: str
    text: str
    blocks: list[Block]
    files: tuple[OutgoingFile, ...] = ()
    #: Run once the message is posted, in a transaction of its own, with the moment it was
    #: sent: what the composer wants kept about a message someone received (a digest's
    #: figures, `bot.slack.digest_compose.record_sent`).
    after_sent: AfterSent | None = None
    #: Run with the message's conversation and ``ts`` in the very transaction that records the
    #: row as sent (a decision's card keeps its ``ts`` so buttons and refreshes find it).
    record: Record | None = None
    #: False for a post to a conversation that someone's own action caused just now (a card,
    #: a summary): it is not held for a person's pause, time off or do-not-disturb.
    holdable: bool = True
    #: The ``ts`` of a message of ours in ``channel`` that this one replaces (``chat.update``,
    #: a refresh: `bot.delivery.live`) instead of being posted as a new one.
    replaces: str | None = None


@dataclass(frozen=True, slots=True)
class Later:
    """Not now: try again at ``until`` (no attempt is counted)."""

    until: datetime
    reason: str


Composed = OutgoingMessage | Later | None

T = TypeVar("T")
Fetch = Callable[[AsyncSession, WorkspaceKey, list[int]], Awaitable[Mapping[int, T]]]
"""Load items of one workspace by number: ``{number: item}`` for those that exist."""


class BatchedReads:
    """Lookups made at the same moment share one transaction and one query per kind.

    After a claim the sender composes many rows at once. Each reading in a transaction of its
    own would queue them all on SQLite's single connection, one after another; gathered, they
    cost about what one does.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._waiting: dict[tuple[Fetch[Any], WorkspaceKey], dict[int, list[Future[Any]]]] = {}
        self._flushing: asyncio.Task[None] | None = None

    async def get(self, fetch: Fetch[T], ws: WorkspaceKey, number: int) -> T | None:
        future: Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault((fetch, ws), {}).setdefault(number, []).append(future)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        found: T | None = await future
        return found

    async def _flush(self) -> None:
        # One turn of the event loop lets the other rows of this moment ask too.
        await asyncio.sleep(0)
        while self._waiting:
            waiting, self._waiting = self._waiting, {}
            try:
                async with self._db.transaction() as session:
                    found = {
                        key: await key[0](session, key[1], sorted(numbers))
                        for key, numbers in waiting.items()
                    }
            except Exception as exc:
                for futures in (f for numbers in waiting.values() for f in numbers.values()):
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for key, numbers in waiting.items():
                for number, futures in numbers.items():
                    for future in futures:
                        if not future.done():
                            future.set_result(found[key].get(number))


@dataclass
class ComposeContext:
    """What a composer may use: the database, the moment, the workspace's cadence and Slack."""

    ws: WorkspaceKey
    db: Database
    now: datetime
    cadence: CadenceConfig
    client: AsyncWebClient
    users: UserDirectory = field(default_factory=UserDirectory)
    reads: BatchedReads | None = None
    access: ChannelAccess | None = None
    #: People whose preferences may hold or drop a DM (`bot.prefs.service.holding`); anyone
    #: else has the defaults.
    prefs: Mapping[str, Prefs] = field(default_factory=dict)

    def prefs_of(self, user_id: str) -> Prefs:
        return self.prefs.get(user_id, DEFAULT_PREFS)

    async def may_reach(self, channel_id: str, recipient: str, *people: str | None) -> bool:
        """The privacy rule for a message about an item of ``channel_id`` sent to ``recipient``.

        A person: a member of the item's conversation (any, if it is public), or one of
        ``people`` (owner, creator). A conversation: the item's own, or any if it is public.
        """
        if self.access is None:
            self.access = ChannelAccess(self.client, team_id=self.ws.team_id)
        if recipient == channel_id or (is_person(recipient) and recipient in people):
            return True
        if is_person(recipient):
            return await self.access.may_see(channel_id, recipient)
        return not await self.access.is_conversation_private(channel_id)

    async def load(self, fetch: Fetch[T], number: int) -> T | None:
        """Item ``number`` of this workspace as ``fetch`` finds it, read together with what
        other rows composed at the same moment ask for."""
        if self.reads is None:
            self.reads = BatchedReads(self.db)
        return await self.reads.get(fetch, self.ws, number)

    async def zone_of(self, recipient: str) -> ZoneInfo:
        """A person's Slack time zone; a conversation, or a person Slack can't tell us about,
        gets the workspace's."""
        if not is_user_id(recipient):
            return self.cadence.zone
        user = await self.users.get(self.client, team_id=self.ws.team_id, user_id=recipient)
        return user.zone(self.cadence.zone)

    async def in_working_hours(
        self, recipient: str, render_in: Callable[[ZoneInfo], render.Rendered]
    ) -> Composed:
        """The message ``render_in`` makes in the recipient's time zone, sent to them (their DM,
        or the conversation); `Later` while ``now`` is outside their working hours."""
        zone = await self.zone_of(recipient)
        hours = self.cadence.working_hours
        if not is_working_time(self.now, zone, hours):
            return Later(
                until=next_working_moment(self.now, zone, hours),
                reason=f"outside working hours in {zone.key}",
            )
        text, blocks = render_in(zone)
        return OutgoingMessage(channel=recipient, text=text, blocks=blocks)


Composer = Callable[[ComposeContext, Delivery], Awaitable[Composed]]


class Composers:
    """Ledger kind → composer. A kind has exactly one composer."""

    def __init__(self) -> None:
        self._by_kind: dict[str, Composer] = {}

    def register(self, kind: str, composer: Composer) -> None:
        if kind in self._by_kind:
            raise ValueError(f"a composer for {kind!r} is already registered")
        self._by_kind[kind] = composer

    def get(self, kind: str) -> Composer | None:
        return self._by_kind.get(kind)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._by_kind)


# --- nudges -----------------------------------------------------------------------------------


def _episode(delivery: Delivery) -> str:
    return str(delivery.payload.get("episode", ""))


def _number(delivery: Delivery) -> int:
    return int(delivery.payload["number"])


async def fetch_decisions(
    session: AsyncSession, ws: WorkspaceKey, numbers: list[int]
) -> dict[int, Decision]:
    found = await session.scalars(
        select(Decision).where(Decision.in_workspace(ws), Decision.number.in_(numbers))
    )
    return {d.number: d for d in found}


async def fetch_meetings(
    session: AsyncSession, ws: WorkspaceKey, numbers: list[int]
) -> dict[int, Meeting]:
    found = await session.scalars(
        select(Meeting)
        .where(Meeting.in_workspace(ws), Meeting.number.in_(numbers))
        .options(selectinload(Meeting.outcomes))
    )
    return {m.number: m for m in found}


async def fetch_actions(
    session: AsyncSession, ws: WorkspaceKey, numbers: list[int]
) -> dict[int, Outcome]:
    found = await session.scalars(
        select(Outcome)
        .where(
            Outcome.in_workspace(ws),
            Outcome.kind == OutcomeKind.ACTION,
            Outcome.number.in_(numbers),
        )
        .options(*place.load())
    )
    return {a.number: a for a in found if a.number is not None}


async def _decision(ctx: ComposeContext, delivery: Delivery) -> Decision | None:
    """The decision if it still deserves this row: open and untouched since it was planned."""
    d = await ctx.load(fetch_decisions, _number(delivery))
    if d is None or not d.is_open or episode_key(d.last_activity_at) != _episode(delivery):
        return None
    if d.snoozed_until is not None and d.snoozed_until > ctx.now:
        return None
    return d


def _reminder(delivery: Delivery) -> int:
    return int(delivery.payload.get("reminder", 1))


def _reminders(delivery: Delivery) -> int:
    return int(delivery.payload.get("reminders", 0))


def _away_until(delivery: Delivery) -> date | None:
    """The owner's last day off when the escalation went out while they were away."""
    said = delivery.payload.get("away_until")
    return date.fromisoformat(said) if isinstance(said, str) else None


async def compose_decision_nudge(ctx: ComposeContext, delivery: Delivery) -> Composed:
    d = await _decision(ctx, delivery)
    if d is None or d.owner_id != delivery.recipient:
        return None
    return await ctx.in_working_hours(
        delivery.recipient,
        lambda zone: render.decision_nudge(
            d, reminder=_reminder(delivery), today=ctx.now.astimezone(zone).date(), zone=zone
        ),
    )


async def compose_decision_escalation(ctx: ComposeContext, delivery: Delivery) -> Composed:
    d = await _decision(ctx, delivery)
    if d is None or not await ctx.may_reach(
        d.channel_id, delivery.recipient, d.owner_id, d.creator_id
    ):
        return None
    return await ctx.in_working_hours(
        delivery.recipient,
        lambda zone: render.decision_escalation(
            d,
            reminders=_reminders(delivery),
            today=ctx.now.astimezone(zone).date(),
            zone=zone,
            away_until=_away_until(delivery),
        ),
    )


async def _meeting(ctx: ComposeContext, delivery: Delivery) -> Meeting | None:
    """The meeting if it still owes outcomes for the episode this row was planned in."""
    m = await ctx.load(fetch_meetings, _number(delivery))
    if m is None or not meetings.is_outcome_free(m) or m.ended_at is None:
        return None
    if episode_key(m.ended_at) != _episode(delivery):
        return None
    return m


async def compose_meeting_nudge(ctx: ComposeContext, delivery: Delivery) -> Composed:
    m = await _meeting(ctx, delivery)
    if m is None or m.organizer_id != delivery.recipient:
        return None
    return await ctx.in_working_hours(
        delivery.recipient,
        lambda zone: render.meeting_nudge(m, reminder=_reminder(delivery), zone=zone),
    )


async def compose_meeting_escalation(ctx: ComposeContext, delivery: Delivery) -> Composed:
    m = await _meeting(ctx, delivery)
    if m is None or not await ctx.may_reach(m.channel_id, delivery.recipient, m.organizer_id):
        return None
    return await ctx.in_working_hours(
        delivery.recipient,
        lambda zone: render.meeting_escalation(
            m, reminders=_reminders(delivery), zone=zone, away_until=_away_until(delivery)
        ),
    )


async def _action(ctx: ComposeContext, delivery: Delivery) -> Outcome | None:
    """The action item if it is still open and untouched since this row was planned."""
    a = await ctx.load(fetch_actions, _number(delivery))
    if a is None or a.done_at is not None or episode_key(a.updated_at) != _episode(delivery):
        return None
    if a.snoozed_until is not None and a.snoozed_until > ctx.now:
        return None
    return a


async def compose_action_nudge(ctx: ComposeContext, delivery: Delivery) -> Composed:
    a = await _action(ctx, delivery)
    if a is None or a.owner_id != delivery.recipient:
        return None
    return await ctx.in_working_hours(
        delivery.recipient, lambda _zone: render.action_nudge(a, reminder=_reminder(delivery))
    )


async def compose_action_escalation(ctx: ComposeContext, delivery: Delivery) -> Composed:
    a = await _action(ctx, delivery)
    if a is None or not await ctx.may_reach(
        a.channel_id, delivery.recipient, a.owner_id, a.creator_id
    ):
        return None
    return await ctx.in_working_hours(
        delivery.recipient,
        lambda _zone: render.action_escalation(
            a, reminders=_reminders(delivery), away_until=_away_until(delivery)
        ),
    )


def register_nudges(composers: Composers) -> None:
    composers.register(NudgeKind.DECISION, compose_decision_nudge)
    composers.register(NudgeKind.DECISION_ESCALATION, compose_decision_escalation)
    composers.register(NudgeKind.MEETING, compose_meeting_nudge)
    composers.register(NudgeKind.MEETING_ESCALATION, compose_meeting_escalation)
    composers.register(NudgeKind.ACTION, compose_action_nudge)
    composers.register(NudgeKind.ACTION_ESCALATION, compose_action_escalation)


# --- follow-through: "What happens now?" ----------------------------------------------------


async def fetch_follow_through(
    session: AsyncSession, ws: WorkspaceKey, numbers: list[int]
) -> dict[int, tuple[Decision, bool]]:
    """Decisions by number, each with whether it has its follow-through (an action, or none
    needed)."""
    rows = await session.execute(
        select(Decision, has_follow_through()).where(
            Decision.in_workspace(ws), Decision.number.in_(numbers)
        )
    )
    return {d.number: (d, bool(followed)) for d, followed in rows}


async def _awaiting_follow_through(ctx: ComposeContext, delivery: Delivery) -> Decision | None:
    """The decision if its owner (this row's recipient) still owes it a next step."""
    found = await ctx.load(fetch_follow_through, _number(delivery))
    if found is None:
        return None
    d, followed = found
    if d.status != DecisionStatus.DECIDED or followed or d.owner_id != delivery.recipient:
        return None
    return d


async def compose_what_next(ctx: ComposeContext, delivery: Delivery) -> Composed:
    d = await _awaiting_follow_through(ctx, delivery)
    if d is None:
        return None
    return await ctx.in_working_hours(delivery.recipient, lambda _zone: render_follow.what_next(d))


async def compose_orphan_nudge(ctx: ComposeContext, delivery: Delivery) -> Composed:
    """An orphan's reminder as a DM of its own, unless it has its next step by now or was
    decided again since. New orphan reminders are bundled into the daily DM
    (`bot.nudges.daily.BUNDLED_KINDS`); this sends any planned as ``pending`` before that."""
    d = await _awaiting_follow_through(ctx, delivery)
    if d is None or d.decided_at is None or episode_key(d.decided_at) != _episode(delivery):
        return None
    return await ctx.in_working_hours(
        delivery.recipient,
        lambda _zone: render_follow.orphan_nudge(d, reminder=_reminder(delivery)),
    )


def register_follow_through(composers: Composers) -> None:
    composers.register(WHAT_NEXT_KIND, compose_what_next)
    composers.register(NudgeKind.ORPHAN, compose_orphan_nudge)


# --- notices: made owner, a decision changed ----------------------------------------------------


def _by(delivery: Delivery) -> str:
    return str(delivery.payload.get("by", ""))


def _created(delivery: Delivery) -> bool:
    return bool(delivery.payload.get("created", False))


async def compose_decision_owner_notice(ctx: ComposeContext, delivery: Delivery) -> Composed:
    """The "you were made owner" DM, while the decision is open and still theirs."""
    if not ctx.prefs_of(delivery.recipient).owner_notices:
        return None
    d = await ctx.load(fetch_decisions, _number(delivery))
    if d is None or not d.is_open or d.owner_id != delivery.recipient:
        return None
    return await ctx.in_working_hours(
        delivery.recipient,
        lambda _zone: notice_blocks.decision_owner(d, by=_by(delivery), created=_created(delivery)),
    )


async def compose_action_owner_notice(ctx: ComposeContext, delivery: Delivery) -> Composed:
    """The "you were given an action item" DM, while it is open and still theirs."""
    if not ctx.prefs_of(delivery.recipient).owner_notices:
        return None
    a = await ctx.load(fetch_actions, _number(delivery))
    if a is None or a.done_at is not None or a.owner_id != delivery.recipient:
        return None
    return await ctx.in_working_hours(
        delivery.recipient,
        lambda _zone: notice_blocks.action_owner(a, by=_by(delivery), created=_created(delivery)),
    )


def _change_told(d: Decision, delivery: Delivery) -> render.Rendered | None:
    """The change notice, while what it tells is still true: a decision reopened (or handed
    on again) since is old news, and a later change has its own notice."""
    payload = delivery.payload
    by, role = _by(delivery), str(payload.get("role", ""))
    change = payload.get("change")
    if change == Change.DECIDED and d.status == DecisionStatus.DECIDED:
        return notice_blocks.decision_decided(d, by=by, role=role)
    if change == Change.DROPPED and d.status == DecisionStatus.DROPPED:
        return notice_blocks.decision_dropped(d, by=by, role=role)
    if change == Change.REASSIGNED and d.is_open and d.owner_id == payload.get("to"):
        previous = payload.get("from")
        return notice_blocks.decision_reassigned(
            d, by=by, role=role, previous=str(previous) if previous else None, owner=d.owner_id
        )
    return None


async def compose_decision_change_notice(ctx: ComposeContext, delivery: Delivery) -> Composed:
    """Tells the creator (or escalation target) a decision was decided, dropped or handed on."""
    if not ctx.prefs_of(delivery.recipient).owner_notices:
        return None
    d = await ctx.load(fetch_decisions, _number(delivery))
    told = _change_told(d, delivery) if d is not None else None
    if told is None:
        return None
    return await ctx.in_working_hours(delivery.recipient, lambda _zone: told)


def register_notices(composers: Composers) -> None:
    composers.register(NoticeKind.DECISION_OWNER, compose_decision_owner_notice)
    composers.register(NoticeKind.ACTION_OWNER, compose_action_owner_notice)
    composers.register(NoticeKind.DECISION_CHANGED, compose_decision_change_notice)


# --- reviews --------------------------------------------------------------------------------


async def compose_review_ask(ctx: ComposeContext, delivery: Delivery) -> Composed:
    """ "Did D-12 hold?" to the owner, if the decision still waits for this review day."""
    d = await ctx.load(fetch_decisions, _number(delivery))
    day = str(delivery.payload.get("review_on", ""))
    if (
        d is None
        or d.status != DecisionStatus.DECIDED
        or d.review_on is None
        or d.review_on.isoformat() != day
        or d.owner_id != delivery.recipient
    ):
        return None
    review_on = d.review_on
    return await ctx.in_working_hours(
        delivery.recipient, lambda _zone: render_reviews.review_ask(d, day=review_on)
    )


# --- the weekly digest ------------------------------------------------------------------------


async def compose_weekly_digest(ctx: ComposeContext, delivery: Delivery) -> Composed:
    """The digest for the row's recipient, with the numbers as they stand when it is sent.

    The week reported is the one before the row's due moment, so a digest sent late still
    reports the week it was planned for.
    """
    digest = await compose_digest(
        db=ctx.db,
        cadence=ctx.cadence,
        ws=ctx.ws,
        recipient=delivery.recipient,
        client=ctx.client,
        now=ctx.now,
        due_at=delivery.due_at,
    )
    chart = OutgoingFile(
        content=digest.chart, filename=digest.chart_filename, title=digest.chart_title
    )
    return OutgoingMessage(
        channel=delivery.recipient,
        text=digest.text,
        blocks=digest.blocks,
        files=(chart,),
        # Reported weeks stay reported: what this digest showed is kept once it is sent.
        after_sent=partial(record_sent, ws=ctx.ws, recipient=delivery.recipient, digest=digest),
    )


def default_composers() -> Composers:
    """Every kind the worker knows how to send."""
    # Imported here: the daily DM's module builds on this one.
    from bot.slack.cards import register_cards
    from bot.slack.daily_compose import register_daily
    from bot.slack.meeting_posts import register_meeting_posts
    from bot.slack.refreshes import register_refreshes

    composers = Composers()
    register_nudges(composers)
    register_daily(composers)
    register_follow_through(composers)
    register_notices(composers)
    composers.register(REVIEW_KIND, compose_review_ask)
    composers.register(DIGEST_KIND, compose_weekly_digest)
    register_cards(composers)
    register_meeting_posts(composers)
    register_refreshes(composers)
    return composers
