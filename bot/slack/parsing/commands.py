"""Reading the text of each slash command into a typed command, or a helpful refusal.

Listeners call one ``parse_*`` function per slash command and act on the dataclass it
returns. The parsers are pure and total: for any string they return a command or raise
``InvalidInput`` whose message says what was wrong and shows the right usage, so a rejected
command never reaches a service. Dates stay as text (``due_text``) because only the caller
knows the person's timezone; malformed dates are still refused here, before anything happens.

Slash commands are configured with ``should_escape: true``, so mentions arrive as
``<@U123ABC>`` / ``<@U123ABC|name>`` and channels as ``<#C123ABC>`` / ``<#C123ABC|name>``.
"""

import difflib
import re
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from bot.errors import InvalidInput
from bot.slack.parsing.dates import (
    ACCEPTED_DATE_FORMS,
    PAST_DATE_FORMS,
    check_date_form,
    check_past_date_form,
    looks_like_date,
    parse_time,
    quote_input,
    seems_meant_as_date,
)
from bot.validation import TEXT_MAX, TITLE_MAX

TITLE_LIMIT: Final = TITLE_MAX
TEXT_LIMIT: Final = TEXT_MAX
# Reference numbers are stored in ordinary integer columns; anything this large is a typo.
REF_LIMIT: Final = 10**9

DECISION_USAGE: Final = "\n".join(
    [
        "*Decisions*",
        "• `/decision` opens a form for a new decision",
        "• `/decision new TITLE [@owner] [by DATE]` records a decision to be made",
        "• `/decision log TITLE = RESOLUTION [@owner] [review DATE]` records a decision"
        " already made",
        "• `/decision list [mine|stalled|all|@person]` lists open decisions"
        " (default: this channel's)",
        "• `/decision show D-12` shows one decision",
        "• `/decision search WORDS [in #channel] [@person] [open|decided|dropped|all]` finds"
        ' decisions; `"exact phrase"` and `vend*` work',
        "• `/decision decide D-12 RESOLUTION [review DATE]` records what was decided; with"
        " `review DATE` its owner is asked on that day whether it held",
        "• `/decision assign D-12 @owner` hands a decision to someone",
        "• `/decision due D-12 DATE` sets or moves the due date; `/decision due D-12 none`"
        " clears it",
        "• `/decision drop D-12 [REASON]` drops a decision that no longer matters",
        "• `/decision reopen D-12` reopens a decided or dropped decision",
        "• `/decision edit D-12 title|context TEXT` rewrites the title or the context",
        "• `/decision note D-12 TEXT` adds a note to its history",
        "• `/decision supersede D-12 with D-15` marks D-12 as replaced by D-15",
        "• `/decision act D-12 TEXT [@owner] [by DATE]` adds a follow-through action",
        "• `/decision act D-12 A-7` makes action A-7 one of D-12's follow-through actions",
        "• `/decision act D-12 none REASON` says a decision needs no action",
        "• `/decision review D-12 DATE` sets the day its owner is asked whether it held;"
        " `/decision review D-12 none` clears it",
        "• `/decision help` shows this help",
        f"DATE is one of: {ACCEPTED_DATE_FORMS}.",
    ]
)

MEETING_USAGE: Final = "\n".join(
    [
        "*Meetings*",
        "• `/meeting start TITLE` starts a meeting in this channel (one at a time)",
        "• `/meeting end` ends this channel's meeting",
        "• `/meeting log TITLE [on DATE [at TIME]]` records a meeting that already happened"
        " (default: just now)",
        "• `/meeting list` lists this channel's recent meetings",
        "• `/meeting show M-3` shows one meeting and its outcomes",
        "• `/meeting calendar add URL` follows a calendar's secret iCal address in this channel",
        "• `/meeting calendar list` lists the calendars this channel follows",
        "• `/meeting calendar remove N` stops following calendar number N",
        "• `/meeting help` shows this help",
        f"DATE is one of: {PAST_DATE_FORMS}.",
    ]
)

OUTCOME_USAGE: Final = "\n".join(
    [
        "*Outcomes*",
        "• `/outcome TEXT [@owner] [by DATE]` adds an outcome to this channel's open"
        " or latest meeting",
        "• `/outcome M-3 TEXT [@owner] [by DATE]` adds an outcome to meeting M-3",
        "• `/outcome done A-7` marks action A-7 as done",
        "• `/outcome help` shows this help",
        f"DATE is one of: {ACCEPTED_DATE_FORMS}.",
    ]
)

HYGIENE_USAGE: Final = "\n".join(
    [
        "*Hygiene*",
        "• `/hygiene settings` shows and changes this workspace's cadence (admins)",
        "• `/hygiene stats [week|month] [so far] [#channel]` shows the team's numbers for the"
        " last whole week or month; with `so far`, this one up to now",
        "• `/hygiene digest [preview]` sends the digest now, or previews it just for you",
        "• `/hygiene export` exports decisions and meetings (admins); "
        "`/hygiene export search WORDS [in #channel] [@person] [open|decided|dropped]` "
        "only the decisions that search finds",
        "• `/hygiene away until DATE` (or `from DATE until DATE`) sets your own time off:"
        " nothing is sent to you and your items don't stall until you are back; DATE is your"
        " last day away",
        "• `/hygiene away` shows your time off; `/hygiene back` ends it now",
        "• `/hygiene help` shows this help",
        f"DATE is one of: {ACCEPTED_DATE_FORMS}.",
    ]
)


