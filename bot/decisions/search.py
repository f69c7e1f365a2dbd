"""Full-text search over a workspace's decisions: SQLite FTS5 or PostgreSQL tsvector.

The engines' objects come from migration ``a3d9e2f41b07`` (names in ``SEARCH_OBJECTS``): an
FTS5 external-content table kept in step by triggers, or an immutable ``ft_search_doc``
function feeding a stored ``search_doc`` column with a GIN index. Text a person types never
reaches either engine's query syntax: ``parse_query`` reads it into words, quoted phrases and
prefixes (``vend*``), refusing anything else with ``InvalidInput``, and the engine's query is
built from those pieces.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from sqlalchemy import ColumnElement, column, func, literal_column, or_, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from bot.decisions.models import Decision, DecisionStatus
from bot.errors import InvalidInput
from bot.visibility import Visibility
from bot.workspace import WorkspaceKey

# Objects the migration creates that the models do not describe (FTS5 makes the shadow tables).
SEARCH_OBJECTS: Final = frozenset(
    {
        "decisions_fts",
        "decisions_fts_data",
        "decisions_fts_idx",
        "decisions_fts_docsize",
        "decisions_fts_config",
        "decisions_fts_content",
        "ix_decisions_search",
        "search_doc",
        "ix_decisions_title_trgm",
    }
)
PAGE_SIZE: Final = 10
MAX_TERMS: Final = 12
MIN_PREFIX: Final = 2
QUERY_MAX: Final = 300

_WORD = re.compile(r"[^\W_]+")
_PIECE = re.compile(r'"(?P<phrase>[^"]*)"(?P<pstar>\*?)|(?P<word>[^\s"]+)')


def fold(text_: str) -> str:
    """Lower case without accents, as both engines index it ("Café" → "cafe")."""
    decomposed = unicodedata.normalize("NFKD", text_.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words_of(text_: str) -> list[str]:
    return _WORD.findall(fold(text_))


@dataclass(frozen=True, slots=True)
class Term:
    """Words that must appear together in this order; ``prefix``: the last may go on."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class SearchQuery:
    terms: tuple[Term, ...]

    def fts5(self) -> str:
        """An FTS5 MATCH expression: every word quoted, so none is an operator."""
        return " AND ".join(
            '"' + " ".join(t.words) + '"' + (" *" if t.prefix else "") for t in self.terms
        )

    def tsquery(self) -> str:
        """A ``to_tsquery`` expression of quoted lexemes joined by ``&`` and ``<->``."""
        parts = []
        for t in self.terms:
            lexemes = [f"'{w}'" for w in t.words]
            if t.prefix:
                lexemes[-1] += ":*"
            parts.append("(" + " <-> ".join(lexemes) + ")")
        return " & ".join(parts)


def parse_query(raw: str) -> SearchQuery:
    """Words, "quoted phrases" and prefixes like ``vend*``; anything else is a friendly refusal."""
    if len(raw) > QUERY_MAX:
        raise InvalidInput(f"That search is {len(raw)} characters long; keep it under {QUERY_MAX}.")
    if raw.count('"') % 2:
        raise InvalidInput('A quote in that search is not closed; put a `"` after the phrase.')
    terms: list[Term] = []
    for match in _PIECE.finditer(raw):
        if match.group("phrase") is not None:
            words = words_of(match.group("phrase"))
            prefix = bool(match.group("pstar"))
        else:
            token = match.group("word")
            prefix = token.endswith("*")
            body = token.rstrip("*")
            if "*" in body:
                raise InvalidInput(
                    f"`*` goes at the end of a word to match its beginning, like `vend*`, "
                    f"not inside {token!r}."
                )
            words = words_of(body)
            if prefix and len(words) > 1:
                # "e-mail*": the last piece is the prefix, the others are whole words.
                terms.extend(Term((w,)) for w in words[:-1])
                words = words[-1:]
        if not words:
            if prefix:
                raise InvalidInput("Put a few letters before `*`, like `vend*`.")
            continue
        if prefix and len(words[-1]) < MIN_PREFIX:
            raise InvalidInput(f"Give at least {MIN_PREFIX} letters before `*`, like `vend*`.")
        terms.append(Term(tuple(words), prefix))
    if not terms:
        raise InvalidInput(
            "Say what to look for, for example `/decision search vendor` or "
            '`/decision search "payroll vendor"`.'
        )
    if len(terms) > MAX_TERMS:
        raise InvalidInput(f"That search has {len(terms)} words; use at most {MAX_TERMS}.")
    return SearchQuery(tuple(terms))


