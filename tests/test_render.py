"""Rendering an Article into the site's document format (no crawl)."""

from __future__ import annotations

import json

import frontmatter
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.sources import wallstreetcn
from pipelines.article import Article, Attribution
from pipelines.frontmatter import dump_document
from pipelines.images import ImageRewriter
from pipelines.render import DEFAULT_FRONT_MATTER, RenderConfig, RenderError, add_lastmod, format_date, render
from tests.conftest import WSCN

CONFIG = RenderConfig(disclaimers={"wallstreetcn": wallstreetcn.DISCLAIMER})


def article(**fields: object) -> Article:
    """A hand-made article for edge cases."""
    base = dict(source="wallstreetcn", id="1", url="https://wallstreetcn.com/articles/1", title="标题",
                published=1739161876, body_html="<p>正文</p>")
    return Article(**(base | fields))  # type: ignore[arg-type]


def recorded(name: str) -> Article:
    data = json.loads((WSCN / name).read_text(encoding="utf-8"))["data"]
    return wallstreetcn.article_from_detail(data)


def test_golden_document() -> None:
    assert render(recorded("article-3740710.json"), CONFIG) == (WSCN / "seed-3740710.md").read_text(encoding="utf-8")


def test_render_is_deterministic() -> None:
    first = render(recorded("article-3782700.json"), CONFIG)
    assert all(render(recorded("article-3782700.json"), CONFIG) == first for _ in range(3))


def test_front_matter_keys_in_the_seed_order() -> None:
    post = frontmatter.loads(render(recorded("article-3782700.json"), CONFIG))
    assert list(post.metadata) == list(DEFAULT_FRONT_MATTER)
    assert post["categories"] == post["tags"] == ["wallstreetcn"]
    assert post["date"] == "2026-09-29 12:09:50"  # display_time 1790654990 in Asia/Shanghai


@given(st.text(min_size=1))
def test_any_title_round_trips_through_yaml(title: str) -> None:
    text = dump_document({"title": title, "widgets": [title]}, "body")
    assert frontmatter.loads(text).metadata == {"title": title, "widgets": [title]}


@pytest.mark.parametrize("title", ['a: b', 'say "hi"', "back\\slash", "* star", "C# #1", "two\nlines", "'single'", "[x]: y"])
def test_awkward_titles_stay_valid_yaml(title: str) -> None:  # hand-made edge cases from the Hugo notes
    doc = render(article(title=title), CONFIG)
    assert frontmatter.loads(doc)["title"] == title


def test_date_zone_is_a_setting() -> None:
    assert format_date(1739161876, "Asia/Shanghai") == "2025-02-10 12:31:16"
    assert format_date(1739161876, "UTC") == "2025-02-10 04:31:16"


def test_summary_is_text_blocks_joined_and_cut() -> None:
    body = "<p>第一段</p><p><img src='https://x/1.png'></p><h3>标题</h3><ul><li>甲</li><li>乙</li></ul>"
    post = frontmatter.loads(render(article(body_html=body), RenderConfig(summary_length=10)))
    assert post["summary"] == "第一段  标题  甲..."
    post = frontmatter.loads(render(article(body_html=body), RenderConfig(summary_length=8)))
    assert post["summary"] == "第一段  标题..."  # no dangling separator before the ellipsis
    short = frontmatter.loads(render(article(body_html="<p>短</p>"), CONFIG))
    assert short["summary"] == "短"


def test_summary_of_a_body_without_text_is_the_description_else_the_title() -> None:
    """Hand-made image-only bodies: an empty summary would make Hugo show the attribution and origin link."""
    pictures = "<p><img src='https://x/1.png'></p><p><img src='https://x/2.png'></p>"
    described = article(body_html=pictures, description="第一行\n\n第二行 <b> *星*  很长很长很长", title="标题")
    post = frontmatter.loads(render(described, RenderConfig(summary_length=16)))
    assert post["summary"] == r"第一行  第二行 \<b> \*星\*..."  # lines as blocks, escaped and cut like body text
    untitled = frontmatter.loads(render(article(body_html=pictures, title="只有图片的标题"), CONFIG))
    assert untitled["summary"] == "只有图片的标题"
    blank = frontmatter.loads(render(article(body_html=pictures, description=" \n ", title="标题"), CONFIG))
    assert blank["summary"] == "标题"
    texted = frontmatter.loads(render(article(body_html="<p>正文</p>", description="描述"), CONFIG))
    assert texted["summary"] == "正文"  # the body's own text first: the golden stays as it is


