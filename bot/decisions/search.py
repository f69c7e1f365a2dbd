"""Full-text search over a workspace's decisions: SQLite FTS5 or PostgreSQL tsvector.

The engines' objects come from migrations ``a3d9e2f41b07``, ``5d8f3b2a9c14`` and
``c2f8a4d61e35`` (names in ``SEARCH_OBJECTS``): a contentless FTS5 table of the text columns
kept in step by triggers, or an immutable ``ft_search_doc`` function feeding a stored
``search_doc`` column with a GIN index (titles weighted A).
Both cover titles, context, resolutions, drop reasons and notes. Text a person types never
reaches either engine's query syntax: ``parse_query`` reads it into words, quoted phrases and
prefixes (``vend*``), refusing anything else with ``InvalidInput``, and the engine's query is
built from those pieces.

What "most relevant first" means (``search_decisions``): when the reader may see at most
``RANKED`` (100) decisions the search matches, all of them are ranked, best first, newer first
on ties (bm25 on SQLite with title 8, resolution 4, drop reason and notes 2, context 1;
``ts_rank`` on PostgreSQL with title A, resolution and drop reason B, context and notes C).
When there are more, the candidates are the ``RANKED`` newest of them plus the ``TITLED`` (20)
newest whose title holds every word; those are ranked the same way and come first, and the
other matches follow, newest first. Ranking every match of a broad word costs milliseconds per
thousand matches on both engines (bm25 and ts_rank score row by row); finding the newest
matches costs a walk of the index that stops after them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Float,
    Label,
    Select,
    String,
    and_,
    bindparam,
    column,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
    union,
    union_all,
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

    def tsquery(self, weight: str = "") -> str:
        """A ``to_tsquery`` expression of quoted lexemes joined by ``&`` and ``<->``
        (``weight``: each lexeme only where it has that weight, "A" for titles)."""
        parts = []
        for t in self.terms:
            labels = [weight] * len(t.words)
            if t.prefix:
                labels[-1] = "*" + weight
            lexemes = [
                f"'{w}'" + (f":{label}" if label else "")
                for w, label in zip(t.words, labels, strict=True)
            ]
            parts.append("(" + " <-> ".join(lexemes) + ")")
        return " & ".join(parts)


def parse_query(raw: str) -> SearchQuery:
    """Words, "quoted phrases" and prefixes like ``vend*``; anything else is a friendly refusal."""
    if len(raw) > QUERY_MAX:
        raise InvalidInput(code="search.too_long", length=len(raw), limit=QUERY_MAX)
    if raw.count('"') % 2:
        raise InvalidInput(code="search.open_quote")
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
                raise InvalidInput(code="search.star_inside", token=token)
            words = words_of(body)
            if prefix and len(words) > 1:
                # "e-mail*": the last piece is the prefix, the others are whole words.
                terms.extend(Term((w,)) for w in words[:-1])
                words = words[-1:]
        if not words:
            if prefix:
                raise InvalidInput(code="search.star_alone")
            continue
        if prefix and len(words[-1]) < MIN_PREFIX:
            raise InvalidInput(code="search.prefix_too_short", letters=MIN_PREFIX)
        terms.append(Term(tuple(words), prefix))
    if not terms:
        raise InvalidInput(code="search.empty")
    if len(terms) > MAX_TERMS:
        raise InvalidInput(code="search.too_many_words", count=len(terms), limit=MAX_TERMS)
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


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a search's first statement looks like, apart from its values: which filters it
    has, and the page it asks for. One statement is built per shape and kept (building one
    costs milliseconds of Python per search); the values go in as bound parameters."""

    sqlite: bool
    status: bool
    channel: bool
    person: bool
    visible: bool
    channels: bool
    ranked: int
    offset: int
    limit: int


def _bound_filters(shape: _Shape) -> list[ColumnElement[bool]]:
    """``_filters`` with bound parameters in place of the values (``_bound_values``)."""
    # One element, as ``Decision.in_workspace``: ``_newest_select`` takes ``where[:1]``.
    where: list[ColumnElement[bool]] = [
        and_(
            Decision.enterprise_id == bindparam("ws_enterprise"),
            Decision.team_id == bindparam("ws_team"),
        )
    ]
    if shape.status:
        where.append(Decision.status == bindparam("status"))
    if shape.channel:
        where.append(Decision.channel_id == bindparam("channel"))
    if shape.person:
        person: Any = bindparam("person")
        where.append(or_(Decision.owner_id == person, Decision.creator_id == person))
    if shape.visible:
        # As ``Visibility.clause``: the reader owns or recorded it, or may read its channel.
        reader: Any = bindparam("reader")
        terms: list[ColumnElement[bool]] = [
            Decision.owner_id == reader,
            Decision.creator_id == reader,
        ]
        if shape.channels:
            terms.append(Decision.channel_id.in_(bindparam("channels", expanding=True)))
        where.append(or_(false(), *terms))
    return where


