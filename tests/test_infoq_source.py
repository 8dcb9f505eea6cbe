"""InfoQ answers read without a crawl: the real getList answer, and hand-made getDetail answers and
body trees (no raw one is public; see tests/fixtures/infoq/PROVENANCE.md)."""

from __future__ import annotations

import json

import pytest
from bs4 import BeautifulSoup

from crawler import outcomes
from crawler.sources import SourceError, infoq
from crawler.sources.listed import Fetch
from pipelines import clean, markdown
from tests.conftest import FIXTURES, fixture_text
from tests.fidelity import render_html

INFOQ = FIXTURES / "infoq"
ALL_NODES = "xfQ6bClXS02hYhOOqfr4"  # its hand-made body holds one of each documented node type


def to_markdown(html: str) -> str:
    return markdown.html_to_markdown(clean.clean(clean.parse(html)))


def text(value: str, *marks: dict) -> dict:
    return {"type": "text", "text": value, "marks": list(marks)} if marks else {"type": "text", "text": value}


def doc(*content: dict) -> dict:
    return {"type": "doc", "content": list(content)}


def para(*content: dict) -> dict:
    return {"type": "paragraph", "content": list(content)}


# Hand-made trees, one per documented node type (PROVENANCE: paragraph, heading, text+marks, link,
# image, blockquote, bulletedlist, numberedlist, listitem, codeblock, codeinline).
@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        (doc(para(text("一段话"))), "一段话"),
        (doc({"type": "heading", "attrs": {"level": 3}, "content": [text("小标题")]}), "### 小标题"),
        (doc(para(text("粗", {"type": "bold"}), text("斜", {"type": "italic"}), text("删", {"type": "strike"}))), "**粗***斜*~~删~~"),
        (doc(para(text("点这里", {"type": "link", "attrs": {"href": "https://www.infoq.cn/a"}}))), "[点这里](https://www.infoq.cn/a)"),
        (doc(para({"type": "link", "attrs": {"href": "https://example.org/"}, "content": [text("链接节点")]})), "[链接节点](https://example.org/)"),
        (doc({"type": "image", "attrs": {"src": "https://static001.infoq.cn/i.png", "alt": "图"}}), "![图](https://static001.infoq.cn/i.png)"),
        (doc({"type": "blockquote", "content": [para(text("引用"))]}), "> 引用"),
        (doc({"type": "bulletedlist", "content": [{"type": "listitem", "content": [para(text("甲"))]},
                                                  {"type": "listitem", "content": [para(text("乙"))]}]}), "* 甲\n* 乙"),
        (doc({"type": "numberedlist", "content": [{"type": "listitem", "content": [para(text("一"))]},
                                                  {"type": "listitem", "content": [para(text("二"))]}]}), "1. 一\n2. 二"),
        (doc({"type": "codeblock", "attrs": {"lang": "go"}, "content": [text("fmt.Println(\"*\")\nx := 1")]}),
         '```go\nfmt.Println("*")\nx := 1\n```'),
        (doc(para(text("用"), {"type": "codeinline", "content": [text("a*b")]}, text("吧"))), "用`a*b`吧"),
        (doc(para(text("<script>alert(1)</script> & **星**"))), "\\<script>alert(1)\\</script> & \\*\\*星\\*\\*"),
        (doc({"type": "mystery", "content": [para(text("未知节点保留文字"))]}), "未知节点保留文字"),
    ],
    ids=["paragraph", "heading", "marks", "link-mark", "link-node", "image", "blockquote", "bulletedlist",
         "numberedlist", "codeblock", "codeinline", "text-is-text", "unknown-node"],
)
def test_each_node_type_converts(tree: dict, expected: str) -> None:
    assert to_markdown(infoq.tree_to_html(tree)) == expected


def test_the_all_nodes_body_renders_without_the_old_defects() -> None:
    html = infoq.tree_to_html(json.loads(fixture_text(f"infoq/bodies/{ALL_NODES}.json")))
    md = to_markdown(html)
    assert "![]()" not in md and "![示意图](https://static001.geekbang.org/infoq/bc/bcbde218384a992bf78f44b7c9d0335e.webp)" in md
    shown = BeautifulSoup(render_html(md), "lxml")
    for code in shown.find_all(["pre", "code"]):
        code.decompose()
    assert "*" not in shown.get_text()  # bold next to CJK punctuation renders: no literal asterisks
    assert [b.get_text() for b in shown.find_all("strong")] == ["粗体", "「模型提供商」", "DeepSeek", "模型名称", "星际之门"]