@dataclass(frozen=True, slots=True)
class SearchPage:
    decisions: list[Decision]
    offset: int
    has_more: bool


def _filters(
    *,
    ws: WorkspaceKey,
    status: DecisionStatus | None,
    channel_id: str | None,
    person_id: str | None,
    visible: Visibility | None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [Decision.in_workspace(ws)]
    if status is not None:
        where.append(Decision.status == status)
    if channel_id is not None:
        where.append(Decision.channel_id == channel_id)
    if person_id is not None:
        where.append(or_(Decision.owner_id == person_id, Decision.creator_id == person_id))
    if visible is not None:
        where.append(visible.clause(Decision.channel_id, Decision.owner_id, Decision.creator_id))
    return where


_FTS = table("decisions_fts", column("rowid"))
PG_DOC = (
    "ft_search_doc(decisions.title, decisions.context, decisions.resolution, decisions.drop_reason)"
)


async def search_decisions(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    query: SearchQuery,
    status: DecisionStatus | None = None,
    channel_id: str | None = None,
    person_id: str | None = None,
    visible: Visibility | None = None,
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> SearchPage:
    """One page of the workspace's decisions matching ``query``, best first, newer first on ties.

    ``visible``, when given, keeps the results to what its reader may see (the privacy rule,
    worked out by the caller, as for lists).
    """
    where = _filters(
        ws=ws,
        status=status,
        channel_id=channel_id,
        person_id=person_id,
        visible=visible,
    )
    if session.get_bind().dialect.name == "sqlite":
        rank: ColumnElement[float] = literal_column("bm25(decisions_fts, 8.0, 1.0, 4.0, 2.0)")
        stmt = (
            select(Decision)
            .join(_FTS, _FTS.c.rowid == Decision.id)
            .where(literal_column("decisions_fts").op("MATCH")(query.fts5()), *where)
            .order_by(rank, Decision.last_activity_at.desc(), Decision.number.desc())
        )
    else:
        tsq = func.to_tsquery(literal_column("'simple'::regconfig"), query.tsquery())
        doc: ColumnElement[object] = literal_column(PG_DOC)
        stmt = (
            select(Decision)
            .where(doc.op("@@")(tsq), *where)
            .order_by(
                func.ts_rank(doc, tsq).desc(),
                Decision.last_activity_at.desc(),
                Decision.number.desc(),
            )
        )
    found = list((await session.scalars(stmt.offset(offset).limit(limit + 1))).all())
    return SearchPage(decisions=found[:limit], offset=offset, has_more=len(found) > limit)


def highlight(text_: str, query: SearchQuery) -> list[tuple[str, bool]]:
    """``text_`` cut into (piece, matched) pairs: words the query matched are marked.

    Pure and engine-free, so both databases highlight alike and the Slack layer escapes each
    piece before it bolds the marked ones.
    """
    whole = {w for t in query.terms for w in (t.words if not t.prefix else t.words[:-1])}
    prefixes = tuple(t.words[-1] for t in query.terms if t.prefix)
    pieces: list[tuple[str, bool]] = []
    last = 0
    for match in _WORD.finditer(text_):
        folded = fold(match.group())
        if folded in whole or (prefixes and folded.startswith(prefixes)):
            if match.start() > last:
                pieces.append((text_[last : match.start()], False))
            pieces.append((match.group(), True))
            last = match.end()
    if last < len(text_):
        pieces.append((text_[last:], False))
    return pieces
