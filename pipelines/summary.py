"""The front-matter summary: the body's opening text, cut short."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag

#: Elements that start a new text block.
BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol blockquote pre table tr td th dl dt dd figure figcaption br hr".split()
)
SEPARATOR = "  "
ELLIPSIS = "..."


def text_blocks(soup: BeautifulSoup | Tag) -> list[str]:
    """The visible text of each block in document order, whitespace collapsed, images ignored."""
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = re.sub(r"\s+", " ", "".join(current)).strip()
        if text:
            blocks.append(text)
        current.clear()

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child) is NavigableString:  # not comments, CDATA, doctype
                    current.append(str(child))
            elif isinstance(child, Tag):
                if child.name in BLOCK_TAGS:
                    flush()
                    walk(child)
                    flush()
                else:
                    walk(child)

    walk(soup)
    flush()
    return blocks


def summarize(soup: BeautifulSoup | Tag, length: int) -> str:
    """Text blocks joined by two spaces, cut to ``length`` characters plus ``...``."""
    text = SEPARATOR.join(text_blocks(soup))
    return text if len(text) <= length else text[:length].rstrip() + ELLIPSIS
