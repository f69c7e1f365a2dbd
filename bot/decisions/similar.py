"""Does a new decision's title ask a question the team already settled? (issue 18 points 3-4)

Pure functions, no database and no network. A title is normalised into *terms*: folded (case
and accents), a few spellings and synonyms mapped onto one word (``PostgreSQL`` → ``postgres``,
``choose`` → ``pick``), stop words dropped, the rest stemmed with Snowball's English stemmer.
Two titles are then compared on their terms: a weighted, typo-tolerant overlap of the term sets
(generic words such as "use" or "make" count for little), blended with rapidfuzz's token-set and
token-sort ratios over the normalised text. ``THRESHOLD`` was chosen on the labelled pairs of
``bench/relitigation.py`` (docs/BENCHMARKS.md says why).

The same ``terms`` are what the lookup indexes per decision (``decision_terms``), so what is
stored and what is compared can never drift apart.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import snowballstemmer
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

# A score at or above this is "looks like the same question". Chosen on the labelled set.
THRESHOLD: Final = 0.62

_STEMMER = snowballstemmer.stemmer("english")
_WORD = re.compile(r"[^\W_]+")
# "10am" → "10 am", "2nd" stays one word (it is in the synonym map), "q3" stays one word.
_CLOCK = re.compile(r"^(\d{1,2})(am|pm)$")


def _wordlist(words: str) -> frozenset[str]:
    return frozenset(words.split())


STOPWORDS: Final = _wordlist(
    """a an the of for to in on at by with from into onto about as and or but is are be been
    being was were it its this that these those we our you your they their them i me my
    will would can could shall should must might do does did done doing have has had any
    all every each per than then there here what which who whom whose whether when how why
    if so not no yes up out over via vs versus too also just only still yet ahead till until
    """
)
# Words that turn a question round: a title with one of a pair and one with the other ask
# different things however alike the rest ("Add dark mode" / "Remove dark mode").
OPPOSITES: Final = frozenset(
    frozenset(pair)
    for pair in (
        ("add", "remov"),
        ("add", "drop"),
        ("enabl", "disabl"),
        ("open", "close"),
        ("rais", "lower"),
        ("hire", "fire"),
        ("freez", "unfreez"),
        ("befor", "after"),
        ("allow", "ban"),
        ("approv", "end"),
        ("start", "end"),
        ("requir", "remov"),
        ("keep", "move"),
        ("adopt", "drop"),
        ("launch", "delay"),
        ("offer", "remov"),
        ("internal", "public"),
    )
)
# Each side keeps a word the other does not have ("Q1" / "Q2", "frontend" / "backend"): the
# score is multiplied by this, since repeats mostly add or leave out words, not swap them.
SWAPPED: Final = 0.85
OPPOSED: Final = 0.6

# Spellings and synonyms mapped onto one word before stemming. Kept small and about words a
# decision log actually uses; each maps to a single word or a few words.
SYNONYMS: Final[dict[str, str]] = {
    "postgresql": "postgres",
    "pg": "postgres",
    "k8s": "kubernetes",
    "js": "javascript",
    "ts": "typescript",
    "ie": "internet explorer",
    "pr": "pull request",
    "prs": "pull request",
    "sso": "single sign",
    "qa": "quality assurance",
    "lisboa": "lisbon",
    "jira": "jira",
    "plan": "tier",
    "replace": "move",
    "replacing": "move",
    "choose": "pick",
    "chose": "pick",
    "chosen": "pick",
    "choice": "pick",
    "select": "pick",
    "selected": "pick",
    "decide": "pick",
    "decided": "pick",
    "migrate": "move",
    "migrating": "move",
    "migrated": "move",
    "migration": "move",
    "switch": "move",
    "switching": "move",
    "switched": "move",
    "shift": "move",
    "transfer": "move",
    "purchase": "buy",
    "purchasing": "buy",
    "bought": "buy",
    "increase": "raise",
    "increasing": "raise",
    "reduce": "cut",
    "reducing": "cut",
    "lower": "lower",
    "shut": "close",
    "deprecate": "retire",
    "deprecating": "retire",
    "deprecated": "retire",
    "sunset": "retire",
    "sunsetting": "retire",
    "provider": "vendor",
    "supplier": "vendor",
    "application": "app",
    "documentation": "doc",
    "docs": "doc",
    "documented": "doc",
    "document": "doc",
    "staff": "employee",
    "employees": "employee",
    "colour": "color",
    "colours": "color",
    "tests": "test",
    "testing": "test",
    "mins": "minute",
    "min": "minute",
    "percent": "",
    "pct": "",
    "biweekly": "2 week",
    "fortnightly": "2 week",
    "weekly": "week",
    "daily": "day",
    "monthly": "month",
    "remotely": "remote",
    "working": "work",
    "self": "self",
    "service": "serve",
    "till": "",
    "one": "1",
    "two": "2",
    "second": "2",
    "2nd": "2",
    "three": "3",
    "third": "3",
    "four": "4",
    "five": "5",
    "ten": "10",
    "twelve": "12",
    "fifteen": "15",
    "twenty": "20",
    "thirty": "30",
    "fifty": "50",
    "sixty": "60",
    "shipped": "ship",
    "shipping": "ship",
    "hold": "run",
    "holding": "run",
    "held": "run",
    "have": "run",
    "stop": "end",
    "stopping": "end",
    "hiring": "hire",
    "hand": "hand",
    "handoff": "hand off",
}

# Words that say little about *which* question it is: they count for ``LIGHT`` of a term.
LIGHT_WORDS: Final = _wordlist(
    """pick use using used make making made set setting get give gets go going run take keep
    need needs needed new our team should add adding"""
)
LIGHT: Final = 0.3
# Two terms this alike (rapidfuzz ratio, 0-100) count as the same word misspelt.
TYPO_RATIO: Final = 80.0
TYPO_MIN_LEN: Final = 5
_NEGATING: Final = ("un", "dis", "de", "in", "non")


def fold(text: str) -> str:
    """Lower case without accents: "Café" → "cafe"."""
    if text.isascii():
        return text.lower()  # nothing to decompose: the common case, done fast
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _words(text: str) -> Iterable[str]:
    for raw in _WORD.findall(fold(text)):
        clock = _CLOCK.match(raw)
        if clock:
            yield clock[1]
            yield clock[2]
            continue
        mapped = SYNONYMS.get(raw, raw)
        yield from mapped.split()


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    if word.isdigit():
        return word
    return str(_STEMMER.stemWord(word))


@lru_cache(maxsize=8192)
def terms(text: str) -> tuple[str, ...]:
    """The title's terms, in order, without repeats: what is compared and what is indexed."""
    seen: dict[str, None] = {}
    for word in _words(text):
        if word in STOPWORDS:
            continue
        stem = _stem(word)
        if stem and stem not in STOPWORDS:
            seen.setdefault(stem, None)
    return tuple(seen)


