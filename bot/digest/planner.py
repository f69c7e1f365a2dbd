"""Plans each workspace's weekly digest into the deliveries ledger, once per recipient and week.

The row's period is the week's key ("2026-W48"), so a second planner, a retry or a worker that
was down at the configured minute still produces exactly one digest per recipient and week.
What it says is composed when it is sent (bot/slack/compose.py).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.config import CadenceConfig
from bot.delivery import ledger
from bot.digest.schedule import digest_due
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces

log = logging.getLogger(__name__)

DIGEST_KIND = "digest"
DIGEST_SUBJECT = "weekly"
# `/hygiene digest`: sent at once, each request its own row (the period is the moment asked).
ON_DEMAND_SUBJECT = "on-demand"


async def due_digests(
    session: AsyncSession,
    *,
    now: datetime,
    base: CadenceConfig,
    failed: list[WorkspaceKey] | None = None,
) -> list[ledger.Planned]:
    """One planned row per recipient of every installed workspace whose digest is due.

    A workspace whose schedule cannot be read (a stored cadence that no longer loads) is
    logged, added to ``failed``, and skipped; the others are planned all the same.
    """
    planned: list[ledger.Planned] = []
    for ws in await workspaces.active_workspaces(session):
        try:
            cadence = await workspaces.cadence_for(session, ws=ws, base=base)
            due = digest_due(now, cadence)
        except (ValueError, TypeError, LookupError) as exc:
            log.error("the digest of %s could not be planned: %s", ws, exc)
            if failed is not None:
                failed.append(ws)
            continue
        if due is None:
            continue
        planned += [
            ledger.Planned(
                ws=ws,
                kind=DIGEST_KIND,
                subject=DIGEST_SUBJECT,
                recipient=recipient,
                period=due.period_key,
                due_at=due.due_at,
            )
            for recipient in cadence.digest.recipients
        ]
    return planned


async def plan_digests(
    session: AsyncSession,
    *,
    now: datetime,
    base: CadenceConfig,
    failed: list[WorkspaceKey] | None = None,
) -> int:
    """Insert the due digests that are not in the ledger yet; returns how many were new."""
    rows = await due_digests(session, now=now, base=base, failed=failed)
    return await ledger.plan(session, rows=rows, now=now)
