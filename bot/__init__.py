"""Followthrough: meeting and decision hygiene for Slack teams."""

__version__ = "0.1.0"