# --- Commands ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Help:
    """Show the usage of the command that was typed."""


@dataclass(frozen=True)
class DecisionOpenModal:
    """``/decision`` with no text: open the "new decision" modal."""


@dataclass(frozen=True)
class DecisionNew:
    """``kept_by``: a trailing "by …" that is not a date and so stayed in the title."""

    title: str
    owner_id: str | None
    due_text: str | None
    kept_by: str | None = None


@dataclass(frozen=True)
class DecisionLog:
    """A decision already made: ``/decision log TITLE = RESOLUTION [@owner]``."""

    title: str
    resolution: str
    owner_id: str | None
    review_text: str | None = None


@dataclass(frozen=True)
class DecisionReviewOn:
    """``/decision review D-12 DATE``; ``review_text`` None clears the review date."""

    number: int
    review_text: str | None


EditField = Literal["title", "context"]


@dataclass(frozen=True)
class DecisionEdit:
    number: int
    field: EditField
    text: str


@dataclass(frozen=True)
class DecisionNote:
    number: int
    text: str


@dataclass(frozen=True)
class DecisionSupersede:
    old: int
    new: int


@dataclass(frozen=True)
class DecisionAct:
    """A new follow-through action for a decided decision."""

    number: int
    text: str
    owner_id: str | None
    due_text: str | None


@dataclass(frozen=True)
class DecisionLinkAction:
    number: int
    action_number: int


@dataclass(frozen=True)
class DecisionNoAction:
    number: int
    reason: str


DecisionListScope = Literal["channel", "mine", "stalled", "all", "user"]


@dataclass(frozen=True)
class DecisionList:
    scope: DecisionListScope
    user_id: str | None = None


SearchStatus = Literal["open", "decided", "dropped", "all"]
SEARCH_STATUSES: Final = ("open", "decided", "dropped", "all")


@dataclass(frozen=True)
class DecisionSearch:
    """``words``: the search as typed, filters taken out; ``status`` "all" when not given."""

    words: str
    channel_id: str | None = None
    person_id: str | None = None
    status: SearchStatus = "all"


@dataclass(frozen=True)
class DecisionShow:
    number: int


@dataclass(frozen=True)
class DecisionDecide:
    """``review_text``: the date of a trailing ``review DATE``, when one was given."""

    number: int
    resolution: str
    review_text: str | None = None


@dataclass(frozen=True)
class DecisionAssign:
    number: int
    owner_id: str


@dataclass(frozen=True)
class DecisionDue:
    """``due_text`` None clears the due date (``/decision due D-3 none``)."""

    number: int
    due_text: str | None


@dataclass(frozen=True)
class DecisionDrop:
    number: int
    reason: str | None


@dataclass(frozen=True)
class DecisionReopen:
    number: int


DecisionCommand: TypeAlias = (
    DecisionOpenModal
    | DecisionNew
    | DecisionList
    | DecisionShow
    | DecisionSearch
    | DecisionDecide
    | DecisionAssign
    | DecisionDue
    | DecisionDrop
    | DecisionReopen
    | DecisionLog
    | DecisionEdit
    | DecisionNote
    | DecisionSupersede
    | DecisionAct
    | DecisionLinkAction
    | DecisionNoAction
    | DecisionReviewOn
    | Help
)


@dataclass(frozen=True)
class MeetingStart:
    title: str


@dataclass(frozen=True)
class MeetingEnd:
    pass


@dataclass(frozen=True)
class MeetingLog:
    """A meeting held earlier: ``on_text`` (a past date form) and ``at_text`` (a time), if said."""

    title: str
    on_text: str | None = None
    at_text: str | None = None


@dataclass(frozen=True)
class MeetingList:
    pass


@dataclass(frozen=True)
class MeetingShow:
    number: int


@dataclass(frozen=True)
class CalendarAdd:
    url: str


@dataclass(frozen=True)
class CalendarList:
    pass


@dataclass(frozen=True)
class CalendarRemove:
    position: int


MeetingCommand: TypeAlias = (
    MeetingStart
    | MeetingEnd
    | MeetingLog
    | MeetingList
    | MeetingShow
    | CalendarAdd
    | CalendarList
    | CalendarRemove
    | Help
)


@dataclass(frozen=True)
class OutcomeAdd:
    """An outcome; ``meeting_number`` None means the channel's open or latest meeting."""

    meeting_number: int | None
    text: str
    owner_id: str | None
    due_text: str | None
    kept_by: str | None = None


@dataclass(frozen=True)
class OutcomeDone:
    number: int


OutcomeCommand: TypeAlias = OutcomeAdd | OutcomeDone | Help


@dataclass(frozen=True)
class HygieneSettings:
    pass


StatsPeriod = Literal["week", "month"]


