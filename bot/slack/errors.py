"""The one place where failures become words for the person who acted.

A ``UserError`` is the person's to fix: its message goes back to them, ephemerally. Anything
else is ours: it is logged with its traceback and the person gets an apology, not a stack trace.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserError
from bot.slack import replies

log = logging.getLogger(__name__)

SORRY = (
    "Sorry, something went wrong on our side and that did not go through. "
    "Please try again in a minute."
)


async def handle_error(
    error: Exception,
    body: dict[str, Any],
    response: BoltResponse | None,
    client: AsyncWebClient,
) -> BoltResponse | None:
    if isinstance(error, UserError):
        text = error.message
    else:
        log.error("listener failed: %s", error, exc_info=error)
        text = SORRY
    is_command = "command" in body and "type" not in body
    if response is not None and is_command:
        # Not acknowledged yet: the acknowledgement itself carries the answer.
        return BoltResponse(
            status=200,
            body=json.dumps({"response_type": "ephemeral", "text": text}),
            headers={"content-type": "application/json;charset=utf-8"},
        )
    if body.get("type") == "view_submission" and response is not None:
        return None
    if response is None:
        # Already acknowledged. Bolt clears the recorded ack when a listener raises, and only
        # polls for it every 10 ms; giving it that moment keeps Slack from seeing a time-out
        # (slack_bolt/listener/asyncio_runner.py, run_ack_function_asynchronously).
        await asyncio.sleep(0.05)
    try:
        await replies.tell_user(client, body, text)
    except Exception:
        log.exception("could not tell the user about an error")
    if response is not None:
        return BoltResponse(status=200, body="")
    return None
