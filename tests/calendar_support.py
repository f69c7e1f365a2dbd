"""A calendar server on loopback, serving .ics files the tests write, and those files.

It answers like Google's or Outlook's secret iCal addresses: ``text/calendar`` with an ETag and
Last-Modified, 304 to a matching conditional GET; and it can also 404, hang, send a huge body
or send something that is not iCal, to see each failure end up in the feed's state.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Self

from aiohttp import web

LAST_MODIFIED = "Mon, 16 Nov 2026 08:00:00 GMT"
KEY = "test-encryption-key-0123456789-abcdefghij"


@dataclass
class CalendarServer:
    files: dict[str, str] = field(default_factory=dict)
    hits: Counter[str] = field(default_factory=Counter)
    conditional_hits: Counter[str] = field(default_factory=Counter)
    redirects: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/{name}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.hits[name] += 1
        if name in self.redirects:
            raise web.HTTPFound(self.redirects[name])
        if name == "slow.ics":
            await asyncio.sleep(3)  # longer than the tests' fetch timeout
        if name == "huge.ics":
            response = web.StreamResponse(headers={"Content-Type": "text/calendar"})
            await response.prepare(request)
            chunk = b"BEGIN:VCALENDAR\r\n" + b"X-FILLER:" + b"x" * 65_000 + b"\r\n"
            for _ in range(200):  # ~13 MB, no Content-Length: the cap must stop the stream
                await response.write(chunk)
            await response.write_eof()
            return response
        if name == "not-ical.ics":
            return web.Response(text="<html><body>Sign in</body></html>", content_type="text/html")
        body = self.files.get(name)
        if body is None:
            raise web.HTTPNotFound()
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            self.conditional_hits[name] += 1
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=body.replace("\n", "\r\n").encode(),
            headers={
                "Content-Type": "text/calendar; charset=utf-8",
                "ETag": etag,
                "Last-Modified": LAST_MODIFIED,
            },
        )


def calendar(*events: str) -> str:
    return (
        "\n".join(
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:-//Followthrough tests//EN",
                *events,
                "END:VCALENDAR",
            ]
        )
        + "\n"
    )


def event(**fields: str | list[str]) -> str:
    lines = ["BEGIN:VEVENT"]
    for name, value in fields.items():
        key = name.upper().replace("_", "-")
        for one in value if isinstance(value, list) else [value]:
            if one.startswith(";"):
                lines.append(f"{key}{one}")
            else:
                lines.append(f"{key}:{one}")
    lines.append("END:VEVENT")
    return "\n".join(lines)


PEOPLE = [";PARTSTAT=ACCEPTED:mailto:ana@example.com", ";PARTSTAT=ACCEPTED:mailto:ben@example.com"]

# Tuesdays 10:00-11:00 in Berlin from 13 Oct 2026, ten times: Berlin leaves summer time on
# 25 Oct, so the series is at 08:00 UTC before and 09:00 UTC after. 1 Dec is moved to 14:00,
# 8 Dec is cancelled, 15 Dec is removed with EXDATE.
WEEKLY_SERIES = [
    event(
        uid="weekly-sync@test",
        dtstart=";TZID=Europe/Berlin:20261013T100000",
        dtend=";TZID=Europe/Berlin:20261013T110000",
        rrule="FREQ=WEEKLY;COUNT=10",
        exdate=";TZID=Europe/Berlin:20261215T100000",
        summary="Weekly sync",
        organizer="mailto:ana@example.com",
        attendee=PEOPLE,
    ),
    event(
        uid="weekly-sync@test",
        recurrence_id=";TZID=Europe/Berlin:20261201T100000",
        dtstart=";TZID=Europe/Berlin:20261201T140000",
        dtend=";TZID=Europe/Berlin:20261201T150000",
        summary="Weekly sync (moved)",
        organizer="mailto:ana@example.com",
        attendee=PEOPLE,
    ),
    event(
        uid="weekly-sync@test",
        recurrence_id=";TZID=Europe/Berlin:20261208T100000",
        dtstart=";TZID=Europe/Berlin:20261208T100000",
        dtend=";TZID=Europe/Berlin:20261208T110000",
        status="CANCELLED",
        summary="Weekly sync",
        organizer="mailto:ana@example.com",
        attendee=PEOPLE,
    ),
]
ALL_DAY = event(
    uid="offsite@test",
    dtstart=";VALUE=DATE:20261125",
    dtend=";VALUE=DATE:20261126",
    summary="Team offsite",
    organizer="mailto:ana@example.com",
    attendee=PEOPLE,
)
SOLO = event(
    uid="focus@test",
    dtstart="20261124T140000Z",
    dtend="20261124T150000Z",
    summary="Focus time",
    organizer="mailto:ana@example.com",
    attendee=";PARTSTAT=ACCEPTED:mailto:ana@example.com",
)
DECLINED = event(
    uid="declined@test",
    dtstart="20261126T090000Z",
    dtend="20261126T100000Z",
    summary="Nobody comes",
    organizer="mailto:ana@example.com",
    attendee=[
        ";PARTSTAT=DECLINED:mailto:ben@example.com",
        ";PARTSTAT=DECLINED:mailto:cho@example.com",
    ],
)
# Organised by someone Slack does not know: the channel owes the outcome.
STRANGER = event(
    uid="vendor-call@test",
    dtstart="20261201T100000Z",
    dtend="20261201T110000Z",
    summary="Vendor call",
    organizer="mailto:stranger@vendor.example",
    attendee=[";PARTSTAT=ACCEPTED:mailto:ben@example.com"],
)
TEAM_FEED = calendar(*WEEKLY_SERIES, ALL_DAY, SOLO, DECLINED, STRANGER)
