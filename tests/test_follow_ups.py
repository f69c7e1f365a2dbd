"""Follow-ups (channel cards) wait while Slack requests await their acknowledgement."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable

from bot.slack.follow_ups import FollowUps
from bot.web import settle_heap


async def test_follow_ups_wait_for_a_lull_in_requests() -> None:
    follow_ups = FollowUps(settle=0.01, max_delay=5.0)
    ran: list[str] = []

    async def card() -> None:
        ran.append("card")

    with follow_ups.acknowledging():
        follow_ups.submit(card)
        await asyncio.sleep(0.05)
        assert ran == []  # a request is still waiting for its ack
    await asyncio.sleep(0)
    assert ran == []  # the lull has only just begun
    await asyncio.wait_for(follow_ups.drain(), 1)
    assert ran == ["card"]


async def test_a_new_request_during_the_lull_holds_the_follow_up_back() -> None:
    # Each pause is 0.6 of the settle time, so the card is due 0.4 of it after the assertion if
    # the second request restarted the lull, and was due 0.8 of it before if not: a margin a
    # loaded machine keeps (with 0.03 s pauses against 0.05 s it was 0.02 s).
    settle = 0.25
    pause = 0.6 * settle
    follow_ups = FollowUps(settle=settle, max_delay=5.0)
    ran: list[str] = []

    async def card() -> None:
        ran.append("card")

    with follow_ups.acknowledging():
        follow_ups.submit(card)
    await asyncio.sleep(pause)
    with follow_ups.acknowledging():  # a second request inside the settle time
        await asyncio.sleep(pause)
    await asyncio.sleep(pause)
    assert ran == []
    await asyncio.wait_for(follow_ups.drain(), 1)
    assert ran == ["card"]


async def test_steady_traffic_holds_follow_ups_back_only_until_max_delay() -> None:
    follow_ups = FollowUps(settle=0.01, max_delay=0.05)
    ran: list[str] = []

    async def card() -> None:
        ran.append("card")

    with follow_ups.acknowledging():
        follow_ups.submit(card)
        await asyncio.wait_for(follow_ups.drain(), 1)
        assert ran == ["card"]


async def test_follow_ups_run_in_order_and_a_failure_does_not_stop_the_rest() -> None:
    follow_ups = FollowUps(settle=0.0)
    ran: list[int] = []

    def make(i: int) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            if i == 1:
                raise RuntimeError("Slack said no")
            ran.append(i)

        return work

    for i in range(4):
        follow_ups.submit(make(i))
    await asyncio.wait_for(follow_ups.drain(), 1)
    assert ran == [0, 2, 3]


def test_settle_heap_freezes_start_up_objects_and_collects_less_often() -> None:
    before = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] >= 10_000
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