def _bound_values(
    *,
    ws: WorkspaceKey,
    query: SearchQuery,
    sqlite: bool,
    status: DecisionStatus | None,
    channel_id: str | None,
    person_id: str | None,
    visible: Visibility | None,
) -> dict[str, Any]:
    values: dict[str, Any] = {"ws_enterprise": ws.enterprise_id, "ws_team": ws.team_id}
    if sqlite:
        values["words"] = query.fts5()
        values["title_words"] = f"{{title}} : ({values['words']})"
    else:
        values["words"] = query.tsquery()
        values["title_words"] = query.tsquery(weight="A")
    if status is not None:
        values["status"] = status
    if channel_id is not None:
        values["channel"] = channel_id
    if person_id is not None:
        values["person"] = person_id
    if visible is not None:
        values["reader"] = visible.reader
        if visible.channels:
            values["channels"] = sorted(visible.channels)
    return values


_FTS = table("decisions_fts", column("rowid"))
# Column weights of bm25 in the index's column order: title, context, resolution, drop
# reason, notes.
_BM25 = "bm25(decisions_fts, 8.0, 1.0, 4.0, 2.0, 2.0)"
_DOC = "decisions.search_doc"

# How many of a search's matches relevance orders (module docstring): the newest ``RANKED``
# the reader may see, and the newest ``TITLED`` of those whose title holds every word.
RANKED: Final = 100
TITLED: Final = 20
# PostgreSQL: how many of the workspace's newest decisions a search walks back over before it
# takes its matches from the GIN index instead (``_Engine.newest``).
WALK: Final = 3000


def _tsquery(expression: Any) -> ColumnElement[object]:
    return func.to_tsquery(literal_column("'simple'::regconfig"), expression)


class _Engine:
    """The two statements a page needs from an engine: matches newest first, and scores."""

    def __init__(
        self, session: AsyncSession | None, query: SearchQuery | None, *, sqlite: bool = False
    ) -> None:
        """``session`` and ``query`` None: an engine that builds statements with the words
        as bound parameters ("words", "title_words": ``_bound_values``)."""
        self._session = session
        self._query = query
        self.sqlite = sqlite if session is None else session.get_bind().dialect.name == "sqlite"

    @property
    def session(self) -> AsyncSession:
        assert self._session is not None
        return self._session

    @property
    def query(self) -> SearchQuery:
        assert self._query is not None
        return self._query

    def words(self, *, title: bool = False) -> Any:
        """The engine's query of the words (``title``: in titles): a value, or bound."""
        if self._query is None:
            return bindparam("title_words" if title else "words", type_=String)
        if self.sqlite:
            expression = self.query.fts5()
            return f"{{title}} : ({expression})" if title else expression
        return self.query.tsquery(weight="A" if title else "")

    def matching(self, *, title: bool = False) -> Select[int]:
        """Decision ids the words match (``title``: every word in the title)."""
        if self.sqlite:
            return (
                select(Decision.id)
                .select_from(_FTS)
                .join(Decision, Decision.id == _FTS.c.rowid)
                .where(literal_column("decisions_fts").op("MATCH")(self.words(title=title)))
            )
        tsq = _tsquery(self.words(title=title))
        return select(Decision.id).where(literal_column(_DOC).op("@@")(tsq))

    async def scores(self, candidates: set[int]) -> dict[int, float]:
        """Each candidate's relevance, higher is better.

        SQLite ranks the rows its index walks, so bm25 runs over the rowid range the
        candidates span (a list of rowids would re-run the whole MATCH for each); its scores
        do not depend on the range (frequencies and lengths come from the whole index), so
        they order the candidates exactly as ranking every match would.
        """
        if self.sqlite:
            score: Label[float] = literal_column(_BM25, Float).label("score")
            rows = await self.session.execute(
                select(_FTS.c.rowid, score).where(
                    literal_column("decisions_fts").op("MATCH")(self.query.fts5()),
                    _FTS.c.rowid.between(min(candidates), max(candidates)),
                )
            )
            return {i: -s for i, s in rows if i in candidates}
        tsq = _tsquery(self.query.tsquery())
        rows = await self.session.execute(
            select(Decision.id, func.ts_rank(literal_column(_DOC), tsq)).where(
                Decision.id.in_(sorted(candidates))
            )
        )
        return {i: float(s) for i, s in rows}

    def key(self) -> ColumnElement[int]:
        """Newest first is descending order of this: SQLite, the index's own rowid order, so
        its walk stops after the rows wanted; PostgreSQL, the decision's number, so the walk
        goes backwards through this workspace's rows of its unique index and no other's."""
        key: ColumnElement[int] = _FTS.c.rowid if self.sqlite else Decision.number.expression
        return key

    async def newest(
        self,
        where: list[ColumnElement[bool]],
        *,
        limit: int,
        offset: int = 0,
        title: bool = False,
        below: int | None = None,
        skip: frozenset[int] = frozenset(),
    ) -> list[tuple[int, int]]:
        """(id, key) of the matches ``where`` lets through, newest first (``key`` older than
        ``below``, without the ids of ``skip``)."""
        key = self.key()
        stmt = self.matching(title=title).add_columns(key).where(*where)
        if below is not None:
            stmt = stmt.where(key < below)
        if skip:
            stmt = stmt.where(Decision.id.not_in(sorted(skip)))
        if self.sqlite or offset:
            stmt = stmt.order_by(key.desc()).offset(offset).limit(limit)
            return [(i, k) for i, k in await self.session.execute(stmt)]
        # PostgreSQL walks back from the newest decision checking each row (no index gives
        # matches newest first), which is quick for words in many decisions and slow for rare
        # ones, and its estimate of which a search is can be far off. So it walks back over
        # at most ``WALK`` rows; if those do not hold enough, it takes every match from the
        # GIN index and sorts them (``key + 0`` keeps it from walking again).
        top = await self.session.scalar(select(func.max(Decision.number)).where(*where[:1]))
        if top is None:
            return []
        start = top + 1 if below is None else below
        walked = stmt.where(key >= start - WALK).order_by(key.desc()).limit(limit)
        found = [(i, k) for i, k in await self.session.execute(walked)]
        if len(found) < limit and start - WALK > 1:
            rest = (
                stmt.where(key < start - WALK).order_by((key + 0).desc()).limit(limit - len(found))
            )
            found += [(i, k) for i, k in await self.session.execute(rest)]
        return found


