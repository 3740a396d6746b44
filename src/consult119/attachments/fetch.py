"""Fetching a file a channel points at, without letting the URL point us anywhere else.

A Kakao skill request carries image URLs the traveller's client chose; fetched naively, such a
URL could make the server read its own admin ports or a cloud metadata address (SSRF). So:

- only hosts listed in ``CONSULT119_KAKAO_MEDIA_HOSTS`` (Kakao's CDN by default), over HTTPS;
- the host is resolved here and every address checked: a private, loopback, link-local,
  multicast or reserved address is refused, and the connection goes to the address checked
  (the name is kept for the TLS certificate and ``Host``), so a second lookup cannot differ;
- a redirect is followed only to the same host (at most three), checked again;
- at most ``CONSULT119_MAX_ATTACHMENT_BYTES``, streamed into the store, within a timeout.

``CONSULT119_MEDIA_ALLOW_PLAIN_HTTP`` (tests only) allows ``http`` and loopback addresses, so a
local stand-in can play the CDN; a redirect to another host stays refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from urllib.parse import urljoin, urlsplit

import httpx

from consult119.attachments.store import Spool

MAX_REDIRECTS = 3


class FetchRefused(Exception):
    """The URL, an address it resolves to, a redirect or the answer is not allowed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def allowed_hosts(setting: str) -> frozenset[str]:
    return frozenset(h.strip().lower().rstrip(".") for h in setting.split(",") if h.strip())


async def _addresses(host: str, port: int, *, allow_loopback: bool) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchRefused("unresolvable_host") from exc
    out = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_loopback and allow_loopback:
            out.append(str(ip))
            continue
        if not ip.is_global or ip.is_multicast:
            raise FetchRefused("private_address")
        out.append(str(ip))
    if not out:
        raise FetchRefused("unresolvable_host")
    return out


async def fetch_into(
    client: httpx.AsyncClient,
    url: str,
    spool: Spool,
    *,
    hosts: frozenset[str],
    timeout: float,
    allow_plain_http: bool = False,
    headers: dict[str, str] | None = None,
) -> None:
    """Stream ``url`` into ``spool`` (:class:`TooLarge` past its limit; its type is read from
    the bytes afterwards, never from the answer's headers)."""
    deadline = time.monotonic() + timeout
    first_host: str | None = None
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower().rstrip(".")
        if scheme != "https" and not (allow_plain_http and scheme == "http"):
            raise FetchRefused("not_https")
        if first_host is not None and host != first_host:
            raise FetchRefused("redirect_to_other_host")
        if host not in hosts:
            raise FetchRefused("host_not_allowed")
        first_host = host
        if parts.username or parts.password:
            raise FetchRefused("credentials_in_url")
        port = parts.port or (443 if scheme == "https" else 80)
        address = (await _addresses(host, port, allow_loopback=allow_plain_http))[0]
        literal = f"[{address}]" if ":" in address else address
        pinned = parts._replace(netloc=f"{literal}:{port}").geturl()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FetchRefused("timeout")
        request = client.build_request(
            "GET",
            pinned,
            headers={**(headers or {}), "Host": parts.netloc.rpartition("@")[2]},
            extensions={"sni_hostname": host, "timeout": httpx.Timeout(remaining).as_dict()},
        )
        try:
            response = await asyncio.wait_for(client.send(request, stream=True), remaining)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise FetchRefused("unreachable") from exc
        try:
            if response.is_redirect:
                location = response.headers.get("location", "")
                url = urljoin(url, location)
                continue
            if response.status_code != 200:
                raise FetchRefused(f"http_{response.status_code}")
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0.001)):
                    async for chunk in response.aiter_bytes():
                        spool.write(chunk)  # TooLarge goes to the caller
            except (httpx.HTTPError, TimeoutError) as exc:
                raise FetchRefused("unreachable") from exc
            return
        finally:
            await response.aclose()
    raise FetchRefused("too_many_redirects")
