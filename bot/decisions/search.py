"""Full-text search over a workspace's decisions: SQLite FTS5 or PostgreSQL tsvector.

The engines' objects come from migrations ``a3d9e2f41b07`` and ``5d8f3b2a9c14`` (names in
``SEARCH_OBJECTS``): a contentless FTS5 table kept in step by triggers, whose ``scope`` column
holds the workspace, status, channel, owner and recorder as tokens (``scope_token``), or an
immutable ``ft_search_doc`` function feeding a stored ``search_doc`` column with a GIN index.
Both cover titles, context, resolutions, drop reasons and notes. Text a person types never
reaches either engine's query syntax: ``parse_query`` reads it into words, quoted phrases and
prefixes (``vend*``), refusing anything else with ``InvalidInput``, and the engine's query is
built from those pieces.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from sqlalchemy import (
    ColumnElement,
    Float,
    Label,
    Select,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
)
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


def scope_token(kind: str, value: str) -> str:
    """One token of the SQLite index's ``scope`` column: a letter, then ``value``'s UTF-8 as
    hex (the migration's triggers write ``kind || hex(value)``; the tokenizer folds case)."""
    return kind + value.encode().hex()


def workspace_token(ws: WorkspaceKey) -> str:
    """The workspace's scope token: "w", the enterprise id, "x", the team id (both in hex, so
    no two workspaces share one)."""
    return "w" + ws.enterprise_id.encode().hex() + "x" + ws.team_id.encode().hex()


def fts5_expression(
    query: SearchQuery,
    *,
    ws: WorkspaceKey,
    status: DecisionStatus | None = None,
    channel_id: str | None = None,
    person_id: str | None = None,
    columns: str | None = None,
) -> str:
    """The search as one MATCH: the words over the text columns (or ``columns``), the workspace
    and filters over ``scope``, so a walk of the index never visits another workspace's rows.
    The privacy rule stays out (a long OR of channels costs more inside the index than the few
    rows it removes cost outside it)."""
    parts = [f'scope : "{workspace_token(ws)}"']
    if status is not None:
        parts.append(f'scope : "s{status}"')
    if channel_id is not None:
        parts.append(f'scope : "{scope_token("c", channel_id)}"')
    if person_id is not None:
        parts.append(
            f'scope : ("{scope_token("o", person_id)}" OR "{scope_token("r", person_id)}")'
        )
    parts.append(text_expression(query, columns or TEXT_COLUMNS))
    return " AND ".join(parts)


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
TEXT_COLUMNS: Final = "title context resolution drop_reason notes"
# Column weights of bm25 in the index's column order (scope counts for nothing).
_BM25 = "bm25(decisions_fts, 0.0, 8.0, 1.0, 4.0, 2.0, 2.0)"


def text_expression(query: SearchQuery, columns: str = TEXT_COLUMNS) -> str:
    """The words alone, over the text columns: what bm25 ranks by."""
    return f"{{{columns}}} : ({query.fts5()})"


# How many of a search's matches relevance orders (see ``search_decisions``): the newest
# ``RANKED`` the reader may see, and the newest ``TITLED`` of those whose title holds the words.
RANKED: Final = 200
TITLED: Final = 20


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where a page's rows come from: ``ranked`` (ids, best first) and, past them, the other
    matches newest first (older than ``below``, without the ids of ``skip``)."""

    ranked: list[int]
    complete: bool
    below: int
    skip: frozenset[int]


def _fts_match(expression: str) -> ColumnElement[bool]:
    return literal_column("decisions_fts").op("MATCH")(expression)


async def _sqlite_ids(
    session: AsyncSession,
    scoped: str,
    where: list[ColumnElement[bool]],
    *,
    limit: int,
    offset: int = 0,
    below: int | None = None,
    skip: frozenset[int] = frozenset(),
) -> list[int]:
    """Ids of matches ``where`` lets through, newest first: the index walks its rows in
    descending rowid order (the workspace and filters are in ``scoped``, so other workspaces'
    rows are never visited) and each is checked against ``decisions`` by primary key."""
    stmt = (
        select(Decision.id)
        .select_from(_FTS)
        .join(Decision, Decision.id == _FTS.c.rowid)
        .where(_fts_match(scoped), *where)
        .order_by(_FTS.c.rowid.desc())
        .offset(offset)
        .limit(limit)
    )
    if below is not None:
        stmt = stmt.where(_FTS.c.rowid < below)
    if skip:
        stmt = stmt.where(_FTS.c.rowid.not_in(sorted(skip)))
    return list((await session.scalars(stmt)).all())


async def _sqlite_plan(
    session: AsyncSession,
    query: SearchQuery,
    scoped: str,
    titled: str,
    where: list[ColumnElement[bool]],
    *,
    ranked: int,
) -> _Plan:
    """The candidates relevance orders, ranked: the newest ``ranked`` visible matches and the
    newest ``TITLED`` visible title matches (all of them when there are no more).

    bm25 ranks them in one pass over the rowid range they span: FTS5 can only rank rows it
    walks, and a rowid range is walked without the rest of the index (a list of rowids
    re-runs the whole MATCH for each). Its scores do not depend on the range (term frequencies
    and lengths come from the whole index), so they order the candidates exactly as ranking
    every match would.
    """
    newest = await _sqlite_ids(session, scoped, where, limit=ranked + 1)
    complete = len(newest) <= ranked
    window = newest[:ranked]
    if not window:
        return _Plan([], True, 0, frozenset())
    title_hits = (
        frozenset()
        if complete
        else frozenset(await _sqlite_ids(session, titled, where, limit=TITLED)) - set(window)
    )
    candidates = set(window) | title_hits
    score: Label[float] = literal_column(_BM25, Float).label("score")
    rows = await session.execute(
        select(_FTS.c.rowid, score).where(
            _fts_match(text_expression(query)),
            _FTS.c.rowid.between(min(candidates), max(candidates)),
        )
    )
    scores = {rowid: s for rowid, s in rows if rowid in candidates}
    best = sorted(candidates, key=lambda i: (scores.get(i, 0.0), -i))
    return _Plan(best, complete, min(window), title_hits)


async def _sqlite_page(
    session: AsyncSession,
    query: SearchQuery,
    scoped: str,
    titled: str,
    where: list[ColumnElement[bool]],
    *,
    offset: int,
    limit: int,
    ranked: int,
) -> list[Decision]:
    """Up to ``limit + 1`` decisions from ``offset``: the ranked candidates, then the rest."""
    plan = await _sqlite_plan(session, query, scoped, titled, where, ranked=ranked)
    ids = plan.ranked[offset : offset + limit + 1]
    if len(ids) <= limit and not plan.complete:
        ids += await _sqlite_ids(
            session,
            scoped,
            where,
            limit=limit + 1 - len(ids),
            offset=max(0, offset - len(plan.ranked)),
            below=plan.below,
            skip=plan.skip,
        )
    if not ids:
        return []
    found = {d.id: d for d in await session.scalars(select(Decision).where(Decision.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


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
    ranked: int = RANKED,
) -> SearchPage:
    """One page of the workspace's decisions matching ``query``, best first, newer first on ties.

    ``visible``, when given, keeps the results to what its reader may see (the privacy rule,
    worked out by the caller, as for lists). Only the page's rows are read from ``decisions``:
    SQLite ranks inside the FTS5 index, whose MATCH already holds the workspace, the filters and
    the privacy rule; PostgreSQL ranks the GIN index's matches on the stored ``search_doc``.
    """
    where = _filters(
        ws=ws,
        status=status,
        channel_id=channel_id,
        person_id=person_id,
        visible=visible,
    )
    if session.get_bind().dialect.name == "sqlite":
        def scoped(columns: str | None = None) -> str:
            return fts5_expression(
                query,
                ws=ws,
                status=status,
                channel_id=channel_id,
                person_id=person_id,
                columns=columns,
            )

        found = await _sqlite_page(
            session,
            query,
            scoped(),
            scoped("title"),
            where,
            offset=offset,
            limit=limit,
            ranked=ranked,
        )
    else:
        tsq = func.to_tsquery(literal_column("'simple'::regconfig"), query.tsquery())
        doc: ColumnElement[object] = literal_column("decisions.search_doc")
        stmt = (
            select(Decision)
            .where(doc.op("@@")(tsq), *where)
            .order_by(func.ts_rank(doc, tsq).desc(), Decision.id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
        found = list((await session.scalars(stmt)).all())
    return SearchPage(decisions=found[:limit], offset=offset, has_more=len(found) > limit)


def matching_select(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    query: SearchQuery,
    status: DecisionStatus | None,
    channel_id: str | None,
    person_id: str | None,
    visible: Visibility | None,
) -> Select[int]:
    """The ids of every decision the search matches that may be shown (not ranked)."""
    where = _filters(
        ws=ws, status=status, channel_id=channel_id, person_id=person_id, visible=visible
    )
    if session.get_bind().dialect.name == "sqlite":
        expression = fts5_expression(
            query, ws=ws, status=status, channel_id=channel_id, person_id=person_id
        )
        return (
            select(Decision.id)
            .join(_FTS, _FTS.c.rowid == Decision.id)
            .where(literal_column("decisions_fts").op("MATCH")(expression), *where)
        )
    tsq = func.to_tsquery(literal_column("'simple'::regconfig"), query.tsquery())
    return select(Decision.id).where(literal_column("decisions.search_doc").op("@@")(tsq), *where)


async def count_matches(
    session: AsyncSession,
    *,
    ws: WorkspaceKey,
    query: SearchQuery,
    status: DecisionStatus | None = None,
    channel_id: str | None = None,
    person_id: str | None = None,
    visible: Visibility | None = None,
    cap: int | None = None,
) -> int:
    """How many decisions ``search_decisions`` pages through (at most ``cap`` when given)."""
    inner = matching_select(
        session,
        ws=ws,
        query=query,
        status=status,
        channel_id=channel_id,
        person_id=person_id,
        visible=visible,
    )
    if cap is not None:
        inner = inner.limit(cap)
    return int(await session.scalar(select(func.count()).select_from(inner.subquery())) or 0)


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
