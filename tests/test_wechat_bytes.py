"""A WeChat page is read from its UTF-8 bytes (``wechat.read_page``: ``classify_utf8``) exactly as from
its text (``classify``: decode, check the depth, encode again, parse): the same tree, scripts,
failure and Article. The text path is the oracle.

Inputs: every recorded page (as a saved ``.html.gz``, as a plain saved file and as a crawled
answer), and HAND-MADE variants: invalid UTF-8 in every part of a page (the bytes path must
give way to the text, whose replacement characters libxml2 would not make alike), more than
libxml2 reports of other errors before one, a byte order mark, a GBK page, an anti-crawl page,
a page nested too deep. (The bytes path checks the depth of the tree libxml2 built, the text
path scans the text: tests/test_limits.py shows where they part, on markup libxml2 does not nest.)
"""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import pytest
from lxml import etree

from crawler.sources import SourceError, wechat, wechat_page
from pipelines import limits, souplike

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"
RECORDED = sorted(FIXTURES.glob("pages/*.html.gz"))
OPTIONS = wechat.ReadOptions("wechat", {}, wechat.TITLE_LENGTH, 32 * 1024 * 1024)
URL = "file:///saved/page.html"


def text_path(body: bytes, encoding: str | None) -> object:
    """What reading the page from its text gives (the way every page was read before)."""
    try:
        page = wechat.classify(wechat.page_text(body, encoding, OPTIONS.saved_limit), URL)
        if page.kind == wechat.SHARE:
            return wechat.PageRead(wechat.SHARE, share_url=page.share_url)
        return wechat.PageRead(page.kind, wechat.article_from_page(page, OPTIONS.source, OPTIONS.junk, [URL], OPTIONS.title_length))
    except SourceError as exc:
        return (exc.reason, exc.detail)


def read(body: bytes, encoding: str | None) -> object:
    try:
        return wechat.read_page(body, URL, encoding, OPTIONS, [URL])
    except SourceError as exc:
        return (exc.reason, exc.detail)


def bytes_taken(body: bytes, encoding: str | None) -> bool:
    data = wechat.utf8_body(body, encoding, OPTIONS.saved_limit)
    try:
        return data is not None and wechat.classify_utf8(data, URL) is not None
    except SourceError:
        return True


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.name)
def test_recorded_pages_read_from_bytes_as_from_text(path: Path) -> None:
    gz = path.read_bytes()
    plain = gzip.decompress(gz)
    for body, encoding in ((gz, None), (plain, "utf-8")):  # a saved .html.gz, a crawled answer
        assert read(body, encoding) == text_path(body, encoding)
        assert bytes_taken(body, encoding)  # the bytes path really read it


def test_the_tree_and_scripts_are_the_texts() -> None:
    """``tree_utf8`` + ``normalize`` give ``parse``'s tree, and ``normalize`` reads (as UTF-8) the
    scripts ``scripts`` reads after ``souplike.normalize``, on every recorded page."""
    for path in RECORDED:
        data = gzip.decompress(path.read_bytes())
        text = data.decode("utf-8")
        root = wechat_page.tree_utf8(data)
        assert root is not None
        scripts = wechat_page.normalize(root)
        oracle = wechat_page.tree(text)
        body = oracle.find("body")
        if body is not None:
            souplike.normalize(body)
        assert etree.tostring(root) == etree.tostring(oracle)
        assert [script.decode() for script in scripts] == wechat_page.scripts(oracle)


def page(middle: bytes) -> bytes:
    """HAND-MADE: a small normal article page with ``middle`` inside its content."""
    return (
        b'<html><head><meta charset="utf-8"><title>T</title><script>var msg_title = "\xe6\xa0\x87\xe9\xa2\x98";'
        b' var ct = "1762747210"; var msg_link = "https://mp.weixin.qq.com/s/abcdefghijklmnopqrstuv";</script>'
        b'</head><body><div id="js_article"><div id="js_content"><p>\xe6\xad\xa3\xe6\x96\x87</p>' + middle
        + b"</div></div><script>var nickname = htmlDecode(\"\xe5\x8f\xb7\");</script></body></html>"
    )


