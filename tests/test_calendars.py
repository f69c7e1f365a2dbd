"""Calendar feeds without the database: reading iCal, fetching safely, the secret URL."""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.calendars import fetch
from bot.calendars.fetch import FetchError, HttpFetcher, check_host, check_url_form
from bot.calendars.ical import NOT_ICAL, EventRules, parse_feed
from bot.calendars.poll import REFRESH, backoff
from bot.calendars.secrets import SecretBox, mask_url
from bot.errors import InvalidInput
from bot.slack.parsing import commands as grammar
from tests.calendar_support import KEY, TEAM_FEED, CalendarServer

UTC_ZONE = ZoneInfo("UTC")
AUTUMN = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 31, tzinfo=UTC))


DEFAULT_RULES = EventRules()


def occurrences(body: str, rules: EventRules = DEFAULT_RULES) -> dict[str, tuple[datetime, str]]:
    start, end = AUTUMN
    found = parse_feed(body.encode(), start=start, end=end, rules=rules, zone=UTC_ZONE)
    return {f"{o.uid} {o.starts_at:%m-%d}": (o.starts_at, o.title) for o in found}


def test_weekly_series_keeps_local_time_across_dst_and_applies_exceptions() -> None:
    found = occurrences(TEAM_FEED)
    weekly = sorted(start for key, (start, _) in found.items() if key.startswith("weekly"))
    assert [f"{s:%m-%d %H:%M}" for s in weekly] == [
        "10-13 08:00",  # summer time: 10:00 in Berlin is 08:00 UTC
        "10-20 08:00",
        "10-27 09:00",  # after 25 Oct, winter time: 09:00 UTC
        "11-03 09:00",
        "11-10 09:00",
        "11-17 09:00",
        "11-24 09:00",
        "12-01 13:00",  # the moved occurrence, 14:00 in Berlin
        # 8 Dec cancelled, 15 Dec removed by EXDATE
    ]
    assert found["weekly-sync@test 12-01"][1] == "Weekly sync (moved)"


def test_all_day_single_person_and_declined_events_are_not_meetings() -> None:
    titles = {title for _, title in occurrences(TEAM_FEED).values()}
    assert "Team offsite" not in titles
    assert "Focus time" not in titles
    assert "Nobody comes" not in titles
    assert "Vendor call" in titles


def test_the_cadence_file_can_count_all_day_and_one_person_events() -> None:
    titles = {
        title
        for _, title in occurrences(
            TEAM_FEED, EventRules(include_all_day=True, min_attendees=1)
        ).values()
    }
    assert {"Team offsite", "Focus time"} <= titles
    assert "Nobody comes" not in titles  # declined by everyone is never a meeting


def test_the_occurrence_key_is_its_original_start_so_a_moved_one_keeps_it() -> None:
    start, end = AUTUMN
    found = parse_feed(TEAM_FEED.encode(), start=start, end=end, rules=EventRules(), zone=UTC_ZONE)
    moved = next(o for o in found if o.title == "Weekly sync (moved)")
    assert moved.recurrence_key == "2026-12-01T09:00:00+00:00"
    assert moved.organizer_email == "ana@example.com" and moved.attendees == 2


@pytest.mark.parametrize(
    "body", [b"<html>Sign in</html>", b"BEGIN:VCALENDAR\r\nthis is not a content line\r\n"]
)
def test_what_is_not_ical_is_refused_in_a_sentence(body: bytes) -> None:
    start, end = AUTUMN
    with pytest.raises(FetchError, match=re.escape(NOT_ICAL)):
        parse_feed(body, start=start, end=end, rules=EventRules(), zone=UTC_ZONE)


def test_the_url_is_sealed_at_rest_and_shown_masked() -> None:
    url = "https://calendar.google.com/calendar/ical/ana%40example.com/private-5ecre7/basic.ics"
    box = SecretBox(KEY)
    token = box.seal(url)
    assert "private-5ecre7" not in token and "calendar.google" not in token
    assert box.open(token) == url
    assert SecretBox(KEY + "-other").open(token) is None
    masked = mask_url(url)
    assert masked == "https://calendar.google.com/….ics"
    assert "5ecre7" not in masked
    with pytest.raises(ValueError):
        SecretBox("too short")


def test_webcal_is_read_as_https_and_other_schemes_are_refused() -> None:
    assert check_url_form("webcal://example.com/a.ics") == "https://example.com/a.ics"
    for bad in ("ftp://example.com/a.ics", "file:///etc/passwd", "https://u:p@example.com/"):
        with pytest.raises(ValueError):
            check_url_form(bad)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.10",
        "169.254.169.254",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "0.0.0.0",
    ],
)
async def test_private_loopback_and_link_local_hosts_are_refused(host: str) -> None:
    with pytest.raises(FetchError, match="private network address"):
        await check_host(f"https://{host}/feed.ics", allow_private=False)
    await check_host(f"https://{host}/feed.ics", allow_private=True)


