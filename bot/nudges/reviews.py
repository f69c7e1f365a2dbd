"""Planning "Did D-12 hold?": a decided decision's owner is asked on its review day.

Each question is one ledger row (kind ``review:decision``, subject ``D-<n>``, recipient the
owner, period the review day), so however many planners run it is asked once per review day;
"Too early" moves the day on and so makes a new question. The row is due at the first working
moment of the review day in the owner's own time zone (their working hours, the workspace's
days and holidays); it is planned up to a day early so that a zone ahead of the workspace's is
not asked late. What it says is composed when it is sent (bot/slack/compose.py), which drops it
if the decision was answered, reopened, superseded or given another day meanwhile.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.cadence.calendar import local_moment
from bot.cadence.config import CadenceConfig
from bot.cadence.hours import next_working_moment
from bot.cadence.stall import local_today
from bot.db import Database
from bot.decisions.models import Decision, DecisionStatus
from bot.delivery import ledger
from bot.nudges.planner import PlanReport, ZoneOf
from bot.nudges.rules import Subject, is_user_id, subject_ref
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces

log = logging.getLogger(__name__)

REVIEW_KIND = "review:decision"
# Review days are looked at this far ahead of the workspace's today (the widest zone offsets).
_AHEAD = timedelta(days=1)


async def plan_workspace_reviews(
    db: Database, *, ws: WorkspaceKey, base: CadenceConfig, now: datetime, zone_of: ZoneOf
) -> PlanReport:
    """Plan the review questions of one workspace whose day has come (or comes within a day)."""
    async with db.transaction() as session:
        cadence = await workspaces.cadence_for(session, ws=ws, base=base)
        rows = (
            await session.execute(
                select(Decision.number, Decision.owner_id, Decision.review_on).where(
                    Decision.in_workspace(ws),
                    Decision.status == DecisionStatus.DECIDED,
                    Decision.review_on <= local_today(now, cadence) + _AHEAD,
                )
            )
        ).all()
        subjects = {subject_ref_for(number) for number, _, _ in rows}
        known = await ledger.existing_keys(session, ws=ws, kinds=[REVIEW_KIND], subjects=subjects)
    new = [
        (number, owner, day)
        for number, owner, day in rows
        if day is not None
        and (REVIEW_KIND, subject_ref_for(number), owner, day.isoformat()) not in known
    ]
    report = PlanReport(workspaces=1, due=len(rows))
    if not new:
        return report
    zones: dict[str, ZoneInfo] = {}
    for owner in {owner for _, owner, _ in new}:
        zone = await zone_of(ws, owner) if is_user_id(owner) else None
        zones[owner] = zone or cadence.zone
    planned = [
        ledger.Planned(
            ws=ws,
            kind=REVIEW_KIND,
            subject=subject_ref_for(number),
            recipient=owner,
            period=day.isoformat(),
            due_at=next_working_moment(
                max(now, local_moment(day, time(0), zones[owner])),
                zones[owner],
                cadence.working_hours,
            ),
            payload={"number": number, "review_on": day.isoformat()},
        )
        for number, owner, day in new
    ]
    async with db.transaction() as session:
        report.planned = await ledger.plan(session, rows=planned, now=now)
    return report


def subject_ref_for(number: int) -> str:
    return subject_ref(Subject.DECISION, number)


async def plan_reviews(
    db: Database, *, base: CadenceConfig, now: datetime, zone_of: ZoneOf
) -> PlanReport:
    """Plan due review questions in every installed workspace, each on its own (as nudges)."""
    async with db.transaction() as session:
        live = await workspaces.active_workspaces(session)
    report = PlanReport()
    for ws in live:
        try:
            report.add(await plan_workspace_reviews(db, ws=ws, base=base, now=now, zone_of=zone_of))
        except Exception:
            log.exception("planning reviews for %s failed; the other workspaces go on", ws)
            report.failed += 1
    return report