@dataclass(frozen=True)
class HygieneStats:
    """``period``: week or month; ``so_far``: the current one up to now, not the last whole one."""

    period: StatsPeriod = "week"
    channel_id: str | None = None
    so_far: bool = False


@dataclass(frozen=True)
class HygieneDigest:
    preview: bool


@dataclass(frozen=True)
class HygieneExport:
    """``search``: only the decisions this search finds (``/hygiene export search …``)."""

    search: DecisionSearch | None = None


@dataclass(frozen=True)
class HygieneAway:
    """``/hygiene away [from DATE] until DATE``: the dates as typed (read in the person's zone).

    No ``until_text``: show the time off already set.
    """

    until_text: str | None = None
    from_text: str | None = None


@dataclass(frozen=True)
class HygieneBack:
    """``/hygiene back``: end one's time off now."""


HygieneCommand: TypeAlias = (
    HygieneSettings
    | HygieneStats
    | HygieneDigest
    | HygieneExport
    | HygieneAway
    | HygieneBack
    | Help
)


# --- Tokens -----------------------------------------------------------------------------

# The label after "|" is the name at typing time; it may hold spaces, never "<" or ">".
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^<>]*)?>")
_CHANNEL_MENTION = re.compile(r"<#([CG][A-Z0-9]+)(?:\|[^<>]*)?>")
_TRAILING_USER_MENTION = re.compile(_USER_MENTION.pattern + r"\s*\Z")
# The last "by" that starts a word; greedy ".*" in front makes it the last one.
_LAST_BY = re.compile(r"(?is)\A(.*)(?:\A|\s)by\s+(\S.*)\Z")
_REF_ATTEMPT = re.compile(r"[A-Z]-?[0-9]+|A-\S*", re.IGNORECASE | re.ASCII)
_FIRST_WORD = re.compile(r"\A\s*(\S+)\s*(.*?)\s*\Z", re.DOTALL)


def parse_user_mention(token: str) -> str | None:
    """The user id in an escaped mention such as ``<@U123ABC|ana>``, or None."""
    match = _USER_MENTION.fullmatch(token.strip())
    return match.group(1) if match else None


def parse_channel_mention(token: str) -> str | None:
    """The channel id in an escaped channel link such as ``<#C123ABC|general>``, or None."""
    match = _CHANNEL_MENTION.fullmatch(token.strip())
    return match.group(1) if match else None


def parse_ref(token: str, prefix: str) -> int | None:
    """The number in a reference like ``D-12``, ``d-12`` or ``D12`` for ``prefix`` "D", or None.

    Only numbers from 1 to below ``REF_LIMIT`` count; leading zeros are allowed.
    """
    match = re.fullmatch(rf"{re.escape(prefix)}-?0*([0-9]{{1,9}})", token.strip(), re.I | re.A)
    if match is None:
        return None
    number = int(match.group(1))
    return number if 0 < number < REF_LIMIT else None


def _split_first_word(text: str) -> tuple[str, str]:
    """The first word and the trimmed rest; ("", "") for blank text."""
    match = _FIRST_WORD.match(text)
    if match is None:
        return "", ""
    return match.group(1), match.group(2)


def _refusal(problem: str) -> InvalidInput:
    """One sentence on what was wrong; the full usage is for ``help`` and unknown subcommands."""
    return InvalidInput(problem)


def _require_ref(token: str, prefix: str, noun: str, example: str) -> int:
    if not token:
        raise _refusal(f"Say which {noun}, for example `{example}`.")
    number = parse_ref(token, prefix)
    if number is None:
        article = "an" if noun[0] in "aeiou" else "a"
        raise _refusal(
            f"{quote_input(token)} is not {article} {noun} reference; use one like `{example}`."
        )
    return number


def _require_text(text: str, *, what: str, limit: int, example: str) -> str:
    text = text.strip()
    if not text:
        raise _refusal(f"The {what} is missing, for example `{example}`.")
    if len(text) > limit:
        raise _refusal(
            f"The {what} is {len(text)} characters long; the limit is {limit}, so please "
            "shorten it."
        )
    return text


def _require_nothing_after(rest: str, form: str, typed: str) -> None:
    """Refuse extra words, quoting the whole of what was typed after the command."""
    if rest:
        raise _refusal(
            f"`{form}` takes nothing more, but you typed {quote_input(typed)}; "
            f"for example `{form}`."
        )


def _unknown_subcommand(
    command: str, word: str, subcommands: tuple[str, ...], usage: str
) -> InvalidInput:
    """A likely typo gets the one suggestion (and where the full help is); anything else, the
    full help, since the person may not know the commands at all."""
    close = difflib.get_close_matches(word.lower(), subcommands, n=1, cutoff=0.65)
    refused = f"`{command}` has no subcommand {quote_input(word)}."
    if close:
        return InvalidInput(
            f"{refused} Did you mean `{command} {close[0]}`? (`{command} help` lists them all.)"
        )
    return InvalidInput(f"{refused}\n\n{usage}")


def _peel_trailing_owner(text: str) -> tuple[str, str | None]:
    match = _TRAILING_USER_MENTION.search(text)
    if match is None:
        return text, None
    return text[: match.start()].rstrip(), match.group(1)