async def test_a_name_is_checked_after_resolving_it(monkeypatch: pytest.MonkeyPatch) -> None:
    async def resolves_inside(self: object, host: str, port: int, **kw: object) -> list[object]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(type(asyncio.get_running_loop()), "getaddrinfo", resolves_inside)
    with pytest.raises(FetchError, match=r"calendar\.example\.com points at a private"):
        await check_host("https://calendar.example.com/feed.ics", allow_private=False)


async def test_fetch_failures_each_end_in_one_sentence() -> None:
    async with CalendarServer() as server:
        fetcher = HttpFetcher(allow_private=True, timeout=1.0, max_bytes=1_000_000)
        try:
            cases = {
                "missing.ics": "The server answered HTTP 404.",
                "slow.ics": "The server did not answer within 1 seconds.",
                "huge.ics": "The feed is larger than 976 KiB, the most this app reads.",
            }
            for name, sentence in cases.items():
                with pytest.raises(FetchError) as caught:
                    await fetcher.fetch(server.url(name), etag=None, last_modified=None)
                assert str(caught.value) == sentence
        finally:
            await fetcher.aclose()


async def test_conditional_get_uses_the_etag_and_reads_nothing_new() -> None:
    async with CalendarServer() as server:
        server.files["team.ics"] = TEAM_FEED
        fetcher = HttpFetcher(allow_private=True)
        try:
            first = await fetcher.fetch(server.url("team.ics"), etag=None, last_modified=None)
            assert first.body is not None and first.etag
            again = await fetcher.fetch(
                server.url("team.ics"), etag=first.etag, last_modified=first.last_modified
            )
        finally:
            await fetcher.aclose()
    assert again.body is None and again.etag == first.etag
    assert server.conditional_hits["team.ics"] == 1


async def test_loopback_feeds_are_refused_unless_the_operator_allows_them() -> None:
    async with CalendarServer() as server:
        server.files["team.ics"] = TEAM_FEED
        fetcher = HttpFetcher(allow_private=False)
        try:
            with pytest.raises(FetchError, match="private network address"):
                await fetcher.fetch(server.url("team.ics"), etag=None, last_modified=None)
        finally:
            await fetcher.aclose()
    assert server.hits["team.ics"] == 0  # refused before any request was made


async def test_every_redirect_hop_is_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    real = fetch.check_host

    async def recording(url: str, *, allow_private: bool) -> None:
        checked.append(url)
        if url.endswith("/inside.ics"):  # as if this hop resolved into the private network
            raise FetchError("The host points at a private network address.")
        await real(url, allow_private=allow_private)

    monkeypatch.setattr(fetch, "check_host", recording)
    async with CalendarServer() as server:
        server.files["inside.ics"] = TEAM_FEED
        server.redirects["public.ics"] = "/inside.ics"
        fetcher = HttpFetcher(allow_private=True)
        try:
            with pytest.raises(FetchError, match="private network"):
                await fetcher.fetch(server.url("public.ics"), etag=None, last_modified=None)
        finally:
            await fetcher.aclose()
    assert checked == [server.url("public.ics"), server.url("inside.ics")]
    assert server.hits["inside.ics"] == 0


def test_backoff_doubles_from_the_refresh_interval_up_to_a_day() -> None:
    assert backoff(1) == 2 * REFRESH
    assert backoff(2) == 4 * REFRESH
    assert backoff(30).total_seconds() == 24 * 3600


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "calendar add https://example.com/a.ics",
            grammar.CalendarAdd("https://example.com/a.ics"),
        ),
        (
            "calendar add <https://example.com/a.ics>",
            grammar.CalendarAdd("https://example.com/a.ics"),
        ),
        ("calendar list", grammar.CalendarList()),
        ("calendar remove 2", grammar.CalendarRemove(2)),
    ],
)
def test_calendar_subcommands_parse(text: str, expected: object) -> None:
    assert grammar.parse_meeting(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "calendar add",
        "calendar remove",
        "calendar remove two",
        "calendar remove ²",
        "calendar sync",
    ],
)
def test_calendar_subcommands_refuse_bad_input(text: str) -> None:
    with pytest.raises(InvalidInput):
        grammar.parse_meeting(text)


def test_calendar_is_in_the_meeting_help() -> None:
    assert "/meeting calendar add URL" in grammar.MEETING_USAGE


def test_a_short_encryption_key_is_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    from bot.settings import SettingsError, load_settings

    monkeypatch.setenv("FOLLOWTHROUGH_ENCRYPTION_KEY", "short")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert caught.value.problems == [
        "FOLLOWTHROUGH_ENCRYPTION_KEY: must be at least 32 characters long"
    ]
    monkeypatch.setenv("FOLLOWTHROUGH_ENCRYPTION_KEY", KEY)
    monkeypatch.setenv("CALENDAR_ALLOW_PRIVATE_URLS", "true")
    options = load_settings().calendar_options()
    assert options.allow_private and options.box is not None
    assert options.box.open(SecretBox(KEY).seal("https://a.example/x.ics")) == (
        "https://a.example/x.ics"
    )
