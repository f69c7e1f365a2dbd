"""When an item deserves a reminder, which reminder is due, and the ledger keys that send it once.

An item (an open decision, an outcome-free meeting, an overdue action) goes through *episodes*:
one starts at its last activity (for a meeting, its end) and lasts until the next activity.
Within an episode reminders are numbered from 1: the first is due when the item stalls, each
next one ``repeat_every_days`` working days later. The ledger period ``<episode>#<n>`` names one
reminder, so however many planners run, each is planned once; new activity (a change, a
snooze) starts a new episode and the count starts again. When reminder ``escalate_after + 1``
falls due the episode is escalated, once, to ``escalate_to``, and the owner gets no more reminders
about it in that episode (the digest still shows it).

Working days and "today" are the workspace's (its cadence time zone); when a reminder is then
*delivered* is the recipient's business (their own working hours), settled by the planner.
Everything here is pure: ``now`` and the cadence come in, moments come out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.cadence.config import CadenceConfig
from bot.cadence.hours import add_working_days, local_moment, working_days_between
from bot.cadence.stall import stall_moment, working_calendar
from bot.timeoff.service import Away


class Subject(enum.StrEnum):
    DECISION = "decision"
    MEETING = "meeting"
    ACTION = "action"
    #: A decided decision with no action and no "no action needed" (issue 17): an orphan.
    ORPHAN = "orphan"


class NudgeKind(enum.StrEnum):
    """Ledger kinds of the deliveries this package plans."""

    DECISION = "nudge:decision"
    MEETING = "nudge:meeting"
    ACTION = "nudge:action"
    ORPHAN = "nudge:orphan"
    DECISION_ESCALATION = "escalation:decision"
    MEETING_ESCALATION = "escalation:meeting"
    ACTION_ESCALATION = "escalation:action"


REMINDER_KIND = {
    Subject.DECISION: NudgeKind.DECISION,
    Subject.MEETING: NudgeKind.MEETING,
    Subject.ACTION: NudgeKind.ACTION,
    Subject.ORPHAN: NudgeKind.ORPHAN,
}
REMINDER_KINDS = frozenset(REMINDER_KIND.values())
# An orphan is not escalated: after `escalate_after` reminders its owner hears no more of it and
# only the digest names it, so decisions decided long before this reminder existed stay quiet.
ESCALATION_KIND = {
    Subject.DECISION: NudgeKind.DECISION_ESCALATION,
    Subject.MEETING: NudgeKind.MEETING_ESCALATION,
    Subject.ACTION: NudgeKind.ACTION_ESCALATION,
}
_REF_PREFIX = {
    Subject.DECISION: "D",
    Subject.MEETING: "M",
    Subject.ACTION: "A",
    Subject.ORPHAN: "D",
}


def subject_ref(subject: Subject, number: int) -> str:
    """The item's reference as people know it (``D-5``); the ledger's ``subject`` column."""
    return f"{_REF_PREFIX[subject]}-{number}"


def episode_key(anchor: datetime) -> str:
    """The episode's name in ledger periods: its start in UTC, to the second."""
    return anchor.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


def is_user_id(recipient: str) -> bool:
    """People's ids start with U or W; anything else (C…, G…) is a conversation."""
    return recipient[:1] in ("U", "W")


@dataclass(frozen=True, slots=True)
class Stalled:
    """An item that may deserve reminders: whose it is and since when it has stalled."""

    subject: Subject
    number: int
    owner_id: str
    anchor: datetime
    stalled_from: datetime
    #: Stalled because a due date passed (not for want of activity): "due" while its owner is
    #: away, which sends it to ``escalate_to`` at once.
    overdue: bool = False
    # Worked out once: the planner asks for them several times per item and tick.
    _ref: str = field(init=False, repr=False, compare=False)
    _episode: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_ref", subject_ref(self.subject, self.number))
        object.__setattr__(self, "_episode", episode_key(self.anchor))

    @property
    def ref(self) -> str:
        return self._ref

    @property
    def episode(self) -> str:
        return self._episode


@dataclass(frozen=True, slots=True)
class Wanted:
    """A reminder or escalation an item deserves now; the planner adds when to deliver it."""

    kind: NudgeKind
    subject: str
    recipient: str
    period: str
    payload: dict[str, Any] = field(default_factory=dict)
    #: When it fell due (a reminder: the moment of its number in the episode); None for "now".
    since: datetime | None = None

    @property
    def is_reminder(self) -> bool:
        """A reminder to the item's owner (it waits for their daily DM); else an escalation."""
        return self.kind in REMINDER_KINDS

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind.value, self.subject, self.recipient, self.period)


def due_passed(due_date: date, cadence: CadenceConfig) -> datetime:
    """The moment a due date is over: the start of the next day in the workspace's zone."""
    return local_moment(due_date + timedelta(days=1), time(0), cadence.zone)


def _overdue_from(anchor: datetime, due_date: date, cadence: CadenceConfig) -> datetime:
    passed = due_passed(due_date, cadence)
    if anchor < passed:
        return passed
    # Activity on an item that is already overdue buys one reminder interval of quiet; without
    # this, every edit of an overdue item would trigger an immediate reminder.
    return add_working_days(
        anchor, cadence.nudges.repeat_every_days, cadence.zone, cadence.working_hours
    )


def _not_before(moment: datetime, snoozed_until: datetime | None) -> datetime:
    return max(moment, snoozed_until) if snoozed_until is not None else moment


