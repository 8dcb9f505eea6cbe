"""The converter's Markdown, judged by rendering it with a CommonMark parser."""

from __future__ import annotations

import json
import re
from html import escape

import frontmatter
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt

from crawler.sources import wallstreetcn
from pipelines import literal
from pipelines.clean import clean, parse
from pipelines.markdown import html_to_markdown, tidy
from pipelines.render import RenderConfig, render
from tests.conftest import WSCN

CONFIG = RenderConfig(disclaimers={"wallstreetcn": wallstreetcn.DISCLAIMER})


def normalise(text: str) -> str:
    return re.sub(r"\s+", "", text)


def rendered(markdown: str) -> BeautifulSoup:
    return BeautifulSoup(MarkdownIt("commonmark").render(markdown), "lxml")


def test_3782700_shows_every_block_of_the_source_and_the_disclaimer_once() -> None:
    data = json.loads((WSCN / "article-3782700.json").read_text(encoding="utf-8"))["data"]
    source = BeautifulSoup(data["content"], "lxml")
    html = rendered(frontmatter.loads(render(wallstreetcn.article_from_detail(data), CONFIG)).content)
    out_paragraphs = {normalise(p.get_text()) for p in html.find_all("p")}

    for p in source.find_all("p"):
        text = normalise(p.get_text())
        if text:
            assert text in out_paragraphs, p.get_text()
    for level in ("h2", "h3"):
        assert [normalise(h.get_text()) for h in source.find_all(level)] == [normalise(h.get_text()) for h in html.find_all(level)]
    source_quotes = [normalise(q.get_text()) for q in source.find_all("blockquote")]
    assert source_quotes and source_quotes == [normalise(q.get_text()) for q in html.find_all("blockquote")]
    assert [img["src"] for img in source.find_all("img")] == [img["src"] for img in html.find_all("img")]
    # Punctuation at the edge of a bold run may move just outside it (pipelines/emphasis.py): compare the words.
    bold_words = [re.sub(r"^[\W_]+|[\W_]+$", "", normalise(b.get_text())) for b in source.find_all("strong")]
    assert bold_words == [re.sub(r"^[\W_]+|[\W_]+$", "", normalise(b.get_text())) for b in html.find_all("strong")]
    assert "*" not in html.get_text()
    assert html.get_text().count("风险提示及免责条款") == 1
    assert html.get_text().count("据此投资，责任自负") == 1


def convert(html: str) -> str:
    return html_to_markdown(clean(parse(html)))


def test_site_shape_lists_at_column_zero_and_single_blank_lines() -> None:  # hand-made edge cases
    md = convert("<ul><li>一</li><li>二<ul><li>二.一</li></ul></li></ul><p>后</p><ol><li>甲</li></ol>")
    assert md.startswith("* 一\n* 二\n  * 二.一\n\n")
    assert "\n\n\n" not in md
    assert "1. 甲" in md
    html = rendered(md)
    assert [li.get_text(" ", strip=True) for li in html.select("ul > li > ul > li")] == ["二.一"]


def test_no_trailing_spaces_and_no_runs_of_blank_lines() -> None:
    assert tidy("a  \n\n\n\n  * b   \n") == "a\n\n* b"


def test_leading_nbsp_is_one_space_never_a_code_block() -> None:  # hand-made
    md = convert("<p>&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;缩进的段落</p>")
    assert md == " 缩进的段落"
    assert rendered(md).find("pre") is None


def test_code_blocks_are_fenced_with_their_lines() -> None:  # hand-made
    md = convert('<pre class="language-python"><code>def f():\n    return "```"\n</code></pre>')
    assert md == '````python\ndef f():\n    return "```"\n````'
    assert rendered(md).find("code").get_text() == 'def f():\n    return "```"\n'


def signed(name: str, markdown: str, text: str) -> str:
    """An element carrying literal Markdown through the signed ``data-md`` channel."""
    attributes = "".join(f' {key}="{escape(value)}"' for key, value in literal.attrs(markdown).items())
    return f"<{name}{attributes}>{text}</{name}>"


def test_literal_markdown_hook() -> None:  # hand-made: how a source cleaner hands over a formula
    formula = signed("div", "$$\\int_0^1 x\\,dx$$", "∫")
    md = convert(f'<p>质能 {signed("span", "$E=mc^2$", "E=mc2")} 方程</p>{formula}')
    assert md == "质能 $E=mc^2$ 方程\n\n$$\\int_0^1 x\\,dx$$"


def test_unsigned_data_md_is_text() -> None:  # hand-made hostile: upstream HTML forging the channel
    md = convert('<p data-md="<script>alert(1)</script>">x</p><span data-md="$a$" data-md-sig="00">y</span>'
                 f'<div data-md="<b>z</b>" data-md-sig="{literal.attrs("other")[literal.SIGNATURE]}">z</div>')
    assert md == "x\n\ny\n\nz"


def test_urls_with_spaces_and_cjk_stay_links() -> None:  # hand-made
    md = convert('<p><img src="https://x.example/a b.png"><a href="https://x.example/搜索?q=a b">链接</a></p>')
    html = rendered(md)
    assert html.find("img")["src"] == "https://x.example/a%20b.png"
    assert html.find("a")["href"] == "https://x.example/%E6%90%9C%E7%B4%A2?q=a%20b"


def test_inline_code_spans_read_back_as_written() -> None:  # hand-made edge cases
    cases = {
        "<p><code>a</code><code>b</code></p>": ["ab"],  # adjacent: one span, not a broken pair
        "<p><code>a`b</code> 和 <code>`</code></p>": ["a`b", "`"],
        "<p><code> x </code></p>": [" x "],
        "<p>用<code>**x**</code>和<code>[y](z)</code></p>": ["**x**", "[y](z)"],
    }
    for html, codes in cases.items():
        assert [c.get_text() for c in rendered(convert(html)).find_all("code")] == codes, html


def test_exclamation_before_a_link_is_not_an_image() -> None:  # hand-made
    html = rendered(convert('<p>惊叹!<a href="https://x.example/">链接</a></p>'))
    assert html.find("img") is None
    assert html.find("a")["href"] == "https://x.example/" and html.get_text().strip() == "惊叹!链接"


def test_bold_formula_keeps_its_dollars() -> None:  # hand-made
    md = convert(f'<p>即<strong>{signed("span", "$E=mc^2$", "E=mc2")}。</strong>完</p>')
    assert "$E=mc^2$" in md


def test_players_become_links_to_their_media() -> None:  # hand-made: standard HTML players
    html = rendered(convert(
        '<p>看：</p><video controls><source src="https://v.example/a.mp4"></video>'
        '<audio src="https://a.example/b.mp3"></audio><iframe title="直播回放" src="https://live.example/x"></iframe>'
        '<iframe src="javascript:void(0)"></iframe><p><a href="javascript:void(0)">点我</a>完</p>'
    ))
    links = [(a.get_text(), a["href"]) for a in html.find_all("a")]
    assert links == [("视频", "https://v.example/a.mp4"), ("音频", "https://a.example/b.mp3"), ("直播回放", "https://live.example/x")]
    assert html.find_all("p")[-1].get_text() == "点我完"