@dataclass(frozen=True, slots=True)
class _Plan:
    """Where a page's rows come from: ``ranked`` (ids, best first) and, when not
    ``complete``, past them the other matches newest first (older than ``below``, without
    the ids of ``skip``)."""

    ranked: list[int]
    complete: bool
    below: int
    skip: frozenset[int]


async def _plan(engine: _Engine, where: list[ColumnElement[bool]], *, ranked: int) -> _Plan:
    newest = await engine.newest(where, limit=ranked + 1)
    window = newest[:ranked]
    if not window:
        return _Plan([], True, 0, frozenset())
    ids = {i for i, _ in window}
    titled: frozenset[int] = frozenset()
    if len(newest) > ranked:
        title_hits = await engine.newest(where, limit=TITLED, title=True)
        titled = frozenset(i for i, _ in title_hits) - ids
    candidates = ids | titled
    scores = await engine.scores(candidates)
    best = sorted(candidates, key=lambda i: (-scores.get(i, 0.0), -i))
    return _Plan(best, len(newest) <= ranked, window[-1][1], titled)


def _newest_select(
    engine: _Engine, where: list[ColumnElement[bool]], *, limit: int, title: bool = False
) -> Select[int, int]:
    """The (id, key) of the ``limit`` newest matches as one statement (``_Engine.newest``'s
    walk, PostgreSQL's two halves joined by UNION ALL: its Append reads the second only when
    the first held fewer than ``limit`` rows)."""
    key = engine.key()
    walk = engine.matching(title=title).add_columns(key.label("key")).where(*where)
    if engine.sqlite:
        return walk.order_by(key.desc()).limit(limit)
    top = select(func.max(Decision.number)).where(*where[:1]).scalar_subquery() - WALK
    recent = walk.where(key >= top).order_by(key.desc()).limit(limit)
    older = walk.where(key < top).order_by((key + 0).desc()).limit(limit)
    both = union_all(recent, older).subquery("walk")
    return select(both.c.id, both.c.key).limit(limit)


