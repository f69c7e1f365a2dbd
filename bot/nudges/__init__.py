"""Nudges: finding what has stalled, deciding when to remind whom, and snoozing reminders."""
