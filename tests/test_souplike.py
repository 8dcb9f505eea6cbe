"""pipelines.souplike gives, from lxml's tree, exactly the strings BeautifulSoup gives: the body's HTML and
its blocks' text, before and after removing blocks (what wallstreetcn's detail parsing does with it)."""

from __future__ import annotations

import gzip
import json
import re
from typing import Any

from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.sources import wallstreetcn
from pipelines import souplike
from pipelines.article import repair_text
from tests.conftest import FIXTURES
from tests.test_hostile_corpus import WSCN_CASES

BLOCKS = ("div", "p", "section")


def _html_strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [html for item in value.values() for html in _html_strings(item)]
    if isinstance(value, list):
        return [html for item in value for html in _html_strings(item)]
    return [value] if isinstance(value, str) and "<" in value else []


def fixture_markup() -> list[str]:
    """Every HTML text in the fixtures: pages, and HTML strings inside JSON answers."""
    found = []
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        data = gzip.decompress(data) if path.suffix == ".gz" else data
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if ".json" in path.suffixes:
            found += _html_strings(json.loads(text))
        elif "<" in text:
            found.append(text)
    found += [case["data"]["content"] for name, case in WSCN_CASES.items()
              if isinstance(case, dict) and isinstance(case.get("data"), dict) and name != "content-deep"
              and isinstance(case["data"].get("content"), str)]
    return found


def assert_same(html: str) -> None:
    """souplike reads ``html`` as BeautifulSoup does, or declines it (None: its caller uses BeautifulSoup)."""
    body = souplike.parse(html)
    if body is None:
        return
    soup = BeautifulSoup(html, "lxml")
    assert souplike.inner_html(body) == soup.body.decode_contents()
    assert [souplike.get_text(tag) for tag in body.iter(*BLOCKS)] == [tag.get_text() for tag in soup.body.find_all(BLOCKS)]
    # remove every other block, as decompose does, and compare again
    tags, elements = soup.body.find_all(BLOCKS), list(body.iter(*BLOCKS))
    for tag, element in list(zip(tags, elements))[::2]:
        assert (tag.parent is None) == (not souplike.attached(element, body))
        if tag.parent is not None:
            tag.decompose()
            souplike.remove(element)
    assert souplike.inner_html(body) == soup.body.decode_contents()


def test_every_fixture_reads_as_beautifulsoup_reads_it() -> None:
    markup = fixture_markup()
    assert len(markup) > 50
    read = 0
    for html in markup:
        assert_same(html)
        read += souplike.parse(html) is not None
    assert read > 40  # most are read by lxml, not handed back


#: Hand-made pieces of markup: BeautifulSoup's special cases (whitespace, multi-valued attributes,
#: meta charsets, raw text, string containers, void elements with content) and broken markup.
TAGS = ["p", "div", "span", "pre", "textarea", "script", "style", "template", "rt", "rp", "ruby", "br", "img",
        "meta", "a", "td", "th", "tr", "table", "b", "code", "section", "svg", "o:p", "li", "iframe", "hr", "input"]
ATTRIBUTES = ["class", "rel", "href", "src", "charset", "content", "http-equiv", "data-x", "alt", "headers", "sandbox", "Class"]
VALUES = ["", " ", "a b", "  a\tb\n", 'x"y', "x'y", "x\"'y", "&amp;", "<>", "text/html; charset=gbk", "Content-Type",
          "\xa0a\u3000b", "\x00", "\x01"]
TEXTS = ["", " ", "\n", " \n ", "\t", "\xa0", "\u3000", "a", "中文", "&amp;", "&lt;", "<", ">", "&", "&nbsp;", "\r\n",
         "\x0c", "\x1b", "<!-- c -->", "<!---->", "<!--\n-->", "<?php x ?>", "<![CDATA[x]]>", "</p>", "</div>", "&#0;",
         "\x00", "<title>t</title>", "<!DOCTYPE html>", "<body>", "风险提示及免责条款"]

element = st.tuples(st.sampled_from(TAGS), st.lists(st.tuples(st.sampled_from(ATTRIBUTES), st.sampled_from(VALUES)), max_size=3),
                    st.booleans())
markup = st.recursive(
    st.lists(st.sampled_from(TEXTS), max_size=3).map("".join),
    lambda inner: st.lists(st.one_of(st.sampled_from(TEXTS), st.tuples(element, inner).map(
        lambda pair: "<{0}{1}>{2}{3}".format(
            pair[0][0], "".join(f' {name}="{value.replace(chr(34), "&quot;")}"' for name, value in pair[0][1]),
            pair[1], f"</{pair[0][0]}>" if pair[0][2] else ""))), max_size=4).map("".join),
    max_leaves=20)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markup)
def test_generated_markup_reads_as_beautifulsoup_reads_it(html: str) -> None:
    assert_same(html)


def test_markup_naming_the_document_is_left_to_beautifulsoup() -> None:
    # hand-made: lxml's tree and BeautifulSoup's differ for these (content after </html>, a doctype in the body)
    for html in ("<html></html>\xa0<p>a</p>", "<p>a</p><!DOCTYPE html><p>b</p>", "<title>t</title><p>a</p>", "<BODY x=1><p>a"):
        assert souplike.parse(html) is None
    assert souplike.parse("<header><p>a</p></header>") is not None


def old_detail_body(content: str) -> tuple[str, bool]:
    """What wallstreetcn's detail parsing gave before souplike (BeautifulSoup throughout)."""
    soup = BeautifulSoup(content, "lxml")
    wallstreetcn.strip_site_disclaimer(soup)
    credited = wallstreetcn.has_own_attribution(soup)
    return (soup.body.decode_contents() if soup.body else ""), credited


def test_detail_bodies_are_unchanged() -> None:
    answers = [json.loads(path.read_text(encoding="utf-8"))["data"] for path in sorted((FIXTURES / "wallstreetcn").glob("article-*.json"))]
    # hand-made: a disclaimer inside a block that holds other text, a nested one, control characters after it
    contents = [answer["content"] for answer in answers] + [
        "<div><p>正文</p><div>风险提示及免责条款</div>\x01后</div><p>来源：某号</p>",
        "<section><div><p>市场有风险，投资需谨慎。据此投资，责任自负。</p></div></section>\x1b<p>末段</p>",
        "<p>正文</p>  \n <div>风险提示及免责条款</div> \x0c <p>末</p>",
    ]
    for content in contents:
        body, credited = old_detail_body(content)
        data = dict(answers[0], content=content, source_name="某号", is_priced=False)
        article = wallstreetcn.article_from_detail(data)
        assert article.body_html == repair_text(body)  # as Article keeps any body
        assert (article.attribution is None) == credited
    assert "风险提示" not in article.body_html and re.search("末", article.body_html)


def test_outer_html_and_bare_boolean_attributes() -> None:
    """HAND-MADE: ``outer_html`` is ``str(tag)``; a bare boolean attribute, which libxml2's tree gives its
    own name as value, is written empty as BeautifulSoup wrote it."""
    html = '<p class=" a  b " id=x>t<input disabled><br></p><table><tr><td nowrap>n</td></tr></table>'
    body = souplike.parse(html)
    assert body is not None
    soup = BeautifulSoup(html, "lxml")
    assert [souplike.outer_html(node) for node in body] == [str(tag) for tag in soup.body.find_all(recursive=False)]
    assert 'disabled=""' in souplike.outer_html(body[0]) and 'nowrap=""' in souplike.outer_html(body[-1])
