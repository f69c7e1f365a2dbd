"""Has this question been settled already? The re-litigation lookup (issue 18 points 3 and 6).

The workspace is never ranked whole. The new title's terms (generic words left out) are looked
up in ``decision_terms`` (index ``(workspace, term, decision)``): each term reads at most
``PER_TERM`` of its newest rows and weighs 1 / the rows it read, so rare words count most; the
``RANKED`` decisions of most weight are then filtered by primary key to those open, or decided
or dropped within ``relitigation_days``, that the reader may see, and the best ``CANDIDATES``
of them are scored by ``bot.decisions.similar`` in Python. One statement of bounded work,
whatever the workspace's size (and one more to load the match, when there is one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Final

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    TextClause,
    and_,
    column,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.decisions import service
from bot.decisions.models import Decision, DecisionStatus, decision_terms
from bot.decisions.similar import LIGHT_TERMS, THRESHOLD, best_match
from bot.errors import Conflict, Forbidden
from bot.meetings.models import Outcome, OutcomeKind
from bot.visibility import Visibility
from bot.workspace import Actor, WorkspaceKey

MAX_TERMS: Final = 6
PER_TERM: Final = 150
RANKED: Final = 60
CANDIDATES: Final = 20


@dataclass(frozen=True, slots=True)
class Repeat:
    """An earlier decision the new one looks like, and how alike (0..1)."""

    decision: Decision
    score: float


def _live_since(since: datetime) -> ColumnElement[bool]:
    return or_(
        Decision.status == DecisionStatus.OPEN,
        and_(Decision.status == DecisionStatus.DECIDED, Decision.decided_at >= since),
        and_(Decision.status == DecisionStatus.DROPPED, Decision.dropped_at >= since),
    )


@lru_cache(maxsize=MAX_TERMS)
def _ranked_sql(count: int) -> TextClause:
    """Decisions sharing the most of ``count`` terms, each term weighing 1 / its rows read.

    Each term reads at most PER_TERM of its newest rows from the (workspace, term, decision)
    index, so a word in every other title costs no more than a rare one, and weighs little.
    """
    per_term = " UNION ALL ".join(
        "SELECT * FROM (SELECT term, decision_id FROM decision_terms "
        f"WHERE enterprise_id = :e AND team_id = :t AND term = :w{i} "
        "ORDER BY decision_id DESC LIMIT :per_term) AS t" + str(i)
        for i in range(count)
    )
    return text(
        f"WITH hits AS ({per_term}), "
        "weighted AS (SELECT decision_id, 1.0 / count(*) OVER (PARTITION BY term) AS w "
        "FROM hits) "
        "SELECT decision_id, sum(w) AS weight FROM weighted GROUP BY decision_id "
        "ORDER BY weight DESC, decision_id DESC LIMIT :ranked"
    )


async def find_repeat(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    title: str,
    visible: Visibility,
    now: datetime,
    relitigation_days: int,
    exclude_id: int | None = None,
    threshold: float = THRESHOLD,
) -> Repeat | None:
    """The visible, live decision of ``ws`` most like ``title``, if one is alike enough.

    ``exclude_id``: the decision just recorded from that title, which is not its own repeat.
    """
    every = decision_terms(title, None)
    # Generic words ("use", "pick") are never what makes two questions one.
    wanted = ([t for t in every if t not in LIGHT_TERMS] or every)[:MAX_TERMS]
    if not wanted:
        return None
    params: dict[str, object] = {
        "e": ws.enterprise_id,
        "t": ws.team_id,
        "per_term": PER_TERM,
        "ranked": RANKED,
    }
    params.update({f"w{i}": term for i, term in enumerate(wanted)})
    ranked = (
        _ranked_sql(len(wanted))
        .bindparams(**params)
        .columns(column("decision_id", Integer), column("weight", Float))
        .subquery("ranked")
    )
    where = [
        # The workspace filter as expressions, not columns: the ranked ids are the way in
        # (primary key); SQLite would otherwise walk the workspace's whole index.
        (Decision.enterprise_id + "") == ws.enterprise_id,
        (Decision.team_id + "") == ws.team_id,
        _live_since(now - timedelta(days=relitigation_days)),
        visible.clause(Decision.channel_id, Decision.owner_id, Decision.creator_id),
    ]
    if exclude_id is not None:
        where.append(Decision.id != exclude_id)
    best = (
        await session.execute(
            select(Decision.id, Decision.title, Decision.resolution)
            .join(ranked, ranked.c.decision_id == Decision.id)
            .where(*where)
            .order_by(ranked.c.weight.desc(), Decision.id.desc())
            .limit(CANDIDATES)
        )
    ).all()
    match = best_match(title, ((r.id, r.title, r.resolution) for r in best), threshold=threshold)
    if match is None:
        return None
    decision = await session.scalar(
        select(Decision)
        .where(Decision.in_workspace(ws), Decision.id == match.decision_id)
        .options(selectinload(Decision.events))
    )
    return Repeat(decision, match.score) if decision is not None else None


async def undo_new(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    number: int,
    actor: Actor,
    visible: Visibility | None = None,
) -> Decision:
    """Remove D-``number``, just recorded, when nothing has happened to it since.

    Only the person who recorded it may, and only while its one history entry is its creation
    (as decided already: creation and decision), nothing supersedes through it and no action
    item hangs off it. Its number stays used: numbers are never given out twice.
    """
    decision = await service.get_decision(session, ws=ws, number=number, visible=visible)
    if actor.user_id != decision.creator_id:
        raise Forbidden(code="undo.not_creator", ref=decision.ref, creator=decision.creator_id)
    made = [e.action for e in decision.events]
    untouched = made in (["created"], ["created", "decided"]) and decision.status in (
        DecisionStatus.OPEN,
        DecisionStatus.DECIDED,
    )
    if untouched and not decision.supersedes and decision.superseded_by is None:
        actions = await session.scalar(
            select(func.count())
            .select_from(Outcome)
            .where(
                Outcome.in_workspace(ws),
                Outcome.decision_id == decision.id,
                Outcome.kind != OutcomeKind.DECISION,
            )
        )
        untouched = not actions
    if not untouched:
        raise Conflict(code="undo.changed", ref=decision.ref)
    await session.delete(decision)
    await session.flush()
    return decision
