"""Every Slack id this app defines (callback, action and block ids), in one place."""

from __future__ import annotations

import enum


class Command(enum.StrEnum):
    DECISION = "/decision"
    MEETING = "/meeting"
    OUTCOME = "/outcome"
    HYGIENE = "/hygiene"


class Shortcut(enum.StrEnum):
    RECORD_DECISION = "record_decision"
    RECORD_OUTCOME = "record_outcome"


class View(enum.StrEnum):
    NEW_DECISION = "decision_new"
    DECIDE = "decision_decide"
    ADD_ACTION = "decision_add_action"
    DROP = "decision_drop"
    NO_ACTION = "decision_no_action"
    REVIEW_AMEND = "decision_review_amend"
    REVIEW_REVERSE = "decision_review_reverse"
    RECORD_OUTCOMES = "meeting_record_outcomes"
    NO_OUTCOME = "meeting_no_outcome"
    RECORD_OUTCOME = "outcome_record"
    SETTINGS = "hygiene_settings"
    SETTINGS_SAVED = "hygiene_settings_saved"
    SEARCH = "decision_search"
    SEARCH_RESULTS = "decision_search_results"
    PREFS = "reminder_prefs"
    PREFS_SAVED = "reminder_prefs_saved"


class Action(enum.StrEnum):
    DECIDE = "decision_decide"
    REASSIGN = "decision_reassign"
    DROP = "decision_drop"
    ADD_ACTION = "decision_add_action"
    NO_ACTION = "decision_no_action"
    SNOOZE = "decision_snooze"
    MEETING_RECORD_OUTCOMES = "meeting_record_outcomes"
    MEETING_NO_OUTCOME = "meeting_no_outcome"
    ACTION_DONE = "action_done"
    ACTION_SNOOZE = "action_snooze"
    DECISION_LIST_NEXT = "decision_list_next"
    HOME_MORE = "home_more"
    PREFS_OPEN = "reminder_prefs_open"
    SEARCH_NEXT = "decision_search_next"
    HOME_SEARCH = "home_search"
    HOME_SEARCH_NEXT = "home_search_next"
    # The re-litigation warning after `/decision new` (issue 18 point 3).
    REPEAT_SHOW = "repeat_show"
    REPEAT_REOPEN = "repeat_reopen"
    REPEAT_SUPERSEDE = "repeat_supersede"
    REPEAT_DIFFERENT = "repeat_different"
    REPEAT_UNDO = "repeat_undo"
    REVIEW_KEPT = "review_kept"
    REVIEW_AMENDED = "review_amended"
    REVIEW_REVERSED = "review_reversed"
    REVIEW_TOO_EARLY = "review_too_early"


class Block(enum.StrEnum):
    """Input block ids inside modals; the submission's values are keyed by them."""

    TITLE = "title"
    CONTEXT = "context"
    OWNER = "owner"
    DUE = "due"
    CHANNEL = "channel"
    RESOLUTION = "resolution"
    DECIDED_ALREADY = "decided_already"
    SUPERSEDES = "supersedes"
    REPEAT_CONFIRM = "repeat_confirm"
    REASON = "reason"
    OUTCOME_TEXT = "outcome_text"
    MEETING = "meeting"
    SEARCH_WORDS = "search_words"
    SEARCH_CHANNEL = "search_channel"
    SEARCH_PERSON = "search_person"
    SEARCH_STATUS = "search_status"
    PREFS_HOUR = "prefs_reminder_hour"
    PREFS_NOTICES = "prefs_owner_notices"
    PREFS_PAUSE = "prefs_paused_until"
    SETTINGS_TIMEZONE = "settings_timezone"
    SETTINGS_WORKING_DAYS = "settings_working_days"
    SETTINGS_DAY_START = "settings_day_start"
    SETTINGS_DAY_END = "settings_day_end"
    SETTINGS_HOLIDAYS = "settings_holidays"
    SETTINGS_STALL_AFTER = "settings_stall_after_days"
    SETTINGS_REPEAT_EVERY = "settings_repeat_every_days"
    SETTINGS_ESCALATE_AFTER = "settings_escalate_after"
    SETTINGS_ESCALATE_TO_USER = "settings_escalate_to_user"
    SETTINGS_ESCALATE_TO_CHANNEL = "settings_escalate_to_channel"
    SETTINGS_OUTCOME_GRACE = "settings_outcome_grace_hours"
    SETTINGS_DIGEST_DAY = "settings_digest_day"
    SETTINGS_DIGEST_TIME = "settings_digest_time"
    SETTINGS_DIGEST_PEOPLE = "settings_digest_people"
    SETTINGS_DIGEST_CHANNELS = "settings_digest_channels"
    SETTINGS_REVIEW_AFTER = "settings_review_after_days"
    SETTINGS_REVIEW_AGAIN = "settings_review_again_days"
    SETTINGS_FOLLOWTHROUGH_AFTER = "settings_followthrough_after_days"
    REVIEW_ON = "review_on"


INPUT = "input"
"""The action_id of the single element inside each input block."""
