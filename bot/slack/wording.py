"""Domain errors in Slack's words: the one place a refusal's code and facts become text.

Domain packages raise ``UserError(code=..., **facts)`` with plain values (a reference like
``D-12``, a status, a user id); what a person reads in Slack (mentions, commands in
backticks) is written here, and ``handle_error``, the modal error path and the shell all say
an error through `words_for`. An error without a code is said as its message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.calendars.secrets import NO_KEY
from bot.errors import UserError

Words = Callable[..., str]


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def _may_not_change(*, ref: str, owner: str, creator: str) -> str:
    if owner == creator:
        return (
            f"Only {mention(owner)} (who owns and recorded {ref}) or a workspace admin "
            "can change it."
        )
    return (
        f"Only the owner ({mention(owner)}), the person who recorded {ref} "
        f"({mention(creator)}) or a workspace admin can change it."
    )


def _not_open(*, ref: str, status: str, doing: str) -> str:
    hint = f" Use `/decision reopen {ref}` first." if doing != "reopen" else ""
    if doing == status:
        return f"{ref} is already {status}.{hint}"
    return f"{ref} is {status}, so it can't be {doing}.{hint}"


def _may_not_change_action(*, ref: str, owner: str | None, creator: str) -> str:
    if owner == creator:
        return (
            f"Only {mention(creator)} (who owns and recorded {ref}) or a workspace admin "
            "can change it."
        )
    theirs = f"the owner ({mention(owner)}), " if owner else ""
    return (
        f"Only {theirs}the person who recorded {ref} ({mention(creator)}) "
        "or a workspace admin can change it."
    )


def _invalid_settings(*, reasons: list[str]) -> str:
    if len(reasons) == 1:
        return f"That setting is not valid. {reasons[0]}"
    return "Those settings are not valid:\n" + "\n".join(f"• {r}" for r in reasons)


#: Every code a converted domain package raises, with its words.
WORDS: dict[str, Words] = {
    # bot/decisions/service.py
    "decision.not_found": lambda *, number: (
        f"There is no D-{number} in this workspace. `/decision list all` shows them."
    ),
    "decision.may_not_change": _may_not_change,
    "decision.not_open": _not_open,
    "decision.already_owner": lambda *, ref, owner: f"{mention(owner)} already owns {ref}.",
    "decision.already_open": lambda *, ref: f"{ref} is already open.",
    "decision.same_title": lambda *, ref: f"{ref} already has that title.",
    "decision.same_context": lambda *, ref: f"{ref} already has that context.",
    "decision.not_editable": lambda *, field: (
        f"A decision's {field} can't be edited; only its title or context."
    ),
    "decision.supersedes_itself": lambda *, ref: (
        f"{ref} can't supersede itself; name the decision that replaces it."
    ),
    "decision.already_superseded": lambda *, ref, by: (
        f"{ref} is already superseded by D-{by}. `/decision reopen {ref}` first to change that."
    ),
    "decision.dropped": lambda *, ref: f"{ref} was dropped, so there is nothing left to supersede.",
    "decision.superseding_not_live": lambda *, ref, status: (
        f"{ref} is {status} itself; supersede with a live decision."
    ),
    # bot/decisions/followthrough.py
    "followthrough.not_decided": lambda *, ref, status: (
        f"{ref} is {status}, not decided; follow-through comes after `/decision decide {ref} …`."
    ),
    "followthrough.already_linked": lambda *, outcome, ref: (
        f"{outcome} is already an action of {ref}."
    ),
    "followthrough.linked_elsewhere": lambda *, outcome, other: (
        f"{outcome} already follows through on {other or 'another decision'}."
    ),
    "followthrough.has_actions": lambda *, ref: f"{ref} already has follow-through actions.",
    "followthrough.already_no_action": lambda *, ref: (
        f"{ref} is already marked “no action needed”."
    ),
    # bot/decisions/relitigation.py
    "undo.not_creator": lambda *, ref, creator: (
        f"Only {mention(creator)}, who recorded {ref}, can undo it."
    ),
    "undo.changed": lambda *, ref: (
        f"{ref} has changed since it was recorded, so it can't be undone; "
        f"`/decision drop {ref}` closes it instead."
    ),
    # bot/decisions/reviews.py
    "review.not_decided": lambda *, ref, status, doing: (
        f"{ref} is {status}, not decided, so it can't {doing}; "
        f"reviews come after `/decision decide {ref} …`."
    ),
    "review.date_past": lambda: "A review date has to be today or later.",
    "review.nothing_to_clear": lambda *, ref: f"{ref} has no review date to clear.",
    "review.same_day": lambda *, ref: f"{ref} is already to be reviewed on that day.",
    "review.none_waiting": lambda *, ref: (
        f"{ref} has no review waiting; it may have been answered already."
    ),
    "review.out_of_date": lambda *, ref, due: (
        f"That question about {ref} is out of date: its review is now due {due}."
    ),
    "review.same_resolution": lambda *, ref: (
        f"That is {ref}'s resolution already; change it, or answer Kept."
    ),
    # bot/decisions/search.py
    "search.too_long": lambda *, length, limit: (
        f"That search is {length} characters long; keep it under {limit}."
    ),
    "search.open_quote": lambda: (
        'A quote in that search is not closed; put a `"` after the phrase.'
    ),
    "search.star_inside": lambda *, token: (
        f"`*` goes at the end of a word to match its beginning, like `vend*`, not inside {token!r}."
    ),
    "search.star_alone": lambda: "Put a few letters before `*`, like `vend*`.",
    "search.prefix_too_short": lambda *, letters: (
        f"Give at least {letters} letters before `*`, like `vend*`."
    ),
    "search.empty": lambda: (
        "Say what to look for, for example `/decision search vendor` or "
        '`/decision search "payroll vendor"`.'
    ),
    "search.too_many_words": lambda *, count, limit: (
        f"That search has {count} words; use at most {limit}."
    ),
    # bot/meetings/service.py
    "meeting.already_open": lambda *, ref: (
        f"*{ref}* is still open in this channel. End it with `/meeting end` "
        "before starting another (one meeting at a time per channel)."
    ),
    "meeting.log_in_future": lambda: (
        "That time is still to come; `/meeting log` records a meeting that already "
        "happened, for example `/meeting log Retro on monday at 10:00`."
    ),
    "meeting.none_open": lambda: (
        "No meeting is open in this channel. `/meeting start TITLE` starts one; "
        "`/meeting log TITLE` records one that already happened."
    ),
    "meeting.not_found": lambda *, number: (
        f"There is no M-{number} in this workspace. `/meeting list` shows this channel's meetings."
    ),
    "meeting.may_not_waive": lambda *, ref, organizer: (
        f"Only the organizer of {ref} ({mention(organizer)}) or a workspace "
        "admin can say it needed no outcome. You can record its outcomes instead."
    ),
    "meeting.waive_while_open": lambda *, ref: (
        f"{ref} is still open. End it with `/meeting end` first."
    ),
    "meeting.waive_with_outcomes": lambda *, ref, count: (
        f"{ref} already has {count} outcome(s), so it needs no reason for having none."
    ),
    "meeting.already_waived": lambda *, ref: f"{ref} is already marked as needing no outcome.",
    "meeting.reason_one_line": lambda: "Please keep the reason to one line.",
    "outcome.no_meeting_here": lambda: (
        "This channel has no meeting to add an outcome to. `/meeting start TITLE` starts "
        "one, `/meeting log TITLE` records one that already happened, and "
        "`/outcome M-3 …` names a meeting from another channel."
    ),
    "outcome.none_written": lambda: "Write at least one outcome.",
    "outcome.gone": lambda: "That outcome no longer exists in this workspace.",
    "action.not_found": lambda *, number: (
        f"There is no A-{number} in this workspace. Your open action items are on the "
        "Followthrough App Home tab."
    ),
    "action.may_not_change": _may_not_change_action,
    "action.already_done": lambda *, ref, by: f"{ref} is already done (marked by {mention(by)}).",
    # bot/timeoff/service.py
    "away.over": lambda: "That day is already over; give today or a later date.",
    "away.starts_in_past": lambda: "Time off can't start in the past; start it today or later.",
    "away.ends_before_start": lambda: (
        "Your time off ends before it starts; give the first day, then the last one, "
        "for example `/hygiene away from dec 21 until jan 1`."
    ),
    "away.too_long": lambda *, most: (
        f"Time off can be at most {most} days at a time; give a nearer last day."
    ),
    "away.not_away": lambda: (
        "You aren't marked away, so there is nothing to end; "
        "`/hygiene away until DATE` sets time off."
    ),
    # bot/nudges/service.py (a decision's snooze too)
    "snooze.not_offered": lambda *, days: (
        "A reminder can be snoozed for 1 day, 3 days or 1 week; pick one of those."
    ),
    "snooze.not_future": lambda: "A snooze has to end in the future.",
    "action.snooze_done": lambda *, number: (
        f"A-{number} is already done, so there is nothing to snooze."
    ),
    # bot/validation.py
    "text.empty": lambda *, what: f"The {what} is empty. Please write a few words.",
    "text.too_long": lambda *, what, length, limit: (
        f"The {what} is {length} characters long; the limit is {limit}. "
        "Please shorten it (details can go in a follow-up message)."
    ),
    # bot/workspaces/service.py
    "settings.not_admin": lambda: (
        "Only workspace admins and owners (and the admins named in Followthrough's cadence "
        "file) can change these settings. Ask one of them to run `/hygiene settings`."
    ),
    "settings.not_here": lambda *, keys: (
        f"These settings cannot be changed here: {', '.join(keys)}."
    ),
    # bot/cadence/config.py
    "cadence.invalid_settings": _invalid_settings,
    # bot/calendars/service.py
    "calendar.local_address": lambda: (
        "That address points at this machine; calendar feeds must be public."
    ),
    "calendar.private_address": lambda: (
        "That address points at a private network; calendar feeds must be public."
    ),
    "calendar.no_key": lambda: NO_KEY,
    "calendar.url_too_long": lambda *, most: f"That address is longer than {most} characters.",
    "calendar.unreadable_url": lambda *, why: (
        f"That is not a calendar address I can read ({why}); paste the https:// "
        "“secret address in iCal format” from your calendar's settings."
    ),
    "calendar.too_many": lambda *, most: (
        f"This channel already follows {most} calendars, the most it can; "
        "remove one with `/meeting calendar remove N` first."
    ),
    "calendar.already_followed": lambda *, position: (
        f"This channel already follows that calendar (number {position})."
    ),
    "calendar.not_found": lambda *, position, followed: (
        f"This channel has no calendar number {position}; "
        "`/meeting calendar list` shows the ones it follows."
        if followed
        else "This channel follows no calendar; `/meeting calendar add URL` adds one."
    ),
}


def words_for(error: UserError) -> str:
    """What the person reads in Slack about ``error``."""
    if not error.code:
        return error.message
    words: Any = WORDS[error.code]
    return str(words(**error.facts))
