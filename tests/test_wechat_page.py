"""``crawler/sources/wechat_page.py``: the one lxml parse of a WeChat page gives what the full
BeautifulSoup parse gave — ``#js_content``'s HTML byte for byte, the texts, meta tags and
classes the source reads. BeautifulSoup (still used on the content subtree) is the oracle."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from crawler.sources import wechat_page

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"
PAGES = sorted(FIXTURES.glob("pages/*.html.gz")) + sorted(FIXTURES.glob("fragments/*.html")) + [FIXTURES / "handmade" / "anticrawl.html"]
IDS = ("js_content", "activity-name", "js_name", "publish_time", "post-date", "post-user", "js_share_source")

#: HAND-MADE edge cases, each put inside a ``#js_content`` of an otherwise empty page: where the
#: tree libxml2 builds by itself, or its serialization here, could part from BeautifulSoup's.
EDGE_CASES = {
    "whitespace": "<section>\n   <p> a </p>  \t <p>b</p>\r\n</section> \x0c <span>  </span>",
    "pre": "<pre>\n  <code>  x  </code>\n\n</pre><textarea>  <b>not a tag</b>  </textarea><pre><b>\n  </b></pre>",
    "comments": "<p>a<!-- c -- d -->b<!---->c<!-- \n -->d<!--\t--></p><pre><!----><!-- \n --></pre><!--tail-->  <?php echo 1 ?><?xml-stylesheet x?>",
    "classes": '<p class="  a\tb\u3000c  ">x</p><a rel=" nofollow  noopener " rev="x  y" class="">y</a><td headers=" h1  h2 ">z</td>',
    "quotes": """<p title='say "hi"' data-a="it's" data-b="both ' and &quot;" data-c="&amp; &lt;x&gt;">q</p>""",
    "booleans": "<table><tr><td nowrap>n</td></tr></table><input disabled checked><p hidden title>t</p>",
    "duplicates": '<p a="1" a="2" B="3" b="4">d</p><IMG SRC="x.png" Data-Src="y.png">',
    "raw": "<script>if (a < b && c > d) { x = '</p>'; }</script><style>p > a { content: '&amp;' }</style><template><b>t</b></template>",
    "scripts": "<script> \n </script><script>\x0c</script><script></script><pre><script>  </script></pre><svg><script>a<b>c</b>&amp;</script></svg>"
               "<script><!-- x --></script><script>a</b>b</script><textarea><script>x</script></textarea><script>中\u3000文</script>",
    "ruby": "<p>漢<rt>kan</rt>字<rp>(</rp><rt>ji</rt><rp>)</rp></p>",
    "entities": "<p>&nbsp;&lt;tag&gt;&amp;amp;&#x1F600;&copy;&unknown;&#0;&#xD800;\U0001F4A9</p>",
    "controls": "<p>a\x00b\x01c\x1bd\x7fe\u2028f</p>",
    "misnested": "<b><i>x</b>y</i><p><div>block in p</div></p><table>stray<tr><td>c</td></tr></table><li>loose</li><p>open",
    "voids": "<br>text</br><img src=a><hr/><br/><image href=x></image><wbr><embed><source>",
    "svg": '<svg viewBox="0 0 1 1"><image xlink:href="a.png" x="0"/><foreignObject><p>f</p></foreignObject><g><rect/></g></svg>',
    "deep": "<section>" * 500 + "深" + "</section>" * 500,  # libxml2 stops at 256 unless told (huge_tree)
    "upper": '<P CLASS="A  B" STYLE="x">U</P><SECTION><SPAN>s</SPAN></SECTION>',
    "unclosed-attr": '<p title="no end>x</p><p>y</p>',
    "forms": "<form><select><option selected>o</option></select><button>b</button></form><iframe src=x></iframe>",
    "nested-content": '<div id="js_content">inner duplicate</div><p>after</p>',
    "metas": '<meta charset="gbk"><meta http-equiv="content-type" content="text/html; charset=gbk"><meta content="charset=x">',
    "document-tags": "<p>a</p><body class=x><html lang=en><head><title>in content</title><p>b</p></body></html><p>c</p>",
    "raw-text": "<noscript><p>n</p></noscript><xmp><p>x</p></xmp><p><![CDATA[x<y]]></p><plaintext><p>rest</p>",
}


def page(content: str, head: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset=utf-8>{head}<title>T</title></head><body>"
        f'<div id="js_article"><div class="rich_media_content" id="js_content" style="visibility: hidden;">{content}</div></div>'
        "<script>var msg_title = 'x';</script></body></html>"
    )


def _text(tag: object) -> str:
    return re.sub(r"\s+", " ", tag.get_text()).strip()  # type: ignore[attr-defined]


def check_same(html: str) -> None:
    """Every element the source reads is found alike, written alike and reads alike."""
    soup = BeautifulSoup(html, "lxml")
    root = wechat_page.parse(html)
    for ident in IDS:
        old, new = soup.find(id=ident), wechat_page.by_id(root, ident)
        assert (old is None) == (new is None), ident
        if old is not None:
            assert wechat_page.outer_html(new) == str(old), ident
            assert wechat_page.text(new) == _text(old), ident
            assert wechat_page.has_text(new) == bool(old.get_text(strip=True)), ident
    for name in ("weui-msg__title", "mesg-block", "weui-msg__desc", "rich_media_content"):
        old, new = soup.select_one(f".{name}"), wechat_page.by_class(root, name)
        assert (old is None) == (new is None), name
        if old is not None:
            assert wechat_page.text(new) == _text(old), name
    title = wechat_page.by_tag(root, "title")
    assert (title is None) == (soup.title is None)
    if title is not None:
        assert wechat_page.text(title) == _text(soup.title)
    for name in ("og:title", "og:url", "og:image", "og:description", "author"):
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        assert wechat_page.meta(root, name) == (str(tag.get("content") or "") if tag else ""), name
    scripts = [s.string for s in soup.find_all("script") if s.string and s.string.strip()]
    assert [s for s in wechat_page.scripts(root) if s.strip()] == scripts
    fresh = wechat_page.tree(html)
    assert [data.decode() for data in wechat_page.normalize(fresh)] == wechat_page.scripts(fresh)  # as UTF-8, the same


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_recorded_pages_read_alike(path: Path) -> None:
    data = path.read_bytes()
    check_same((gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8"))


@pytest.mark.parametrize("name", EDGE_CASES)
def test_hand_made_edge_cases_read_alike(name: str) -> None:
    check_same(page(EDGE_CASES[name]))


def test_metas_and_titles_hand_made() -> None:
    """HAND-MADE: property before name, the first of each, a title holding ruby, script and comment text."""
    head = ('<meta name="og:title" content="by name"><meta property="og:title" content="by &amp; property">'
            '<meta property="og:title" content="second"><meta name="author" content="  A  ">')
    html = page("<p>x</p>", head).replace("<title>T</title>", "<title> 标<!--c-->题 </title>")
    check_same(html)
    root = wechat_page.parse(html)
    assert wechat_page.meta(root, "og:title") == "by & property"
    assert wechat_page.text(wechat_page.by_tag(root, "title")) == "标<!--c-->题"  # a title holds text only


def test_bare_boolean_attribute_is_empty() -> None:
    """HAND-MADE: libxml2 cannot tell ``<td nowrap>`` from ``<td nowrap="nowrap">``; both are written
    as the bare form BeautifulSoup kept (``nowrap=""``), an attribute the render drops anyway."""
    root = wechat_page.parse(page('<table><tr><td nowrap="nowrap">n</td></tr></table>'))
    assert '<td nowrap="">n</td>' in wechat_page.outer_html(wechat_page.by_id(root, "js_content"))


def test_a_doctype_inside_the_content_is_dropped() -> None:
    """HAND-MADE: libxml2 reported it to BeautifulSoup, which kept it; its tree has no place for it."""
    root = wechat_page.parse(page("<p>a</p><!DOCTYPE html><p>b</p>"))
    assert wechat_page.outer_html(wechat_page.by_id(root, "js_content")).endswith('"><p>a</p><p>b</p></div>')


def test_no_document() -> None:
    """HAND-MADE: input libxml2 makes no tree of still gives an (empty) one."""
    for html in ("", "   ", "\x00"):
        root = wechat_page.parse(html)
        assert wechat_page.by_id(root, "js_content") is None
