"""/hygiene away and /hygiene back: a person's own time off, said in their own time zone.

Beside the listeners (like `bot.slack.calendar_feeds`): the /hygiene listener routes here. The
dates are read in the person's Slack time zone and every reply names them in it.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from bot.cadence.config import CadenceConfig
from bot.errors import InvalidInput
from bot.slack.deps import deps_of, workspace_of
from bot.slack.hygiene_request import HygieneRequest
from bot.slack.parsing import commands as grammar
from bot.slack.parsing.dates import parse_date
from bot.slack.text import date_text, mention, until_text
from bot.timeoff import service as timeoff
from bot.timeoff.service import Away


def _period_text(period: Away, today: date) -> str:
    if period.first_day == today:
        start = "from today"
    elif period.first_day < today:
        start = f"since {date_text(period.first_day)}"
    else:
        start = f"from {date_text(period.first_day)}"
    return f"{start} through {date_text(period.last_day)}"


def _meanwhile(cadence: CadenceConfig, user_id: str) -> str:
    target = cadence.nudges.escalate_to
    if target and target != user_id:
        where = mention(target) if target[:1] in ("U", "W") else f"<#{target}>"
        return f" Anything of yours that falls due meanwhile goes to {where} instead."
    return ""


async def away(request: HygieneRequest, cmd: grammar.HygieneAway) -> None:
    """Set (or, with no dates, show) the person's time off; the reply says it on their clock."""
    deps, ws = deps_of(request.context), workspace_of(request.context)
    user_id = request.command["user_id"]
    zone = await deps.user_zone(request.client, ws, user_id)
    now = deps.now()
    today = now.astimezone(zone).date()
    cadence = await deps.cadence_for(ws)
    if cmd.until_text is None:
        async with deps.db.transaction() as session:
            current = await timeoff.current_period(
                session, ws=ws, user_id=user_id, zone=zone, now=now
            )
        if current is None:
            text = (
                "You have no time off set. `/hygiene away until DATE` sets it "
                "(DATE is your last day away)."
            )
        else:
            text = (
                f"You are away {_period_text(current, today)} ({zone.key}); "
                f"{_back_text(current, cadence, zone)} `/hygiene back` ends it now."
            )
        await request.ack(response_type="ephemeral", text=text)
        return
    last_day = parse_date(cmd.until_text, today=today)
    first_day = parse_date(cmd.from_text, today=today) if cmd.from_text is not None else today
    if cmd.from_text is not None and last_day < first_day:
        raise InvalidInput(
            f"Your time off would end on {date_text(last_day)}, before it starts on "
            f"{date_text(first_day)}; give the first day, then the last one."
        )
    async with deps.db.transaction() as session:
        period = await timeoff.set_away(
            session,
            ws=ws,
            user_id=user_id,
            first_day=first_day,
            last_day=last_day,
            zone=zone,
            now=now,
        )
    await request.ack(
        response_type="ephemeral",
        text=(
            f"Got it: you are away {_period_text(period, today)} ({zone.key}). "
            f"{_back_text(period, cadence, zone)} Your items don't count as stalled on those "
            f"days.{_meanwhile(cadence, user_id)} `/hygiene back` ends it early."
        ),
    )


def _back_text(period: Away, cadence: CadenceConfig, zone: ZoneInfo) -> str:
    resume = timeoff.back_at(period, cadence)
    return f"I'll hold your messages until {until_text(resume, zone)} your time."


async def back(request: HygieneRequest) -> None:
    """End the person's time off now; what was held for them goes out in their working hours."""
    deps, ws = deps_of(request.context), workspace_of(request.context)
    user_id = request.command["user_id"]
    zone = await deps.user_zone(request.client, ws, user_id)
    now = deps.now()
    async with deps.db.transaction() as session:
        was = await timeoff.come_back(session, ws=ws, user_id=user_id, zone=zone, now=now)
    today = now.astimezone(zone).date()
    if was.first_day >= today:
        text = (
            f"Your time off {_period_text(was, today)} is cancelled, "
            "so you'll get your messages as usual."
        )
    else:
        text = (
            f"Welcome back: your time off since {date_text(was.first_day)} ended yesterday. "
            "What was held for you goes out in your working hours."
        )
    await request.ack(response_type="ephemeral", text=text)
