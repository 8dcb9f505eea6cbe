"""Deep nesting is refused cheaply before the expensive stages (pipelines.limits).

The deep documents are HAND-MADE: 10,000 nested elements put into a real recorded
answer (wallstreetcn 3740710) and a real recorded WeChat page (wae_normal_01).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from crawler.sources import SourceError, wallstreetcn, wechat
from pipelines.limits import MAX_DEPTH, TooDeep, check_depth, check_depth_utf8, nesting_depth, nesting_depth_utf8
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
    assert nesting_depth_utf8(html.encode()) in (depth, None)  # None: only the text can tell
    check_depth_utf8(html.encode())


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
