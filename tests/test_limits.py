"""Deep nesting is refused cheaply before the expensive stages (pipelines.limits).

The deep documents are HAND-MADE: 10,000 nested elements put into a real recorded
answer (wallstreetcn 3740710) and a real recorded WeChat page (wae_normal_01), and 2,000
nested elements of each kind in a small page; GENERATED markup checks that what later
stages parse again nests no deeper than the tree that was checked.
"""

from __future__ import annotations

import gzip
import json
import re
import string
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from crawler.sources import SourceError, wallstreetcn, wechat, wechat_page
from pipelines import limits, souplike
from pipelines.limits import MAX_DEPTH, TooDeep, check_depth, check_tree_depth, nesting_depth
from tests.conftest import WECHAT, WSCN, MockServer, free_routes, run_crawl, wechat_route

NORMAL_PAGE = WECHAT / "pages" / "wae_normal_01_xuanyuan_code.html.gz"


def deep(tag: str, levels: int = 10_000) -> str:
    return f"<{tag}>" * levels + "深" + f"</{tag}>" * levels


def wscn_detail(content: str) -> dict:
    answer = json.loads((WSCN / "article-3740710.json").read_text(encoding="utf-8"))
    answer["data"]["content"] = f"<p>正常的第一段。</p>{content}<p>正常的最后一段。</p>"
    return answer


def deep_wechat_page(levels: int = 10_000) -> str:
    html = gzip.decompress(NORMAL_PAGE.read_bytes()).decode("utf-8")
    at = html.index(">", html.index('id="js_content"')) + 1
    return html[:at] + deep("section", levels) + html[at:]


@pytest.mark.parametrize(
    ("html", "depth"),
    [
        ("", 0), ("text", 0), ("<p>a</p>", 1), ("<div><p>a</p><p>b</p></div>", 2),
        ("<div><br><img src=x><hr/></div>", 2),  # void elements hold nothing
        ("<p>a<p>b<p>c", 1), ("<ul><li>a<li>b<li>c</ul>", 2),  # implied ends make siblings
        ("<div><span></div><div></div>", 2),  # an end tag closes what was left open inside
        ("</div></div><b></b>", 1),  # stray end tags are ignored
        ("<script>'<div><div><div>'</script><b></b>", 1), ("<!-- <div><div><div> --><i></i>", 1),
        ("<DIV><Div></dIV></div>", 2),
        # hand-made: raw-text names with letters re.I folds to ASCII ones (a KeyError until 2026-12-03)
        ("<\u017fcript><div><div></\u017fcript><b></b>", 1), ("<scr\u0131pt>'<div>'</SCRIPT><i></i>", 1),
        ("<t\u0130tle><div><div>", 1),
    ],
)
def test_nesting_depth(html: str, depth: int) -> None:
    assert nesting_depth(html) == depth


def test_recorded_pages_are_far_below_the_limit() -> None:
    for page in sorted((WECHAT / "pages").glob("*.html.gz")):
        assert nesting_depth(gzip.decompress(page.read_bytes()).decode("utf-8")) < 64, page.name
    for answer in sorted(WSCN.glob("article-*.json")):
        content = (json.loads(answer.read_text(encoding="utf-8")).get("data") or {}).get("content") or ""
        check_depth(content)


def test_the_limit_is_exact() -> None:
    check_depth(deep("div", MAX_DEPTH))
    with pytest.raises(TooDeep):
        check_depth(deep("div", MAX_DEPTH + 1))
    with pytest.raises(TooDeep):
        check_depth("<b>" * 10_000)  # never closed: nested all the same


@pytest.mark.parametrize("tag", ["div", "section", "span", "blockquote", "table", "ul"])
def test_sources_refuse_deep_html_as_too_deep(tag: str) -> None:
    with pytest.raises(SourceError) as caught:
        wallstreetcn.article_from_detail(wscn_detail(deep(tag))["data"])
    assert caught.value.reason == "too-deep"
    with pytest.raises(SourceError) as caught:
        wechat.classify(deep_wechat_page(), "https://mp.weixin.qq.com/s/deep")
    assert caught.value.reason == "too-deep"


