"""Decisions and their history."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    event,
    false,
    insert,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column, relationship

from bot.db import Base, UTCDateTime, str_enum
from bot.decisions.similar import terms
from bot.workspace import WorkspaceScoped


class DecisionStatus(enum.StrEnum):
    OPEN = "open"
    DECIDED = "decided"
    DROPPED = "dropped"
    # Replaced by a later decision (``superseded_by``): out of the open and stalled counts.
    SUPERSEDED = "superseded"
    # Decided, then found not to hold at its review (issue 17): out of the open and stalled
    # counts like a dropped one, still counted as decided in the week it was decided.
    REVERSED = "reversed"


class ReviewAnswer(enum.StrEnum):
    """What the owner said when asked whether a decision held (``decision_reviews.answer``)."""

    KEPT = "kept"
    AMENDED = "amended"
    REVERSED = "reversed"
    TOO_EARLY = "too_early"


class Decision(WorkspaceScoped, Base):
    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "team_id", "number"),
        Index("ix_decisions_ws_status_owner", "enterprise_id", "team_id", "status", "owner_id"),
        Index("ix_decisions_ws_channel_status", "enterprise_id", "team_id", "channel_id", "status"),
        # By period, with what the digest's counts read of each row (status, channel, owner,
        # and for the time to decision its creation), so they are answered from the index.
        Index(
            "ix_decisions_ws_created",
            "enterprise_id",
            "team_id",
            "created_at",
            "channel_id",
            "direct",
            "owner_id",
        ),
        Index(
            "ix_decisions_ws_decided",
            "enterprise_id",
            "team_id",
            "decided_at",
            "status",
            "channel_id",
            "direct",
            "owner_id",
            "created_at",
        ),
        # Only dropped decisions have a dropped_at (a partial index; any test of it implies
        # that it is not NULL).
        Index(
            "ix_decisions_ws_dropped",
            "enterprise_id",
            "team_id",
            "dropped_at",
            "status",
            "channel_id",
            "direct",
            "owner_id",
            sqlite_where=text("dropped_at IS NOT NULL"),
            postgresql_where=text("dropped_at IS NOT NULL"),
        ),
        # The stall rule's two halves (idle since a cutoff, past a due date) each use one. The
        # trailing columns are all the stall count reads of an idle decision (its creation,
        # due date, channel and owner), so counting the open ones never visits the rows.
        Index(
            "ix_decisions_ws_status_activity",
            "enterprise_id",
            "team_id",
            "status",
            "last_activity_at",
            "created_at",
            "due_date",
            "channel_id",
            "direct",
            "owner_id",
        ),
        # Orphan decisions (issue 17): decided, no "no action needed", by decision time, with
        # what the count's privacy rule reads. Only such rows are in it (a partial index).
        Index(
            "ix_decisions_ws_orphans",
            "enterprise_id",
            "team_id",
            "decided_at",
            "channel_id",
            "direct",
            "owner_id",
            "status",
            "no_action_at",
            sqlite_where=text("status = 'decided' AND no_action_at IS NULL"),
            postgresql_where=text("status = 'decided' AND no_action_at IS NULL"),
        ),
        Index("ix_decisions_ws_status_due", "enterprise_id", "team_id", "status", "due_date"),
        # Reviews to ask about (the planner) and the owner's "Reviews due" on App Home.
        Index("ix_decisions_ws_status_review", "enterprise_id", "team_id", "status", "review_on"),
        # "Waiting on others" on App Home: what the reader recorded.
        Index("ix_decisions_ws_status_creator", "enterprise_id", "team_id", "status", "creator_id"),
        # Lists within the privacy rule, counted and paged from the index alone.
        Index(
            "ix_decisions_ws_status_reads",
            "enterprise_id",
            "team_id",
            "status",
            "channel_id",
            "owner_id",
            "creator_id",
            "due_date",
            "number",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    context: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(String(32))
    creator_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    # Recorded in a DM or group DM: private to it, shown as "a direct message", counted only
    # in its owner's own digest (docs/METRICS.md).
    direct: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    status: Mapped[DecisionStatus] = mapped_column(
        str_enum(DecisionStatus, 16), default=DecisionStatus.OPEN
    )
    resolution: Mapped[str | None] = mapped_column(Text)
    drop_reason: Mapped[str | None] = mapped_column(Text)
    # The notes of its history, one a line, so search finds them (kept by ``service.note``).
    notes: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dropped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_permalink: Mapped[str | None] = mapped_column(Text)
    message_channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    # Supersede (issue 17): the number of the decision that replaced this one, and when; on the
    # replacing decision, the numbers it replaced (so both cards link without another query).
    superseded_by: Mapped[int | None] = mapped_column(Integer)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supersedes: Mapped[list[int] | None] = mapped_column(JSON)
    # Follow-through (issue 17): its owner said no action is needed, why, and when.
    no_action_reason: Mapped[str | None] = mapped_column(Text)
    no_action_by: Mapped[str | None] = mapped_column(String(32))
    no_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Review (issue 17): the day its owner is asked whether it held (NULL: no review planned);
    # once reversed, why and when.
    review_on: Mapped[date | None] = mapped_column(Date)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reversal_reason: Mapped[str | None] = mapped_column(Text)

    events: Mapped[list[DecisionEvent]] = relationship(
        back_populates="decision", order_by="DecisionEvent.id", cascade="all, delete-orphan"
    )

    @property
    def ref(self) -> str:
        return f"D-{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status == DecisionStatus.OPEN


class DecisionEvent(WorkspaceScoped, Base):
    """One entry of a decision's history: who did what, when, with the values before and after."""

    __tablename__ = "decision_events"
    __table_args__ = (
        Index("ix_decision_events_decision", "decision_id", "id"),
        # Entries of one kind in a span: the decides undone ("topics decided again").
        Index("ix_decision_events_ws_action_at", "enterprise_id", "team_id", "action", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    actor_id: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(24))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    decision: Mapped[Decision] = relationship(back_populates="events")


class DecisionTerm(WorkspaceScoped, Base):
    """One normalised term (``bot.decisions.similar.terms``) of a decision's title or resolution.

    The re-litigation lookup's signature: it reads the rows of a new title's rarest terms
    (index ``(workspace, term, decision)``) instead of ranking every decision. Kept in step by
    ``_keep_terms`` on every flush that creates a decision or changes its title or resolution.
    """

    __tablename__ = "decision_terms"
    __table_args__ = (
        Index("ix_decision_terms_ws_term", "enterprise_id", "team_id", "term", "decision_id"),
    )

    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(64), primary_key=True)