def _weight(term: str) -> float:
    return LIGHT if term in _LIGHT_STEMS else 1.0


_LIGHT_STEMS: Final = frozenset(_stem(w) for w in LIGHT_WORDS) | LIGHT_WORDS
#: Terms that weigh little (``LIGHT``): the lookup never picks its candidates by them.
LIGHT_TERMS: Final = _LIGHT_STEMS


@lru_cache(maxsize=65536)
def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    if (a.startswith(_NEGATING) and a.endswith(b)) or (b.startswith(_NEGATING) and b.endswith(a)):
        return False  # "unfreeze" is no misspelt "freeze"
    if a.isdigit() or b.isdigit() or min(len(a), len(b)) < TYPO_MIN_LEN:
        return False
    return Levenshtein.distance(a, b) <= 1 or fuzz.ratio(a, b) >= TYPO_RATIO


@dataclass(frozen=True, slots=True)
class Overlap:
    """What two term sets share, by weight, and what each keeps to itself."""

    shared: float
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]

    @property
    def jaccard(self) -> float:
        rest = sum(map(_weight, self.only_a)) + sum(map(_weight, self.only_b))
        total = self.shared + rest
        return self.shared / total if total else 0.0

    @property
    def swapped(self) -> bool:
        """Each side has a word of weight the other lacks: likely a different question."""
        return any(t not in _LIGHT_STEMS for t in self.only_a) and any(
            t not in _LIGHT_STEMS for t in self.only_b
        )

    @property
    def opposed(self) -> bool:
        """A word and its opposite, or two different numbers ("10%" / "20%")."""
        if any(t.isdigit() for t in self.only_a) and any(t.isdigit() for t in self.only_b):
            return True
        return any(frozenset((a, b)) in OPPOSITES for a in self.only_a for b in self.only_b)


def overlap(a: Sequence[str], b: Sequence[str]) -> Overlap:
    """Weighted overlap of two term sets, a misspelt term matching its right spelling."""
    exact = set(a) & set(b)
    shared = sum(map(_weight, exact))
    only_a = [t for t in a if t not in exact]
    unmatched_b = [t for t in b if t not in exact]
    if only_a and unmatched_b:
        left: list[str] = []
        for term in only_a:
            match = next((other for other in unmatched_b if _same(term, other)), None)
            if match is None:
                left.append(term)
            else:
                unmatched_b.remove(match)
                shared += max(_weight(term), _weight(match))
        only_a = left
    return Overlap(shared, tuple(only_a), tuple(unmatched_b))


def _heavy(ts: Sequence[str]) -> str:
    return " ".join(t for t in ts if t not in _LIGHT_STEMS) or " ".join(ts)


def score_terms(a: Sequence[str], b: Sequence[str]) -> float:
    """0..1: how much two decisions' terms look like one question."""
    if not a or not b:
        return 0.0
    common = overlap(a, b)
    left, right = _heavy(a), _heavy(b)
    token_set = fuzz.token_set_ratio(left, right) / 100.0
    token_sort = fuzz.token_sort_ratio(left, right) / 100.0
    value = W_OVERLAP * common.jaccard + W_SET * token_set + W_SORT * token_sort
    if common.opposed:
        value *= OPPOSED
    elif common.swapped:
        value *= SWAPPED
    return value


W_OVERLAP: Final = 0.6
W_SET: Final = 0.2
W_SORT: Final = 0.2


def score(a: str, b: str) -> float:
    """0..1: how much two titles look like one question."""
    return score_terms(terms(a), terms(b))


@dataclass(frozen=True, slots=True)
class Match:
    """The best earlier decision for a new title, and how alike they are."""

    decision_id: int
    score: float


def best_match(
    title: str,
    candidates: Iterable[tuple[int, str, str | None]],
    *,
    threshold: float = THRESHOLD,
) -> Match | None:
    """The candidate (id, title, resolution) most like ``title`` at or above ``threshold``.

    A candidate's resolution counts too ("Yes, Postgres 16" answering "Which database?"), but
    only when it says enough on its own (three terms or more) to be a question's words.
    """
    new = terms(title)
    best: Match | None = None
    for decision_id, old_title, resolution in candidates:
        value = score_terms(new, terms(old_title))
        if resolution:
            answered = terms(resolution)
            if len(answered) >= 3:
                value = max(value, score_terms(new, answered))
        if value >= threshold and (best is None or value > best.score):
            best = Match(decision_id, value)
    return best
