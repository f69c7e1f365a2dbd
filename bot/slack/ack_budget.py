"""Slack's three seconds, kept whatever Slack or the database do before the acknowledgement.

Every request that reaches a listener gets a ``TimelyAck`` in place of Bolt's ``ack``. A
listener that has not acknowledged within ``ACK_DEADLINE`` seconds of the request's arrival
(users.info rate limited, conversations.info slow, a lock held) is acknowledged for it — "Working
on it…" for a command or a button, a "Working on it…" screen for a submitted modal — and carries
on undisturbed. What it acknowledges later goes where the person can still see it: through
``respond()`` (the request's response_url) for commands, buttons and shortcuts, and with
``views.update`` for a modal. So Slack never shows a time-out for a request we then carry out:
the person hears "working on it", then what happened, including a refusal.

This is one mechanism for every listener: the middleware puts the ack in the context, Bolt's
listener start and completion hooks arm and disarm its deadline. Work before the ack needs no
timeouts of its own to keep the ack on time (a membership lookup, say); it only needs to be
worth waiting for.

The same start hook records each listener's run in the app's ``InFlight``: what Bolt runs after
the acknowledgement (card posts, modal opens) can then be drained — by the server before it
stops, and by tests and the shell before they look at what was sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.listener.async_listener_completion_handler import (
    AsyncListenerCompletionHandler,
)
from slack_bolt.listener.async_listener_start_handler import AsyncListenerStartHandler
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.payload_utils import is_slash_command, is_view_submission
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks.kit import Block, context, modal, section
from bot.slack.text import escape

log = logging.getLogger(__name__)

#: Seconds after a request arrived by which it is acknowledged, whatever the listener is doing.
#: Slack allows three; the rest is for Bolt, the network, and a loop busy with other requests.
ACK_DEADLINE = 2.0
WORKING = "Working on it… Slack is slow to answer me just now; I'll reply here shortly."
#: The context key under which the web layer puts the request's arrival (``time.monotonic``).
RECEIVED_AT = "received_at"


class InFlight:
    """The listener runs under way in this process (each is a task Bolt started)."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    def started(self) -> None:
        """Called from inside a listener's run: that run is in flight until its task ends."""
        task = asyncio.current_task()
        if task is not None and task not in self._running:
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    def __len__(self) -> int:
        return sum(not t.done() for t in self._running)

    async def drain(self, within: float | None = None) -> None:
        """Wait until every run started so far, and any it started meanwhile, has ended.

        Bolt starts a run after the request's listener returned its ack; one step of the event
        loop lets such a run begin (and be recorded) before this looks. ``TimeoutError`` after
        ``within`` seconds, with the runs left going on.
        """
        loop = asyncio.get_running_loop()
        deadline = None if within is None else loop.time() + within
        while True:
            await asyncio.sleep(0)
            me = asyncio.current_task()
            pending = {t for t in self._running if not t.done() and t is not me}
            if not pending:
                return
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                raise TimeoutError(f"{len(pending)} listener run(s) still going")
            await asyncio.wait(pending, timeout=left)


