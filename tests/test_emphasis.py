"""Bold and italic through the converter, judged by a CommonMark renderer (markdown-it-py,
same flanking rules and punctuation classes as goldmark; tests/test_hugo_build.py checks
the real Hugo). Inputs here are generated or hand-made."""

from __future__ import annotations

import html
import unicodedata

from bs4 import BeautifulSoup, NavigableString, Tag
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from pipelines.clean import clean, parse
from pipelines.markdown import html_to_markdown

#: CJK letters and punctuation, ASCII letters, digits and punctuation (Markdown-active
#: ones included), spaces: everything that decides whether a delimiter run can open or close.
ALPHABET = "甲乙丙丁「」，。：；“”‘’（）《》！？、—…ab1 .,:;!?\"'()-*_[]<>&#~`\\"
EMPHASIS = ("strong", "b", "em", "i", "del", "s")
STRUCK = ("del", "s")


def inline(depth: int = 3) -> st.SearchStrategy[str]:
    words = st.text(ALPHABET, min_size=1, max_size=6).map(html.escape)
    text = st.one_of(
        words,
        # (a link right after "!" reads as an image: escape.py's matter, kept apart here)
        words.map(lambda w: f'「<a href="https://example.org/{len(w)}">{w}</a>'),
        # (html2text writes touching code spans as one broken span: not an emphasis matter)
        st.text("甲a1「」，.", min_size=1, max_size=4).map(lambda w: f"<code>{w}</code>,"),
    )
    if depth == 0:
        return text
    element = st.tuples(st.sampled_from(EMPHASIS), st.lists(inline(depth - 1), min_size=1, max_size=3))
    node = st.one_of(text, element.map(lambda e: f"<{e[0]}>{''.join(e[1])}</{e[0]}>"))
    return st.lists(node, min_size=1, max_size=4).map("".join)


def styled_chars(root: Tag) -> list[tuple[str, tuple[bool, bool, bool], bool]]:
    """(character, (bold, italic, struck), in code) for every non-space character under ``root``."""
    out: list[tuple[str, tuple[bool, bool, bool], bool]] = []
    for text in root.find_all(string=True):
        if not isinstance(text, NavigableString):
            continue
        names = {p.name for p in text.parents}
        style = (bool(names & {"strong", "b"}), bool(names & {"em", "i"}), bool(names & {"del", "s"}))
        out.extend((c, style, "code" in names) for c in text if not c.isspace())
    return out


def is_punct(char: str) -> bool:
    return unicodedata.category(char)[0] in "PS"


def touching_runs_of_two_kinds(root: Tag) -> bool:
    """The known limit of pipelines/emphasis.py: delimiters of two kinds that touch.

    ``<strong><em>a</em>b<em>c</em></strong>`` gives one ``***`` opening run; once the
    inner pair closes, the rest still counts as a run of 3 for CommonMark's "rule of 3",
    so a later intraword opener (``b*c``) closes it. ``<strong>a<em>b</em></strong><em>c</em>``
    gives a ``****`` run between letters that both closes and opens. In ``甲~~**乙**~~``
    each run has the other's character, punctuation, on its inner side and a letter on
    its outer side, so neither opens. Between letters no placement of the delimiters
    avoids this, and no text may be added: the converter gives up as little emphasis as
    it must there (never showing delimiters). Such markup is rare.
    """
    def solid(tag: Tag) -> list:
        return [c for c in tag.children if not (isinstance(c, NavigableString) and not c.strip())]

    for tag in root.find_all(EMPHASIS):
        children = solid(tag)
        if len(children) > 1 and isinstance(children[0], Tag) and children[0].name in EMPHASIS:
            return True
        following = tag.next_sibling
        if isinstance(following, Tag) and following.name in EMPHASIS:
            return True
        for edge in children[:1] + children[-1:]:
            if isinstance(edge, Tag) and edge.name in EMPHASIS and (edge.name in STRUCK) != (tag.name in STRUCK):
                return True
    return False


@settings(max_examples=150, deadline=None)
@given(inline())
def test_emphasis_renders_and_the_text_stays(body: str) -> None:
    source = BeautifulSoup(f"<p>{body}</p>", "lxml")
    limit = touching_runs_of_two_kinds(source)
    markdown = html_to_markdown(clean(parse(f"<p>{body}</p>")))
    shown = BeautifulSoup(MarkdownIt("commonmark").enable("strikethrough").render(markdown), "lxml")
    before, after = styled_chars(source.body), styled_chars(shown.body or shown)
    assert "".join(c[0] for c in after) == "".join(c[0] for c in before), markdown  # no asterisk shows, nothing moves
    for (char, style, code), (_, shown_style, shown_code) in zip(before, after):
        assert shown_code == code, markdown
        # Punctuation may step out of a run, never into one; code shows its text, not emphasis.
        if is_punct(char) or code or limit:
            assert all(shown <= wanted for shown, wanted in zip(shown_style, style)), markdown
        else:
            assert shown_style == style, markdown


def test_sentences_from_the_fixtures() -> None:  # from 3782700 and the notes' 302108 sample
    convert = lambda body: html_to_markdown(clean(parse(body)))  # noqa: E731
    assert convert("<p>透露<strong>：\"我们目前…旅行。\"</strong></p>") == '透露：**\\"我们目前…旅行。\\"**'  # quotes escaped: Hugo's typographer
    assert convert("<p><strong>仅仅一个月后，其估值就直接暴涨至原来的4倍。</strong>自2025年</p>") == "**仅仅一个月后，其估值就直接暴涨至原来的4倍**。自2025年"
    assert convert("<p>AI研究助手<strong>「Deep Research」</strong>。</p>") == "AI研究助手「**Deep Research」**。"
    assert convert("<p><strong>HLE （Humanity’s Last Exam）</strong>翻译为</p>") == "**HLE （Humanity’s Last Exam**）翻译为"


def test_leaves_what_already_renders_alone() -> None:  # hand-made
    convert = lambda body: html_to_markdown(clean(parse(body)))  # noqa: E731
    assert convert("<h3><strong>每秒生成1000个token</strong></h3>") == "### **每秒生成1000个token**"
    assert convert("<p><strong>法国「星际之门」来了：几年内投1090亿欧元</strong></p>") == "**法国「星际之门」来了：几年内投1090亿欧元**"
    assert convert("<p>即 <strong>HLE、GAIA</strong> 和 <strong>Expert-Level Tasks</strong>。</p>") == "即 **HLE、GAIA** 和 **Expert-Level Tasks**。"


def test_punctuation_runs_step_out_inside_long_text() -> None:  # hand-made: long text on both sides of each run
    convert = lambda body: html_to_markdown(clean(parse(body)))  # noqa: E731
    assert (convert("<p>开头很长的一句话，后面还有<strong>，，「「重点内容」」：</strong>结尾也很长的一句话。</p>")
            == "开头很长的一句话，后面还有，**，「「重点内容」」**：结尾也很长的一句话。")
    assert convert("<p>前面的文字 <em>！？“强调”。。</em>后面的文字很多很多</p>") == "前面的文字 *！？“强调”。*。后面的文字很多很多"


def test_emphasis_nested_around_blocks_is_pushed_into_them() -> None:  # hand-made: these never finished before
    convert = lambda body: html_to_markdown(clean(parse(body)))  # noqa: E731
    assert convert("<b><i>甲<span><p>乙</p></span></i></b>") == "***甲***\n\n***乙***"
    assert convert("<b><s>甲<section>乙<p>丙</p></section>丁</s></b>") == "**~~甲~~**\n\n**~~乙~~**\n\n**~~丙~~**\n\n**~~丁~~**"
