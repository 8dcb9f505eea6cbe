"""A saved file is recognised without decoding it whole (crawler.savedpage.SavedPage): its text,
encoding and every answer a backfill route reads from it are those of the whole decoded text.

Inputs: every recorded fixture (WeChat pages, generic pages, wallstreetcn answers), and
HAND-MADE variants of them (byte order marks, GBK, undeclared, invalid UTF-8 bytes around the
markers, a character cut at the head's end, JSON after spaces).
"""

from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import pytest
from w3lib.encoding import html_to_unicode

from crawler.savedpage import SavedPage, _utf8_or_gb18030, body_encoding, decode_saved
from crawler.sources import wallstreetcn, web, wechat
from crawler.spiders.backfill import ROUTES, is_saved_answer, is_saved_html
from tests.conftest import WECHAT

FIXTURES = Path(__file__).parent / "fixtures"
MIB = 1024 * 1024
MARKERS = (wechat.WECHAT_HOST, 'id="js_content"', 'id="js_article"', "weui-msg__title", 'id="js_verify"')


def recorded() -> list[bytes]:
    files = sorted((FIXTURES / "wechat" / "pages").glob("*.html.gz"))[:6]
    files += sorted((FIXTURES / "generic").glob("*.html")) + sorted((FIXTURES / "wallstreetcn").glob("*.json"))
    return [path.read_bytes() for path in files]


def variants() -> list[bytes]:
    """Hand-made: the first WeChat page and small pages in every way a saved file can be encoded."""
    page = gzip.decompress(sorted((WECHAT / "pages").glob("*.html.gz"))[0].read_bytes())
    text = page.decode("utf-8")
    small = '<html><head><meta charset="utf-8"></head><body>mp.weixin.qq.com <div id="js_content">正文</div></body></html>'
    answer = '  \r\n\t{"code": 20000, "message": "OK", "data": {"id": 1, "content": "<p>正文</p>"}}'
    out = [
        page, codecs.BOM_UTF8 + page, text.replace("charset=utf-8", "charset=gbk", 1).encode("gbk", "xmlcharrefreplace"),
        text.replace("charset=utf-8", "", 1).encode("gbk", "xmlcharrefreplace"),  # undeclared GBK: GB18030
        text.replace("charset=utf-8", "", 1).encode(),  # undeclared UTF-8
        small.encode(), codecs.BOM_UTF8 + small.encode(), small.encode("utf-16"), small.encode("utf-16-be"),
        # invalid UTF-8 right before, inside and after the markers: replaced, never ASCII
        small.encode().replace(b"mp.weixin", b"\xe4\xb8mp.weixin").replace(b'id="js_', b'id="\xffjs_'),
        small.encode().replace(b"qq.com", b"qq\xf0\x9f.com"),
        answer.encode(), codecs.BOM_UTF8 + answer.encode(), answer.encode("utf-16"), b"\xff" + answer.encode(),
        b"", b"   ", b"\xe4\xb8", "中".encode() * 5000 + b"<html>",  # a head cut inside a character
        b"<html>" + b"\xe4\xb8\xad" * 1365 + b"\xe4\xb8",  # ends on an incomplete character
    ]
    return out + [gzip.compress(data, mtime=0) for data in out[:3]]


@pytest.mark.parametrize("data", recorded() + variants(), ids=lambda d: f"{len(d)}b")
def test_saved_page_answers_as_its_whole_text(data: bytes) -> None:
    saved = SavedPage(data, 32 * MIB)
    plain = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    encoding, text = html_to_unicode(None, plain, auto_detect_fun=_utf8_or_gb18030)
    assert saved.text == text == decode_saved(data, 32 * MIB)
    assert body_encoding(plain, None, _utf8_or_gb18030)[0] == encoding
    for marker in (*MARKERS, "中", "<html", ""):
        assert (marker in saved) == (marker in text), marker
    for chars in (0, 1, 5, web.HTML_HEAD_CHARS):
        assert saved.head(chars) == text[:chars]
    assert saved.first(" \t\n\r") == text.lstrip(" \t\n\r")[:1]
    # each route answers as it did from the whole text
    assert is_saved_answer(saved) == wallstreetcn.is_detail_answer(text)
    assert wechat.is_wechat_page(saved) == wechat.is_wechat_page(text)
    assert is_saved_html(saved) == web.looks_like_html(text)
    assert [route.recognizes(saved) for route in ROUTES] == [
        wallstreetcn.is_detail_answer(text), wechat.is_wechat_page(text), web.looks_like_html(text),
    ]


def test_a_recorded_page_is_recognised_without_decoding_it() -> None:
    """The WeChat route takes a UTF-8 page from its bytes: its text is never built."""
    saved = SavedPage((FIXTURES / "wechat" / "pages" / "wae_normal_01_xuanyuan_code.html.gz").read_bytes(), 32 * MIB)
    assert next(route for route in ROUTES if route.recognizes(saved)).prefix == "wechat"
    assert "text" not in saved.__dict__
