"""Synthetic inputs for the benchmarks, built from real recorded content (``tests/fixtures``).

wallstreetcn: an API of ``pages`` listing pages of 30 items, each item's detail a copy of
the real answer for article 3782700 (its whole content) under its own id and time.
WeChat: ``count`` saved copies of a real 3 MB page, each under its own identity (short
token and ``mid`` replaced), for a backfill of saved pages.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
DETAIL = FIXTURES / "wallstreetcn" / "article-3782700.json"
WECHAT_PAGE = FIXTURES / "wechat" / "pages" / "wae_normal_01_xuanyuan_code.html.gz"
#: The page's own identity, replaced in each copy.
WECHAT_TOKEN = "KDWh_qGpFN5Vu1TR9t30Mw"
WECHAT_MID = "2247504179"
PER_PAGE = 30
FIRST_ID = 5_000_001
#: Newest synthetic publication time (2026-09-01 UTC); each article one minute older than the previous.
NEWEST = 1_788_220_800
LISTING_PATH = "/apiv1/content/articles"


def article_ids(articles: int) -> list[int]:
    return [FIRST_ID + n for n in range(articles)]


def wallstreetcn_responses(articles: int) -> dict[str, bytes]:
    """The synthetic API's answers by request path and query (``/path?query``), JSON bytes.

    ``articles`` is rounded up to whole listing pages of 30; the last page has no cursor.
    """
    detail = json.loads(DETAIL.read_text(encoding="utf-8"))
    pages = max(1, -(-articles // PER_PAGE))
    ids = article_ids(pages * PER_PAGE)
    responses: dict[str, bytes] = {}
    for page in range(pages):
        chunk = ids[page * PER_PAGE : (page + 1) * PER_PAGE]
        items = [_listing_item(article_id) for article_id in chunk]
        cursor = f"c{page + 1}" if page + 1 < pages else ""
        query = {"limit": PER_PAGE} | ({"cursor": f"c{page}"} if page else {})
        body = {"code": 20000, "message": "OK", "data": {"items": items, "next_cursor": cursor}}
        responses[f"{LISTING_PATH}?{urlencode(query)}"] = _json(body)
    for article_id in ids:
        data = dict(detail["data"], id=article_id, display_time=_time(article_id))
        responses[f"{LISTING_PATH}/{article_id}?extract=0"] = _json({"code": 20000, "message": "OK", "data": data})
    return responses


def _time(article_id: int) -> int:
    return NEWEST - 60 * (article_id - FIRST_ID)


def _listing_item(article_id: int) -> dict[str, Any]:
    return {"id": article_id, "layout": "wscn-layout", "display_time": _time(article_id), "is_priced": False}


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def wechat_token(n: int) -> str:
    """A short-link token of the same length as the real one, unique per copy."""
    return f"bench{n:017d}"


def write_wechat_pages(folder: Path, count: int) -> Path:
    """``count`` saved copies of the real page in ``folder`` (plain HTML, as a browser saves it),
    and the URL list naming them; returns the list's path."""
    html = gzip.decompress(WECHAT_PAGE.read_bytes()).decode("utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for n in range(count):
        copy = html.replace(WECHAT_TOKEN, wechat_token(n)).replace(WECHAT_MID, str(3_000_000_000 + n))
        path = folder / f"page-{n:05d}.html"
        path.write_text(copy, encoding="utf-8")
        lines.append(str(path))
    listing = folder / "urls.txt"
    listing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return listing