class TimelyAck(AsyncAck):
    """Bolt's ack, sent for the listener at the deadline if the listener has not sent it."""

    def __init__(
        self,
        *,
        body: dict[str, Any],
        respond: Callable[..., Awaitable[Any]] | None,
        client: AsyncWebClient,
        deadline: float,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._body = body
        self._respond = respond
        self._client = client
        self._deadline = deadline
        self._timer: asyncio.TimerHandle | None = None
        self._notes: set[asyncio.Task[None]] = set()
        #: True once the deadline acknowledged for the listener; its own ack comes "late".
        self.late = False

    # --- the deadline -------------------------------------------------------------------------

    def arm(self) -> None:
        if self.response is not None or self._timer is not None:
            return
        delay = max(0.0, self._deadline - time.monotonic())
        self._timer = asyncio.get_running_loop().call_later(delay, self._at_deadline)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _at_deadline(self) -> None:
        self._timer = None
        if self.response is not None:
            return
        self.late = True
        if is_view_submission(self._body):
            working = self._screen("Working on it…", note="Slack is slow to answer me just now.")
            self.response = _json({"response_action": "update", "view": working})
        elif is_slash_command(self._body):
            self.response = _json({"response_type": "ephemeral", "text": WORKING})
        else:
            self.response = BoltResponse(status=200, body="")
            if self._respond is not None:
                self._later(self._respond(text=WORKING, response_type="ephemeral"))
        log.info("acknowledged a request at the deadline; its answer follows through Slack")

    def _later(self, work: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("could not send a note after acknowledging")

        task = asyncio.ensure_future(run())
        self._notes.add(task)
        task.add_done_callback(self._notes.discard)

    # --- the listener's own ack ---------------------------------------------------------------

    async def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[Any] | None = None,
        attachments: Sequence[Any] | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        response_type: str | None = None,
        options: Sequence[Any] | None = None,
        option_groups: Sequence[Any] | None = None,
        response_action: str | None = None,
        errors: dict[str, str] | None = None,
        view: Any = None,
    ) -> BoltResponse:
        if not self.late:
            self.disarm()
            return await super().__call__(
                text,
                blocks=blocks,
                attachments=attachments,
                unfurl_links=unfurl_links,
                unfurl_media=unfurl_media,
                response_type=response_type,
                options=options,
                option_groups=option_groups,
                response_action=response_action,
                errors=errors,
                view=view,
            )
        if isinstance(text, dict):
            message = dict(text)
            text, blocks = str(message.get("text") or ""), message.get("blocks", blocks)
            response_type = message.get("response_type", response_type)
        if is_view_submission(self._body):
            await self._late_view(response_action, errors, view)
        elif text or blocks:
            await self._answer(text=text, blocks=blocks, response_type=response_type)
        assert self.response is not None
        return self.response

    async def tell(self, text: str) -> bool:
        """After a late ack: say ``text`` where the person is waiting. False if nowhere."""
        if not self.late:
            return False
        self.disarm()
        if is_view_submission(self._body):
            await self._update_view(self._screen(text))
            return True
        if self._respond is None:
            return False
        await self._answer(text=text, blocks=None, response_type="ephemeral")
        return True

    async def _answer(
        self, *, text: str, blocks: Sequence[Any] | None, response_type: str | None
    ) -> None:
        if self._respond is None:
            log.warning("a late answer had nowhere to go (no response_url)")
            return
        await self._respond(
            text=text,
            blocks=list(blocks) if blocks else None,
            response_type=response_type or "ephemeral",
        )

    async def _late_view(
        self, response_action: str | None, errors: dict[str, str] | None, view: Any
    ) -> None:
        if response_action == "errors":
            problems = "\n".join(f"• {escape(why)}" for why in (errors or {}).values())
            await self._update_view(
                self._screen(f"Nothing was saved:\n{problems}\nClose this and try again.")
            )
        elif response_action in ("update", "push") and view is not None:
            await self._update_view(view if isinstance(view, dict) else view.to_dict())
        else:
            await self._update_view(self._screen("Done. You can close this."))

    async def _update_view(self, view: Block) -> None:
        view_id = (self._body.get("view") or {}).get("id")
        if view_id:
            await self._client.views_update(view_id=view_id, view=view)

    def _screen(self, text: str, *, note: str = "") -> Block:
        """A modal in place of the submitted one, keeping its title, saying ``text``."""
        submitted = self._body.get("view") or {}
        return modal(
            callback_id=str(submitted.get("callback_id") or "followthrough"),
            title=str((submitted.get("title") or {}).get("text") or "Followthrough"),
            blocks=[section(text), context(note)] if note else [section(text)],
            submit=None,
        )


def _json(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200,
        body=json.dumps(payload),
        headers={"content-type": "application/json;charset=utf-8"},
    )


# --- wiring -------------------------------------------------------------------------------------


async def _timely_ack_middleware(
    context: AsyncBoltContext, body: dict[str, Any], next: Callable[[], Awaitable[None]]
) -> None:
    received = context.get(RECEIVED_AT)
    start = received if isinstance(received, float) else time.monotonic()
    # A press on App Home has no response_url: nothing can be said there after the ack.
    respond = context.respond if context.response_url else None
    context["ack"] = TimelyAck(
        body=body, respond=respond, client=context.client, deadline=start + ACK_DEADLINE
    )
    await next()


class _ArmDeadline(AsyncListenerStartHandler):
    def __init__(self, in_flight: InFlight) -> None:
        self.in_flight = in_flight

    async def handle(self, request: AsyncBoltRequest, response: BoltResponse | None) -> None:
        self.in_flight.started()
        ack = request.context.get("ack")
        if isinstance(ack, TimelyAck):
            ack.arm()


class _DisarmDeadline(AsyncListenerCompletionHandler):
    async def handle(self, request: AsyncBoltRequest, response: BoltResponse | None) -> None:
        ack = request.context.get("ack")
        if isinstance(ack, TimelyAck):
            ack.disarm()


def keep_acks_timely(app: AsyncApp, in_flight: InFlight) -> None:
    """Give every listener of ``app`` a ``TimelyAck`` (call before registering other middleware).

    The deadline is armed when a listener starts (so a request no listener wants is never
    answered "working on it") and disarmed when it acknowledges or ends. Each run is recorded
    in ``in_flight`` when it starts.
    """
    app.use(_timely_ack_middleware)
    app.listener_runner.listener_start_handler = _ArmDeadline(in_flight)
    app.listener_runner.listener_completion_handler = _DisarmDeadline()