def _refuse_second_owner(text: str, owner_id: str, *, item: str, example: str) -> None:
    """``Fix login @ben @cho``: two people at the end means two owners, and there is one."""
    other = _TRAILING_USER_MENTION.search(text)
    if other is None:
        return
    raise _refusal(
        f"{item} has one owner, but you named <@{other.group(1)}> and <@{owner_id}>; "
        f"name one, for example `{example}`."
    )


@dataclass(frozen=True)
class _Body:
    text: str
    owner_id: str | None
    due_text: str | None
    kept_by: str | None


def _split_owner_and_due(body: str, *, item: str, example: str) -> _Body:
    """Take the trailing ``<@owner>`` and ``by <date>`` off a title or outcome text.

    The one rule for a trailing "by" (docs/DESIGN_CHANGES.md): a date form is the due date;
    words plainly meant as a date but not readable as one ("by tomorow", "by 31 feb", "by next
    month") are refused with the forms; anything else ("Decide by committee") stays in the text
    and is reported back as ``kept_by``, so the acknowledgement can say no date was read.
    The owner may stand before or after the "by" clause.
    """
    text, owner_id = _peel_trailing_owner(body.strip())
    due_text: str | None = None
    kept_by: str | None = None
    by_clause = _LAST_BY.match(text)
    if by_clause is not None:
        head, candidate = by_clause.group(1), by_clause.group(2).strip()
        # "by friday." ends a sentence; the full stop is not part of the date.
        trimmed = candidate.rstrip(".!")
        if looks_like_date(trimmed):
            check_date_form(trimmed)
            text, due_text = head.rstrip(), trimmed
        elif seems_meant_as_date(candidate):
            check_date_form(trimmed)
        else:
            kept_by = f"by {candidate}"
    if due_text is not None and owner_id is None:
        text, owner_id = _peel_trailing_owner(text)
    if owner_id is not None:
        _refuse_second_owner(text, owner_id, item=item, example=example)
    return _Body(text=text, owner_id=owner_id, due_text=due_text, kept_by=kept_by)


# --- /decision --------------------------------------------------------------------------

DECISION_SUBCOMMANDS: Final = (
    "new",
    "list",
    "show",
    "decide",
    "assign",
    "due",
    "drop",
    "reopen",
    "log",
    "edit",
    "note",
    "supersede",
    "act",
    "review",
    "search",
    "help",
)
_CLEAR_WORDS: Final = frozenset({"none", "clear", "no date", "no due date", "remove"})


def parse_decision(text: str) -> DecisionCommand:
    """Read the text of ``/decision``."""
    word, rest = _split_first_word(text)
    sub = word.lower()
    if not sub:
        return DecisionOpenModal()
    if sub == "help":
        return Help()
    if sub == "new":
        example = "/decision new Pick a vendor @ana by friday"
        body = _split_owner_and_due(rest, item="A decision", example=example)
        title = _require_text(body.text, what="decision title", limit=TITLE_LIMIT, example=example)
        return DecisionNew(
            title=title, owner_id=body.owner_id, due_text=body.due_text, kept_by=body.kept_by
        )
    if sub == "list":
        return _parse_decision_list(rest)
    if sub in {"search", "find"}:
        return parse_decision_search(rest)
    if sub == "log":
        return _parse_decision_log(rest)
    if sub == "edit":
        return _parse_decision_edit(rest)
    if sub == "note":
        return _parse_decision_note(rest)
    if sub == "supersede":
        return _parse_decision_supersede(rest)
    if sub == "act":
        return _parse_decision_act(rest)
    if sub == "review":
        return _parse_decision_review(rest)

    ref_word, after_ref = _split_first_word(rest)
    example = f"/decision {sub} D-12"
    if sub in {"show", "reopen"}:
        number = _require_ref(ref_word, "D", "decision", example)
        if after_ref:
            raise _refusal(
                f"`/decision {sub}` takes one decision, but you typed {quote_input(rest)}; "
                f"for example `/decision {sub} D-{number}`."
            )
        return DecisionShow(number) if sub == "show" else DecisionReopen(number)
    if sub == "decide":
        number = _require_ref(ref_word, "D", "decision", example + " We go with Acme")
        said, review_text = split_review(after_ref)
        resolution = _require_text(
            said,
            what="resolution",
            limit=TEXT_LIMIT,
            example=f"/decision decide D-{number} We go with Acme",
        )
        return DecisionDecide(number=number, resolution=resolution, review_text=review_text)
    if sub == "assign":
        number = _require_ref(ref_word, "D", "decision", example + " @ana")
        # "assign D-3 to @ana" reads naturally, so the "to" is allowed.
        target = re.sub(r"(?i)\Ato\s+", "", after_ref)
        owner_id = parse_user_mention(target)
        if owner_id is None:
            if len(_USER_MENTION.findall(target)) > 1:
                raise _refusal(
                    "A decision has one owner, so name one person, for example "
                    f"`/decision assign D-{number} @ana`."
                )
            problem = (
                "Say who should own it"
                if not target
                else f"{quote_input(target)} is not a person I can assign"
            )
            raise _refusal(
                f"{problem}: mention them, for example `/decision assign D-{number} @ana`."
            )
        return DecisionAssign(number=number, owner_id=owner_id)
    if sub == "due":
        number = _require_ref(ref_word, "D", "decision", example + " friday")
        if not after_ref:
            raise _refusal(
                f"Say when it is due, for example `/decision due D-{number} friday` "
                f"(or `none` to clear it); dates: {ACCEPTED_DATE_FORMS}."
            )
        if " ".join(after_ref.lower().split()) in _CLEAR_WORDS:
            return DecisionDue(number=number, due_text=None)
        check_date_form(after_ref)
        return DecisionDue(number=number, due_text=after_ref)
    if sub == "drop":
        number = _require_ref(ref_word, "D", "decision", example)
        reason = (
            _require_text(
                after_ref,
                what="reason",
                limit=TEXT_LIMIT,
                example=f"/decision drop D-{number} No longer needed",
            )
            if after_ref
            else None
        )
        return DecisionDrop(number=number, reason=reason)
    raise _unknown_subcommand("/decision", word, DECISION_SUBCOMMANDS, DECISION_USAGE)


