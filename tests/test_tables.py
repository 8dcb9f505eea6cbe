"""Tables as GFM pipe tables, judged by rendering them (markdown-it with tables, as goldmark)."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup
from markdown_it import MarkdownIt

from pipelines.clean import clean, parse
from pipelines.markdown import html_to_markdown
from tests.conftest import fixture_text

MD = MarkdownIt("commonmark").enable("table")


def rendered(html: str) -> BeautifulSoup:
    return BeautifulSoup(MD.render(html_to_markdown(clean(parse(html)))), "lxml")


def cells(table: BeautifulSoup) -> list[list[str]]:
    return [[re.sub(r"\s+", " ", c.get_text()).strip() for c in tr.find_all(["td", "th"])] for tr in table.find_all("tr")]


def test_recorded_fragment_table_keeps_every_cell() -> None:
    html = fixture_text("wechat/fragments/markdownPaper_paper1-wechat.html")
    source = BeautifulSoup(html, "lxml").find("table")
    assert cells(rendered(html).find("table")) == cells(source)


def test_awkward_cells() -> None:  # hand-made: pipes, paragraphs, markup-looking text, colspan
    table = rendered(
        "<table><tr><th colspan=2>合并表头</th></tr>"
        "<tr><td>a|b</td><td><p>第一段</p><p>第二段</p></td></tr>"
        "<tr><td>- 负数</td><td>#1 <b>「粗」</b>字</td></tr></table>"
    ).find("table")
    assert cells(table) == [["合并表头", ""], ["a|b", "第一段 第二段"], ["- 负数", "#1 「粗」字"]]
    assert [b.get_text() for b in table.find_all("strong")] == ["「粗"]  # 」 moved out so the bold renders


def test_single_column_table_is_layout() -> None:  # hand-made: editors lay out text with tables
    page = rendered("<table><tr><td><p>布局一</p></td></tr><tr><td><img src='https://x.example/a.png'></td></tr></table>")
    assert page.find("table") is None
    assert page.find("p").get_text() == "布局一" and page.find("img")["src"] == "https://x.example/a.png"