def _first_pass(
    engine: _Engine,
    where: list[ColumnElement[bool]],
    *,
    ranked: int,
    offset: int,
    limit: int,
) -> Select[Decision, int]:
    """``_plan`` and the page's rows as one statement (each statement costs as much as the
    work of a small search): the page of the ranked candidates, each with how many of the
    ``ranked + 1`` newest matches there were (more than ``ranked``: not every match was
    ranked)."""
    w = _newest_select(engine, where, limit=ranked + 1).cte("w")
    t = _newest_select(engine, where, limit=TITLED, title=True).cte("t")
    if engine.sqlite:
        w, t = w.prefix_with("MATERIALIZED"), t.prefix_with("MATERIALIZED")
    newest = select(func.count()).select_from(w).scalar_subquery()
    window = select(w.c.id).order_by(w.c.key.desc()).limit(ranked).subquery("window")
    titled = select(t.c.id).where(newest > ranked)
    c = union(select(window.c.id), titled).cte("c")
    if engine.sqlite:
        r = (
            select(_FTS.c.rowid.label("id"), literal_column(_BM25, Float).label("score"))
            .where(
                literal_column("decisions_fts").op("MATCH")(engine.words()),
                _FTS.c.rowid.between(
                    select(func.min(c.c.id)).scalar_subquery(),
                    select(func.max(c.c.id)).scalar_subquery(),
                ),
            )
            .cte("r")
            .prefix_with("MATERIALIZED")
        )
        return (
            select(Decision, newest)
            .join(c, c.c.id == Decision.id)
            .join(r, r.c.id == c.c.id)
            .order_by(r.c.score, Decision.id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
    rank = func.ts_rank(literal_column(_DOC), _tsquery(engine.words()))
    return (
        select(Decision, newest)
        .join(c, c.c.id == Decision.id)
        .order_by(rank.desc(), Decision.id.desc())
        .offset(offset)
        .limit(limit + 1)
    )


@lru_cache(maxsize=256)
def _first_pass_of(shape: _Shape) -> Select[Decision, int]:
    """``_first_pass`` of a shape, built once, its values bound (``_bound_values``)."""
    engine = _Engine(None, None, sqlite=shape.sqlite)
    return _first_pass(
        engine,
        _bound_filters(shape),
        ranked=shape.ranked,
        offset=shape.offset,
        limit=shape.limit,
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
    ranked: int = RANKED,
) -> SearchPage:
    """One page of the workspace's decisions matching ``query``, most relevant first as the
    module docstring says (the ``ranked`` newest visible matches and the ``TITLED`` newest
    visible title matches ranked, newer first on ties, then the rest newest first).

    ``visible``, when given, keeps the results to what its reader may see (the privacy rule,
    worked out by the caller, as for lists). The workspace, filters and privacy rule are
    applied to every match before it counts as a candidate, so a page never holds, and the
    ranking never depends on, a decision the reader may not see.
    """
    engine = _Engine(session, query)
    shape = _Shape(
        sqlite=engine.sqlite,
        status=status is not None,
        channel=channel_id is not None,
        person=person_id is not None,
        visible=visible is not None,
        channels=visible is not None and bool(visible.channels),
        ranked=ranked,
        offset=offset,
        limit=limit,
    )
    values = _bound_values(
        ws=ws,
        query=query,
        sqlite=engine.sqlite,
        status=status,
        channel_id=channel_id,
        person_id=person_id,
        visible=visible,
    )
    head = (await session.execute(_first_pass_of(shape), values)).all()
    if len(head) > limit or (head and head[0][1] <= ranked) or (not head and not offset):
        # The page is within the ranked candidates, or every match was ranked.
        page = [d for d, _ in head]
        return SearchPage(decisions=page[:limit], offset=offset, has_more=len(page) > limit)
    # The page reaches past the ranked candidates, into the older matches.
    where = _filters(
        ws=ws,
        status=status,
        channel_id=channel_id,
        person_id=person_id,
        visible=visible,
    )
    plan = await _plan(engine, where, ranked=ranked)
    ids = plan.ranked[offset : offset + limit + 1]
    if len(ids) <= limit and not plan.complete:
        ids += [
            i
            for i, _ in await engine.newest(
                where,
                limit=limit + 1 - len(ids),
                offset=max(0, offset - len(plan.ranked)),
                below=plan.below,
                skip=plan.skip,
            )
        ]
    found: dict[int, Decision] = {}
    if ids:
        rows = await session.scalars(
            select(Decision).where(Decision.in_workspace(ws), Decision.id.in_(ids))
        )
        found = {d.id: d for d in rows}
    page = [found[i] for i in ids if i in found]
    return SearchPage(decisions=page[:limit], offset=offset, has_more=len(page) > limit)


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
    return _Engine(session, query).matching().where(*where)


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