_LOG_EXAMPLE: Final = "/decision log Launch date = Move it to March @ana"


def _parse_decision_log(rest: str) -> DecisionLog:
    """``TITLE = RESOLUTION [@owner]``: the first "=" splits the question from the answer."""
    if "=" not in rest:
        problem = (
            "Say what was decided"
            if not rest
            else "Put `=` between the question and what was decided"
        )
        raise _refusal(f"{problem}, for example `{_LOG_EXAMPLE}`.")
    head, _, tail = rest.partition("=")
    tail, owner_id = _peel_trailing_owner(tail.strip())
    tail, review_text = split_review(tail)
    if owner_id is None:
        tail, owner_id = _peel_trailing_owner(tail.strip())
    resolution = tail
    title = _require_text(head, what="decision title", limit=TITLE_LIMIT, example=_LOG_EXAMPLE)
    resolution = _require_text(
        resolution, what="resolution", limit=TEXT_LIMIT, example=_LOG_EXAMPLE
    )
    return DecisionLog(
        title=title, resolution=resolution, owner_id=owner_id, review_text=review_text
    )


# The last "review" that starts a word, with what follows; a comma, ";" or "|" before it is a
# separator ("We go with Acme | review in 8 weeks").
_LAST_REVIEW = re.compile(r"(?is)\A(.*)(?:\A|[\s,;|])review\s+(\S.*)\Z")


def split_review(text: str) -> tuple[str, str | None]:
    """Take a trailing ``review DATE`` off a resolution: (the rest, the date text or None).

    The same rule as a trailing "by": a date form is the review date; words plainly meant as
    a date but unreadable are refused with the forms; anything else ("… and review the
    contract") stays in the text.
    """
    found = _LAST_REVIEW.match(text.strip())
    if found is None:
        return text, None
    head, candidate = found.group(1), found.group(2).strip()
    trimmed = candidate.rstrip(".!")
    if looks_like_date(trimmed):
        check_date_form(trimmed)
        return head.rstrip(" \t\n,;|"), trimmed
    if seems_meant_as_date(candidate):
        check_date_form(trimmed)
    return text, None


def _parse_decision_review(rest: str) -> DecisionReviewOn:
    """``D-12 DATE`` or ``D-12 none``."""
    ref_word, after_ref = _split_first_word(rest)
    number = _require_ref(ref_word, "D", "decision", "/decision review D-12 in 8 weeks")
    if not after_ref:
        raise _refusal(
            f"Say when to ask whether it held, for example `/decision review D-{number} in 8 "
            f"weeks` (or `none` to clear it); dates: {ACCEPTED_DATE_FORMS}."
        )
    if " ".join(after_ref.lower().split()) in _CLEAR_WORDS | {"no review"}:
        return DecisionReviewOn(number=number, review_text=None)
    check_date_form(after_ref)
    return DecisionReviewOn(number=number, review_text=after_ref)


def _parse_decision_edit(rest: str) -> DecisionEdit:
    """``D-12 title|context TEXT``."""
    ref_word, after_ref = _split_first_word(rest)
    number = _require_ref(ref_word, "D", "decision", "/decision edit D-12 title New title")
    field_word, text = _split_first_word(after_ref)
    field = field_word.lower()
    if field not in {"title", "context"}:
        said = f", not {quote_input(field_word)}" if field_word else ""
        raise _refusal(
            f"Say what to change, `title` or `context`{said}, for example "
            f"`/decision edit D-{number} title Pick a payroll vendor`."
        )
    example = f"/decision edit D-{number} {field} …"
    if field == "title":
        if "\n" in text.strip():
            raise _refusal("A decision title is one line; put the rest in the context.")
        return DecisionEdit(
            number=number,
            field="title",
            text=_require_text(text, what="new title", limit=TITLE_LIMIT, example=example),
        )
    return DecisionEdit(
        number=number,
        field="context",
        text=_require_text(text, what="new context", limit=TEXT_LIMIT, example=example),
    )


