"""PingWest pages read without a crawl: the ten real ``article.article-style`` elements (in hand-made
page wrappers) and a hand-made listing answer; see tests/fixtures/pingwest/PROVENANCE.md."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from crawler.sources import SourceError, pingwest
from crawler.sources.listed import Fetch
from pipelines import clean, markdown
from tests.conftest import FIXTURES, fixture_text
from tests.fidelity import kept_in_order, render_html, visible_text

FRAGMENTS = json.loads(fixture_text("pingwest/article-style-fragments.json"))["data"]
IDS = [item["link"].rsplit("/", 1)[1] for item in FRAGMENTS]


def article(article_id: str, time: int | None = 1785000000):
    page = (FIXTURES / "pingwest" / "pages" / f"{article_id}.html").read_bytes()
    return pingwest.parse_detail(page, f"https://www.pingwest.com/a/{article_id}", Fetch("", data={"id": article_id, "time": time}))


@pytest.mark.parametrize("article_id", IDS)
def test_real_articles_convert_whole_without_the_old_defects(article_id: str) -> None:
    source = BeautifulSoup(next(f["description"] for f in FRAGMENTS if f["link"].endswith(article_id)), "lxml")
    result = article(article_id)
    assert result.title == next(f["title"] for f in FRAGMENTS if f["link"].endswith(article_id))  # og:title minus -品玩
    md = markdown.html_to_markdown(clean.clean(clean.parse(result.body_html)))
    shown = render_html(md)
    # every picture, at its original URL (no resize suffix); no ``![]()url![]()``
    wanted = [img["src"].split("?x-oss-process=")[0] for img in source.find_all("img")]
    assert [img["src"] for img in BeautifulSoup(shown, "lxml").find_all("img")] == wanted
    assert "![]()" not in md and "x-oss-process" not in md
    # bold renders (no literal asterisks), and the text is kept
    assert "*" not in BeautifulSoup(shown, "lxml").get_text()
    assert kept_in_order(visible_text(source), visible_text(shown)) > 0.99


def test_videos_become_links() -> None:
    md = markdown.html_to_markdown(clean.clean(clean.parse(article("316129").body_html)))
    assert "[视频](https://navcdn.pingwest.com/2026/08/03/xz2PjN7d6yyf6S37K4C5HjY3G2755TS4.mp4)" in md


def test_time_comes_from_the_page_else_the_listing() -> None:
    assert article("316646").published == 1785000000
    page = (FIXTURES / "pingwest" / "pages" / "316646.html").read_text(encoding="utf-8")
    dated = page.replace("</head>", '<meta property="article:published_time" content="2026-08-21T15:20:05+08:00"></head>')
    assert pingwest.parse_detail(dated, "u", Fetch("", data={"id": "316646", "time": None})).published == 1787296805
    with pytest.raises(SourceError) as error:
        article("316646", time=None)
    assert error.value.reason == "missing-time"
    with pytest.raises(SourceError) as error:
        pingwest.parse_detail("<html><body><p>首页</p></body></html>", "u", Fetch("", data={"id": "1", "time": 1}))
    assert error.value.reason == "not-an-article"


def test_listing_items_and_cursor() -> None:
    items, cursor = pingwest.parse_listing(fixture_text("pingwest/listing-page1.json"))
    assert [pingwest.item_id(item) for item in items] == IDS
    assert cursor == IDS[-1]
    assert pingwest.item_time(items[0]) == 1787296805  # 2026-08-21 15:20:05 in China time
    request = pingwest.listing_request("https://www.pingwest.com", cursor)
    assert request.url == f"https://www.pingwest.com/api/index_news_list?last_id={cursor}"
    # hand-made: one item with a <time>, one with none, links elsewhere ignored, a repeated link counted once
    fragment = ('<div class="item"><a href="/a/12">甲</a><time datetime="2026-08-01T08:00:00+08:00">8月1日</time></div>'
                '<div class="item"><a href="https://www.pingwest.com/a/11">乙</a><a href="/a/11">乙</a></div>'
                '<a href="https://www.pingwest.com/w/3">不是文章</a>')
    items, cursor = pingwest.parse_listing(json.dumps({"data": {"list": fragment}}))
    assert [(item["id"], item["time"]) for item in items] == [("12", 1785542400), ("11", None)] and cursor == "11"
    with pytest.raises(SourceError) as error:
        pingwest.item_time(items[1])
    assert error.value.reason == "missing-time"
    for body, reason in [("<html>405 Not Allowed</html>", "bad-json"), ('{"data": {}}', "bad-listing")]:
        with pytest.raises(SourceError) as error:
            pingwest.parse_listing(body)
        assert error.value.reason == reason
