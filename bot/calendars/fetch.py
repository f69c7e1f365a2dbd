"""Fetching a feed over HTTP: conditional, bounded in time and size, and never inside the network.

Redirects are followed by hand so that every hop's host is resolved and checked: a feed whose
name resolves to a private, loopback, link-local or otherwise non-public address is refused
(unless the operator allows private URLs), and so is a public feed that redirects there.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx

MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FetchError(Exception):
    """The feed could not be read; the message is one sentence for `list`'s "last error"."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """What a fetch found: ``body`` is None when the server said nothing changed (304)."""

    body: bytes | None
    etag: str | None
    last_modified: str | None


class Fetcher(Protocol):
    async def fetch(self, url: str, *, etag: str | None, last_modified: str | None) -> Fetched: ...


def check_url_form(url: str) -> str:
    """The URL as it will be fetched (``webcal://`` read as https), or ``ValueError``."""
    url = url.strip()
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) address")
    if parts.username or parts.password:
        raise ValueError("has a user name or password in it")
    return url


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


async def check_host(url: str, *, allow_private: bool) -> None:
    """Refuse ``url`` when its host resolves to any non-public address (`FetchError`)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise FetchError(f"The host {host} could not be found.") from None
    if allow_private:
        return
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not _public(address):
            raise FetchError(
                f"The host {host} points at a private network address, which feeds may not use."
            )


class HttpFetcher:
    """`Fetcher` over an httpx client: GET with If-None-Match / If-Modified-Since."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, *, etag: str | None, last_modified: str | None) -> Fetched:
        headers = {"Accept": "text/calendar, */*;q=0.5", "User-Agent": "Followthrough/1"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            # The whole exchange, redirects and a slowly dripping body included, has one deadline.
            async with asyncio.timeout(self.timeout):
                return await self._follow(url, headers)
        except TimeoutError:
            raise FetchError(
                f"The server did not answer within {self.timeout:g} seconds."
            ) from None
        except httpx.TimeoutException:
            raise FetchError(
                f"The server did not answer within {self.timeout:g} seconds."
            ) from None
        except httpx.HTTPError as exc:
            raise FetchError(f"The feed could not be reached ({type(exc).__name__}).") from None

    async def _follow(self, url: str, headers: dict[str, str]) -> Fetched:
        for _ in range(MAX_REDIRECTS + 1):
            await check_host(url, allow_private=self.allow_private)
            request = self._client.build_request("GET", url, headers=headers)
            response = await self._client.send(request, stream=True, follow_redirects=False)
            try:
                if response.status_code in _REDIRECTS:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError("The server redirected the feed nowhere.")
                    url = urljoin(url, location)
                    try:
                        check_url_form(url)
                    except ValueError:
                        raise FetchError(
                            "The server redirected the feed to a non-web address."
                        ) from None
                    continue
                if response.status_code == 304:
                    return Fetched(
                        body=None,
                        etag=response.headers.get("etag") or headers.get("If-None-Match"),
                        last_modified=response.headers.get("last-modified")
                        or headers.get("If-Modified-Since"),
                    )
                if not 200 <= response.status_code < 300:
                    raise FetchError(f"The server answered HTTP {response.status_code}.")
                body = await self._read_capped(response)
                return Fetched(
                    body=body,
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                )
            finally:
                await response.aclose()
        raise FetchError(f"The feed redirected more than {MAX_REDIRECTS} times.")

    async def _read_capped(self, response: httpx.Response) -> bytes:
        too_big = FetchError(
            f"The feed is larger than {self.max_bytes // 1024} KiB, the most this app reads."
        )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_big
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise too_big
            chunks.append(chunk)
        return b"".join(chunks)
