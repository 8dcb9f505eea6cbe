"""The generic path's functions (``crawler.sources.web``) on real and hand-made pages, in process."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import lxml.html
import pytest

from crawler.checks import source_names
from crawler.sources import SourceError, web
from pipelines.render import RenderConfig, render
from tests.conftest import FIXTURES

GENERIC = FIXTURES / "generic"
EVALDATA = json.loads((GENERIC / "evaldata-subset.json").read_text(encoding="utf-8"))


def page(name: str, content_type: str | None = "text/html; charset=utf-8") -> str:
    return web.decode_html((GENERIC / name).read_bytes(), content_type)


def body_of(document: str) -> str:
    """The Markdown body of a rendered document (after the front matter)."""
    return document.split("\n---\n", 1)[1]


# --- Encodings ------------------------------------------------------------------------------------


def test_a_gb2312_page_inside_a_utf8_wrapper_is_read_as_gb2312() -> None:
    text = page("archive.org.he.xinhuanet.com.25340717.html")  # header says UTF-8, the page's meta GB2312
    assert "话剧《约定无期限》河北各市巡演结束" in text
    assert "\ufffd" not in text


def test_an_undeclared_gbk_page_is_detected() -> None:
    text = page("gbk-undeclared.html", "text/html")
    assert "镕铸新材料" in text  # 镕 is GBK, not GB2312: read as GB18030, the superset
    assert "\ufffd" not in text


@pytest.mark.parametrize(("declared", "body", "expected"), [
    ("text/html; charset=gb2312", "镕铸".encode("gbk"), "镕铸"),  # a GB2312 declaration reads GBK's extra characters
    ("text/html; charset=utf-8", "新华网".encode("utf-8"), "新华网"),
    (None, b"\xef\xbb\xbf<p>\xe6\x96\xb0</p>", "<p>新</p>"),  # BOM, removed
    ("text/html; charset=utf-8", b'<meta charset="big5">' + "新聞".encode("big5"), '<meta charset="big5">新聞'),
    ("text/html; charset=klingon", "新闻".encode("utf-8"), "新闻"),  # an unknown name is no declaration
    # a UTF-8 page with one broken byte stays UTF-8 (GB18030 would read it as other characters)
    ("text/html; charset=utf-8", "<p>新闻报道</p>".encode("utf-8") * 200 + b"\xff", "<p>新闻报道</p>" * 200 + "\ufffd"),
    # a GBK page served as UTF-8 with nothing else declared: far too many bad bytes to be UTF-8
    ("text/html; charset=utf-8", "<p>钢铁行业</p>".encode("gbk") * 50, "<p>钢铁行业</p>" * 50),
])
def test_declared_encoding_first_then_detection(declared: str | None, body: bytes, expected: str) -> None:
    assert web.decode_html(body, declared) == expected


# --- Labels and ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "domain"), [
    ("http://www.xinhuanet.com/local/2020-02/19/c_1125597921.htm", "xinhuanet.com"),
    ("https://finance.sina.com.cn/x.html", "sina.com.cn"),  # com.cn is a public suffix
    ("https://www.news.gov.cn/a", "news.gov.cn"),
    ("https://web.archive.org/web/2012/http://x.cn/", "archive.org"),
    ("https://WWW.Example.CO.UK./a", "example.co.uk"),
    ("http://127.0.0.1:8080/a", "127.0.0.1"),
    ("http://localhost/a", "localhost"),
])
def test_the_source_label_is_the_registrable_domain(url: str, domain: str) -> None:
    assert web.registrable_domain(url) == domain
    assert web.source_label(url, {}) == domain


def test_a_setting_maps_a_domain_to_a_name() -> None:
    assert web.source_label("http://www.xinhuanet.com/a.htm", {"xinhuanet.com": "新华网"}) == "新华网"
    assert web.source_label("http://www.banyuetan.org/a.htm", {"xinhuanet.com": "新华网"}) == "banyuetan.org"


def test_ids_are_stable_path_safe_and_ignore_fragments_and_query_order() -> None:
    one = web.url_id("https://Example.com/a?x=1&y=2#top")
    assert one == web.url_id("https://example.com/a?y=2&x=1")
    assert re.fullmatch(r"[0-9a-f]{16}", one)
    assert one != web.url_id("https://example.com/a?x=1&y=3")
    assert web.web_identity("ftp://example.com/a") is None
    assert web.web_identity("file:///tmp/a.html") is None


# --- Fidelity on the real pages -------------------------------------------------------------------


@pytest.mark.parametrize("url", list(EVALDATA))
def test_real_pages_render_with_their_snippets_and_without_the_clutter(url: str) -> None:
    entry = EVALDATA[url]
    article = web.article_from_page(page(entry["file"]), url)
    body = re.sub(r"\s+", "", body_of(render(article, RenderConfig())))
    assert [s for s in entry["with"] if re.sub(r"\s+", "", s) not in body] == []
    assert [s for s in entry["without"] if re.sub(r"\s+", "", s) in body] == []
    assert article.title == entry["title"].strip()


def test_real_pages_metadata() -> None:
    xinhua, banyuetan, archive = (web.article_from_page(page(e["file"]), url) for url, e in EVALDATA.items())
    shanghai = datetime.fromisoformat
    # the page's own printed time, read in the site zone (Asia/Shanghai)
    assert xinhua.published == int(shanghai("2020-02-19T20:29:58+08:00").timestamp())
    assert banyuetan.published == int(shanghai("2020-01-02T00:00:00+08:00").timestamp())  # <meta name=publishdate>
    assert archive.published == int(shanghai("2012-06-04T09:20:26+08:00").timestamp())
    assert (xinhua.source, banyuetan.source, archive.source) == ("xinhuanet.com", "banyuetan.org", "archive.org")
    assert banyuetan.url == "http://www.banyuetan.org/jmcs/detail/20200102/1000200033136171577956287380194268_1.html"
    assert banyuetan.cover == "http://img3.banyuetan.org/group1/M00/01/1B/Cn4APl4Ns6-AItA1AAIvaTha0jo842.jpg"
    assert banyuetan.id == web.url_id(banyuetan.url)
    # authors: <meta name=author>, and the byline "责任编辑： 焦鹏" of a page that has no meta
    assert banyuetan.attribution is not None and banyuetan.attribution.name == "banyuetan.org（作者：孔德明）"
    assert xinhua.attribution is not None and xinhua.attribution.name == "xinhuanet.com（作者：焦鹏）"


# --- The body's structure -------------------------------------------------------------------------


def test_structure_metadata_and_absolute_urls_of_a_rich_article() -> None:
    article = web.article_from_page(page("rich.html"), "https://news.example.com.cn/a/b/page.html")
    assert article.url == "https://blog.example.com.cn/posts/timezones?utm_source=feed"  # canonical, no fragment
    assert article.source == "example.com.cn"
    assert article.title == "用 Python 处理时区：一份实践清单"
    assert article.published == int(datetime(2026, 11, 20, 10, 30, tzinfo=timezone.utc).timestamp())  # JSON-LD
    assert article.cover == "https://news.example.com.cn/static/cover.png"
    assert article.attribution is not None and article.attribution.name == "示例技术博客（作者：李四）"
    assert web.ALIAS_PREFIX + web.url_id("https://news.example.com.cn/a/b/page.html") in article.aliases
    body = body_of(render(article, RenderConfig()))
    for expected in (
        "## 为什么不要用朴素时间", "### 常见的三个错误", "> 存储和传输时一律使用 UTC",
        "* 用 `datetime.now()` 记录事件时间", "1. 先确定数据来源的时区", "```python\nfrom datetime import",
        "| 场景 | 做法 |\n| --- | --- |\n| 存储 | UTC 时间戳 |",
        "![时区转换示意图](https://news.example.com.cn/a/b/images/tz-diagram.png)",  # lazy image, made absolute
        "[zoneinfo 模块文档](https://docs.python.org/3/library/zoneinfo.html)",
        "[夏令时一文](https://news.example.com.cn/a/posts/dst)",
    ):
        assert expected in body
    assert "用 Python 处理时区：一份实践清单\n" not in body.split("来源：")[0]  # the title heading is not repeated
    assert "热门文章" not in body and "归档" not in body  # the sidebar and navigation stay out


# --- Pages without an article ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["home.html", "listing.html", "error.html", "login.html"])
def test_pages_without_an_article_fail_no_article(name: str) -> None:
    with pytest.raises(SourceError) as caught:
        web.article_from_page(page(name), "https://news.example.com/x")
    assert caught.value.reason == web.NO_ARTICLE


def test_an_article_without_a_date_fails_missing_time() -> None:
    html = page("gbk-undeclared.html", "text/html").replace('<meta name="publishdate" content="2026-11-28 09:15">', "")
    with pytest.raises(SourceError) as caught:
        web.article_from_page(html, "https://news.example.com/x")
    assert caught.value.reason == "missing-time"


def test_a_saved_page_without_a_url_of_its_own_fails_missing_url() -> None:
    with pytest.raises(SourceError) as caught:
        web.article_from_page(page("gbk-undeclared.html", "text/html"), "file:///tmp/saved.html")
    assert caught.value.reason == "missing-url"


def test_source_names_are_checked_as_path_parts() -> None:
    assert source_names('{"xinhuanet.com": "新华网"}') == {"xinhuanet.com": "新华网"}
    for bad in ('{"a.com": "../x"}', '{"a.com": ".hidden"}', '{"a.com": "a/b"}', '{"a.com": ""}', '["a.com"]'):
        with pytest.raises(ValueError):
            source_names(bad)


def test_a_saved_page_resolves_its_links_against_its_own_url() -> None:
    article = web.article_from_page(page("rich.html"), "file:///tmp/saved/rich.html")
    assert article.url == "https://blog.example.com.cn/posts/timezones?utm_source=feed"
    assert article.cover == "https://blog.example.com.cn/static/cover.png"
    body = body_of(render(article, RenderConfig()))
    assert "![时区转换示意图](https://blog.example.com.cn/posts/images/tz-diagram.png)" in body
    assert "[夏令时一文](https://blog.example.com.cn/posts/dst)" in body
    assert "file:" not in body


@pytest.mark.parametrize(("head", "expected"), [
    ("美联储：年内或再降息一次", "美联储：年内或再降息一次"),  # a colon is the headline's own
    ("钢铁行业低碳转型观察_示例日报", "钢铁行业低碳转型观察"),
    (" 武汉的声音：有英勇的你，才有英雄的城！-新华网 ", "武汉的声音：有英勇的你，才有英雄的城！"),
    ("Time zones in Python | Example Blog", "Time zones in Python"),
    ("A-B", "A-B"),  # too short to tell a site name from the headline
])
def test_titles_from_the_title_element_lose_only_a_trailing_site_name(head: str, expected: str) -> None:
    """Hand-made heads: no og:title, no h1."""
    tree = lxml.html.document_fromstring(
        f'<html><head><title>{head}</title><meta name="publishdate" content="2026-01-01"></head><body><p>正文</p></body></html>')
    assert web.metadata(tree, "https://news.example.com/a", ZoneInfo("Asia/Shanghai")).title == expected
