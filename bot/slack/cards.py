"""A new decision's channel card: posted once, by the web process or else by the worker.

The decision is committed before the acknowledgement with ``card_due_at`` set. The web process
posts the card right after the ack (bot/slack/follow_ups.py); if it stops first, the worker's
tick posts the cards still due (``post_due_cards``). Whoever posts first claims the card in the
database, so it is never posted twice. Kept apart from the listeners so the worker can use it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.db import Database
from bot.decisions import service
from bot.decisions.models import Decision
from bot.slack.blocks import decisions as render
from bot.slack.sender import TOKEN_ERRORS, WorkspaceUnavailable, is_transient
from bot.slack.text import conversation_text
from bot.workspace import WorkspaceKey

log = logging.getLogger(__name__)

# Slack's answers when the app cannot post in a conversation (not invited, gone, archived).
NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found", "is_archived"})

ClientFor = Callable[[WorkspaceKey], Awaitable[AsyncWebClient | None]]
Tell = Callable[[str], Awaitable[object]]
"""How to reach the person who recorded a decision, given the text to say."""


def workspace_of(decision: Decision) -> WorkspaceKey:
    return WorkspaceKey(team_id=decision.team_id, enterprise_id=decision.enterprise_id)


async def post_card(
    client: AsyncWebClient,
    db: Database,
    decision: Decision,
    *,
    now: datetime,
    zone: ZoneInfo,
    tell: Tell | None = None,
) -> bool:
    """Show a new decision to its channel and remember the message so changes update it.

    Returns False when there was nothing to do (already posted, or taken by another process)
    or the app may not post there; ``tell`` then lets the person who recorded it know.
    """
    ws = workspace_of(decision)
    async with db.transaction() as session:
        if not await service.claim_card(session, ws=ws, decision_id=decision.id):
            return False
    today = now.astimezone(zone).date()
    try:
        posted = await client.chat_postMessage(
            channel=decision.channel_id,
            text=render.card_fallback_text(decision),
            blocks=render.decision_card(decision, today=today),
        )
    except SlackApiError as exc:
        error = exc.response.get("error")
        if is_transient(error, exc.response.status_code):
            await _release(db, decision, retry_at=now + service.CARD_RETRY)
            raise
        if error not in NOT_IN_CHANNEL:
            raise
        log.info("no card for %s %s: %s", ws, decision.ref, error)
        if tell is not None:
            await tell(
                f"{decision.ref} is recorded, but I can't post in "
                f"{conversation_text(decision.channel_id, direct=decision.direct)}. "
                "Invite me with `/invite @Followthrough` to share decisions there."
            )
        return False
    except aiohttp.ClientConnectorError:
        # The request never reached Slack, so trying again later cannot post it twice.
        await _release(db, decision, retry_at=now + service.CARD_RETRY)
        raise
    async with db.transaction() as session:
        await service.remember_message(
            session, ws=ws, decision_id=decision.id, channel_id=posted["channel"], ts=posted["ts"]
        )
    decision.message_channel_id, decision.message_ts = posted["channel"], posted["ts"]
    return True


async def _release(db: Database, decision: Decision, *, retry_at: datetime) -> None:
    async with db.transaction() as session:
        await service.release_card(
            session, ws=workspace_of(decision), decision_id=decision.id, retry_at=retry_at
        )


async def post_due_cards(
    db: Database,
    client_for: ClientFor,
    *,
    now: datetime,
    zone: ZoneInfo,
    skipped: set[WorkspaceKey] | None = None,
) -> int:
    """The worker's share: post the cards no web process got to; returns how many it posted.

    A workspace whose cards fail (its token revoked or unavailable, Slack refusing) is logged
    once and skipped for the rest of the pass (and added to ``skipped``); the other workspaces'
    cards still go out.
    """
    async with db.transaction() as session:
        due = await service.due_cards(session, now=now)
    posted = 0
    skipped = set() if skipped is None else skipped
    for decision in due:
        ws = workspace_of(decision)
        if ws in skipped:
            continue
        try:
            client = await client_for(ws)
            if client is None:  # uninstalled since: nobody to post as
                async with db.transaction() as session:
                    await service.claim_card(session, ws=ws, decision_id=decision.id)
                continue
            posted += await post_card(client, db, decision, now=now, zone=zone)
        except WorkspaceUnavailable:
            skipped.add(ws)  # logged once where the token was asked for
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("card for %s %s not posted: %s", ws, decision.ref, exc)
            if not isinstance(exc, SlackApiError) or exc.response.get("error") in TOKEN_ERRORS:
                skipped.add(ws)
        except Exception:
            log.exception("cards of %s not posted this pass; the others go on", ws)
            skipped.add(ws)
    return posted
