"""pipelines.article.repair_text: text a file can hold, the same as the plain reading of ``INVALID_TEXT``."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from pipelines.article import INVALID_TEXT, Article, repair_text

_SURROGATE = re.compile("[\ud800-\udfff]")


def reference(text: str) -> str:
    """The definition, as it was first written: line ends as newlines, then every ``INVALID_TEXT``
    character removed, lone surrogates made U+FFFD."""
    text = re.sub("\r\n?|[\u2028\u2029]", "\n", text)
    return INVALID_TEXT.sub(lambda m: "\ufffd" if _SURROGATE.match(m.group()) else "", text)


def test_every_code_point_as_the_definition_says():
    every = "".join(map(chr, range(0x110000)))
    assert repair_text(every) == reference(every)
    kept = repair_text(every)
    assert "\U0001fffe" not in kept and "\U0010ffff" not in kept and "\U0001fffd" in kept and "\U0001f600" in kept
    assert not INVALID_TEXT.search(kept)


#: Characters around every edge of the classes: controls, line ends, surrogates, noncharacters, astral.
EDGES = [*"\x00\x08\t\n\x0b\x1f \x7f\x9f\xa0\r\u2028\u2029\ud7ff\ud800\udbff\udc00\udfff\ue000\ufdcf\ufdd0\ufdef\ufdf0"
         "\ufffd\ufffe\uffff\U00010000\U0001fffd\U0001fffe\U0001ffff\U00020000\U0010fffd\U0010fffe\U0010ffff", "\r\n", "中文"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(EDGES), st.text(max_size=5)), max_size=30).map("".join))
@example("a\r\n\rb\u2028\u2029\r")
def test_any_text_as_the_definition_says(text):
    assert repair_text(text) == reference(text)


def test_article_text_fields_are_repaired():
    article = Article("s", "1", "u", "t\x00\U0010ffff", 0, "<p>a\r\nb\ud800</p>", description="\u2028d")
    assert (article.title, article.body_html, article.description) == ("t", "<p>a\nb\ufffd</p>", "\nd")
