"""The set-based planning of ordinary stalled decisions (`bot.nudges.bulk`) plans exactly the rows
the item-by-item path plans: same keys, due moments, payloads and daily DMs, across zones,
daylight-saving changes, holidays, weekends, reminder hours and activity to the microsecond."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, select, update

from bot.cadence.config import CadenceConfig, apply_overrides
from bot.db import Database
from bot.decisions import service as decisions
from bot.decisions.models import Decision
from bot.delivery.models import Delivery
from bot.nudges import bulk
from bot.nudges import daily as daily_module
from bot.nudges import planner as planner_module
from bot.nudges.planner import PlanReport, plan_nudges
from bot.workspace import WorkspaceKey
from bot.workspaces import service as workspaces

WS = WorkspaceKey("TSET")
ZONES = {
    "U1": ZoneInfo("Europe/Berlin"),
    "U2": ZoneInfo("America/New_York"),
    "U3": ZoneInfo("Asia/Kolkata"),
    "U4": ZoneInfo("Australia/Lord_Howe"),  # half-hour daylight saving
    "U5": ZoneInfo("Pacific/Kiritimati"),  # UTC+14
}
HOURS = {"U2": time(11, 30), "U4": time(7, 15)}
OWNERS = [*ZONES, "U6"]  # U6: zone unknown (the workspace's)


async def zone_of(_ws: WorkspaceKey, user: str) -> ZoneInfo | None:
    return ZONES.get(user)


async def hour_of(_ws: WorkspaceKey, user: str) -> time | None:
    return HOURS.get(user)


async def load(db: Database, *, count: int, seed: int) -> None:
    """``count`` open decisions idle since moments spread over October and November 2026 (both
    daylight-saving ends in Europe and the US), some with due dates or snoozes."""
    rng = random.Random(seed)
    start = datetime(2026, 9, 28, tzinfo=UTC)
    async with db.transaction() as session:
        await workspaces.ensure_workspace(session, ws=WS, now=start)
        for i in range(count):
            owner = OWNERS[i % len(OWNERS)]
            at = start + timedelta(seconds=rng.randrange(0, 62 * 86400))
            if rng.random() < 0.5:
                at += timedelta(microseconds=rng.randrange(1, 1_000_000))
            due = None
            if rng.random() < 0.1:
                due = date(2026, 10, 1) + timedelta(days=rng.randrange(0, 50))
            decision = await decisions.create_decision(
                session,
                decisions.new_decision(
                    ws=WS,
                    title=f"D{i}",
                    owner_id=owner,
                    creator_id=owner,
                    channel_id="C1",
                    now=at,
                    due_date=due,
                ),
            )
            snoozed = at + timedelta(days=rng.randrange(1, 20)) if rng.random() < 0.05 else None
            await session.execute(
                update(Decision)
                .where(Decision.id == decision.id)
                .values(last_activity_at=at, snoozed_until=snoozed)
            )


async def ledger(db: Database) -> list[tuple[Any, ...]]:
    async with db.transaction() as session:
        rows = (await session.scalars(select(Delivery).where(Delivery.in_workspace(WS)))).all()
        return sorted(
            (r.kind, r.subject, r.recipient, r.period, r.status, r.due_at, r.payload) for r in rows
        )


async def forget(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(delete(Delivery).where(Delivery.in_workspace(WS)))


async def tick(
    db: Database, cadence: CadenceConfig, now: datetime, *, set_based: bool
) -> PlanReport:
    return await plan_nudges(
        db, base=cadence, now=now, zone_of=zone_of, hour_of=hour_of, set_based=set_based
    )


CADENCES: dict[str, dict[str, Any]] = {
    "utc": {},
    "berlin-holidays": {
        "timezone": "Europe/Berlin",
        "working_hours": {"holidays": ["2026-10-26", "2026-11-11", "2026-11-24"]},
    },
    "new-york-escalating": {
        "timezone": "America/New_York",
        "working_hours": {"days": ["mon", "tue", "wed", "thu", "fri", "sat"]},
        "nudges": {"escalate_to": "C0ESCALATE", "escalate_after": 4, "repeat_every_days": 1},
    },
}
NOWS = [
    datetime(2026, 11, 30, 8, 30, 17, 250000, tzinfo=UTC),  # Monday morning
    datetime(2026, 11, 28, 12, 0, tzinfo=UTC),  # Saturday
    datetime(2026, 11, 24, 22, 45, tzinfo=UTC),  # a Berlin holiday's night
    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),  # inside New York's repeated hour
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # inside Berlin's repeated hour
]


@pytest.mark.parametrize("cadence_name", sorted(CADENCES))
async def test_set_based_plans_what_item_by_item_plans(
    db: Database, cadence_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cadence = apply_overrides(CadenceConfig(), CADENCES[cadence_name])
    await load(db, count=240, seed=len(cadence_name))
    inserted: list[int] = []
    real_plan = bulk.plan

    async def counting_plan(*args: Any, **kwargs: Any) -> int:
        inserted.append(await real_plan(*args, **kwargs))
        return inserted[-1]

    monkeypatch.setattr(planner_module.bulk, "plan", counting_plan)
    daily_inserted: list[int] = []
    real_daily = daily_module._plan_daily

    async def counting_daily(*args: Any, **kwargs: Any) -> int:
        daily_inserted.append(await real_daily(*args, **kwargs))
        return daily_inserted[-1]

    monkeypatch.setattr(daily_module, "_plan_daily", counting_daily)
    for now in NOWS:
        await forget(db)
        one_by_one = await tick(db, cadence, now, set_based=False)
        expected = await ledger(db)
        await forget(db)
        inserted.clear()
        assert not daily_inserted  # the item-by-item path writes its daily rows one by one
        set_based = await tick(db, cadence, now, set_based=True)
        # Every daily DM of the set-based tick came from the one INSERT … SELECT.
        assert sum(daily_inserted) == set_based.daily, (daily_inserted, set_based.daily)
        daily_inserted.clear()
        assert await ledger(db) == expected, now
        assert (set_based.due, set_based.planned, set_based.daily) == (
            one_by_one.due,
            one_by_one.planned,
            one_by_one.daily,
        )
        if now == NOWS[0]:
            # The set-based path planned most of them (the rest: due dates, snoozes and, where
            # reminders escalate after a few days, the escalations).
            floor = 0 if cadence_name == "new-york-escalating" else one_by_one.planned // 3
            assert sum(inserted) > floor, (inserted, one_by_one.planned)
        if now == NOWS[0]:
            assert set_based.daily > 0
        steady = await tick(db, cadence, now, set_based=True)
        daily_inserted.clear()
        assert (steady.due, steady.planned, steady.daily) == (one_by_one.due, 0, 0)
        assert await ledger(db) == expected
