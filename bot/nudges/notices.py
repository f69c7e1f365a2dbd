"""Moments that matter, told by DM: you were made owner, or a decision you care about changed.

When someone other than you makes you the owner of a decision or an action item (recording it
with you as owner, assigning or reassigning it), you are told once; when a decision you
recorded, or one that was escalated to you, is decided, dropped or handed to someone else by
someone other than you, you are told once. Nothing is sent about what you did yourself.

Each notice is a row of the deliveries ledger inserted in the caller's transaction, so it
exists exactly when the change does (a change rolled back leaves no notice). Its key names the
change: the kind, the item, the recipient and the moment of the change (``20261123T100000``,
plus what changed for decisions). The row is due at once; the composer (`bot.slack.compose`)
holds it until the recipient's working hours and decides then, from current state, whether it
is still worth sending (a decision reopened since its "decided" notice was planned is not).

Nothing here imports the stall rules (`bot.nudges.rules` leads back to `bot.decisions.service`,
which calls this module), so the escalation kind is named here as the planner writes it.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery import ledger
from bot.delivery.models import Delivery, DeliveryStatus
from bot.workspace import WorkspaceKey

#: The kind the nudge planner gives a decision's escalation (`bot.nudges.rules.NudgeKind`).
DECISION_ESCALATION_KIND = "escalation:decision"


class NoticeKind(enum.StrEnum):
    """Ledger kinds of the notices planned here."""

    DECISION_OWNER = "notice:owner:decision"
    ACTION_OWNER = "notice:owner:action"
    DECISION_CHANGED = "notice:decision"


class Change(enum.StrEnum):
    """What happened to a decision, for the people who recorded it or had it escalated."""

    DECIDED = "decided"
    DROPPED = "dropped"
    REASSIGNED = "reassigned"


class Role(enum.StrEnum):
    """Why a recipient hears of a decision's change."""

    CREATOR = "creator"
    ESCALATED = "escalated"


def change_moment(now: datetime) -> str:
    """A change's moment in ledger periods: UTC, to the second."""
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%S")


def _is_person(recipient: str | None) -> bool:
    return bool(recipient) and str(recipient)[:1] in ("U", "W")


@dataclass(frozen=True, slots=True)
class DecisionFacts:
    """What a notice needs to know about a decision, taken before the change is applied."""

    number: int
    owner_id: str
    creator_id: str


def owner_notice(
    *,
    ws: WorkspaceKey,
    kind: NoticeKind,
    ref: str,
    number: int,
    owner_id: str | None,
    actor_id: str,
    now: datetime,
    created: bool,
) -> ledger.Planned | None:
    """The "you were made owner" row for ``owner_id``; None when there is nobody to tell (the
    owner made themself owner, or the owner is not a person)."""
    if owner_id is None or owner_id == actor_id or not _is_person(owner_id):
        return None
    return ledger.Planned(
        ws=ws,
        kind=kind.value,
        subject=ref,
        recipient=owner_id,
        period=change_moment(now),
        due_at=now,
        payload={"number": number, "by": actor_id, "created": created},
    )


def change_notices(
    *,
    ws: WorkspaceKey,
    ref: str,
    before: DecisionFacts,
    change: Change,
    actor_id: str,
    now: datetime,
    escalated_to: Collection[str] = (),
    new_owner: str | None = None,
) -> list[ledger.Planned]:
    """Rows telling the decision's creator, and whoever it was escalated to, of ``change``.

    Nobody hears of their own change; the new owner of a reassignment gets the owner notice
    instead; each person is told once even when they are both creator and escalation target.
    """
    recipients: dict[str, Role] = {}
    for person, role in (
        (before.creator_id, Role.CREATOR),
        *((target, Role.ESCALATED) for target in sorted(escalated_to)),
    ):
        if not _is_person(person) or person in (actor_id, new_owner):
            continue
        recipients.setdefault(person, role)
    payload: dict[str, object] = {"number": before.number, "by": actor_id, "change": change.value}
    if change is Change.REASSIGNED:
        payload.update({"from": before.owner_id, "to": new_owner})
    return [
        ledger.Planned(
            ws=ws,
            kind=NoticeKind.DECISION_CHANGED.value,
            subject=ref,
            recipient=person,
            period=f"{change.value}@{change_moment(now)}",
            due_at=now,
            payload={**payload, "role": role.value},
        )
        for person, role in recipients.items()
    ]


async def escalated_to(session: AsyncSession, *, ws: WorkspaceKey, ref: str) -> set[str]:
    """The people an escalation of ``ref`` was sent to (any episode); conversations are left
    out, since a notice is a DM."""
    found = await session.scalars(
        select(Delivery.recipient)
        .where(
            Delivery.in_workspace(ws),
            Delivery.kind == DECISION_ESCALATION_KIND,
            Delivery.subject == ref,
            Delivery.status == DeliveryStatus.SENT,
        )
        .distinct()
    )
    return {r for r in found if _is_person(r)}


async def plan(session: AsyncSession, rows: Sequence[ledger.Planned | None]) -> int:
    """Insert the notices in the caller's transaction (each once, by its key); a notice is
    planned at the moment of its change, which is also when it falls due."""
    wanted = [row for row in rows if row is not None]
    if not wanted:
        return 0
    return await ledger.plan(session, rows=wanted, now=min(row.due_at for row in wanted))


async def tell_decision_change(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    ref: str,
    before: DecisionFacts,
    change: Change,
    actor_id: str,
    now: datetime,
    new_owner: str | None = None,
) -> int:
    """Plan the notices of a decision's change, in the caller's transaction."""
    targets = await escalated_to(session, ws=ws, ref=ref)
    rows = change_notices(
        ws=ws,
        ref=ref,
        before=before,
        change=change,
        actor_id=actor_id,
        now=now,
        escalated_to=targets,
        new_owner=new_owner,
    )
    return await plan(session, rows)
