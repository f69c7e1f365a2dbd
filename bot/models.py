"""Every table the app owns, imported in one place so alembic and tests see the whole schema."""

from bot.calendars.models import CalendarFeed, CalendarOccurrence
from bot.db import Base
from bot.decisions.models import Decision, DecisionEvent, DecisionReview, DecisionTerm
from bot.delivery.models import Delivery
from bot.digest.models import DigestReport
from bot.meetings.models import Meeting, Outcome
from bot.numbering import Counter
from bot.once import UsedOnce
from bot.prefs.models import PersonPrefs, PersonPrefsChange
from bot.slack import install_tables
from bot.timeoff.models import TimeOff
from bot.workspaces.models import SettingsChange, Workspace

__all__ = [
    "Base",
    "CalendarFeed",
    "CalendarOccurrence",
    "Counter",
    "Decision",
    "DecisionEvent",
    "DecisionReview",
    "DecisionTerm",
    "Delivery",
    "DigestReport",
    "Meeting",
    "Outcome",
    "PersonPrefs",
    "PersonPrefsChange",
    "SettingsChange",
    "TimeOff",
    "UsedOnce",
    "Workspace",
    "install_tables",
]
