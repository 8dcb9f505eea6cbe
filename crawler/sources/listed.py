"""What a listed source module provides: the contract ``crawler.spiders.listed`` builds a spider from.

A source whose articles are found on a listing (newest first) and fetched one by one is one
module under ``crawler/sources/`` with ``LISTED_SOURCE = True`` and:

- ``SOURCE``: its name (spider name, category/tag, output folder, origin link label);
  ``BASE_SETTING`` / ``DEFAULT_BASE``: the setting holding its host (tests and ``-a demo=1``
  point it at a replay server) and its default; ``DISCLAIMER``: the default disclaimer;
- ``listing_request(base, cursor) -> Fetch`` and ``parse_listing(body) -> (items, next cursor)``;
- ``item_id(item) -> str`` and ``item_time(item) -> int`` (unix s), raising ``SourceError``;
  ``skip_reason(item) -> str | None``;
- ``article_url(id) -> str``, ``detail_request(base, id) -> Fetch``;
- ``parse_detail(body, url, fetch) -> Article | Fetch``: the article, or one more request
  (e.g. a body stored apart), whose answer comes back to ``parse_detail`` with that Fetch;
- ``article_from_raw(raw, settings) -> Article``: ``article_from_raw(parse_detail, raw)`` below, the
  offline parse ``scrapy rerender`` calls (``crawler/rerender.py``).

An article's raw source (``pipelines/archive.py``) is its last answer; its context holds the first
Fetch and the earlier answers of the chain (``replay``), so the whole chain is parsed again offline
by the same ``parse_detail`` calls as in the crawl.

Functions do no I/O; they take bytes and return data, so they are tested on fixtures.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crawler.sources import SourceError
from pipelines.archive import RawSource
from pipelines.article import Article


@dataclass(frozen=True)
class Fetch:
    """A request a source asks for, as plain data (picklable: JOBDIR keeps it in request meta)."""

    url: str
    method: str = "GET"
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    #: which answer this is, for ``parse_detail``: "detail" first, then the source's own names
    step: str = "detail"
    #: what the source carries from one step to the next (article id, listing time, …)
    data: dict[str, Any] = field(default_factory=dict)


#: A listed source's ``parse_detail``.
ParseDetail = Callable[[bytes, str, Fetch], "Article | Fetch"]


def fetch_context(fetch: Fetch) -> dict[str, Any]:
    """A raw source's context for the answer to ``fetch``, the first of its chain (JSON-able)."""
    return {"fetch": {"url": fetch.url, "step": fetch.step, "data": fetch.data}, "earlier": []}


def next_context(context: dict[str, Any], body: bytes, url: str) -> dict[str, Any]:
    """``context`` with one more earlier answer (``body`` read at ``url``), for the chain's next answer."""
    return {**context, "earlier": [*context["earlier"], {"url": url, "body": base64.b64encode(body).decode("ascii")}]}


def replay(parse_detail: ParseDetail, raw: RawSource) -> Article | Fetch:
    """What ``parse_detail`` makes of the last answer of a chain: the earlier answers kept in
    ``raw.context`` are parsed again first, from the first Fetch on, each giving the next Fetch.
    The spider's callback calls this on every answer, and a re-render on the stored last one; an
    Article carries ``raw`` as its raw source."""
    first = raw.context["fetch"]
    fetch = Fetch(first["url"], step=first["step"], data=first["data"])
    for earlier in raw.context["earlier"]:
        result = parse_detail(base64.b64decode(earlier["body"]), earlier["url"], fetch)
        if not isinstance(result, Fetch):
            raise SourceError("bad-raw-source", f"answer of {earlier['url']} gave an article before the chain's end")
        fetch = result
    result = parse_detail(raw.body, raw.url, fetch)
    if isinstance(result, Article):
        result.raw = raw
    return result


def article_from_raw(parse_detail: ParseDetail, raw: RawSource) -> Article:
    """The Article a stored raw source (the chain's last answer) gives, or SourceError ``bad-raw-source``."""
    result = replay(parse_detail, raw)
    if not isinstance(result, Article):
        raise SourceError("bad-raw-source", f"raw source {raw.url} asks for one more request ({result.url})")
    return result
