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
  (e.g. a body stored apart), whose answer comes back to ``parse_detail`` with that Fetch.

Functions do no I/O; they take bytes and return data, so they are tested on fixtures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