def test_deep_articles_fail_too_deep_in_a_crawl(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text(json.dumps(wscn_detail(deep("div"))), encoding="utf-8")
    with MockServer(free_routes({3740710: tmp_path / "deep.json"}), tmp_path) as server:
        result = run_crawl("wallstreetcn", tmp_path / "wscn", settings={"WALLSTREETCN_API_BASE": server.url})
    assert "Traceback" not in result.log
    failed = {entry["url"]: entry["reason"] for entry in result.report()["failed"]}
    assert failed == {"https://wallstreetcn.com/articles/3740710": "too-deep"}
    assert "content/posts/wallstreetcn/3782700.md" in result.files()  # the others are written

    (tmp_path / "deep.html").write_text(deep_wechat_page(), encoding="utf-8")
    url = "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw"
    (tmp_path / "wechat").mkdir()
    with MockServer({"routes": [wechat_route(url, tmp_path / "deep.html")]}, tmp_path / "wechat") as server:
        result = run_crawl("wechat", tmp_path / "wechat-out", f"urls={url}", settings={"WECHAT_BASE": server.url})
    assert "Traceback" not in result.log
    assert [(e["url"], e["reason"]) for e in result.report()["failed"]] == [(url, "too-deep")]
    assert result.files() == {}


def test_the_folded_letters_are_pythons() -> None:
    """``FOLDED_LETTERS`` is all that ``re.I`` adds to an ASCII letter in a str (every code point)."""
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    folded: dict[str, str] = {}
    for char in re.findall(r"(?i)[a-z]", every[128:]):
        for letter in string.ascii_lowercase:
            if re.fullmatch(f"(?i){letter}", char):
                folded[letter] = folded.get(letter, "") + char
    assert folded == limits.FOLDED_LETTERS


# --- The tree's depth (a WeChat page read from its bytes: ``wechat.classify_utf8``) --------------


def tree_depth(element: etree._Element) -> int:
    """Elements on the longest path down from ``element`` (itself included), walked without recursion."""
    deepest, stack = 0, [(element, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node if isinstance(child.tag, str))
    return deepest


OPTIONS = wechat.ReadOptions("wechat", {}, wechat.TITLE_LENGTH, 32 * 1024 * 1024)


def page_utf8(content: str) -> bytes:
    return ('<html><body><div id="js_content">' + content + "</div><script>var msg_title = 't';</script></body></html>").encode()


def test_the_tree_limit_is_exact() -> None:
    """html, body and #js_content are three levels: 509 more are the limit. The tree and the scan
    of the text count alike where no element is implied."""
    for levels, too_deep in ((MAX_DEPTH - 3, False), (MAX_DEPTH - 2, True)):
        data = page_utf8(deep("div", levels))
        root = wechat_page.tree_utf8(data)
        assert tree_depth(root) == nesting_depth(data.decode()) == levels + 3
        if too_deep:
            with pytest.raises(TooDeep, match=f"more than {MAX_DEPTH} deep"):
                check_tree_depth(root)
        else:
            check_tree_depth(root)


#: Elements libxml2 nests in themselves, and those it closes first (a list item, a link, a cell…).
NESTED = ("div", "b", "table", "section", "span", "blockquote", "ul", "i", "font", "svg", "select", "dl", "x-custom", "noscript")
FLAT = ("li", "p", "a", "td", "tr", "form", "option", "iframe")


@pytest.mark.parametrize("tag", NESTED + FLAT)
def test_deep_pages_read_from_bytes(tag: str) -> None:
    """2,000 levels, closed (and 100,000 never closed): libxml2 builds up to 2,048 of what it nests
    (``huge_tree``), so every such page is refused ``too-deep`` with the text path's message; what it
    does not nest stays a shallow tree, which is all any later stage reads. (Past 100 errors, e.g.
    inline elements left open, libxml2 reports no more: the page is read from its text, whose scan
    refuses it.)"""
    for content in (deep(tag, 2_000), f"<{tag}>" * 100_000):
        data = page_utf8(content)
        root = wechat_page.tree_utf8(data)
        if tag in NESTED:
            if content.endswith(f"</{tag}>"):  # the tree is checked
                assert root is not None and tree_depth(root) > MAX_DEPTH
            with pytest.raises(SourceError) as caught:
                wechat.read_page(data, "https://mp.weixin.qq.com/s/deep", "utf-8", OPTIONS, [])
            assert (caught.value.reason, caught.value.detail) == ("too-deep", f"HTML nests elements more than {MAX_DEPTH} deep")
        elif root is not None:
            assert tree_depth(root) < 8
            assert wechat.classify_utf8(data, "https://mp.weixin.qq.com/s/deep") is not None
            if nesting_depth(content) > MAX_DEPTH:  # the scan of the text counts what the tree never nests
                with pytest.raises(SourceError, match="too-deep"):
                    wechat.classify(data.decode(), "https://mp.weixin.qq.com/s/deep")


def test_deep_recorded_page_from_bytes() -> None:
    data = deep_wechat_page().encode()
    with pytest.raises(SourceError) as caught:
        wechat.classify_utf8(data, "https://mp.weixin.qq.com/s/deep")
    assert (caught.value.reason, caught.value.detail) == ("too-deep", f"HTML nests elements more than {MAX_DEPTH} deep")


TAGS = ["div", "p", "a", "b", "li", "ul", "table", "tr", "td", "form", "option", "select", "span", "section", "h1", "dl",
        "dd", "pre", "textarea", "script", "title", "head", "body", "html", "svg", "button", "iframe", "noscript", "tbody",
        "caption", "colgroup", "object", "nobr", "blockquote", "frameset", "xmp", "plaintext", "template"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(TAGS), st.sampled_from(["<{}>", "</{}>", "x", "<{}/>"])), max_size=300))
def test_what_is_parsed_again_nests_no_deeper(parts: list[tuple[str, str]]) -> None:
    """The cleaning stage parses ``#js_content``'s HTML again (``souplike.document``, as
    ``wechat_clean.clean_body`` does): the tree it gets is no deeper than the checked tree's content."""
    root = wechat_page.tree_utf8(page_utf8("".join(form.format(tag) for tag, form in parts)))
    assert root is not None
    wechat_page.normalize(root)
    content = wechat_page.by_id(root, "js_content")
    if content is not None:
        again = souplike.document(wechat_page.outer_html(content))
        assert tree_depth(again) <= tree_depth(content) + 3  # its html and body, under a root when copied from BeautifulSoup
