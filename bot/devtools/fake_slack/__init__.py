"""A fake of the Slack Web API served on loopback.

Tests, benchmarks and the local shell sandbox run the real app and the real slack_sdk client
against it (``AsyncWebClient(base_url=fake.api_url)``), so they exercise the HTTP layer, the
retry handlers and the rate-limit handling without a workspace or a network. It records what
the app sent and can be told to fail the way Slack fails: 429 with Retry-After, 5xx, an
``ok: false`` error, a dropped connection, a slow answer (``slow``) or a method rate limited
for a while (``rate_limit_for``). ``fail_next(..., after_accepting=True)`` carries the call out
first and then fails the answer (a 5xx, or a connection cut), as Slack does when a post went
through but its response was lost. Messages keep their ``metadata``, and
``conversations.history`` answers with them (``include_all_metadata``), so the app can look for
a message whose fate it does not know.

Everything runs on one event loop and every handler mutates state without awaiting in between,
so concurrent requests need no locks.

The package by job: ``server`` (the HTTP server, routing, Socket Mode), ``state`` (the
workspace and the queries tests make), ``faults`` (failing like Slack), one module per family
of methods (``chat``, ``conversations``, ``users``, ``views``, ``files``, ``auth``),
``records`` (the recorded types) and ``wire`` (request and answer encoding).
"""

from bot.devtools.fake_slack.records import (
    ApiError,
    Call,
    Channel,
    DndStatus,
    Ephemeral,
    JsonDict,
    Message,
    MethodHandler,
    ResponsePost,
    UploadedFile,
    User,
)
from bot.devtools.fake_slack.server import FakeSlack

__all__ = [
    "ApiError",
    "Call",
    "Channel",
    "DndStatus",
    "Ephemeral",
    "FakeSlack",
    "JsonDict",
    "Message",
    "MethodHandler",
    "ResponsePost",
    "UploadedFile",
    "User",
]