def decision_stalled_from(
    *,
    last_activity_at: datetime,
    due_date: date | None,
    snoozed_until: datetime | None,
    cadence: CadenceConfig,
) -> datetime:
    """When an open decision stalls: past its due date, or (with none) idle for
    ``stall_after_days`` working days. A future due date is the team's own deadline, so a
    decision that has one is never stalled for inactivity before it passes."""
    if due_date is not None:
        stalled = _overdue_from(last_activity_at, due_date, cadence)
    else:
        stalled = stall_moment(
            last_activity_at, working_calendar(cadence), cadence.nudges.stall_after_days
        )
    return _not_before(stalled, snoozed_until)


def action_stalled_from(
    *,
    updated_at: datetime,
    due_date: date,
    snoozed_until: datetime | None,
    cadence: CadenceConfig,
) -> datetime:
    """When an open action item becomes overdue (or overdue again after activity or a snooze)."""
    return _not_before(_overdue_from(updated_at, due_date, cadence), snoozed_until)


def meeting_stalled_from(*, ended_at: datetime, cadence: CadenceConfig) -> datetime:
    """When a meeting without outcomes has used up its grace period (real hours)."""
    return ended_at + timedelta(hours=cadence.nudges.outcome_grace_hours)


def orphan_from(*, decided_at: datetime, cadence: CadenceConfig) -> datetime:
    """When a decided decision with no next step becomes an orphan: ``followthrough_after_days``
    working days after it was decided (counted as the stall rule counts)."""
    return stall_moment(
        decided_at, working_calendar(cadence), cadence.decisions.followthrough_after_days
    )


def reminder_number(stalled_from: datetime, now: datetime, cadence: CadenceConfig) -> int | None:
    """Which reminder of the episode is due at ``now`` (1 is the first); None before the stall."""
    if now < stalled_from:
        return None
    elapsed = working_days_between(stalled_from, now, cadence.zone, cadence.working_hours)
    return 1 + elapsed // cadence.nudges.repeat_every_days


def reminder_moment(stalled_from: datetime, number: int, cadence: CadenceConfig) -> datetime:
    """When reminder ``number`` of the episode falls due (the inverse of `reminder_number`)."""
    return add_working_days(
        stalled_from,
        (number - 1) * cadence.nudges.repeat_every_days,
        cadence.zone,
        cadence.working_hours,
    )


@dataclass(frozen=True, slots=True)
class Due:
    """What `wanted_now` wants for an item, as far as its ledger key: enough to tell whether it
    was planned before, without the rest of the arithmetic (`Due.wanted` does that)."""

    item: Stalled
    #: The reminder of the episode due now (for an escalation, the one that would have been).
    number: int
    escalation: bool
    key: tuple[str, str, str, str]
    cadence: CadenceConfig
    owner_away: Away | None = None

    def wanted(self) -> Wanted:
        item = self.item
        if not self.escalation:
            return _reminder(item, self.number, self.cadence)
        rules = self.cadence.nudges
        payload: dict[str, Any] = {
            "number": item.number,
            "episode": item.episode,
            "owner": item.owner_id,
            "reminders": min(self.number - 1, rules.escalate_after),
        }
        if self.owner_away is not None:
            payload["away_until"] = self.owner_away.last_day.isoformat()
        return Wanted(
            kind=ESCALATION_KIND[item.subject],
            subject=item.ref,
            recipient=rules.escalate_to,
            period=item.episode,
            payload=payload,
        )


def due_now(
    item: Stalled,
    *,
    now: datetime,
    cadence: CadenceConfig,
    owner_away: Away | None = None,
) -> Due | None:
    """The reminder or escalation due now for ``item`` (see `wanted_now`), or None."""
    number = reminder_number(item.stalled_from, now, cadence)
    if number is None:
        return None
    rules = cadence.nudges
    if item.subject not in ESCALATION_KIND:
        if number > rules.escalate_after:
            return None
        return _due_reminder(item, number, cadence)
    target = rules.escalate_to
    escalates = bool(target) and target != item.owner_id
    away_due = owner_away is not None and item.overdue
    if escalates and (number > rules.escalate_after or away_due):
        key = (ESCALATION_KIND[item.subject].value, item.ref, target, item.episode)
        return Due(item, number, True, key, cadence, owner_away)
    return _due_reminder(item, number, cadence)


def _due_reminder(item: Stalled, number: int, cadence: CadenceConfig) -> Due:
    key = (
        REMINDER_KIND[item.subject].value,
        item.ref,
        item.owner_id,
        f"{item.episode}#{number}",
    )
    return Due(item, number, False, key, cadence)


def wanted_now(
    item: Stalled,
    *,
    now: datetime,
    cadence: CadenceConfig,
    owner_away: Away | None = None,
) -> list[Wanted]:
    """The reminder due now for ``item``, or its escalation once enough reminders went by.

    Escalation ends the owner's reminders for the episode: after ``escalate_after`` of them the
    item goes once to ``escalate_to`` and then only the digest shows it, until activity starts
    a new episode. Without a target (or with the owner as the target) reminders go on.

    ``cadence`` is the owner's (their away days are not working days). While the owner is away
    (``owner_away``), an item whose due date has passed goes to ``escalate_to`` at once instead
    of waiting for reminders the owner would not see; back, they get the episode's reminders.
    """
    due = due_now(item, now=now, cadence=cadence, owner_away=owner_away)
    return [] if due is None else [due.wanted()]


def _reminder(item: Stalled, number: int, cadence: CadenceConfig) -> Wanted:
    return Wanted(
        kind=REMINDER_KIND[item.subject],
        subject=item.ref,
        recipient=item.owner_id,
        period=f"{item.episode}#{number}",
        payload={
            "number": item.number,
            "episode": item.episode,
            "reminder": number,
            "stalled": item.stalled_from.astimezone(UTC).isoformat(),
        },
        since=reminder_moment(item.stalled_from, number, cadence),
    )