TERM_MAX = 64


def decision_terms(title: str, resolution: str | None) -> list[str]:
    """The terms stored for a decision: its title's, then its resolution's, each once."""
    found = dict.fromkeys(terms(title))
    if resolution:
        found.update(dict.fromkeys(terms(resolution)))
    return [t[:TERM_MAX] for t in found]


@event.listens_for(Session, "after_flush")
def _keep_terms(session: Session, flush_context: UOWTransaction) -> None:
    """Rewrite the terms of decisions this flush created or whose title/resolution changed.

    One DELETE and one executemany INSERT per flush, however many decisions (so a group commit
    of many ``/decision new`` costs two statements more, not two per decision).
    """
    changed: list[Decision] = []
    for obj in (*session.new, *session.dirty):
        if not isinstance(obj, Decision):
            continue
        state = inspect(obj)
        if obj in session.new or any(
            state.attrs[name].history.has_changes() for name in ("title", "resolution")
        ):
            changed.append(obj)
    if not changed:
        return
    connection = session.connection()
    existing = [d.id for d in changed if d not in session.new]
    if existing:
        connection.execute(delete(DecisionTerm).where(DecisionTerm.decision_id.in_(existing)))
    rows = [
        {
            "enterprise_id": d.enterprise_id,
            "team_id": d.team_id,
            "decision_id": d.id,
            "term": term,
        }
        for d in changed
        for term in decision_terms(d.title, d.resolution)
    ]
    if rows:
        connection.execute(insert(DecisionTerm), rows)


class DecisionReview(WorkspaceScoped, Base):
    """One answer to "Did D-n hold?": the review day it answered, what was said, and when.

    ``due_on`` is the review day asked about; ``next_on`` the day asked again after "too early";
    ``resolution_before``/``resolution_after`` an amendment's old and new text; ``reason`` why
    it was reversed. Every answer is also an entry of the decision's history.
    """

    __tablename__ = "decision_reviews"
    __table_args__ = (
        Index("ix_decision_reviews_ws_answered", "enterprise_id", "team_id", "answered_at"),
        Index("ix_decision_reviews_ws_due", "enterprise_id", "team_id", "due_on"),
        Index("ix_decision_reviews_decision", "decision_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    answer: Mapped[ReviewAnswer] = mapped_column(str_enum(ReviewAnswer, 16))
    actor_id: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date] = mapped_column(Date)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_on: Mapped[date | None] = mapped_column(Date)
    resolution_before: Mapped[str | None] = mapped_column(Text)
    resolution_after: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
