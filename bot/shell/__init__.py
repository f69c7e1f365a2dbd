"""``python -m bot shell``: try every feature on a laptop, with no Slack account.

The sandbox runs the production Bolt app and database code against a fake Slack on loopback and
a clock it moves on request, and renders what the app says as text (see docs/SHELL.md).
"""
