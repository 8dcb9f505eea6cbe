"""How faithfully a Markdown file keeps an HTML source: rendered with a CommonMark
parser (markdown-it-py), compared on visible text and images."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from bs4 import BeautifulSoup, Tag
from markdown_it import MarkdownIt

_INVISIBLE = ("script", "style", "noscript", "template")
_HIDDEN = re.compile(r"display\s*:\s*none", re.I)


def render_html(markdown: str) -> str:
    return MarkdownIt("commonmark").render(markdown)


def visible_text(html: str | Tag) -> str:
    """Text a reader sees, all whitespace removed (layouts and Markdown move it around)."""
    soup = BeautifulSoup(html, "lxml") if isinstance(html, str) else BeautifulSoup(str(html), "lxml")
    for tag in soup.find_all(_INVISIBLE):
        tag.decompose()
    for tag in soup.find_all(style=_HIDDEN):
        if tag.parent is not None:
            tag.decompose()
    return re.sub(r"\s+", "", soup.get_text())


def kept_in_order(source: str, output: str) -> float:
    """Share of ``source`` characters found in ``output`` in the same order (difflib's matching
    blocks: a lower bound of the longest common subsequence, so never flattering)."""
    if not source:
        return 1.0
    matcher = SequenceMatcher(None, source, output, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(source)


def images(html: str) -> list[str]:
    return [str(img.get("src")) for img in BeautifulSoup(html, "lxml").find_all("img")]


def code_blocks(html: str) -> list[list[str]]:
    """Lines of each ``<pre>`` block."""
    return [pre.get_text().rstrip("\n").split("\n") for pre in BeautifulSoup(html, "lxml").find_all("pre")]


def body(document: str) -> str:
    """The Markdown body of a rendered file (front matter removed)."""
    return document.split("\n---\n", 1)[1]