def _parse_decision_note(rest: str) -> DecisionNote:
    """``D-12 TEXT``."""
    ref_word, after_ref = _split_first_word(rest)
    example = "/decision note D-12 Legal asked for a week more"
    number = _require_ref(ref_word, "D", "decision", example)
    text = _require_text(
        after_ref,
        what="note",
        limit=TEXT_LIMIT,
        example=f"/decision note D-{number} Legal asked for a week more",
    )
    return DecisionNote(number=number, text=text)


def _parse_decision_supersede(rest: str) -> DecisionSupersede:
    """``D-old with D-new`` ("with" may also be "by", or left out)."""
    example = "/decision supersede D-12 with D-15"
    words = rest.split()
    if len(words) == 3 and words[1].lower() in {"with", "by"}:
        words = [words[0], words[2]]
    if len(words) != 2:
        raise _refusal(
            f"Name the old decision and the one that replaces it, for example `{example}`."
        )
    old = _require_ref(words[0], "D", "decision", example)
    new = _require_ref(words[1], "D", "decision", example)
    return DecisionSupersede(old=old, new=new)


def _parse_decision_act(rest: str) -> DecisionAct | DecisionLinkAction | DecisionNoAction:
    """``D-12 TEXT [@owner] [by DATE]``, ``D-12 A-7`` or ``D-12 none REASON``."""
    ref_word, after_ref = _split_first_word(rest)
    number = _require_ref(ref_word, "D", "decision", "/decision act D-12 Tell sales @ana by friday")
    first, after_first = _split_first_word(after_ref)
    if first and not after_first and re.fullmatch(r"(?i)a-?[0-9]+", first, re.A):
        action = _require_ref(first, "A", "action", f"/decision act D-{number} A-7")
        return DecisionLinkAction(number=number, action_number=action)
    if first.lower() == "none":
        reason = _require_text(
            after_first,
            what="reason no action is needed",
            limit=TITLE_LIMIT,
            example=f"/decision act D-{number} none The policy change is the whole of it",
        )
        return DecisionNoAction(number=number, reason=reason)
    body = _split_owner_and_due(
        after_ref, item="action", example=f"/decision act D-{number} Tell sales @ana by friday"
    )
    text, owner_id, due_text = body.text, body.owner_id, body.due_text
    text = _require_text(
        text,
        what="action",
        limit=TEXT_LIMIT,
        example=f"/decision act D-{number} Tell sales @ana by friday",
    )
    return DecisionAct(number=number, text=text, owner_id=owner_id, due_text=due_text)


def _parse_decision_list(rest: str) -> DecisionList:
    words = rest.split()
    if not words:
        return DecisionList(scope="channel")
    if len(words) == 1:
        scope = words[0].lower()
        if scope == "mine":
            return DecisionList(scope="mine")
        if scope == "stalled":
            return DecisionList(scope="stalled")
        if scope == "all":
            return DecisionList(scope="all")
    user_id = parse_user_mention(rest)
    if user_id is not None:
        return DecisionList(scope="user", user_id=user_id)
    raise _refusal(
        f"`/decision list` takes mine, stalled, all or a @person, but you typed "
        f"{quote_input(rest)}; for example `/decision list mine`."
    )


_SEARCH_CHANNEL = re.compile(r"(?i)(?:\A|\s)in\s+(" + _CHANNEL_MENTION.pattern + r")(?=\s|\Z)")
_SEARCH_PERSON = re.compile(r"(?:\A|\s)(" + _USER_MENTION.pattern + r")(?=\s|\Z)")


def parse_decision_search(rest: str) -> DecisionSearch:
    """``WORDS [in #channel] [@person] [open|decided|dropped|all]``; the filters go anywhere,
    the status only last (quote it to search for the word itself)."""
    channel_id = person_id = None
    found = list(_SEARCH_CHANNEL.finditer(rest))
    if len(found) > 1:
        raise _refusal("Search one channel at a time: give `in #channel` once.")
    if found:
        channel_id = parse_channel_mention(found[0].group(1))
        rest = rest[: found[0].start()] + " " + rest[found[0].end() :]
    if _CHANNEL_MENTION.search(rest):
        raise _refusal(
            "To search a channel, put `in` before it, like `/decision search vendor in #ops`."
        )
    people = list(_SEARCH_PERSON.finditer(rest))
    if len(people) > 1:
        raise _refusal("Search for one person at a time.")
    if people:
        person_id = parse_user_mention(people[0].group(1))
        rest = rest[: people[0].start()] + " " + rest[people[0].end() :]
    words = rest.split()
    status: SearchStatus = "all"
    if words and words[-1].lower() in SEARCH_STATUSES:
        status = words.pop().lower()  # type: ignore[assignment]
    text = " ".join(words)
    if not text:
        raise _refusal("Say what to look for, for example `/decision search payroll vendor`.")
    return DecisionSearch(words=text, channel_id=channel_id, person_id=person_id, status=status)


# --- /meeting ---------------------------------------------------------------------------