#: Byte sequences Python's UTF-8 decoder refuses: a lone continuation, an overlong form, a
#: surrogate, past U+10FFFF, bytes no UTF-8 has, a character cut short.
INVALID = [b"\x80", b"\xbf", b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf0\x80\x80\xaf",
           b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xf8", b"\xfe", b"\xff", b"\xe4\xb8", b"\xf0\x9f\x98", b"\xc3"]
PLACES = [
    lambda b: page(b"<p>" + b + b"</p>"), lambda b: page(b"<p title='" + b + b"'>x</p>"),
    lambda b: page(b"<!-- " + b + b" -->"), lambda b: page(b"<script>var a = '" + b + b"';</script>"),
    lambda b: page(b"<style>p{content:'" + b + b"'}</style>"), lambda b: page(b"<textarea>" + b + b"</textarea>"),
    lambda b: page(b"<pre>" + b + b"</pre>"), lambda b: page(b"<" + b + b">"), lambda b: page(b"<p " + b + b"=1>x</p>"),
    lambda b: page(b"") + b, lambda b: b + page(b""), lambda b: page(b"").replace(b"<title>T", b"<title>" + b),
]


@pytest.mark.parametrize("invalid", INVALID, ids=lambda b: b.hex())
def test_invalid_utf8_anywhere_is_read_from_the_text(invalid: bytes) -> None:
    for place in PLACES:
        body = place(invalid)
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
        assert wechat_page.tree_utf8(body) is None  # libxml2 said so: the text decides
        assert read(body, "utf-8") == text_path(body, "utf-8")


def test_every_invalid_pair_of_bytes_is_noticed() -> None:
    """Each two-byte sequence Python refuses, in a paragraph: libxml2 reports it."""
    refused = []
    for first in range(0x80, 0x100):
        for second in (0x00, 0x41, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF0, 0xFF):
            pair = bytes((first, second))
            try:
                pair.decode("utf-8")
            except UnicodeDecodeError:
                refused.append(pair)
    assert len(refused) > 1000
    for pair in refused:
        assert wechat_page.tree_utf8(b"<html><body><p>a" + pair + b"b</p></body></html>") is None, pair.hex()


def test_past_what_libxml2_reports_the_text_decides() -> None:
    """libxml2 reports 100 errors, then none: a page with more (stray end tags) is read from the
    text, with or without an invalid byte after them; with fewer, the invalid byte is still seen."""
    many = page(b"</x>" * 120 + b"<p>\xff</p>")
    assert wechat_page.tree_utf8(many) is None
    assert wechat_page.tree_utf8(page(b"</x>" * 120)) is None
    assert wechat_page.tree_utf8(page(b"</x>" * 90 + b"<p>\xff</p>")) is None
    assert wechat_page.tree_utf8(page(b"</x>" * 90)) is not None
    for body in (many, page(b"</x>" * 120)):
        assert read(body, "utf-8") == text_path(body, "utf-8")


def test_hand_made_pages_read_alike() -> None:
    good = page(b"<p>\xe4\xb8\xad \xf0\x9f\x98\x80 \xef\xbf\xbd</p>")  # a real U+FFFD is no invalid byte
    gbk = page(b"").decode().replace('charset="utf-8"', 'charset="gbk"').encode("gbk")
    anticrawl = b"<html><body><p>\xe7\x8e\xaf\xe5\xa2\x83\xe5\xbc\x82\xe5\xb8\xb8 \xff</p><p>\xe5\xae\x8c\xe6\x88\x90\xe9\xaa\x8c\xe8\xaf\x81\xe5\x90\x8e\xe5\x8d\xb3\xe5\x8f\xaf\xe7\xbb\xa7\xe7\xbb\xad\xe8\xae\xbf\xe9\x97\xae</p></body></html>"
    deep = page(b"<section>" * (limits.MAX_DEPTH + 1) + b"x")
    cases = [(good, "utf-8"), (good, None), (codecs.BOM_UTF8 + good, "utf-8"), (codecs.BOM_UTF8 + good, None),
             (gzip.compress(good, mtime=0), None), (gbk, None), (gbk, "gbk"), (good, "gbk"), (anticrawl, "utf-8"),
             (deep, "utf-8"), (deep + b"\xff", "utf-8"), (b"", "utf-8")]
    outcomes = set()
    for body, encoding in cases:
        result = read(body, encoding)
        assert result == text_path(body, encoding)
        outcomes.add(result[0] if isinstance(result, tuple) else "article")
    assert {"article", "anti-crawl", "too-deep"} <= outcomes
