"""The front-matter summary: the body's opening text (else the page's description or title), cut short."""

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


def summarize(soup: BeautifulSoup | Tag, length: int, *fallbacks: str) -> str:
    """Text blocks joined by two spaces, cut to ``length`` characters plus ``...``.

    A body without text (an image share, a post whose text is all in pictures) gives the
    first non-empty ``fallbacks`` instead (the page's own description, then its title), its
    lines taken as blocks: an empty summary makes Hugo show the body's opening instead,
    which for such a post is its attribution, disclaimer and origin link.
    """
    text = SEPARATOR.join(text_blocks(soup))
    for fallback in fallbacks:
        if text:
            break
        text = SEPARATOR.join(block for line in fallback.splitlines() if (block := re.sub(r"\s+", " ", line).strip()))
    return text if len(text) <= length else text[:length].rstrip() + ELLIPSIS