MEETING_SUBCOMMANDS: Final = ("start", "end", "log", "list", "show", "calendar", "help")
# "… at 14:30" / "… at 9am": a time at the very end of a logged meeting's title.
_TRAILING_AT = re.compile(r"(?is)\A(.*?)\s+at\s+(\S+(?:\s*[ap]\.?m\.?)?)\Z")
_TIME_SHAPE = re.compile(r"(?i)[0-9]{1,2}(?:[:.h][0-9]{2})?\s*(?:[ap]\.?m\.?)?|noon", re.A)
_LAST_ON = re.compile(r"(?is)\A(.*)\s+on\s+(\S.*)\Z")


def _parse_meeting_log(rest: str) -> MeetingLog:
    """``TITLE [on DATE [at TIME]]``, where a trailing "on …" that is no date stays in the title."""
    example = "/meeting log Weekly planning on monday at 10:00"
    text, at_text, on_text = rest.strip(), None, None
    if (at := _TRAILING_AT.match(text)) is not None and _TIME_SHAPE.fullmatch(at.group(2)):
        parse_time(at.group(2))
        text, at_text = at.group(1).rstrip(), at.group(2)
    if (on := _LAST_ON.match(text)) is not None:
        candidate = on.group(2).strip().rstrip(".!")
        if seems_meant_as_date(candidate):
            check_past_date_form(candidate)
            text, on_text = on.group(1).rstrip(), candidate
    title = _require_text(text, what="meeting title", limit=TITLE_LIMIT, example=example)
    return MeetingLog(title=title, on_text=on_text, at_text=at_text)


def parse_meeting(text: str) -> MeetingCommand:
    """Read the text of ``/meeting``; blank text shows the help."""
    word, rest = _split_first_word(text)
    sub = word.lower()
    if sub in {"", "help"}:
        return Help()
    if sub == "start":
        title = _require_text(
            rest,
            what="meeting title",
            limit=TITLE_LIMIT,
            example="/meeting start Weekly planning",
        )
        return MeetingStart(title)
    if sub == "log":
        return _parse_meeting_log(rest)
    if sub == "end":
        _require_nothing_after(rest, "/meeting end", rest)
        return MeetingEnd()
    if sub == "list":
        _require_nothing_after(rest, "/meeting list", rest)
        return MeetingList()
    if sub == "show":
        ref_word, after_ref = _split_first_word(rest)
        number = _require_ref(ref_word, "M", "meeting", "/meeting show M-3")
        if after_ref:
            raise _refusal(
                f"`/meeting show` takes one meeting, but you typed {quote_input(rest)}; "
                f"for example `/meeting show M-{number}`."
            )
        return MeetingShow(number)
    if sub == "calendar":
        return _parse_calendar(rest)
    raise _unknown_subcommand("/meeting", word, MEETING_SUBCOMMANDS, MEETING_USAGE)


CALENDAR_URL_LIMIT: Final = 2000


def _parse_calendar(text: str) -> MeetingCommand:
    word, rest = _split_first_word(text)
    sub = word.lower()
    if sub == "add":
        url = rest.strip()
        if url.startswith("<") and url.endswith(">"):
            # Slack wraps links it recognised: <https://…> or <https://…|label>.
            url = url[1:-1].split("|", 1)[0]
        if not url:
            raise _refusal(
                "Paste the calendar's address after `add`, e.g. "
                "`/meeting calendar add https://calendar.google.com/…/basic.ics`."
            )
        if len(url) > CALENDAR_URL_LIMIT or any(c.isspace() for c in url):
            raise _refusal("That does not look like one calendar address.")
        return CalendarAdd(url)
    if sub == "list":
        _require_nothing_after(rest, "/meeting calendar list", text)
        return CalendarList()
    if sub == "remove":
        number_word, after = _split_first_word(rest)
        if re.fullmatch(r"0*[1-9][0-9]{0,3}", number_word) is None:
            raise _refusal(
                "Say which calendar to remove by its number in `/meeting calendar list`, "
                "e.g. `/meeting calendar remove 2`."
            )
        _require_nothing_after(after, "/meeting calendar remove 2", text)
        return CalendarRemove(int(number_word))
    if sub in {"", "help"}:
        return Help()
    raise _unknown_subcommand(
        "/meeting calendar", word, ("add", "list", "remove", "help"), MEETING_USAGE
    )


# --- /outcome ---------------------------------------------------------------------------


def parse_outcome(text: str) -> OutcomeCommand:
    """Read the text of ``/outcome``: an outcome to record, ``done A-<n>`` or ``help``."""
    word, rest = _split_first_word(text)
    sub = word.lower()
    if not sub:
        raise _refusal(
            "Say what the outcome is, for example `/outcome Ship the beta @ana by friday` "
            "(`/outcome help` lists the forms)."
        )
    if sub == "help" and not rest:
        return Help()
    if sub == "done":
        ref_word, after_ref = _split_first_word(rest)
        # "/outcome done with the migration" is an outcome, not a malformed "done A-7".
        if not ref_word or _REF_ATTEMPT.fullmatch(ref_word):
            number = _require_ref(ref_word, "A", "action", "/outcome done A-7")
            if after_ref:
                raise _refusal(
                    f"`/outcome done` takes one action, but you typed {quote_input(rest)}; "
                    f"for example `/outcome done A-{number}`."
                )
            return OutcomeDone(number)

    meeting_number = parse_ref(word, "M")
    body_text = rest if meeting_number is not None else text
    if meeting_number is None and re.fullmatch(r"(?i)m-?[0-9]+", word, re.A):
        raise _refusal(
            f"{quote_input(word)} is not a meeting reference; use one like "
            "`/outcome M-3 Ship the beta`."
        )
    example = "/outcome Ship the beta @ana by friday"
    body = _split_owner_and_due(body_text, item="An action", example=example)
    outcome_text = _require_text(body.text, what="outcome text", limit=TEXT_LIMIT, example=example)
    return OutcomeAdd(
        meeting_number=meeting_number,
        text=outcome_text,
        owner_id=body.owner_id,
        due_text=body.due_text,
        kept_by=body.kept_by,
    )