def test_constants_come_from_settings() -> None:
    front = {"title": "{title}", "date": "{date}", "categories": ["新闻", "{source}"], "draft": False}
    post = frontmatter.loads(render(article(), RenderConfig(front_matter=front)))
    assert post.metadata == {"title": "标题", "date": "2025-02-10 12:31:16", "categories": ["新闻", "wallstreetcn"], "draft": False}


def test_attribution_forms() -> None:
    linked = render(article(attribution=Attribution("新智元", "https://mp.weixin.qq.com/s/abcdefgh123", "原题")), CONFIG)
    assert "\n\n来源：[新智元](https://mp.weixin.qq.com/s/abcdefgh123)，原文标题：《原题》\n\n风险提示及免责条款\n" in linked
    plain = render(article(attribution=Attribution("某报", "", "原题")), CONFIG)
    assert "\n\n来源：某报，原文标题：《原题》\n\n" in plain


def test_disclaimer_is_per_source_and_last_line_links_the_origin() -> None:
    doc = render(article(), CONFIG)
    assert doc.endswith("\n\n风险提示及免责条款\n市场有风险，投资需谨慎。本文不构成个人投资建议，也未考虑到个别用户特殊的投资目标、"
                        "财务状况或需要。用户应考虑本文中的任何意见、观点或结论是否符合其特定状况。据此投资，责任自负。\n\n"
                        "[wallstreetcn](https://wallstreetcn.com/articles/1)\n")
    other = render(article(source="othersource"), CONFIG)
    assert "风险提示" not in other and other.endswith("正文\n\n[othersource](https://wallstreetcn.com/articles/1)\n")


def test_images_and_thumbnail_are_rewritten() -> None:
    body = '<p><img src="http://mmbiz.qpic.cn/mmbiz_png/abc/640?wx_fmt=png&amp;from=appmsg"></p>'
    doc = render(article(body_html=body, cover="https://mmbiz.qpic.cn/mmbiz_jpg/c/0?wx_fmt=jpeg"), CONFIG)
    assert "![](https://mmbiz-qpic.wscn.net/mmbiz_png/abc/640?wx_fmt=png&from=appmsg)" in doc
    assert frontmatter.loads(doc)["thumbnail"] == "https://mmbiz-qpic.wscn.net/mmbiz_jpg/c/0?wx_fmt=jpeg"


def test_rewrite_rules_apply_in_order_first_match_wins() -> None:
    rewrite = ImageRewriter([(r"^https://a\.example/", "https://b.example/"), (r"^https://a\.", "https://z.")])
    assert rewrite("https://a.example/x.png?y=1") == "https://b.example/x.png?y=1"
    assert rewrite("https://a.other/x.png") == "https://z.other/x.png"
    assert rewrite("https://c.example/x.png") == "https://c.example/x.png"


def test_empty_body_is_an_error() -> None:
    with pytest.raises(RenderError):
        render(article(body_html="<p> </p><script>x()</script>"), CONFIG)


@pytest.mark.parametrize("published", [0, -1, 10**15, 253402300799])
def test_unusable_publication_time_is_a_render_error(published: int) -> None:  # hand-made: missing, ms-scaled, past year 9999
    with pytest.raises(RenderError, match="unusable publication time"):
        render(article(published=published), CONFIG)


@pytest.mark.parametrize("front_matter", [
    DEFAULT_FRONT_MATTER,
    {"title": "{title}", "summary": "{summary}"},  # hand-made: no date key, lastmod goes last
    {"date": ["{date}", "x"], "title": "{title}"},  # hand-made: date as a list, lastmod after its items
    {"title": "{title}", "date": "{date}"},  # hand-made: date last
])
def test_adding_lastmod_to_a_document_gives_what_rendering_with_lastmod_gives(front_matter: dict) -> None:
    """An article changed upstream is rendered once: lastmod is added to the document afterwards."""
    config = RenderConfig(front_matter=front_matter, disclaimers=CONFIG.disclaimers)
    for name in ("article-3740710.json", "article-3782700.json"):
        without = recorded(name)
        with_lastmod = recorded(name)
        with_lastmod.lastmod = 1_788_300_000
        assert add_lastmod(render(without, config), 1_788_300_000, config.timezone) == render(with_lastmod, config)
