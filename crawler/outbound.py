"""The safety boundary for what content can make us fetch.

Two gates. ``check_url`` decides whether a URL *derived from content* (today: the
original a WeChat share names, ``js_share_source``) may be requested at all: only
http(s), no userinfo, a host on an allow-list (``SHARE_ALLOWED_HOSTS``), no IP
literal in any of the forms a resolver accepts unless listed. ``OutboundMiddleware``
then refuses every request — user-given, derived or redirected — whose host is or
resolves to a private, loopback, link-local, multicast, reserved or unspecified
address, unless that address is in ``ALLOWED_PRIVATE_NETWORKS`` (the tests and the
offline demo talk to 127.0.0.1). Refusals fail the request with ``DisallowedURL``,
which the spiders record as ``disallowed-url`` (permanent).

``file://`` and other non-HTTP requests pass the middleware: they are made only from
what a user gave (URL lists, arguments), since ``check_url`` refuses them from content
and Scrapy follows redirects to http(s) only; a redirect to anything else is refused here.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.settings import BaseSettings
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IAddress, IHostResolution, IResolutionReceiver
from zope.interface import implementer

#: Failure reason of a request refused by this module.
DISALLOWED_URL = "disallowed-url"
WEB_SCHEMES = ("http", "https")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: A URL browsers and parsers may read differently (backslash, whitespace, controls): refused outright.
_AMBIGUOUS = re.compile(r"[\\\s\x00-\x1f\x7f]")
#: One label of an IPv4 address as inet_aton / the URL standard read it: decimal, 0x-hex or 0-octal.
_NUMBER_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$", re.I)


class DisallowedURL(IgnoreRequest):
    """A request this module refuses; ``reason`` is the failure name spiders record."""

    reason = DISALLOWED_URL

    def __init__(self, url: str, why: str):
        self.detail = f"{url}: {why}"  # the URL fetched, which may differ from the article's (redirects, WECHAT_BASE)
        super().__init__(self.detail)


def ip_literal(host: str) -> IPAddress | None:
    """The address a host written as an IP literal stands for, in any form a resolver takes.

    Besides dotted quads and IPv6, ``inet_aton`` (and so getaddrinfo, and the URL standard)
    reads ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` and ``127.1`` as 127.0.0.1: a host
    whose last label is a number is an IPv4 literal. One that does not parse is returned as
    0.0.0.0 (unspecified), so it is refused like any other literal.
    """
    host = host.lower().rstrip(".")
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    labels = host.split(".")
    if not _NUMBER_LABEL.match(labels[-1]):
        return None
    try:
        numbers = [_ipv4_number(label) for label in labels]
    except ValueError:
        return ipaddress.IPv4Address(0)
    if len(numbers) > 4 or any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        return ipaddress.IPv4Address(0)
    value = numbers[-1]
    for position, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - position))
    return ipaddress.IPv4Address(value)


def _ipv4_number(label: str) -> int:
    if label[:2].lower() == "0x":
        return int(label[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        return int(label, 8)
    return int(label, 10)


def check_url(url: str, allowed_hosts: Iterable[str]) -> str | None:
    """Why ``url`` (taken from content) must not be requested, or None when it may be.

    Allowed: http(s), no userinfo, a host equal to an allowed host or a subdomain of one
    (``mp.weixin.qq.com.evil.example`` is neither); an IP literal only when listed itself.
    """
    if _AMBIGUOUS.search(url):
        return "URL holds whitespace, control characters or backslashes"
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError as exc:
        return f"unparsable URL ({exc})"
    if parts.scheme.lower() not in WEB_SCHEMES:
        return f"scheme {parts.scheme or '(none)'!r} is not http(s)"
    if "@" in parts.netloc:
        return "URL carries userinfo (user@host)"
    if not host:
        return "URL has no host"
    allowed = [h.strip().lower().rstrip(".") for h in allowed_hosts if h.strip()]
    address = ip_literal(host)
    if address is not None:
        if any(ip_literal(h) == address for h in allowed):
            return None
        return f"host {host} is an IP address ({address}), not an allowed host"
    if any(host == h or host.endswith(f".{h}") for h in allowed if ip_literal(h) is None):
        return None
    return f"host {host} is not in the allowed hosts ({', '.join(allowed) or 'none'})"


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet (an IPv4-mapped IPv6 address counts as its IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
        or address.is_reserved or address.is_unspecified
    )


def list_setting(settings: BaseSettings, name: str) -> list[str]:
    """A list setting given in settings.py, or with ``-s`` as JSON (``'["a", "b"]'``) or comma-separated."""
    value: Any = settings.get(name) or []
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else text.split(",")
    return [str(item).strip() for item in value if str(item).strip()]


def parse_networks(values: Iterable[str]) -> list[IPNetwork]:
    """CIDRs (``127.0.0.0/8``, ``::1/128``); a bare address is its own /32 or /128."""
    return [ipaddress.ip_network(value, strict=False) for value in values]


def refusal(address: IPAddress, allowed: Sequence[IPNetwork]) -> str | None:
    """Why a connection to ``address`` is refused, or None."""
    if is_public(address) or any(address in network for network in allowed):
        return None
    return f"address {address} is private, loopback, link-local, multicast, reserved or unspecified"


@implementer(IResolutionReceiver)
class _Addresses:
    """Collects the addresses a hostname resolves to (Twisted's IHostnameResolver interface)."""

    def __init__(self) -> None:
        self.addresses: list[IPAddress] = []
        self.done: Deferred[list[IPAddress]] = Deferred()

    def resolutionBegan(self, resolutionInProgress: IHostResolution) -> None:  # noqa: N802, N803
        pass

    def addressResolved(self, address: IAddress) -> None:  # noqa: N802
        host = getattr(address, "host", None)
        if host:
            self.addresses.append(ipaddress.ip_address(host.split("%", 1)[0]))

    def resolutionComplete(self) -> None:  # noqa: N802
        self.done.callback(self.addresses)


class OutboundMiddleware:
    """Downloader middleware: no request to a non-public address unless ``ALLOWED_PRIVATE_NETWORKS`` lists it.

    The host is checked as an IP literal (every form, see ``ip_literal``) or resolved through
    the reactor's resolver — the same, non-blocking resolver (and Scrapy's DNS cache) the
    connection then uses. Redirects come back through here as new requests, so a redirect to
    an internal address is refused too; a redirect to a non-HTTP scheme is refused outright.

    DNS rebinding: the connection resolves the name again, so a name whose DNS answers a public
    address to this check and a private one a moment later (once Scrapy's DNS cache has let it
    go) can still reach an internal service. Closing that needs the connection pinned to the
    checked address or an egress firewall; this check stops everything else (literals, names
    that simply point inside, redirects).
    """

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.allowed = parse_networks(list_setting(crawler.settings, "ALLOWED_PRIVATE_NETWORKS"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> OutboundMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in WEB_SCHEMES:
            if request.meta.get("redirect_urls"):
                raise DisallowedURL(request.url, f"redirect to a {parts.scheme!r} URL")
            return  # a user-given saved page (file://) or data: URL
        host = parts.hostname or ""
        if "@" in parts.netloc:  # urllib reads the host after "@", Twisted's URI.fromBytes does not: refuse the doubt
            raise DisallowedURL(request.url, "URL carries userinfo (user@host)")
        literal = ip_literal(host)
        addresses = [literal] if literal is not None else await self.resolve(host, parts.port or 0)
        for address in addresses:
            why = refusal(address, self.allowed)
            if why:
                self.crawler.stats.inc_value("outbound/refused")
                raise DisallowedURL(request.url, f"{host}: {why}" if literal is None else why)

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address ``host`` resolves to, through the reactor's (Scrapy's) resolver."""
        from twisted.internet import reactor

        receiver = _Addresses()
        reactor.nameResolver.resolveHostName(receiver, host, portNumber=port)  # type: ignore[attr-defined]
        return await maybe_deferred_to_future(receiver.done)
