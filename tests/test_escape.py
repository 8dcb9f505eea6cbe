"""Article text stays text: whatever characters a paragraph holds, the rendered Markdown shows exactly them."""

from __future__ import annotations

import html
import re

from bs4 import BeautifulSoup
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from pipelines.clean import clean, parse
from pipelines.markdown import html_to_markdown

MD = MarkdownIt("commonmark")
# Hand-made alphabet: every character Markdown gives a meaning to, plus CJK text and spaces.
ALPHABET = "ab1 中文，。「」*_`[]()<>#&~\\!-+.=|:;/\"'"


def visible(markdown: str) -> str:
    return re.sub(r"\s+", " ", BeautifulSoup(MD.render(markdown), "lxml").get_text()).strip()


def round_trip(text: str) -> str:
    return visible(html_to_markdown(clean(parse(f"<p>{html.escape(text)}</p>"))))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=1, max_size=40))
@example("# 话题 #标签#")
@example("snake_case_name 和 a*b*c")
@example("参考[1]和[2](x)")
@example("价格 <script> &copy; & 税")
@example("**真星号**")
@example("> 不是引用")
@example("1. 不是列表")
@example("* 不是列表")
@example("C:\\path\\* 和 `code`")
@example("~~不是删除线~~")
@example("---")
def test_any_paragraph_text_renders_as_itself(text: str) -> None:
    expected = re.sub(r"\s+", " ", text).strip()
    if expected:
        assert round_trip(text) == expected


def test_escapes_only_where_needed() -> None:  # hand-made: ordinary text gets no backslashes
    for text in ["参考[1]和[2]", "x_1 和 snake_case", "a * b", "价格 <100> 元 & 税", "C:\\path", "话题 #标签#"]:
        assert "\\" not in html_to_markdown(clean(parse(f"<p>{html.escape(text)}</p>"))).replace("C:\\path", "")


def test_line_breaks_are_hard_breaks_inside_a_paragraph() -> None:  # hand-made
    markdown = html_to_markdown(parse("<p><br>第一行<br>第二行<br></p>"))
    assert markdown == "第一行\\\n第二行"
    assert MD.render(markdown) == "<p>第一行<br />\n第二行</p>\n"


def test_code_is_left_alone() -> None:  # hand-made
    assert html_to_markdown(parse("<p><code>a*b_c</code></p>")) == "`a*b_c`"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=15), min_size=2, max_size=4))
def test_lines_split_by_br_render_as_those_lines(lines: list[str]) -> None:
    expected = [re.sub(r"\s+", " ", line).strip() for line in lines]
    expected = [line for line in expected if line]
    paragraph = "<br>".join(html.escape(line) for line in lines)
    for wrapper in ("<p>{}</p>", "<ul><li>{}</li></ul>", "<blockquote><p>{}</p></blockquote>"):
        rendered = MD.render(html_to_markdown(clean(parse(wrapper.format(paragraph)))))
        shown = [re.sub(r"\s+", " ", BeautifulSoup(part, "lxml").get_text()).strip() for part in re.split(r"<br />", rendered)]
        assert [line for line in shown if line] == expected, wrapper


def test_list_item_paragraphs_stay_in_the_item() -> None:  # hand-made
    rendered = MD.render(html_to_markdown(clean(parse("<ul><li><p>段一</p><p>段二</p></li><li>二</li></ul>"))))
    assert rendered == "<ul>\n<li>段一<br />\n段二</li>\n<li>二</li>\n</ul>\n"


#: CommonMark with markdown-it's typographer (quotes, ``--``, ``...``), standing in for Hugo's default
#: goldmark typographer; tests/test_hugo_build.py checks the real Hugo. Both leave escaped characters alone.
TYPOGRAPHER = MarkdownIt("commonmark", {"typographer": True}).enable(["replacements", "smartquotes"])


def typographer_only_in_markdown_it(text: str) -> str:
    """``text`` with the replacements markdown-it makes and goldmark's typographer (Hugo's) does not:
    ``!!!!`` and longer runs as ``!!!``. The text Hugo shows keeps them as written."""
    return re.sub(r"!{4,}", "!!!", text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET.replace("+", "") + "..--\"'", min_size=1, max_size=40))  # ``+-``: ± in markdown-it only
@example('Instinct推出了"可信人际网络"（Trusted）')
@example("他说：'好的'，it's 1--2 和 a---b...")
@example("<<书名>> 与 >>>")
@example("好!!!! 与 !!!!!")  # hand-made: markdown-it makes "!!!" of a run of four or more, goldmark does not
def test_typographer_changes_no_text(text: str) -> None:
    markdown = html_to_markdown(clean(parse(f"<p>{html.escape(text)}</p>")))
    expected = typographer_only_in_markdown_it(re.sub(r"\s+", " ", text).strip())
    if expected:
        assert re.sub(r"\s+", " ", BeautifulSoup(TYPOGRAPHER.render(markdown), "lxml").get_text()).strip() == expected


def test_bare_urls_keep_their_quotes_and_dashes() -> None:  # hand-made: a backslash would end goldmark's link
    markdown = html_to_markdown(parse("<p>见 https://example.org/i'm--here...x 和 \"引号\"</p>"))
    assert markdown == "见 https://example.org/i'm--here...x 和 \\\"引号\\\""
