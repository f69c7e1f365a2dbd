"""The issue's smallest case through the real app: the stall boundary and "stalled at the end".

New York, Mon–Fri, ``stall_after_days = 5``, `/decision new` on Mon 2 Mar 2026 00:00 EST and
nothing else. When the week 2–8 Mar ends (Mon 9 Mar 00:00 EDT, after the change to daylight
time), D-1 has been idle for exactly five working days: it is stalled in the digest, in
`/decision list stalled` and for the nudge planner alike, and still in the digest when it was
decided between the week's end and the digest going out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from bot.nudges.planner import find_stalled
from bot.workspaces.models import Workspace
from bot.workspaces.service import cadence_for, ensure_workspace
from tests.conftest import AppEnv
from tests.digest_support import WS

NEW_YORK = ZoneInfo("America/New_York")
CREATED = datetime(2026, 3, 2, 0, 0, tzinfo=NEW_YORK)  # 05:00 UTC
WEEK_END = datetime(2026, 3, 9, 0, 0, tzinfo=NEW_YORK)  # 04:00 UTC: EDT since Sunday
DIGEST_DUE = datetime(2026, 3, 9, 9, 0, tzinfo=NEW_YORK)


async def new_york_workspace(env: AppEnv) -> None:
    async with env.deps.db.transaction() as session:
        await ensure_workspace(session, ws=WS, now=CREATED - timedelta(days=1))
        await session.execute(
            update(Workspace)
            .where(Workspace.in_workspace(WS))
            .values(
                overrides={
                    "timezone": "America/New_York",
                    "nudges": {"stall_after_days": 5},
                    "digest": {"day": "mon", "time": "09:00", "recipients": ["U1"]},
                }
            )
        )
    env.deps.clock.set(CREATED)  # type: ignore[attr-defined]
    response = await env.command("/decision", "new Pick the venue", user_id="U1")
    assert "D-1" in response.text


def preview_text(env: AppEnv) -> str:
    body = env.fake.responses[-1].body
    return str(body["blocks"])


async def test_idle_for_exactly_five_working_days_is_stalled_everywhere(app_env: AppEnv) -> None:
    await new_york_workspace(app_env)
    # The digest for 2–8 Mar names D-1.
    app_env.deps.clock.set(DIGEST_DUE)  # type: ignore[attr-defined]
    await app_env.command("/hygiene", "digest preview", user_id="U1")
    text = preview_text(app_env)
    assert "Week of Mon 2 Mar" in text
    assert "Nothing is stalled" not in text
    assert "*Oldest stalled decisions* (1 stalled as the week ended)" in text
    assert "Pick the venue" in text and "no activity since Mon 2 Mar 2026" in text

    # At the very instant the week ends, the list and the nudge planner agree; a microsecond
    # earlier neither does.
    for moment, stalled in ((WEEK_END, True), (WEEK_END - timedelta(microseconds=1), False)):
        app_env.deps.clock.set(moment)  # type: ignore[attr-defined]
        app_env.fake.reset()
        listed = str(await app_env.answer("/decision", "list stalled", user_id="U1"))
        assert ("Pick the venue" in listed) is stalled
        async with app_env.deps.db.transaction() as session:
            cadence = await cadence_for(session, ws=WS, base=app_env.deps.cadence)
            found = await find_stalled(session, ws=WS, cadence=cadence, now=moment)
        assert [item.ref for item in found] == (["D-1"] if stalled else [])


async def test_decided_after_the_week_ended_still_counts_as_stalled_at_its_end(
    app_env: AppEnv,
) -> None:
    await new_york_workspace(app_env)
    app_env.deps.clock.set(WEEK_END + timedelta(hours=4))  # type: ignore[attr-defined]
    await app_env.command("/decision", "decide D-1 The old library", user_id="U1")
    app_env.deps.clock.set(DIGEST_DUE)  # type: ignore[attr-defined]
    app_env.fake.reset()
    await app_env.command("/hygiene", "digest preview", user_id="U1")
    text = preview_text(app_env)
    assert "*Stalled decisions*\\n1" in text
    assert "Pick the venue" in text and "(decided since)" in text
    # Asked now instead, nothing is stalled any more.
    app_env.fake.reset()
    await app_env.command("/hygiene", "stats so far", user_id="U1")
    assert "*Stalled decisions*\\n0  _(same time last week 0; no change)_" in preview_text(app_env)


async def test_a_future_due_date_is_not_stalled_for_inactivity(app_env: AppEnv) -> None:
    """Issue 15 point 5, worked by hand (docs/METRICS.md): UTC, Mon–Fri, five days.

    D-1 "Hire a designer" is due Tue 15 Dec 2026, D-2 has no date; both are recorded on Mon 16
    Nov 10:00 and nothing happens since. On Wed 25 Nov 10:00 both have been idle for seven
    working days: D-2 is stalled, D-1 is not (its date is still to come), in the list, for the
    nudge planner and in the digest. D-1 stalls at Wed 16 Dec 00:00, when its date has passed.
    """
    utc = ZoneInfo("UTC")
    recorded = datetime(2026, 11, 16, 10, 0, tzinfo=utc)
    async with app_env.deps.db.transaction() as session:
        await ensure_workspace(session, ws=WS, now=recorded - timedelta(days=1))
        await session.execute(
            update(Workspace)
            .where(Workspace.in_workspace(WS))
            .values(
                overrides={
                    "nudges": {"stall_after_days": 5},
                    "digest": {"day": "mon", "time": "09:00", "recipients": ["U1"]},
                }
            )
        )
    app_env.deps.clock.set(recorded)  # type: ignore[attr-defined]
    assert "D-1" in (await app_env.command("/decision", "new Hire a designer by 2026-12-15")).text
    assert "D-2" in (await app_env.command("/decision", "new Pick a logo")).text

    async def stalled_at(moment: datetime) -> tuple[list[str], str]:
        app_env.deps.clock.set(moment)  # type: ignore[attr-defined]
        app_env.fake.reset()
        response = await app_env.command("/decision", "list stalled")
        listed = response.text + str([r.body for r in app_env.fake.responses])
        async with app_env.deps.db.transaction() as session:
            cadence = await cadence_for(session, ws=WS, base=app_env.deps.cadence)
            found = await find_stalled(session, ws=WS, cadence=cadence, now=moment)
        return sorted(item.ref for item in found), listed

    refs, listed = await stalled_at(datetime(2026, 11, 25, 10, 0, tzinfo=utc))
    assert refs == ["D-2"]
    assert "Pick a logo" in listed and "Hire a designer" not in listed

    # The digest for the week 23–29 Nov counts one stalled decision and names only D-2.
    app_env.deps.clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=utc))  # type: ignore[attr-defined]
    app_env.fake.reset()
    await app_env.command("/hygiene", "digest preview")
    text = preview_text(app_env)
    assert "*Stalled decisions*\\n1" in text
    assert "Pick a logo" in text and "Hire a designer" not in text

    # The day it is due it is still not stalled; the next day it is.
    refs, listed = await stalled_at(datetime(2026, 12, 15, 23, 59, tzinfo=utc))
    assert refs == ["D-2"]
    refs, listed = await stalled_at(datetime(2026, 12, 16, 0, 0, tzinfo=utc))
    assert refs == ["D-1", "D-2"]
    assert "Hire a designer" in listed