# --- /hygiene ---------------------------------------------------------------------------


HYGIENE_SUBCOMMANDS: Final = ("settings", "stats", "digest", "export", "away", "back", "help")


def _parse_export(rest: str) -> HygieneExport:
    """Nothing, or ``search`` and what `/decision search` takes."""
    word, after = _split_first_word(rest)
    if not rest:
        return HygieneExport()
    if word.lower() in {"search", "find"}:
        if not after:
            raise _refusal(
                "Say what the export should look for, for example "
                "`/hygiene export search payroll vendor`."
            )
        return HygieneExport(search=parse_decision_search(after))
    raise _refusal(
        f"`/hygiene export` takes nothing more or `search` and words, but you typed "
        f"{quote_input(rest)}; for example `/hygiene export` or "
        "`/hygiene export search vendor decided`."
    )


def parse_hygiene(text: str) -> HygieneCommand:
    """Read the text of ``/hygiene``; blank text shows the help."""
    word, rest = _split_first_word(text)
    sub = word.lower()
    if sub in {"", "help"}:
        return Help()
    if sub == "settings":
        _require_nothing_after(rest, "/hygiene settings", rest)
        return HygieneSettings()
    if sub == "export":
        return _parse_export(rest)
    if sub == "digest":
        if rest.lower() == "preview":
            return HygieneDigest(preview=True)
        if rest:
            raise _refusal(
                f"`/hygiene digest` takes only `preview`, but you typed {quote_input(rest)}; "
                "for example `/hygiene digest preview`."
            )
        return HygieneDigest(preview=False)
    if sub == "stats":
        return _parse_stats(rest)
    if sub == "away":
        return _parse_away(rest)
    if sub == "back":
        _require_nothing_after(rest, "/hygiene back", rest)
        return HygieneBack()
    raise _unknown_subcommand("/hygiene", word, HYGIENE_SUBCOMMANDS, HYGIENE_USAGE)


_AWAY = re.compile(
    r"(?is)\A(?:from\s+(?P<first>.+?)\s+)?(?:until|till|til|to|through|thru)\s+(?P<last>.+)\Z"
)
_AWAY_EXAMPLE: Final = "`/hygiene away until friday` or `/hygiene away from dec 21 until jan 1`"


def _parse_away(rest: str) -> HygieneAway:
    """``until DATE`` or ``from DATE until DATE``; the dates' forms are checked here."""
    if not rest:
        return HygieneAway()
    match = _AWAY.fullmatch(rest.strip())
    if match is None:
        if rest.lower().startswith("from") or looks_like_date(rest):
            problem = "needs the last day you are away after `until`"
        else:
            problem = f"takes `until DATE`, not {quote_input(rest)}"
        raise _refusal(f"`/hygiene away` {problem}; for example {_AWAY_EXAMPLE}.")
    first, last = match.group("first"), match.group("last")
    for said in (first, last):
        if said is not None:
            check_date_form(said)
    return HygieneAway(until_text=last, from_text=first)


def _parse_stats(rest: str) -> HygieneStats:
    """``[this|last] [week|month] [so far] [#channel]``, in any order.

    The last whole week is the default. ``so far``, ``this week`` or ``this month`` ask for the
    current one up to now; ``last week`` and ``last month`` say the default in words.
    """
    period: StatsPeriod | None = None
    channel_id: str | None = None
    which: str | None = None  # "this" or "last", however it was said
    words = rest.split()
    i = 0
    while i < len(words):
        word, lowered = words[i], words[i].lower()
        i += 1
        if lowered == "so" and i < len(words) and words[i].lower() == "far":
            word, lowered = "so far", "so far"
            i += 1
        if lowered in {"this", "last", "so far"}:
            said = "this" if lowered == "so far" else lowered
            if which is not None and which != said:
                raise _refusal(
                    "`/hygiene stats` shows either the last whole week (the default, or "
                    "`last week`) or this one up to now (`so far`, or `this week`), not both."
                )
            which = said
            continue
        if period is None and lowered in {"week", "month"}:
            period = "week" if lowered == "week" else "month"
            continue
        if channel_id is None and (channel := parse_channel_mention(word)) is not None:
            channel_id = channel
            continue
        raise _refusal(
            "`/hygiene stats` takes week or month, `so far` and a #channel, "
            f"not {quote_input(word)}; for example `/hygiene stats week so far #general`."
        )
    return HygieneStats(period=period or "week", channel_id=channel_id, so_far=which == "this")