def test_refused_trees() -> None:
    with pytest.raises(SourceError) as bad:
        infoq.tree_to_html({"type": "doc"})
    assert bad.value.reason == "bad-body"
    assert outcomes.failure_class("bad-body") == outcomes.PERMANENT  # fetching it again gives the same body
    deep: dict = para(text("x"))
    for _ in range(infoq.MAX_TREE_DEPTH + 5):
        deep = {"type": "blockquote", "content": [deep]}
    with pytest.raises(SourceError) as too_deep:
        infoq.tree_to_html(doc(deep))
    assert too_deep.value.reason == "too-deep"


def test_listing_items_ids_and_times() -> None:
    items, cursor = infoq.parse_listing(fixture_text("infoq/getList-response.json"))
    assert [infoq.item_id(item) for item in items][:2] == ["xfQ6bClXS02hYhOOqfr4", "jc1vll7xctqYlopcwIKe"]
    assert infoq.item_time(items[0]) == 1784602722  # epoch milliseconds → seconds
    assert cursor == "1784531058043"  # the last item's score
    assert infoq.parse_listing('{"code": 0, "data": []}') == ([], "")
    request = infoq.listing_request("http://h", cursor)
    assert request.method == "POST" and json.loads(request.body) == {"type": 1, "size": 30, "score": 1784531058043}
    for bad, reason in [({"uuid": "../x"}, "bad-id"), ({}, "missing-id"), ("x", "bad-item")]:
        with pytest.raises(SourceError) as error:
            infoq.item_id(bad)
        assert error.value.reason == reason
    with pytest.raises(SourceError) as error:
        infoq.item_time({"publish_time": 17846027})  # seconds, not milliseconds: 1970
    assert error.value.reason == "bad-time"


def test_detail_with_a_body_url_asks_for_it_then_builds_the_article() -> None:
    fetch = Fetch("http://h/public/v1/article/getDetail", data={"id": ALL_NODES})
    then = infoq.parse_detail((INFOQ / "details" / f"{ALL_NODES}.json").read_bytes(), "http://h/public/v1/article/getDetail", fetch)
    assert isinstance(then, Fetch) and then.step == "body" and then.url == f"http://h/infoq-content/{ALL_NODES}.json"
    article = infoq.parse_detail((INFOQ / "bodies" / f"{ALL_NODES}.json").read_bytes(), then.url, then)
    assert article.id == ALL_NODES and article.url == f"https://www.infoq.cn/article/{ALL_NODES}"
    assert article.title.startswith("GMI Cloud") and article.published == 1784602722
    assert article.cover == "https://static001.infoq.cn/resource/image/36/79/36152cf21ecf73e9ca6abd6b4df6f279.jpg"


def test_detail_with_html_content_and_refusals() -> None:
    uuid = "jc1vll7xctqYlopcwIKe"
    article = infoq.parse_detail((INFOQ / "details" / f"{uuid}.json").read_bytes(), "http://h/", Fetch("http://h/", data={"id": uuid}))
    assert "<img" in article.body_html
    with pytest.raises(SourceError) as mismatch:
        infoq.parse_detail((INFOQ / "details" / f"{uuid}.json").read_bytes(), "http://h/", Fetch("http://h/", data={"id": ALL_NODES}))
    assert mismatch.value.reason == "id-mismatch"
    with pytest.raises(SourceError) as error:
        infoq.parse_detail('{"code": 451, "error": {"msg": "x"}}', "http://h/", Fetch("http://h/", data={"id": uuid}))
    assert error.value.reason == "api-error"
    with pytest.raises(SourceError) as empty:
        infoq.parse_detail('{"type": "doc", "content": [{"type": "paragraph"}]}', "http://h/b",
                           Fetch("http://h/b", step="body", data={"id": uuid, "meta": {"article_title": "t", "publish_time": 1784602722695}}))
    assert empty.value.reason == "missing-content"
