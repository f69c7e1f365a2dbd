"""The one place where failures become words for the person who acted.

A ``UserError`` is the person's to fix: its message goes back to them, ephemerally. Anything
else is ours: it is logged with its traceback and the person gets an apology, not a stack trace.

Nothing is said to anyone about a request that was not verified: an HTTP request reaches Bolt
only through the web layer's gate (``bot/web.py``), which marks it ``VERIFIED``, and a Socket
Mode request is authenticated by its websocket. Anything else (a test calling Bolt directly, a
future route that forgot the gate) names a response_url, channel or user we must not trust, so
the handler answers 401 and sends nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import UserError
from bot.slack import replies
from bot.slack.ack_budget import TimelyAck
from bot.slack.blocks.kit import modal, section
from bot.slack.wording import words_for

log = logging.getLogger(__name__)

#: Context key the web layer's gate sets on every HTTP request it let through.
VERIFIED = "verified_by_gate"

SORRY = (
    "Sorry, something went wrong on our side and that did not go through. "
    "Please try again in a minute."
)
#: A modal can only open within three seconds of the click; Slack was too slow for that.
TOO_LATE_FOR_A_FORM = (
    "Slack took too long to answer me, so I could not open the form in time. Nothing was "
    "changed; please try again."
)


class FormError(UserError):
    """What is wrong with a submitted modal: each problem shown beside its field.

    ``errors`` maps a block id to the words for it, every field that is wrong at once. Raised
    anywhere in a ``view_submission`` handler (or the middleware before it), ``handle_error``
    turns it into Slack's ``response_action: errors``; no listener acknowledges errors itself.
    Elsewhere (never a modal) its problems are said as one message.
    """

    def __init__(self, errors: Mapping[str, str]) -> None:
        if not errors:
            raise ValueError("a FormError names at least one field")
        self.errors = {str(block): str(why) for block, why in errors.items()}
        super().__init__(" ".join(self.errors.values()))


@contextmanager
def on_field(block_id: str) -> Iterator[None]:
    """A refusal (``UserError``) raised inside becomes a ``FormError`` beside ``block_id``.

    For a service's refusal that belongs to one field: ``with on_field(Block.TITLE): ...``. A
    ``FormError`` raised inside passes through as it is.
    """
    try:
        yield
    except FormError:
        raise
    except UserError as exc:
        raise FormError({block_id: words_for(exc)}) from exc


def is_authenticated(request: AsyncBoltRequest) -> bool:
    return request.mode == "socket_mode" or request.context.get(VERIFIED) is True


async def handle_error(
    error: Exception,
    body: dict[str, Any],
    request: AsyncBoltRequest,
    response: BoltResponse | None,
    client: AsyncWebClient,
    ack: AsyncAck,
) -> BoltResponse | None:
    if not is_authenticated(request):
        log.warning("not answering a request that was never verified (%s)", type(error).__name__)
        return BoltResponse(status=401, body="") if response is not None else None
    is_submission = body.get("type") == "view_submission"
    if isinstance(ack, TimelyAck):
        ack.disarm()
        if is_submission and isinstance(error, FormError) and ack.late:
            # The form already shows "working on it": it is replaced by the list of problems.
            try:
                await ack(response_action="errors", errors=error.errors)
                return None
            except Exception:
                log.exception("could not show a form's errors")
    text = _words_for(error)
    if isinstance(ack, TimelyAck) and ack.late:
        # Acknowledged with "working on it": the answer goes where the person is waiting.
        try:
            if await ack.tell(text):
                return None
        except Exception:
            log.exception("could not tell the user about an error")
    is_command = "command" in body and "type" not in body
    if response is not None and is_command:
        # Not acknowledged yet: the acknowledgement itself carries the answer.
        return _json({"response_type": "ephemeral", "text": text})
    if is_submission and response is not None:
        if isinstance(error, FormError):
            return _json({"response_action": "errors", "errors": error.errors})
        return _json({"response_action": "update", "view": _message_view(body, text)})
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


def _words_for(error: Exception) -> str:
    if isinstance(error, UserError):
        return words_for(error)
    if isinstance(error, SlackApiError) and error.response.get("error") == "expired_trigger_id":
        log.info("a form could not open in time: %s", error)
        return TOO_LATE_FOR_A_FORM
    log.error("listener failed: %s", error, exc_info=error)
    return SORRY


def _message_view(body: dict[str, Any], text: str) -> dict[str, Any]:
    submitted = body.get("view") or {}
    return modal(
        callback_id=str(submitted.get("callback_id") or "followthrough"),
        title=str((submitted.get("title") or {}).get("text") or "Followthrough"),
        blocks=[section(text)],
        submit=None,
    )


def _json(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200,
        body=json.dumps(payload),
        headers={"content-type": "application/json;charset=utf-8"},
    )
